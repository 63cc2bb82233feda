package devices

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// FwCfg is a minimal QEMU firmware configuration device (fw_cfg), the
// legacy port interface only: a 16-bit write of an item's key to the
// selector port (offset 0, normally 0x510) chooses the item and rewinds
// it, then byte reads of the data port (offset 1, 0x511) return its bytes
// in turn, and zeros past its end or for an item that is not there. No
// DMA, no writes.
//
// It exists for kvm-unit-tests, whose lib/x86/fwcfg.c asks it for the
// number of vCPUs (FW_CFG_NB_CPUS) before bringing up the others, and for
// the RAM size; the items it holds are the ones QEMU's guests read first.
// Named files (AddFile) are listed in the file directory item, which is
// how SeaBIOS finds its settings (etc/boot-fail-wait).
type FwCfg struct {
	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64

	mu    sync.Mutex // vCPUs share the selector, as they share the device
	items map[uint16][]byte
	files []fwCfgFile // sorted by name, as QEMU keeps them
	sel   []byte      // the selected item's remaining bytes
}

type fwCfgFile struct {
	name string
	data []byte
}

// fw_cfg keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h).
const (
	FwCfgSignature = 0x00
	FwCfgID        = 0x01
	FwCfgRAMSize   = 0x03
	FwCfgNbCPUs    = 0x05
	FwCfgMaxCPUs   = 0x0f
	FwCfgFileDir   = 0x19
	FwCfgFileFirst = 0x20 // the first file's key; files follow in name order
)

// File directory limits: QEMU's FW_CFG_MAX_FILE_PATH (the name field,
// NUL included) and its default number of file slots.
const (
	fwCfgFileName  = 56
	FwCfgFileSlots = 0x20
)

// NewFwCfg returns a fw_cfg device describing a machine with ramSize bytes
// of RAM and cpus vCPUs (also its maximum: there is no hot-plug).
func NewFwCfg(ramSize uint64, cpus int) *FwCfg {
	le := binary.LittleEndian
	f := &FwCfg{items: map[uint16][]byte{
		FwCfgSignature: []byte("QEMU"),
		FwCfgID:        le.AppendUint32(nil, 1), // the traditional interface, no DMA
		FwCfgRAMSize:   le.AppendUint64(nil, ramSize),
		FwCfgNbCPUs:    le.AppendUint16(nil, uint16(cpus)),
		FwCfgMaxCPUs:   le.AppendUint16(nil, uint16(cpus)),
	}}
	return f
}

// AddFile adds a named item, such as SeaBIOS's "etc/boot-fail-wait", and
// lists it in the file directory (FW_CFG_FILE_DIR: a big-endian count,
// then per file its big-endian size, key and a reserved word, and its
// NUL-padded name). Files get keys from FwCfgFileFirst in name order, as
// QEMU gives them. Call it before the guest runs: a guest that has read
// the directory keeps the keys it saw.
func (f *FwCfg) AddFile(name string, data []byte) error {
	switch {
	case name == "" || len(name) >= fwCfgFileName:
		return fmt.Errorf("fw_cfg file %q: name must be 1 to %d bytes", name, fwCfgFileName-1)
	case uint64(len(data)) > math.MaxUint32:
		return fmt.Errorf("fw_cfg file %q: %d bytes is too big", name, len(data))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.files) == FwCfgFileSlots {
		return fmt.Errorf("fw_cfg file %q: all %d file slots are taken", name, FwCfgFileSlots)
	}
	i, found := slices.BinarySearchFunc(f.files, name, func(e fwCfgFile, n string) int {
		return strings.Compare(e.name, n)
	})
	if found {
		return fmt.Errorf("fw_cfg file %q: already added", name)
	}
	f.files = slices.Insert(f.files, i, fwCfgFile{name: name, data: slices.Clone(data)})
	be := binary.BigEndian
	dir := be.AppendUint32(nil, uint32(len(f.files)))
	for j, e := range f.files {
		key := uint16(FwCfgFileFirst + j)
		f.items[key] = e.data
		dir = be.AppendUint32(dir, uint32(len(e.data)))
		dir = be.AppendUint16(dir, key)
		dir = be.AppendUint16(dir, 0)
		var n [fwCfgFileName]byte
		copy(n[:], e.name)
		dir = append(dir, n[:]...)
	}
	f.items[FwCfgFileDir] = dir
	return nil
}

// Read implements Device: the data port gives the selected item's next
// byte; the selector port reads as all ones.
func (f *FwCfg) Read(off uint64, data []byte) {
	if off != 1 || len(data) != 1 {
		if off > 1 || !validWidth(len(data)) {
			f.Missed.Add(1)
		}
		fillOnes(data)
		return
	}
	f.mu.Lock()
	data[0] = 0
	if len(f.sel) > 0 {
		data[0], f.sel = f.sel[0], f.sel[1:]
	}
	f.mu.Unlock()
}

// Write implements Device: a 16-bit write to the selector chooses an
// item. Writes to the data port are ignored, as QEMU does since 2.4.
func (f *FwCfg) Write(off uint64, data []byte) {
	if off != 0 || len(data) != 2 {
		if off != 1 {
			f.Missed.Add(1)
		}
		return
	}
	key := binary.LittleEndian.Uint16(data)
	f.mu.Lock()
	f.sel = f.items[key]
	f.mu.Unlock()
}
