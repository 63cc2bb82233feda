package boot

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// bzImageHeader returns the first bytes of a bzImage with the given boot
// protocol version.
func bzImageHeader(version uint16) []byte {
	b := make([]byte, 0x400)
	binary.LittleEndian.PutUint16(b[0x1fe:], 0xaa55)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x206:], version)
	return b
}

// with returns a modified copy of e.
func with(e testELF, f func(*testELF)) testELF {
	e.segs = append([]testSeg(nil), e.segs...)
	f(&e)
	return e
}

// patched returns e's bytes with fn applied.
func patched(e testELF, fn func(e testELF, b []byte)) []byte {
	b := e.bytes()
	fn(e, b)
	return b
}

func TestLoadErrors(t *testing.T) {
	le := binary.LittleEndian
	s64, s32 := sample64(), sample32()
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		image []byte
		ram   int // 0: 4 MiB
		want  string
	}{
		{"empty image", nil, 0, "firmware image is empty"},
		{"firmware over 16 MiB", make([]byte, 16<<20+1), 0, "firmware image of 16777217 bytes is larger than the 16 MiB below 4 GiB"},
		{"firmware RAM under 1 MiB", make([]byte, 4096), mib - 4096, "guest RAM of 1020 KiB is smaller than the 1 MiB"},
		{"bzImage header only", bzImageHeader(0x020f), 0, "truncated bzImage: 4 setup sectors end at 0xa00, the file has 1024 bytes"},
		{"old bzImage", bzImageHeader(0x0204), 0, "Linux bzImage with boot protocol 2.04: kvmscope boots protocol 2.10 (Linux 2.6.31) and later: not supported yet"},

		{"truncated identification", []byte("\x7fELF\x02\x01"), 0, "truncated ELF header: 6 bytes, shorter than the 16-byte identification"},
		{"truncated ELF64 header", s64.bytes()[:40], 0, "truncated ELF header: 40 bytes, want 64 for ELFCLASS64"},
		{"truncated ELF32 header", s32.bytes()[:40], 0, "truncated ELF header: 40 bytes, want 52 for ELFCLASS32"},
		{"big-endian", patched(s64, func(_ testELF, b []byte) { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB) }), 0, "ELF data encoding ELFDATA2MSB: want little-endian"},
		{"unknown data encoding", patched(s64, func(_ testELF, b []byte) { b[elf.EI_DATA] = 9 }), 0, "ELF data encoding 9: want little-endian"},
		{"bad class", patched(s64, func(_ testELF, b []byte) { b[elf.EI_CLASS] = 7 }), 0, "ELF class 7: want ELFCLASS64 or ELFCLASS32"},
		{"aarch64", with(s64, func(e *testELF) { e.machine = elf.EM_AARCH64 }).bytes(), 0, "ELF for EM_AARCH64, want x86-64 or i386"},
		{"riscv32", with(s32, func(e *testELF) { e.machine = elf.EM_RISCV }).bytes(), 0, "ELF for EM_RISCV, want x86-64 or i386"},
		{"unknown machine", with(s64, func(e *testELF) { e.machine = 250 }).bytes(), 0, "ELF for machine 250, want x86-64 or i386"},
		{"x32", with(s32, func(e *testELF) { e.machine = elf.EM_X86_64 }).bytes(), 0, "ELFCLASS32 ELF for EM_X86_64 (x32?): class and machine do not match"},
		{"i386 in ELF64", with(s64, func(e *testELF) { e.machine = elf.EM_386 }).bytes(), 0, "ELFCLASS64 ELF for EM_386: class and machine do not match"},
		{"PIE", with(s64, func(e *testELF) { e.typ = elf.ET_DYN }).bytes(), 0, "position-independent or relocatable ELF (ET_DYN): link it static at a fixed address"},
		{"object file", with(s32, func(e *testELF) { e.typ = elf.ET_REL }).bytes(), 0, "position-independent or relocatable ELF (ET_REL): link it static"},
		{"core file", with(s64, func(e *testELF) { e.typ = elf.ET_CORE }).bytes(), 0, "ELF type ET_CORE is not an executable"},
		{"unknown type", with(s64, func(e *testELF) { e.typ = 77 }).bytes(), 0, "ELF type 77 is not an executable"},
		{"no program headers", with(s64, func(e *testELF) { e.segs = nil }).bytes(), 0, "ELF has no program headers"},
		{"short program header entries", patched(s64, func(_ testELF, b []byte) { le.PutUint16(b[54:], 32) }), 0, "ELF program header size 32 is smaller than the 56 bytes of an ELFCLASS64 program header"},
		{"truncated program headers", s64.bytes()[:64+56+20], 0, "truncated program headers: 2 headers of 56 bytes at offset 0x40, file has 140 bytes"},
		{"program headers past the end", patched(s32, func(_ testELF, b []byte) { le.PutUint32(b[28:], 0xfffffff0) }), 0, "truncated program headers: 2 headers of 32 bytes at offset 0xfffffff0"},
		{"program header offset wraps", patched(s64, func(_ testELF, b []byte) { le.PutUint64(b[32:], ^uint64(0)-8) }), 0, "truncated program headers"},
		{"truncated segment data", func() []byte { b := s64.bytes(); return b[:len(b)-4] }(), 0, "truncated file: segment 1 wants 0x10 bytes at offset"},
		{"segment offset wraps", patched(s64, func(e testELF, b []byte) { le.PutUint64(e.phdr(b, 1)[8:], 1<<62) }), 0, "truncated file: segment 1 wants 0x10 bytes at offset 0x4000000000000000"},
		{"no PT_LOAD", with(s64, func(e *testELF) { e.segs = []testSeg{{typ: elf.PT_NOTE, data: []byte("n")}} }).bytes(), 0, "ELF has no PT_LOAD segment"},
		{"only empty PT_LOAD", with(s64, func(e *testELF) { e.segs = []testSeg{{paddr: 0x100000}} }).bytes(), 0, "ELF has no PT_LOAD segment with contents"},
		{"dynamically linked", with(s64, func(e *testELF) { e.segs = append(e.segs, testSeg{typ: elf.PT_INTERP, data: []byte("/lib/ld.so\x00")}) }).bytes(), 0, "dynamically linked ELF (PT_INTERP in program header 2): link it static"},
		{"filesz over memsz", patched(s64, func(e testELF, b []byte) { le.PutUint64(e.phdr(b, 1)[40:], 8) }), 0, "segment 1: file size 0x10 is larger than memory size 0x8"},
		{"filesz over memsz 32", patched(s32, func(e testELF, b []byte) { le.PutUint32(e.phdr(b, 0)[20:], 1) }), 0, "segment 0: file size 0x5 is larger than memory size 0x1"},
		{"outside RAM", with(s64, func(e *testELF) { e.segs[1].paddr = 64*mib - 0x1000 }).bytes(), 64 * mib, "segment 1 [0x3fff000-0x4002000) lies outside guest RAM (64 MiB)"},
		{"above RAM", with(s32, func(e *testELF) { e.segs[1].paddr = 0xfee00000 }).bytes(), 0, "segment 1 [0xfee00000-0xfee03000) lies outside guest RAM (4 MiB)"},
		{"address wraps", with(s64, func(e *testELF) { e.segs[1].paddr = ^uint64(0) - 0xfff }).bytes(), 0, "segment 1 at 0xfffffffffffff000 with memory size 0x3000 lies outside guest RAM (4 MiB)"},
		{"over the page tables", with(s64, func(e *testELF) { e.segs[1].paddr = 0xe000 }).bytes(), 0, "segment 1 [0xe000-0x11000) overlaps the loader's page tables at [0x9000-0xf000)"},
		{"over the GDT", with(s64, func(e *testELF) { e.segs[1].paddr = 0x400 }).bytes(), 0, "segment 1 [0x400-0x3400) overlaps the loader's GDT and TSS at [0x500-0x668)"},
		{"over the GDT 32", with(s32, func(e *testELF) { e.segs[0].paddr = 0x660; e.entry = 0x660 }).bytes(), 0, "segment 0 [0x660-0x665) overlaps the loader's GDT and TSS"},
		{"RAM too small for tables", with(s64, func(e *testELF) {}).bytes(), 0xa000, "guest RAM of 40 KiB is too small for the loader's page tables at [0x9000-0xf000)"},
		{"entry outside", with(s64, func(e *testELF) { e.entry = 0x50 }).bytes(), 0, "entry point 0x50 lies outside any loaded executable segment"},
		{"entry past code", with(s32, func(e *testELF) { e.entry = 0x100005 }).bytes(), 0, "entry point 0x100005 lies outside any loaded executable segment"},
		{"entry in data", with(s64, func(e *testELF) { e.entry = 0x200000 }).bytes(), 0, "entry point 0x200000 lies outside any loaded executable segment"},
		{"entry in bss", with(s64, func(e *testELF) { e.segs[1].flags |= elf.PF_X; e.entry = 0x201000 }).bytes(), 0, "entry point 0x201000 lies outside any loaded executable segment"},
		{"virtual entry", with(s64, func(e *testELF) { e.segs[0].vaddr = 0xffffffff80100000; e.entry = 0xffffffff80100000 }).bytes(), 0,
			"entry point 0xffffffff80100000 is a virtual address (segment at 0xffffffff80100000 is loaded at physical 0x100000)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.ram
			if size == 0 {
				size = 4 << 20
			}
			ram := make([]byte, size)
			img, err := Load(tc.image, ram)
			if err == nil {
				t.Fatalf("Load succeeded (%v), want error containing %q", img.Format, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
			if !allBytes(ram, 0) {
				t.Errorf("a refused image wrote into RAM")
			}
		})
	}
}

func TestOldBzImageIsNotSupported(t *testing.T) {
	_, err := Load(bzImageHeader(0x0209), make([]byte, 4<<20))
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("error %v does not wrap ErrNotSupported", err)
	}
	// Without the boot flag, "HdrS" alone is just firmware bytes.
	b := bzImageHeader(0x020f)
	b[0x1fe] = 0
	if _, err := Load(b, make([]byte, 4<<20)); err != nil {
		t.Fatalf("image without the boot flag: %v, want it loaded as firmware", err)
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{Firmware: "firmware", ELF64: "ELF64", ELF32: "ELF32", 0: "Format(0)"} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}

// More than 3 GiB of RAM is refused; tested on the size alone, so that the
// test does not allocate it.
func TestRAMAbovePCIHole(t *testing.T) {
	if err := checkRAMSize(3 << 30); err != nil {
		t.Fatalf("3 GiB refused: %v", err)
	}
	err := checkRAMSize(3<<30 + 4096)
	want := "guest RAM of 3145732 KiB is larger than the 3 GiB below the PCI hole"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want it to contain %q", err, want)
	}
}
