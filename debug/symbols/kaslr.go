package symbols

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
)

// With KASLR (CONFIG_RANDOMIZE_BASE, on unless the command line says
// nokaslr) the kernel runs at its link addresses plus a slide it picks at
// boot. The slide is found here the plain way: bytes the image holds at a
// link address (a read-only string, which nothing patches at run time,
// unlike code) are looked for in the running guest at that address plus
// each possible slide.

// ReadFunc reads guest memory at a virtual address, as the debug
// session's ReadVirtual does for a vCPU.
type ReadFunc func(addr uint64, buf []byte) (int, error)

// x86-64 KASLR: the kernel moves in CONFIG_PHYSICAL_ALIGN steps (2 MiB
// on Debian) within the 1 GiB kernel image area, never below its link
// address.
const (
	X86SlideAlign = 2 << 20
	X86SlideSpan  = 1 << 30
)

// FindSlide returns the smallest slide, a multiple of align below span,
// at which read finds want at addr+slide. Addresses that cannot be read
// (not mapped) are passed over.
func FindSlide(read ReadFunc, addr uint64, want []byte, align, span uint64) (uint64, error) {
	if len(want) == 0 || align == 0 {
		return 0, errors.New("kaslr: nothing to look for")
	}
	buf := make([]byte, len(want))
	for slide := uint64(0); slide < span; slide += align {
		if n, err := read(addr+slide, buf); err == nil && n == len(buf) && bytes.Equal(buf, want) {
			return slide, nil
		}
	}
	return 0, fmt.Errorf("kaslr: the %d bytes at %#x are at no %#x step up to %#x above it", len(want), addr, align, span)
}

// KernelSlide finds an x86-64 kernel's KASLR slide from its uncompressed
// ELF image and symbol table: it looks for linux_banner ("Linux version
// ...") in the running guest.
func KernelSlide(read ReadFunc, image []byte, t *Table) (uint64, error) {
	s, ok := t.Lookup("linux_banner")
	if !ok {
		return 0, errors.New("kaslr: no linux_banner symbol to look for")
	}
	want, err := ImageBytes(image, s.Addr, bannerLen)
	if err != nil {
		return 0, fmt.Errorf("kaslr: linux_banner: %w", err)
	}
	return FindSlide(read, s.Addr, want, X86SlideAlign, X86SlideSpan)
}

// ImageBytes returns n bytes that an ELF kernel image holds at a link
// address, through its program headers.
func ImageBytes(image []byte, addr uint64, n int) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("image bytes at %#x: %w", addr, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr-p.Vaddr+uint64(n) <= p.Filesz && p.Off+p.Filesz <= uint64(len(image)) {
			off := p.Off + addr - p.Vaddr
			return image[off : off+uint64(n)], nil
		}
	}
	return nil, fmt.Errorf("image bytes at %#x: in no loaded segment of the file", addr)
}

// Slid returns the table moved by slide: what the symbols are at in a
// kernel that KASLR moved. Absolute symbols (type A, among them the
// per-CPU ones) stay where they are.
func (t *Table) Slid(slide uint64) *Table {
	syms := make([]Symbol, len(t.syms))
	for i, s := range t.syms {
		if s.Kind != 'A' && s.Kind != 'a' {
			s.Addr += slide
		}
		syms[i] = s
	}
	return New(syms)
}
