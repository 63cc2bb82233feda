package devices

import (
	"sync"
	"sync/atomic"
	"time"
)

// CMOS RAM layout: the MC146818 RTC registers, then NVRAM whose memory-size
// bytes firmware (SeaBIOS) and old kernels read.
const (
	cmosSeconds  = 0x00
	cmosMinutes  = 0x02
	cmosHours    = 0x04
	cmosWeekday  = 0x06
	cmosMonthDay = 0x07
	cmosMonth    = 0x08
	cmosYear     = 0x09
	cmosRegA     = 0x0a
	cmosRegB     = 0x0b
	cmosRegC     = 0x0c
	cmosRegD     = 0x0d
	cmosCentury  = 0x32

	regAUIP     = 0x80 // update in progress: never, the clock is read atomically
	regADefault = 0x26 // 32.768 kHz time base, 1024 Hz rate
	regBSet     = 0x80 // updates halted while the guest sets the clock
	regBBinary  = 0x04 // DM: binary rather than BCD
	regB24h     = 0x02
	regDValid   = 0x80 // battery good
)

// CMOS is the MC146818-style RTC and its NVRAM, at port 0x70 (register
// size 2): offset 0 selects a byte (bit 7, NMI disable, is ignored),
// offset 1 reads or writes it.
//
// The clock registers show now() plus whatever offset the guest has set
// by writing them, in the fields of now()'s location (pass UTC for a Linux
// guest). No RTC interrupts are generated: register C always reads 0.
// The methods are safe for concurrent use.
type CMOS struct {
	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64

	now func() time.Time

	mu     sync.Mutex
	index  byte
	ram    [128]byte
	offset time.Duration // guest clock minus host clock, whole seconds
}

// NewCMOS returns a CMOS whose clock follows now (nil: time.Now in UTC)
// and whose memory-size bytes describe memBelow4G and memAbove4G bytes of
// guest RAM, filled in as QEMU does for SeaBIOS.
func NewCMOS(now func() time.Time, memBelow4G, memAbove4G uint64) *CMOS {
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	c := &CMOS{now: now}
	c.ram[cmosRegA] = regADefault
	c.ram[cmosRegB] = regB24h // BCD, 24-hour
	c.ram[cmosRegD] = regDValid
	c.setMemorySize(memBelow4G, memAbove4G)
	return c
}

// setMemorySize fills the NVRAM memory-size bytes like QEMU's
// pc_cmos_init: base memory in KiB up to 640, extended memory above 1 MiB
// in KiB (twice), memory from 16 MiB to 4 GiB and above 4 GiB in 64 KiB
// units. Each field saturates rather than wrapping.
func (c *CMOS) setMemorySize(below, above uint64) {
	const kib, mib = 1 << 10, 1 << 20
	put := func(reg int, v, limit uint64, n int) {
		v = min(v, limit)
		for i := range n {
			c.ram[reg+i] = byte(v >> (8 * i))
		}
	}
	put(0x15, below/kib, 640, 2)
	ext := uint64(0)
	if below > mib {
		ext = (below - mib) / kib
	}
	put(0x17, ext, 0xffff, 2)
	put(0x30, ext, 0xffff, 2)
	high := uint64(0)
	if below > 16*mib {
		high = (below - 16*mib) / (64 * kib)
	}
	put(0x34, high, 0xffff, 2)
	put(0x5b, above/(64*kib), 0xffffff, 3)
}

// Read implements Device.
func (c *CMOS) Read(off uint64, data []byte) {
	if off > 1 || len(data) != 1 {
		c.Missed.Add(1)
		fillOnes(data)
		return
	}
	if off == 0 {
		data[0] = 0xff // the index port is write-only
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	data[0] = c.readReg(c.index)
}

// Write implements Device.
func (c *CMOS) Write(off uint64, data []byte) {
	if off > 1 || len(data) != 1 {
		c.Missed.Add(1)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if off == 0 {
		c.index = data[0] & 0x7f
		return
	}
	c.writeReg(c.index, data[0])
}

func (c *CMOS) readReg(i byte) byte {
	switch {
	case isClockReg(i) && c.ram[cmosRegB]&regBSet == 0:
		var clk [128]byte
		c.encodeClock(&clk, c.guestTime())
		return clk[i]
	case i == cmosRegC:
		return 0 // no interrupt flags, ever
	}
	return c.ram[i]
}

func (c *CMOS) writeReg(i, v byte) {
	switch {
	case isClockReg(i):
		if c.ram[cmosRegB]&regBSet != 0 {
			// Halted: the guest is setting the clock field by field;
			// the new time takes effect when SET is cleared.
			c.ram[i] = v
			return
		}
		c.encodeClock(&c.ram, c.guestTime())
		c.ram[i] = v
		c.setGuestTime()
	case i == cmosRegA:
		c.ram[i] = v &^ regAUIP
	case i == cmosRegB:
		old := c.ram[cmosRegB]
		switch {
		case old&regBSet == 0 && v&regBSet != 0:
			// Freeze the clock where it is, in the new format, for the
			// guest to edit.
			c.ram[i] = v
			c.encodeClock(&c.ram, c.guestTime())
		case old&regBSet != 0 && v&regBSet == 0:
			// The fields were written in the format in force while
			// halted: decode them before switching.
			c.setGuestTime()
			c.ram[i] = v
		default:
			c.ram[i] = v
		}
	case i == cmosRegC, i == cmosRegD:
		// Read-only.
	default:
		c.ram[i] = v
	}
}

// isClockReg reports whether i is a register that shows the running
// clock (the alarm registers 1, 3 and 5 in between are plain storage).
func isClockReg(i byte) bool {
	switch i {
	case cmosSeconds, cmosMinutes, cmosHours, cmosWeekday, cmosMonthDay, cmosMonth, cmosYear, cmosCentury:
		return true
	}
	return false
}

func (c *CMOS) guestTime() time.Time {
	return c.now().Add(c.offset)
}

// setGuestTime makes the time held in the clock registers the guest's
// current time. The weekday register is not read: it follows the date.
func (c *CMOS) setGuestTime() {
	r := &c.ram
	hour := c.fromReg(r[cmosHours] & 0x7f)
	if r[cmosRegB]&regB24h == 0 {
		hour %= 12
		if r[cmosHours]&0x80 != 0 {
			hour += 12
		}
	}
	now := c.now()
	t := time.Date(
		c.fromReg(r[cmosCentury])*100+c.fromReg(r[cmosYear]),
		time.Month(c.fromReg(r[cmosMonth])), c.fromReg(r[cmosMonthDay]),
		hour, c.fromReg(r[cmosMinutes]), c.fromReg(r[cmosSeconds]), 0, now.Location())
	c.offset = t.Sub(now.Truncate(time.Second))
}

// encodeClock writes t into the clock registers of r in the format
// register B selects.
func (c *CMOS) encodeClock(r *[128]byte, t time.Time) {
	r[cmosSeconds] = c.toReg(t.Second())
	r[cmosMinutes] = c.toReg(t.Minute())
	if c.ram[cmosRegB]&regB24h != 0 {
		r[cmosHours] = c.toReg(t.Hour())
	} else {
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		r[cmosHours] = c.toReg(h)
		if t.Hour() >= 12 {
			r[cmosHours] |= 0x80
		}
	}
	r[cmosWeekday] = c.toReg(int(t.Weekday()) + 1) // Sunday is 1
	r[cmosMonthDay] = c.toReg(t.Day())
	r[cmosMonth] = c.toReg(int(t.Month()))
	r[cmosYear] = c.toReg(t.Year() % 100)
	r[cmosCentury] = c.toReg(t.Year() / 100 % 100)
}

// toReg encodes 0-99 in BCD or binary, as register B says.
func (c *CMOS) toReg(v int) byte {
	if c.ram[cmosRegB]&regBBinary != 0 {
		return byte(v)
	}
	return byte(v/10<<4 | v%10)
}

// fromReg decodes a clock register in BCD or binary, as register B says.
func (c *CMOS) fromReg(b byte) int {
	if c.ram[cmosRegB]&regBBinary != 0 {
		return int(b)
	}
	return int(b>>4)*10 + int(b&0x0f)
}
