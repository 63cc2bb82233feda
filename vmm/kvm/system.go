package kvm

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// DevicePath is where the KVM device lives.
const DevicePath = "/dev/kvm"

// APIVersion is the only KVM API version there has ever been (KVM_API_VERSION).
const APIVersion = 12

// ErrNoKVM says /dev/kvm is missing: no hardware virtualization, or the
// kvm modules are not loaded.
var ErrNoKVM = errors.New("no " + DevicePath)

// System is an open /dev/kvm.
type System struct {
	fd int
}

// Open opens /dev/kvm and checks the API version.
func Open() (*System, error) {
	fd, err := unix.Open(DevicePath, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("open %s: %w", DevicePath, ErrNoKVM)
		}
		return nil, fmt.Errorf("open %s: %w", DevicePath, err)
	}
	s := &System{fd: fd}
	v, err := ioctlValue(fd, ioctlGetAPIVersion, 0)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("KVM_GET_API_VERSION: %w", err)
	}
	if v != APIVersion {
		s.Close()
		return nil, fmt.Errorf("KVM API version %d, want %d", v, APIVersion)
	}
	return s, nil
}

// Close closes the device; VMs created from it stay valid. Idempotent.
func (s *System) Close() error {
	if s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	return err
}

// CheckExtension returns the value KVM reports for a capability: 0 when
// absent, 1 or a capability-specific value when present.
func (s *System) CheckExtension(c Cap) int {
	v, err := ioctlValue(s.fd, ioctlCheckExtension, uintptr(c))
	if err != nil {
		return 0
	}
	return int(v)
}

// VCPUMmapSize is the size of the per-vCPU shared region (kvm_run and the
// pages after it, such as the coalesced MMIO ring).
func (s *System) VCPUMmapSize() (int, error) {
	v, err := ioctlValue(s.fd, ioctlGetVCPUMmapSize, 0)
	if err != nil {
		return 0, fmt.Errorf("KVM_GET_VCPU_MMAP_SIZE: %w", err)
	}
	return int(v), nil
}

// CreateVM creates a virtual machine (machine type 0, the default).
func (s *System) CreateVM() (*VM, error) {
	size, err := s.VCPUMmapSize()
	if err != nil {
		return nil, err
	}
	fd, err := ioctlValue(s.fd, ioctlCreateVM, 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VM: %w", err)
	}
	unix.CloseOnExec(int(fd))
	return &VM{fd: int(fd), mmapSize: size}, nil
}
