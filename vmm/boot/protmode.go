package boot

import "github.com/kvmscope/kvmscope/vmm/kvm"

// protModeReserved is the low RAM the protected-mode loader writes.
var protModeReserved = []span{
	{gdtAddr, gdtReservedTo, "GDT and TSS"},
}

// code32 is the flat 4 GiB 32-bit code segment.
func code32(sel uint16) kvm.Segment {
	return kvm.Segment{
		Limit: flatLimit, Selector: sel, Type: typeCodeXR,
		Present: 1, DB: 1, S: 1, G: 1,
	}
}

// setupProtMode writes the GDT and TSS into ram and returns the entry state
// for a 32-bit image entered at eip: flat segments, paging off, which is
// the state multiboot and most hand-written 32-bit kernels expect. The
// multiboot loader adds its magic and information pointer.
func setupProtMode(ram []byte, eip uint64, sel selectors) Entry {
	code, data, tr := code32(sel.code), flatData(sel.data), busyTSS(sel.tss)
	gdt := writeGDT(ram, code, data, tr, false)
	return Entry{
		Mode: "protected",
		RIP:  eip,
		CR0:  kvm.CR0_PE | kvm.CR0_ET | kvm.CR0_NE,
		GDT:  gdt,
		CS:   code,
		Data: data,
		TR:   tr,
	}
}
