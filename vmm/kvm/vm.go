package kvm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VM is a KVM virtual machine fd.
type VM struct {
	fd       int
	mmapSize int
}

// Close closes the VM fd. Idempotent.
func (vm *VM) Close() error {
	if vm.fd < 0 {
		return nil
	}
	err := unix.Close(vm.fd)
	vm.fd = -1
	return err
}

// CheckExtension asks the VM (KVM_CAP_CHECK_EXTENSION_VM): some answers,
// such as NR_VCPUS, depend on the VM.
func (vm *VM) CheckExtension(c Cap) int {
	v, err := ioctlValue(vm.fd, ioctlCheckExtension, uintptr(c))
	if err != nil {
		return 0
	}
	return int(v)
}

// Memory-region flags.
const (
	MemLogDirtyPages = 1 << 0
	MemReadonly      = 1 << 1
)

// UserMemoryRegion mirrors struct kvm_userspace_memory_region.
type UserMemoryRegion struct {
	Slot          uint32
	Flags         uint32
	GuestPhysAddr uint64
	MemorySize    uint64 // 0 deletes the slot
	UserspaceAddr uint64
}

// SetUserMemoryRegion creates, changes or (MemorySize 0) deletes a memory slot.
func (vm *VM) SetUserMemoryRegion(r *UserMemoryRegion) error {
	if _, err := ioctl(vm.fd, ioctlSetUserMemoryRegion, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("KVM_SET_USER_MEMORY_REGION slot %d [%#x+%#x]: %w",
			r.Slot, r.GuestPhysAddr, r.MemorySize, err)
	}
	return nil
}

// SetTSSAddr places the three pages Intel's real-mode emulation needs; a
// no-op requirement on AMD but harmless.
func (vm *VM) SetTSSAddr(addr uint64) error {
	if _, err := ioctlValue(vm.fd, ioctlSetTSSAddr, uintptr(addr)); err != nil {
		return fmt.Errorf("KVM_SET_TSS_ADDR %#x: %w", addr, err)
	}
	return nil
}

// SetIdentityMapAddr places the identity-map page Intel needs for real mode
// with EPT.
func (vm *VM) SetIdentityMapAddr(addr uint64) error {
	if _, err := ioctl(vm.fd, ioctlSetIdentityMapAddr, unsafe.Pointer(&addr)); err != nil {
		return fmt.Errorf("KVM_SET_IDENTITY_MAP_ADDR %#x: %w", addr, err)
	}
	return nil
}

// CreateIRQChip creates the in-kernel PIC, IOAPIC and a LAPIC per vCPU
// created afterwards.
func (vm *VM) CreateIRQChip() error {
	if _, err := ioctl(vm.fd, ioctlCreateIRQChip, nil); err != nil {
		return fmt.Errorf("KVM_CREATE_IRQCHIP: %w", err)
	}
	return nil
}

type pitConfig struct {
	Flags uint32
	_     [15]uint32
}

// PITSpeakerDummy asks KVM to emulate port 0x61 as well (KVM_PIT_SPEAKER_DUMMY).
const PITSpeakerDummy = 1

// CreatePIT2 creates the in-kernel i8254 PIT.
func (vm *VM) CreatePIT2(flags uint32) error {
	cfg := pitConfig{Flags: flags}
	if _, err := ioctl(vm.fd, ioctlCreatePIT2, unsafe.Pointer(&cfg)); err != nil {
		return fmt.Errorf("KVM_CREATE_PIT2: %w", err)
	}
	return nil
}

type irqLevel struct {
	IRQ   uint32
	Level uint32
}

// IRQLine sets the level of an in-kernel irqchip input pin.
func (vm *VM) IRQLine(irq uint32, high bool) error {
	l := irqLevel{IRQ: irq}
	if high {
		l.Level = 1
	}
	if _, err := ioctl(vm.fd, ioctlIRQLine, unsafe.Pointer(&l)); err != nil {
		return fmt.Errorf("KVM_IRQ_LINE %d: %w", irq, err)
	}
	return nil
}

type irqfd struct {
	FD         uint32
	GSI        uint32
	Flags      uint32
	ResampleFD uint32
	_          [16]uint8
}

// IRQFD makes a write to eventfd raise interrupt gsi inside the kernel.
func (vm *VM) IRQFD(eventfd int, gsi uint32) error {
	a := irqfd{FD: uint32(eventfd), GSI: gsi}
	if _, err := ioctl(vm.fd, ioctlIRQFD, unsafe.Pointer(&a)); err != nil {
		return fmt.Errorf("KVM_IRQFD gsi %d: %w", gsi, err)
	}
	return nil
}

// CoalescedZone mirrors struct kvm_coalesced_mmio_zone. Pad is 1 for a
// port-I/O zone (KVM_CAP_COALESCED_PIO).
type CoalescedZone struct {
	Addr uint64
	Size uint32
	Pio  uint32
}

// RegisterCoalesced batches guest writes to the zone in the coalesced ring
// instead of exiting to user space for each.
func (vm *VM) RegisterCoalesced(z CoalescedZone) error {
	if _, err := ioctl(vm.fd, ioctlRegisterCoalescedMMIO, unsafe.Pointer(&z)); err != nil {
		return fmt.Errorf("KVM_REGISTER_COALESCED_MMIO %#x+%#x pio=%d: %w", z.Addr, z.Size, z.Pio, err)
	}
	return nil
}

// UnregisterCoalesced removes a zone registered with RegisterCoalesced.
func (vm *VM) UnregisterCoalesced(z CoalescedZone) error {
	if _, err := ioctl(vm.fd, ioctlUnregisterCoalescedMMIO, unsafe.Pointer(&z)); err != nil {
		return fmt.Errorf("KVM_UNREGISTER_COALESCED_MMIO %#x+%#x: %w", z.Addr, z.Size, err)
	}
	return nil
}

// ioeventfd flags.
const (
	IOEventFDDatamatch = 1 << 0
	IOEventFDPIO       = 1 << 1
	IOEventFDDeassign  = 1 << 2
)

// IOEventFD mirrors struct kvm_ioeventfd.
type IOEventFD struct {
	Datamatch uint64
	Addr      uint64
	Len       uint32 // 0: any length (KVM_CAP_IOEVENTFD_ANY_LENGTH)
	FD        int32
	Flags     uint32
	_         [36]uint8
}

// IOEventFD assigns (or, with IOEventFDDeassign, removes) an eventfd that
// the kernel signals on a guest write, completing the write without a
// user-space exit.
func (vm *VM) IOEventFD(e *IOEventFD) error {
	if _, err := ioctl(vm.fd, ioctlIOEventFD, unsafe.Pointer(e)); err != nil {
		return fmt.Errorf("KVM_IOEVENTFD addr %#x len %d flags %#x: %w", e.Addr, e.Len, e.Flags, err)
	}
	return nil
}

type enableCap struct {
	Cap   uint32
	Flags uint32
	Args  [4]uint64
	_     [64]uint8
}

// EnableCap enables a VM capability with its arguments.
func (vm *VM) EnableCap(c Cap, args ...uint64) error {
	a := enableCap{Cap: uint32(c)}
	copy(a.Args[:], args)
	if _, err := ioctl(vm.fd, ioctlEnableCap, unsafe.Pointer(&a)); err != nil {
		return fmt.Errorf("KVM_ENABLE_CAP %v %v: %w", c, args, err)
	}
	return nil
}

// StatsFD opens the VM's binary statistics (KVM_GET_STATS_FD).
func (vm *VM) StatsFD() (*Stats, error) {
	fd, err := ioctlValue(vm.fd, ioctlGetStatsFD, 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_GET_STATS_FD (vm): %w", err)
	}
	return openStats(int(fd))
}

// CreateVCPU creates vCPU id and maps its kvm_run region. The KVM API asks
// that the creating thread be the one that runs it.
func (vm *VM) CreateVCPU(id int) (*VCPU, error) {
	fd, err := ioctlValue(vm.fd, ioctlCreateVCPU, uintptr(id))
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VCPU %d: %w", id, err)
	}
	unix.CloseOnExec(int(fd))
	v := &VCPU{fd: int(fd), id: id}
	if err := v.mapRun(vm.mmapSize); err != nil {
		unix.Close(int(fd))
		return nil, fmt.Errorf("vcpu %d: %w", id, err)
	}
	return v, nil
}
