package kvm

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl is the one way into the kernel. arg points at the ioctl's argument
// (or is nil); KeepAlive keeps it reachable until the call returns.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) (uintptr, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	runtime.KeepAlive(arg)
	if errno != 0 {
		return r, errno
	}
	return r, nil
}

// ioctlValue passes a plain integer argument, as KVM_CREATE_VCPU and
// KVM_CHECK_EXTENSION take.
func ioctlValue(fd int, req, val uintptr) (uintptr, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, val)
	if errno != 0 {
		return r, errno
	}
	return r, nil
}
