package kvm

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CPUIDEntry mirrors struct kvm_cpuid_entry2.
type CPUIDEntry struct {
	Function uint32
	Index    uint32
	Flags    uint32
	EAX      uint32
	EBX      uint32
	ECX      uint32
	EDX      uint32
	_        [3]uint32
}

// CPUIDFlagSignificantIndex says Index selects a sub-leaf.
const CPUIDFlagSignificantIndex = 1 << 0

type cpuid2Header struct {
	NEnt uint32
	_    uint32
}

const maxCPUIDEntries = 256

type cpuid2Buf struct {
	cpuid2Header
	Entries [maxCPUIDEntries]CPUIDEntry
}

// SupportedCPUID returns the CPUID leaves KVM can present to a guest.
func (s *System) SupportedCPUID() ([]CPUIDEntry, error) {
	b := new(cpuid2Buf)
	b.NEnt = maxCPUIDEntries
	if _, err := ioctl(s.fd, ioctlGetSupportedCPUID, unsafe.Pointer(b)); err != nil {
		if errors.Is(err, unix.E2BIG) {
			return nil, fmt.Errorf("KVM_GET_SUPPORTED_CPUID: more than %d entries: %w", maxCPUIDEntries, err)
		}
		return nil, fmt.Errorf("KVM_GET_SUPPORTED_CPUID: %w", err)
	}
	return append([]CPUIDEntry(nil), b.Entries[:b.NEnt]...), nil
}

// SetCPUID2 sets what CPUID returns to the guest on this vCPU.
func (v *VCPU) SetCPUID2(entries []CPUIDEntry) error {
	if len(entries) > maxCPUIDEntries {
		return fmt.Errorf("vcpu %d: KVM_SET_CPUID2: %d entries, at most %d", v.id, len(entries), maxCPUIDEntries)
	}
	b := new(cpuid2Buf)
	b.NEnt = uint32(len(entries))
	copy(b.Entries[:], entries)
	if _, err := ioctl(v.fd, ioctlSetCPUID2, unsafe.Pointer(b)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_CPUID2: %w", v.id, err)
	}
	return nil
}
