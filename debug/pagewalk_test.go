package debug

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// flatMem is guest-physical memory from 0 for tests.
type flatMem []byte

func (m flatMem) ReadPhys(gpa uint64, buf []byte) (int, error) {
	if gpa >= uint64(len(m)) {
		return 0, fmt.Errorf("%#x outside memory", gpa)
	}
	n := copy(buf, m[gpa:])
	if n < len(buf) {
		return n, fmt.Errorf("%#x+%d outside memory", gpa, len(buf))
	}
	return n, nil
}

func (m flatMem) put64(gpa, v uint64) { binary.LittleEndian.PutUint64(m[gpa:], v) }
func (m flatMem) put32(gpa, v uint64) { binary.LittleEndian.PutUint32(m[gpa:], uint32(v)) }

func TestTranslateLongMode(t *testing.T) {
	mem := make(flatMem, 1<<20)
	// PML4 at 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000.
	mem.put64(0x1000+511*8, 0x2000|3) // the top 512 GiB: kernel half
	mem.put64(0x2000+510*8, 0x3000|3)
	mem.put64(0x3000+0*8, 0x4000|3)
	mem.put64(0x4000+5*8, 0x7000|3)        // 4 KiB page
	mem.put64(0x3000+1*8, 0x400000|0x83)   // 2 MiB page
	mem.put64(0x2000+0*8, 0x40000000|0x83) // 1 GiB page at linear 0
	s := &kvm.Sregs{CR0: kvm.CR0_PE | kvm.CR0_PG, CR4: kvm.CR4_PAE, EFER: kvm.EFER_LME | kvm.EFER_LMA, CR3: 0x1000}
	mem.put64(0x1000, 0x2000|3)
	for _, c := range []struct{ lin, phys uint64 }{
		{0xffffffff80005123, 0x7123},
		{0xffffffff80200000 + 0x1234, 0x401234},
		{0x12345, 0x40012345},
	} {
		got, err := Translate(mem, s, c.lin)
		if err != nil || got != c.phys {
			t.Errorf("Translate(%#x) = %#x, %v; want %#x", c.lin, got, err, c.phys)
		}
	}
	if _, err := Translate(mem, s, 0xffffffff80006000); err == nil {
		t.Error("not-present page translated")
	}
}

func TestTranslate32AndPAE(t *testing.T) {
	mem := make(flatMem, 1<<20)
	mem.put32(0x1000+1*4, 0x2000|3)        // PDE for 4..8 MiB
	mem.put32(0x2000+3*4, 0x9000|3)        // PTE
	mem.put32(0x1000+2*4, 0x00c00000|0x83) // 4 MiB page
	s := &kvm.Sregs{CR0: kvm.CR0_PE | kvm.CR0_PG, CR4: kvm.CR4_PSE, CR3: 0x1000}
	if got, err := Translate(mem, s, 0x403abc); err != nil || got != 0x9abc {
		t.Errorf("32-bit 4K: %#x, %v", got, err)
	}
	if got, err := Translate(mem, s, 0x812345); err != nil || got != 0xc12345 {
		t.Errorf("32-bit 4M: %#x, %v", got, err)
	}
	pae := make(flatMem, 1<<20)
	pae.put64(0x1000+1*8, 0x2000|1) // PDPTE for 1..2 GiB
	pae.put64(0x2000+0*8, 0x3000|3) // PDE
	pae.put64(0x3000+7*8, 0x8000|3) // PTE
	ps := &kvm.Sregs{CR0: kvm.CR0_PE | kvm.CR0_PG, CR4: kvm.CR4_PAE, CR3: 0x1000}
	if got, err := Translate(pae, ps, 0x40007010); err != nil || got != 0x8010 {
		t.Errorf("PAE: %#x, %v", got, err)
	}
	off := &kvm.Sregs{CR0: kvm.CR0_PE}
	if got, _ := Translate(pae, off, 0x1234); got != 0x1234 {
		t.Errorf("paging off: %#x", got)
	}
}

// FuzzTranslate walks random page tables: it must never panic, and must
// only read inside memory (flatMem errors otherwise, never panics).
func FuzzTranslate(f *testing.F) {
	f.Add(make([]byte, 64), uint64(0x1000), uint64(0xffffffff80000000), uint8(0))
	f.Fuzz(func(t *testing.T, tables []byte, cr3, lin uint64, mode uint8) {
		mem := make(flatMem, 1<<16)
		copy(mem[0x1000:], tables)
		s := &kvm.Sregs{CR0: kvm.CR0_PE | kvm.CR0_PG, CR3: cr3}
		switch mode % 4 {
		case 1:
			s.CR4 = kvm.CR4_PSE
		case 2:
			s.CR4 = kvm.CR4_PAE
		case 3:
			s.CR4, s.EFER = kvm.CR4_PAE, kvm.EFER_LMA
		}
		Translate(mem, s, lin)
		var buf [64]byte
		ReadLinear(mem, s, lin, buf[:])
	})
}
