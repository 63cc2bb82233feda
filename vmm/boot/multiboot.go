package boot

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Multiboot (version 1, https://www.gnu.org/software/grub/manual/multiboot/):
// a kernel says it wants to be loaded this way by a header in its first 8
// KiB; the loader enters it in flat 32-bit protected mode, paging off,
// with EAX = 0x2BADB002 and EBX pointing at the multiboot information
// structure: memory sizes, a memory map, the command line, the modules.
//
// kvm-unit-tests' x86 tests (x86/*.flat) are such kernels: ELF32 files
// that QEMU boots with -kernel through its multiboot option ROM. They take
// their arguments from the command line and their environment (NR_CPUS=,
// MEMSIZE=...) from module 1, which QEMU fills from -initrd.
const (
	multibootMagic       = 0x1badb002 // in the header
	multibootBootMagic   = 0x2badb002 // in EAX at entry
	multibootSearchLimit = 8192       // the header lies within the first 8 KiB ...
	multibootHeaderLen   = 12         // magic, flags, checksum
	// Header flags. Bits 0-15 are requirements a loader must meet or
	// refuse the image; bits 16-31 optional features.
	mbHeaderPageAlign = 1 << 0 // modules page-aligned: always done
	mbHeaderMemInfo   = 1 << 1 // mem_* and mmap_* wanted: always given
	mbHeaderVideoMode = 1 << 2 // a graphics mode: there is no display

	// Information flags: which fields of the structure are valid.
	mbInfoMem           = 1 << 0
	mbInfoCmdline       = 1 << 2
	mbInfoMods          = 1 << 3
	mbInfoMmap          = 1 << 6
	mbInfoLoaderName    = 1 << 9
	multibootInfoLen    = 88 // up to and with the VBE fields; the framebuffer fields are not given
	mbModuleLen         = 16
	mbMmapEntryLen      = 24 // a 4-byte size field, then 20 bytes: base, length, type
	multibootLoader     = "kvmscope"
	multibootCmdlineMax = pageSize - 1 // one page, with the NUL

	// Where the structures go, from the page after the kernel's end (see
	// placeMultiboot): the information structure, the memory map, the
	// module list and the strings in the first page, the command line in
	// the second, the initrd from the third.
	mbInfoOff       = 0x000
	mbMmapOff       = 0x100
	mbModsOff       = 0x400
	mbModCmdlineOff = 0x410
	mbLoaderNameOff = 0x480
	mbStubOff       = 0x800 // the entry stub (biosstate.go)
	mbCmdlineOff    = 0x1000
	mbAreaLen       = 0x2000
	mbMmapMax       = (mbModsOff - mbMmapOff) / mbMmapEntryLen
)

// multibootHeader is the header's place and flags.
type multibootHeader struct {
	off   int
	flags uint32
}

// findMultiboot looks for a multiboot header: the magic on a 4-byte
// boundary within the first 8 KiB, with a checksum that makes magic,
// flags and checksum sum to zero. A magic with a bad checksum is no header
// (a loader must not trust it).
func findMultiboot(image []byte) (multibootHeader, bool) {
	le := binary.LittleEndian
	end := min(len(image), multibootSearchLimit) - multibootHeaderLen
	for off := 0; off <= end; off += 4 {
		if le.Uint32(image[off:]) != multibootMagic {
			continue
		}
		flags, sum := le.Uint32(image[off+4:]), le.Uint32(image[off+8:])
		if multibootMagic+flags+sum == 0 {
			return multibootHeader{off: off, flags: flags}, true
		}
	}
	return multibootHeader{}, false
}

// checkFlags refuses what the header requires and kvmscope cannot give.
func (h multibootHeader) checkFlags() error {
	if h.flags&mbHeaderVideoMode != 0 {
		return fmt.Errorf("multiboot header at offset %#x asks for a video mode (flag bit 2): kvmscope has no display: %w", h.off, ErrNotSupported)
	}
	if unknown := h.flags & 0xfff8; unknown != 0 {
		return fmt.Errorf("multiboot header at offset %#x requires features %#x that multiboot 1 does not define", h.off, unknown)
	}
	return nil
}

// Multiboot says what the loader handed a multiboot kernel, for messages
// and tests.
type Multiboot struct {
	InfoAddr   uint64 // the information structure, in EBX
	Cmdline    string
	InitrdAddr uint64 // module 1; 0 without an initrd
	InitrdSize uint64
	MemLower   uint32 // KiB of RAM below 640 KiB
	MemUpper   uint32 // KiB of RAM from 1 MiB to the first hole
	Mmap       []E820Entry
	RSDP       uint64 // 0 when the machine has no ACPI tables
}

// loadMultiboot loads a multiboot ELF32 kernel by its program headers (as
// GRUB and QEMU do for an ELF; the header's address fields, flag bit 16,
// are for a.out kernels and are ignored when the image is an ELF), then
// writes the information structure after the kernel's end, what a BIOS
// leaves behind (biosstate.go: the vCPU starts in a stub that sets up the
// PICs and the PIT and jumps to the kernel) and, when the machine has
// APICs, ACPI tables with a PM timer. Every check runs before the first
// write.
func loadMultiboot(image, ram []byte, progs []elf.ProgHeader, entry uint64, mb multibootHeader, opts Options) (*Image, error) {
	if err := mb.checkFlags(); err != nil {
		return nil, err
	}
	lowRAM := uint64(len(ram))
	reserved := multibootReserved
	for _, r := range reserved {
		if lowRAM < r.end {
			return nil, fmt.Errorf("guest RAM of %s is too small for the loader's %s at [%#x-%#x)", sizeString(lowRAM), r.what, r.start, r.end)
		}
	}
	if err := checkMemoryMap(lowRAM, opts); err != nil {
		return nil, err
	}
	loads, err := loadSegments(image, progs, lowRAM, reserved)
	if err != nil {
		return nil, err
	}
	if err := checkEntry(entry, loads); err != nil {
		return nil, fmt.Errorf("multiboot %w", err)
	}
	cmdline := multibootCmdline(opts)
	if err := checkCmdline(cmdline, multibootCmdlineMax, "one page"); err != nil {
		return nil, err
	}
	kernelEnd := uint64(0)
	for _, p := range loads {
		kernelEnd = max(kernelEnd, p.Paddr+p.Memsz)
	}
	area := alignUp(kernelEnd, pageSize)
	initrdAddr := area + mbAreaLen
	need := initrdAddr + alignUp(uint64(len(opts.Initrd)), pageSize)
	if need > lowRAM {
		return nil, fmt.Errorf("multiboot kernel (ending at %#x), its information and initrd of %s need %s of RAM, the guest has %s: use a larger --mem",
			kernelEnd, sizeString(uint64(len(opts.Initrd))), sizeString(alignUp(need, 1<<20)), sizeString(lowRAM))
	}
	acpi, err := opts.acpiTablesPMTimer(true)
	if err != nil {
		return nil, err
	}
	mmap := multibootMemoryMap(lowRAM, opts, uint64(len(acpi)))
	if len(mmap) > mbMmapMax {
		return nil, fmt.Errorf("memory map of %d entries: the multiboot area holds %d", len(mmap), mbMmapMax)
	}

	// Checks done: write.
	copySegments(ram, image, loads)
	rsdp := writeACPI(ram, acpi)
	copy(ram[initrdAddr:], opts.Initrd)
	info := &Multiboot{
		InfoAddr: area + mbInfoOff,
		Cmdline:  cmdline,
		MemLower: biosAreaStart >> 10,
		MemUpper: uint32((lowRAM - kernelLoadAddr) >> 10),
		Mmap:     mmap,
		RSDP:     rsdp,
	}
	if len(opts.Initrd) > 0 {
		info.InitrdAddr, info.InitrdSize = initrdAddr, uint64(len(opts.Initrd))
	}
	writeMultibootInfo(ram[area:area+mbAreaLen], area, info)
	writeBIOSState(ram)
	stub := area + mbStubOff
	copy(ram[stub:], multibootStub(uint32(entry), uint32(info.InfoAddr)))

	e := setupProtMode(ram, stub, elfSelectors)
	e.RAX = multibootBootMagic
	e.RBX = info.InfoAddr
	e.NoLocalAPIC = !opts.APIC
	return &Image{Format: Multiboot1, Entry: e, Multiboot: info}, nil
}

// multibootReserved is the low memory a multiboot kernel may not load
// into: the real-mode vector table, the GDT and TSS, the ACPI tables
// and the real-mode interrupt handlers in the BIOS area (biosstate.go).
var multibootReserved = []span{
	{ivtAddr, ivtEnd, "real-mode interrupt vector table"},
	{gdtAddr, gdtReservedTo, "GDT and TSS"},
	{acpiAddr, acpiAddr + acpiMaxSize, "ACPI tables"},
	{biosStubAddr, biosStubEnd, "real-mode interrupt handlers"},
}

// multibootCmdline is what the kernel finds at the command-line pointer:
// the image's name, then --append's arguments, as GRUB and QEMU pass it
// ("kernel args"): kvm-unit-tests takes the first word as its program
// name and the rest as its arguments.
func multibootCmdline(opts Options) string {
	name := opts.ImageName
	if name == "" {
		name = "kernel"
	}
	if opts.Cmdline == "" {
		return name
	}
	return name + " " + opts.Cmdline
}

// multibootMemoryMap is the memory map of a multiboot machine: RAM below
// the EBDA, the BIOS area reserved (with the ACPI tables in it), RAM from
// 1 MiB to the PCI hole, the machine's reserved ranges and RAM above 4 GiB.
// The multiboot structures and the loader's GDT lie in RAM the kernel may
// reuse once it has read them, as under GRUB.
func multibootMemoryMap(lowRAM uint64, opts Options, acpiSize uint64) []E820Entry {
	return appendMemoryFromBIOSArea([]E820Entry{{0, biosAreaStart, E820RAM}}, lowRAM, opts, acpiSize)
}

// writeMultibootInfo fills the multiboot area (two pages at guest address
// base) from info.
func writeMultibootInfo(area []byte, base uint64, info *Multiboot) {
	le := binary.LittleEndian
	clear(area)
	mbi := area[mbInfoOff:]
	flags := uint32(mbInfoMem | mbInfoCmdline | mbInfoMods | mbInfoMmap | mbInfoLoaderName)
	le.PutUint32(mbi[0:], flags)
	le.PutUint32(mbi[4:], info.MemLower)
	le.PutUint32(mbi[8:], info.MemUpper)
	le.PutUint32(mbi[16:], uint32(base+mbCmdlineOff))
	copy(area[mbCmdlineOff:], info.Cmdline)
	if info.InitrdSize > 0 {
		le.PutUint32(mbi[20:], 1) // mods_count
		mod := area[mbModsOff:]
		le.PutUint32(mod[0:], uint32(info.InitrdAddr))
		le.PutUint32(mod[4:], uint32(info.InitrdAddr+info.InitrdSize))
		le.PutUint32(mod[8:], uint32(base+mbModCmdlineOff))
		copy(area[mbModCmdlineOff:], "initrd")
	}
	le.PutUint32(mbi[24:], uint32(base+mbModsOff))
	le.PutUint32(mbi[44:], uint32(len(info.Mmap)*mbMmapEntryLen))
	le.PutUint32(mbi[48:], uint32(base+mbMmapOff))
	for i, e := range info.Mmap {
		b := area[mbMmapOff+i*mbMmapEntryLen:]
		le.PutUint32(b[0:], mbMmapEntryLen-4)
		le.PutUint64(b[4:], e.Addr)
		le.PutUint64(b[12:], e.Size)
		le.PutUint32(b[20:], e.Type)
	}
	le.PutUint32(mbi[64:], uint32(base+mbLoaderNameOff))
	copy(area[mbLoaderNameOff:], multibootLoader)
}
