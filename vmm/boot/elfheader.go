package boot

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
)

// Only the ELF header and program headers are read, decoded into
// debug/elf's types. elf.NewFile is not used because it also insists on a
// well-formed section header table, which loading never needs (neither do
// Linux's binfmt_elf or QEMU's loader): a stripped or hand-made image with
// odd section headers still boots, and every refusal has a message of ours.

// elfHeader is the part of the ELF header the loader needs, widened from
// either class.
type elfHeader struct {
	class     elf.Class
	typ       elf.Type
	machine   elf.Machine
	entry     uint64
	phoff     uint64
	phentsize uint64
	phnum     uint64
}

// readELFHeader decodes and checks the file header, so that each way a
// file can be wrong gets its own message rather than a generic format
// error. It checks that the program header table lies inside the file.
func readELFHeader(image []byte) (elfHeader, error) {
	if len(image) < elf.EI_NIDENT {
		return elfHeader{}, fmt.Errorf("truncated ELF header: %d bytes, shorter than the %d-byte identification",
			len(image), elf.EI_NIDENT)
	}
	var h elfHeader
	h.class = elf.Class(image[elf.EI_CLASS])
	if data := elf.Data(image[elf.EI_DATA]); data != elf.ELFDATA2LSB {
		return h, fmt.Errorf("ELF data encoding %s: want little-endian (ELFDATA2LSB)", elfName(data, fmt.Sprint(uint8(data))))
	}
	var phdrSize uint64
	switch h.class {
	case elf.ELFCLASS64:
		var eh elf.Header64
		if _, err := binary.Decode(image, binary.LittleEndian, &eh); err != nil {
			return h, fmt.Errorf("truncated ELF header: %d bytes, want %d for ELFCLASS64", len(image), binary.Size(eh))
		}
		h.typ, h.machine, h.entry = elf.Type(eh.Type), elf.Machine(eh.Machine), eh.Entry
		h.phoff, h.phentsize, h.phnum = eh.Phoff, uint64(eh.Phentsize), uint64(eh.Phnum)
		phdrSize = uint64(binary.Size(elf.Prog64{}))
	case elf.ELFCLASS32:
		var eh elf.Header32
		if _, err := binary.Decode(image, binary.LittleEndian, &eh); err != nil {
			return h, fmt.Errorf("truncated ELF header: %d bytes, want %d for ELFCLASS32", len(image), binary.Size(eh))
		}
		h.typ, h.machine, h.entry = elf.Type(eh.Type), elf.Machine(eh.Machine), uint64(eh.Entry)
		h.phoff, h.phentsize, h.phnum = uint64(eh.Phoff), uint64(eh.Phentsize), uint64(eh.Phnum)
		phdrSize = uint64(binary.Size(elf.Prog32{}))
	default:
		return h, fmt.Errorf("ELF class %s: want ELFCLASS64 or ELFCLASS32", elfName(h.class, fmt.Sprint(uint8(h.class))))
	}

	switch {
	case h.machine != elf.EM_X86_64 && h.machine != elf.EM_386:
		return h, fmt.Errorf("ELF for %s, want x86-64 or i386", elfName(h.machine, fmt.Sprint("machine ", uint16(h.machine))))
	case h.machine == elf.EM_X86_64 && h.class != elf.ELFCLASS64:
		return h, fmt.Errorf("%v ELF for %v (x32?): class and machine do not match, want ELFCLASS64", h.class, h.machine)
	case h.machine == elf.EM_386 && h.class != elf.ELFCLASS32:
		return h, fmt.Errorf("%v ELF for %v: class and machine do not match, want ELFCLASS32", h.class, h.machine)
	}

	switch h.typ {
	case elf.ET_EXEC:
	case elf.ET_DYN, elf.ET_REL:
		return h, fmt.Errorf("position-independent or relocatable ELF (%v): link it static at a fixed address", h.typ)
	default:
		return h, fmt.Errorf("ELF type %s is not an executable", elfName(h.typ, fmt.Sprint(uint16(h.typ))))
	}

	if h.phnum == 0 {
		return h, fmt.Errorf("ELF has no program headers, so no PT_LOAD segment")
	}
	if h.phentsize < phdrSize {
		return h, fmt.Errorf("ELF program header size %d is smaller than the %d bytes of an %v program header",
			h.phentsize, phdrSize, h.class)
	}
	// phnum and phentsize are 16-bit, so their product cannot overflow;
	// phoff can be anything.
	size, n := h.phnum*h.phentsize, uint64(len(image))
	if h.phoff > n || size > n-h.phoff {
		return h, fmt.Errorf("truncated program headers: %d headers of %d bytes at offset %#x, file has %d bytes",
			h.phnum, h.phentsize, h.phoff, n)
	}
	return h, nil
}

// elfName is debug/elf's name for a known value, or fallback for one it
// does not know (for which it would print "EM_ALPHA_STD+209").
func elfName(v fmt.Stringer, fallback string) string {
	if s := v.String(); !strings.Contains(s, "+") {
		return s
	}
	return fallback
}

// readProgs decodes the program headers that readELFHeader has checked to
// lie inside the file, widening ELF32 ones to elf.ProgHeader.
func readProgs(image []byte, h elfHeader) []elf.ProgHeader {
	progs := make([]elf.ProgHeader, h.phnum)
	// binary.Decode cannot fail below: each entry is at least phentsize
	// bytes, and phentsize at least the size of the struct.
	for i := range progs {
		ph := image[h.phoff+uint64(i)*h.phentsize:]
		if h.class == elf.ELFCLASS64 {
			var p elf.Prog64
			binary.Decode(ph, binary.LittleEndian, &p)
			progs[i] = elf.ProgHeader{
				Type: elf.ProgType(p.Type), Flags: elf.ProgFlag(p.Flags), Off: p.Off,
				Vaddr: p.Vaddr, Paddr: p.Paddr, Filesz: p.Filesz, Memsz: p.Memsz, Align: p.Align,
			}
			continue
		}
		var p elf.Prog32
		binary.Decode(ph, binary.LittleEndian, &p)
		progs[i] = elf.ProgHeader{
			Type: elf.ProgType(p.Type), Flags: elf.ProgFlag(p.Flags), Off: uint64(p.Off),
			Vaddr: uint64(p.Vaddr), Paddr: uint64(p.Paddr), Filesz: uint64(p.Filesz), Memsz: uint64(p.Memsz), Align: uint64(p.Align),
		}
	}
	return progs
}
