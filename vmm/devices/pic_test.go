package devices

import (
	"sync"
	"testing"
)

// picStep is one action of a PIC test script: driving an IRQ line, a port
// access, or the VMM's side of the INTA cycle.
type picStep struct {
	kind  byte // 'p' pulse, 's' set line, 'w' write, 'r' read, 'a' acknowledge, 'h' HasInterrupt
	port  uint16
	irq   int
	val   byte
	level bool
}

func pulse(irq int) picStep            { return picStep{kind: 'p', irq: irq} }
func line(irq int, level bool) picStep { return picStep{kind: 's', irq: irq, level: level} }
func pw(port uint16, v byte) picStep   { return picStep{kind: 'w', port: port, val: v} }
func pr(port uint16, v byte) picStep   { return picStep{kind: 'r', port: port, val: v} }
func ack(vector byte) picStep          { return picStep{kind: 'a', val: vector, level: true} }
func spurious(vector byte) picStep     { return picStep{kind: 'a', val: vector} }
func has(want bool) picStep            { return picStep{kind: 'h', level: want} }

// eoi is Linux's mask_and_ack_8259A end of interrupt: a specific EOI to the
// chip that had irq, and for the slave one for IR2 on the master too.
func eoi(irq int) []picStep {
	if irq >= 8 {
		return []picStep{pw(0xa0, 0x60|byte(irq&7)), pw(0x20, 0x62)}
	}
	return []picStep{pw(0x20, 0x60|byte(irq))}
}

// isr and irr read a chip's registers through OCW3, as Linux's
// i8259A_irq_real does, and leave IRR selected.
func isr(cmd uint16, want byte) []picStep {
	return []picStep{pw(cmd, 0x0b), pr(cmd, want), pw(cmd, 0x0a)}
}
func irr(cmd uint16, want byte) []picStep { return []picStep{pw(cmd, 0x0a), pr(cmd, want)} }

// linuxInit is init_8259A(auto_eoi) on x86-64: mask everything, ICW1-4 on
// both chips with vectors 0x30 and 0x38, then restore the cached masks.
func linuxInit(autoEOI bool, masterMask, slaveMask byte) []picStep {
	icw4 := byte(0x01)
	if autoEOI {
		icw4 |= 0x02
	}
	return []picStep{
		pw(0x21, 0xff),
		pw(0x20, 0x11), pw(0x21, 0x30), pw(0x21, 0x04), pw(0x21, icw4),
		pw(0xa0, 0x11), pw(0xa1, 0x38), pw(0xa1, 0x02), pw(0xa1, 0x01),
		pw(0x21, masterMask), pw(0xa1, slaveMask),
	}
}

// biosInit is what a small firmware does: vectors 0x20 and 0x28, cascade,
// 8086 mode, then unmask the cascade and the given master IRQs.
func biosInit(unmask byte) []picStep {
	return []picStep{
		pw(0x20, 0x11), pw(0xa0, 0x11), pw(0x21, 0x20), pw(0xa1, 0x28),
		pw(0x21, 0x04), pw(0xa1, 0x02), pw(0x21, 0x01), pw(0xa1, 0x01),
		pw(0x21, ^(unmask | 0x04)), pw(0xa1, 0x00),
	}
}

func picPortOf(p *PIC, port uint16) (Device, uint64) {
	switch {
	case port&^1 == 0x20:
		return p.Master(), uint64(port & 1)
	case port&^1 == 0xa0:
		return p.Slave(), uint64(port & 1)
	case port&^1 == 0x4d0:
		return p.ELCR(), uint64(port & 1)
	}
	panic("no PIC port")
}

func join(parts ...[]picStep) (all []picStep) {
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func runPIC(t *testing.T, p *PIC, steps []picStep) {
	t.Helper()
	for i, st := range steps {
		switch st.kind {
		case 'p':
			p.SetIRQ(st.irq, true)
			p.SetIRQ(st.irq, false)
		case 's':
			p.SetIRQ(st.irq, st.level)
		case 'w':
			d, off := picPortOf(p, st.port)
			out8(d, off, st.val)
		case 'r':
			d, off := picPortOf(p, st.port)
			if got := in8(d, off); got != st.val {
				t.Fatalf("step %d: in %#x = %#02x, want %#02x", i, st.port, got, st.val)
			}
		case 'a':
			vec, ok := p.Acknowledge()
			if vec != st.val || ok != st.level {
				t.Fatalf("step %d: Acknowledge = %#02x, %v; want %#02x, %v", i, vec, ok, st.val, st.level)
			}
		case 'h':
			if got := p.HasInterrupt(); got != st.level {
				t.Fatalf("step %d: HasInterrupt = %v, want %v", i, got, st.level)
			}
		}
	}
}

func TestPIC(t *testing.T) {
	tests := []struct {
		name     string
		steps    []picStep
		spurious uint64
	}{
		{
			name: "power-on state",
			steps: join([]picStep{pr(0x21, 0), pr(0xa1, 0), has(false), pr(0x4d0, 0), pr(0x4d1, 0)},
				irr(0x20, 0), isr(0x20, 0), isr(0xa0, 0)),
		},
		{
			name: "Linux probe and init",
			steps: join(
				// probe_8259A: the mask must read back.
				[]picStep{pw(0xa1, 0xff), pw(0x21, 0xfb), pr(0x21, 0xfb)},
				linuxInit(false, 0xfa, 0xff),
				[]picStep{pr(0x21, 0xfa), pr(0xa1, 0xff), has(false)},
				// The timer: vector 0x30, in service until Linux's EOI.
				[]picStep{pulse(0), has(true), ack(0x30), has(false)},
				isr(0x20, 0x01),
				[]picStep{pulse(0), has(false)}, // blocked by itself in service
				eoi(0),
				[]picStep{has(true), ack(0x30)}, eoi(0),
				isr(0x20, 0),
			),
		},
		{
			name: "firmware timer with non-specific EOI",
			steps: join(biosInit(0x01),
				[]picStep{pulse(0), ack(0x20), pw(0x20, 0x20), pulse(0), ack(0x20), pw(0x20, 0x20), has(false)},
				isr(0x20, 0)),
		},
		{
			name: "fixed priority, IRQ0 highest",
			steps: join(biosInit(0xff),
				[]picStep{pulse(5), pulse(3), pulse(7), pulse(1)},
				irr(0x20, 0xaa),
				[]picStep{ack(0x21)}, isr(0x20, 0x02),
				// 3 does not interrupt 1 in service (fully nested).
				[]picStep{has(false), pw(0x20, 0x20), ack(0x23), pw(0x20, 0x20), ack(0x25), pw(0x20, 0x20),
					ack(0x27), pw(0x20, 0x20), has(false)},
			),
		},
		{
			name: "higher priority nests, non-specific EOI ends the innermost",
			steps: join(biosInit(0xff),
				[]picStep{pulse(4), ack(0x24), pulse(6), has(false), pulse(1), has(true), ack(0x21)},
				isr(0x20, 0x12),
				[]picStep{pw(0x20, 0x20)}, isr(0x20, 0x10),
				[]picStep{has(false), pw(0x20, 0x20), ack(0x26), pw(0x20, 0x20)}, isr(0x20, 0)),
		},
		{
			name: "specific EOI ends the named IRQ only",
			steps: join(biosInit(0xff),
				[]picStep{pulse(4), ack(0x24), pulse(1), ack(0x21), pw(0x20, 0x64)},
				isr(0x20, 0x02), []picStep{pw(0x20, 0x61)}, isr(0x20, 0)),
		},
		{
			name: "mask holds requests back, unmasking delivers",
			steps: join(biosInit(0x00),
				[]picStep{pulse(1), has(false)}, irr(0x20, 0x02),
				[]picStep{pw(0x21, 0xf9), has(true), ack(0x21)}),
		},
		{
			name: "masked IRQ in service still blocks lower ones",
			steps: join(biosInit(0xff),
				[]picStep{pulse(3), ack(0x23), pw(0x21, 0x08), pulse(5), has(false)}),
		},
		{
			name: "special mask mode lets lower IRQs through",
			steps: join(biosInit(0xff),
				[]picStep{pulse(3), ack(0x23), pw(0x21, 0x08), pw(0x20, 0x68), pulse(5), has(true), ack(0x25)},
				isr(0x20, 0x28),
				[]picStep{pw(0x20, 0x48), pw(0x20, 0x65), pulse(6), has(false)}),
		},
		{
			name: "edge: one request per rising edge",
			steps: join(biosInit(0xff),
				[]picStep{line(3, true), line(3, true), ack(0x23), pw(0x20, 0x20), has(false),
					line(3, false), line(3, true), ack(0x23)}),
		},
		{
			name: "edge: a request stays latched after the line falls",
			steps: join(biosInit(0xff),
				[]picStep{line(4, true), line(4, false), has(true), ack(0x24)}),
		},
		{
			name: "level: requests while high, again after EOI",
			steps: join(biosInit(0xff),
				[]picStep{pw(0x4d0, 0x20), line(5, true), ack(0x25)}, irr(0x20, 0x20),
				[]picStep{pw(0x20, 0x20), has(true), ack(0x25), line(5, false), pw(0x20, 0x20), has(false)},
				irr(0x20, 0)),
		},
		{
			name: "level: a request withdrawn before INTA is spurious IRQ7",
			steps: join(biosInit(0xff),
				[]picStep{pw(0x4d0, 0x20), line(5, true), has(true), line(5, false), has(false), spurious(0x27)},
				isr(0x20, 0)),
			spurious: 1,
		},
		{
			name: "spurious IRQ7 when masked before INTA",
			steps: join(biosInit(0xff),
				[]picStep{pulse(6), pw(0x21, 0xff), spurious(0x27)}, isr(0x20, 0),
				// The request is still latched and arrives once unmasked.
				[]picStep{pw(0x21, 0x00), ack(0x26)}),
			spurious: 1,
		},
		{
			name:  "a real IRQ7 sets its ISR bit",
			steps: join(biosInit(0xff), []picStep{pulse(7), ack(0x27)}, isr(0x20, 0x80)),
		},
		{
			name: "cascade: slave IRQs arrive through IR2",
			steps: join(linuxInit(false, 0xfb, 0x00),
				[]picStep{pulse(12), has(true)}, irr(0x20, 0x04), irr(0xa0, 0x10),
				[]picStep{ack(0x3c), has(false)}, isr(0x20, 0x04), isr(0xa0, 0x10),
				eoi(12), []picStep{has(false)}, isr(0x20, 0), isr(0xa0, 0)),
		},
		{
			name: "cascade: slave priority sits at IR2",
			steps: join(linuxInit(false, 0x00, 0x00),
				[]picStep{pulse(3), pulse(9), ack(0x39)}, // IRQ9 outranks IRQ3
				isr(0x20, 0x04), isr(0xa0, 0x02),
				// IRQ1 nests over IR2 in service.
				[]picStep{pulse(1), ack(0x31), pw(0x20, 0x20)}, isr(0x20, 0x04),
				// IRQ3 waits for IR2 to end, not just IRQ9.
				[]picStep{pw(0xa0, 0x61), has(false), pw(0x20, 0x62), has(true), ack(0x33)}),
		},
		{
			name: "cascade: second slave IRQ after the slave's EOI",
			steps: join(linuxInit(false, 0xfb, 0x00),
				[]picStep{pulse(14), pulse(8), ack(0x38), has(false)}, eoi(8),
				[]picStep{has(true), ack(0x3e)}, eoi(14), []picStep{has(false)}),
		},
		{
			name: "cascade: masked slave gives spurious IRQ15 with IR2 in service",
			steps: join(linuxInit(false, 0xfb, 0x00),
				[]picStep{pulse(10), pw(0xa1, 0xff), ack(0x3f)}, isr(0x20, 0x04), isr(0xa0, 0),
				[]picStep{pw(0x20, 0x62), has(false)}),
			spurious: 1,
		},
		{
			name:  "cascade: IRQ2 is IRQ9",
			steps: join(linuxInit(false, 0xfb, 0xfd), []picStep{pulse(2), ack(0x39)}),
		},
		{
			name:  "single mode: IR2 is the master's own",
			steps: []picStep{pw(0x20, 0x13), pw(0x21, 0x40), pw(0x21, 0x01), pulse(10), ack(0x42)},
		},
		{
			name: "auto-EOI: nothing stays in service",
			steps: join(linuxInit(true, 0xfa, 0xff),
				[]picStep{pulse(0), ack(0x30)}, isr(0x20, 0),
				[]picStep{pulse(0), has(true), ack(0x30)}),
		},
		{
			name: "auto-EOI master, normal slave",
			steps: join(linuxInit(true, 0xfb, 0xfe), []picStep{pulse(8), ack(0x38)},
				isr(0x20, 0), isr(0xa0, 0x01), []picStep{pulse(1), has(false), pw(0x21, 0xf9), ack(0x31)}),
		},
		{
			name: "rotate on non-specific EOI",
			steps: join(biosInit(0xff),
				[]picStep{pulse(3), ack(0x23), pw(0x20, 0xa0), pulse(1), pulse(4), ack(0x24)}),
		},
		{
			name: "set priority and rotate on specific EOI",
			steps: join(biosInit(0xff),
				// IR4 lowest, so IR5 is highest.
				[]picStep{pw(0x20, 0xc4), pulse(0), pulse(5), ack(0x25), pw(0x20, 0xe5),
					// Now IR6 is highest, IR0 still pending.
					pulse(7), ack(0x27), pw(0x20, 0x20), ack(0x20)}),
		},
		{
			name: "rotate in auto-EOI",
			steps: []picStep{pw(0x20, 0x11), pw(0x21, 0x20), pw(0x21, 0x04), pw(0x21, 0x03),
				pw(0x20, 0x80), pulse(1), pulse(3), ack(0x21), pulse(1), ack(0x23), ack(0x21)},
		},
		{
			name: "poll command",
			steps: join(biosInit(0xff),
				[]picStep{pulse(3), pulse(5), pw(0x20, 0x0c), pr(0x20, 0x83)}, isr(0x20, 0x08),
				[]picStep{pw(0x20, 0x0c), pr(0x20, 0x00), pw(0x20, 0x20), pw(0x20, 0x0c), pr(0x21, 0x85)}),
		},
		{
			name: "ICW1 clears mask, service and latched edges",
			steps: join(biosInit(0xff),
				[]picStep{pulse(1), ack(0x21), pulse(3), line(4, true)},
				[]picStep{pw(0x20, 0x11), pw(0x21, 0x50), pw(0x21, 0x04), pw(0x21, 0x01), pr(0x21, 0)},
				irr(0x20, 0), isr(0x20, 0),
				// A line still high must fall and rise again.
				[]picStep{line(4, true), has(false), line(4, false), line(4, true), ack(0x54)}),
		},
		{
			name: "ICW1 keeps level requests",
			steps: join(biosInit(0xff),
				[]picStep{pw(0x4d1, 0x02), line(9, true), pw(0xa0, 0x11), pw(0xa1, 0x70), pw(0xa1, 0x02), pw(0xa1, 0x01)},
				irr(0xa0, 0x02), []picStep{ack(0x71)}),
		},
		{
			name: "ELCR keeps the PIIX's edge-only bits clear",
			steps: []picStep{
				pw(0x4d0, 0xff), pw(0x4d1, 0xff), pr(0x4d0, 0xf8), pr(0x4d1, 0xde),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPIC()
			runPIC(t, p, tt.steps)
			if got := p.Spurious.Load(); got != tt.spurious {
				t.Errorf("Spurious = %d, want %d", got, tt.spurious)
			}
			if got := p.Missed.Load(); got != 0 {
				t.Errorf("Missed = %d, want 0", got)
			}
		})
	}
}

// TestPICNotify checks Notify fires once per rise of INT, and outside the
// lock: it may look at the PIC.
func TestPICNotify(t *testing.T) {
	p := NewPIC()
	var calls []bool
	p.Notify = func() { calls = append(calls, p.HasInterrupt()) }
	runPIC(t, p, biosInit(0x03))
	p.SetIRQ(0, true) // rises
	p.SetIRQ(1, true) // INT already up
	if len(calls) != 1 || !calls[0] {
		t.Fatalf("Notify calls = %v, want [true]", calls)
	}
	p.Acknowledge() // IRQ0 in service: INT falls
	out8(p.Master(), 0, 0x20)
	if len(calls) != 2 {
		t.Fatalf("EOI with IRQ1 pending: %d Notify calls, want 2", len(calls))
	}
	p.Acknowledge()
	out8(p.Master(), 1, 0xff)
	out8(p.Master(), 0, 0x20)
	p.SetIRQ(1, false)
	p.SetIRQ(1, true) // masked
	out8(p.Master(), 1, 0x00)
	if len(calls) != 3 {
		t.Fatalf("unmasking a latched request: %d Notify calls, want 3", len(calls))
	}
}

func TestPICELCRWord(t *testing.T) {
	p := NewPIC()
	out(p.ELCR(), 0, 2, 0x0c20)
	if got := in(p.ELCR(), 0, 2); got != 0x0c20 {
		t.Fatalf("ELCR = %#x, want 0x0c20", got)
	}
	if got := in8(p.ELCR(), 1); got != 0x0c {
		t.Fatalf("ELCR2 = %#x, want 0x0c", got)
	}
	if got := p.Missed.Load(); got != 0 {
		t.Fatalf("Missed = %d", got)
	}
}

func TestPICBadAccess(t *testing.T) {
	p := NewPIC()
	for _, d := range []Device{p.Master(), p.Slave()} {
		if got := in(d, 0, 2); got != 0xffff {
			t.Errorf("word read = %#x, want 0xffff", got)
		}
		if got := in8(d, 2); got != 0xff {
			t.Errorf("read at offset 2 = %#x, want 0xff", got)
		}
		out(d, 0, 2, 0x1111) // must not start an init sequence
		out8(d, 2, 0x11)
	}
	if got := in(p.ELCR(), 1, 2); got != 0xffff {
		t.Errorf("ELCR word at 1 = %#x, want 0xffff", got)
	}
	out(p.ELCR(), 0, 4, 0xffffffff)
	out8(p.ELCR(), 2, 0xff)
	p.SetIRQ(16, true)
	p.SetIRQ(-1, true)
	if got := p.Missed.Load(); got != 13 {
		t.Errorf("Missed = %d, want 13", got)
	}
	if got := in8(p.Master(), 1); got != 0 {
		t.Errorf("IMR = %#x after bad writes, want 0", got)
	}
	if got := in(p.ELCR(), 0, 2); got != 0 {
		t.Errorf("ELCR = %#x after bad writes, want 0", got)
	}
}

func TestPICNoAlloc(t *testing.T) {
	p := NewPIC()
	p.Notify = func() {}
	runPIC(t, p, linuxInit(false, 0x00, 0x00))
	m, s, e := p.Master(), p.Slave(), p.ELCR()
	eoiMaster, eoiSlave, b := []byte{0x20}, []byte{0x20}, []byte{0}
	allocs := testing.AllocsPerRun(1000, func() {
		p.SetIRQ(0, true)
		p.SetIRQ(0, false)
		p.SetIRQ(11, true)
		p.SetIRQ(11, false)
		p.HasInterrupt()
		p.Acknowledge()
		p.Acknowledge()
		m.Read(0, b)
		s.Read(1, b)
		e.Read(0, b)
		m.Write(0, eoiMaster)
		s.Write(0, eoiSlave)
		m.Write(0, eoiMaster)
	})
	if allocs != 0 {
		t.Fatalf("PIC allocates %.1f times per interrupt", allocs)
	}
}

// TestPICConcurrent plays a PIT goroutine and a UART raising IRQs while
// the vCPU takes them, for go test -race; every edge raised while the
// previous one is latched may merge, but the vCPU must see at least one
// interrupt per line and no more than were raised.
func TestPICConcurrent(t *testing.T) {
	p := NewPIC()
	kick := make(chan struct{}, 1)
	p.Notify = func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	runPIC(t, p, linuxInit(false, 0xe8, 0xf7)) // IRQ0, 1, 2, 4, 11
	const rounds = 500
	var wg sync.WaitGroup
	for _, irq := range []int{0, 4, 11} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				p.SetIRQ(irq, true)
				p.SetIRQ(irq, false)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[uint8]int{}
	finished := false
	for !finished || p.HasInterrupt() {
		if !p.HasInterrupt() {
			select {
			case <-kick:
			case <-done:
				finished = true
			}
			continue
		}
		vec, ok := p.Acknowledge()
		if !ok {
			t.Fatalf("spurious vector %#x with HasInterrupt true", vec)
		}
		seen[vec]++
		if vec >= 0x38 {
			out8(p.Slave(), 0, 0x20)
		}
		out8(p.Master(), 0, 0x20)
	}
	for _, vec := range []uint8{0x30, 0x34, 0x3b} {
		if seen[vec] == 0 || seen[vec] > rounds {
			t.Errorf("vector %#x taken %d times, want 1-%d", vec, seen[vec], rounds)
		}
	}
	if len(seen) != 3 {
		t.Errorf("vectors taken: %v", seen)
	}
}

// FuzzPIC throws random port accesses, IRQ line changes and INTA cycles at
// the pair and checks what must always hold: no panic; an ISR bit is only
// ever set for an IRQ acknowledged (by INTA or poll) since the chip's last
// ICW1; HasInterrupt and Acknowledge agree; every bad access is counted.
//
// Each 3-byte record is op, arg, value. op bits 0-2 pick the action:
// write a port, read a port, set an IRQ line, acknowledge, or check ISR;
// arg's low bits pick the port (0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1) or
// the IRQ; op bit 3 makes the access a word.
//
// The model follows ICW1-ICW2 to know each chip's vector base, so that a
// vector from Acknowledge names the IR it acknowledged; where the two
// bases overlap it allows both.
func FuzzPIC(f *testing.F) {
	f.Add([]byte{0, 0, 0x11, 0, 1, 0x20, 0, 1, 0x04, 0, 1, 0x01, 2, 0, 1, 3, 0, 0, 4, 0, 0, 0, 0, 0x20})
	f.Add([]byte{0, 0, 0x11, 0, 1, 0x20, 0, 1, 0x04, 0, 1, 0x03, 2, 3, 1, 2, 3, 0, 3, 0, 0, 4, 0, 0})
	f.Add([]byte{0, 2, 0x11, 0, 3, 0x28, 0, 3, 0x02, 0, 3, 0x01, 2, 10, 1, 3, 0, 0, 4, 1, 0, 0, 2, 0x20, 0, 0, 0x62})
	f.Add([]byte{0, 4, 0x20, 2, 5, 1, 3, 0, 0, 2, 5, 0, 3, 0, 0, 0, 0, 0x0c, 1, 0, 0})
	f.Add([]byte{0, 0, 0x0c, 2, 1, 1, 1, 0, 0, 0, 0, 0x68, 0, 1, 0x02, 2, 7, 1, 3, 0, 0, 4, 0, 0})
	f.Add([]byte{8, 0, 0x11, 9, 1, 0, 8, 4, 0xff, 0, 0, 0xc3, 0, 0, 0xa0, 0, 0, 0xe1})
	f.Fuzz(func(t *testing.T, input []byte) {
		p := NewPIC()
		ports := [8]uint16{0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x20, 0xa0}
		devs := [2]Device{p.Master(), p.Slave()}
		type chipModel struct {
			acked    byte // ISR bits allowed: acknowledged since ICW1
			base     byte
			expect   int // ICWs still expected on the data port: 0 none, 1 ICW2, 2 ICW3/4
			icw1     byte
			polling  bool
			selected byte // OCW3 read-register selection to restore after a check
		}
		var chips [2]chipModel
		chips[0].selected, chips[1].selected = 0x0a, 0x0a
		var missed uint64

		checkISR := func(c int) {
			if chips[c].polling {
				return // the read would answer the poll
			}
			out8(devs[c], 0, 0x0b)
			got := in8(devs[c], 0)
			out8(devs[c], 0, chips[c].selected)
			if got&^chips[c].acked != 0 {
				t.Fatalf("chip %d ISR = %#02x, only %#02x acknowledged since ICW1", c, got, chips[c].acked)
			}
		}
		for ; len(input) >= 3; input = input[3:] {
			op, arg, val := input[0], input[1], input[2]
			port := ports[arg&7]
			d, off := picPortOf(p, port)
			width := 1
			if op&8 != 0 {
				width = 2
			}
			bad := width != 1 && port != 0x4d0
			c := 0
			if port&^1 == 0xa0 {
				c = 1
			}
			m := &chips[c]
			switch op & 7 {
			case 0: // write
				out(d, off, width, uint64(val)|uint64(val)<<8)
				switch {
				case bad:
					missed++
				case port >= 0x4d0:
				case off == 0 && val&0x10 != 0:
					*m = chipModel{expect: 1, icw1: val, base: m.base, selected: 0x0a}
				case off == 0 && val&0x08 != 0:
					m.polling = m.polling || val&0x04 != 0
					if val&0x02 != 0 {
						m.selected = 0x0a | val&0x01
					}
				case off == 1 && m.expect == 1:
					m.base = val &^ 7
					m.expect = 0
					if m.icw1&0x02 == 0 || m.icw1&0x01 != 0 {
						m.expect = 2 // ICW3 and/or ICW4: neither changes the base
					}
				case off == 1 && m.expect == 2:
					// ICW3 then maybe ICW4, or ICW4 alone.
					if m.icw1&0x02 == 0 && m.icw1&0x01 != 0 {
						m.icw1 |= 0x02 // ICW3 taken, ICW4 next
					} else {
						m.expect = 0
					}
				}
			case 1: // read
				got := in(d, off, width)
				switch {
				case bad:
					missed++
					if got != 0xffff {
						t.Fatalf("bad read of %#x = %#x", port, got)
					}
				case port < 0x4d0 && m.polling:
					m.polling = false
					if got&0x80 != 0 {
						m.acked |= 1 << (got & 7)
					} else if got != 0 {
						t.Fatalf("poll byte %#x", got)
					}
				}
			case 2, 5: // IRQ line
				p.SetIRQ(int(arg&15), val&1 != 0)
			case 3, 6: // INTA
				want := p.HasInterrupt()
				vec, ok := p.Acknowledge()
				if ok != want {
					t.Fatalf("Acknowledge = %#x, %v with HasInterrupt %v", vec, ok, want)
				}
				if !ok {
					if vec != chips[0].base+7 {
						t.Fatalf("spurious vector %#x, master base %#x", vec, chips[0].base)
					}
					break
				}
				matched := false
				if vec&^7 == chips[0].base {
					chips[0].acked |= 1 << (vec & 7)
					matched = true
				}
				if vec&^7 == chips[1].base {
					chips[1].acked |= 1 << (vec & 7)
					chips[0].acked |= 1 << 2
					matched = true
				}
				if !matched {
					t.Fatalf("vector %#x from neither base (%#x, %#x)", vec, chips[0].base, chips[1].base)
				}
			default: // check
				checkISR(int(arg & 1))
			}
		}
		checkISR(0)
		checkISR(1)
		if got := p.Missed.Load(); got != missed {
			t.Fatalf("Missed = %d, want %d", got, missed)
		}
	})
}
