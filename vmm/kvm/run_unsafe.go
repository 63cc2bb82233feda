package kvm

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

func (v *VCPU) mapRun(size int) error {
	mem, err := unix.Mmap(v.fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap kvm_run (%d bytes): %w", size, err)
	}
	if uintptr(len(mem)) < unsafe.Sizeof(Run{}) {
		unix.Munmap(mem)
		return fmt.Errorf("kvm_run mapping of %d bytes is smaller than kvm_run (%d)", len(mem), unsafe.Sizeof(Run{}))
	}
	v.shared = mem
	v.run = (*Run)(unsafe.Pointer(&mem[0]))
	return nil
}

// IO returns the port-I/O details of an ExitIO.
func (r *Run) IO() *ExitIOInfo { return (*ExitIOInfo)(unsafe.Pointer(&r.exit[0])) }

// MMIO returns the details of an ExitMMIO.
func (r *Run) MMIO() *ExitMMIOInfo { return (*ExitMMIOInfo)(unsafe.Pointer(&r.exit[0])) }

// FailEntry returns the details of an ExitFailEntry.
func (r *Run) FailEntry() *ExitFailEntryInfo {
	return (*ExitFailEntryInfo)(unsafe.Pointer(&r.exit[0]))
}

// Internal returns the details of an ExitInternalError.
func (r *Run) Internal() *ExitInternalInfo { return (*ExitInternalInfo)(unsafe.Pointer(&r.exit[0])) }

// Debug returns the details of an ExitDebug.
func (r *Run) Debug() *ExitDebugInfo { return (*ExitDebugInfo)(unsafe.Pointer(&r.exit[0])) }

// SystemEvent returns the details of an ExitSystemEvent.
func (r *Run) SystemEvent() *ExitSystemEventInfo {
	return (*ExitSystemEventInfo)(unsafe.Pointer(&r.exit[0]))
}

// immediate_exit is byte 1 of the flags word (little-endian).
const immediateExitBit = 1 << 8

// SetImmediateExit makes the next (or current, once signalled) KVM_RUN
// return at once with EINTR. Safe from any thread.
func (r *Run) SetImmediateExit() { atomic.OrUint32(&r.flags, immediateExitBit) }

// ClearImmediateExit undoes SetImmediateExit.
func (r *Run) ClearImmediateExit() { atomic.AndUint32(&r.flags, ^uint32(immediateExitBit)) }

// ImmediateExit reports whether immediate_exit is set.
func (r *Run) ImmediateExit() bool { return atomic.LoadUint32(&r.flags)&immediateExitBit != 0 }

// SetRequestInterruptWindow asks KVM to exit when the guest can take an
// interrupt (used when user space injects interrupts itself).
func (r *Run) SetRequestInterruptWindow(on bool) {
	if on {
		atomic.OrUint32(&r.flags, 1)
	} else {
		atomic.AndUint32(&r.flags, ^uint32(1))
	}
}
