package devices

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// PMTimerHz is the ACPI power-management timer's rate: 3.579545 MHz, the
// NTSC colour-burst frequency that PCs have counted with since the 8254.
const PMTimerHz = 3579545

// pmTimerMask keeps 24 bits: the FADT says the timer is 24 bits wide
// (TMR_VAL_EXT clear), as QEMU's is.
const pmTimerMask = 1<<24 - 1

// PMTimer is the ACPI PM timer (PM_TMR_BLK, a 4-byte port the FADT names):
// a free-running count at PMTimerHz, read-only. It is computed from the
// host's monotonic clock at each read, so it costs nothing while the
// guest does not look and never drifts from host time.
//
// kvm-unit-tests' vmexit reads it to time a port-I/O exit to the VMM
// ("inl_from_pmtimer"); Linux would use it as a clock source if it had
// no better.
type PMTimer struct {
	// Missed counts writes and accesses at a bad offset or width.
	Missed atomic.Uint64

	clock func() time.Duration
}

// NewPMTimer returns a PM timer that counts from zero at the time clock
// reads zero; clock must be monotonic.
func NewPMTimer(clock func() time.Duration) *PMTimer {
	return &PMTimer{clock: clock}
}

// pmTicks converts elapsed time to timer ticks without overflow: d·Hz/1e9
// in 128 bits.
func pmTicks(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(d), PMTimerHz)
	q, _ := bits.Div64(hi, lo, uint64(time.Second))
	return q
}

// Read implements Device. A 1-, 2- or 4-byte read at offset 0 returns the
// count's low bytes (a byte read at offset 1-3 its byte there), which is
// what reading a 32-bit I/O register in pieces gives.
func (p *PMTimer) Read(off uint64, data []byte) {
	if off+uint64(len(data)) > 4 || !validWidth(len(data)) {
		p.Missed.Add(1)
		fillOnes(data)
		return
	}
	v := uint32(pmTicks(p.clock()) & pmTimerMask)
	v >>= 8 * off
	for i := range data {
		data[i] = byte(v >> (8 * i))
	}
}

// Write implements Device: the timer is read-only; writes are counted.
func (p *PMTimer) Write(off uint64, data []byte) {
	p.Missed.Add(1)
}
