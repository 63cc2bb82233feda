package boot

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"
)

func TestELFPlacement(t *testing.T) {
	for _, tc := range []struct {
		name   string
		elf    testELF
		format Format
		mode   string
	}{
		{"ELF64", sample64(), ELF64, "long"},
		{"ELF32", sample32(), ELF32, "protected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ram := bytes.Repeat([]byte{0xaa}, 4<<20)
			img, err := Load(tc.elf.bytes(), ram)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if img.Format != tc.format || img.Entry.Mode != tc.mode || img.Entry.Reset {
				t.Fatalf("format %v mode %q reset %v; want %v %q false", img.Format, img.Entry.Mode, img.Entry.Reset, tc.format, tc.mode)
			}
			if len(img.Regions) != 0 {
				t.Fatalf("ELF image has %d extra regions, want none", len(img.Regions))
			}
			if img.Entry.RIP != tc.elf.entry {
				t.Fatalf("RIP %#x, want e_entry %#x", img.Entry.RIP, tc.elf.entry)
			}
			for i, s := range tc.elf.segs {
				memsz := max(s.memsz, uint64(len(s.data)))
				got := ram[s.paddr : s.paddr+memsz]
				if !bytes.Equal(got[:len(s.data)], s.data) {
					t.Errorf("segment %d: RAM at %#x is % x, want % x", i, s.paddr, got[:len(s.data)], s.data)
				}
				if !allBytes(got[len(s.data):], 0) {
					t.Errorf("segment %d: bss [%#x-%#x) not zeroed", i, s.paddr+uint64(len(s.data)), s.paddr+memsz)
				}
				if ram[s.paddr+memsz] != 0xaa || ram[s.paddr-1] != 0xaa {
					t.Errorf("segment %d: bytes just outside [%#x-%#x) were written", i, s.paddr, s.paddr+memsz)
				}
			}
		})
	}
}

// The loader's structures may sit under the image only where the mode does
// not use them: a 32-bit image may live where the page tables would be.
func TestELF32MayUsePageTableArea(t *testing.T) {
	e := sample32()
	e.entry = 0x9000
	e.segs[0].paddr = 0x9000
	ram := make([]byte, 4<<20)
	if _, err := Load(e.bytes(), ram); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !bytes.Equal(ram[0x9000:0x9000+len(e.segs[0].data)], e.segs[0].data) {
		t.Fatalf("segment not at 0x9000")
	}
}

// Empty PT_LOADs and non-load headers are skipped, not refused.
func TestELFSkipsEmptyAndOtherSegments(t *testing.T) {
	e := sample64()
	e.segs = append(e.segs,
		testSeg{typ: elf.PT_NOTE, paddr: 0x500, data: []byte("note")},
		testSeg{paddr: 0x9000},
	)
	if _, err := Load(e.bytes(), make([]byte, 4<<20)); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestWritesStayInsideLen(t *testing.T) {
	// A segment ending exactly at len(ram) loads; its bss must not spill
	// into the capacity beyond.
	e := sample64()
	e.segs[1].paddr = 4<<20 - 0x3000
	buf := bytes.Repeat([]byte{0xcc}, 4<<20+4096)
	if _, err := Load(e.bytes(), buf[:4<<20]); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !allBytes(buf[4<<20:], 0xcc) {
		t.Fatalf("Load wrote past len(ram)")
	}
}

// Loading needs only the program headers: a section header table that
// points nowhere does not stop an image from booting.
func TestELFIgnoresSectionHeaders(t *testing.T) {
	e := sample64()
	b := e.bytes()
	binary.LittleEndian.PutUint64(b[40:], 0xdeadbeef00) // e_shoff
	binary.LittleEndian.PutUint16(b[58:], 64)           // e_shentsize
	binary.LittleEndian.PutUint16(b[60:], 7)            // e_shnum
	binary.LittleEndian.PutUint16(b[62:], 9)            // e_shstrndx
	if _, err := Load(b, make([]byte, 4<<20)); err != nil {
		t.Fatalf("Load: %v", err)
	}
}
