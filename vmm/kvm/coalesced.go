package kvm

import "sync/atomic"

// coalescedPageOffset is where the coalesced MMIO/PIO ring sits in the
// vCPU mapping, in pages (KVM_COALESCED_MMIO_PAGE_OFFSET on x86).
const coalescedPageOffset = 2

// CoalescedEntry mirrors struct kvm_coalesced_mmio.
type CoalescedEntry struct {
	PhysAddr uint64
	Len      uint32
	PIO      uint32
	Data     [8]byte
}

type coalescedRingHeader struct {
	First uint32
	Last  uint32
}

// CoalescedRing is the ring where KVM queues writes to coalesced zones.
// One ring serves the whole VM; it is mapped through any vCPU.
type CoalescedRing struct {
	hdr     *coalescedRingHeader
	entries []CoalescedEntry
}

// CoalescedRing returns the VM's coalesced ring as seen through this vCPU's
// mapping, or nil when the mapping does not reach it.
func (v *VCPU) CoalescedRing() *CoalescedRing {
	const page = 4096
	off := coalescedPageOffset * page
	if len(v.shared) < off+page {
		return nil
	}
	return newCoalescedRing(v.shared[off : off+page])
}

// Drain hands every queued write to fn, oldest first, and frees the slots.
// Only one goroutine may drain at a time.
func (r *CoalescedRing) Drain(fn func(e *CoalescedEntry)) int {
	n := 0
	for {
		first := atomic.LoadUint32(&r.hdr.First)
		last := atomic.LoadUint32(&r.hdr.Last)
		if first == last {
			return n
		}
		fn(&r.entries[first%uint32(len(r.entries))])
		atomic.StoreUint32(&r.hdr.First, (first+1)%uint32(len(r.entries)))
		n++
	}
}
