package devices

// Helpers shared by the devices for decoding a guest access. x86 is
// little-endian, so multi-byte port and MMIO accesses carry the low byte
// first.

// validWidth reports whether n is a width the CPU can produce for a port or
// MMIO access.
func validWidth(n int) bool {
	return n == 1 || n == 2 || n == 4 || n == 8
}

// loadLE returns data as a little-endian integer; bytes past the eighth are
// ignored.
func loadLE(data []byte) uint64 {
	var v uint64
	for i := min(len(data), 8) - 1; i >= 0; i-- {
		v = v<<8 | uint64(data[i])
	}
	return v
}

// fillOnes sets every byte of data to 0xff, which is what a read from an
// undriven ISA bus returns.
func fillOnes(data []byte) {
	for i := range data {
		data[i] = 0xff
	}
}
