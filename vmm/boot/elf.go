package boot

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
)

// span is a named range [start, end) of guest-physical memory.
type span struct {
	start, end uint64
	what       string
}

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

// Only the ELF header and program headers are read, decoded into
// debug/elf's types. elf.NewFile is not used because it also insists on a
// well-formed section header table, which loading never needs (neither do
// Linux's binfmt_elf or QEMU's loader): a stripped or hand-made image with
// odd section headers still boots, and every refusal has a message of ours.

// loadELF loads a static ELF64 or ELF32 executable by its PT_LOAD segments
// (at their physical addresses) and prepares its entry state. Every check
// runs before the first write, so a refused image leaves ram untouched.
func loadELF(image, ram []byte) (*Image, error) {
	h, err := readELFHeader(image)
	if err != nil {
		return nil, err
	}
	progs := readProgs(image, h)

	format, reserved := ELF64, longModeReserved
	if h.class == elf.ELFCLASS32 {
		format, reserved = ELF32, protModeReserved
	}
	ramSize := uint64(len(ram))
	for _, r := range reserved {
		if ramSize < r.end {
			return nil, fmt.Errorf("guest RAM of %s is too small for the loader's %s at [%#x-%#x)",
				sizeString(ramSize), r.what, r.start, r.end)
		}
	}

	var loads []elf.ProgHeader
	for i, p := range progs {
		switch p.Type {
		case elf.PT_INTERP, elf.PT_DYNAMIC:
			return nil, fmt.Errorf("dynamically linked ELF (%v in program header %d): link it static", p.Type, i)
		case elf.PT_LOAD:
			if err := checkSegment(i, p, uint64(len(image)), ramSize, reserved); err != nil {
				return nil, err
			}
			if p.Memsz > 0 {
				loads = append(loads, p)
			}
		}
	}
	if len(loads) == 0 {
		return nil, fmt.Errorf("ELF has no PT_LOAD segment with contents: nothing to load")
	}
	if err := checkEntry(h.entry, loads); err != nil {
		return nil, err
	}

	for _, p := range loads {
		copy(ram[p.Paddr:p.Paddr+p.Filesz], image[p.Off:p.Off+p.Filesz])
		clear(ram[p.Paddr+p.Filesz : p.Paddr+p.Memsz])
	}
	var entry Entry
	if format == ELF64 {
		entry = setupLongMode(ram, h.entry)
	} else {
		entry = setupProtMode(ram, h.entry)
	}
	return &Image{Format: format, Entry: entry}, nil
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

// checkSegment refuses a PT_LOAD segment that cannot be copied as it is:
// more file data than memory, data past the end of the file, memory outside
// guest RAM, or memory the loader itself writes. Every sum is checked for
// wrapping before it is compared.
func checkSegment(i int, p elf.ProgHeader, fileSize, ramSize uint64, reserved []span) error {
	if p.Filesz > p.Memsz {
		return fmt.Errorf("segment %d: file size %#x is larger than memory size %#x", i, p.Filesz, p.Memsz)
	}
	if p.Off > fileSize || p.Filesz > fileSize-p.Off {
		return fmt.Errorf("truncated file: segment %d wants %#x bytes at offset %#x of a %d-byte file",
			i, p.Filesz, p.Off, fileSize)
	}
	if p.Memsz == 0 {
		return nil
	}
	end := p.Paddr + p.Memsz
	if end < p.Paddr {
		return fmt.Errorf("segment %d at %#x with memory size %#x lies outside guest RAM (%s)",
			i, p.Paddr, p.Memsz, sizeString(ramSize))
	}
	if end > ramSize {
		return fmt.Errorf("segment %d [%#x-%#x) lies outside guest RAM (%s)", i, p.Paddr, end, sizeString(ramSize))
	}
	for _, r := range reserved {
		if p.Paddr < r.end && r.start < end {
			return fmt.Errorf("segment %d [%#x-%#x) overlaps the loader's %s at [%#x-%#x): link the image elsewhere",
				i, p.Paddr, end, r.what, r.start, r.end)
		}
	}
	return nil
}

// checkEntry insists that the entry point is inside the file-backed part of
// an executable segment, at its physical address: the vCPU starts with
// paging off or identity-mapped, so a virtual entry point of an image
// linked elsewhere would run whatever happens to be there.
func checkEntry(entry uint64, loads []elf.ProgHeader) error {
	for _, p := range loads {
		if p.Flags&elf.PF_X != 0 && entry >= p.Paddr && entry-p.Paddr < p.Filesz {
			return nil
		}
	}
	for _, p := range loads {
		if p.Flags&elf.PF_X != 0 && p.Vaddr != p.Paddr && entry >= p.Vaddr && entry-p.Vaddr < p.Filesz {
			return fmt.Errorf("entry point %#x is a virtual address (segment at %#x is loaded at physical %#x) "+
				"and the vCPU starts with memory mapped 1:1: link the entry at its physical address", entry, p.Vaddr, p.Paddr)
		}
	}
	return fmt.Errorf("entry point %#x lies outside any loaded executable segment", entry)
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
