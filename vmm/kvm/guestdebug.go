package kvm

import (
	"fmt"
	"unsafe"
)

// KVM_SET_GUEST_DEBUG control bits.
const (
	GuestDebugEnable     = 0x00000001
	GuestDebugSingleStep = 0x00000002
	GuestDebugUseSWBP    = 0x00010000
	GuestDebugUseHWBP    = 0x00020000
	GuestDebugInjectDB   = 0x00040000
	GuestDebugInjectBP   = 0x00080000
	GuestDebugBlockIRQ   = 0x00100000
)

// GuestDebug mirrors struct kvm_guest_debug (x86): control bits and the
// debug registers KVM loads while the guest runs (DR0-3, DR6 unused, DR7).
type GuestDebug struct {
	Control  uint32
	_        uint32
	DebugReg [8]uint64
}

// SetGuestDebug sets single-stepping and host breakpoints.
func (v *VCPU) SetGuestDebug(d *GuestDebug) error {
	if _, err := ioctl(v.fd, ioctlSetGuestDebug, unsafe.Pointer(d)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_GUEST_DEBUG %#x: %w", v.id, d.Control, err)
	}
	return nil
}

// DebugRegs mirrors struct kvm_debugregs: the guest's own DR0-3, DR6, DR7.
type DebugRegs struct {
	DB    [4]uint64
	DR6   uint64
	DR7   uint64
	Flags uint64
	_     [9]uint64
}

// GetDebugRegs reads the guest's own debug registers.
func (v *VCPU) GetDebugRegs(d *DebugRegs) error {
	if _, err := ioctl(v.fd, ioctlGetDebugRegs, unsafe.Pointer(d)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_GET_DEBUGREGS: %w", v.id, err)
	}
	return nil
}

// SetDebugRegs writes the guest's own debug registers.
func (v *VCPU) SetDebugRegs(d *DebugRegs) error {
	if _, err := ioctl(v.fd, ioctlSetDebugRegs, unsafe.Pointer(d)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_DEBUGREGS: %w", v.id, err)
	}
	return nil
}

// VCPUEvents mirrors struct kvm_vcpu_events: pending and injected
// exceptions, interrupts, NMIs, SMIs and (with X86_TRIPLE_FAULT_EVENT) a
// pending triple fault.
type VCPUEvents struct {
	Exception struct {
		Injected     uint8
		Nr           uint8
		HasErrorCode uint8
		Pending      uint8
		ErrorCode    uint32
	}
	Interrupt struct {
		Injected uint8
		Nr       uint8
		Soft     uint8
		Shadow   uint8
	}
	NMI struct {
		Injected uint8
		Pending  uint8
		Masked   uint8
		_        uint8
	}
	SIPIVector uint32
	Flags      uint32
	SMI        struct {
		SMM          uint8
		Pending      uint8
		SMMInsideNMI uint8
		LatchedInit  uint8
	}
	TripleFault struct {
		Pending uint8
	}
	_                   [26]uint8
	ExceptionHasPayload uint8
	ExceptionPayload    uint64
}

// GetVCPUEvents reads the vCPU's pending events.
func (v *VCPU) GetVCPUEvents(e *VCPUEvents) error {
	if _, err := ioctl(v.fd, ioctlGetVCPUEvents, unsafe.Pointer(e)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_GET_VCPU_EVENTS: %w", v.id, err)
	}
	return nil
}

// SetVCPUEvents writes the vCPU's pending events.
func (v *VCPU) SetVCPUEvents(e *VCPUEvents) error {
	if _, err := ioctl(v.fd, ioctlSetVCPUEvents, unsafe.Pointer(e)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_VCPU_EVENTS: %w", v.id, err)
	}
	return nil
}
