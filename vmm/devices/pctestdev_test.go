package devices

import "testing"

// The read-back register, as kvm-unit-tests' emulator and realmode tests
// use it: any width in, any width out, bytes kept where not written.
func TestPCTestIOPortReadBack(t *testing.T) {
	d := NewPCTestDev(nil, nil)
	p := d.IOPort()
	out(p, 0, 4, 0xdeadbeef)
	if got := in(p, 0, 4); got != 0xdeadbeef {
		t.Fatalf("dword = %#x", got)
	}
	out(p, 0, 1, 0x11)
	if got := in(p, 0, 4); got != 0xdeadbe11 {
		t.Errorf("after byte write = %#x, want 0xdeadbe11", got)
	}
	out(p, 2, 2, 0x2233)
	if got := in(p, 0, 4); got != 0x2233be11 {
		t.Errorf("after word write at 2 = %#x, want 0x2233be11", got)
	}
	if got := in(p, 1, 1); got != 0xbe {
		t.Errorf("byte 1 = %#x, want 0xbe", got)
	}
	// rep outsb leaves the last byte; inb reads it back.
	for _, c := range []byte("abcdefghijklmnop") {
		out8(p, 0, c)
	}
	if got := in8(p, 0); got != 'p' {
		t.Errorf("after outsb = %q, want 'p'", got)
	}
	out(p, 3, 2, 0) // runs past the register
	if got := in(p, 0, 8); got != 0xffffffffffffffff {
		t.Errorf("qword read = %#x, want all ones", got)
	}
	if got := d.Missed.Load(); got != 2 {
		t.Errorf("Missed = %d, want 2", got)
	}
}

func TestPCTestFlush(t *testing.T) {
	var pages []uint64
	d := NewPCTestDev(func(gpa uint64) { pages = append(pages, gpa) }, nil)
	out(d.FlushPort(), 0, 4, 0x123456)
	out(d.FlushPort(), 0, 2, 0x1000) // not a 32-bit write
	if len(pages) != 1 || pages[0] != 0x123000 {
		t.Errorf("flushed %#x, want [0x123000]", pages)
	}
	if d.Missed.Load() != 1 {
		t.Errorf("Missed = %d, want 1", d.Missed.Load())
	}
}

func TestPCTestIRQLines(t *testing.T) {
	type set struct {
		line  int
		level bool
	}
	var got []set
	d := NewPCTestDev(nil, func(line int, level bool) { got = append(got, set{line, level}) })
	out8(d.IRQPort(), 14, 1)
	out8(d.IRQPort(), 14, 0)
	out8(d.IRQPort(), 24, 1) // no line 24
	if len(got) != 2 || got[0] != (set{14, true}) || got[1] != (set{14, false}) {
		t.Errorf("lines set %v", got)
	}
	got = nil
	out(d.IRQPort(), 11, 4, 1) // realmode's outl to 0x200b: one line a byte
	if len(got) != 4 || got[0] != (set{11, true}) || got[3] != (set{14, false}) {
		t.Errorf("dword write set %v, want 11 up, 12-14 down", got)
	}
	out(d.IRQPort(), 22, 4, 1) // runs past line 23
	if d.Missed.Load() != 2 {
		t.Errorf("Missed = %d, want 2", d.Missed.Load())
	}
	NewPCTestDev(nil, nil).IRQPort().Write(0, []byte{1}) // nil callback: counted, no panic
}

func TestPCTestIOMem(t *testing.T) {
	d := NewPCTestDev(nil, nil)
	m := d.IOMem()
	out(m, 4095, 2, 0x88aa) // across a page, as the emulator test does
	if got := in(m, 4095, 2); got != 0x88aa {
		t.Errorf("read back %#x", got)
	}
	if got := in8(m, 4096); got != 0x88 {
		t.Errorf("byte 4096 = %#x", got)
	}
	out(m, PCTestIOMemSize-2, 4, 1)
	if got := in(m, PCTestIOMemSize, 1); got != 0xff {
		t.Errorf("past the end = %#x", got)
	}
	if d.Missed.Load() != 2 {
		t.Errorf("Missed = %d, want 2", d.Missed.Load())
	}
}
