package boot

import (
	"debug/elf"
	"fmt"
)

// span is a named range [start, end) of guest-physical memory.
type span struct {
	start, end uint64
	what       string
}

// loadELF loads a static ELF64 or ELF32 executable by its PT_LOAD segments
// (at their physical addresses) and prepares its entry state. Every check
// runs before the first write, so a refused image leaves ram untouched.
//
// A Linux vmlinux with a PVH entry note is booted through it (pvh.go); one
// without is refused, since its ELF entry point expects the boot
// protocol's state, not a bare executable's.
//
// An ELF32 carrying a multiboot header is loaded as a multiboot kernel
// (multiboot.go).
func loadELF(image, ram []byte, opts Options) (*Image, error) {
	h, err := readELFHeader(image)
	if err != nil {
		return nil, err
	}
	progs := readProgs(image, h)
	notes, err := readKernelNotes(image, progs)
	if err != nil {
		return nil, err
	}
	switch {
	case notes.hasPVH:
		return loadPVH(image, ram, progs, notes.pvhEntry, opts)
	case notes.linux:
		return nil, fmt.Errorf("Linux vmlinux without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, from CONFIG_PVH=y): boot its bzImage instead")
	}

	if h.class == elf.ELFCLASS32 {
		if mb, ok := findMultiboot(image); ok {
			return loadMultiboot(image, ram, progs, h.entry, mb, opts)
		}
	}

	format, reserved := ELF64, longModeReserved
	if h.class == elf.ELFCLASS32 {
		format, reserved = ELF32, protModeReserved
	}
	if opts.linuxOnly() {
		return nil, errLinuxOnly(format)
	}
	ramSize := uint64(len(ram))
	for _, r := range reserved {
		if ramSize < r.end {
			return nil, fmt.Errorf("guest RAM of %s is too small for the loader's %s at [%#x-%#x)",
				sizeString(ramSize), r.what, r.start, r.end)
		}
	}
	loads, err := loadSegments(image, progs, ramSize, reserved)
	if err != nil {
		return nil, err
	}
	if err := checkEntry(h.entry, loads); err != nil {
		return nil, err
	}

	copySegments(ram, image, loads)
	var entry Entry
	if format == ELF64 {
		entry = setupLongMode(ram, h.entry, elfSelectors)
	} else {
		entry = setupProtMode(ram, h.entry, elfSelectors)
	}
	return &Image{Format: format, Entry: entry}, nil
}

// loadSegments checks the program headers and returns the PT_LOAD
// segments with contents.
func loadSegments(image []byte, progs []elf.ProgHeader, ramSize uint64, reserved []span) ([]elf.ProgHeader, error) {
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
	return loads, nil
}

// copySegments copies checked segments into RAM and clears their bss.
func copySegments(ram, image []byte, loads []elf.ProgHeader) {
	for _, p := range loads {
		copy(ram[p.Paddr:p.Paddr+p.Filesz], image[p.Off:p.Off+p.Filesz])
		clear(ram[p.Paddr+p.Filesz : p.Paddr+p.Memsz])
	}
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
