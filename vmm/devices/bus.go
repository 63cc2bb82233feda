package devices

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Errors a caller may want to tell apart; Register wraps them with the
// names and ranges involved.
var (
	// ErrFrozen means the bus was frozen and takes no more devices.
	ErrFrozen = errors.New("bus is frozen")
	// ErrOverlap means the range collides with one already registered.
	ErrOverlap = errors.New("ranges overlap")
	// ErrBadRange means the range is empty or wraps past the top of the
	// address space.
	ErrBadRange = errors.New("bad range")
)

// busRange is one registered device. last is inclusive so that a range
// may end at the very top of the 64-bit address space.
type busRange struct {
	base, last uint64
	dev        Device
	index      int
	name       string
}

// Bus maps guest port or MMIO addresses to devices.
//
// A Bus is built (Register) before the vCPUs start and then frozen; from
// then on it is immutable, which is what lets Lookup run on every vCPU
// thread at once without a lock and without allocating. Register and
// Freeze are not safe to call concurrently with each other or with Lookup.
type Bus struct {
	name   string
	sorted []busRange // by base, for Lookup
	byIdx  []busRange // in registration order, for Name and Base
	frozen atomic.Bool
}

// NewBus returns an empty bus; name ("pio", "mmio") prefixes its errors.
func NewBus(name string) *Bus {
	return &Bus{name: name}
}

// Register claims [base, base+size) for d and returns the range's index:
// dense from 0 in registration order, so callers can keep per-device
// statistics in a fixed array. name is a short label for those statistics.
// An empty range, one that wraps around the address space, one that
// overlaps a registered range, and any Register after Freeze are errors.
func (b *Bus) Register(base, size uint64, name string, d Device) (int, error) {
	if b.frozen.Load() {
		return -1, fmt.Errorf("%s bus: register %q at %#x: %w", b.name, name, base, ErrFrozen)
	}
	if d == nil {
		return -1, fmt.Errorf("%s bus: register %q at %#x: nil device", b.name, name, base)
	}
	if size == 0 {
		return -1, fmt.Errorf("%s bus: register %q at %#x: size 0: %w", b.name, name, base, ErrBadRange)
	}
	last := base + size - 1
	if last < base {
		return -1, fmt.Errorf("%s bus: register %q at %#x size %#x: wraps around: %w",
			b.name, name, base, size, ErrBadRange)
	}

	// i is the first range that starts after base; only it and its
	// predecessor can overlap the new range.
	i := b.search(base)
	if i > 0 && b.sorted[i-1].last >= base {
		return -1, b.overlap(name, base, last, b.sorted[i-1])
	}
	if i < len(b.sorted) && b.sorted[i].base <= last {
		return -1, b.overlap(name, base, last, b.sorted[i])
	}

	r := busRange{base: base, last: last, dev: d, index: len(b.byIdx), name: name}
	b.sorted = append(b.sorted, busRange{})
	copy(b.sorted[i+1:], b.sorted[i:])
	b.sorted[i] = r
	b.byIdx = append(b.byIdx, r)
	return r.index, nil
}

func (b *Bus) overlap(name string, base, last uint64, old busRange) error {
	return fmt.Errorf("%s bus: register %q at [%#x, %#x]: overlaps %q at [%#x, %#x]: %w",
		b.name, name, base, last, old.name, old.base, old.last, ErrOverlap)
}

// Freeze makes the bus immutable: every later Register fails. Call it
// before the first vCPU starts.
func (b *Bus) Freeze() {
	b.frozen.Store(true)
}

// Lookup finds the range holding addr and returns its device, addr's offset
// within the range and the range's index. It is a binary search over a
// sorted slice: no lock, no allocation, so it can sit on the exit path.
func (b *Bus) Lookup(addr uint64) (d Device, off uint64, index int, ok bool) {
	i := b.search(addr)
	if i == 0 {
		return nil, 0, -1, false
	}
	r := &b.sorted[i-1]
	if addr > r.last {
		return nil, 0, -1, false
	}
	return r.dev, addr - r.base, r.index, true
}

// search returns the index of the first sorted range whose base is above
// addr. Hand-written rather than sort.Search to keep the closure call off
// the exit path.
func (b *Bus) search(addr uint64) int {
	lo, hi := 0, len(b.sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.sorted[m].base <= addr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Len returns the number of registered ranges; valid indices are
// [0, Len()).
func (b *Bus) Len() int {
	return len(b.byIdx)
}

// Name returns the label the range at index was registered with. It panics
// if index is out of range, as a slice would.
func (b *Bus) Name(index int) string {
	return b.byIdx[index].name
}

// Base returns the first address of the range at index. It panics if index
// is out of range, as a slice would.
func (b *Bus) Base(index int) uint64 {
	return b.byIdx[index].base
}
