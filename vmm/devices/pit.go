package devices

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// PITHz is the i8254's input clock: 1.193182 MHz, a third of the NTSC
// colour burst, on every PC.
const PITHz = 1193182

// i8254 control word fields (port 0x43): SC in bits 7-6, RW in bits 5-4,
// M in bits 3-1, BCD in bit 0.
const (
	pitControl  = 3    // register offset of the control word
	pitReadBack = 3    // SC value of the read-back command
	pitLatchCmd = 0    // RW value of the counter latch command
	pitRWLSB    = 1    // access the low byte only
	pitRWMSB    = 2    // access the high byte only
	pitRWWord   = 3    // low byte, then high byte
	pitRBCount  = 0x20 // read-back: bit clear latches the count...
	pitRBStatus = 0x10 // ...and this one the status
	pitStatOut  = 0x80 // status byte: OUT pin
	pitStatNull = 0x40 // status byte: null count (CR not yet in CE)

	// Port 0x61 (system control port B).
	port61Gate2   = 0x01 // channel 2 gate
	port61Speaker = 0x02 // speaker data enable
	port61RW      = 0x0f // bits 2-3: parity and channel check enables
	port61Refresh = 0x10 // toggles every 15.085 µs (DRAM refresh request)
	port61Out2    = 0x20 // channel 2 output

	refreshPeriod = 15085 * time.Nanosecond
)

// maxTicks bounds tick arithmetic so that clock values anywhere in the
// int64 range cannot overflow it.
const maxTicks = 1 << 60

// pitTicks returns the number of PIT clock edges in (from, to]: zero if
// to is not after from.
func pitTicks(from, to time.Duration) int64 {
	if to <= from {
		return 0
	}
	ns := uint64(to) - uint64(from)
	hi, lo := bits.Mul64(ns, PITHz)
	q, _ := bits.Div64(hi, lo, uint64(time.Second)) // hi < PITHz < 1e9
	return int64(q)
}

// pitDuration returns the shortest duration holding n PIT clock edges.
func pitDuration(n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(n), uint64(time.Second))
	if hi >= PITHz {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, PITHz)
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
}

// pitChannel is one counter of the i8254. Time inside a counting sequence
// is measured in PIT clocks since the count was loaded, d, derived from
// the clock when asked for: d = base + clocks from origin to now while
// running, base while stopped. Its methods run under PIT.mu.
type pitChannel struct {
	// Programming, from the control word.
	modeBits byte // M2-M0 as written, for the status byte
	mode     byte // 0-5 (6 and 7 are 2 and 3)
	rw       byte
	bcd      bool
	gate     bool

	// Count register, as the guest writes it.
	writeMSB  bool   // RW word: the next byte written is the MSB
	crLSB     byte   // RW word: the LSB already written
	cr        uint32 // decoded: 1-65536, or 1-10000 in BCD
	nullCount bool   // CR written but not yet in the counting element

	// Counting element.
	loaded  bool   // a count was written since the control word
	armed   bool   // counting sequence started (modes 1 and 5: triggered)
	running bool   // d advances with the clock
	reload  uint32 // count the current sequence started from
	origin  time.Duration
	base    int64
	frozen  uint32 // what the counting element holds while no sequence runs
	lastD   int64  // rising edges of OUT up to here have been reported
	next    uint32 // modes 2, 3: count that takes over at d == nextAt
	nextAt  int64
	hasNext bool

	// Read side.
	readMSB       bool // RW word: the next unlatched read returns the MSB
	latchState    byte // latched count bytes to read, as an RW value; 0 none
	latch         uint16
	status        byte
	statusLatched bool
}

// modulus is the counting element's range: 2^16 binary or 10^4 BCD.
func (c *pitChannel) modulus() int64 {
	if c.bcd {
		return 10000
	}
	return 65536
}

// elapsed returns d at now.
func (c *pitChannel) elapsed(now time.Duration) int64 {
	d := c.base
	if c.running {
		d = min(d+pitTicks(c.origin, now), maxTicks)
	}
	return max(d, 0)
}

// timeOf returns the clock value at which d reaches k while running.
func (c *pitChannel) timeOf(k int64) time.Duration {
	dt := pitDuration(k - c.base)
	if c.origin > math.MaxInt64-dt {
		return math.MaxInt64
	}
	return c.origin + dt
}

// start begins a counting sequence from n at now.
func (c *pitChannel) start(now time.Duration, n uint32) {
	c.reload = n
	c.origin, c.base, c.lastD = now, 0, 0
	c.armed = true
	c.running = c.gate || c.mode == 1 || c.mode == 5
	c.hasNext = false
	c.nullCount = false
}

// count returns the counting element at d, 1-65536 (or 10000), 0 after
// terminal count in the one-shot modes.
func (c *pitChannel) count(d int64) uint32 {
	if !c.loaded || !c.armed {
		return c.frozen
	}
	n := int64(c.reload)
	switch c.mode {
	case 2:
		return uint32(n - d%n)
	case 3:
		// Counts down by two, reloading at each half period. An odd
		// count loses one extra on the first clock of the high half
		// and three on the first of the low half.
		high := (n + 1) / 2
		p := d % n
		switch {
		case p == 0 || p == high:
			return uint32(n)
		case p < high:
			return uint32(n + n%2 - 2*p)
		default:
			return uint32(n - n%2 - 2*(p-high))
		}
	}
	m := c.modulus()
	return uint32(((n-d)%m + m) % m)
}

// out returns the OUT pin at d.
func (c *pitChannel) out(d int64) bool {
	if !c.loaded {
		return c.mode != 0 // after a control word: low in mode 0, else high
	}
	n := int64(c.reload)
	switch c.mode {
	case 0:
		return d >= n
	case 1:
		return !c.armed || d >= n
	case 2:
		return !c.gate || d%n != n-1
	case 3:
		return !c.gate || d%n < (n+1)/2
	case 4:
		return d != n
	default: // 5
		return !c.armed || d != n
	}
}

// risingEdges counts the rising edges of OUT in (d0, d1].
func (c *pitChannel) risingEdges(d0, d1 int64) int64 {
	if !c.loaded || !c.armed || !c.running || d1 <= d0 {
		return 0
	}
	n := int64(c.reload)
	tc := n
	switch c.mode {
	case 2, 3:
		return d1/n - d0/n
	case 4, 5:
		tc = n + 1 // OUT is low for the one clock at terminal count
	}
	if d0 < tc && tc <= d1 {
		return 1
	}
	return 0
}

// nextRise returns the first d after d0 at which OUT rises.
func (c *pitChannel) nextRise(d0 int64) (int64, bool) {
	if !c.loaded || !c.armed || !c.running {
		return 0, false
	}
	n := int64(c.reload)
	tc := n
	switch c.mode {
	case 2, 3:
		return (d0/n + 1) * n, true
	case 4, 5:
		tc = n + 1
	}
	return tc, d0 < tc
}

// settle switches a rate generator or square wave to the count written
// while it ran, once the period it was written in has ended, and returns
// the rising edges of OUT it passed over since lastD.
func (c *pitChannel) settle(now time.Duration) int64 {
	if !c.hasNext || c.elapsed(now) < c.nextAt {
		return 0
	}
	edges := c.risingEdges(c.lastD, c.nextAt)
	c.base -= c.nextAt
	c.lastD = max(c.lastD-c.nextAt, 0)
	c.reload = c.next
	c.hasNext = false
	c.nullCount = false
	return edges
}

// program handles a control word for this channel. All counting stops and
// OUT takes its initial state until a count is written.
func (c *pitChannel) program(now time.Duration, v byte) {
	c.frozen = c.count(c.elapsed(now))
	c.rw = v >> 4 & 3
	c.modeBits = v >> 1 & 7
	c.mode = c.modeBits
	if c.mode > 5 {
		c.mode -= 4
	}
	c.bcd = v&1 != 0
	c.loaded, c.armed, c.running, c.hasNext = false, false, false, false
	c.base, c.lastD = 0, 0
	c.nullCount = true
	c.writeMSB, c.readMSB = false, false
	c.latchState, c.statusLatched = 0, false
}

// writeCount takes one byte of a count.
func (c *pitChannel) writeCount(now time.Duration, v byte) {
	var raw uint16
	switch {
	case c.rw == pitRWLSB:
		raw = uint16(v)
	case c.rw == pitRWMSB:
		raw = uint16(v) << 8
	case !c.writeMSB:
		c.crLSB = v
		c.writeMSB = true
		if c.mode == 0 && c.loaded {
			// Mode 0: the first byte stops counting and drops OUT.
			c.frozen = c.count(c.elapsed(now))
			c.loaded, c.armed, c.running, c.hasNext = false, false, false, false
		}
		return
	default:
		raw = uint16(c.crLSB) | uint16(v)<<8
		c.writeMSB = false
	}
	c.cr = c.decode(raw)
	c.load(now)
}

// decode turns a count as written into clocks: 0 is the largest count,
// and BCD digits above 9 count as 9.
func (c *pitChannel) decode(raw uint16) uint32 {
	n := uint32(raw)
	if c.bcd {
		n = 0
		for shift := 12; shift >= 0; shift -= 4 {
			n = n*10 + min(uint32(raw>>shift&0xf), 9)
		}
	}
	if n == 0 {
		return uint32(c.modulus())
	}
	return n
}

// encode turns the counting element into what the guest reads.
func (c *pitChannel) encode(n uint32) uint16 {
	if !c.bcd {
		return uint16(n)
	}
	n %= 10000
	return uint16(n/1000<<12 | n/100%10<<8 | n/10%10<<4 | n%10)
}

// load puts a complete count written by the guest to use.
func (c *pitChannel) load(now time.Duration) {
	c.nullCount = true
	first := !c.loaded
	c.loaded = true
	switch c.mode {
	case 0, 4:
		c.start(now, c.cr)
	case 2, 3:
		if first || !c.running {
			c.start(now, c.cr)
			return
		}
		// The current period runs out first.
		n := int64(c.reload)
		c.next = c.cr
		c.nextAt = (max(c.elapsed(now), c.lastD)/n + 1) * n
		c.hasNext = true
	default: // 1, 5: waits for a trigger on the gate
		if first {
			c.armed, c.running = false, false
		}
	}
}

// setGate drives the channel's gate input.
func (c *pitChannel) setGate(now time.Duration, g bool) {
	if g == c.gate {
		return
	}
	d := c.elapsed(now)
	c.gate = g
	if !c.loaded {
		return
	}
	switch {
	case c.mode == 0 || c.mode == 4:
		// The gate suspends counting.
		c.base, c.origin, c.running = d, now, g
	case !g:
		if c.mode == 2 || c.mode == 3 {
			c.base, c.running = d, false
		}
	default:
		// A rising edge triggers modes 1 and 5 and restarts 2 and 3.
		c.start(now, c.cr)
	}
}

// latchCount is the counter latch command; a latch not yet read stays.
func (c *pitChannel) latchCount(now time.Duration) {
	if c.latchState != 0 {
		return
	}
	c.latch = c.encode(c.count(c.elapsed(now)))
	c.latchState = c.rw
}

// latchStatus is the read-back command's status latch.
func (c *pitChannel) latchStatus(now time.Duration) {
	if c.statusLatched {
		return
	}
	st := c.rw<<4 | c.modeBits<<1
	if c.bcd {
		st |= 1
	}
	if c.out(c.elapsed(now)) {
		st |= pitStatOut
	}
	if c.nullCount {
		st |= pitStatNull
	}
	c.status = st
	c.statusLatched = true
}

// read returns the next byte the guest reads: the latched status, the
// latched count, or the live count.
func (c *pitChannel) read(now time.Duration) byte {
	if c.statusLatched {
		c.statusLatched = false
		return c.status
	}
	switch c.latchState {
	case pitRWLSB:
		c.latchState = 0
		return byte(c.latch)
	case pitRWMSB:
		c.latchState = 0
		return byte(c.latch >> 8)
	case pitRWWord:
		c.latchState = pitRWMSB
		return byte(c.latch)
	}
	v := c.encode(c.count(c.elapsed(now)))
	switch c.rw {
	case pitRWLSB:
		return byte(v)
	case pitRWMSB:
		return byte(v >> 8)
	}
	c.readMSB = !c.readMSB
	if c.readMSB {
		return byte(v)
	}
	return byte(v >> 8)
}

// PIT is the i8254 programmable interval timer at ports 0x40-0x43
// (register size 4), with channel 2's gate and output on port 0x61
// (Port61, size 1), for running a guest without KVM's in-kernel PIT.
//
// The counters are not stepped: counts and outputs are derived from
// clock() when the guest looks, so channel 2 moves in real time for
// Linux's TSC calibration at no cost. Channel 0's output drives IRQ 0,
// which needs somebody to look at the right time: the VMM runs a
// goroutine that sleeps until NextEvent and calls Tick, which raises the
// interrupt. A guest reprogramming channel 0 calls Changed so that
// goroutine asks NextEvent again. Channels 0 and 1 have their gates tied
// high; channel 1 (DRAM refresh) drives nothing.
//
// Deviations from the 82C54: a count is loaded at the instant it is
// written rather than on the next clock edge; a new count written to a
// running mode-3 counter takes over at the end of the full period rather
// than of the half period.
//
// All methods are safe for concurrent use. Set Changed before the first
// access and leave it.
type PIT struct {
	// Changed, if not nil, is called after a guest write to channel 0
	// (control word or count), when NextEvent may have moved. It runs
	// on the vCPU thread after the PIT's lock is released; a
	// non-blocking send to the timer goroutine is what it is for.
	Changed func()

	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64
	// LostTicks counts rising edges of channel 0's output that Tick
	// merged into one interrupt because it was called late.
	LostTicks atomic.Uint64

	clock  func() time.Duration
	irq    func(level bool)
	port61 pitPort61

	mu      sync.Mutex
	ch      [3]pitChannel
	level   bool // IRQ 0 as last driven
	control byte // port 0x61 bits 1-3
}

// NewPIT returns a PIT whose time is clock() (nil: time since NewPIT),
// a monotonic time that must move in real time, and whose channel 0
// drives irq (nil: nothing). irq is called with each change of level,
// with the PIT's lock held, so it must not call back into the PIT;
// PIC.SetIRQ(0, level) is what it is for.
//
// No channel counts until the guest programs it. IRQ 0 is taken to be
// high at first, as OUT is after reset, so the first call is irq(false).
func NewPIT(clock func() time.Duration, irq func(level bool)) *PIT {
	if clock == nil {
		t0 := time.Now()
		clock = func() time.Duration { return time.Since(t0) }
	}
	p := &PIT{clock: clock, irq: irq, level: true}
	for i := range p.ch {
		c := &p.ch[i]
		c.rw, c.modeBits, c.mode = pitRWWord, 3, 3
		c.gate = i != 2 // channel 2's gate is port 0x61 bit 0, clear at reset
		c.nullCount = true
	}
	p.port61.p = p
	return p
}

// Port61 returns the device for port 0x61: bit 0 channel 2's gate, bit 1
// the speaker enable, bits 2-3 stored, bit 4 the refresh toggle, bit 5
// channel 2's output.
func (p *PIT) Port61() Device { return &p.port61 }

// NextEvent returns when, in clock() terms, channel 0's output next rises
// (at or before the current time if a rise is due and Tick has not yet
// been called), and false if it will not without the guest's doing.
func (p *PIT) NextEvent() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := &p.ch[0]
	k, ok := c.nextRise(c.lastD)
	if !ok {
		return 0, false
	}
	return c.timeOf(k), true
}

// Tick brings IRQ 0 up to date with channel 0 at now: each rising edge of
// the output since the last Tick becomes one rising edge of IRQ 0, except
// that several are merged into one (and the others counted in LostTicks),
// as the interrupt controller would merge them anyway.
func (p *PIT) Tick(now time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync0(now)
}

// sync0 reports channel 0's output to IRQ 0: rising edges due by now
// first, then the level at now.
func (p *PIT) sync0(now time.Duration) {
	c := &p.ch[0]
	n := c.settle(now)
	d := c.elapsed(now)
	if d > c.lastD {
		n += c.risingEdges(c.lastD, d)
		c.lastD = d
	}
	if n > 0 {
		p.LostTicks.Add(uint64(n - 1))
		p.setIRQ(false)
		p.setIRQ(true)
	}
	p.setIRQ(c.out(d))
}

func (p *PIT) setIRQ(level bool) {
	if level == p.level {
		return
	}
	p.level = level
	if p.irq != nil {
		p.irq(level)
	}
}

// settle brings channel i up to now before it is looked at or changed.
// For channel 0 that includes reporting due edges, so none is lost when
// the guest reprograms it.
func (p *PIT) settle(i int, now time.Duration) {
	if i == 0 {
		p.sync0(now)
		return
	}
	p.ch[i].settle(now)
}

// Read implements Device: offsets 0-2 read the counters; the control
// word register reads as all ones.
func (p *PIT) Read(off uint64, data []byte) {
	if off > pitControl || len(data) != 1 {
		p.Missed.Add(1)
		fillOnes(data)
		return
	}
	if off == pitControl {
		data[0] = 0xff
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	p.settle(int(off), now)
	data[0] = p.ch[off].read(now)
}

// Write implements Device: offsets 0-2 take counts, offset 3 control
// words, counter latch and read-back commands.
func (p *PIT) Write(off uint64, data []byte) {
	if off > pitControl || len(data) != 1 {
		p.Missed.Add(1)
		return
	}
	p.mu.Lock()
	changed := p.write(off, data[0])
	p.mu.Unlock()
	if changed && p.Changed != nil {
		p.Changed()
	}
}

// write does Write's work under the lock and reports whether channel 0
// was reprogrammed.
func (p *PIT) write(off uint64, v byte) (changed bool) {
	now := p.clock()
	if off < pitControl {
		p.settle(int(off), now)
		p.ch[off].writeCount(now, v)
		if off == 0 {
			p.sync0(now)
		}
		return off == 0
	}
	sc, rw := v>>6, v>>4&3
	switch {
	case sc == pitReadBack:
		for i := range p.ch {
			if v&(2<<i) == 0 {
				continue
			}
			p.settle(i, now)
			if v&pitRBCount == 0 {
				p.ch[i].latchCount(now)
			}
			if v&pitRBStatus == 0 {
				p.ch[i].latchStatus(now)
			}
		}
	case rw == pitLatchCmd:
		p.settle(int(sc), now)
		p.ch[sc].latchCount(now)
	default:
		p.settle(int(sc), now)
		p.ch[sc].program(now, v)
		if sc == 0 {
			p.sync0(now)
			return true
		}
	}
	return false
}

// pitPort61 is system control port B.
type pitPort61 struct{ p *PIT }

// Read implements Device.
func (d *pitPort61) Read(off uint64, data []byte) {
	p := d.p
	if off != 0 || len(data) != 1 {
		p.Missed.Add(1)
		fillOnes(data)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	c := &p.ch[2]
	c.settle(now)
	v := p.control
	if c.gate {
		v |= port61Gate2
	}
	if now >= 0 && (now/refreshPeriod)&1 != 0 {
		v |= port61Refresh
	}
	if c.out(c.elapsed(now)) {
		v |= port61Out2
	}
	data[0] = v
}

// Write implements Device.
func (d *pitPort61) Write(off uint64, data []byte) {
	p := d.p
	if off != 0 || len(data) != 1 {
		p.Missed.Add(1)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	p.ch[2].settle(now)
	p.ch[2].setGate(now, data[0]&port61Gate2 != 0)
	p.control = data[0] & port61RW &^ port61Gate2
}
