package kvm

import "unsafe"

// newCoalescedRing lays the ring over one shared page: the header, then as
// many entries as fit (KVM_COALESCED_MMIO_MAX).
func newCoalescedRing(page []byte) *CoalescedRing {
	hdrSize := unsafe.Sizeof(coalescedRingHeader{})
	n := (uintptr(len(page)) - hdrSize) / unsafe.Sizeof(CoalescedEntry{})
	return &CoalescedRing{
		hdr:     (*coalescedRingHeader)(unsafe.Pointer(&page[0])),
		entries: unsafe.Slice((*CoalescedEntry)(unsafe.Pointer(&page[hdrSize])), n),
	}
}
