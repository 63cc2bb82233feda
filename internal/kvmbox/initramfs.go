package kvmbox

import (
	"bytes"
	"context"
	"debug/elf"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// initScript is the sandbox's /init (busybox sh). It lives in the binary
// and is appended to the cached initramfs at each boot, so the init always
// matches the kvmbox that starts it.
//
//go:embed init.sh
var initScript []byte

// busyboxPaths are where Debian's busybox-static puts its binary (the
// first on merged-/usr systems, the second before).
var busyboxPaths = []string{"/usr/bin/busybox", "/bin/busybox"}

// findStaticBusybox returns a statically linked busybox: the initramfs
// has no C library, so a dynamically linked one (package busybox rather
// than busybox-static) would not start.
func findStaticBusybox() (string, error) {
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
			if prog.Type == elf.PT_INTERP {
				static = false
			}
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

// buildInitramfs writes the base initramfs to out: busybox, the modules
// under /lib/modules in load order (listed in /lib/modules/order for the
// init), and the folders the init mounts on. It is not compressed: the
// kernel unpacks a plain archive with a memory copy, while decompressing
// under the emulated CPU would cost boot time.
func buildInitramfs(busybox string, mods []kernelModule, out string) error {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("read busybox: %w", err)
	}
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	for _, d := range []string{"bin", "dev", "proc", "sys", "run", "lib", "lib/modules", "host", "lower", "rw", "ctl"} {
		w.Dir(d, 0o755)
	}
	w.CharDev("dev/console", 0o600, 5, 1)
	w.File("bin/busybox", 0o755, bb)
	var order strings.Builder
	for _, m := range mods {
		w.File("lib/modules/"+m.Name+".ko", 0o644, m.Data)
		order.WriteString(m.Name + "\n")
	}
	w.File("lib/modules/order", 0o644, []byte(order.String()))
	if err := w.Close(); err != nil {
		return fmt.Errorf("build initramfs: %w", err)
	}
	if err := writeFileAtomic(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	return nil
}

// initArchive is the small cpio archive with /init that Run appends to
// the base initramfs.
func initArchive() ([]byte, error) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.File("init", 0o755, initScript)
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("build init archive: %w", err)
	}
	return buf.Bytes(), nil
}

// buildKernelFiles turns an extracted kernel package at root into the
// cache's files for kver: the PVH vmlinux, the initramfs, and copies of
// vmlinuz and config. say reports each step.
func buildKernelFiles(ctx context.Context, c Cache, root, kver string, say func(string, ...any)) error {
	vmlinuz := filepath.Join(root, "boot", "vmlinuz-"+kver)
	if err := extractVmlinux(ctx, vmlinuz, c.Vmlinux(kver)); err != nil {
		return fmt.Errorf("extract vmlinux: %w", err)
	}
	say("vmlinux: wrote %s (%s)", c.Vmlinux(kver), sizeOf(c.Vmlinux(kver)))
	for src, dst := range map[string]string{vmlinuz: c.Vmlinuz(kver), filepath.Join(root, "boot", "config-"+kver): c.Config(kver)} {
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("copy kernel file: %w", err)
		}
		if err := writeFileAtomic(dst, b, 0o644); err != nil {
			return fmt.Errorf("copy kernel file: %w", err)
		}
	}
	busybox, err := findStaticBusybox()
	if err != nil {
		return err
	}
	mods, err := collectModules(ctx, filepath.Join(root, "lib", "modules", kver), sandboxModules)
	if err != nil {
		return fmt.Errorf("collect modules: %w", err)
	}
	if err := buildInitramfs(busybox, mods, c.Initrd(kver)); err != nil {
		return err
	}
	names := make([]string, len(mods))
	for i, m := range mods {
		names[i] = m.Name
	}
	say("initramfs: wrote %s (%s): busybox + %s", c.Initrd(kver), sizeOf(c.Initrd(kver)), strings.Join(names, " "))
	return nil
}

// sizeOf formats a file's size for the step lines.
func sizeOf(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
}
