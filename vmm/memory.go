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
	owned    bool // mapped by allocRAM, unmapped on release
}

// memory is the guest's physical memory: its slots, fixed once the
// machine is built.
type memory struct {
	slots []slot
}

// allocRAM maps page-aligned anonymous host memory for guest memory; pages are touched
// (and so allocated) only as the guest uses them.
func allocRAM(size uint64) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("allocate %s of guest memory: %w", FormatSize(size), err)
	}
	return mem, nil
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
		if s.owned {
			unix.Munmap(s.mem)
		}
	}
	m.slots = nil
}
