package devices

import (
	"encoding/binary"
	"fmt"
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

// The file directory is read as SeaBIOS's qemu_romfile_init reads it:
// a big-endian count, then 64-byte entries (size, key, reserved, name),
// and each file through the key the directory names.
func TestFwCfgFiles(t *testing.T) {
	be := binary.BigEndian
	f := NewFwCfg(64<<20, 1)
	if got := be.Uint32(readItem(f, FwCfgFileDir, 4)); got != 0 {
		t.Fatalf("empty directory count %d, want 0", got)
	}
	wait := binary.LittleEndian.AppendUint32(nil, 0)
	if err := f.AddFile("etc/boot-fail-wait", wait); err != nil {
		t.Fatal(err)
	}
	if err := f.AddFile("bootorder", []byte("/rom@genroms/x\x00")); err != nil {
		t.Fatal(err)
	}
	dir := readItem(f, FwCfgFileDir, 4+2*64)
	if n := be.Uint32(dir); n != 2 {
		t.Fatalf("directory count %d, want 2", n)
	}
	want := []struct {
		name string
		data []byte
	}{{"bootorder", []byte("/rom@genroms/x\x00")}, {"etc/boot-fail-wait", wait}}
	for i, w := range want {
		e := dir[4+64*i : 4+64*(i+1)]
		size, key := be.Uint32(e), be.Uint16(e[4:])
		name := string(e[8 : 8+len(w.name)])
		if name != w.name || e[8+len(w.name)] != 0 {
			t.Errorf("entry %d name %q, want %q NUL-terminated", i, e[8:], w.name)
		}
		if key != FwCfgFileFirst+uint16(i) {
			t.Errorf("%s: key %#x, want %#x (name order)", w.name, key, FwCfgFileFirst+i)
		}
		if int(size) != len(w.data) {
			t.Errorf("%s: size %d, want %d", w.name, size, len(w.data))
		}
		if got := readItem(f, key, len(w.data)); string(got) != string(w.data) {
			t.Errorf("%s reads % x, want % x", w.name, got, w.data)
		}
	}
}

func TestFwCfgBadFiles(t *testing.T) {
	f := NewFwCfg(64<<20, 1)
	if err := f.AddFile("etc/x", nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "etc/x", string(make([]byte, 56))} {
		if err := f.AddFile(name, nil); err == nil {
			t.Errorf("AddFile(%q) succeeded", name)
		}
	}
	for i := 1; i < FwCfgFileSlots; i++ {
		if err := f.AddFile(fmt.Sprintf("f%02d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.AddFile("one-too-many", nil); err == nil {
		t.Error("AddFile past the last slot succeeded")
	}
	if n := binary.BigEndian.Uint32(readItem(f, FwCfgFileDir, 4)); n != FwCfgFileSlots {
		t.Errorf("directory count %d, want %d", n, FwCfgFileSlots)
	}
}
