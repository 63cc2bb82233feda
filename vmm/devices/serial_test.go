package devices

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// uartStep is one action of a serial test script: a register write, a
// register read with its expected value, host input, or a check of the
// interrupt line.
type uartStep struct {
	kind  byte // 'w', 'r', 'i' (Input), 'l' (line level)
	off   uint64
	val   byte
	input string
	level bool
}

func uw(off uint64, v byte) uartStep { return uartStep{kind: 'w', off: off, val: v} }
func ur(off uint64, v byte) uartStep { return uartStep{kind: 'r', off: off, val: v} }
func uin(s string) uartStep          { return uartStep{kind: 'i', input: s} }
func uline(level bool) uartStep      { return uartStep{kind: 'l', level: level} }
func uwrite(s string) (steps []uartStep) {
	for i := range len(s) {
		steps = append(steps, uw(uartRBR, s[i]))
	}
	return steps
}

func TestSerial(t *testing.T) {
	tests := []struct {
		name    string
		steps   []uartStep
		out     string
		edges   string // IRQ calls, '+' for raise, '-' for lower
		missed  uint64
		dropped uint64
	}{
		{
			name: "reset state",
			steps: []uartStep{
				ur(uartIER, 0), ur(uartIIR, iirNone), ur(uartLCR, 0), ur(uartMCR, 0),
				ur(uartLSR, lsrTHRE|lsrTEMT), ur(uartMSR, msrIdle), ur(uartSCR, 0),
				ur(uartRBR, 0), uline(false),
			},
		},
		{
			name:  "transmit",
			steps: append(uwrite("hello\n"), ur(uartLSR, lsrTHRE|lsrTEMT)),
			out:   "hello\n",
		},
		{
			name: "divisor latch",
			steps: []uartStep{
				uw(uartLCR, 0x83), uw(uartRBR, 0x01), uw(uartIER, 0x02),
				ur(uartRBR, 0x01), ur(uartIER, 0x02), ur(uartLCR, 0x83),
				uw(uartLCR, 0x03), ur(uartIER, 0), uw(uartRBR, 'A'),
				uline(false), // the DLM write did not enable interrupts
			},
			out: "A",
		},
		{
			name: "receive",
			steps: []uartStep{
				uin("ab"), ur(uartLSR, lsrTHRE|lsrTEMT|lsrDR),
				ur(uartRBR, 'a'), ur(uartLSR, lsrTHRE|lsrTEMT|lsrDR),
				ur(uartRBR, 'b'), ur(uartLSR, lsrTHRE|lsrTEMT), ur(uartRBR, 0),
			},
		},
		{
			name:    "input overflow",
			steps:   []uartStep{uin(strings.Repeat("x", 4096)), uin("yz"), ur(uartRBR, 'x')},
			dropped: 2,
		},
		{
			name: "scratch and line control",
			steps: []uartStep{
				uw(uartSCR, 0x5a), ur(uartSCR, 0x5a), uw(uartLCR, 0x1b), ur(uartLCR, 0x1b),
				uw(uartMCR, 0xff), ur(uartMCR, 0x1f),
			},
		},
		{
			name:  "read-only registers ignore writes",
			steps: []uartStep{uw(uartLSR, 0), uw(uartMSR, 0), ur(uartLSR, lsrTHRE|lsrTEMT), ur(uartMSR, msrIdle)},
		},
		{
			name: "THRE raised on enable, acked by IIR read",
			steps: []uartStep{
				uw(uartIER, ierTHRI), uline(true), ur(uartIIR, iirTHRI), uline(false),
				ur(uartIIR, iirNone),
				// Rewriting the same IER does not raise it again.
				uw(uartIER, ierTHRI), ur(uartIIR, iirNone),
				// Disabling and re-enabling does (Linux's THRE re-assert test).
				uw(uartIER, 0), uw(uartIER, ierTHRI), ur(uartIIR, iirTHRI),
			},
			edges: "+-+-",
		},
		{
			name: "THRE raised after each transmitted byte",
			steps: []uartStep{
				uw(uartIER, ierTHRI), uw(uartRBR, 'a'), uline(true),
				ur(uartIIR, iirTHRI), uw(uartRBR, 'b'), uline(true), uw(uartIER, 0), uline(false),
			},
			out: "ab",
			// enable, 'a' (drop and rise), IIR ack, 'b' (rise), disable
			edges: "+-+-+-",
		},
		{
			name: "no THRE interrupt while disabled",
			steps: []uartStep{
				uw(uartRBR, 'a'), ur(uartIIR, iirNone),
				uw(uartIER, ierRDI), uw(uartRBR, 'b'), ur(uartIIR, iirNone),
			},
			out: "ab",
		},
		{
			name: "received data interrupt",
			steps: []uartStep{
				uw(uartIER, ierRDI), uline(false), uin("xy"), uline(true),
				ur(uartIIR, iirRDI), ur(uartIIR, iirRDI), // IIR read does not ack RDI
				ur(uartRBR, 'x'), uline(true), ur(uartRBR, 'y'), uline(false),
				ur(uartIIR, iirNone),
			},
			edges: "+-",
		},
		{
			name: "input before enable raises at enable",
			steps: []uartStep{
				uin("k"), uline(false), uw(uartIER, ierRDI), uline(true), ur(uartRBR, 'k'), uline(false),
			},
			edges: "+-",
		},
		{
			name: "received data outranks THRE",
			steps: []uartStep{
				uw(uartIER, ierRDI|ierTHRI), uin("q"), ur(uartIIR, iirRDI),
				ur(uartRBR, 'q'), ur(uartIIR, iirTHRI), ur(uartIIR, iirNone), uline(false),
			},
			edges: "+-",
		},
		{
			name: "THRE is not acked while hidden behind RDI",
			steps: []uartStep{
				uw(uartIER, ierRDI|ierTHRI), uin("q"), ur(uartIIR, iirRDI), ur(uartIIR, iirRDI),
				ur(uartRBR, 'q'), ur(uartIIR, iirTHRI),
			},
			edges: "+-",
		},
		{
			name: "FIFO control",
			steps: []uartStep{
				uw(uartIIR, fcrEnable), ur(uartIIR, iirFIFO|iirNone),
				uin("abc"), uw(uartIER, ierRDI), ur(uartIIR, iirFIFO|iirRDI),
				uw(uartIIR, fcrEnable|fcrClearRx), ur(uartLSR, lsrTHRE|lsrTEMT), uline(false),
				uin("d"), uw(uartIIR, 0), ur(uartIIR, iirNone), ur(uartLSR, lsrTHRE|lsrTEMT),
			},
			edges: "+-+-",
		},
		{
			name: "loopback",
			steps: []uartStep{
				uw(uartMCR, mcrLoop|0x0a), ur(uartMSR, 0x90), // RTS→CTS, OUT2→DCD
				uw(uartMCR, mcrLoop|0x05), ur(uartMSR, 0x60), // DTR→DSR, OUT1→RI
				uw(uartRBR, 'L'), ur(uartLSR, lsrTHRE|lsrTEMT|lsrDR), ur(uartRBR, 'L'),
				uw(uartMCR, 0x0b), ur(uartMSR, msrIdle), uw(uartRBR, 'o'),
			},
			out: "o",
		},
		{
			name: "bad offset and width",
			steps: []uartStep{
				uw(8, 'x'), ur(8, 0xff), uw(uartIER, 0x0f), ur(uartIER, 0x0f),
			},
			edges:  "+", // IER.THRI
			missed: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			s := NewSerial(&out)
			var edges strings.Builder
			level := false
			s.IRQ = func(l bool) {
				if l == level {
					t.Errorf("IRQ(%v) called without a level change", l)
				}
				level = l
				if l {
					edges.WriteByte('+')
				} else {
					edges.WriteByte('-')
				}
			}
			for i, st := range tt.steps {
				switch st.kind {
				case 'w':
					out8(s, st.off, st.val)
				case 'r':
					if got := in8(s, st.off); got != st.val {
						t.Fatalf("step %d: read offset %d = %#02x, want %#02x", i, st.off, got, st.val)
					}
				case 'i':
					s.Input([]byte(st.input))
				case 'l':
					if level != st.level {
						t.Fatalf("step %d: IRQ line = %v, want %v", i, level, st.level)
					}
				}
			}
			if out.String() != tt.out {
				t.Errorf("output = %q, want %q", out.String(), tt.out)
			}
			if edges.String() != tt.edges {
				t.Errorf("IRQ calls = %q, want %q", edges.String(), tt.edges)
			}
			if got := s.Missed.Load(); got != tt.missed {
				t.Errorf("Missed = %d, want %d", got, tt.missed)
			}
			if got := s.Dropped.Load(); got != tt.dropped {
				t.Errorf("Dropped = %d, want %d", got, tt.dropped)
			}
		})
	}
}

func TestSerialBadWidths(t *testing.T) {
	s := NewSerial(nil)
	for _, width := range []int{0, 2, 4, 8} {
		data := make([]byte, width)
		s.Read(uartLSR, data)
		for _, b := range data {
			if b != 0xff {
				t.Errorf("width-%d read = % x, want all ones", width, data)
			}
		}
		s.Write(uartRBR, data)
	}
	if got := s.Missed.Load(); got != 8 {
		t.Fatalf("Missed = %d, want 8", got)
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("pipe closed") }

func TestSerialOutErrors(t *testing.T) {
	s := NewSerial(failWriter{})
	out8(s, uartRBR, 'a')
	out8(s, uartRBR, 'b')
	if got := s.OutErrors.Load(); got != 2 {
		t.Fatalf("OutErrors = %d, want 2", got)
	}
	if got := in8(s, uartLSR); got != lsrTHRE|lsrTEMT {
		t.Fatalf("LSR after failed output = %#x", got)
	}
}

// TestSerialLinuxProbe replays the register dance of Linux's 8250
// autoconfig, which must identify the port as a 16550A.
func TestSerialLinuxProbe(t *testing.T) {
	s := NewSerial(nil)
	// IER scratch test.
	out8(s, uartIER, 0)
	if in8(s, uartIER)&0x0f != 0 {
		t.Fatal("IER does not read back 0")
	}
	out8(s, uartIER, 0x0f)
	if in8(s, uartIER)&0x0f != 0x0f {
		t.Fatal("IER does not read back 0x0f")
	}
	out8(s, uartIER, 0)
	// Loopback check of the modem lines.
	out8(s, uartMCR, mcrLoop|0x0a)
	if got := in8(s, uartMSR) & 0xf0; got != 0x90 {
		t.Fatalf("loopback MSR = %#x, want 0x90", got)
	}
	out8(s, uartMCR, 0)
	// FIFO type: IIR bits 7:6 = 3 means 16550A; bit 5 clear means no
	// 64-byte FIFO (not a 16750), with or without DLAB.
	out8(s, uartIIR, fcrEnable|0x20)
	if got := in8(s, uartIIR) >> 5; got != 0x06 {
		t.Fatalf("IIR>>5 = %#x, want 0x6 (16550A)", got)
	}
	out8(s, uartLCR, lcrDLAB)
	out8(s, uartIIR, fcrEnable|0x20)
	if got := in8(s, uartIIR) >> 5; got != 0x06 {
		t.Fatalf("IIR>>5 with DLAB = %#x, want 0x6", got)
	}
	out8(s, uartLCR, 0)
	// IER bit 6 must not stick, or the port looks like an XScale UART.
	out8(s, uartIER, 0x40)
	if in8(s, uartIER)&0x40 != 0 {
		t.Fatal("IER bit 6 sticks")
	}
}

// TestSerialConcurrent drives the UART from several "vCPUs" and an input
// goroutine at once; it is meant for go test -race.
func TestSerialConcurrent(t *testing.T) {
	w := &countWriter{}
	s := NewSerial(w)
	s.IRQ = func(bool) {}
	out8(s, uartIER, ierRDI|ierTHRI)
	const vcpus, perVCPU = 4, 500
	done := make(chan struct{})
	for range vcpus {
		go func() {
			defer func() { done <- struct{}{} }()
			for range perVCPU {
				out8(s, uartRBR, 'x')
				in8(s, uartIIR)
				in8(s, uartLSR)
				in8(s, uartRBR)
			}
		}()
	}
	go func() {
		defer func() { done <- struct{}{} }()
		for range perVCPU {
			s.Input([]byte("in"))
		}
	}()
	for range vcpus + 1 {
		<-done
	}
	if w.n != vcpus*perVCPU {
		t.Fatalf("sent %d bytes, want %d", w.n, vcpus*perVCPU)
	}
}
