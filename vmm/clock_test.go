package vmm

import (
	"testing"
	"time"
)

// The TSC, once calibrated, measures what the monotonic clock measures.
func TestCalibrateTSC(t *testing.T) {
	tsc0, nsPerCycle, ok := calibrateTSC(calibrationTime)
	if !ok {
		t.Fatal("calibration failed: the TSC did not advance")
	}
	m0, c0 := nanotime(), rdtsc()
	time.Sleep(50 * time.Millisecond)
	m1, c1 := nanotime(), rdtsc()
	byTSC := float64(c1-c0) * nsPerCycle
	if r := byTSC / float64(m1-m0); r < 0.95 || r > 1.05 {
		t.Errorf("50 ms by the TSC: %.0f ns, by the monotonic clock %d ns", byTSC, m1-m0)
	}
	if tsc0 == 0 || tsc0 > c0 {
		t.Errorf("calibration origin %d, later reads %d", tsc0, c0)
	}
	setupExitClock()
	a := monotonic()
	time.Sleep(time.Millisecond)
	if b := monotonic(); b <= a {
		t.Errorf("the exit clock (tsc %v) went from %d to %d", exitClock.tsc, a, b)
	}
}
