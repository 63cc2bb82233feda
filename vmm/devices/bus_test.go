package devices

import (
	"errors"
	"strings"
	"testing"
)

func TestBusLookup(t *testing.T) {
	b := NewBus("pio")
	serial, cmos, debug := &nopDevice{"serial"}, &nopDevice{"cmos"}, &nopDevice{"debug"}
	// Registered out of address order: indices follow registration order.
	mustRegister(t, b, 0x3f8, 8, "serial", serial)
	mustRegister(t, b, 0x70, 2, "cmos", cmos)
	mustRegister(t, b, 0xf4, 1, "debug-exit", debug)
	b.Freeze()

	tests := []struct {
		addr  uint64
		dev   Device
		off   uint64
		index int
		ok    bool
	}{
		{0x0, nil, 0, -1, false},
		{0x6f, nil, 0, -1, false},
		{0x70, cmos, 0, 1, true},
		{0x71, cmos, 1, 1, true},
		{0x72, nil, 0, -1, false},
		{0xf3, nil, 0, -1, false},
		{0xf4, debug, 0, 2, true},
		{0xf5, nil, 0, -1, false},
		{0x3f7, nil, 0, -1, false},
		{0x3f8, serial, 0, 0, true},
		{0x3fd, serial, 5, 0, true},
		{0x3ff, serial, 7, 0, true},
		{0x400, nil, 0, -1, false},
		{^uint64(0), nil, 0, -1, false},
	}
	for _, tt := range tests {
		d, off, index, ok := b.Lookup(tt.addr)
		if d != tt.dev || off != tt.off || index != tt.index || ok != tt.ok {
			t.Errorf("Lookup(%#x) = %v, %#x, %d, %v; want %v, %#x, %d, %v",
				tt.addr, d, off, index, ok, tt.dev, tt.off, tt.index, tt.ok)
		}
	}

	if b.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", b.Len())
	}
	wantNames := []string{"serial", "cmos", "debug-exit"}
	wantBases := []uint64{0x3f8, 0x70, 0xf4}
	for i := range b.Len() {
		if b.Name(i) != wantNames[i] || b.Base(i) != wantBases[i] {
			t.Errorf("range %d = %q at %#x, want %q at %#x", i, b.Name(i), b.Base(i), wantNames[i], wantBases[i])
		}
	}
}

func TestBusEmptyLookup(t *testing.T) {
	b := NewBus("mmio")
	if d, off, index, ok := b.Lookup(0); ok || d != nil || off != 0 || index != -1 {
		t.Fatalf("Lookup on empty bus = %v, %d, %d, %v", d, off, index, ok)
	}
}

func TestBusTopOfAddressSpace(t *testing.T) {
	b := NewBus("mmio")
	top := &nopDevice{"top"}
	mustRegister(t, b, ^uint64(0)-0xfff, 0x1000, "top", top)
	if d, off, _, ok := b.Lookup(^uint64(0)); !ok || d != top || off != 0xfff {
		t.Fatalf("Lookup(max) = %v, %#x, %v", d, off, ok)
	}
	if _, err := b.Register(^uint64(0), 1, "last-byte", &nopDevice{}); !errors.Is(err, ErrOverlap) {
		t.Fatalf("register over top range: err = %v, want ErrOverlap", err)
	}
}

func TestBusRegisterErrors(t *testing.T) {
	tests := []struct {
		name       string
		base, size uint64
		want       error
		wantText   []string // substrings the message must name
	}{
		{"same", 0x3f8, 8, ErrOverlap, []string{`"new"`, `"serial"`}},
		{"first-byte", 0x3ff, 1, ErrOverlap, []string{`"serial"`}},
		{"straddle-start", 0x3f0, 9, ErrOverlap, []string{`"serial"`}},
		{"inside", 0x3fa, 2, ErrOverlap, []string{`"serial"`}},
		{"cover", 0x300, 0x200, ErrOverlap, []string{`"serial"`}},
		{"cmos-end", 0x71, 0x10, ErrOverlap, []string{`"cmos"`}},
		{"size-zero", 0x500, 0, ErrBadRange, []string{`"new"`}},
		{"wrap", ^uint64(0), 2, ErrBadRange, []string{`"new"`}},
		{"wrap-big", 0x1000, ^uint64(0), ErrBadRange, []string{`"new"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBus("pio")
			mustRegister(t, b, 0x70, 2, "cmos", &nopDevice{})
			mustRegister(t, b, 0x3f8, 8, "serial", &nopDevice{})
			i, err := b.Register(tt.base, tt.size, "new", &nopDevice{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Register(%#x, %#x) = %d, %v; want %v", tt.base, tt.size, i, err, tt.want)
			}
			if i != -1 {
				t.Errorf("failed Register returned index %d, want -1", i)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %s", err, s)
				}
			}
			if b.Len() != 2 {
				t.Errorf("Len() = %d after failed Register, want 2", b.Len())
			}
		})
	}
}

func TestBusAdjacentRanges(t *testing.T) {
	b := NewBus("pio")
	data, cmd := &nopDevice{"data"}, &nopDevice{"cmd"}
	mustRegister(t, b, 0x64, 1, "i8042-cmd", cmd)
	mustRegister(t, b, 0x60, 1, "i8042-data", data)
	mustRegister(t, b, 0x61, 3, "between", &nopDevice{})
	mustRegister(t, b, 0x65, 1, "after", &nopDevice{})
	for addr, want := range map[uint64]int{0x60: 1, 0x61: 2, 0x63: 2, 0x64: 0, 0x65: 3} {
		if _, _, index, ok := b.Lookup(addr); !ok || index != want {
			t.Errorf("Lookup(%#x) index = %d, %v; want %d", addr, index, ok, want)
		}
	}
}

func TestBusNilDevice(t *testing.T) {
	b := NewBus("pio")
	if _, err := b.Register(0x80, 1, "post", nil); err == nil {
		t.Fatal("Register with nil device succeeded")
	}
}

func TestBusFreeze(t *testing.T) {
	b := NewBus("pio")
	mustRegister(t, b, 0x80, 1, "post", &nopDevice{})
	b.Freeze()
	if _, err := b.Register(0x90, 1, "late", &nopDevice{}); !errors.Is(err, ErrFrozen) {
		t.Fatalf("Register after Freeze: err = %v, want ErrFrozen", err)
	}
	if b.Len() != 1 {
		t.Fatalf("Len() = %d after refused Register, want 1", b.Len())
	}
	if _, _, index, ok := b.Lookup(0x80); !ok || index != 0 {
		t.Fatalf("Lookup after Freeze = %d, %v", index, ok)
	}
}

func TestBusIndexStability(t *testing.T) {
	// Indices must not move when later ranges sort before earlier ones.
	b := NewBus("mmio")
	bases := []uint64{0x5000, 0x1000, 0x9000, 0x3000, 0x0, 0x7000}
	for i, base := range bases {
		if got := mustRegister(t, b, base, 0x1000, "r", &nopDevice{}); got != i {
			t.Fatalf("Register #%d returned index %d", i, got)
		}
	}
	for i, base := range bases {
		if _, off, index, ok := b.Lookup(base + 0xfff); !ok || index != i || off != 0xfff {
			t.Errorf("Lookup(%#x) = %#x, %d, %v; want index %d", base+0xfff, off, index, ok, i)
		}
		if b.Base(i) != base {
			t.Errorf("Base(%d) = %#x, want %#x", i, b.Base(i), base)
		}
	}
}
