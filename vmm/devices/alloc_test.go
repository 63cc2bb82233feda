package devices

import (
	"io"
	"testing"
)

// The exit path must not allocate (ARCHITECTURE.md, "Exit accounting"):
// these tests pin that down for the bus and the devices a busy guest hits
// most, and the benchmarks measure the cost per access.

// pcBus returns a frozen port bus laid out like the VMM's, plus one
// address per registered device.
func pcBus(tb testing.TB) (*Bus, []uint64) {
	b := NewBus("pio")
	ranges := []struct {
		base, size uint64
		name       string
	}{
		{0x20, 2, "pic1"}, {0x40, 4, "pit"}, {0x60, 1, "i8042-data"}, {0x61, 1, "speaker"},
		{0x64, 1, "i8042-cmd"}, {0x70, 2, "cmos"}, {0x80, 1, "post"}, {0xa0, 2, "pic2"},
		{0xf4, 1, "debug-exit"}, {0x2f8, 8, "com2"}, {0x3e8, 8, "com3"}, {0x3f8, 8, "serial"},
		{0xcf8, 8, "pci"}, {0x510, 2, "fw-cfg"}, {0x600, 0x20, "acpi-pm"}, {0xb000, 0x40, "virtio"},
	}
	var addrs []uint64
	for _, r := range ranges {
		if _, err := b.Register(r.base, r.size, r.name, &nopDevice{r.name}); err != nil {
			tb.Fatal(err)
		}
		addrs = append(addrs, r.base+r.size-1)
	}
	b.Freeze()
	return b, addrs
}

func TestBusLookupNoAlloc(t *testing.T) {
	b, addrs := pcBus(t)
	allocs := testing.AllocsPerRun(1000, func() {
		for _, a := range addrs {
			b.Lookup(a)
		}
		b.Lookup(0x1234) // a miss
	})
	if allocs != 0 {
		t.Fatalf("Lookup allocates %.1f times per run", allocs)
	}
}

func TestSerialWriteNoAlloc(t *testing.T) {
	s := NewSerial(io.Discard)
	s.IRQ = func(bool) {}
	out8(s, 1, 0x0f) // all interrupts on, so the IRQ path runs too
	data := []byte{'x'}
	allocs := testing.AllocsPerRun(1000, func() {
		s.Write(0, data)
	})
	if allocs != 0 {
		t.Fatalf("Serial.Write allocates %.1f times per byte", allocs)
	}
}

func TestDebugExitWriteNoAlloc(t *testing.T) {
	var last uint8
	d := NewDebugExit(func(status uint8) { last = status })
	data := []byte{0x31, 0, 0, 0}
	allocs := testing.AllocsPerRun(1000, func() {
		d.Write(0, data)
	})
	if allocs != 0 {
		t.Fatalf("DebugExit.Write allocates %.1f times per run", allocs)
	}
	if last != 0x31 {
		t.Fatalf("exit status = %#x, want 0x31", last)
	}
}

func BenchmarkBusLookup(b *testing.B) {
	bus, addrs := pcBus(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bus.Lookup(addrs[i])
		i++
		if i == len(addrs) {
			i = 0
		}
	}
}

func BenchmarkSerialWrite(b *testing.B) {
	s := NewSerial(io.Discard)
	data := []byte{'x'}
	b.ReportAllocs()
	for b.Loop() {
		s.Write(0, data)
	}
}
