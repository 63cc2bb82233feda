package devices

import (
	"sync"
	"sync/atomic"
)

// i8259A command words. On the command port (offset 0) bit 4 marks ICW1;
// with bit 4 clear, bit 3 tells OCW3 from OCW2. The data port (offset 1)
// takes ICW2-ICW4 during initialization and OCW1 (the mask) otherwise.
const (
	picICW1     = 0x10
	picICW1IC4  = 0x01 // ICW4 follows
	picICW1SNGL = 0x02 // single 8259A: no ICW3
	picOCW3     = 0x08
	picOCW3RIS  = 0x01 // read ISR rather than IRR...
	picOCW3RR   = 0x02 // ...if this bit says RIS is meant
	picOCW3Poll = 0x04
	picOCW3SMM  = 0x20 // special mask mode on or off...
	picOCW3ESMM = 0x40 // ...if this bit says SMM is meant
	picICW4AEOI = 0x02
	picICW4SFNM = 0x10 // special fully nested mode

	// OCW2 commands, the word's top three bits (R, SL, EOI); 2 is a no-op.
	picRotateAEOIClear   = 0
	picEOI               = 1
	picSpecificEOI       = 3
	picRotateAEOISet     = 4
	picRotateEOI         = 5
	picSetPriority       = 6
	picRotateSpecificEOI = 7

	picPollInterrupt = 0x80 // poll byte: a request was found
	picCascadeIR     = 2    // the slave's INT drives the master's IR2
	picSpuriousIR    = 7    // what a chip answers when its request has gone

	// initState: which ICW the data port expects next.
	picInitReady = 0
	picInitICW2  = 1
	picInitICW3  = 2
	picInitICW4  = 3

	// PIIX ELCR: IRQ0-2 on the master and IRQ8 and IRQ13 on the slave are
	// always edge-triggered, so their bits read as zero.
	elcrMasterMask = 0xf8
	elcrSlaveMask  = 0xde
)

// i8259 is one 8259A. Its methods run under PIC.mu.
type i8259 struct {
	master bool

	line byte // input levels, remembered for edge detection
	irr  byte
	imr  byte
	isr  byte
	elcr byte
	mask byte // ELCR bits that may be set
	base byte // vector of IR0, from ICW2
	top  byte // the IR with the highest priority; moved by rotation
	icw3 byte

	initState   byte
	needICW4    bool
	single      bool
	readISR     bool
	poll        bool
	specialMask bool
	autoEOI     bool
	rotateAEOI  bool
	sfnm        bool
}

// priority returns the priority level (0 highest) of the most urgent IR
// set in bits, or 8 if none is.
func (c *i8259) priority(bits byte) int {
	if bits == 0 {
		return 8
	}
	p := 0
	for bits&(1<<((p+int(c.top))&7)) == 0 {
		p++
	}
	return p
}

// pending returns the IR the chip asserts INT for, or -1: the most urgent
// unmasked request, if it outranks everything in service. In special mask
// mode masked IRs in service do not count; in special fully nested mode
// the master lets the slave interrupt an IR2 in service.
func (c *i8259) pending() int {
	p := c.priority(c.irr &^ c.imr)
	if p == 8 {
		return -1
	}
	inService := c.isr
	if c.specialMask {
		inService &^= c.imr
	}
	if c.master && c.sfnm {
		inService &^= 1 << picCascadeIR
	}
	if p < c.priority(inService) {
		return (p + int(c.top)) & 7
	}
	return -1
}

// setLine drives input ir. An edge-triggered IR latches a request on a
// rising edge and keeps it until acknowledged, as QEMU and KVM do (a real
// 8259A would answer IR7 if the line fell before INTA; the PIT's square
// wave does that every half period, which a guest with interrupts off for
// longer would see as spurious IRQ7s instead of timer ticks). A
// level-triggered IR's request follows the line.
func (c *i8259) setLine(ir int, level bool) {
	m := byte(1) << ir
	switch {
	case c.elcr&m != 0:
		if level {
			c.irr |= m
		} else {
			c.irr &^= m
		}
	case level && c.line&m == 0:
		c.irr |= m
	}
	if level {
		c.line |= m
	} else {
		c.line &^= m
	}
}

// intack is the chip's part of an INTA cycle for ir: the request moves to
// service (or, with auto-EOI, is ended at once).
func (c *i8259) intack(ir int) {
	m := byte(1) << ir
	if c.autoEOI {
		if c.rotateAEOI {
			c.top = byte(ir+1) & 7
		}
	} else {
		c.isr |= m
	}
	if c.elcr&m == 0 {
		c.irr &^= m
	}
}

// pollRead answers a read after the poll command: the INTA cycle done by
// software, with the IR number in the low bits.
func (c *i8259) pollRead() byte {
	ir := c.pending()
	if ir < 0 {
		return 0
	}
	c.intack(ir)
	return picPollInterrupt | byte(ir)
}

func (c *i8259) read(off uint64) byte {
	if c.poll {
		c.poll = false
		return c.pollRead()
	}
	switch {
	case off == 1:
		return c.imr
	case c.readISR:
		return c.isr
	}
	return c.irr
}

func (c *i8259) write(off uint64, v byte) {
	if off == 1 {
		c.writeData(v)
		return
	}
	switch {
	case v&picICW1 != 0:
		c.initialize(v)
	case v&picOCW3 != 0:
		if v&picOCW3Poll != 0 {
			c.poll = true
		}
		if v&picOCW3RR != 0 {
			c.readISR = v&picOCW3RIS != 0
		}
		if v&picOCW3ESMM != 0 {
			c.specialMask = v&picOCW3SMM != 0
		}
	default:
		c.ocw2(v)
	}
}

// initialize handles ICW1. Per the datasheet it clears the mask, gives IR7
// the lowest priority, clears special mask mode, selects IRR for reading
// and, without IC4, zeroes the ICW4 functions. Pending edge requests are
// dropped and the edge detector keeps the line levels, so an IR already
// high must fall and rise again to be seen. In-service bits are cleared
// too, as every PC emulator does.
func (c *i8259) initialize(v byte) {
	c.irr = c.line & c.elcr
	c.imr, c.isr, c.top = 0, 0, 0
	c.readISR, c.poll, c.specialMask = false, false, false
	c.autoEOI, c.rotateAEOI, c.sfnm = false, false, false
	c.needICW4 = v&picICW1IC4 != 0
	c.single = v&picICW1SNGL != 0
	// LTIM (bit 3) is ignored: on the PIIX the ELCR replaces it.
	c.initState = picInitICW2
}

func (c *i8259) writeData(v byte) {
	switch c.initState {
	case picInitICW2:
		c.base = v &^ 7
		switch {
		case !c.single:
			c.initState = picInitICW3
		case c.needICW4:
			c.initState = picInitICW4
		default:
			c.initState = picInitReady
		}
	case picInitICW3:
		c.icw3 = v
		c.initState = picInitReady
		if c.needICW4 {
			c.initState = picInitICW4
		}
	case picInitICW4:
		// µPM (8086 mode) and the buffered-mode bits change nothing here.
		c.autoEOI = v&picICW4AEOI != 0
		c.sfnm = v&picICW4SFNM != 0
		c.initState = picInitReady
	default: // OCW1
		c.imr = v
	}
}

func (c *i8259) ocw2(v byte) {
	switch cmd := v >> 5; cmd {
	case picRotateAEOIClear, picRotateAEOISet:
		c.rotateAEOI = cmd == picRotateAEOISet
	case picEOI, picRotateEOI:
		p := c.priority(c.isr)
		if p == 8 {
			return
		}
		ir := (p + int(c.top)) & 7
		c.isr &^= 1 << ir
		if cmd == picRotateEOI {
			c.top = byte(ir+1) & 7
		}
	case picSpecificEOI, picRotateSpecificEOI:
		ir := v & 7
		c.isr &^= 1 << ir
		if cmd == picRotateSpecificEOI {
			c.top = (ir + 1) & 7
		}
	case picSetPriority:
		c.top = (v + 1) & 7
	}
}

// PIC is the PC's pair of cascaded i8259A interrupt controllers, for
// running a guest without KVM's in-kernel irqchip: the master at port 0x20
// (Master, register size 2) with IRQ0-7, the slave at 0xa0 (Slave, size
// 2) with IRQ8-15 on the master's IR2, and the PIIX edge/level control
// registers at 0x4d0 (ELCR, size 2).
//
// Devices drive the IRQ lines with SetIRQ. The vCPU asks HasInterrupt
// before entering the guest and, once the guest can take an interrupt,
// runs the INTA cycle with Acknowledge and injects the vector it returns.
//
// All methods are safe for concurrent use. Set Notify before the first
// access and leave it.
type PIC struct {
	// Notify, if not nil, is called each time the master's INT output
	// rises, that is when HasInterrupt may have turned true, so the VMM
	// can wake or kick the vCPU. It is called after the PIC's lock is
	// released but possibly with the caller of SetIRQ still holding its
	// own (the PIT's, the UART's), so it must not call back into those
	// devices; a non-blocking send or a kick is what it is for.
	Notify func()

	// Missed counts accesses at a bad offset or width and SetIRQ calls
	// for a line that does not exist.
	Missed atomic.Uint64
	// Spurious counts INTA cycles answered with IR7 because the request
	// had gone: on the master (Acknowledge reports !ok) or on the slave.
	Spurious atomic.Uint64

	masterPort, slavePort picPort
	elcrPort              picELCR

	out atomic.Bool // the master's INT output; written under mu

	mu    sync.Mutex
	chips [2]i8259 // master, slave
}

// NewPIC returns the controller pair in its power-on state: vectors 0-15,
// nothing masked, every IRQ edge-triggered. Guests initialize it before
// enabling interrupts.
func NewPIC() *PIC {
	p := &PIC{}
	p.chips[0] = i8259{master: true, mask: elcrMasterMask, icw3: 1 << picCascadeIR}
	p.chips[1] = i8259{mask: elcrSlaveMask, icw3: picCascadeIR}
	p.masterPort = picPort{p: p, chip: 0}
	p.slavePort = picPort{p: p, chip: 1}
	p.elcrPort.p = p
	return p
}

// Master returns the device for ports 0x20-0x21.
func (p *PIC) Master() Device { return &p.masterPort }

// Slave returns the device for ports 0xa0-0xa1.
func (p *PIC) Slave() Device { return &p.slavePort }

// ELCR returns the device for ports 0x4d0-0x4d1: one bit per IRQ, set for
// level-triggered. A 16-bit access at 0x4d0 covers both.
func (p *PIC) ELCR() Device { return &p.elcrPort }

// SetIRQ drives IRQ line irq (0-15) to level. IRQ 2, taken by the cascade,
// is IRQ 9, as on the ISA bus. An edge-triggered IRQ latches a request
// when its line rises; a level-triggered one (ELCR) requests while high.
func (p *PIC) SetIRQ(irq int, level bool) {
	if irq == picCascadeIR {
		irq = 9
	}
	if irq < 0 || irq > 15 {
		p.Missed.Add(1)
		return
	}
	p.mu.Lock()
	p.chips[irq>>3].setLine(irq&7, level)
	p.unlock()
}

// HasInterrupt reports whether the master asserts INT: an unmasked
// request outranks everything in service. It takes no lock.
func (p *PIC) HasInterrupt() bool {
	return p.out.Load()
}

// Acknowledge runs the INTA cycle and returns the vector the controllers
// put on the bus. The request moves from IRR to ISR (with auto-EOI it is
// ended at once; level-triggered requests stay in IRR while their line is
// high). An IRQ on the cascade takes the slave's vector.
//
// As on the 8259A, a request that has gone by INTA (masked, or its
// level-triggered line dropped) is answered with IR7 of the chip
// concerned and no ISR bit. On the slave that is still an interrupt to
// deliver, since the master has IR2 in service and the guest must end it;
// on the master ok is false: no state changed, and the VMM should not
// inject anything (a guest would ignore the spurious IRQ7 anyway).
func (p *PIC) Acknowledge() (vector uint8, ok bool) {
	p.mu.Lock()
	m, s := &p.chips[0], &p.chips[1]
	ir := m.pending()
	switch {
	case ir < 0:
		vector = m.base + picSpuriousIR
		p.Spurious.Add(1)
	case ir == picCascadeIR && !m.single && m.icw3&(1<<picCascadeIR) != 0:
		if ir2 := s.pending(); ir2 >= 0 {
			s.intack(ir2)
			vector = s.base + byte(ir2)
		} else {
			vector = s.base + picSpuriousIR
			p.Spurious.Add(1)
		}
		m.intack(ir)
		// The slave's INT falls during INTA; if it still has a request
		// once the cycle is over, the master sees a new edge on IR2.
		m.setLine(picCascadeIR, false)
		ok = true
	default:
		m.intack(ir)
		vector = m.base + byte(ir)
		ok = true
	}
	p.unlock()
	return vector, ok
}

// unlock brings the master's IR2 and INT output up to date, releases the
// lock and calls Notify if INT rose.
func (p *PIC) unlock() {
	m, s := &p.chips[0], &p.chips[1]
	m.setLine(picCascadeIR, s.pending() >= 0)
	out := m.pending() >= 0
	rose := out && !p.out.Load()
	p.out.Store(out)
	p.mu.Unlock()
	if rose && p.Notify != nil {
		p.Notify()
	}
}

// picPort is the master's or the slave's pair of ports.
type picPort struct {
	p    *PIC
	chip int
}

// Read implements Device: IRR or ISR (as OCW3 chose) at offset 0, IMR at
// offset 1, or the poll byte after a poll command.
func (d *picPort) Read(off uint64, data []byte) {
	if off > 1 || len(data) != 1 {
		d.p.Missed.Add(1)
		fillOnes(data)
		return
	}
	d.p.mu.Lock()
	data[0] = d.p.chips[d.chip].read(off)
	d.p.unlock()
}

// Write implements Device: ICW1, OCW2 or OCW3 at offset 0; ICW2-4 or OCW1
// at offset 1.
func (d *picPort) Write(off uint64, data []byte) {
	if off > 1 || len(data) != 1 {
		d.p.Missed.Add(1)
		return
	}
	d.p.mu.Lock()
	d.p.chips[d.chip].write(off, data[0])
	d.p.unlock()
}

// picELCR is the PIIX edge/level control register pair.
type picELCR struct{ p *PIC }

// elcrAccess checks an ELCR access: a byte at offset 0 or 1, or a word at
// 0. It returns the first chip and the number of bytes.
func (e *picELCR) access(off uint64, data []byte) (first int, ok bool) {
	if off > 1 || len(data) == 0 || off+uint64(len(data)) > 2 {
		e.p.Missed.Add(1)
		return 0, false
	}
	return int(off), true
}

// Read implements Device.
func (e *picELCR) Read(off uint64, data []byte) {
	first, ok := e.access(off, data)
	if !ok {
		fillOnes(data)
		return
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	for i := range data {
		data[i] = e.p.chips[first+i].elcr
	}
}

// Write implements Device. An IRQ switched to level-triggered requests at
// once if its line is high; one switched to edge keeps what it latched.
func (e *picELCR) Write(off uint64, data []byte) {
	first, ok := e.access(off, data)
	if !ok {
		return
	}
	e.p.mu.Lock()
	for i, v := range data {
		c := &e.p.chips[first+i]
		c.elcr = v & c.mask
		c.irr = c.irr&^c.elcr | c.line&c.elcr
	}
	e.p.unlock()
}
