// Package kvm is a thin, typed binding to the Linux KVM API (/dev/kvm).
//
// Each kernel structure is mirrored with explicit padding and its size is
// checked by a test against linux/kvm.h; each ioctl number is computed from
// its argument type, never pasted. Errors wrap the errno, so callers branch
// with errors.Is(err, unix.EINTR). Nothing here knows about devices, boot or
// debugging: that is package vmm and above.
package kvm
