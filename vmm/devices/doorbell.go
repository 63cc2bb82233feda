package devices

import "sync/atomic"

// Doorbell is a device register the guest writes to say "work is ready",
// like a virtio queue notify: the write's value does not matter, only
// that it happened. It is the case ioeventfd was made for: with an
// eventfd on the port, KVM completes the write itself and the VMM learns
// of it asynchronously (Ring), with no exit to user space.
type Doorbell struct {
	// Rings counts the doorbell writes seen, by exit or by eventfd.
	Rings  atomic.Uint64
	Missed atomic.Uint64
}

// Read returns 0: a doorbell has nothing to say.
func (d *Doorbell) Read(off uint64, data []byte) {
	for i := range data {
		data[i] = 0
	}
}

// Write rings the bell.
func (d *Doorbell) Write(off uint64, data []byte) {
	if off != 0 || !validWidth(len(data)) {
		d.Missed.Add(1)
		return
	}
	d.Rings.Add(1)
}

// Ring adds n rings that arrived through an eventfd.
func (d *Doorbell) Ring(n uint64) { d.Rings.Add(n) }
