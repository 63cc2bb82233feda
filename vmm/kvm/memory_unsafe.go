package kvm

import "unsafe"

// HostAddr is the user-space address of b, as UserMemoryRegion's
// UserspaceAddr wants it. b must not be empty.
func HostAddr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }
