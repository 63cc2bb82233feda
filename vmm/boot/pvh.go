package boot

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// The PVH boot protocol (Xen's HVM direct boot, which QEMU, Firecracker
// and cloud-hypervisor also speak): a kernel advertises a 32-bit entry in
// an ELF note; the loader starts it there in flat protected mode, paging
// off, with EBX holding a struct hvm_start_info
// (xen/include/public/arch-x86/hvm/start_info.h) that points at the
// command line, the modules (the initrd) and the memory map.
const (
	xenElfnotePhys32Entry = 18 // XEN_ELFNOTE_PHYS32_ENTRY
	hvmStartMagic         = 0x336ec578
	hvmStartVersion       = 1 // with the memory map
	hvmStartInfoLen       = 56
	hvmModlistEntryLen    = 32
	hvmMemmapEntryLen     = 24
	// pvhCmdlineLimit is x86 Linux's COMMAND_LINE_SIZE less the NUL: PVH
	// has no header to say it, and Linux cuts a longer line short.
	pvhCmdlineLimit = 2047
)

// kernelNotes is what the ELF notes say about a kernel.
type kernelNotes struct {
	hasPVH   bool
	pvhEntry uint64
	linux    bool // a note owned by "Linux" (every vmlinux since 4.17 has its build salt) or "Xen"
}

// readKernelNotes walks the PT_NOTE segments. It is lenient, as loading
// never needed notes before: a note segment outside the file or a note
// that runs past its segment ends the walk of that segment. A truncated
// vmlinux is refused anyway, by its PT_LOAD segments.
func readKernelNotes(image []byte, progs []elf.ProgHeader) (kernelNotes, error) {
	var k kernelNotes
	le := binary.LittleEndian
	for _, p := range progs {
		if p.Type != elf.PT_NOTE || p.Off > uint64(len(image)) || p.Filesz > uint64(len(image))-p.Off {
			continue
		}
		b := image[p.Off : p.Off+p.Filesz]
		for len(b) >= 12 {
			namesz, descsz, typ := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint32(b[8:])
			nameEnd := 12 + alignUp(namesz, 4)
			descEnd := nameEnd + alignUp(descsz, 4)
			if namesz > uint64(len(b)) || descsz > uint64(len(b)) || descEnd > uint64(len(b)) {
				break
			}
			name := string(b[12 : 12+namesz])
			if namesz > 0 && name[namesz-1] == 0 {
				name = name[:namesz-1]
			}
			desc := b[nameEnd : nameEnd+descsz]
			if name == "Linux" || name == "Xen" {
				k.linux = true
			}
			if name == "Xen" && typ == xenElfnotePhys32Entry {
				switch len(desc) {
				case 4:
					k.pvhEntry = uint64(le.Uint32(desc))
				case 8:
					k.pvhEntry = le.Uint64(desc)
				default:
					return k, fmt.Errorf("corrupt PVH entry note: a %d-byte address, want 4 or 8", len(desc))
				}
				k.hasPVH = true
			}
			b = b[descEnd:]
		}
	}
	return k, nil
}

// loadPVH loads a vmlinux by its segments and prepares its PVH entry.
// Every check runs before the first write.
func loadPVH(image, ram []byte, progs []elf.ProgHeader, entry uint64, opts Options) (*Image, error) {
	lowRAM := uint64(len(ram))
	if err := checkMemoryMap(lowRAM, opts); err != nil {
		return nil, err
	}
	// The kernel's own end, for the size message and the initrd's floor.
	kernelStart, kernelEnd := uint64(1<<64-1), uint64(0)
	for _, p := range progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		end := p.Paddr + p.Memsz
		if end < p.Paddr {
			end = 1<<64 - 1
		}
		kernelStart, kernelEnd = min(kernelStart, p.Paddr), max(kernelEnd, end)
	}
	if kernelEnd > lowRAM && kernelEnd <= maxRAM {
		return nil, fmt.Errorf("Linux kernel needs %s of RAM (its segments end at %#x), the guest has %s: use --mem %dM or more",
			sizeString(alignUp(kernelEnd, 1<<20)), kernelEnd, sizeString(lowRAM), roundMiB(kernelEnd+uint64(len(opts.Initrd)), 64))
	}
	for _, r := range linuxReserved {
		if lowRAM < r.end {
			return nil, fmt.Errorf("guest RAM of %s is too small for the loader's %s at [%#x-%#x)", sizeString(lowRAM), r.what, r.start, r.end)
		}
	}
	loads, err := loadSegments(image, progs, lowRAM, linuxReserved)
	if err != nil {
		return nil, err
	}
	if entry > 0xffffffff {
		return nil, fmt.Errorf("PVH entry point %#x is above 4 GiB: the 32-bit entry cannot reach it", entry)
	}
	if err := checkEntry(entry, loads); err != nil {
		return nil, fmt.Errorf("PVH %w", err)
	}
	cmdline := opts.cmdline()
	if err := checkCmdline(cmdline, pvhCmdlineLimit, "COMMAND_LINE_SIZE"); err != nil {
		return nil, err
	}
	initrd, err := placeInitrd(opts.Initrd, alignUp(kernelEnd, pageSize), lowRAM)
	if err != nil {
		return nil, err
	}
	acpi, err := opts.acpiTables()
	if err != nil {
		return nil, err
	}
	e820 := memoryMap(lowRAM, opts, uint64(len(acpi)))

	// Checks done: write.
	copySegments(ram, image, loads)
	writeCmdline(ram, cmdline)
	copy(ram[initrd.addr:], opts.Initrd)
	rsdp := writeACPI(ram, acpi)
	writeStartInfo(ram, initrd, rsdp, e820)

	e := setupProtMode(ram, entry, elfSelectors)
	e.RBX = pvhInfoAddr
	e.NoLocalAPIC = !opts.APIC
	return &Image{
		Format: PVH,
		Entry:  e,
		Linux: &Linux{
			Protocol:    "PVH",
			KernelStart: kernelStart,
			KernelEnd:   kernelEnd,
			Cmdline:     cmdline,
			CmdlineAddr: cmdlineAddr,
			InitrdAddr:  initrd.addr,
			InitrdSize:  initrd.size,
			E820:        e820,
			RSDP:        rsdp,
		},
	}, nil
}

// writeStartInfo writes struct hvm_start_info, the module list (the
// initrd, when there is one) and the memory map at pvhInfoAddr.
func writeStartInfo(ram []byte, initrd placed, rsdp uint64, e820 []E820Entry) {
	le := binary.LittleEndian
	info := ram[pvhInfoAddr:pvhInfoEnd]
	clear(info)
	le.PutUint32(info[0:], hvmStartMagic)
	le.PutUint32(info[4:], hvmStartVersion)
	if initrd.size > 0 {
		le.PutUint32(info[12:], 1) // nr_modules
		le.PutUint64(info[16:], pvhModlistAddr)
		mod := ram[pvhModlistAddr:]
		le.PutUint64(mod[0:], initrd.addr)
		le.PutUint64(mod[8:], initrd.size)
	}
	le.PutUint64(info[24:], cmdlineAddr)
	le.PutUint64(info[32:], rsdp)
	le.PutUint64(info[40:], pvhMemmapAddr)
	le.PutUint32(info[48:], uint32(len(e820)))
	for i, e := range e820 {
		b := ram[pvhMemmapAddr+i*hvmMemmapEntryLen:]
		le.PutUint64(b[0:], e.Addr)
		le.PutUint64(b[8:], e.Size)
		le.PutUint32(b[16:], e.Type)
	}
}
