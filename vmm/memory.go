package vmm

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Guest-physical layout: RAM from 0 up to the 32-bit hole, the rest above
// 4 GiB, as on a PC. The hole holds firmware and (later) MMIO devices.
const (
	lowRAMLimit = 3 * GiB
	highRAMBase = 4 * GiB

	// Pages KVM needs for Intel's real-mode support, below any firmware
	// (QEMU uses the same addresses).
	identityMapAddr = 0xfeffc000
	tssAddr         = 0xfeffd000
)

// slot is one KVM memory slot and the host memory behind it.
type slot struct {
	name     string
	gpa      uint64
	mem      []byte
	readOnly bool
	mapping  []byte // allocRAM's mapping that holds mem, unmapped on release
}

// memory is the guest's physical memory: its slots, fixed once the
// machine is built.
type memory struct {
	slots []slot
}

// hugePage is the size of the host's transparent huge pages on x86-64.
const hugePage = 2 << 20

// allocRAM maps anonymous host memory for size bytes of guest memory;
// pages are touched (and so allocated) only as the guest uses them. From
// 2 MiB up, mem starts on a 2 MiB boundary of a mapping that much larger,
// and is marked for transparent huge pages (MADV_HUGEPAGE, as QEMU marks
// guest RAM): KVM maps guest memory with 2 MiB pages only where the host
// backs it with 2 MiB pages at the same alignment. With 4 KiB ones a Linux
// guest's boot takes tens of thousands of extra nested-page faults, each
// a VM exit (docs/bench.md). mapping is what to unmap.
func allocRAM(size uint64) (mem, mapping []byte, err error) {
	extra := uint64(0)
	if size >= hugePage {
		extra = hugePage
	}
	mapping, err = unix.Mmap(-1, 0, int(size+extra), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, nil, fmt.Errorf("allocate %s of guest memory: %w", FormatSize(size), err)
	}
	off := uint64(0)
	if extra > 0 {
		addr := uint64(kvm.HostAddr(mapping))
		off = (hugePage - addr%hugePage) % hugePage
	}
	mem = mapping[off : off+size : off+size]
	if extra > 0 {
		unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice: a host without THP says EINVAL, and that is fine
	}
	return mem, mapping, nil
}

// readOnlyAt says whether gpa lies in a read-only slot (firmware ROM).
func (m *memory) readOnlyAt(gpa uint64) bool {
	for i := range m.slots {
		s := &m.slots[i]
		if s.readOnly && gpa >= s.gpa && gpa-s.gpa < uint64(len(s.mem)) {
			return true
		}
	}
	return false
}

// add records a slot; mapInto hands the slots to KVM.
func (m *memory) add(s slot) { m.slots = append(m.slots, s) }

// mapInto registers every slot with the VM, slot number = index.
func (m *memory) mapInto(vm *kvm.VM) error {
	for i, s := range m.slots {
		r := kvm.UserMemoryRegion{
			Slot:          uint32(i),
			GuestPhysAddr: s.gpa,
			MemorySize:    uint64(len(s.mem)),
			UserspaceAddr: kvm.HostAddr(s.mem),
		}
		if s.readOnly {
			r.Flags = kvm.MemReadonly
		}
		if err := vm.SetUserMemoryRegion(&r); err != nil {
			return fmt.Errorf("map %s: %w", s.name, err)
		}
	}
	return nil
}

// ReadPhys copies guest-physical memory at gpa into buf, stopping at the
// first byte that is not backed by a slot. It returns how many bytes it
// copied and an error when that is fewer than len(buf).
func (m *memory) ReadPhys(gpa uint64, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		s := m.find(gpa + uint64(n))
		if s == nil {
			return n, fmt.Errorf("guest-physical %#x: no memory there", gpa+uint64(n))
		}
		off := gpa + uint64(n) - s.gpa
		n += copy(buf[n:], s.mem[off:])
	}
	return n, nil
}

// WritePhys copies buf into guest RAM at gpa; read-only slots refuse.
func (m *memory) WritePhys(gpa uint64, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		s := m.find(gpa + uint64(n))
		if s == nil {
			return n, fmt.Errorf("guest-physical %#x: no memory there", gpa+uint64(n))
		}
		if s.readOnly {
			return n, fmt.Errorf("guest-physical %#x: %s is read-only", gpa+uint64(n), s.name)
		}
		off := gpa + uint64(n) - s.gpa
		n += copy(s.mem[off:], buf[n:])
	}
	return n, nil
}

// flushPage makes the host page behind gpa inaccessible and accessible
// again; see Machine.flushPage. Addresses outside writable RAM are ignored.
func (m *memory) flushPage(gpa uint64) {
	s := m.find(gpa)
	if s == nil || s.readOnly {
		return
	}
	off := (gpa - s.gpa) &^ 4095
	page := s.mem[off : off+4096]
	unix.Mprotect(page, unix.PROT_NONE)
	unix.Mprotect(page, unix.PROT_READ|unix.PROT_WRITE)
}

func (m *memory) find(gpa uint64) *slot {
	for i := range m.slots {
		s := &m.slots[i]
		if gpa >= s.gpa && gpa-s.gpa < uint64(len(s.mem)) {
			return s
		}
	}
	return nil
}

func (m *memory) release() {
	for _, s := range m.slots {
		if s.mapping != nil {
			unix.Munmap(s.mapping)
		}
	}
	m.slots = nil
}
