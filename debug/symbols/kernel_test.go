package symbols

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ForKernel prefers a System.map beside the kernel, passes over Debian's
// placeholder with a note, and says clearly when a kernel has no kallsyms.
func TestForKernel(t *testing.T) {
	const base = 0xffffffff81000000
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinux-6.1.0-test")
	// A stripped "kernel": an ELF header, then rodata with kallsyms.
	image := append([]byte("\x7fELF\x02\x01\x01\x00"), buildKallsyms(testSyms(600, base), base, kallsymsLayout{percpu: true, seqs: true})...)
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	k, err := ForKernel(kernel, image)
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 600 || !strings.HasPrefix(k.From, "kallsyms in "+kernel) || len(k.Notes) != 0 {
		t.Errorf("no map: %d symbols from %q, notes %q", k.Len(), k.From, k.Notes)
	}

	write("System.map-6.1.0-test", "ffffffffffffffff B The real System.map is in the linux-image-6.1.0-test-dbg package\n")
	k, err = ForKernel(kernel, image)
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 600 || len(k.Notes) != 1 || !strings.Contains(k.Notes[0], "placeholder") {
		t.Errorf("placeholder: %d symbols from %q, notes %q", k.Len(), k.From, k.Notes)
	}

	write("System.map", "ffffffff81000000 T _text\nffffffff81000100 T start_kernel\n")
	k, err = ForKernel(kernel, image)
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 2 || k.From != filepath.Join(dir, "System.map") {
		t.Errorf("System.map: %d symbols from %q, notes %q", k.Len(), k.From, k.Notes)
	}

	// /vmlinuz → /boot/vmlinuz-VERSION: the version comes through the
	// link; a lone System.map-SOMETHING is taken too.
	boot := filepath.Join(dir, "boot")
	os.Mkdir(boot, 0o755)
	write("boot/vmlinuz-6.1.0-x", "")
	write("boot/System.map-6.1.0-x", "ffffffff81000000 T _text\n")
	link := filepath.Join(dir, "vmlinuz")
	if err := os.Symlink(filepath.Join(boot, "vmlinuz-6.1.0-x"), link); err != nil {
		t.Fatal(err)
	}
	if got := systemMapNames(link); !slices.Contains(got, filepath.Join(boot, "System.map-6.1.0-x")) {
		t.Errorf("systemMapNames(%s) = %q", link, got)
	}
	lone := filepath.Join(dir, "lone")
	os.Mkdir(lone, 0o755)
	write("lone/System.map-custom", "ffffffff81000000 T _text\n")
	if got := systemMapNames(filepath.Join(lone, "bzImage")); !slices.Contains(got, filepath.Join(lone, "System.map-custom")) {
		t.Errorf("systemMapNames(lone/bzImage) = %q", got)
	}

	_, err = ForKernel(filepath.Join(dir, "other", "vmlinux"), []byte("\x7fELF\x02\x01\x01\x00 no tables here"))
	if !errors.Is(err, ErrNoKallsyms) || !strings.Contains(err.Error(), "build with CONFIG_KALLSYMS or pass --symbols") {
		t.Errorf("no kallsyms: %v", err)
	}
	if _, err = ForKernel(filepath.Join(dir, "other", "notes.txt"), []byte("hello")); !errors.Is(err, ErrNotKernel) {
		t.Errorf("text file: %v", err)
	}
}
