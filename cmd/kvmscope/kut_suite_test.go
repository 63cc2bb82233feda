//go:build kut

package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
)

// TestKUTSuite runs a real kvm-unit-tests build under kvmscope. It needs
// a build of the suite in KUT_DIR (its top directory, after ./configure
// && make) and KVM, and is compiled only with the build tag kut, so that
// CI, which cannot fetch the suite, never builds it and never skips it:
//
//	KUT_DIR=/work/kut-src go test -tags kut -run TestKUTSuite -v ./cmd/kvmscope
//
// or, without /dev/kvm, inside kvmbox (docs/kut.md):
//
//	go test -tags kut -c -o bin/kut.test ./cmd/kvmscope
//	bin/kvmbox -w $PWD -w $KUT_DIR -e KUT_DIR=$KUT_DIR -- bin/kut.test -test.run TestKUTSuite -test.v
//
// KUT_RUN limits it to the tests whose names match (kut --run). The tests
// in kutMustPass (those of the list that pass under QEMU -accel
// kvm in kvmbox, see docs/kut.md) must pass when they run; the others are
// reported, not judged, since their verdict depends on the host's CPU.
func TestKUTSuite(t *testing.T) {
	dir := os.Getenv("KUT_DIR")
	if dir == "" {
		t.Fatal("KUT_DIR is not set: it must name a kvm-unit-tests build (./configure && make); see docs/kut.md")
	}
	kvmtest.Available(t)
	args := []string{"kut", "--logs", t.TempDir()}
	if r := os.Getenv("KUT_RUN"); r != "" {
		args = append(args, "--run", r)
	}
	stdout, stderr, status := kvmscope(t, append(args, dir)...)
	t.Logf("kvmscope %s (status %d)\n%s%s", strings.Join(args, " "), status, stdout, stderr)
	if status != 0 && status != exitFailure {
		t.Fatalf("kvmscope kut failed itself: status %d", status)
	}
	for _, name := range kutMustPass {
		row := regexp.MustCompile(`(?m)^(\S+)\s+` + regexp.QuoteMeta(name) + `\b`)
		m := row.FindStringSubmatch(stdout)
		if m == nil {
			continue // not run: KUT_RUN left it out
		}
		if m[1] != "PASS" {
			t.Errorf("%s: %s, want PASS", name, m[1])
		}
	}
}

// kutMustPass are the tests that pass under kvmscope and under QEMU
// -accel kvm in kvmbox (docs/kut.md).
var kutMustPass = []string{
	"ioapic", "smptest", "smptest3", "sieve", "realmode",
	"vmexit_cpuid", "vmexit_vmcall", "vmexit_mov_from_cr8", "vmexit_mov_to_cr8", "vmexit_inl_pmtimer",
	"vmexit_ipi", "vmexit_ipi_halt", "vmexit_ple_round_robin", "vmexit_tscdeadline", "vmexit_tscdeadline_immed",
	"vmexit_cr0_wp", "vmexit_cr4_pge",
}
