package devices

import (
	"io"
	"sync"
	"sync/atomic"
)

// Register offsets of the 8250/16550A. Offsets 0 and 1 switch meaning when
// LCR.DLAB is set; offset 2 is IIR on read and FCR on write.
const (
	uartRBR = 0 // receive buffer (read), transmit holding (write), DLL (DLAB)
	uartIER = 1 // interrupt enable, DLM (DLAB)
	uartIIR = 2 // interrupt identification (read), FIFO control (write)
	uartLCR = 3 // line control
	uartMCR = 4 // modem control
	uartLSR = 5 // line status
	uartMSR = 6 // modem status
	uartSCR = 7 // scratch

	ierRDI  = 0x01 // received data available
	ierTHRI = 0x02 // transmitter holding register empty
	ierMask = 0x0f // the 16550A implements bits 0-3 only

	iirNone = 0x01 // no interrupt pending
	iirRDI  = 0x04
	iirTHRI = 0x02
	iirFIFO = 0xc0 // both bits set when FIFOs are enabled

	fcrEnable  = 0x01
	fcrClearRx = 0x02

	lcrDLAB = 0x80

	mcrLoop = 0x10
	mcrMask = 0x1f

	lsrDR   = 0x01 // data ready
	lsrTHRE = 0x20 // transmit holding register empty
	lsrTEMT = 0x40 // transmitter empty

	// msrIdle is what the modem lines read outside loopback: carrier,
	// data set ready and clear to send, a null-modem cable that is
	// always ready, as QEMU reports.
	msrIdle = 0xb0
)

// Serial is an 8250/16550A UART, normally at port 0x3f8 (register size 8).
//
// Transmission is instantaneous: each byte the guest writes to THR goes
// straight to out, so THR and the transmitter always read as empty. Bytes
// for the guest are queued with Input, up to 4 KiB, and read from RBR.
//
// Its methods are safe for concurrent use by several vCPU threads and the
// goroutine calling Input. Set IRQ before the first access and leave it.
type Serial struct {
	// IRQ, if not nil, drives the UART's interrupt line. It is called with
	// each change of level, with the UART's lock held, so it must not call
	// back into the Serial. A THR write while the THRE interrupt is pending
	// lowers and raises the line again, so an edge-triggered controller
	// sees one edge per transmitted byte, as with a real 16550.
	IRQ func(level bool)

	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64
	// OutErrors counts bytes that out failed to take.
	OutErrors atomic.Uint64
	// Dropped counts input bytes lost because the queue was full.
	Dropped atomic.Uint64

	mu  sync.Mutex
	out io.Writer
	tx  [1]byte // out.Write argument, kept here so a write does not allocate
	rx  byteQueue

	ier, lcr, mcr, scr, fcr byte
	dll, dlm                byte
	thrPending              bool // THRE interrupt raised and not yet acknowledged
	level                   bool // current level of the IRQ line
}

// NewSerial returns a UART in its reset state whose output goes to out
// (nil discards it).
func NewSerial(out io.Writer) *Serial {
	if out == nil {
		out = io.Discard
	}
	// Divisor 12 is 9600 baud, what a BIOS leaves behind; the guest's
	// driver reprograms it anyway and we never pace output by it.
	return &Serial{out: out, dll: 12}
}

// Input queues bytes for the guest to read from RBR. Bytes that do not fit
// in the queue are dropped and counted in Dropped.
func (s *Serial) Input(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range b {
		if !s.rx.push(c) {
			s.Dropped.Add(1)
		}
	}
	s.updateIRQ()
}

// Read implements Device.
func (s *Serial) Read(off uint64, data []byte) {
	if len(data) != 1 || off > uartSCR {
		s.Missed.Add(1)
		fillOnes(data)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data[0] = s.readReg(off)
}

// Write implements Device.
func (s *Serial) Write(off uint64, data []byte) {
	if len(data) != 1 || off > uartSCR {
		s.Missed.Add(1)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeReg(off, data[0])
}

func (s *Serial) readReg(off uint64) byte {
	dlab := s.lcr&lcrDLAB != 0
	switch off {
	case uartRBR:
		if dlab {
			return s.dll
		}
		b, _ := s.rx.pop()
		s.updateIRQ()
		return b
	case uartIER:
		if dlab {
			return s.dlm
		}
		return s.ier
	case uartIIR:
		iir := s.iir()
		// Reading IIR acknowledges a THRE interrupt, but only when it is
		// the one being reported.
		if iir&0x0f == iirTHRI {
			s.thrPending = false
			s.updateIRQ()
		}
		return iir
	case uartLCR:
		return s.lcr
	case uartMCR:
		return s.mcr
	case uartLSR:
		lsr := byte(lsrTHRE | lsrTEMT)
		if s.rx.len() > 0 {
			lsr |= lsrDR
		}
		return lsr
	case uartMSR:
		return s.msr()
	default: // uartSCR
		return s.scr
	}
}

func (s *Serial) writeReg(off uint64, v byte) {
	dlab := s.lcr&lcrDLAB != 0
	switch off {
	case uartRBR:
		if dlab {
			s.dll = v
			return
		}
		s.transmit(v)
	case uartIER:
		if dlab {
			s.dlm = v
			return
		}
		changed := (s.ier ^ v) & ierMask
		s.ier = v & ierMask
		// Enabling the THRE interrupt while THR is empty (always, here)
		// raises it at once; Linux's 8250 driver relies on that.
		if changed&ierTHRI != 0 {
			s.thrPending = s.ier&ierTHRI != 0
		}
		s.updateIRQ()
	case uartIIR: // FCR
		// Toggling the FIFO enable bit clears the FIFOs, as on the chip.
		if v&fcrClearRx != 0 || (v^s.fcr)&fcrEnable != 0 {
			s.rx.reset()
		}
		s.fcr = v &^ 0x06 // the clear bits are self-clearing
		s.updateIRQ()
	case uartLCR:
		s.lcr = v
	case uartMCR:
		s.mcr = v & mcrMask
	case uartLSR, uartMSR:
		// Read-only on the 16550A (writes are a factory test mode).
	default: // uartSCR
		s.scr = v
	}
}

// transmit sends one THR byte. The THRE interrupt drops when THR is
// written and rises again once the byte is out, which for us is at once.
func (s *Serial) transmit(v byte) {
	s.thrPending = false
	s.updateIRQ()
	if s.mcr&mcrLoop != 0 {
		// Loopback: the transmitter feeds the receiver, nothing leaves.
		if !s.rx.push(v) {
			s.Dropped.Add(1)
		}
	} else {
		s.tx[0] = v
		if _, err := s.out.Write(s.tx[:]); err != nil {
			s.OutErrors.Add(1)
		}
	}
	s.thrPending = s.ier&ierTHRI != 0
	s.updateIRQ()
}

// iir computes the interrupt identification: the highest-priority pending
// source. Line-status and modem-status interrupts never fire, since no
// line errors occur and the modem lines never change.
func (s *Serial) iir() byte {
	var iir byte = iirNone
	switch {
	case s.ier&ierRDI != 0 && s.rx.len() > 0:
		iir = iirRDI
	case s.ier&ierTHRI != 0 && s.thrPending:
		iir = iirTHRI
	}
	if s.fcr&fcrEnable != 0 {
		iir |= iirFIFO
	}
	return iir
}

// msr returns the modem status. In loopback the inputs mirror MCR's
// outputs (DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD), which is what Linux's
// probe checks.
func (s *Serial) msr() byte {
	if s.mcr&mcrLoop == 0 {
		return msrIdle
	}
	m := s.mcr
	return (m&0x01)<<5 | (m&0x02)<<3 | (m&0x04)<<4 | (m&0x08)<<4
}

// updateIRQ brings the interrupt line in line with the pending sources,
// calling IRQ only when the level changes.
func (s *Serial) updateIRQ() {
	level := s.iir()&iirNone == 0
	if level == s.level {
		return
	}
	s.level = level
	if s.IRQ != nil {
		s.IRQ(level)
	}
}
