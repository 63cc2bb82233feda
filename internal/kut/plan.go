package kut

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Plan is how one test runs: under kvmscope and under QEMU, or why not.
type Plan struct {
	Test *Test
	// Skip, when not empty, is why the test is not run at all; the suite's
	// run script skips it for the same reason.
	Skip string
	// Kernel is the .flat's path.
	Kernel string
	// KvmscopeArgs follow "kvmscope run" (the flags, then the kernel).
	KvmscopeArgs []string
	// Ignored lists the test's QEMU options that kvmscope has no
	// counterpart for, so that a difference can be traced to them.
	Ignored []string
	// QEMUArgs are the arguments of qemu-system-x86_64, as x86/run and
	// scripts/runtime.bash build them.
	QEMUArgs []string
}

// Options choose what Prepare plans.
type Options struct {
	Arch string // the build's ARCH: "x86_64" (what kvmscope runs)
	All  bool   // run tests of group nodefault too (run_tests.sh -a)
	Mem  string // kvmscope's --mem when the test names none: QEMU's default 128M
	Ext  string // kvmscope's --ext, "" for its default
}

// qemuBase is what x86/run puts before the kernel: no default devices,
// the PIT dropping lost ticks, the test devices, the serial port on
// stdio, no display, KVM.
var qemuBase = []string{
	"--no-reboot", "-nodefaults",
	"-global", "kvm-pit.lost_tick_policy=discard",
	"-device", "pc-testdev", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4",
	"-display", "none", "-serial", "stdio", "-device", "pci-testdev",
	"-machine", "accel=kvm",
}

// Prepare plans test t of the build whose x86 directory is dir.
func Prepare(t *Test, dir string, o Options) Plan {
	p := Plan{Test: t, Kernel: filepath.Join(dir, t.File)}
	if p.Skip = skipReason(t, p.Kernel, o); p.Skip != "" {
		return p
	}
	p.QEMUArgs = append(append([]string(nil), qemuBase...), "-kernel", p.Kernel, "-smp", fmt.Sprint(t.SMP))
	if len(t.Args) > 0 {
		p.QEMUArgs = append(p.QEMUArgs, "-append", strings.Join(t.Args, " "))
	}
	p.QEMUArgs = append(p.QEMUArgs, t.Params...)

	cpus, mem, appendArgs := t.SMP, o.Mem, strings.Join(t.Args, " ")
	initrd := ""
	for i := 0; i < len(t.Params); i++ {
		opt, val := t.Params[i], ""
		if i+1 < len(t.Params) {
			val = t.Params[i+1]
		}
		switch opt {
		case "-append":
			appendArgs, i = val, i+1 // the last -append wins, as in QEMU
		case "-smp":
			if n, ok := leadingInt(val); ok {
				cpus = n
			}
			i++
		case "-m":
			mem, i = qemuMem(val), i+1
		case "-initrd":
			initrd, i = val, i+1
		case "-enable-kvm":
		case "-cpu", "-machine", "-global", "-device", "-overcommit":
			p.Ignored = append(p.Ignored, opt+" "+val)
			i++
		default:
			p.Ignored = append(p.Ignored, opt)
		}
	}
	p.KvmscopeArgs = []string{"--cpus", fmt.Sprint(cpus), "--mem", mem}
	if o.Ext != "" {
		p.KvmscopeArgs = append(p.KvmscopeArgs, "--ext", o.Ext)
	}
	if appendArgs != "" {
		p.KvmscopeArgs = append(p.KvmscopeArgs, "--append", appendArgs)
	}
	if initrd != "" {
		p.KvmscopeArgs = append(p.KvmscopeArgs, "--initrd", initrd)
	}
	p.KvmscopeArgs = append(p.KvmscopeArgs, p.Kernel)
	return p
}

// skipReason is why scripts/runtime.bash would not run the test, in its
// words, or "" to run it.
func skipReason(t *Test, kernel string, o Options) string {
	switch {
	case t.Unusable != "":
		return "not run: " + t.Unusable
	case t.Arch != "" && t.Arch != o.Arch:
		return t.Arch + " only"
	case t.InGroup("nodefault") && !o.All:
		return "test marked as manual run only"
	case t.Accel != "" && t.Accel != "kvm":
		return t.Accel + " only, but ACCEL=kvm"
	case t.DisabledIf != "":
		return "disabled_if is a bash condition kvmscope does not evaluate: " + t.DisabledIf
	}
	for _, c := range t.Check {
		path, want, _ := strings.Cut(c, "=")
		got, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(got)) != want {
			return path + " not equal to " + want
		}
	}
	if _, err := os.Stat(kernel); err != nil {
		return "Test file '" + kernel + "' not found"
	}
	return ""
}

// qemuMem turns QEMU's -m (MiB when bare, k/m/g/t suffixes either case)
// into kvmscope's --mem.
func qemuMem(s string) string {
	s, _, _ = strings.Cut(s, ",") // -m 2048,slots=...
	return strings.ToUpper(strings.TrimPrefix(s, "size="))
}

func leadingInt(s string) (int, bool) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, i > 0 && n > 0
}
