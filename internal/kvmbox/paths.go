package kvmbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDir is the cache that setup fills and Run reads. It is a fixed
// system path, not one under $HOME, so that root's `kvmbox setup` and any
// user's `kvmbox -- CMD` find the same files without configuration.
const DefaultDir = "/var/cache/kvmscope/kvmbox"

// DirEnv names the variable that moves the cache, for tests and for hosts
// where /var/cache is not the place.
const DirEnv = "KVMBOX_DIR"

// ErrNotSetUp says the cache lacks a file that Run needs; callers branch
// on it to tell the user to run setup (and tests to skip).
var ErrNotSetUp = errors.New("sandbox not set up")

// Dir returns the cache folder: $KVMBOX_DIR or DefaultDir.
func Dir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return d
	}
	return DefaultDir
}

// Cache names the files in one cache folder. Kernel files carry the
// kernel version in their names so that a setup that moves to a newer
// kernel never leaves a half-matching pair behind.
type Cache struct {
	Dir string
}

// KernelFile records the kernel version that setup chose; it is written
// last, so its presence means the files it names are complete.
func (c Cache) KernelFile() string { return filepath.Join(c.Dir, "kernel") }

// Vmlinux is the uncompressed ELF kernel that QEMU boots through its PVH
// entry point (no BIOS real-mode boot, no decompression under emulation).
func (c Cache) Vmlinux(kver string) string { return filepath.Join(c.Dir, "vmlinux-"+kver) }

// Vmlinuz is the package's own compressed kernel, kept for whoever needs a
// bzImage (for example as a guest of the project's own VMM).
func (c Cache) Vmlinuz(kver string) string { return filepath.Join(c.Dir, "vmlinuz-"+kver) }

// Config is the kernel's build configuration, kept for reference.
func (c Cache) Config(kver string) string { return filepath.Join(c.Dir, "config-"+kver) }

// Initrd is the base initramfs: busybox and the modules. Run appends the
// /init script from the binary at each boot, so a new kvmbox never runs
// with a stale init from an older setup.
func (c Cache) Initrd(kver string) string { return filepath.Join(c.Dir, "initrd-"+kver+".cpio") }

// KernelVersion reads the version recorded by setup.
func (c Cache) KernelVersion() (string, error) {
	b, err := os.ReadFile(c.KernelFile())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", notSetUp(c.KernelFile())
		}
		return "", fmt.Errorf("read kernel version: %w", err)
	}
	kver := strings.TrimSpace(string(b))
	if !validKernelVersion(kver) {
		return "", fmt.Errorf("read kernel version: bad version %q in %s", kver, c.KernelFile())
	}
	return kver, nil
}

// Ready returns the recorded kernel version once the kernel and the
// initramfs for it are both there.
func (c Cache) Ready() (string, error) {
	kver, err := c.KernelVersion()
	if err != nil {
		return "", err
	}
	for _, p := range []string{c.Vmlinux(kver), c.Initrd(kver)} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			return "", notSetUp(p)
		}
	}
	return kver, nil
}

// GuestKernel names the cached kernel as a guest for kvmscope: its
// bzImage and the unpacked vmlinux, once both are there (tests boot it).
func (c Cache) GuestKernel() (bzImage, vmlinux string, err error) {
	kver, err := c.KernelVersion()
	if err != nil {
		return "", "", err
	}
	bzImage, vmlinux = c.Vmlinuz(kver), c.Vmlinux(kver)
	for _, p := range []string{bzImage, vmlinux} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			return "", "", notSetUp(p)
		}
	}
	return bzImage, vmlinux, nil
}

func notSetUp(missing string) error {
	return fmt.Errorf("%w: run `sudo kvmbox setup` (missing %s)", ErrNotSetUp, missing)
}

// validKernelVersion keeps a version read from a file or from apt from
// ever naming a path outside the cache.
func validKernelVersion(v string) bool {
	if v == "" || strings.HasPrefix(v, ".") {
		return false
	}
	for _, r := range v {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '-' || r == '_' || r == '+' || r == '~'
		if !ok {
			return false
		}
	}
	return true
}

// writeFileAtomic writes data next to path and renames it into place, so
// that a reader (or a crashed setup) never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
