package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples/linux"
)

// debianInitrdDir is where `make debian-initramfs`
// (samples/linux/debian-initrd/build.sh) writes initrd.img-$KVER, from
// the top of the checkout.
const debianInitrdDir = "samples/linux/build/debian"

// debianInitrd finds the initramfs that Debian's mkinitramfs built for
// kernel version kver, in the working directory's checkout or the
// nearest folder above that has one. A missing image fails the test
// rather than skipping it: `make test` builds it before the KVM tests,
// so only a forgotten step can leave it out.
func debianInitrd(t *testing.T, kver string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(debianInitrdDir, "initrd.img-"+kver)
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			return p
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no %s above %s: run `make debian-initramfs` (as root) in the kvmscope checkout; "+
				"it builds it with Debian's initramfs-tools for the kernel of `kvmbox setup`", name, wd)
		}
	}
}

// debianCmdline is the Linux sample's command line: Debian's init reads
// panic=-1 too, and with no root= it panics ("No root device
// specified") and reboots at once, which ends the run as a guest reset.
const debianCmdline = linux.Cmdline

// TestGDBLinuxDebianInitramfs is issue 8's last acceptance run: the
// sandbox's Debian kernel with an initramfs made by Debian's own
// initramfs-tools (busybox, klibc, udev and Debian's /init; nothing of
// ours runs in the guest). Real gdb stops at start_kernel by the address
// that `kvmscope symbols` recovers from the kernel image (there is no
// System.map and the guest can run no command of ours to print its
// /proc/kallsyms), in long mode; stops again when Debian's init, having
// found no root device, makes its reboot system call — both vCPUs run by
// then — and lists both as threads; and lets the guest run on to its
// end, the keyboard controller's reset (kvmscope's status 4, SIGPWR to
// gdb).
func TestGDBLinuxDebianInitramfs(t *testing.T) {
	kvmtest.Available(t)
	cache := kvmbox.Cache{Dir: kvmbox.Dir()}
	bz, vmlinux, err := cache.GuestKernel()
	if err != nil {
		t.Fatalf("the Debian kernel of the sandbox: %v", err)
	}
	kver, err := cache.KernelVersion()
	if err != nil {
		t.Fatal(err)
	}
	initrd := debianInitrd(t, kver)

	stdout, stderr, status := kvmscope(t, "symbols", "--kernel", vmlinux, "start_kernel", "__x64_sys_reboot")
	if status != 0 {
		t.Fatalf("kvmscope symbols: status %d\n%s%s", status, stdout, stderr)
	}
	sym := map[string]uint64{}
	for _, m := range kallsymsLine.FindAllStringSubmatch(stdout, -1) {
		sym[m[2]], _ = strconv.ParseUint(m[1], 16, 64)
	}
	for _, n := range []string{"start_kernel", "__x64_sys_reboot"} {
		if sym[n] == 0 {
			t.Fatalf("kvmscope symbols found no %s:\n%s%s", n, stdout, stderr)
		}
	}

	p := startStub(t, "--wait", "--symbols", vmlinux, "--cpus", "2", "--mem", "256M", "--timeout", "600s",
		"--initrd", initrd, "--append", debianCmdline, bz)
	out := p.gdb(t,
		fmt.Sprintf("hbreak *%#x", sym["start_kernel"]),
		"continue",
		"p/x $pc",
		"p/x $efer",
		"info threads",
		"delete",
		fmt.Sprintf("hbreak *%#x", sym["__x64_sys_reboot"]),
		"continue",
		"p/x $pc",
		"info threads",
		"delete",
		"continue",
	)
	t.Logf("gdb on the Debian kernel and initramfs:\n%s", out)
	val := printedValues(t, out, 3)
	if val(0) != sym["start_kernel"] {
		t.Errorf("stopped at %#x, want start_kernel at %#x:\n%s", val(0), sym["start_kernel"], out)
	}
	if val(1)&(1<<10) == 0 { // EFER.LMA
		t.Errorf("EFER %#x at start_kernel: not in long mode", val(1))
	}
	if val(2) != sym["__x64_sys_reboot"] {
		t.Errorf("stopped at %#x, want __x64_sys_reboot at %#x:\n%s", val(2), sym["__x64_sys_reboot"], out)
	}
	mustContain(t, out,
		"Breakpoint 1, 0x",
		"vCPU 0, 64-bit long mode, in start_kernel)",
		"Breakpoint 2, 0x",
		"in __x64_sys_reboot)",
		"SIGPWR",
	)
	// Once Debian's init runs, both vCPUs are up and in long mode.
	if i := strings.Index(out, "Breakpoint 2, "); i < 0 {
		t.Errorf("no second stop:\n%s", out)
	} else {
		mustContain(t, out[i:], "Thread 1 (vCPU 0, 64-bit long mode", "Thread 2 (vCPU 1, 64-bit long mode")
	}
	if s := p.status(t); s != exitGuestReset {
		t.Fatalf("kvmscope exited %d, want %d (guest reset); stderr:\n%s\nconsole:\n%s", s, exitGuestReset, p.stderrText(), p.stdoutText())
	}
	// What Debian's init (scripts/local, scripts/functions) says before
	// it reboots: it ran, found no root= and obeyed panic=-1.
	console := p.stdoutText()
	for _, w := range []string{
		"No root device specified. Boot arguments must include a root= parameter.",
		"Rebooting automatically due to panic= boot argument",
	} {
		if !strings.Contains(console, w) {
			t.Errorf("the console lacks Debian's init's %q:\n%s", w, console)
		}
	}
}
