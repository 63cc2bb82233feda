package kvm

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl is the one way into the kernel. arg points at the ioctl's argument
// (or is nil); KeepAlive keeps it reachable until the call returns.
//
// A call that a signal interrupts before it did anything (EINTR) is made
// again, as QEMU does for KVM_CREATE_VM: Go's runtime signals its threads
// (preemption, profiling) at any time. KVM_RUN is the exception: there
// EINTR is the kick that brings a vCPU back to user space.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) (uintptr, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		runtime.KeepAlive(arg)
		switch {
		case errno == unix.EINTR && req != ioctlRun:
			continue
		case errno != 0:
			return r, errno
		}
		return r, nil
	}
}

// ioctlValue passes a plain integer argument, as KVM_CREATE_VCPU and
// KVM_CHECK_EXTENSION take; EINTR is handled as ioctl does.
func ioctlValue(fd int, req, val uintptr) (uintptr, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, val)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return r, errno
		}
		return r, nil
	}
}
