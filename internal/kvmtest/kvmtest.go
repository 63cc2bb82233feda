// Package kvmtest is the tests' only way into /dev/kvm.
//
// Where the machine has no KVM, a test that needs it skips and says why,
// unless KVMSCOPE_REQUIRE_KVM=1 (set by `make test` inside kvmbox and by
// CI), where it fails instead: a KVM test must never pass by skipping
// where KVM was promised.
package kvmtest

import (
	"errors"
	"os"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// RequireEnv is the variable that turns a missing /dev/kvm into a failure.
const RequireEnv = "KVMSCOPE_REQUIRE_KVM"

// HostLimitPrefix starts the skip message of a test that skips because of
// a limit of this host it probed (such as int3 interception in the nested
// sandbox). The test runner accepts only these skips inside kvmbox.
const HostLimitPrefix = "host limitation: "

// Required reports whether KVM tests must run here.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Open opens /dev/kvm for the test and closes it when the test ends.
func Open(t testing.TB) *kvm.System {
	t.Helper()
	sys, err := kvm.Open()
	if err != nil {
		if Required() {
			t.Fatalf("%s=1 but KVM is unusable: %v", RequireEnv, err)
		}
		t.Skipf("needs KVM: %v (run `make test`, which runs KVM tests inside kvmbox)", err)
	}
	t.Cleanup(func() { sys.Close() })
	return sys
}

// Available skips the test (or fails it, see Open) when there is no KVM,
// for tests that let package vmm open /dev/kvm itself.
func Available(t testing.TB) {
	t.Helper()
	Open(t)
}

// SkipHostLimit skips a test because this host lacks something real
// hardware has, naming it. Only probed limits may use it.
func SkipHostLimit(t testing.TB, what string) {
	t.Helper()
	t.Skip(HostLimitPrefix + what)
}

// GuestKernel returns the Debian kernel that `kvmbox setup` cached, as a
// bzImage and as a vmlinux, and skips the test when it has not fetched
// them.
func GuestKernel(t testing.TB) (bzImage, vmlinux string) {
	t.Helper()
	bz, vmlinux, err := kvmbox.Cache{Dir: kvmbox.Dir()}.GuestKernel()
	if errors.Is(err, kvmbox.ErrNotSetUp) {
		t.Skipf("needs the Debian kernel of the sandbox: run `bin/kvmbox setup` (make setup): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return bz, vmlinux
}
