package devices

import "testing"

// nopDevice is a named device for bus tests; the name makes failures
// readable.
type nopDevice struct{ name string }

func (*nopDevice) Read(off uint64, data []byte)  {}
func (*nopDevice) Write(off uint64, data []byte) {}

// in performs a guest read of width bytes at off and returns the value,
// little-endian.
func in(d Device, off uint64, width int) uint64 {
	var buf [8]byte
	d.Read(off, buf[:width])
	return loadLE(buf[:width])
}

// out performs a guest write of width bytes of v at off.
func out(d Device, off uint64, width int, v uint64) {
	var buf [8]byte
	for i := range width {
		buf[i] = byte(v >> (8 * i))
	}
	d.Write(off, buf[:width])
}

// in8 is in for the common byte-wide case.
func in8(d Device, off uint64) byte { return byte(in(d, off, 1)) }

// out8 is out for the common byte-wide case.
func out8(d Device, off uint64, v byte) { out(d, off, 1, uint64(v)) }

func mustRegister(t *testing.T, b *Bus, base, size uint64, name string, d Device) int {
	t.Helper()
	i, err := b.Register(base, size, name, d)
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return i
}
