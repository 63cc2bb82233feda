package devices

import (
	"sync"
	"sync/atomic"
)

// DataWindow is a device's data buffer mapped into guest memory, which
// the guest fills with many small writes before it tells the device to
// look (a frame buffer, a NIC's descriptor area). Writes to it are what
// coalesced MMIO/PIO batch: KVM queues them in a ring and the VMM replays
// them at its next exit, here the guest's write to the flush port.
type DataWindow struct {
	mu  sync.Mutex
	buf []byte
	// Writes counts guest writes into the window; Flushes the flush-port
	// writes; Missed accesses out of range.
	Writes, Flushes, Missed atomic.Uint64
}

// NewDataWindow makes a window of size bytes.
func NewDataWindow(size int) *DataWindow { return &DataWindow{buf: make([]byte, size)} }

// Read returns the window's bytes.
func (w *DataWindow) Read(off uint64, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if off >= uint64(len(w.buf)) || uint64(len(data)) > uint64(len(w.buf))-off {
		w.Missed.Add(1)
		fillOnes(data)
		return
	}
	copy(data, w.buf[off:])
}

// Write stores into the window.
func (w *DataWindow) Write(off uint64, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if off >= uint64(len(w.buf)) || uint64(len(data)) > uint64(len(w.buf))-off {
		w.Missed.Add(1)
		return
	}
	copy(w.buf[off:], data)
	w.Writes.Add(1)
}

// FlushPort is the register the guest writes to hand the window over.
func (w *DataWindow) FlushPort() Device { return windowFlush{w} }

type windowFlush struct{ w *DataWindow }

func (f windowFlush) Read(off uint64, data []byte) { fillOnes(data) }

func (f windowFlush) Write(off uint64, data []byte) { f.w.Flushes.Add(1) }
