package kut

import (
	"strconv"
	"strings"
)

// Verdict is how a test ended.
type Verdict int

const (
	Pass Verdict = iota + 1
	Fail
	Skip
	Timeout
)

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Skip:
		return "SKIP"
	case Timeout:
		return "TIMEOUT"
	}
	return "-"
}

// kvm-unit-tests' exit() writes its code to port 0xf4; QEMU's
// isa-debug-exit ends QEMU with (code<<1)|1, and the scripts read that:
// 1 passed (code 0), 77 skipped (code 38, report_summary's 77>>1), anything
// else failed (code 1 is "unexpected failures").
const (
	qemuPass = 1
	qemuSkip = 77
)

// FromDebugExit reads a kvm-unit-tests exit code as the suite's scripts
// read QEMU's status (code<<1)|1.
func FromDebugExit(code int) Verdict {
	switch code<<1 | 1 {
	case qemuPass:
		return Pass
	case qemuSkip:
		return Skip
	}
	return Fail
}

// FromKvmscope reads the exit status and standard error of "kvmscope
// run". kvmscope exits with the guest's debug-exit code itself (not
// shifted), and with its own statuses (timeout 124, fault, reset, failure)
// only after a "kvmscope: " line on stderr that says why; warnings aside,
// a run that ended by the guest's own exit prints none. reason is that
// line, or the guest's exit code.
func FromKvmscope(status int, stderr string) (v Verdict, reason string) {
	if line := kvmscopeLine(stderr); line != "" {
		if status == 124 {
			return Timeout, line
		}
		return Fail, line
	}
	v = FromDebugExit(status & 0xff)
	if v == Fail {
		return v, "exit code " + strconv.Itoa(status)
	}
	return v, ""
}

// kvmscopeLine is kvmscope's first line about its own stop, "" if none.
func kvmscopeLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "kvmscope: ") && !strings.HasPrefix(l, "kvmscope: warning:") {
			return strings.TrimPrefix(l, "kvmscope: ")
		}
	}
	return ""
}

// FromQEMU reads QEMU's exit status and stderr as scripts/vmm.bash's
// qemu_fixup_return_code and scripts/runtime.bash's run do: 0 is a QEMU
// that ended without the debug-exit (a failure), 1 a pass unless QEMU
// printed something other than warnings, 77 a skip, anything else a
// failure.
func FromQEMU(status int, stderr string) (v Verdict, reason string) {
	switch status {
	case 0:
		return Fail, "QEMU ended without the debug-exit"
	case qemuPass:
		for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
			if l != "" && !strings.Contains(strings.ToLower(l), "warning") {
				return Fail, "QEMU: " + l
			}
		}
		return Pass, ""
	case qemuSkip:
		return Skip, ""
	}
	if status > 128 {
		return Fail, "QEMU killed by signal " + strconv.Itoa(status-128)
	}
	return Fail, "exit code " + strconv.Itoa(status>>1) + " (QEMU status " + strconv.Itoa(status) + ")"
}

// Summary is the last "SUMMARY: ..." line of a test's output, without
// the prefix, as the suite's run_tests.sh shows it; "" when there is none.
func Summary(out string) string {
	s := ""
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "SUMMARY: "); ok {
			s = rest
		}
	}
	return s
}
