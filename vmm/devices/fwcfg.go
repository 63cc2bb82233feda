package devices

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// FwCfg is a minimal QEMU firmware configuration device (fw_cfg), the
// legacy port interface only: a 16-bit write of an item's key to the
// selector port (offset 0, normally 0x510) chooses the item and rewinds
// it, then byte reads of the data port (offset 1, 0x511) return its bytes
// in turn, and zeros past its end or for an item that is not there. No
// DMA, no file directory, no writes.
//
// It exists for kvm-unit-tests, whose lib/x86/fwcfg.c asks it for the
// number of vCPUs (FW_CFG_NB_CPUS) before bringing up the others, and for
// the RAM size; the items it holds are the ones QEMU's guests read first.
type FwCfg struct {
	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64

	items map[uint16][]byte

	mu  sync.Mutex // vCPUs share the selector, as they share the device
	sel []byte     // the selected item's remaining bytes
}

// fw_cfg keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h).
const (
	FwCfgSignature = 0x00
	FwCfgID        = 0x01
	FwCfgRAMSize   = 0x03
	FwCfgNbCPUs    = 0x05
	FwCfgMaxCPUs   = 0x0f
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
