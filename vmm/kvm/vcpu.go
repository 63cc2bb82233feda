package kvm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VCPU is a vCPU fd with its mapped kvm_run region. Its ioctls should come
// from the OS thread that created it.
type VCPU struct {
	fd     int
	id     int
	shared []byte // the whole mmap: kvm_run, then e.g. the coalesced ring
	run    *Run
}

// ID is the vCPU's index (its initial APIC ID).
func (v *VCPU) ID() int { return v.id }

// FD is the vCPU's file descriptor, for thread-directed kicks and stats.
func (v *VCPU) FD() int { return v.fd }

// Run returns the shared kvm_run structure.
func (v *VCPU) Run() *Run { return v.run }

// Errors KVM_RUN returns in normal operation, boxed once so that returning
// them does not allocate on the exit path. Compare with errors.Is.
var (
	errIntr  error = unix.EINTR
	errAgain error = unix.EAGAIN
)

// Enter runs the vCPU until the next exit to user space (KVM_RUN). EINTR
// (a signal or immediate_exit) and EAGAIN are returned as is; the caller
// retries. It does not allocate.
func (v *VCPU) Enter() error {
	_, err := ioctl(v.fd, ioctlRun, nil)
	if err == nil {
		return nil
	}
	switch err {
	case unix.EINTR:
		return errIntr
	case unix.EAGAIN:
		return errAgain
	}
	return err
}

// IOData returns the data buffer of the current ExitIO: Size*Count bytes
// inside the shared region.
func (v *VCPU) IOData() ([]byte, error) {
	io := v.run.IO()
	n := uint64(io.Size) * uint64(io.Count)
	end := io.DataOffset + n
	if n == 0 || end < io.DataOffset || end > uint64(len(v.shared)) {
		return nil, fmt.Errorf("vcpu %d: io data [%#x+%d] outside the kvm_run mapping", v.id, io.DataOffset, n)
	}
	return v.shared[io.DataOffset:end:end], nil
}

// Close unmaps kvm_run and closes the fd. Idempotent.
func (v *VCPU) Close() error {
	if v.fd < 0 {
		return nil
	}
	if v.shared != nil {
		unix.Munmap(v.shared)
		v.shared, v.run = nil, nil
	}
	err := unix.Close(v.fd)
	v.fd = -1
	return err
}

// GetRegs reads the general registers.
func (v *VCPU) GetRegs(r *Regs) error {
	if _, err := ioctl(v.fd, ioctlGetRegs, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_GET_REGS: %w", v.id, err)
	}
	return nil
}

// SetRegs writes the general registers.
func (v *VCPU) SetRegs(r *Regs) error {
	if _, err := ioctl(v.fd, ioctlSetRegs, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_REGS: %w", v.id, err)
	}
	return nil
}

// GetSregs reads segments, control registers and EFER.
func (v *VCPU) GetSregs(s *Sregs) error {
	if _, err := ioctl(v.fd, ioctlGetSregs, unsafe.Pointer(s)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_GET_SREGS: %w", v.id, err)
	}
	return nil
}

// SetSregs writes segments, control registers and EFER.
func (v *VCPU) SetSregs(s *Sregs) error {
	if _, err := ioctl(v.fd, ioctlSetSregs, unsafe.Pointer(s)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_SREGS: %w", v.id, err)
	}
	return nil
}

// Translation mirrors struct kvm_translation.
type Translation struct {
	LinearAddress   uint64
	PhysicalAddress uint64
	Valid           uint8
	Writeable       uint8
	Usermode        uint8
	_               [5]uint8
}

// Translate walks the guest's page tables for a linear address with KVM's
// own MMU (KVM_TRANSLATE).
func (v *VCPU) Translate(linear uint64) (Translation, error) {
	t := Translation{LinearAddress: linear}
	if _, err := ioctl(v.fd, ioctlTranslate, unsafe.Pointer(&t)); err != nil {
		return t, fmt.Errorf("vcpu %d: KVM_TRANSLATE %#x: %w", v.id, linear, err)
	}
	return t, nil
}

// MP states (KVM_MP_STATE_*).
const (
	MPStateRunnable      = 0
	MPStateUninitialized = 1
	MPStateInitReceived  = 2
	MPStateHalted        = 3
	MPStateSIPIReceived  = 4
)

// GetMPState reads whether the vCPU is runnable, halted or waiting for SIPI.
func (v *VCPU) GetMPState() (uint32, error) {
	var s uint32
	if _, err := ioctl(v.fd, ioctlGetMPState, unsafe.Pointer(&s)); err != nil {
		return 0, fmt.Errorf("vcpu %d: KVM_GET_MP_STATE: %w", v.id, err)
	}
	return s, nil
}

// SetMPState sets the vCPU's MP state.
func (v *VCPU) SetMPState(s uint32) error {
	if _, err := ioctl(v.fd, ioctlSetMPState, unsafe.Pointer(&s)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_MP_STATE %d: %w", v.id, s, err)
	}
	return nil
}

// Interrupt injects an external interrupt vector (only without an
// in-kernel irqchip).
func (v *VCPU) Interrupt(vector uint32) error {
	if _, err := ioctl(v.fd, ioctlInterrupt, unsafe.Pointer(&vector)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_INTERRUPT %#x: %w", v.id, vector, err)
	}
	return nil
}

// StatsFD opens the vCPU's binary statistics (KVM_GET_STATS_FD).
func (v *VCPU) StatsFD() (*Stats, error) {
	fd, err := ioctlValue(v.fd, ioctlGetStatsFD, 0)
	if err != nil {
		return nil, fmt.Errorf("vcpu %d: KVM_GET_STATS_FD: %w", v.id, err)
	}
	return openStats(int(fd))
}

// GetFPU reads the x87 and SSE registers.
func (v *VCPU) GetFPU(f *FPU) error {
	if _, err := ioctl(v.fd, ioctlGetFPU, unsafe.Pointer(f)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_GET_FPU: %w", v.id, err)
	}
	return nil
}

// SetFPU writes the x87 and SSE registers.
func (v *VCPU) SetFPU(f *FPU) error {
	if _, err := ioctl(v.fd, ioctlSetFPU, unsafe.Pointer(f)); err != nil {
		return fmt.Errorf("vcpu %d: KVM_SET_FPU: %w", v.id, err)
	}
	return nil
}
