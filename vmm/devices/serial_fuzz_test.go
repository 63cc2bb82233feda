package devices

import "testing"

// countWriter counts the bytes the UART sends.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// FuzzSerial throws random (offset, width, data) sequences and host input
// at the UART and checks it against a small model: it never panics, the
// IRQ line follows IIR, LSR.DR follows the receive queue, every THR write
// outside loopback reaches out, and every bad access is counted.
//
// Each 3-byte record is ctl, offset, value. ctl bits 0-1 pick the action
// (write, read, input, read), bits 2-4 the width; the offset's low 4 bits
// reach past the 8 registers.
func FuzzSerial(f *testing.F) {
	f.Add([]byte{0, 1, 0x02, 1, 2, 0, 0, 0, 'a', 1, 2, 0})                   // THRE interrupt
	f.Add([]byte{0, 1, 0x01, 2, 0, 'x', 1, 2, 0, 1, 0, 0, 1, 5, 0})          // RX interrupt
	f.Add([]byte{0, 3, 0x80, 0, 0, 0x0c, 0, 1, 0, 0, 3, 0x03, 0, 0, 'b'})    // divisor latch
	f.Add([]byte{0, 4, 0x1a, 1, 6, 0, 0, 0, 'l', 1, 5, 0, 1, 0, 0})          // loopback
	f.Add([]byte{0, 2, 0x01, 2, 0, 'q', 0, 2, 0x03, 1, 5, 0, 0, 2, 0})       // FIFO clear
	f.Add([]byte{0x0c, 0, 'w', 0x10, 1, 0, 0x1c, 9, 0, 0x14, 2, 0, 0, 8, 0}) // bad widths
	f.Fuzz(func(t *testing.T, in []byte) {
		w := &countWriter{}
		s := NewSerial(w)
		level := false
		s.IRQ = func(l bool) {
			if l == level {
				t.Fatalf("IRQ(%v) without a level change", l)
			}
			level = l
		}
		widths := [8]int{1, 1, 1, 2, 4, 8, 0, 3}
		var lcr, mcr, fcr byte
		var rx, sent int
		var missed uint64

		for ; len(in) >= 3; in = in[3:] {
			ctl, off, val := in[0], uint64(in[1]&0x0f), in[2]
			width := widths[(ctl>>2)&7]
			data := make([]byte, width)
			for i := range data {
				data[i] = val
			}
			bad := width != 1 || off > uartSCR

			switch ctl & 3 {
			case 0:
				s.Write(off, data)
				if bad {
					missed++
					break
				}
				switch {
				case off == uartRBR && lcr&lcrDLAB == 0 && mcr&mcrLoop == 0:
					sent++
				case off == uartRBR && lcr&lcrDLAB == 0:
					rx = min(rx+1, 4096)
				case off == uartIIR:
					if val&fcrClearRx != 0 || (val^fcr)&fcrEnable != 0 {
						rx = 0
					}
					fcr = val
				case off == uartLCR:
					lcr = val
				case off == uartMCR:
					mcr = val & mcrMask
				}
			case 2:
				s.Input(data)
				rx = min(rx+len(data), 4096)
			default:
				before := level
				s.Read(off, data)
				if bad {
					missed++
					for _, b := range data {
						if b != 0xff {
							t.Fatalf("bad read at %d width %d = % x", off, width, data)
						}
					}
					break
				}
				got := data[0]
				switch {
				case off == uartRBR && lcr&lcrDLAB == 0:
					rx = max(rx-1, 0)
				case off == uartIIR:
					if id := got & 0x3f; id != iirNone && id != iirTHRI && id != iirRDI {
						t.Fatalf("IIR = %#x", got)
					}
					if pending := got&iirNone == 0; pending != before {
						t.Fatalf("IIR = %#x but IRQ line was %v", got, before)
					}
					if (got&iirFIFO != 0) != (fcr&fcrEnable != 0) {
						t.Fatalf("IIR = %#x with FCR %#x", got, fcr)
					}
				case off == uartLSR:
					if want := byte(lsrTHRE | lsrTEMT); got&^lsrDR != want {
						t.Fatalf("LSR = %#x", got)
					}
					if (got&lsrDR != 0) != (rx > 0) {
						t.Fatalf("LSR = %#x with %d bytes queued", got, rx)
					}
				case off == uartLCR && got != lcr, off == uartMCR && got != mcr:
					t.Fatalf("register %d = %#x, model has LCR %#x MCR %#x", off, got, lcr, mcr)
				}
			}
		}
		if w.n != sent {
			t.Fatalf("sent %d bytes, want %d", w.n, sent)
		}
		if got := s.Missed.Load(); got != missed {
			t.Fatalf("Missed = %d, want %d", got, missed)
		}
	})
}
