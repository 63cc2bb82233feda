package devices

import (
	"testing"
	"time"
)

// fakeClock is a host clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// A Saturday afternoon.
var cmosEpoch = time.Date(2026, time.March, 14, 15, 9, 26, 500e6, time.UTC)

// cmosGet selects register i (with the NMI-disable bit set, which must not
// matter) and reads it.
func cmosGet(d Device, i byte) byte {
	out8(d, 0, 0x80|i)
	return in8(d, 1)
}

func cmosSet(d Device, i, v byte) {
	out8(d, 0, i)
	out8(d, 1, v)
}

func TestCMOSClock(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		regB byte
		want map[byte]byte
	}{
		{"BCD 24h", cmosEpoch, 0x02, map[byte]byte{
			0x00: 0x26, 0x02: 0x09, 0x04: 0x15, 0x06: 0x07, 0x07: 0x14, 0x08: 0x03, 0x09: 0x26, 0x32: 0x20,
		}},
		{"binary 24h", cmosEpoch, 0x06, map[byte]byte{
			0x00: 26, 0x02: 9, 0x04: 15, 0x06: 7, 0x07: 14, 0x08: 3, 0x09: 26, 0x32: 20,
		}},
		{"BCD 12h afternoon", cmosEpoch, 0x00, map[byte]byte{0x04: 0x83}},
		{"binary 12h afternoon", cmosEpoch, 0x04, map[byte]byte{0x04: 0x83}},
		{"12h midnight", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), 0x00, map[byte]byte{
			0x04: 0x12, 0x09: 0x99, 0x32: 0x19, 0x06: 0x06,
		}},
		{"12h noon", time.Date(2000, 1, 2, 12, 30, 0, 0, time.UTC), 0x00, map[byte]byte{
			0x04: 0x92, 0x09: 0x00, 0x32: 0x20, 0x06: 0x01,
		}},
		{"BCD 24h late", time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC), 0x02, map[byte]byte{
			0x00: 0x59, 0x02: 0x59, 0x04: 0x23, 0x07: 0x31, 0x08: 0x12, 0x09: 0x99,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{tt.at}
			c := NewCMOS(clk.now, 0, 0)
			cmosSet(c, cmosRegB, tt.regB)
			for reg, want := range tt.want {
				if got := cmosGet(c, reg); got != want {
					t.Errorf("register %#02x = %#02x, want %#02x", reg, got, want)
				}
			}
		})
	}
}

func TestCMOSClockRuns(t *testing.T) {
	clk := &fakeClock{cmosEpoch}
	c := NewCMOS(clk.now, 0, 0)
	clk.t = clk.t.Add(61 * time.Second)
	if got := cmosGet(c, cmosSeconds); got != 0x27 {
		t.Errorf("seconds = %#x, want 0x27", got)
	}
	if got := cmosGet(c, cmosMinutes); got != 0x10 {
		t.Errorf("minutes = %#x, want 0x10", got)
	}
}

func TestCMOSSetClock(t *testing.T) {
	clk := &fakeClock{cmosEpoch}
	c := NewCMOS(clk.now, 0, 0)

	// The way Linux's mc146818_set_time does it: SET, fields, clear SET.
	cmosSet(c, cmosRegB, 0x82)
	clk.t = clk.t.Add(10 * time.Second) // halted: must not move
	if got := cmosGet(c, cmosSeconds); got != 0x26 {
		t.Fatalf("seconds while halted = %#x, want 0x26", got)
	}
	for reg, v := range map[byte]byte{0x00: 0x00, 0x02: 0x30, 0x04: 0x08, 0x07: 0x01, 0x08: 0x07, 0x09: 0x30} {
		cmosSet(c, reg, v)
	}
	cmosSet(c, cmosRegB, 0x02)
	clk.t = clk.t.Add(5 * time.Second)
	want := map[byte]byte{0x00: 0x05, 0x02: 0x30, 0x04: 0x08, 0x06: 0x02, 0x07: 0x01, 0x08: 0x07, 0x09: 0x30, 0x32: 0x20}
	for reg, w := range want {
		if got := cmosGet(c, reg); got != w {
			t.Errorf("after set: register %#02x = %#02x, want %#02x", reg, got, w)
		}
	}

	// A direct write to one field while running moves the clock too.
	cmosSet(c, cmosYear, 0x31)
	if got := cmosGet(c, cmosYear); got != 0x31 {
		t.Errorf("year after direct write = %#x, want 0x31", got)
	}
	if got := cmosGet(c, cmosSeconds); got != 0x05 {
		t.Errorf("seconds after direct write = %#x, want 0x05", got)
	}
}

func TestCMOSSetClock12h(t *testing.T) {
	clk := &fakeClock{cmosEpoch}
	c := NewCMOS(clk.now, 0, 0)
	cmosSet(c, cmosRegB, 0x84) // SET, binary, 12h
	cmosSet(c, cmosHours, 0x80|11)
	cmosSet(c, cmosRegB, 0x06) // binary, 24h
	if got := cmosGet(c, cmosHours); got != 23 {
		t.Errorf("hours = %d, want 23 (11 PM)", got)
	}
}

func TestCMOSStatusRegisters(t *testing.T) {
	c := NewCMOS(nil, 0, 0)
	tests := []struct {
		reg, write byte
		wantBefore byte
		wantAfter  byte
	}{
		{cmosRegA, 0xa6, 0x26, 0x26}, // UIP is read-only and clear
		{cmosRegA, 0x2f, 0x26, 0x2f},
		{cmosRegB, 0x06, 0x02, 0x06},
		{cmosRegC, 0xff, 0x00, 0x00},
		{cmosRegD, 0x00, 0x80, 0x80},
	}
	for _, tt := range tests {
		if got := cmosGet(c, tt.reg); got != tt.wantBefore {
			t.Errorf("register %#x = %#x, want %#x", tt.reg, got, tt.wantBefore)
		}
		cmosSet(c, tt.reg, tt.write)
		if got := cmosGet(c, tt.reg); got != tt.wantAfter {
			t.Errorf("register %#x after writing %#x = %#x, want %#x", tt.reg, tt.write, got, tt.wantAfter)
		}
	}
}

func TestCMOSMemorySize(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	tests := []struct {
		name         string
		below, above uint64
		want         map[byte]byte
	}{
		{"none", 0, 0, map[byte]byte{0x15: 0, 0x16: 0, 0x17: 0, 0x34: 0, 0x5b: 0}},
		{"512 KiB", 512 << 10, 0, map[byte]byte{0x15: 0x00, 0x16: 0x02, 0x17: 0, 0x18: 0}},
		{"8 MiB", 8 * mib, 0, map[byte]byte{
			0x15: 0x80, 0x16: 0x02, 0x17: 0x00, 0x18: 0x1c, 0x30: 0x00, 0x31: 0x1c, 0x34: 0, 0x35: 0,
		}},
		{"512 MiB", 512 * mib, 0, map[byte]byte{
			0x17: 0xff, 0x18: 0xff, 0x30: 0xff, 0x31: 0xff, 0x34: 0x00, 0x35: 0x1f, 0x5b: 0, 0x5c: 0, 0x5d: 0,
		}},
		{"3 GiB + 4 GiB", 3 * gib, 4 * gib, map[byte]byte{
			0x34: 0x00, 0x35: 0xbf, 0x5b: 0x00, 0x5c: 0x00, 0x5d: 0x01,
		}},
		{"huge high memory saturates", 3 * gib, 1 << 50, map[byte]byte{0x5b: 0xff, 0x5c: 0xff, 0x5d: 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCMOS(nil, tt.below, tt.above)
			for reg, want := range tt.want {
				if got := cmosGet(c, reg); got != want {
					t.Errorf("register %#02x = %#02x, want %#02x", reg, got, want)
				}
			}
		})
	}
}

func TestCMOSNVRAM(t *testing.T) {
	c := NewCMOS(nil, 0, 0)
	for _, reg := range []byte{0x01, 0x03, 0x05, 0x0e, 0x10, 0x2f, 0x33, 0x40, 0x5f, 0x7f} {
		cmosSet(c, reg, reg^0xa5)
	}
	for _, reg := range []byte{0x01, 0x03, 0x05, 0x0e, 0x10, 0x2f, 0x33, 0x40, 0x5f, 0x7f} {
		if got := cmosGet(c, reg); got != reg^0xa5 {
			t.Errorf("NVRAM %#02x = %#02x, want %#02x", reg, got, reg^0xa5)
		}
	}
	// Bit 7 of the index is the NMI mask, not part of the address.
	out8(c, 0, 0xc0)
	out8(c, 1, 0x77)
	out8(c, 0, 0x40)
	if got := in8(c, 1); got != 0x77 {
		t.Errorf("NVRAM 0x40 via index 0xc0 = %#x, want 0x77", got)
	}
}

func TestCMOSBadAccess(t *testing.T) {
	c := NewCMOS(nil, 0, 0)
	if got := in8(c, 0); got != 0xff {
		t.Errorf("index port read = %#x, want 0xff", got)
	}
	if got := in(c, 1, 2); got != 0xffff {
		t.Errorf("word read = %#x, want 0xffff", got)
	}
	if got := in8(c, 2); got != 0xff {
		t.Errorf("read at offset 2 = %#x, want 0xff", got)
	}
	out(c, 0, 2, 0x0140) // must not select 0x40
	out8(c, 2, 0)
	if got := c.Missed.Load(); got != 4 {
		t.Errorf("Missed = %d, want 4", got)
	}
}
