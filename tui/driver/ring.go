package driver

import "sync/atomic"

// Ring is the console's bounded buffer between the guest's serial port
// and the TUI. The UART calls Write on a vCPU thread with its own lock
// held, so writes never overlap; Drain runs on the TUI's side. Neither
// side takes a lock: a full ring drops the excess and counts it, so the
// vCPU thread never waits for the screen.
type Ring struct {
	buf        []byte
	head, tail atomic.Uint64 // read and write positions, ever growing
	dropped    atomic.Uint64
}

// NewRing makes a ring of size bytes, a power of two.
func NewRing(size int) *Ring {
	if size <= 0 || size&(size-1) != 0 {
		panic("driver: ring size must be a power of two")
	}
	return &Ring{buf: make([]byte, size)}
}

// Write implements io.Writer for vmm.Config.Console; it never blocks and
// never fails.
func (r *Ring) Write(p []byte) (int, error) {
	size := uint64(len(r.buf))
	t := r.tail.Load()
	free := size - (t - r.head.Load())
	n := min(uint64(len(p)), free)
	for i := uint64(0); i < n; i++ {
		r.buf[(t+i)&(size-1)] = p[i]
	}
	r.tail.Store(t + n)
	if lost := uint64(len(p)) - n; lost > 0 {
		r.dropped.Add(lost)
	}
	return len(p), nil
}

// Drain takes everything written since the last Drain, and the count of
// bytes dropped so far.
func (r *Ring) Drain() ([]byte, uint64) {
	size := uint64(len(r.buf))
	h, t := r.head.Load(), r.tail.Load()
	if h == t {
		return nil, r.dropped.Load()
	}
	out := make([]byte, t-h)
	for i := range out {
		out[i] = r.buf[(h+uint64(i))&(size-1)]
	}
	r.head.Store(t)
	return out, r.dropped.Load()
}
