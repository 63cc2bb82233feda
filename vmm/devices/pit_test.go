package devices

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is the PIT's time source, moved by the test.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) now() time.Duration           { return time.Duration(c.ns.Load()) }
func (c *testClock) set(t time.Duration)          { c.ns.Store(int64(t)) }
func (c *testClock) add(dt time.Duration)         { c.ns.Add(int64(dt)) }
func (c *testClock) at(t0 time.Duration, n int64) { c.set(t0 + pitClocks(n)) }

// pitClocks is the shortest time holding n PIT clocks: the count has moved
// by n exactly when this much time has passed since it was loaded.
func pitClocks(n int64) time.Duration {
	return time.Duration((n*int64(time.Second) + PITHz - 1) / PITHz)
}

// irqLog records the IRQ 0 line: '+' for each rise, '-' for each fall.
type irqLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *irqLog) irq(level bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if level {
		l.b.WriteByte('+')
	} else {
		l.b.WriteByte('-')
	}
}

// take returns what was recorded since the last take.
func (l *irqLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

func newTestPIT(t0 time.Duration) (*PIT, *testClock, *irqLog) {
	clk := &testClock{}
	clk.set(t0)
	log := &irqLog{}
	return NewPIT(clk.now, log.irq), clk, log
}

// pitLatched latches channel ch with the counter latch command and reads
// the count as its access mode says: low byte, high byte or both.
func pitLatched(p *PIT, ch int, rw byte) uint16 {
	out8(p, 3, byte(ch)<<6)
	switch rw {
	case pitRWLSB:
		return uint16(in8(p, uint64(ch)))
	case pitRWMSB:
		return uint16(in8(p, uint64(ch))) << 8
	}
	lo := in8(p, uint64(ch))
	return uint16(lo) | uint16(in8(p, uint64(ch)))<<8
}

// pitStatus reads channel ch's status byte through the read-back command.
func pitStatus(p *PIT, ch int) byte {
	out8(p, 3, 0xe0|2<<ch)
	return in8(p, uint64(ch))
}

type pitCheck struct {
	d     int64 // PIT clocks since the count was written
	count uint16
	out   bool
}

func TestPITCounts(t *testing.T) {
	const t0 = 5 * time.Second
	tests := []struct {
		name   string
		ctrl   byte // control word, channel 0
		count  []byte
		checks []pitCheck
	}{
		{"mode 0", 0x30, []byte{0xe8, 0x03}, []pitCheck{
			{0, 1000, false}, {1, 999, false}, {999, 1, false}, {1000, 0, true}, {1001, 0xffff, true},
			{66536, 0, true},
		}},
		{"mode 0 count 0 is 65536", 0x30, []byte{0, 0}, []pitCheck{
			{0, 0, false}, {1, 0xffff, false}, {65535, 1, false}, {65536, 0, true},
		}},
		{"mode 2, Linux HZ=1000", 0x34, []byte{0xa9, 0x04}, []pitCheck{
			{0, 1193, true}, {1, 1192, true}, {1191, 2, true}, {1192, 1, false}, {1193, 1193, true},
			{2385, 1, false}, {2386, 1193, true}, {1193*1000 + 7, 1186, true},
		}},
		{"mode 2 count 0 is 65536", 0x34, []byte{0, 0}, []pitCheck{
			{0, 0, true}, {1, 0xffff, true}, {65535, 1, false}, {65536, 0, true},
		}},
		{"mode 6 is mode 2", 0x3c, []byte{10, 0}, []pitCheck{{8, 2, true}, {9, 1, false}, {10, 10, true}}},
		{"mode 3 even", 0x36, []byte{6, 0}, []pitCheck{
			{0, 6, true}, {1, 4, true}, {2, 2, true}, {3, 6, false}, {4, 4, false}, {5, 2, false}, {6, 6, true},
		}},
		{"mode 3 odd", 0x36, []byte{5, 0}, []pitCheck{
			{0, 5, true}, {1, 4, true}, {2, 2, true}, {3, 5, false}, {4, 2, false}, {5, 5, true}, {6, 4, true},
		}},
		{"mode 3 BIOS 18.2 Hz", 0x36, []byte{0, 0}, []pitCheck{
			{0, 0, true}, {1, 65534, true}, {32767, 2, true}, {32768, 0, false}, {32769, 65534, false},
			{65536, 0, true},
		}},
		{"mode 7 is mode 3", 0x3e, []byte{4, 0}, []pitCheck{{1, 2, true}, {2, 4, false}, {3, 2, false}}},
		{"mode 4", 0x38, []byte{100, 0}, []pitCheck{
			{0, 100, true}, {99, 1, true}, {100, 0, false}, {101, 0xffff, true},
		}},
		{"mode 1 waits for a gate edge that never comes", 0x32, []byte{50, 0}, []pitCheck{
			{0, 0, true}, {100, 0, true},
		}},
		{"mode 5 too", 0x3a, []byte{50, 0}, []pitCheck{{50, 0, true}, {51, 0, true}}},
		{"BCD mode 2", 0x35, []byte{0x00, 0x10}, []pitCheck{
			{0, 0x1000, true}, {1, 0x0999, true}, {999, 0x0001, false}, {1000, 0x1000, true},
		}},
		{"BCD count 0 is 10000", 0x31, []byte{0, 0}, []pitCheck{
			{0, 0x0000, false}, {1, 0x9999, false}, {9999, 0x0001, false}, {10000, 0, true}, {10001, 0x9999, true},
		}},
		{"BCD digits above 9 count as 9", 0x35, []byte{0xff, 0x0f}, []pitCheck{{0, 0x0999, true}, {1, 0x0998, true}}},
		{"low byte only", 0x10, []byte{0x80}, []pitCheck{{28, 100, false}, {128, 0, true}}},
		{"high byte only", 0x24, []byte{0x02}, []pitCheck{{0, 0x0200, true}, {256, 0x0100, true}, {511, 0x0000, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clk, _ := newTestPIT(t0)
			out8(p, 3, tt.ctrl)
			for _, b := range tt.count {
				out8(p, 0, b)
			}
			rw := tt.ctrl >> 4 & 3
			for _, c := range tt.checks {
				clk.at(t0, c.d)
				if got := pitLatched(p, 0, rw); got != c.count {
					t.Errorf("d=%d: count = %#04x, want %#04x", c.d, got, c.count)
				}
				if got := pitStatus(p, 0)&pitStatOut != 0; got != c.out {
					t.Errorf("d=%d: OUT = %v, want %v", c.d, got, c.out)
				}
			}
			if got := p.Missed.Load(); got != 0 {
				t.Errorf("Missed = %d", got)
			}
		})
	}
}

func TestPITReadModes(t *testing.T) {
	const t0 = time.Second
	p, clk, _ := newTestPIT(t0)
	out8(p, 3, 0x74) // channel 1, word, mode 2
	out8(p, 1, 0x34)
	out8(p, 1, 0x12) // 0x1234

	// Unlatched reads alternate low and high bytes, each live.
	clk.at(t0, 0x10)
	if lo := in8(p, 1); lo != 0x24 {
		t.Errorf("live LSB = %#x, want 0x24", lo)
	}
	clk.at(t0, 0x300)
	if hi := in8(p, 1); hi != 0x0f {
		t.Errorf("live MSB = %#x, want 0x0f", hi)
	}

	// A latch holds the count until both bytes are read; a second
	// latch before that is ignored.
	clk.at(t0, 0x34)
	out8(p, 3, 0x40)
	clk.at(t0, 0x1000)
	out8(p, 3, 0x40)
	if lo := in8(p, 1); lo != 0x00 {
		t.Errorf("latched LSB = %#x, want 0x00", lo)
	}
	if hi := in8(p, 1); hi != 0x12 {
		t.Errorf("latched MSB = %#x, want 0x12", hi)
	}
	if got := pitLatched(p, 1, pitRWWord); got != 0x0234 {
		t.Errorf("after the latch is read: %#x, want 0x0234", got)
	}

	// The control word register reads as all ones, without counting as
	// a miss.
	if got := in8(p, 3); got != 0xff {
		t.Errorf("control word read = %#x", got)
	}
	if got := p.Missed.Load(); got != 0 {
		t.Errorf("Missed = %d", got)
	}
}

func TestPITReadBack(t *testing.T) {
	const t0 = time.Second
	p, clk, _ := newTestPIT(t0)
	if got := pitStatus(p, 0); got != 0xf6 {
		t.Errorf("status at reset = %#x, want 0xf6 (OUT, null count, word, mode 3)", got)
	}
	out8(p, 3, 0x30) // mode 0
	if got := pitStatus(p, 0); got != 0x70 {
		t.Errorf("status after control word = %#x, want 0x70 (OUT low, null count)", got)
	}
	out8(p, 0, 0x00)
	if got := pitStatus(p, 0); got != 0x70 {
		t.Errorf("status after LSB = %#x, want 0x70", got)
	}
	out8(p, 0, 0x01)
	if got := pitStatus(p, 0); got != 0x30 {
		t.Errorf("status after MSB = %#x, want 0x30", got)
	}
	clk.at(t0, 256)
	if got := pitStatus(p, 0); got != 0xb0 {
		t.Errorf("status at terminal count = %#x, want 0xb0", got)
	}

	out8(p, 3, 0xb5) // channel 2, word, mode 2, BCD
	out8(p, 2, 0x50)
	out8(p, 2, 0x00)
	out8(p, 3, 0x96) // channel 2, LSB, mode 3

	// Status and count of channels 0 and 2 at once: status first, then
	// the count, each channel on its own.
	clk.at(t0, 300)
	out8(p, 3, 0xc0|0x08|0x02)
	if got := in8(p, 0); got != 0xb0 {
		t.Errorf("channel 0 status = %#x, want 0xb0", got)
	}
	if got := in(p, 0, 1) | in(p, 0, 1)<<8; got != 0xffd4 {
		t.Errorf("channel 0 count = %#x, want 0xffd4", got)
	}
	if got := in8(p, 2); got != 0xd6 {
		t.Errorf("channel 2 status = %#x, want 0xd6 (OUT, null count, LSB, mode 3)", got)
	}

	// Read-back of the count alone, for two channels.
	out8(p, 3, 0x34)
	out8(p, 0, 100)
	out8(p, 0, 0)
	clk.at(t0, 330)
	out8(p, 3, 0xd2|0x04)
	out8(p, 3, 0x74)
	out8(p, 1, 10)
	out8(p, 1, 0)
	clk.at(t0, 340)
	if got := pitLatched(p, 0, pitRWWord); got != 70 {
		t.Errorf("read-back latch of channel 0 = %d, want 70", got)
	}
	if got := pitLatched(p, 1, pitRWWord); got != 10 {
		t.Errorf("channel 1 reprogrammed after the read-back = %d, want 10 (control word drops the latch)", got)
	}

	// A second status latch before the first is read is ignored.
	out8(p, 3, 0xe2)
	out8(p, 3, 0x10)
	out8(p, 3, 0xe2)
	if got := in8(p, 0); got != 0x50 {
		t.Errorf("status after control word = %#x, want 0x50", got)
	}
}

// TestPITNewCountWhileCounting checks what each mode does with a count
// written while it runs.
func TestPITNewCountWhileCounting(t *testing.T) {
	const t0 = time.Second
	t.Run("mode 2 finishes the period", func(t *testing.T) {
		p, clk, log := newTestPIT(t0)
		out8(p, 3, 0x34)
		out8(p, 0, 100)
		out8(p, 0, 0)
		clk.at(t0, 250)
		out8(p, 0, 40)
		out8(p, 0, 0)
		if got := pitStatus(p, 0); got&pitStatNull == 0 {
			t.Errorf("status = %#x, want null count until the period ends", got)
		}
		clk.at(t0, 299)
		if got := pitLatched(p, 0, pitRWWord); got != 1 {
			t.Errorf("count at 299 = %d, want 1 (old period)", got)
		}
		clk.at(t0, 300)
		if got := pitLatched(p, 0, pitRWWord); got != 40 {
			t.Errorf("count at 300 = %d, want 40 (new period)", got)
		}
		if got := pitStatus(p, 0); got&pitStatNull != 0 {
			t.Errorf("status = %#x, want null count clear", got)
		}
		clk.at(t0, 340)
		if got := pitLatched(p, 0, pitRWWord); got != 40 {
			t.Errorf("count at 340 = %d, want 40", got)
		}
		// Edges at 100 and 200 (merged when the write at 250 looked),
		// 300 (the end of the old period) and 340 (the first new one):
		// reads and writes deliver what is due, not only Tick.
		p.Tick(clk.now())
		if got := p.LostTicks.Load(); got != 1 {
			t.Errorf("LostTicks = %d, want 1", got)
		}
		if got := log.take(); got != "-+-+-+" {
			t.Errorf("IRQ 0 = %q, want \"-+-+-+\"", got)
		}
		if next, ok := p.NextEvent(); !ok || next != t0+pitClocks(380) {
			t.Errorf("NextEvent = %v, %v; want %v", next, ok, t0+pitClocks(380))
		}
	})
	t.Run("mode 0 stops at the first byte", func(t *testing.T) {
		p, clk, log := newTestPIT(t0)
		out8(p, 3, 0x30)
		out8(p, 0, 10)
		out8(p, 0, 0)
		clk.at(t0, 20)
		p.Tick(clk.now())
		if got := log.take(); got != "-+" {
			t.Errorf("IRQ 0 = %q, want \"-+\"", got)
		}
		out8(p, 0, 50) // OUT falls, counting stops
		if got := log.take(); got != "-" {
			t.Errorf("IRQ 0 after the first byte = %q, want \"-\"", got)
		}
		clk.at(t0, 100)
		if got := in8(p, 0); got != 0xf6 { // 10-20, frozen, LSB
			t.Errorf("frozen LSB = %#x, want 0xf6", got)
		}
		out8(p, 0, 0)
		clk.at(t0, 149)
		if got := pitStatus(p, 0); got&pitStatOut != 0 {
			t.Errorf("OUT high before the new count ran out")
		}
		clk.at(t0, 150)
		p.Tick(clk.now())
		if got := log.take(); got != "+" {
			t.Errorf("IRQ 0 at the new terminal count = %q, want \"+\"", got)
		}
	})
	t.Run("mode 4 restarts", func(t *testing.T) {
		p, clk, _ := newTestPIT(t0)
		out8(p, 3, 0x38)
		out8(p, 0, 100)
		out8(p, 0, 0)
		clk.at(t0, 60)
		out8(p, 0, 100)
		out8(p, 0, 0)
		if next, ok := p.NextEvent(); !ok || next != clk.now()+pitClocks(101) {
			t.Errorf("NextEvent = %v, %v; want %v", next, ok, clk.now()+pitClocks(101))
		}
	})
}

// TestPITLinuxPeriodic runs the i8253 clockevent's periodic mode at HZ=1000
// for one simulated second, with the timer goroutine calling Tick on time.
func TestPITLinuxPeriodic(t *testing.T) {
	const t0 = 3 * time.Second
	p, clk, log := newTestPIT(t0)
	changed := 0
	p.Changed = func() { changed++ }
	out8(p, 3, 0x34)
	out8(p, 0, 0xa9)
	out8(p, 0, 0x04)
	if changed != 3 {
		t.Errorf("Changed called %d times, want 3", changed)
	}
	if got := log.take(); got != "" {
		t.Errorf("IRQ 0 while programming = %q, want nothing (OUT stays high)", got)
	}
	for i := int64(1); i <= 1000; i++ {
		next, ok := p.NextEvent()
		if want := t0 + pitClocks(1193*i); !ok || next != want {
			t.Fatalf("tick %d: NextEvent = %v, %v; want %v", i, next, ok, want)
		}
		// OUT is low for the clock at count 1, then rises.
		clk.set(next - 1)
		p.Tick(clk.now())
		if got := log.take(); got != "-" {
			t.Fatalf("tick %d: 1 ns early: IRQ 0 = %q, want \"-\"", i, got)
		}
		clk.set(next)
		p.Tick(clk.now())
		if got := log.take(); got != "+" {
			t.Fatalf("tick %d: IRQ 0 = %q, want \"+\"", i, got)
		}
	}
	if elapsed := clk.now() - t0; elapsed < 999*time.Millisecond || elapsed > time.Second {
		t.Errorf("1000 ticks took %v", elapsed)
	}
	if got := p.LostTicks.Load(); got != 0 {
		t.Errorf("LostTicks = %d", got)
	}
}

// TestPITTickCoalescing calls Tick late: missed periods become one edge.
func TestPITTickCoalescing(t *testing.T) {
	const t0 = time.Second
	p, clk, log := newTestPIT(t0)
	out8(p, 3, 0x36) // mode 3, 1193
	out8(p, 0, 0xa9)
	out8(p, 0, 0x04)
	clk.at(t0, 1193*10+900) // ten periods, in the low half of the eleventh
	if next, ok := p.NextEvent(); !ok || next != t0+pitClocks(1193) {
		t.Errorf("NextEvent while late = %v, %v; want the first, overdue edge", next, ok)
	}
	p.Tick(clk.now())
	if got := log.take(); got != "-+-" {
		t.Errorf("IRQ 0 = %q, want \"-+-\" (one edge, then low)", got)
	}
	if got := p.LostTicks.Load(); got != 9 {
		t.Errorf("LostTicks = %d, want 9", got)
	}
	if next, ok := p.NextEvent(); !ok || next != t0+pitClocks(1193*11) {
		t.Errorf("NextEvent = %v, %v; want %v", next, ok, t0+pitClocks(1193*11))
	}
	p.Tick(clk.now()) // nothing new
	if got := log.take(); got != "" {
		t.Errorf("second Tick = %q", got)
	}
	clk.at(t0, 1193*11)
	p.Tick(clk.now())
	if got := log.take(); got != "+" {
		t.Errorf("IRQ 0 = %q, want \"+\"", got)
	}
	if got := p.LostTicks.Load(); got != 9 {
		t.Errorf("LostTicks = %d, want 9", got)
	}
}

// TestPITOneShot is the i8253 clockevent's one-shot mode (mode 4) and its
// shutdown (mode 0 with count 0), as Linux uses them without a LAPIC.
func TestPITOneShot(t *testing.T) {
	const t0 = time.Second
	p, clk, log := newTestPIT(t0)
	if _, ok := p.NextEvent(); ok {
		t.Fatal("NextEvent before programming")
	}
	out8(p, 3, 0x38)
	out8(p, 0, 0x10)
	out8(p, 0, 0x27) // 10000 clocks
	next, ok := p.NextEvent()
	if want := t0 + pitClocks(10001); !ok || next != want {
		t.Fatalf("NextEvent = %v, %v; want %v", next, ok, want)
	}
	clk.set(next)
	p.Tick(next)
	if got := log.take(); got != "-+" {
		t.Errorf("IRQ 0 = %q, want \"-+\"", got)
	}
	if _, ok := p.NextEvent(); ok {
		t.Error("NextEvent after the one shot")
	}
	// Re-arm without a control word.
	out8(p, 0, 0x64)
	out8(p, 0, 0x00)
	if next, ok := p.NextEvent(); !ok || next != clk.now()+pitClocks(101) {
		t.Errorf("re-armed NextEvent = %v, %v", next, ok)
	}
	// Shutdown: OUT falls and rises once more, 65536 clocks later.
	out8(p, 3, 0x30)
	out8(p, 0, 0)
	out8(p, 0, 0)
	if got := log.take(); got != "-" {
		t.Errorf("IRQ 0 at shutdown = %q, want \"-\"", got)
	}
	start := clk.now()
	next, ok = p.NextEvent()
	if !ok || next != start+pitClocks(65536) {
		t.Fatalf("NextEvent after shutdown = %v, %v", next, ok)
	}
	clk.set(next + time.Second)
	p.Tick(clk.now())
	if got := log.take(); got != "+" {
		t.Errorf("IRQ 0 = %q, want \"+\"", got)
	}
	if _, ok := p.NextEvent(); ok {
		t.Error("NextEvent after terminal count")
	}
	// Switching to mode 2 leaves OUT high: no edge.
	out8(p, 3, 0x34)
	if got := log.take(); got != "" {
		t.Errorf("IRQ 0 on mode 2 control word = %q", got)
	}
}

// TestPITReprogramKeepsDueEdge: an edge due before the guest reprograms
// channel 0 is delivered even if Tick has not run yet.
func TestPITReprogramKeepsDueEdge(t *testing.T) {
	const t0 = time.Second
	p, clk, log := newTestPIT(t0)
	out8(p, 3, 0x34)
	out8(p, 0, 100)
	out8(p, 0, 0)
	clk.at(t0, 150)
	out8(p, 3, 0x34)
	if got := log.take(); got != "-+" {
		t.Errorf("IRQ 0 = %q, want the edge at 100", got)
	}
}

func TestPITPort61(t *testing.T) {
	const t0 = time.Second
	p, clk, _ := newTestPIT(t0)
	d := p.Port61()
	clk.set(0)
	if got := in8(d, 0); got != 0x20 {
		t.Errorf("port 0x61 at reset = %#x, want 0x20 (channel 2 OUT high, gate low)", got)
	}
	out8(d, 0, 0xff)
	if got := in8(d, 0) &^ port61Refresh; got != 0x2f {
		t.Errorf("port 0x61 = %#x, want 0x2f", got)
	}
	var toggles int
	last := in8(d, 0) & port61Refresh
	for range 100 {
		clk.add(time.Microsecond)
		if v := in8(d, 0) & port61Refresh; v != last {
			toggles++
			last = v
		}
	}
	if toggles < 6 || toggles > 7 {
		t.Errorf("refresh bit toggled %d times in 100 µs, want 6-7", toggles)
	}
	if got := p.Missed.Load(); got != 0 {
		t.Errorf("Missed = %d", got)
	}
}

// TestPITLinuxTSCCalibration replays pit_calibrate_tsc: gate on, speaker
// off, channel 2 in mode 0 with a 10 ms count, then poll port 0x61 bit 5.
// The bit must rise when 10 ms of clock have passed, not before.
func TestPITLinuxTSCCalibration(t *testing.T) {
	const t0 = 7 * time.Second
	const latch = PITHz / (1000 / 10)
	p, clk, log := newTestPIT(t0)
	port61 := p.Port61()
	out8(port61, 0, in8(port61, 0)&^0x02|0x01)
	out8(p, 3, 0xb0)
	out8(p, 2, latch&0xff)
	out8(p, 2, latch>>8)
	start := clk.now()
	polls := 0
	for in8(port61, 0)&0x20 == 0 {
		polls++
		if polls > 100000 {
			t.Fatal("bit 5 never rose")
		}
		clk.add(time.Microsecond)
	}
	if elapsed := clk.now() - start; elapsed < pitClocks(latch) || elapsed > pitClocks(latch)+time.Microsecond {
		t.Errorf("bit 5 rose after %v, want %v", elapsed, pitClocks(latch))
	}
	if polls < 9990 {
		t.Errorf("only %d polls", polls)
	}
	if got := log.take(); got != "" {
		t.Errorf("channel 2 moved IRQ 0: %q", got)
	}
}

// TestPITLinuxQuickCalibration replays quick_pit_calibrate: channel 2 in
// mode 0 from 0xffff, the MSB read without a latch (after a throwaway LSB)
// must fall by one every 256 clocks of real time.
func TestPITLinuxQuickCalibration(t *testing.T) {
	const t0 = 2 * time.Second
	p, clk, _ := newTestPIT(t0)
	port61 := p.Port61()
	out8(port61, 0, in8(port61, 0)&^0x02|0x01)
	out8(p, 3, 0xb0)
	out8(p, 2, 0xff)
	out8(p, 2, 0xff)
	for i := range int64(200) {
		for _, off := range []int64{0, 128, 255} {
			clk.at(t0, 256*i+off)
			in8(p, 2) // LSB, ignored
			if got := in8(p, 2); got != byte(0xff-i) {
				t.Fatalf("d=%d: MSB = %#x, want %#x", 256*i+off, got, 0xff-i)
			}
		}
	}
}

func TestPITGate(t *testing.T) {
	const t0 = time.Second
	gate := func(p *PIT, on bool) {
		v := byte(0)
		if on {
			v = port61Gate2
		}
		out8(p.Port61(), 0, v)
	}
	out2 := func(p *PIT) bool { return in8(p.Port61(), 0)&port61Out2 != 0 }

	t.Run("mode 0 pauses", func(t *testing.T) {
		p, clk, _ := newTestPIT(t0)
		out8(p, 3, 0xb0)
		out8(p, 2, 100)
		out8(p, 2, 0)
		clk.at(t0, 50)
		if got := pitLatched(p, 2, pitRWWord); got != 100 {
			t.Errorf("count with gate low = %d, want 100", got)
		}
		on := clk.now()
		gate(p, true)
		clk.at(on, 30)
		gate(p, false)
		clk.at(on, 500)
		if got := pitLatched(p, 2, pitRWWord); got != 70 {
			t.Errorf("count after 30 clocks of gate = %d, want 70", got)
		}
		on = clk.now()
		gate(p, true)
		clk.at(on, 69)
		if out2(p) {
			t.Error("OUT high one clock early")
		}
		clk.at(on, 70)
		if !out2(p) {
			t.Error("OUT low at terminal count")
		}
	})
	t.Run("mode 2 gate low forces OUT high and restarts", func(t *testing.T) {
		p, clk, _ := newTestPIT(t0)
		gate(p, true)
		out8(p, 3, 0xb4)
		out8(p, 2, 10)
		out8(p, 2, 0)
		clk.at(t0, 9)
		if out2(p) {
			t.Error("OUT high at count 1")
		}
		gate(p, false)
		if !out2(p) {
			t.Error("OUT low with gate low")
		}
		clk.at(t0, 100)
		if got := pitLatched(p, 2, pitRWWord); got != 1 {
			t.Errorf("count with gate low = %d, want 1 (held)", got)
		}
		on := clk.now()
		gate(p, true)
		clk.at(on, 3)
		if got := pitLatched(p, 2, pitRWWord); got != 7 {
			t.Errorf("count after restart = %d, want 7", got)
		}
	})
	t.Run("mode 1 one-shot on a gate edge", func(t *testing.T) {
		p, clk, _ := newTestPIT(t0)
		out8(p, 3, 0xb2)
		out8(p, 2, 20)
		out8(p, 2, 0)
		if !out2(p) {
			t.Error("OUT low before the trigger")
		}
		if got := pitStatus(p, 2); got&pitStatNull == 0 {
			t.Errorf("status = %#x, want null count before the trigger", got)
		}
		clk.at(t0, 5)
		on := clk.now()
		gate(p, true)
		if out2(p) {
			t.Error("OUT high after the trigger")
		}
		gate(p, false) // the gate falling changes nothing
		clk.at(on, 19)
		if out2(p) {
			t.Error("OUT high one clock early")
		}
		clk.at(on, 20)
		if !out2(p) {
			t.Error("OUT low at terminal count")
		}
		on = clk.now()
		gate(p, true) // retrigger
		clk.at(on, 5)
		if got := pitLatched(p, 2, pitRWWord); got != 15 || out2(p) {
			t.Errorf("after retrigger: count %d OUT %v, want 15 low", got, out2(p))
		}
	})
	t.Run("mode 5 strobe on a gate edge", func(t *testing.T) {
		p, clk, _ := newTestPIT(t0)
		out8(p, 3, 0xba)
		out8(p, 2, 20)
		out8(p, 2, 0)
		clk.at(t0, 40)
		on := clk.now()
		gate(p, true)
		clk.at(on, 20)
		if out2(p) {
			t.Error("OUT high at terminal count")
		}
		clk.at(on, 21)
		if !out2(p) {
			t.Error("OUT low after the strobe")
		}
	})
}

func TestPITBadAccess(t *testing.T) {
	p, _, log := newTestPIT(time.Second)
	if got := in(p, 0, 2); got != 0xffff {
		t.Errorf("word read = %#x", got)
	}
	if got := in8(p, 4); got != 0xff {
		t.Errorf("read at offset 4 = %#x", got)
	}
	out(p, 3, 2, 0x0034) // must not program channel 0
	out8(p, 4, 0x30)
	if got := in(p.Port61(), 0, 2); got != 0xffff {
		t.Errorf("port 0x61 word read = %#x", got)
	}
	out8(p.Port61(), 1, 0x01)
	out(p.Port61(), 0, 4, 0x01)
	if got := p.Missed.Load(); got != 7 {
		t.Errorf("Missed = %d, want 7", got)
	}
	if got := pitStatus(p, 0); got != 0xf6 {
		t.Errorf("channel 0 status = %#x after bad writes", got)
	}
	if got := in8(p.Port61(), 0) & port61Gate2; got != 0 {
		t.Error("bad write opened the gate")
	}
	if got := log.take(); got != "" {
		t.Errorf("IRQ 0 = %q", got)
	}
}

func TestPITNilCallbacks(t *testing.T) {
	p := NewPIT(nil, nil)
	out8(p, 3, 0x30)
	out8(p, 0, 1)
	out8(p, 0, 0)
	time.Sleep(time.Millisecond)
	p.Tick(time.Hour)
	if got := pitStatus(p, 0); got&pitStatOut == 0 {
		t.Errorf("status = %#x: the default clock did not move", got)
	}
}

func TestPITNoAlloc(t *testing.T) {
	clk := &testClock{}
	p := NewPIT(clk.now, func(bool) {})
	p.Changed = func() {}
	port61 := p.Port61()
	out8(p, 3, 0x34)
	out8(p, 0, 0xa9)
	out8(p, 0, 0x04)
	ctrl, latch, lo, hi, gate := []byte{0x34}, []byte{0x00}, []byte{0xa9}, []byte{0x04}, []byte{0x01}
	b := []byte{0}
	allocs := testing.AllocsPerRun(1000, func() {
		clk.add(time.Millisecond)
		p.Tick(clk.now())
		p.NextEvent()
		p.Write(3, latch)
		p.Read(0, b)
		p.Read(0, b)
		p.Read(2, b)
		port61.Read(0, b)
		port61.Write(0, gate)
		p.Write(3, ctrl)
		p.Write(0, lo)
		p.Write(0, hi)
	})
	if allocs != 0 {
		t.Fatalf("PIT allocates %.1f times per run", allocs)
	}
}

// TestPITFirmwareTimer is a small firmware guest on the PIC and PIT: PIC
// at vectors 0x20/0x28, IRQ0 unmasked, the PIT at 1 kHz, sti; hlt; and a
// handler that ends each interrupt with a non-specific EOI. The VMM side
// is the loop the machine runs: a timer on NextEvent calling Tick, the
// vCPU taking interrupts through Acknowledge.
func TestPITFirmwareTimer(t *testing.T) {
	clk := &testClock{}
	pic := NewPIC()
	kicks := 0
	pic.Notify = func() { kicks++ }
	pit := NewPIT(clk.now, func(level bool) { pic.SetIRQ(0, level) })
	runPIC(t, pic, biosInit(0x01))
	out8(pit, 3, 0x34)
	out8(pit, 0, 0xa9)
	out8(pit, 0, 0x04)

	taken := 0
	for range 1000 {
		next, ok := pit.NextEvent()
		if !ok {
			t.Fatal("no next event")
		}
		clk.set(next)
		pit.Tick(next)
		if !pic.HasInterrupt() {
			t.Fatal("Tick raised no interrupt")
		}
		vec, ok := pic.Acknowledge()
		if vec != 0x20 || !ok {
			t.Fatalf("Acknowledge = %#x, %v", vec, ok)
		}
		taken++
		out8(pic.Master(), 0, 0x20)
	}
	if elapsed := clk.now(); elapsed < 999*time.Millisecond || elapsed > time.Second {
		t.Errorf("1000 interrupts in %v", elapsed)
	}
	if kicks != 1000 {
		t.Errorf("Notify called %d times, want 1000", kicks)
	}

	// The guest runs 5 ms with interrupts off while the timer keeps
	// ticking on time: the PIC keeps one request, the rest merge there.
	for range 5 {
		next, _ := pit.NextEvent()
		clk.set(next)
		pit.Tick(next)
	}
	if vec, ok := pic.Acknowledge(); vec != 0x20 || !ok {
		t.Fatalf("Acknowledge = %#x, %v", vec, ok)
	}
	out8(pic.Master(), 0, 0x20)
	if pic.HasInterrupt() {
		t.Error("merged ticks delivered twice")
	}
	// The timer goroutine itself is late by 5 ms: PIT merges.
	clk.add(5*time.Millisecond + 500*time.Microsecond)
	pit.Tick(clk.now())
	if vec, ok := pic.Acknowledge(); vec != 0x20 || !ok {
		t.Fatalf("Acknowledge = %#x, %v", vec, ok)
	}
	if got := pit.LostTicks.Load(); got != 4 {
		t.Errorf("LostTicks = %d, want 4", got)
	}
}

// TestPITConcurrent runs the VMM's timer goroutine against a vCPU reading
// and reprogramming the PIT, for go test -race.
func TestPITConcurrent(t *testing.T) {
	t0 := time.Now()
	clock := func() time.Duration { return time.Since(t0) }
	pic := NewPIC()
	pit := NewPIT(clock, func(level bool) { pic.SetIRQ(0, level) })
	changed := make(chan struct{}, 1)
	pit.Changed = func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	runPIC(t, pic, biosInit(0x01))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the VMM's timer goroutine
		defer wg.Done()
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for {
			wait := time.Hour
			if next, ok := pit.NextEvent(); ok {
				wait = max(next-clock(), 0)
			}
			timer.Reset(wait)
			select {
			case <-timer.C:
				pit.Tick(clock())
			case <-changed:
			case <-stop:
				return
			}
		}
	}()
	out8(pit, 3, 0x34)
	out8(pit, 0, 0x30) // 0x0130 = 304 clocks, ~255 µs
	out8(pit, 0, 0x01)
	deadline := time.Now().Add(2 * time.Second)
	taken := 0
	for taken < 20 && time.Now().Before(deadline) {
		pitLatched(pit, 0, pitRWWord)
		in8(pit.Port61(), 0)
		if pic.HasInterrupt() {
			if _, ok := pic.Acknowledge(); ok {
				taken++
			}
			out8(pic.Master(), 0, 0x20)
		}
		if taken == 10 {
			out8(pit, 0, 0x00) // reprogram the period mid-run
			out8(pit, 0, 0x02)
		}
	}
	close(stop)
	wg.Wait()
	if taken < 20 {
		t.Fatalf("%d timer interrupts in 2 s", taken)
	}
}

// pitModel is FuzzPIT's view of one channel: what the guest programmed
// and which latched bytes wait to be read.
type pitModel struct {
	rw         byte
	bcd        bool
	writeMSB   bool
	lsb        byte
	n          uint32 // count last written, in clocks
	status     bool   // a status byte is latched
	countBytes int    // latched count bytes left
}

func (m *pitModel) modulus() uint32 {
	if m.bcd {
		return 10000
	}
	return 65536
}

// value turns a count as read or written into clocks, 0 being the
// largest; BCD digits above 9 count as 9.
func (m *pitModel) value(raw uint16) uint32 {
	v := uint32(raw)
	if m.bcd {
		v = 0
		for shift := 12; shift >= 0; shift -= 4 {
			v = v*10 + min(uint32(raw>>shift&0xf), 9)
		}
	}
	if v == 0 {
		return m.modulus()
	}
	return v
}

func (m *pitModel) latchCount() {
	if m.countBytes == 0 {
		m.countBytes = 1
		if m.rw == pitRWWord {
			m.countBytes = 2
		}
	}
}

// read accounts for one byte read from the channel's port.
func (m *pitModel) read() {
	switch {
	case m.status:
		m.status = false
	case m.countBytes > 0:
		m.countBytes--
	}
}

// FuzzPIT throws random port accesses, clock moves and Ticks at the PIT
// and checks what must always hold: no panic; a count read back with its
// status lies in what the status's mode allows for the count last written
// (modes 2 and 3: within [1, count]; mode 0 with OUT low: within
// [1, count]; mode 4 with OUT low: 0); a BCD count has decimal digits;
// port 0x61 bit 5 agrees with channel 2's status; the IRQ 0 callback only
// ever changes the level; NextEvent after Tick lies in the future; every
// bad access is counted.
//
// Each 3-byte record is op, arg, value. op bits 0-2 pick the action:
// write, read, move the clock (value << arg bits, backwards if op bit 3),
// Tick, check a channel, port 0x61 access; arg picks the offset.
func FuzzPIT(f *testing.F) {
	f.Add([]byte{0, 3, 0x34, 0, 0, 0xa9, 0, 0, 0x04, 2, 10, 200, 3, 0, 0, 4, 0, 0})
	f.Add([]byte{5, 0, 0x01, 0, 3, 0xb0, 0, 2, 0xff, 0, 2, 0xff, 2, 8, 100, 4, 2, 0, 13, 0, 0, 1, 2, 0, 1, 2, 0})
	f.Add([]byte{0, 3, 0x36, 0, 0, 0x05, 0, 0, 0x00, 2, 0, 3, 4, 0, 0, 2, 0, 1, 4, 0, 0, 3, 0, 0})
	f.Add([]byte{0, 3, 0x38, 0, 0, 0x10, 0, 0, 0x00, 2, 4, 255, 3, 0, 0, 0, 0, 0x05, 0, 0, 0, 10, 4, 1, 3, 0, 0})
	f.Add([]byte{0, 3, 0x35, 0, 0, 0x99, 0, 0, 0x99, 2, 12, 7, 4, 0, 0, 0, 3, 0xc2, 1, 0, 0, 1, 0, 0, 1, 0, 0})
	f.Add([]byte{0, 3, 0x34, 0, 0, 100, 0, 0, 0, 2, 0, 120, 0, 0, 30, 0, 0, 0, 2, 0, 90, 3, 0, 0, 4, 0, 0})
	f.Add([]byte{0, 3, 0xb2, 0, 2, 10, 0, 2, 0, 5, 0, 1, 2, 0, 5, 5, 0, 0, 5, 0, 1, 4, 2, 0})
	f.Add([]byte{0, 3, 0x00, 0, 3, 0xe2, 1, 0, 0, 4, 0, 0, 9, 3, 0, 1, 4, 0})
	f.Fuzz(func(t *testing.T, input []byte) {
		clk := &testClock{}
		clk.set(time.Second)
		level := true
		p := NewPIT(clk.now, func(l bool) {
			if l == level {
				t.Fatalf("irq(%v) without a level change", l)
			}
			level = l
		})
		var chans [3]pitModel
		for i := range chans {
			chans[i].rw = pitRWWord
		}
		var missed uint64

		check := func(ch int) {
			m := &chans[ch]
			for m.status || m.countBytes > 0 { // drain what the input latched
				in8(p, uint64(ch))
				m.read()
			}
			out8(p, 3, 0xc0|2<<ch) // status and count
			st := in8(p, uint64(ch))
			var raw uint16
			switch m.rw {
			case pitRWLSB:
				raw = uint16(in8(p, uint64(ch)))
			case pitRWMSB:
				raw = uint16(in8(p, uint64(ch))) << 8
			default:
				raw = uint16(in8(p, uint64(ch)))
				raw |= uint16(in8(p, uint64(ch))) << 8
			}
			if st>>4&3 != m.rw || (st&1 != 0) != m.bcd {
				t.Fatalf("channel %d status %#x, model rw %d bcd %v", ch, st, m.rw, m.bcd)
			}
			if ch == 2 {
				if got := in8(p.Port61(), 0)&port61Out2 != 0; got != (st&pitStatOut != 0) {
					t.Fatalf("port 0x61 OUT %v, status %#x", got, st)
				}
			}
			if m.bcd {
				for v := raw; v != 0; v >>= 4 {
					if v&0xf > 9 {
						t.Fatalf("channel %d BCD count %#x", ch, raw)
					}
				}
			}
			if st&pitStatNull != 0 || m.writeMSB || m.rw != pitRWWord {
				return // the counting element does not hold the count the model knows
			}
			mode, low, count := st>>1&7, st&pitStatOut == 0, m.value(raw)
			if mode > 5 {
				mode -= 4
			}
			switch {
			case mode == 2 || mode == 3, mode == 0 && low:
				if count < 1 || count > m.n {
					t.Fatalf("channel %d mode %d status %#x: count %d outside [1, %d]", ch, mode, st, count, m.n)
				}
			case mode == 4 && low && raw != 0:
				t.Fatalf("channel %d mode 4, OUT low, count %#x", ch, raw)
			}
		}

		for ; len(input) >= 3; input = input[3:] {
			op, arg, val := input[0], input[1], input[2]
			switch op & 7 {
			case 0, 7: // write
				off := uint64(arg & 7)
				out8(p, off, val)
				sc, rw := val>>6, val>>4&3
				switch {
				case off > 3:
					missed++
				case off == 3 && sc == 3:
					for i := range chans {
						if val&(2<<i) == 0 {
							continue
						}
						if val&pitRBCount == 0 {
							chans[i].latchCount()
						}
						if val&pitRBStatus == 0 {
							chans[i].status = true
						}
					}
				case off == 3 && rw == 0:
					chans[sc].latchCount()
				case off == 3:
					chans[sc] = pitModel{rw: rw, bcd: val&1 != 0, n: chans[sc].n}
				default:
					m := &chans[off]
					switch {
					case m.rw == pitRWLSB:
						m.n = m.value(uint16(val))
					case m.rw == pitRWMSB:
						m.n = m.value(uint16(val) << 8)
					case !m.writeMSB:
						m.lsb, m.writeMSB = val, true
					default:
						m.n = m.value(uint16(m.lsb) | uint16(val)<<8)
						m.writeMSB = false
					}
				}
			case 1: // read
				width := 1
				if op&8 != 0 {
					width = 2
				}
				off := uint64(arg & 7)
				got := in(p, off, width)
				switch {
				case off > 3 || width != 1:
					missed++
					if got != 1<<(8*width)-1 {
						t.Fatalf("bad read = %#x", got)
					}
				case off < 3:
					chans[off].read()
				}
			case 2: // clock
				dt := time.Duration(val) << (arg % 40)
				if op&8 != 0 {
					dt = -dt
				}
				clk.add(dt)
			case 3: // Tick
				p.Tick(clk.now())
				if next, ok := p.NextEvent(); ok && next <= clk.now() {
					t.Fatalf("after Tick(%v), NextEvent = %v", clk.now(), next)
				}
			case 4: // check
				check(int(arg % 3))
			default: // port 0x61
				if op&8 != 0 {
					in8(p.Port61(), 0)
				} else {
					out8(p.Port61(), 0, val)
				}
			}
		}
		for ch := range 3 {
			check(ch)
		}
		if got := p.Missed.Load(); got != missed {
			t.Fatalf("Missed = %d, want %d", got, missed)
		}
	})
}
