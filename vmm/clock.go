package vmm

import (
	"os"
	"strings"
	"sync"
	"time"
	_ "unsafe" // go:linkname
)

// The exit path reads a clock twice per exit, for the accounting's round
// trip and handler times. The monotonic clock is a vDSO call that reads
// the kernel's clock data page: ~100 ns under the nested sandbox's
// emulated CPU, plus a TLB miss on that page after every world switch,
// which together made accounting cost 4% of a user-space exit there. The
// TSC is one instruction and touches no memory; the exit clock uses it
// when the host kernel itself keeps time with it (its clocksource is
// "tsc": invariant and synchronized across CPUs, or the kernel would not
// have chosen it), scaled to nanoseconds by one calibration against the
// monotonic clock, and the monotonic clock otherwise.

// rdtsc reads the time-stamp counter (tsc_amd64.s).
func rdtsc() uint64

// nanotime is the Go runtime's monotonic clock, one vDSO read (time.Now
// also reads the wall clock); runtime.nanotime is one of the functions
// the runtime keeps reachable by go:linkname for such uses.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// exitClock is the clock chosen once per process.
var exitClock struct {
	once       sync.Once
	tsc        bool
	tsc0       uint64
	nsPerCycle float64
}

// calibrationTime is how long the TSC is timed against the monotonic
// clock: its error is the clock's resolution over this, well under 0.1%.
const calibrationTime = 5 * time.Millisecond

// setupExitClock chooses the exit clock; Machine.Run calls it before the
// vCPUs start.
func setupExitClock() {
	exitClock.once.Do(func() {
		src, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
		if err != nil || strings.TrimSpace(string(src)) != "tsc" {
			return
		}
		if tsc0, nsPerCycle, ok := calibrateTSC(calibrationTime); ok {
			exitClock.tsc0, exitClock.nsPerCycle, exitClock.tsc = tsc0, nsPerCycle, true
		}
	})
}

// calibrateTSC times the TSC against the monotonic clock for d.
func calibrateTSC(d time.Duration) (tsc0 uint64, nsPerCycle float64, ok bool) {
	m0, c0 := nanotime(), rdtsc()
	time.Sleep(d)
	m1, c1 := nanotime(), rdtsc()
	if c1 <= c0 || m1 <= m0 {
		return 0, 0, false
	}
	return c0, float64(m1-m0) / float64(c1-c0), true
}

// monotonic is the exit clock, in nanoseconds from an arbitrary origin.
func monotonic() int64 {
	if exitClock.tsc {
		return int64(float64(rdtsc()-exitClock.tsc0) * exitClock.nsPerCycle)
	}
	return nanotime()
}
