package kvm

import (
	"fmt"
	"unsafe"
)

// MSREntry mirrors struct kvm_msr_entry.
type MSREntry struct {
	Index uint32
	_     uint32
	Data  uint64
}

type msrsHeader struct {
	NMSRs uint32
	_     uint32
}

// maxMSRs bounds one GET/SET_MSRS call; callers batch.
const maxMSRs = 64

type msrsBuf struct {
	msrsHeader
	Entries [maxMSRs]MSREntry
}

// GetMSRs reads the MSRs named by entries[i].Index into entries[i].Data.
func (v *VCPU) GetMSRs(entries []MSREntry) error {
	if len(entries) > maxMSRs {
		return fmt.Errorf("vcpu %d: KVM_GET_MSRS: %d entries, at most %d", v.id, len(entries), maxMSRs)
	}
	var b msrsBuf
	b.NMSRs = uint32(len(entries))
	copy(b.Entries[:], entries)
	n, err := ioctl(v.fd, ioctlGetMSRs, unsafe.Pointer(&b))
	if err != nil {
		return fmt.Errorf("vcpu %d: KVM_GET_MSRS: %w", v.id, err)
	}
	if int(n) != len(entries) {
		return fmt.Errorf("vcpu %d: KVM_GET_MSRS: read %d of %d (MSR %#x refused)", v.id, n, len(entries), entries[n].Index)
	}
	copy(entries, b.Entries[:len(entries)])
	return nil
}

// SetMSRs writes MSRs.
func (v *VCPU) SetMSRs(entries []MSREntry) error {
	if len(entries) > maxMSRs {
		return fmt.Errorf("vcpu %d: KVM_SET_MSRS: %d entries, at most %d", v.id, len(entries), maxMSRs)
	}
	var b msrsBuf
	b.NMSRs = uint32(len(entries))
	copy(b.Entries[:], entries)
	n, err := ioctl(v.fd, ioctlSetMSRs, unsafe.Pointer(&b))
	if err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_MSRS: %w", v.id, err)
	}
	if int(n) != len(entries) {
		return fmt.Errorf("vcpu %d: KVM_SET_MSRS: wrote %d of %d (MSR %#x refused)", v.id, n, len(entries), entries[n].Index)
	}
	return nil
}
