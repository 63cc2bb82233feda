package kvmbox

import (
	"fmt"
	"strings"
)

// qemuConfig is one boot of the sandbox.
type qemuConfig struct {
	Kernel, Initrd string
	Append         string  // extra kernel command line words
	Memory         string  // -m, e.g. "4G"
	CPUs           int     // -smp
	CtlDir         string  // control share
	Shares         []share // writable shares
	TTY            bool    // the console is the user's terminal
	StdinPort      bool    // standard input comes on fd 3 into a virtio port
}

// share is one writable host folder and its 9p mount tag.
type share struct {
	Tag, Path string
}

// escapeOpt doubles commas, QEMU's escape inside an option value.
func escapeOpt(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// qemuArgs builds QEMU's command line. The CPU is QEMU's software
// emulator with AMD SVM and nested paging, the only way to a working
// /dev/kvm inside when the host has no hardware virtualization; the
// kernel boots through PVH straight from the ELF vmlinux.
func qemuArgs(c qemuConfig) []string {
	a := []string{
		"-accel", "tcg,thread=multi",
		"-cpu", "qemu64,+svm,+npt",
		"-smp", fmt.Sprint(c.CPUs),
		"-m", c.Memory,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-monitor", "none",
	}
	if c.TTY {
		// signal=off: ^C and ^Z reach the program inside, as in any
		// terminal; the mux escape ^] then x quits the sandbox instead
		// (^A, QEMU's default, is a key that shells and editors need).
		a = append(a, "-chardev", "stdio,id=con,mux=on,signal=off", "-echr", "0x1d")
	} else {
		// The serial port carries early messages; the command's output
		// goes through a virtio console on the same backend, which is
		// much faster than the emulated UART (bulk buffers instead of
		// one I/O exit per byte).
		a = append(a, "-chardev", "stdio,id=con,mux=on")
	}
	a = append(a, "-serial", "chardev:con")
	a = append(a, "-device", "virtio-serial-pci,id=vser")
	// The TSC as clocksource: HPET, the kernel's choice under TCG, makes
	// every clock_gettime a trapped MMIO read, which dominated the cost of
	// timing each VM exit (26% of a port-I/O exit, measured).
	cmdline := "console=ttyS0 quiet loglevel=1 panic=-1 clocksource=tsc tsc=reliable"
	if c.TTY {
		cmdline += " kvmbox_tty=1"
	} else {
		a = append(a, "-device", "virtconsole,bus=vser.0,chardev=con")
		cmdline += " kvmbox_hvc=1"
	}
	if c.StdinPort {
		cmdline += " kvmbox_stdin=1"
	}
	if c.Append != "" {
		cmdline += " " + c.Append
	}
	a = append(a,
		"-kernel", c.Kernel,
		"-initrd", c.Initrd,
		"-append", cmdline,
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x01",
		"-device", "virtio-rng-pci",
		"-fsdev", "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
		"-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
		"-fsdev", "local,id=kvmboxctl,path="+escapeOpt(c.CtlDir)+",security_model=none",
		"-device", "virtio-9p-pci,fsdev=kvmboxctl,mount_tag=kvmboxctl",
	)
	for _, s := range c.Shares {
		a = append(a,
			"-fsdev", "local,id="+s.Tag+",path="+escapeOpt(s.Path)+",security_model=none,multidevs=remap",
			"-device", "virtio-9p-pci,fsdev="+s.Tag+",mount_tag="+s.Tag,
		)
	}
	if c.StdinPort {
		// QEMU reads fd 3 (reopened through /proc) and, at its end,
		// closes the port: the program inside then reads end-of-file.
		a = append(a,
			"-chardev", "file,id=stdin,path=/dev/null,input-path=/proc/self/fd/3",
			"-device", "virtserialport,bus=vser.0,chardev=stdin,name=kvmbox.stdin",
		)
	}
	return a
}
