package devices

import "testing"

func TestDebugExit(t *testing.T) {
	tests := []struct {
		name   string
		off    uint64
		width  int
		value  uint64
		exits  []uint8
		missed uint64
	}{
		{"byte", 0, 1, 0x00, []uint8{0x00}, 0},
		{"byte nonzero", 0, 1, 0x2a, []uint8{0x2a}, 0},
		{"word takes low byte", 0, 2, 0x1203, []uint8{0x03}, 0},
		{"dword takes low byte", 0, 4, 0xdeadbe01, []uint8{0x01}, 0},
		{"status is not shifted", 0, 1, 0x01, []uint8{0x01}, 0},
		{"qword is not an out", 0, 8, 1, nil, 1},
		{"bad offset", 1, 1, 1, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var exits []uint8
			d := NewDebugExit(func(status uint8) { exits = append(exits, status) })
			out(d, tt.off, tt.width, tt.value)
			if len(exits) != len(tt.exits) || (len(exits) == 1 && exits[0] != tt.exits[0]) {
				t.Errorf("exits = %x, want %x", exits, tt.exits)
			}
			if got := d.Missed.Load(); got != tt.missed {
				t.Errorf("Missed = %d, want %d", got, tt.missed)
			}
		})
	}
}

func TestDebugExitRead(t *testing.T) {
	d := NewDebugExit(func(uint8) { t.Fatal("read called exit") })
	for _, width := range []int{1, 2, 4} {
		want := uint64(1)<<(8*width) - 1
		if got := in(d, 0, width); got != want {
			t.Errorf("width-%d read = %#x, want %#x", width, got, want)
		}
	}
	if d.Missed.Load() != 0 {
		t.Errorf("Missed = %d after good reads", d.Missed.Load())
	}
}

func TestDebugExitNilFunc(t *testing.T) {
	d := NewDebugExit(nil)
	out8(d, 0, 1) // must not panic
}
