package debug

import "unsafe"

// hostAddr is the user-space address KVM maps a slot from.
func hostAddr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }
