package devices

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzBusRegister registers random ranges and checks the bus against a
// naive model: a range is accepted exactly when it is non-empty, does not
// wrap and overlaps nothing accepted before; every accepted range is found
// by Lookup at its first and last byte under its own index.
//
// Each 5-byte record is flags, base (2 bytes), size (2 bytes). Flag bit 0
// moves the base to just below the top of the address space so that the
// wrap-around check gets exercised; small numbers keep collisions likely.
func FuzzBusRegister(f *testing.F) {
	f.Add([]byte{0, 0xf8, 0x03, 8, 0, 0, 0x70, 0, 2, 0, 0, 0xfa, 0x03, 1, 0})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 1, 0, 1, 0, 0, 2, 0, 1, 1, 0, 1, 0})
	f.Add([]byte{0, 0x10, 0, 0x10, 0, 0, 0x20, 0, 0x10, 0, 0, 0x1f, 0, 2, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		type model struct{ base, last uint64 }
		b := NewBus("fuzz")
		var accepted []model
		for len(in) >= 5 {
			flags := in[0]
			base := uint64(binary.LittleEndian.Uint16(in[1:]))
			size := uint64(binary.LittleEndian.Uint16(in[3:]))
			in = in[5:]
			if flags&1 != 0 {
				base = ^uint64(0) - base
			}

			valid := size != 0 && base+size-1 >= base
			if valid {
				last := base + size - 1
				for _, m := range accepted {
					if base <= m.last && m.base <= last {
						valid = false
					}
				}
			}

			i, err := b.Register(base, size, "r", &nopDevice{})
			switch {
			case valid && err != nil:
				t.Fatalf("Register(%#x, %#x) refused a free range: %v", base, size, err)
			case !valid && err == nil:
				t.Fatalf("Register(%#x, %#x) accepted a bad or overlapping range as %d", base, size, i)
			case err != nil && !errors.Is(err, ErrOverlap) && !errors.Is(err, ErrBadRange):
				t.Fatalf("Register(%#x, %#x): unexpected error %v", base, size, err)
			case valid && i != len(accepted):
				t.Fatalf("Register returned index %d, want %d", i, len(accepted))
			}
			if valid {
				accepted = append(accepted, model{base, base + size - 1})
			}
		}

		if b.Len() != len(accepted) {
			t.Fatalf("Len() = %d, want %d", b.Len(), len(accepted))
		}
		for i, m := range accepted {
			for _, addr := range []uint64{m.base, m.last} {
				if _, off, index, ok := b.Lookup(addr); !ok || index != i || off != addr-m.base {
					t.Fatalf("Lookup(%#x) = %#x, %d, %v; want range %d", addr, off, index, ok, i)
				}
			}
			if m.base > 0 {
				if _, _, index, ok := b.Lookup(m.base - 1); ok && index == i {
					t.Fatalf("Lookup(%#x) below range %d found it", m.base-1, i)
				}
			}
		}
		b.Freeze()
		if _, err := b.Register(0, 1, "late", &nopDevice{}); !errors.Is(err, ErrFrozen) {
			t.Fatalf("Register after Freeze: %v", err)
		}
	})
}
