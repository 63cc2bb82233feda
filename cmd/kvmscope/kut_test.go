package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
)

// kutDir lays out a kvm-unit-tests build of kut-mini: x86/unittests.cfg
// and x86/kut-mini.flat.
func kutDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	img, err := samples.Image("kut-mini")
	if err != nil {
		t.Fatal(err)
	}
	x86 := filepath.Join(dir, "x86")
	if err := os.Mkdir(x86, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(x86, "kut-mini.flat"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(x86, "unittests.cfg"), []byte(samples.KUTConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The multiboot sample under "kvmscope run": the command line after the
// name, the vCPU count from fw_cfg, the initrd as module 1, and the
// kvm-unit-tests exit codes as kvmscope's status.
func TestRunMultibootSample(t *testing.T) {
	kvmtest.Available(t)
	initrd := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(initrd, []byte("NR_CPUS=2\nMEMSIZE=128\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, status := kvmscope(t, "run", "--cpus", "2", "--append", "2", "--initrd", initrd, "sample:kut-mini")
	for _, want := range []string{"multiboot magic ok", "fw_cfg says 2 cpus", "PASS: testdev read-back", "PASS: pm timer advances",
		"initrd: NR_CPUS=2\n", "PASS: vCPU count", "SUMMARY: 0 unexpected failures"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if status != 0 || stderr != "" {
		t.Errorf("status %d, stderr %q; want 0 and nothing", status, stderr)
	}
	for arg, want := range map[string]int{"fail": 1, "skip": 38, "3": 1} {
		if _, stderr, status := kvmscope(t, "run", "--append", arg, "sample:kut-mini"); status != want {
			t.Errorf("--append %s: status %d, want %d (stderr %q)", arg, status, want, stderr)
		}
	}
}

// fakeQEMU is a stand-in for qemu-system-x86_64 that ends as QEMU's
// isa-debug-exit would for kut-mini's argument: (code<<1)|1.
const fakeQEMU = `#!/bin/sh
case " $* " in *" -device pc-testdev "*) ;; *) echo "no pc-testdev" >&2; exit 1 ;; esac
while [ $# -gt 0 ]; do [ "$1" = -append ] && arg=$2; shift; done
case $arg in
fail) exit 3 ;;
skip) exit 77 ;;
hang) sleep 60 ;;
*) exit 1 ;;
esac
`

// The runner on kut-mini's unittests.cfg: one test for each verdict, the
// suite's reasons to skip, and the QEMU column from a stand-in QEMU.
func TestKUTRunner(t *testing.T) {
	kvmtest.Available(t)
	dir := kutDir(t)
	qemu := filepath.Join(t.TempDir(), "qemu")
	if err := os.WriteFile(qemu, []byte(fakeQEMU), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	stdout, stderr, status := kvmscope(t, "kut", "--compare-qemu", "--qemu", qemu, "--no-qemu", "^mini-smp$", "--logs", logs, dir)
	for _, want := range []string{
		"kvmscope kut: 8 tests of ",
		"PASS     PASS     mini-pass (0 unexpected failures)",
		"FAIL     FAIL     mini-fail (1 unexpected failures)",
		"SKIP     SKIP     mini-skip (skipped)",
		"PASS     -        mini-smp (0 unexpected failures; qemu: not run under QEMU (--no-qemu))",
		"TIMEOUT  TIMEOUT  mini-timeout (timeout: the guest was still running after 3s",
		"SKIP     SKIP     mini-i386 (i386 only)",
		"SKIP     SKIP     mini-nodefault (test marked as manual run only)",
		"SKIP     SKIP     mini-missing (Test file ",
		"kvmscope: 2 PASS, 1 FAIL, 4 SKIP, 1 TIMEOUT",
		"qemu:     1 PASS, 1 FAIL, 4 SKIP, 1 TIMEOUT",
		"of the 1 tests QEMU passes, kvmscope passes 1 (100%)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if status != exitFailure {
		t.Errorf("status %d, want %d (a test failed); stderr %q", status, exitFailure, stderr)
	}
	log, err := os.ReadFile(filepath.Join(logs, "mini-smp.kvmscope.log"))
	if err != nil || !strings.Contains(string(log), "fw_cfg says 2 cpus") {
		t.Errorf("mini-smp's log: %v\n%s", err, log)
	}

	// Only the group "mini", nodefault included by --all: a skip and a pass.
	stdout, _, status = kvmscope(t, "kut", "--group", "mini", "--all", dir)
	if status != 0 || !strings.Contains(stdout, "kvmscope: 1 PASS, 0 FAIL, 1 SKIP, 0 TIMEOUT") {
		t.Errorf("--group mini: status %d\n%s", status, stdout)
	}
}

func TestKUTBadInput(t *testing.T) {
	dir := kutDir(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kut"}, "give one DIR"},
		{[]string{"kut", t.TempDir()}, "no x86/unittests.cfg"},
		{[]string{"kut", "--run", "(", dir}, "--run \"(\""},
		{[]string{"kut", "--run", "nothing-matches", dir}, "no test of"},
		{[]string{"kut", "--compare-qemu", "--qemu", "/no/such/qemu", dir}, "--compare-qemu: /no/such/qemu"},
		{[]string{"kut", "--timeout", "-1s", dir}, "negative"},
		{[]string{"kut", "--no-qemu", "[", dir}, "--no-qemu \"[\""},
		{[]string{"kut", "--mem", "lots", dir}, "--mem"},
	} {
		_, stderr, status := kvmscope(t, tc.args...)
		if status != exitBadInput || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: status %d, stderr %q; want %d and one line with %q", tc.args, status, stderr, exitBadInput, tc.want)
		}
	}
}
