package symbols

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kvmscope/kvmscope/debug/symbols/kimage"
)

// Kernel is a kernel's symbol table and where it came from.
type Kernel struct {
	*Table
	// From says where the symbols came from, for a person: a System.map
	// path, "the ELF symbol table" or "kallsyms in the bzImage (xz)".
	From string
	// Notes are things a person should know, one line each: a System.map
	// that was there but not used, and why.
	Notes []string
	// Banner is linux_banner's first bytes as the unpacked image holds
	// them, for KernelSlide's search of a running guest; nil when the
	// symbols came from a System.map.
	Banner []byte
}

// Symbols is k's table, nil when k is: for callers that found none.
func (k *Kernel) Symbols() *Table {
	if k == nil {
		return nil
	}
	return k.Table
}

// bannerLen is how much of linux_banner ("Linux version 6.1.0-57-amd64
// (debian-kernel@...") KASLR's search compares: enough to be unique.
const bannerLen = 64

// ErrNotKernel says that a file is not a kernel image kimage can open
// (neither a bzImage, an ELF, nor a compressed stream).
var ErrNotKernel = errors.New("not a kernel image")

// ForKernel finds the symbols of the kernel in file (whose bytes are
// image) when the user named no symbol file: a System.map next to it
// (System.map-VERSION for vmlinuz-VERSION, as /boot has them, or
// System.map), else the ELF symbol table when the image has one, else
// the kallsyms tables inside the kernel itself. Debian's placeholder
// System.map is passed over with a note.
func ForKernel(file string, image []byte) (*Kernel, error) {
	k := &Kernel{}
	for _, m := range systemMapNames(file) {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		t, err := FromSystemMap(data)
		switch {
		case errors.Is(err, ErrPlaceholder):
			k.Notes = append(k.Notes, fmt.Sprintf("%s is Debian's placeholder (the real one is in the -dbg package): reading the kernel's own kallsyms", m))
		case err != nil:
			k.Notes = append(k.Notes, fmt.Sprintf("%s: %v: reading the kernel's own kallsyms", m, err))
		default:
			k.Table, k.From = t, m
			return k, nil
		}
	}
	im, err := kimage.Open(image)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if im.Container == "raw" {
		return nil, fmt.Errorf("%s: %w (neither a bzImage, an ELF nor a compressed stream)", file, ErrNotKernel)
	}
	if im.Container == "ELF" {
		if t, err := FromELF(im.Data); err == nil && t.Len() > 0 {
			k.Table, k.From = t, "the ELF symbol table of "+file
			k.Banner = banner(im.Data, t)
			return k, nil
		}
	}
	t, err := FromKallsyms(im.Data)
	if errors.Is(err, ErrNoKallsyms) {
		return nil, fmt.Errorf("no kallsyms tables found in %s: build with CONFIG_KALLSYMS or pass --symbols: %w", file, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	k.Table, k.From = t, "kallsyms in "+file+" ("+im.String()+")"
	k.Banner = banner(im.Data, t)
	return k, nil
}

// banner returns linux_banner's bytes from an unpacked ELF kernel, or nil.
func banner(elfImage []byte, t *Table) []byte {
	s, ok := t.Lookup("linux_banner")
	if !ok {
		return nil
	}
	b, err := ImageBytes(elfImage, s.Addr, bannerLen)
	if err != nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// systemMapNames lists where a kernel's System.map may lie: beside it,
// named after its version (vmlinuz-6.1.0-57-amd64 → System.map-6.1.0-57-amd64,
// as /boot has them; a symlink such as /vmlinuz is followed for the
// version) or not; else the one System.map* in its folder, if there is
// exactly one.
func systemMapNames(file string) []string {
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, f := range []string{file, resolved(file)} {
		dir, base := filepath.Split(f)
		if _, ver, ok := strings.Cut(base, "-"); ok && ver != "" {
			add(filepath.Join(dir, "System.map-"+ver))
		}
	}
	add(filepath.Join(filepath.Dir(file), "System.map"))
	if maps, _ := filepath.Glob(filepath.Join(filepath.Dir(file), "System.map*")); len(maps) == 1 {
		add(maps[0])
	}
	return names
}

// resolved follows symlinks, or returns file as it is.
func resolved(file string) string {
	if r, err := filepath.EvalSymlinks(file); err == nil {
		return r
	}
	return file
}
