package devices

import "testing"

func TestDoorbell(t *testing.T) {
	var d Doorbell
	d.Write(0, []byte{1, 0, 0, 0})
	d.Write(0, []byte{7})
	d.Ring(3)
	d.Write(1, []byte{1})
	if d.Rings.Load() != 5 || d.Missed.Load() != 1 {
		t.Fatalf("rings %d missed %d", d.Rings.Load(), d.Missed.Load())
	}
	var b [4]byte
	d.Read(0, b[:])
	if b != [4]byte{} {
		t.Fatalf("read %x", b)
	}
}

func TestDataWindow(t *testing.T) {
	w := NewDataWindow(64)
	w.Write(60, []byte{1, 2, 3, 4})
	w.Write(62, []byte{9, 9, 9, 9}) // crosses the end
	w.FlushPort().Write(0, []byte{0})
	var b [4]byte
	w.Read(60, b[:])
	if b != [4]byte{1, 2, 3, 4} || w.Writes.Load() != 1 || w.Missed.Load() != 1 || w.Flushes.Load() != 1 {
		t.Fatalf("read %x writes %d missed %d flushes %d", b, w.Writes.Load(), w.Missed.Load(), w.Flushes.Load())
	}
	if n := testing.AllocsPerRun(100, func() { w.Write(0, b[:]) }); n != 0 {
		t.Fatalf("Write allocates %.1f", n)
	}
}
