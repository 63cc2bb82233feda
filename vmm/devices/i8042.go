package devices

import (
	"sync"
	"sync/atomic"
)

// i8042 status register bits.
const (
	kbdStatOBF    = 0x01 // output buffer full: a byte waits at port 0x60
	kbdStatSys    = 0x04 // system flag, mirrors command byte bit 2
	kbdStatCmd    = 0x08 // last write went to the command port
	kbdStatUnlock = 0x10 // keyboard not inhibited
)

// i8042 controller commands written to port 0x64.
const (
	kbdCmdReadRAM   = 0x20 // 0x20-0x3f: read controller RAM byte n (0 is the command byte)
	kbdCmdWriteRAM  = 0x60 // 0x60-0x7f: write controller RAM byte n
	kbdCmdTestAux   = 0xa9
	kbdCmdSelfTest  = 0xaa
	kbdCmdTestKbd   = 0xab
	kbdCmdDisKbd    = 0xad
	kbdCmdEnKbd     = 0xae
	kbdCmdReadOut   = 0xd0
	kbdCmdWriteOut  = 0xd1
	kbdCmdWriteKbd  = 0xd2 // next data byte appears as keyboard input
	kbdCmdWriteAux  = 0xd3 // next data byte appears as mouse input (loopback)
	kbdCmdToAux     = 0xd4 // next data byte goes to the mouse
	kbdCmdPulseLow  = 0xf0 // 0xf0-0xff: pulse output port lines whose bit is clear
	kbdCtrlKbdDis   = 0x10 // command byte: keyboard clock disabled
	kbdCtrlDefault  = 0x05 // keyboard interrupt on, system flag set
	kbdOutDefault   = 0x03 // output port: reset line high (not in reset), A20 on
	kbdSelfTestPass = 0x55
	kbdAuxStuck     = 0x02 // AUX interface test result: clock line stuck
)

// I8042 is the PS/2 controller, emulated just enough for firmware and
// Linux to probe it quickly and to reset the machine through it. No
// keyboard or mouse is attached; bytes sent to them vanish.
//
// Its two ports are not adjacent (0x61-0x63 belong to other devices), so
// it is registered twice: DataPort at 0x60 and CommandPort at 0x64, each
// with size 1. The methods are safe for concurrent use.
type I8042 struct {
	// Missed counts accesses at a bad offset or width, and unknown
	// commands.
	Missed atomic.Uint64

	reset func()
	data  i8042Data
	cmd   i8042Command

	mu      sync.Mutex
	ram     [32]byte // controller RAM; byte 0 is the command byte
	outPort byte
	outBuf  byte // last byte offered at port 0x60
	outFull bool
	status  byte // kbdStatCmd only; the rest is computed
	pending byte // command waiting for its data byte, 0 if none
}

// NewI8042 returns a controller whose reset line calls reset (nil: ignored).
// reset runs on the vCPU thread that asked for it, after the controller's
// lock is released; it should ask the machine to reset or stop.
func NewI8042(reset func()) *I8042 {
	c := &I8042{reset: reset, outPort: kbdOutDefault}
	c.ram[0] = kbdCtrlDefault
	c.data.c, c.cmd.c = c, c
	return c
}

// DataPort returns the device for port 0x60.
func (c *I8042) DataPort() Device { return &c.data }

// CommandPort returns the device for port 0x64: status on read, command
// on write.
func (c *I8042) CommandPort() Device { return &c.cmd }

type i8042Data struct{ c *I8042 }

func (p *i8042Data) Read(off uint64, data []byte) {
	if !p.c.check(off, data) {
		fillOnes(data)
		return
	}
	c := p.c
	c.mu.Lock()
	defer c.mu.Unlock()
	// Reading the data port empties the buffer; reading it again returns
	// the same stale byte, as the hardware's latch does.
	data[0] = c.outBuf
	c.outFull = false
}

func (p *i8042Data) Write(off uint64, data []byte) {
	if !p.c.check(off, data) {
		return
	}
	if p.c.writeData(data[0]) && p.c.reset != nil {
		p.c.reset()
	}
}

type i8042Command struct{ c *I8042 }

func (p *i8042Command) Read(off uint64, data []byte) {
	if !p.c.check(off, data) {
		fillOnes(data)
		return
	}
	c := p.c
	c.mu.Lock()
	defer c.mu.Unlock()
	// Input is consumed at once, so the input buffer is never full and
	// Linux never waits to write.
	st := c.status | kbdStatUnlock | c.ram[0]&kbdStatSys
	if c.outFull {
		st |= kbdStatOBF
	}
	data[0] = st
}

func (p *i8042Command) Write(off uint64, data []byte) {
	if !p.c.check(off, data) {
		return
	}
	if p.c.writeCommand(data[0]) && p.c.reset != nil {
		p.c.reset()
	}
}

// check counts and refuses anything but a byte access at offset 0.
func (c *I8042) check(off uint64, data []byte) bool {
	if off != 0 || len(data) != 1 {
		c.Missed.Add(1)
		return false
	}
	return true
}

// offer puts a reply in the output buffer, replacing any unread byte.
func (c *I8042) offer(b byte) {
	c.outBuf = b
	c.outFull = true
}

// writeCommand runs a controller command and reports whether it pulsed
// the reset line.
func (c *I8042) writeCommand(v byte) (reset bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status |= kbdStatCmd
	c.pending = 0
	switch {
	case v >= kbdCmdReadRAM && v < kbdCmdReadRAM+32:
		c.offer(c.ram[v-kbdCmdReadRAM])
	case v >= kbdCmdWriteRAM && v < kbdCmdWriteRAM+32,
		v == kbdCmdWriteOut, v == kbdCmdWriteKbd, v == kbdCmdWriteAux, v == kbdCmdToAux:
		c.pending = v
	case v == kbdCmdSelfTest:
		c.offer(kbdSelfTestPass)
	case v == kbdCmdTestKbd:
		c.offer(0x00)
	case v == kbdCmdTestAux:
		// There is no AUX port. Reporting a stuck clock line makes
		// Linux's i8042_check_aux give up at once instead of waiting.
		c.offer(kbdAuxStuck)
	case v == kbdCmdDisKbd:
		c.ram[0] |= kbdCtrlKbdDis
	case v == kbdCmdEnKbd:
		c.ram[0] &^= kbdCtrlKbdDis
	case v == 0xa7, v == 0xa8:
		// Disable/enable AUX: nothing to switch without an AUX port, so
		// the command byte's AUX bit does not move.
	case v == kbdCmdReadOut:
		c.offer(c.outPort)
	case v >= kbdCmdPulseLow:
		// Bits 0-3 clear select the output lines to pulse; line 0 is the
		// CPU reset. 0xfe is the classic reboot.
		return v&0x01 == 0
	default:
		c.Missed.Add(1)
	}
	return false
}

// writeData takes a data byte for the pending command, or for the
// keyboard when none is pending, and reports whether it reset the CPU.
func (c *I8042) writeData(v byte) (reset bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status &^= kbdStatCmd
	cmd := c.pending
	c.pending = 0
	switch {
	case cmd >= kbdCmdWriteRAM && cmd < kbdCmdWriteRAM+32:
		c.ram[cmd-kbdCmdWriteRAM] = v
	case cmd == kbdCmdWriteOut:
		c.outPort = v
		// Bit 0 is the CPU reset line, active low.
		return v&0x01 == 0
	case cmd == kbdCmdWriteKbd:
		c.offer(v)
	case cmd == kbdCmdWriteAux:
		// The byte comes back, but not flagged as AUX data since there
		// is no AUX port: Linux's AUX loopback test fails at once.
		c.offer(v)
	default:
		// kbdCmdToAux or no command: the byte is for a keyboard or mouse
		// that is not there.
	}
	return false
}
