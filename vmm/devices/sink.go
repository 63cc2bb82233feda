package devices

import "sync/atomic"

// Sink accepts every write and reads as all ones. It stands at port 0x80,
// where firmware and kernels write POST codes (and Linux writes to slow
// down port I/O), so those writes cost no more than a counter update; the
// last value written is kept for a UI to show the last POST code.
//
// The zero value is ready to use.
type Sink struct {
	// Writes counts accepted writes.
	Writes atomic.Uint64
	// Last holds the last value written, little-endian.
	Last atomic.Uint64
	// Missed counts accesses with a width the CPU cannot produce.
	Missed atomic.Uint64
}

// NewSink returns an empty Sink.
func NewSink() *Sink {
	return &Sink{}
}

// Read implements Device.
func (s *Sink) Read(off uint64, data []byte) {
	if !validWidth(len(data)) {
		s.Missed.Add(1)
	}
	fillOnes(data)
}

// Write implements Device. The offset does not matter, so one Sink may
// cover a range of ports.
func (s *Sink) Write(off uint64, data []byte) {
	if !validWidth(len(data)) {
		s.Missed.Add(1)
		return
	}
	s.Last.Store(loadLE(data))
	s.Writes.Add(1)
}
