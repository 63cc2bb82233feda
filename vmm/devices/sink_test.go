package devices

import "testing"

func TestSink(t *testing.T) {
	type access struct {
		write bool
		off   uint64
		width int
		value uint64 // written, or expected on read
	}
	tests := []struct {
		name   string
		seq    []access
		writes uint64
		last   uint64
		missed uint64
	}{
		{"empty", nil, 0, 0, 0},
		{"post codes", []access{{true, 0, 1, 0x01}, {true, 0, 1, 0x55}, {true, 0, 1, 0xaa}}, 3, 0xaa, 0},
		{"wide write", []access{{true, 0, 4, 0x12345678}}, 1, 0x12345678, 0},
		{"any offset", []access{{true, 3, 2, 0xbeef}}, 1, 0xbeef, 0},
		{"reads are all ones", []access{{false, 0, 1, 0xff}, {false, 0, 2, 0xffff}, {false, 0, 8, ^uint64(0)}}, 0, 0, 0},
		{"bad width", []access{{true, 0, 1, 0x10}, {true, 0, 3, 0x20}}, 1, 0x10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSink()
			for _, a := range tt.seq {
				if a.write {
					out(s, a.off, a.width, a.value)
				} else if got := in(s, a.off, a.width); got != a.value {
					t.Errorf("read width %d = %#x, want %#x", a.width, got, a.value)
				}
			}
			if got := s.Writes.Load(); got != tt.writes {
				t.Errorf("Writes = %d, want %d", got, tt.writes)
			}
			if got := s.Last.Load(); got != tt.last {
				t.Errorf("Last = %#x, want %#x", got, tt.last)
			}
			if got := s.Missed.Load(); got != tt.missed {
				t.Errorf("Missed = %d, want %d", got, tt.missed)
			}
		})
	}
}
