package boot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// DefaultCmdline is the kernel command line when none is given:
//
//   - console=ttyS0: the kernel's console on COM1, kvmscope's 8250 UART;
//   - panic=-1 reboot=k: a panic reboots at once, through the keyboard
//     controller's reset line, which ends kvmscope's run ("guest reset",
//     exit status 4) instead of leaving a dead guest running;
//   - pci=off: the machine has no PCI host bridge; probing one costs exits;
//   - nokaslr: the kernel runs at its link addresses, so that symbols from
//     its System.map or vmlinux match (kvmscope is a debugger first).
const DefaultCmdline = "console=ttyS0 panic=-1 reboot=k pci=off nokaslr"

// Options are a Linux or multiboot kernel's inputs. Other images take
// none: Load refuses a command line or an initrd for them.
type Options struct {
	// Cmdline is the kernel command line; "" means DefaultCmdline for
	// Linux and none for a multiboot kernel.
	Cmdline string
	// Initrd is the initial RAM disk (a cpio archive, possibly compressed),
	// or nil.
	Initrd []byte
	// CPUs is the number of vCPUs the ACPI tables describe (0 means 1).
	CPUs int
	// HighRAM is the RAM the machine has at 4 GiB and above, besides the
	// low RAM handed to Load, for the memory map.
	HighRAM uint64
	// APIC says the machine has an IOAPIC at 0xfec00000 and a local APIC
	// per vCPU at 0xfee00000. Then the loader writes ACPI tables (RSDP,
	// RSDT, XSDT, FADT, MADT, DSDT) describing them; without, it writes
	// none and the kernel finds the 8259 PIC alone.
	APIC bool
	// Reserved lists guest-physical ranges outside RAM that the machine
	// uses (such as KVM's TSS pages), reported as reserved in the memory map.
	Reserved []Range
	// ImageName is the image's file name, the first word of a multiboot
	// kernel's command line (GRUB and QEMU pass "kernel args"); "" is
	// "kernel".
	ImageName string
}

// Range is a named range of guest-physical memory.
type Range struct {
	GPA, Size uint64
	Name      string
}

// linuxOnly reports whether opts carry inputs only a Linux kernel takes.
func (o Options) linuxOnly() bool { return o.Cmdline != "" || o.Initrd != nil }

func (o Options) cmdline() string {
	if o.Cmdline == "" {
		return DefaultCmdline
	}
	return o.Cmdline
}

func (o Options) cpus() int { return max(o.CPUs, 1) }

// Linux says what the loader handed a Linux kernel, for messages and tests.
type Linux struct {
	Protocol    string // "boot protocol 2.15, 64-bit entry", "PVH"
	KernelStart uint64 // RAM the kernel occupies, with the room it decompresses into
	KernelEnd   uint64
	Cmdline     string
	CmdlineAddr uint64
	InitrdAddr  uint64 // 0 without an initrd
	InitrdSize  uint64
	E820        []E820Entry
	RSDP        uint64 // the ACPI root pointer, 0 when no tables were written
}

// Low memory the Linux loaders use, below 64 KiB (which Linux keeps for
// itself anyway) and in the BIOS area, beside the GDT and TSS at 0x500 and
// the long-mode page tables at 0x9000 (see doc.go):
const (
	pvhInfoAddr      = 0x1000 // hvm_start_info, then the module list and the memory map
	pvhModlistAddr   = pvhInfoAddr + 0x40
	pvhMemmapAddr    = pvhInfoAddr + 0x80
	pvhInfoEnd       = pvhInfoAddr + pageSize
	zeroPageAddr     = 0x7000 // boot_params
	cmdlineAddr      = 0xf000
	cmdlineMax       = 0x1000 // bytes, with the NUL
	lowTablesEnd     = cmdlineAddr + cmdlineMax
	biosAreaStart    = 0x9fc00 // EBDA and BIOS area up to 1 MiB: never RAM on a PC
	acpiAddr         = 0xe0000 // the ACPI tables; the RSDP first, where a scan finds it
	acpiMaxSize      = 0x10000
	kernelLoadAddr   = 0x100000 // the bzImage's protected-mode code, and the RAM Linux starts at
	zpACPIRSDPOff    = 0x070    // boot_params.acpi_rsdp_addr
	zpE820EntriesOff = 0x1e8    // boot_params.e820_entries
	zpE820TableOff   = 0x2d0    // boot_params.e820_table
	zpE820Max        = 128
	e820EntrySize    = 20
)

// Spans the Linux loaders write, checked against the RAM size and, for a
// PVH kernel, against its segments.
var (
	linuxReserved = []span{
		{gdtAddr, gdtReservedTo, "GDT and TSS"},
		{pvhInfoAddr, pvhInfoEnd, "PVH start info"},
		{zeroPageAddr, zeroPageAddr + pageSize, "zero page"},
		{cmdlineAddr, cmdlineAddr + cmdlineMax, "command line"},
		{acpiAddr, acpiAddr + acpiMaxSize, "ACPI tables"},
	}
	linuxReserved64 = append(append([]span(nil), linuxReserved...), span{pml4Addr, pageTablesEnd, "page tables"})
)

// checkCmdline refuses a command line the kernel would cut short or
// misread; limit is the longest it takes, without the NUL.
func checkCmdline(cmdline string, limit uint64, what string) error {
	if uint64(len(cmdline)) > limit {
		return fmt.Errorf("kernel command line of %d bytes is longer than the %d this kernel takes (%s)", len(cmdline), limit, what)
	}
	if i := strings.IndexByte(cmdline, 0); i >= 0 {
		return fmt.Errorf("kernel command line has a NUL byte at offset %d", i)
	}
	return nil
}

func writeCmdline(ram []byte, cmdline string) {
	buf := ram[cmdlineAddr : cmdlineAddr+cmdlineMax]
	clear(buf)
	copy(buf, cmdline)
}

// placed is where the initrd goes; size 0 means none.
type placed struct{ addr, size uint64 }

// placeInitrd puts the initrd as high as it can go below top, page-aligned,
// as the boot protocol recommends, and above the kernel's end. The initrd's
// format is checked first, so that a truncated file is refused here rather
// than found wanting by the kernel halfway through its boot.
func placeInitrd(initrd []byte, kernelEnd, top uint64) (placed, error) {
	if initrd == nil {
		return placed{}, nil
	}
	if err := checkInitrd(initrd); err != nil {
		return placed{}, err
	}
	size := uint64(len(initrd))
	top &^= pageSize - 1
	if size > top || (top-size)&^(pageSize-1) < kernelEnd {
		room := uint64(0)
		if top > kernelEnd {
			room = top - kernelEnd
		}
		return placed{}, fmt.Errorf("initrd of %s does not fit: the RAM between the kernel's end at %#x and %#x holds %s (use a larger --mem)",
			sizeString(size), kernelEnd, top, sizeString(room))
	}
	return placed{addr: (top - size) &^ (pageSize - 1), size: size}, nil
}

// E820 memory types.
const (
	E820RAM      = 1
	E820Reserved = 2
	E820ACPI     = 3 // ACPI tables, reclaimable once read
)

// E820Entry is one range of the memory map handed to Linux.
type E820Entry struct {
	Addr, Size uint64
	Type       uint32
}

// memoryMap describes the machine's memory: RAM from 0 to lowRAM with the
// loader's tables and the BIOS area (holding the ACPI tables, when there
// are any) carved out, RAM at 4 GiB and up, and the ranges the machine
// reserves elsewhere. The entries are sorted and do not overlap.
func memoryMap(lowRAM uint64, opts Options, acpiSize uint64) []E820Entry {
	low := []E820Entry{
		{0, gdtAddr, E820RAM},
		{gdtAddr, lowTablesEnd - gdtAddr, E820Reserved},
		{lowTablesEnd, biosAreaStart - lowTablesEnd, E820RAM},
	}
	return appendMemoryFromBIOSArea(low, lowRAM, opts, acpiSize)
}

// appendMemoryFromBIOSArea appends the map from the BIOS area up to m,
// which describes what lies below it: the BIOS area reserved (the ACPI
// tables in it, when there are any), RAM from the kernel's load address
// to lowRAM, the machine's reserved ranges, RAM at 4 GiB and up.
func appendMemoryFromBIOSArea(m []E820Entry, lowRAM uint64, opts Options, acpiSize uint64) []E820Entry {
	if acpiSize > 0 {
		end := alignUp(acpiAddr+acpiSize, pageSize)
		m = append(m,
			E820Entry{biosAreaStart, acpiAddr - biosAreaStart, E820Reserved},
			E820Entry{acpiAddr, end - acpiAddr, E820ACPI},
			E820Entry{end, kernelLoadAddr - end, E820Reserved})
	} else {
		m = append(m, E820Entry{biosAreaStart, kernelLoadAddr - biosAreaStart, E820Reserved})
	}
	m = append(m, E820Entry{kernelLoadAddr, lowRAM - kernelLoadAddr, E820RAM})
	for _, r := range opts.Reserved {
		m = append(m, E820Entry{r.GPA, r.Size, E820Reserved})
	}
	if opts.HighRAM > 0 {
		m = append(m, E820Entry{fourGiB, opts.HighRAM, E820RAM})
	}
	return m
}

// writeE820ZeroPage puts the memory map into boot_params.
func writeE820ZeroPage(zp []byte, m []E820Entry) {
	zp[zpE820EntriesOff] = byte(len(m))
	for i, e := range m {
		b := zp[zpE820TableOff+i*e820EntrySize:]
		binary.LittleEndian.PutUint64(b, e.Addr)
		binary.LittleEndian.PutUint64(b[8:], e.Size)
		binary.LittleEndian.PutUint32(b[16:], e.Type)
	}
}

// checkMemoryMap refuses options whose memory map would not fit the
// zero page or overlaps RAM.
func checkMemoryMap(lowRAM uint64, opts Options) error {
	if lowRAM < kernelLoadAddr {
		return fmt.Errorf("guest RAM of %s is less than the 1 MiB a Linux kernel needs below its load address", sizeString(lowRAM))
	}
	if len(opts.Reserved) > 16 {
		return fmt.Errorf("%d reserved ranges: at most 16", len(opts.Reserved))
	}
	for _, r := range opts.Reserved {
		if r.GPA < lowRAM || (r.GPA < fourGiB+opts.HighRAM && r.GPA+r.Size > fourGiB) || r.GPA+r.Size < r.GPA {
			return fmt.Errorf("reserved range %s [%#x+%#x) overlaps RAM", r.Name, r.GPA, r.Size)
		}
	}
	return nil
}

// checkXZ checks an xz stream's header and footer: the magic numbers, their
// CRC32s, and that both carry the same flags. The kernel build appends the
// uncompressed size (4 bytes) after the stream; the footer is found with or
// without it.
func checkXZ(p []byte) error {
	if len(p) < 24 {
		return fmt.Errorf("xz stream of %d bytes is too short", len(p))
	}
	le := binary.LittleEndian
	if crc32.ChecksumIEEE(p[6:8]) != le.Uint32(p[8:12]) {
		return errors.New("xz stream header CRC32 mismatch")
	}
	var foot []byte
	switch {
	case string(p[len(p)-2:]) == "YZ":
		foot = p[len(p)-12:]
	case string(p[len(p)-6:len(p)-4]) == "YZ":
		foot = p[len(p)-16 : len(p)-4]
	default:
		return errors.New("xz stream has no footer at its end (truncated?)")
	}
	if crc32.ChecksumIEEE(foot[4:10]) != le.Uint32(foot) || string(foot[8:10]) != string(p[6:8]) {
		return errors.New("xz stream footer is damaged (CRC32 or flags do not match the header)")
	}
	return nil
}
