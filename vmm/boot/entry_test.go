package boot

import (
	"encoding/binary"
	"testing"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// resetState is what KVM reports for a freshly created vCPU 0 (the values
// that matter here; see kvm_vcpu_reset and the SDM's "processor state after
// reset").
func resetState() (kvm.Regs, kvm.Sregs) {
	seg := func(sel uint16, typ uint8) kvm.Segment {
		return kvm.Segment{Base: uint64(sel) << 4, Limit: 0xffff, Selector: sel, Type: typ, Present: 1, S: 1}
	}
	regs := kvm.Regs{RIP: 0xfff0, RFLAGS: 0x2, RDX: 0x600}
	sregs := kvm.Sregs{
		CS: kvm.Segment{Base: 0xffff0000, Limit: 0xffff, Selector: 0xf000, Type: 11, Present: 1, S: 1},
		DS: seg(0, 3), ES: seg(0, 3), FS: seg(0, 3), GS: seg(0, 3), SS: seg(0, 3),
		TR:       kvm.Segment{Limit: 0xffff, Type: 11, Present: 1},
		LDT:      kvm.Segment{Limit: 0xffff, Type: 2, Present: 1},
		GDT:      kvm.DTable{Limit: 0xffff},
		IDT:      kvm.DTable{Limit: 0xffff},
		CR0:      0x60000010,
		APICBase: 0xfee00900,
	}
	return regs, sregs
}

// loadAndSetup loads e into 4 MiB of RAM and applies its entry to the
// reset state.
func loadAndSetup(t *testing.T, e testELF) ([]byte, *Image, kvm.Regs, kvm.Sregs) {
	t.Helper()
	ram := make([]byte, 4<<20)
	img, err := Load(e.bytes(), ram)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	regs, sregs := resetState()
	img.Entry.Setup(&regs, &sregs)
	return ram, img, regs, sregs
}

// decodeDescriptor is the CPU's reading of the GDT entry for sel: what a
// guest gets when it reloads a segment register. hi is the next eight bytes,
// used for a system descriptor in long mode.
func decodeDescriptor(t *testing.T, ram []byte, gdt kvm.DTable, sel uint16, long bool) kvm.Segment {
	t.Helper()
	idx := uint64(sel &^ 7)
	size := uint64(8)
	d := binary.LittleEndian.Uint64(ram[gdt.Base+idx:])
	system := d>>44&1 == 0
	if long && system {
		size = 16
	}
	if idx+size-1 > uint64(gdt.Limit) {
		t.Fatalf("selector %#x: descriptor [%#x+%d) beyond GDT limit %#x", sel, idx, size, gdt.Limit)
	}
	s := kvm.Segment{
		Selector: sel,
		Base:     d>>16&0xffffff | (d>>56&0xff)<<24,
		Limit:    uint32(d&0xffff | (d>>48&0xf)<<16),
		Type:     uint8(d >> 40 & 0xf),
		S:        uint8(d >> 44 & 1),
		DPL:      uint8(d >> 45 & 3),
		Present:  uint8(d >> 47 & 1),
		AVL:      uint8(d >> 52 & 1),
		L:        uint8(d >> 53 & 1),
		DB:       uint8(d >> 54 & 1),
		G:        uint8(d >> 55 & 1),
	}
	if s.G == 1 {
		s.Limit = s.Limit<<12 | 0xfff
	}
	if long && system {
		s.Base |= binary.LittleEndian.Uint64(ram[gdt.Base+idx+8:]) << 32
	}
	return s
}

// checkGDTMatchesSregs: every segment register's hidden state must be what
// reloading its selector from the guest's GDT would give.
func checkGDTMatchesSregs(t *testing.T, ram []byte, sregs kvm.Sregs, long bool) {
	t.Helper()
	for _, r := range []struct {
		name string
		seg  kvm.Segment
	}{
		{"CS", sregs.CS}, {"DS", sregs.DS}, {"ES", sregs.ES}, {"FS", sregs.FS},
		{"GS", sregs.GS}, {"SS", sregs.SS}, {"TR", sregs.TR},
	} {
		got := decodeDescriptor(t, ram, sregs.GDT, r.seg.Selector, long)
		if got != r.seg {
			t.Errorf("%s: GDT descriptor decodes to %+v, sregs has %+v", r.name, got, r.seg)
		}
	}
}

// checkSegmentRules applies the guest-state checks that VMX and SVM make
// on entry and that a wrong field would fail (SDM 27.3.1.2, APM 15.5.1).
func checkSegmentRules(t *testing.T, sregs kvm.Sregs) {
	t.Helper()
	long := sregs.EFER&kvm.EFER_LMA != 0
	granular := func(name string, s kvm.Segment) {
		if s.G == 0 && s.Limit > 0xfffff || s.G == 1 && s.Limit&0xfff != 0xfff {
			t.Errorf("%s: limit %#x inconsistent with G=%d", name, s.Limit, s.G)
		}
	}
	cs := sregs.CS
	if cs.Type&0x9 != 0x9 || cs.S != 1 || cs.Present != 1 || cs.DPL != 0 || cs.Selector&3 != 0 {
		t.Errorf("CS %+v is not a present, accessed ring-0 code segment", cs)
	}
	if long && (cs.L != 1 || cs.DB != 0) {
		t.Errorf("CS L=%d D=%d in long mode, want L=1 D=0", cs.L, cs.DB)
	}
	if !long && cs.L != 0 {
		t.Errorf("CS L=1 outside long mode")
	}
	granular("CS", cs)
	for _, r := range []struct {
		name string
		seg  kvm.Segment
	}{{"DS", sregs.DS}, {"ES", sregs.ES}, {"FS", sregs.FS}, {"GS", sregs.GS}, {"SS", sregs.SS}} {
		s := r.seg
		if s.Type&0x1 == 0 || s.Type&0x8 != 0 || s.S != 1 || s.Present != 1 || s.Unusable != 0 {
			t.Errorf("%s %+v is not a present, accessed data segment", r.name, s)
		}
		granular(r.name, s)
	}
	if sregs.SS.Type&0x2 == 0 || uint16(sregs.SS.DPL) != cs.Selector&3 {
		t.Errorf("SS %+v is not writable at CS's privilege", sregs.SS)
	}
	tr := sregs.TR
	if tr.Type != 11 || tr.S != 0 || tr.Present != 1 || tr.Selector&4 != 0 || tr.Unusable != 0 {
		t.Errorf("TR %+v is not a present busy TSS in the GDT", tr)
	}
	granular("TR", tr)
	if sregs.LDT.Unusable != 1 {
		t.Errorf("LDTR %+v is usable", sregs.LDT)
	}
}

func TestLongModeEntry(t *testing.T) {
	ram, img, regs, sregs := loadAndSetup(t, sample64())

	want := kvm.Regs{RIP: 0x100000, RFLAGS: 0x2}
	if regs != want {
		t.Errorf("regs %+v, want %+v", regs, want)
	}
	if sregs.CR0 != kvm.CR0_PE|kvm.CR0_MP|kvm.CR0_ET|kvm.CR0_NE|kvm.CR0_WP|kvm.CR0_PG {
		t.Errorf("CR0 %#x", sregs.CR0)
	}
	if sregs.CR4 != kvm.CR4_PAE || sregs.CR3 != pml4Addr || sregs.CR2 != 0 {
		t.Errorf("CR2 %#x CR3 %#x CR4 %#x", sregs.CR2, sregs.CR3, sregs.CR4)
	}
	if sregs.EFER&(kvm.EFER_LME|kvm.EFER_LMA) != kvm.EFER_LME|kvm.EFER_LMA {
		t.Errorf("EFER %#x lacks LME|LMA", sregs.EFER)
	}
	if sregs.CS.Selector != 0x8 || sregs.DS.Selector != 0x10 || sregs.SS.Selector != 0x10 {
		t.Errorf("selectors CS %#x DS %#x SS %#x, want 0x8 0x10 0x10", sregs.CS.Selector, sregs.DS.Selector, sregs.SS.Selector)
	}
	if sregs.IDT.Limit != 0 || sregs.APICBase != 0xfee00900 {
		t.Errorf("IDT %+v APIC base %#x: IDT should be empty and the APIC base KVM's", sregs.IDT, sregs.APICBase)
	}
	if sregs.GDT.Base != gdtAddr {
		t.Errorf("GDT at %#x, want %#x", sregs.GDT.Base, gdtAddr)
	}
	checkSegmentRules(t, sregs)
	checkGDTMatchesSregs(t, ram, sregs, true)
	if img.Entry.CR3 != sregs.CR3 {
		t.Errorf("Entry.CR3 %#x, sregs CR3 %#x", img.Entry.CR3, sregs.CR3)
	}
}

func TestProtectedModeEntry(t *testing.T) {
	ram, _, regs, sregs := loadAndSetup(t, sample32())

	want := kvm.Regs{RIP: 0x100000, RFLAGS: 0x2}
	if regs != want {
		t.Errorf("regs %+v, want %+v", regs, want)
	}
	if sregs.CR0&(kvm.CR0_PE|kvm.CR0_ET) != kvm.CR0_PE|kvm.CR0_ET || sregs.CR0&kvm.CR0_PG != 0 {
		t.Errorf("CR0 %#x, want PE|ET and no PG", sregs.CR0)
	}
	if sregs.CR0&(1<<29|1<<30) != 0 {
		t.Errorf("CR0 %#x keeps the reset state's CD/NW", sregs.CR0)
	}
	if sregs.EFER&(kvm.EFER_LME|kvm.EFER_LMA) != 0 || sregs.CR4 != 0 || sregs.CR3 != 0 {
		t.Errorf("EFER %#x CR3 %#x CR4 %#x, want 0", sregs.EFER, sregs.CR3, sregs.CR4)
	}
	if sregs.CS.DB != 1 || sregs.CS.G != 1 || sregs.CS.Limit != 0xffffffff || sregs.CS.Base != 0 || sregs.CS.Type != 11 {
		t.Errorf("CS %+v is not flat 32-bit code", sregs.CS)
	}
	checkSegmentRules(t, sregs)
	checkGDTMatchesSregs(t, ram, sregs, false)
}

func TestResetEntryLeavesRegisters(t *testing.T) {
	img, err := Load(pattern(64<<10), make([]byte, 1<<20))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	regs, sregs := resetState()
	wantRegs, wantSregs := regs, sregs
	img.Entry.Setup(&regs, &sregs)
	if regs != wantRegs || sregs != wantSregs {
		t.Fatalf("Setup changed the reset state of a Reset entry")
	}
}

// translate walks 4-level page tables as the CPU does for 2 MiB pages,
// reporting the physical address and whether the mapping is present and
// writable all the way down.
func translate(t *testing.T, ram []byte, cr3, va uint64) (pa uint64, ok bool) {
	t.Helper()
	entry := func(table, index uint64) uint64 {
		if table+index*8+8 > uint64(len(ram)) {
			t.Fatalf("page table at %#x is outside RAM", table)
		}
		return binary.LittleEndian.Uint64(ram[table+index*8:])
	}
	const addrMask = 0x000ffffffffff000
	pml4e := entry(cr3&addrMask, va>>39&511)
	if pml4e&3 != 3 {
		return 0, false
	}
	pdpte := entry(pml4e&addrMask, va>>30&511)
	if pdpte&3 != 3 {
		return 0, false
	}
	if pdpte&ptePageSize != 0 {
		t.Fatalf("unexpected 1 GiB page for %#x", va)
	}
	pde := entry(pdpte&addrMask, va>>21&511)
	if pde&3 != 3 || pde&ptePageSize == 0 {
		return 0, false
	}
	return pde&0x000fffffffe00000 | va&(1<<21-1), true
}

func TestPageTablesIdentityMapFourGiB(t *testing.T) {
	ram, _, _, sregs := loadAndSetup(t, sample64())
	for _, va := range []uint64{0, 0x500, 0x9000, 0x100000, 0x1234567, 0x3fffffff, 0x40000000, 0xbfffffff, 0xfec00000, 0xfee00000, 0xfffffff0, 0xffffffff} {
		pa, ok := translate(t, ram, sregs.CR3, va)
		if !ok || pa != va {
			t.Errorf("va %#x -> pa %#x (mapped %v), want identity", va, pa, ok)
		}
	}
	for _, va := range []uint64{1 << 32, 1 << 39} {
		if pa, ok := translate(t, ram, sregs.CR3, va); ok {
			t.Errorf("va %#x is mapped to %#x, want unmapped above 4 GiB", va, pa)
		}
	}
}
