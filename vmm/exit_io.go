package vmm

import (
	"fmt"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// handleIO completes a port access on the port-I/O bus. A string
// instruction (rep ins/outs) arrives as Count accesses of Size bytes.
func handleIO(v *VCPU) (action, *Stop) {
	io := v.run.IO()
	data, err := v.ioData()
	if err != nil {
		return stopVCPU, &Stop{Kind: StopError, VCPU: v.id, Err: err}
	}
	dev, off, idx, ok := v.m.pio.Lookup(uint64(io.Port))
	if ok {
		v.key = v.m.pioKeys[idx]
	} else {
		v.key = v.m.pioNone
	}
	size := int(io.Size)
	for i := 0; i+size <= len(data); i += size {
		access := data[i : i+size]
		switch {
		case !ok && io.Direction == kvm.IOIn:
			fillOnes(access) // an empty ISA bus reads as all ones
		case !ok:
		case io.Direction == kvm.IOOut:
			dev.Write(off, access)
		default:
			dev.Read(off, access)
		}
	}
	return continueVCPU, nil
}

// handleMMIO completes a memory-mapped access on the MMIO bus. Writes to
// read-only memory (firmware ROM) arrive here too: a guest fault, or with
// Config.DropROMWrites dropped, as hardware drops them, and counted
// (romWrites).
func handleMMIO(v *VCPU) (action, *Stop) {
	mmio := v.run.MMIO()
	if mmio.Len > uint32(len(mmio.Data)) {
		return stopVCPU, &Stop{Kind: StopError, VCPU: v.id,
			Err: fmt.Errorf("vcpu %d: MMIO exit of %d bytes at %#x", v.id, mmio.Len, mmio.PhysAddr)}
	}
	access := mmio.Data[:mmio.Len]
	dev, off, idx, ok := v.m.mmio.Lookup(mmio.PhysAddr)
	switch {
	case ok && mmio.IsWrite != 0:
		v.key = v.m.mmioKeys[idx]
		dev.Write(off, access)
	case ok:
		v.key = v.m.mmioKeys[idx]
		dev.Read(off, access)
	case mmio.IsWrite != 0 && v.m.mem.readOnlyAt(mmio.PhysAddr):
		v.key = v.m.romKey
		if !v.m.cfg.DropROMWrites {
			return stopVCPU, v.fault(kvm.ExitMMIO, fmt.Sprintf("write of %d bytes to read-only memory (ROM) at %#x", mmio.Len, mmio.PhysAddr))
		}
		pc, known := v.codeAddr()
		v.m.romWrites.record(mmio.PhysAddr, pc, known)
	default:
		v.key = v.m.mmioNone
		if mmio.IsWrite == 0 {
			fillOnes(access)
		}
	}
	return continueVCPU, nil
}

func fillOnes(b []byte) {
	for i := range b {
		b[i] = 0xff
	}
}
