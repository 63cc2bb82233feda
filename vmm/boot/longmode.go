package boot

import (
	"encoding/binary"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// The long-mode page tables: one PML4, one PDPT and four page directories
// of 2 MiB pages, identity-mapping the first 4 GiB (RAM, the PCI hole and
// the firmware and APIC windows alike).
const (
	pml4Addr      = 0x9000
	pdptAddr      = 0xa000
	pdAddr        = 0xb000 // pdAddr + i*4096 maps GiB i
	pageTablesEnd = pdAddr + 4*pageSize

	ptePresent  = 1 << 0
	pteWritable = 1 << 1
	ptePageSize = 1 << 7 // in a PD entry: a 2 MiB page
)

// longModeReserved is the low RAM the long-mode loader writes.
var longModeReserved = []span{
	{gdtAddr, gdtReservedTo, "GDT and TSS"},
	{pml4Addr, pageTablesEnd, "page tables"},
}

// writePageTables builds the identity map. Paging is required in long mode,
// and 1:1 is what lets a static image linked at its load address run
// unchanged; 4 GiB rather than just RAM so that MMIO below 4 GiB works too.
func writePageTables(ram []byte) {
	clear(ram[pml4Addr:pageTablesEnd])
	binary.LittleEndian.PutUint64(ram[pml4Addr:], pdptAddr|ptePresent|pteWritable)
	for gib := range uint64(4) {
		pd := pdAddr + gib*pageSize
		binary.LittleEndian.PutUint64(ram[pdptAddr+8*gib:], pd|ptePresent|pteWritable)
		for i := range uint64(512) {
			page := gib<<30 | i<<21
			binary.LittleEndian.PutUint64(ram[pd+8*i:], page|ptePresent|pteWritable|ptePageSize)
		}
	}
}

// code64 is the 64-bit code segment: L=1 and D=0, as long mode requires.
func code64(sel uint16) kvm.Segment {
	return kvm.Segment{
		Limit: flatLimit, Selector: sel, Type: typeCodeXR,
		Present: 1, S: 1, L: 1, G: 1,
	}
}

// setupLongMode writes the GDT, TSS and page tables into ram and returns
// the entry state for a 64-bit image entered at rip. The caller has checked
// that ram covers longModeReserved. sel chooses the GDT layout.
func setupLongMode(ram []byte, rip uint64, sel selectors) Entry {
	code, data, tr := code64(sel.code), flatData(sel.data), busyTSS(sel.tss)
	gdt := writeGDT(ram, code, data, tr, true)
	writePageTables(ram)
	return Entry{
		Mode: "long",
		RIP:  rip,
		CR0:  kvm.CR0_PE | kvm.CR0_MP | kvm.CR0_ET | kvm.CR0_NE | kvm.CR0_WP | kvm.CR0_PG,
		CR3:  pml4Addr,
		CR4:  kvm.CR4_PAE,
		EFER: kvm.EFER_LME | kvm.EFER_LMA,
		GDT:  gdt,
		CS:   code,
		Data: data,
		TR:   tr,
	}
}
