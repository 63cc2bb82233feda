package devices

import "testing"

// SeaBIOS's and Linux's sequence: SYS_RST first (kept, no reset), then
// SYS_RST|RST_CPU (reset).
func TestResetControlSequence(t *testing.T) {
	resets := 0
	r := NewResetControl(func() { resets++ })
	if got := in8(r, 0); got != 0 {
		t.Errorf("initial read %#x, want 0", got)
	}
	out8(r, 0, 0x02)
	if resets != 0 {
		t.Fatal("SYS_RST alone reset the machine")
	}
	if got := in8(r, 0); got != 0x02 {
		t.Errorf("read after writing 2 = %#x, want 2 (SYS_RST kept)", got)
	}
	out8(r, 0, 0xf9) // other bits are not kept
	if got := in8(r, 0); got != 0 {
		t.Errorf("read after writing 0xf9 = %#x, want 0", got)
	}
	out8(r, 0, 0x06)
	if resets != 1 {
		t.Errorf("resets after writing 6 = %d, want 1", resets)
	}
	out8(r, 0, 0x04) // RST_CPU alone (a soft reset) resets too
	if resets != 2 {
		t.Errorf("resets after writing 4 = %d, want 2", resets)
	}
	if r.Missed.Load() != 0 {
		t.Errorf("Missed = %d after good accesses", r.Missed.Load())
	}
}

func TestResetControlBadAccess(t *testing.T) {
	r := NewResetControl(func() { t.Error("a bad access reset the machine") })
	out(r, 0, 4, 0x80000000) // a PCI config address write is not ours
	out8(r, 1, 0x06)
	if got := in(r, 0, 2); got != 0xffff {
		t.Errorf("word read = %#x, want all ones", got)
	}
	if got := r.Missed.Load(); got != 3 {
		t.Errorf("Missed = %d, want 3", got)
	}
	NewResetControl(nil).Write(0, []byte{0x06}) // must not panic
}
