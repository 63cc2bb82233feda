package debug

import (
	"encoding/binary"
	"fmt"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// PhysReader reads guest-physical memory.
type PhysReader interface {
	ReadPhys(gpa uint64, buf []byte) (int, error)
}

// Page-table entry bits.
const (
	ptePresent = 1 << 0
	pteLarge   = 1 << 7 // PS: a 4 MiB / 2 MiB / 1 GiB page at this level
)

// CR4 bits the walk needs beyond those in package kvm.
const cr4LA57 = 1 << 12

// Translate maps a linear address to a guest-physical one by walking the
// guest's page tables in guest memory, as the MMU would: no paging, 32-bit
// (with 4 MiB pages when CR4.PSE), PAE, and 4- or 5-level long mode. It
// reads only through mem, at most five table entries, and never loops.
func Translate(mem PhysReader, sregs *kvm.Sregs, linear uint64) (uint64, error) {
	if sregs.CR0&kvm.CR0_PG == 0 {
		return linear, nil
	}
	if sregs.CR4&kvm.CR4_PAE == 0 {
		return walk32(mem, sregs, linear&0xffffffff)
	}
	if sregs.EFER&kvm.EFER_LMA == 0 {
		return walkPAE(mem, sregs, linear&0xffffffff)
	}
	levels := 4
	if sregs.CR4&cr4LA57 != 0 {
		levels = 5
	}
	return walkLong(mem, sregs.CR3&^0xfff, linear, levels)
}

// addrMask keeps bits 12..51 of an entry: the next table or the frame.
const addrMask = 0x000ffffffffff000

func walk32(mem PhysReader, sregs *kvm.Sregs, linear uint64) (uint64, error) {
	pde, err := readEntry32(mem, sregs.CR3&0xfffff000+(linear>>22)*4)
	if err != nil {
		return 0, fmt.Errorf("linear %#x: page directory: %w", linear, err)
	}
	if pde&ptePresent == 0 {
		return 0, fmt.Errorf("linear %#x: page directory entry not present", linear)
	}
	if pde&pteLarge != 0 && sregs.CR4&kvm.CR4_PSE != 0 {
		// Bits 13..20 of a 4 MiB PDE are physical-address bits 32..39 (PSE-36).
		base := pde&0xffc00000 | (pde>>13&0xff)<<32
		return base | linear&0x3fffff, nil
	}
	pte, err := readEntry32(mem, pde&0xfffff000+(linear>>12&0x3ff)*4)
	if err != nil {
		return 0, fmt.Errorf("linear %#x: page table: %w", linear, err)
	}
	if pte&ptePresent == 0 {
		return 0, fmt.Errorf("linear %#x: page table entry not present", linear)
	}
	return pte&0xfffff000 | linear&0xfff, nil
}

func walkPAE(mem PhysReader, sregs *kvm.Sregs, linear uint64) (uint64, error) {
	pdpte, err := readEntry64(mem, sregs.CR3&0xffffffe0+(linear>>30)*8)
	if err != nil {
		return 0, fmt.Errorf("linear %#x: PDPT: %w", linear, err)
	}
	if pdpte&ptePresent == 0 {
		return 0, fmt.Errorf("linear %#x: PDPT entry not present", linear)
	}
	return walkTables(mem, pdpte&addrMask, linear, []uint{21, 12}, 2)
}

func walkLong(mem PhysReader, root, linear uint64, levels int) (uint64, error) {
	shifts := []uint{48, 39, 30, 21, 12}[5-levels:]
	return walkTables(mem, root, linear, shifts, levels)
}

// walkTables walks 64-bit-entry tables from table, one level per shift;
// a large-page bit at any level but the first and last ends the walk.
func walkTables(mem PhysReader, table, linear uint64, shifts []uint, levels int) (uint64, error) {
	for i, shift := range shifts {
		idx := linear >> shift & 0x1ff
		e, err := readEntry64(mem, table+idx*8)
		if err != nil {
			return 0, fmt.Errorf("linear %#x: level %d table: %w", linear, levels-i, err)
		}
		if e&ptePresent == 0 {
			return 0, fmt.Errorf("linear %#x: level %d entry not present", linear, levels-i)
		}
		last := i == len(shifts)-1
		if last || (e&pteLarge != 0 && shift <= 30) {
			pageMask := uint64(1)<<shift - 1
			return e&addrMask&^pageMask | linear&pageMask, nil
		}
		table = e & addrMask
	}
	return 0, fmt.Errorf("linear %#x: empty walk", linear)
}

func readEntry32(mem PhysReader, gpa uint64) (uint64, error) {
	var b [4]byte
	if _, err := mem.ReadPhys(gpa, b[:]); err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint32(b[:])), nil
}

func readEntry64(mem PhysReader, gpa uint64) (uint64, error) {
	var b [8]byte
	if _, err := mem.ReadPhys(gpa, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ReadLinear reads guest memory at a linear address, page by page.
func ReadLinear(mem PhysReader, sregs *kvm.Sregs, linear uint64, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		addr := linear + uint64(n)
		phys, err := Translate(mem, sregs, addr)
		if err != nil {
			return n, err
		}
		chunk := min(len(buf)-n, int(0x1000-addr&0xfff))
		m, err := mem.ReadPhys(phys, buf[n:n+chunk])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
