package devices

import (
	"encoding/binary"
	"testing"
)

// readItem selects key and reads n bytes from the data port.
func readItem(f *FwCfg, key uint16, n int) []byte {
	out(f, 0, 2, uint64(key))
	b := make([]byte, n)
	for i := range b {
		b[i] = in8(f, 1)
	}
	return b
}

func TestFwCfgItems(t *testing.T) {
	le := binary.LittleEndian
	f := NewFwCfg(128<<20, 3)
	if got := string(readItem(f, FwCfgSignature, 4)); got != "QEMU" {
		t.Errorf("signature %q", got)
	}
	if got := le.Uint32(readItem(f, FwCfgID, 4)); got != 1 {
		t.Errorf("ID %d, want 1 (no DMA)", got)
	}
	if got := le.Uint64(readItem(f, FwCfgRAMSize, 8)); got != 128<<20 {
		t.Errorf("RAM size %#x", got)
	}
	if got := le.Uint16(readItem(f, FwCfgNbCPUs, 2)); got != 3 {
		t.Errorf("NB_CPUS %d", got)
	}
	if got := le.Uint16(readItem(f, FwCfgMaxCPUs, 2)); got != 3 {
		t.Errorf("MAX_CPUS %d", got)
	}
	if f.Missed.Load() != 0 {
		t.Errorf("Missed = %d after good accesses", f.Missed.Load())
	}
}

// Past an item's end, and for an item that is not there (kvm-unit-tests
// reads FW_CFG_MAX_RAM, 0x11, and takes 0 for "no limit"), reads are 0.
func TestFwCfgMissingAndPastEnd(t *testing.T) {
	f := NewFwCfg(64<<20, 1)
	if got := readItem(f, 0x11, 8); binary.LittleEndian.Uint64(got) != 0 {
		t.Errorf("unknown item reads % x, want zeros", got)
	}
	if got := readItem(f, FwCfgSignature, 6); string(got) != "QEMU\x00\x00" {
		t.Errorf("signature and past it: %q", got)
	}
	// Selecting again rewinds.
	if got := string(readItem(f, FwCfgSignature, 4)); got != "QEMU" {
		t.Errorf("reselected signature %q", got)
	}
}

func TestFwCfgBadAccess(t *testing.T) {
	f := NewFwCfg(64<<20, 1)
	out(f, 0, 1, FwCfgSignature) // a byte write is not a key
	out(f, 2, 2, 0)              // outside the device
	if got := in(f, 1, 2); got != 0xffff {
		t.Errorf("word read of the data port = %#x, want all ones", got)
	}
	out8(f, 1, 0x55) // a data write is ignored, not counted
	if got := f.Missed.Load(); got != 2 {
		t.Errorf("Missed = %d, want 2", got)
	}
	if got := in8(f, 1); got != 0 {
		t.Errorf("data with nothing selected = %#x, want 0", got)
	}
}
