package devices

import (
	"testing"
	"time"
)

func TestPMTimerCounts(t *testing.T) {
	now := time.Duration(0)
	p := NewPMTimer(func() time.Duration { return now })
	for _, tc := range []struct {
		at   time.Duration
		want uint64
	}{
		{0, 0},
		{time.Microsecond, 3},    // 3.58 ticks
		{time.Millisecond, 3579}, // 3579.545
		{time.Second, PMTimerHz},
		{4 * time.Second, (4 * PMTimerHz) & pmTimerMask}, // wrapped at 24 bits
		{100 * time.Hour, (100 * 3600 * PMTimerHz) & pmTimerMask},
	} {
		now = tc.at
		if got := in(p, 0, 4); got != tc.want {
			t.Errorf("at %v: count %#x, want %#x", tc.at, got, tc.want)
		}
	}
	if p.Missed.Load() != 0 {
		t.Errorf("Missed = %d after good reads", p.Missed.Load())
	}
}

// A 2^63 ns product would overflow 64 bits: the conversion is 128-bit.
func TestPMTicksNoOverflow(t *testing.T) {
	d := time.Duration(1 << 62)
	want := uint64(1<<62) / uint64(time.Second) * PMTimerHz // within a tick or so
	if got := pmTicks(d); got < want || got > want+PMTimerHz {
		t.Fatalf("pmTicks(2^62 ns) = %d, want about %d", got, want)
	}
	if pmTicks(-1) != 0 {
		t.Fatal("negative time gave ticks")
	}
}

func TestPMTimerPiecesAndBadAccess(t *testing.T) {
	p := NewPMTimer(func() time.Duration { return time.Duration(0x123456) * time.Second / PMTimerHz })
	// The conversion rounds down; allow the tick below.
	full := in(p, 0, 4)
	if full != 0x123456 && full != 0x123455 {
		t.Fatalf("count %#x, want 0x123456", full)
	}
	if got := in(p, 2, 1); got != full>>16 {
		t.Errorf("byte 2 = %#x, want %#x", got, full>>16)
	}
	if got := in(p, 0, 2); got != full&0xffff {
		t.Errorf("low word = %#x", got)
	}
	out(p, 0, 4, 0)
	if got := in(p, 2, 4); got != 0xffffffff {
		t.Errorf("read past the port = %#x, want all ones", got)
	}
	if got := p.Missed.Load(); got != 2 {
		t.Errorf("Missed = %d, want 2 (a write, a read past the end)", got)
	}
}
