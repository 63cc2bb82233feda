package devices

import "testing"

func TestSleepControl(t *testing.T) {
	const s5 = 5
	for _, tt := range []struct {
		name  string
		off   uint64
		value uint64
		width int
		want  bool
	}{
		{"S5 with SLP_EN", 0, s5<<2 | 1<<5, 1, true},
		{"S5 as Linux writes it, other bits kept", 0, 0xc0 | s5<<2 | 1<<5, 1, true},
		{"S5 without SLP_EN", 0, s5 << 2, 1, false},
		{"S3", 0, 3<<2 | 1<<5, 1, false},
		{"status register", 1, s5<<2 | 1<<5, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			off := false
			s := NewSleepControl(s5, func() { off = true })
			out(s, tt.off, tt.width, tt.value)
			if off != tt.want {
				t.Errorf("powered off %v, want %v", off, tt.want)
			}
			if got := in(s, tt.off, 1); got != 0 {
				t.Errorf("reads %#x, want 0", got)
			}
		})
	}
}
