package boot

import (
	"encoding/binary"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Where the loader puts its GDT and TSS, and the selectors of the
// descriptors in it for ELF entries. The TSS is never used for a task
// switch; it exists because the CPU (and KVM/SVM's entry checks) want TR to
// name a present, busy TSS in protected and long mode.
const (
	gdtAddr = 0x500
	tssAddr = 0x600
	tssSize = 0x68 // the 64-bit TSS; the 32-bit one fits in it too

	codeSelector = 0x08
	dataSelector = 0x10
	tssSelector  = 0x18

	// The Linux boot protocol's entries want __BOOT_CS and __BOOT_DS
	// (Documentation/arch/x86/boot.rst); the TSS follows them.
	linuxCodeSelector = 0x10
	linuxDataSelector = 0x18
	linuxTSSSelector  = 0x20

	// Descriptor types: code execute/read and data read/write, both with
	// the accessed bit set so that loading them never makes the CPU write
	// to the GDT; and a busy TSS (32- or 64-bit, depending on the mode).
	typeCodeXR    = 0xb
	typeDataRW    = 0x3
	typeBusyTSS   = 0xb
	flatLimit     = 0xffffffff
	gdtReservedTo = tssAddr + tssSize
)

// selectors names the three descriptors of one GDT layout.
type selectors struct{ code, data, tss uint16 }

var (
	elfSelectors   = selectors{codeSelector, dataSelector, tssSelector}
	linuxSelectors = selectors{linuxCodeSelector, linuxDataSelector, linuxTSSSelector}
)

// flatData is the 4 GiB read/write data segment both entry modes use.
func flatData(sel uint16) kvm.Segment {
	return kvm.Segment{
		Limit: flatLimit, Selector: sel, Type: typeDataRW,
		Present: 1, DB: 1, S: 1, G: 1,
	}
}

// busyTSS is the task register for the TSS at tssAddr.
func busyTSS(sel uint16) kvm.Segment {
	return kvm.Segment{
		Base: tssAddr, Limit: tssSize - 1, Selector: sel,
		Type: typeBusyTSS, Present: 1,
	}
}

// writeGDT writes the code, data and TSS descriptors at gdtAddr, each at
// its segment's selector, the slots below them null, and clears the TSS,
// returning the GDTR that points at them. The TSS descriptor comes last. In
// long mode a system descriptor is 16 bytes, its second half holding base
// bits 63:32.
func writeGDT(ram []byte, code, data, tss kvm.Segment, long bool) kvm.DTable {
	limit := tss.Selector + 8 - 1
	if long {
		limit += 8
	}
	gdt := ram[gdtAddr : gdtAddr+uint64(limit)+1]
	clear(gdt)
	binary.LittleEndian.PutUint64(gdt[code.Selector:], descriptor(code))
	binary.LittleEndian.PutUint64(gdt[data.Selector:], descriptor(data))
	binary.LittleEndian.PutUint64(gdt[tss.Selector:], descriptor(tss))
	if long {
		binary.LittleEndian.PutUint64(gdt[tss.Selector+8:], tss.Base>>32)
	}
	clear(ram[tssAddr : tssAddr+tssSize])
	// I/O map base at the limit: no I/O permission bitmap.
	binary.LittleEndian.PutUint16(ram[tssAddr+0x66:], tssSize)
	return kvm.DTable{Base: gdtAddr, Limit: limit}
}

// descriptor encodes the low eight bytes of a segment descriptor from the
// same kvm.Segment that goes into Sregs, so that the GDT and the hidden
// segment state cannot disagree. With G set the limit is stored in 4 KiB
// units, as the CPU expands it.
func descriptor(s kvm.Segment) uint64 {
	limit := uint64(s.Limit)
	if s.G != 0 {
		limit >>= 12
	}
	access := uint64(s.Type&0xf) | uint64(s.S&1)<<4 | uint64(s.DPL&3)<<5 | uint64(s.Present&1)<<7
	flags := uint64(s.AVL&1) | uint64(s.L&1)<<1 | uint64(s.DB&1)<<2 | uint64(s.G&1)<<3
	return limit&0xffff |
		(s.Base&0xffffff)<<16 |
		access<<40 |
		(limit>>16&0xf)<<48 |
		flags<<52 |
		(s.Base>>24&0xff)<<56
}
