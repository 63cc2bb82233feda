// Package linux is kvmscope's Linux guest sample: the Debian kernel that
// the kvmbox sandbox already uses, and a small busybox initramfs whose
// /init prints a banner, runs the command given on the kernel command line
// as kvmscope.cmd=... (or a shell on the console), and reports its exit
// status through the debug-exit port 0xf4.
//
// Unlike the other samples it is not embedded in the binary (the kernel
// alone is 8 MiB): `make linux-sample` builds it into samples/linux/build
// (not committed), and `kvmscope run sample:linux` finds it there.
package linux

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// initScript is the initramfs's /init.
//
//go:embed init
var initScript []byte

// benchScript is /bin/kvmscope-bench, the workloads whose exits the
// Linux rows of `kvmscope bench` count (internal/bench).
//
//go:embed kvmscope-bench
var benchScript []byte

// Files in the build folder.
const (
	BuildDir   = "samples/linux/build" // from the top of the checkout
	KernelName = "vmlinuz"             // the kernel (a bzImage)
	InitrdName = "initramfs.cpio.gz"
	// DirEnv names a build folder to use instead of finding BuildDir.
	DirEnv = "KVMSCOPE_LINUX_SAMPLE"
)

// Cmdline is the sample's kernel command line before any kvmscope.cmd:
// the serial console, a panic that reboots at once through the keyboard
// controller (ending kvmscope's run), no PCI to probe, link-time addresses
// for the debugger, and "quiet": each console byte is a VM exit that the
// guest waits for, and the boot log is some 30 KiB of them.
const Cmdline = "console=ttyS0 panic=-1 reboot=k pci=off nokaslr quiet"

// CmdlineWith returns Cmdline running cmd as init's command, "" for a
// shell. cmd may hold spaces but not double quotes, which end it.
func CmdlineWith(cmd string) string {
	if cmd == "" {
		return Cmdline
	}
	return Cmdline + ` kvmscope.cmd="` + cmd + `"`
}

// MemSize is the guest RAM the sample runs with unless told otherwise: the
// Debian kernel needs about 80 MiB to decompress itself.
const MemSize = 256 << 20

// Sample is a built Linux sample.
type Sample struct {
	Kernel, Initrd string // file paths
}

// ErrNotBuilt says the sample has not been built.
var ErrNotBuilt = errors.New(`sample:linux is not built: run "make linux-sample" in the kvmscope checkout (it takes the kernel of "kvmbox setup" and busybox-static)`)

// Find locates the built sample: in $KVMSCOPE_LINUX_SAMPLE, or in
// samples/linux/build of the working directory or the nearest folder
// above it that has one.
func Find() (Sample, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return inDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return Sample{}, fmt.Errorf("find sample:linux: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if s, err := inDir(filepath.Join(dir, BuildDir)); err == nil {
			return s, nil
		}
		if filepath.Dir(dir) == dir {
			return Sample{}, ErrNotBuilt
		}
	}
}

func inDir(dir string) (Sample, error) {
	s := Sample{Kernel: filepath.Join(dir, KernelName), Initrd: filepath.Join(dir, InitrdName)}
	for _, f := range []string{s.Kernel, s.Initrd} {
		if _, err := os.Stat(f); err != nil {
			return Sample{}, fmt.Errorf("%w (%s is missing)", ErrNotBuilt, f)
		}
	}
	return s, nil
}

// Initramfs builds the sample's initramfs around a statically linked
// busybox: /init, /bin/busybox, /bin/kvmscope-bench, /dev/console and the
// mount points,
// gzip-compressed when compress is set.
func Initramfs(busybox []byte, compress bool) ([]byte, error) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "root"} {
		w.dir(d, 0o755)
	}
	w.charDev("dev/console", 0o600, 5, 1)
	w.file("bin/busybox", 0o755, busybox)
	w.file("init", 0o755, initScript)
	w.file("bin/kvmscope-bench", 0o755, benchScript)
	if err := w.close(); err != nil {
		return nil, fmt.Errorf("build initramfs: %w", err)
	}
	if !compress {
		return buf.Bytes(), nil
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(buf.Bytes())
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress initramfs: %w", err)
	}
	return z.Bytes(), nil
}

// HostInitramfs is Initramfs around this host's static busybox
// (FindBusybox), as the tests build it.
func HostInitramfs(compress bool) ([]byte, error) {
	path, err := FindBusybox()
	if err != nil {
		return nil, fmt.Errorf("the Linux sample's initramfs: %w", err)
	}
	bb, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the Linux sample's initramfs: %w", err)
	}
	return Initramfs(bb, compress)
}

// busyboxPaths are where Debian's busybox-static puts its binary.
var busyboxPaths = []string{"/usr/bin/busybox", "/bin/busybox"}

// FindBusybox returns the path of a statically linked busybox. The
// initramfs has no C library, so a dynamically linked one would not start.
func FindBusybox() (string, error) {
	var reasons []string
	for _, p := range busyboxPaths {
		f, err := elf.Open(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				reasons = append(reasons, fmt.Sprintf("%s: %v", p, err))
			}
			continue
		}
		static := true
		for _, prog := range f.Progs {
			static = static && prog.Type != elf.PT_INTERP
		}
		f.Close()
		if static {
			return p, nil
		}
		reasons = append(reasons, p+" is dynamically linked")
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "not found")
	}
	return "", fmt.Errorf("no static busybox (install busybox-static): %s", strings.Join(reasons, "; "))
}
