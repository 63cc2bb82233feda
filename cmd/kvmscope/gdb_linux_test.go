package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples/linux"
)

// linuxGuest is the Debian kernel of the sandbox with the Linux sample's
// initramfs, written where a kvmscope subprocess can read them.
type linuxGuest struct{ bzImage, vmlinux, initrd string }

func linuxGuestFiles(t *testing.T) linuxGuest {
	t.Helper()
	kvmtest.Available(t)
	bz, vmlinux := kvmtest.GuestKernel(t)
	cpio, err := linux.HostInitramfs(true)
	if err != nil {
		t.Fatal(err)
	}
	g := linuxGuest{bzImage: bz, vmlinux: vmlinux, initrd: filepath.Join(t.TempDir(), "initramfs.cpio.gz")}
	if err := os.WriteFile(g.initrd, cpio, 0o644); err != nil {
		t.Fatal(err)
	}
	return g
}

// args runs the guest with init running cmd and its exit status ending it.
func (g linuxGuest) args(cpus int, cmd string) []string {
	return []string{"--cpus", strconv.Itoa(cpus), "--mem", "256M", "--timeout", "600s", "--initrd", g.initrd,
		"--append", linux.CmdlineWith(cmd), g.bzImage}
}

var kallsymsLine = regexp.MustCompile(`(?m)^([0-9a-f]{16}) [tTdDrR] (\S+)\s*$`)

// guestKallsyms boots the guest once and reads the named text symbols
// from its own /proc/kallsyms (under nokaslr, the addresses it runs at).
func (g linuxGuest) guestKallsyms(t *testing.T, names ...string) map[string]uint64 {
	t.Helper()
	cmd := fmt.Sprintf("grep -E ' (%s)$' /proc/kallsyms", strings.Join(names, "|"))
	stdout, stderr, status := kvmscope(t, append([]string{"run"}, g.args(1, cmd)...)...)
	if status != 0 {
		t.Fatalf("reading /proc/kallsyms: status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	addrs := map[string]uint64{}
	for _, m := range kallsymsLine.FindAllStringSubmatch(stdout, -1) {
		a, _ := strconv.ParseUint(m[1], 16, 64)
		addrs[m[2]] = a
	}
	for _, n := range names {
		if addrs[n] == 0 {
			t.Fatalf("the guest's /proc/kallsyms has no %s:\n%s", n, stdout)
		}
	}
	return addrs
}

// TestGDBLinuxKernel is issue 8's acceptance run: real gdb on the Debian
// kernel (no symbols of its own) with 2 vCPUs stops at start_kernel by the
// address the guest's /proc/kallsyms gives, in 64-bit long mode; once both
// vCPUs run (a software breakpoint, debug registers in the sandbox, in
// the nanosleep syscall that init's `sleep` makes) lists both as threads
// in long mode; steps one vCPU while the other stays put
// (scheduler-locking step); detaches; and a second gdb stops the sleeping
// SMP kernel with Ctrl-C and lets it run on to the exit status its init
// chose.
func TestGDBLinuxKernel(t *testing.T) {
	g := linuxGuestFiles(t)
	sym := g.guestKallsyms(t, "start_kernel", "hrtimer_nanosleep")
	// The symbols from the kernel's kallsyms: read from the unpacked
	// vmlinux, since unpacking the bzImage under the race detector in the
	// sandbox takes minutes.
	p := startStub(t, append([]string{"--wait", "--symbols", g.vmlinux}, g.args(2, "sleep 15; exit 5")...)...)
	out := p.gdb(t,
		fmt.Sprintf("hbreak *%#x", sym["start_kernel"]),
		"continue",
		"p/x $pc",
		"info threads",
		"p/x $cs",
		"p/x $efer",
		"monitor sym start_kernel",
		"delete",
		fmt.Sprintf("break *%#x", sym["hrtimer_nanosleep"]),
		"continue",
		"p/x $pc",
		"info threads",
		"delete",
		"set scheduler-locking step",
		"thread 2",
		"p/x $pc",
		"thread 1",
		"p/x $pc",
		"stepi",
		"thread 2",
		"p/x $pc",
		"detach",
	)
	t.Logf("gdb on the Linux kernel:\n%s", out)
	val := printedValues(t, out, 7)
	if val(0) != sym["start_kernel"] {
		t.Errorf("stopped at %#x, want start_kernel at %#x:\n%s", val(0), sym["start_kernel"], out)
	}
	if val(2)&(1<<10) == 0 { // EFER.LMA
		t.Errorf("EFER %#x at start_kernel: not in long mode", val(2))
	}
	if val(3) != sym["hrtimer_nanosleep"] {
		t.Errorf("stopped at %#x, want hrtimer_nanosleep at %#x:\n%s", val(3), sym["hrtimer_nanosleep"], out)
	}
	if val(6) != val(4) {
		t.Errorf("vCPU 1 moved from %#x to %#x while vCPU 0 stepped with scheduler-locking step:\n%s", val(4), val(6), out)
	}
	mustContain(t, out,
		"Breakpoint 1, 0x",
		"vCPU 0, 64-bit long mode, in start_kernel)",
		fmt.Sprintf("%016x start_kernel", sym["start_kernel"]),
		"Breakpoint 2, 0x",
		"in hrtimer_nanosleep)",
	)
	if n := strings.Count(out[strings.Index(out, "Breakpoint 2, "):], ", 64-bit long mode"); n < 2 {
		t.Errorf("info threads once both vCPUs run: want two vCPUs in long mode, got %d:\n%s", n, out)
	}
	// The guest sleeps on: Ctrl-C stops it, with every vCPU somewhere.
	out = p.gdbInterrupted(t, 1500*time.Millisecond, "continue", "info threads", "continue")
	t.Logf("gdb's Ctrl-C on the sleeping kernel:\n%s", out)
	mustContain(t, out, "SIGINT", "Thread 1 (vCPU 0, 64-bit long mode", "Thread 2 (vCPU 1, 64-bit long mode", "exited with code 05")
	if s := p.status(t); s != 5 {
		t.Fatalf("kvmscope exited %d, want the guest's 5; stderr:\n%s", s, p.stderrText())
	}
}

// TestGDBLinuxKASLR: booted without nokaslr, the kernel runs at a slide
// it picked; kvmscope finds it by the kernel's banner in guest memory once
// the kernel runs, and then names symbols where the guest's own
// /proc/kallsyms has them.
func TestGDBLinuxKASLR(t *testing.T) {
	g := linuxGuestFiles(t)
	args := g.args(1, "grep -E ' (start_kernel|linux_banner)$' /proc/kallsyms; sleep 600")
	for i, a := range args {
		if a == "--append" {
			args[i+1] = strings.Replace(args[i+1], " nokaslr", "", 1)
		}
	}
	p := startStub(t, append([]string{"--symbols", g.vmlinux}, args...)...)
	var guest map[string]uint64
	for end := time.Now().Add(5 * time.Minute); len(guest) < 2; time.Sleep(time.Second) {
		if time.Now().After(end) {
			t.Fatalf("the guest never printed its kallsyms; console:\n%s\nstderr:\n%s", p.stdoutText(), p.stderrText())
		}
		guest = map[string]uint64{}
		for _, m := range kallsymsLine.FindAllStringSubmatch(p.stdoutText(), -1) {
			guest[m[2]], _ = strconv.ParseUint(m[1], 16, 64)
		}
	}
	t.Logf("the guest's start_kernel is at %#x", guest["start_kernel"])
	out := p.gdb(t, "monitor sym start_kernel", "info threads", "kill")
	mustContain(t, out, fmt.Sprintf("%016x start_kernel", guest["start_kernel"]), "(vCPU 0, 64-bit long mode, in ")
	p.status(t)
}

// printedValue is a value gdb printed: "$3 = 0x1234".
var printedValue = regexp.MustCompile(`\$\d+ = (0x[0-9a-f]+)`)

// printedValues returns the i-th value gdb printed in out; the test
// fails at once unless gdb printed exactly n.
func printedValues(t *testing.T, out string, n int) func(i int) uint64 {
	t.Helper()
	m := printedValue.FindAllStringSubmatch(out, -1)
	if len(m) != n {
		t.Fatalf("want %d printed values, got %d:\n%s", n, len(m), out)
	}
	return func(i int) uint64 { v, _ := strconv.ParseUint(m[i][1], 0, 64); return v }
}
