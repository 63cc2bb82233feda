package devices

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// PCTestDev is QEMU's pc-testdev (hw/misc/pc-testdev.c), the device that
// kvm-unit-tests' x86 tests poke to exercise KVM's I/O paths:
//
//   - IOPort (0xe0, 4 ports, and its byte-wide twin at 0xe8): a 32-bit
//     register that reads back what was written, at any width and offset,
//     so that string I/O (rep ins/outs) and emulated in/out can be checked;
//   - FlushPort (0xe4): a 32-bit write of a guest-physical address makes
//     the VMM revoke and restore the host mapping of that page, which drops
//     KVM's shadow or nested page-table entry for it, so that the guest's
//     next access faults into KVM (the eventinj and emulator tests);
//   - IRQPort (0x2000, 24 ports): a byte write to 0x2000+n sets ISA
//     interrupt line n to the value (kvm-unit-tests' set_irq_line, used by
//     the ioapic test);
//   - IOMem (MMIO 0xff000000, 64 KiB): plain memory that lives in the VMM,
//     so that every access is an MMIO exit (the emulator test maps it).
//
// The callbacks run on the accessing vCPU's thread.
type PCTestDev struct {
	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64

	flush func(gpa uint64)
	irq   func(line int, level bool)

	ioport atomic.Uint32

	memMu sync.Mutex
	mem   [PCTestIOMemSize]byte
}

// Where pc-testdev sits, as QEMU places it.
const (
	PCTestIOPort     = 0xe0
	PCTestFlushPort  = 0xe4
	PCTestBytePort   = 0xe8
	PCTestIRQPort    = 0x2000
	PCTestIRQLines   = 24
	PCTestIOMemBase  = 0xff000000
	PCTestIOMemSize  = 0x10000
	pcTestIOPortSize = 4
)

// NewPCTestDev returns a pc-testdev whose flush port calls flush with the
// page's address and whose IRQ ports call irq. Either may be nil: the
// writes are then counted as missed.
func NewPCTestDev(flush func(gpa uint64), irq func(line int, level bool)) *PCTestDev {
	return &PCTestDev{flush: flush, irq: irq}
}

// IOPort is the read-back register (0xe0-0xe3, and 0xe8-0xeb).
func (d *PCTestDev) IOPort() Device { return (*pcTestIOPort)(d) }

// FlushPort is the page-flush port (0xe4-0xe7).
func (d *PCTestDev) FlushPort() Device { return (*pcTestFlush)(d) }

// IRQPort is the 24 interrupt-line ports (0x2000-0x2017).
func (d *PCTestDev) IRQPort() Device { return (*pcTestIRQ)(d) }

// IOMem is the 64 KiB of MMIO memory (0xff000000).
func (d *PCTestDev) IOMem() Device { return (*pcTestIOMem)(d) }

type pcTestIOPort PCTestDev

// Read returns the register's bytes from off.
func (p *pcTestIOPort) Read(off uint64, data []byte) {
	if off+uint64(len(data)) > pcTestIOPortSize || !validWidth(len(data)) {
		p.Missed.Add(1)
		fillOnes(data)
		return
	}
	v := p.ioport.Load() >> (8 * off)
	for i := range data {
		data[i] = byte(v >> (8 * i))
	}
}

// Write replaces the register's bytes from off, keeping the others.
func (p *pcTestIOPort) Write(off uint64, data []byte) {
	if off+uint64(len(data)) > pcTestIOPortSize || !validWidth(len(data)) {
		p.Missed.Add(1)
		return
	}
	shift := 8 * off
	mask := uint32(1<<(8*uint(len(data)))-1) << shift
	val := uint32(loadLE(data)) << shift
	for {
		old := p.ioport.Load()
		if p.ioport.CompareAndSwap(old, old&^mask|val&mask) {
			return
		}
	}
}

type pcTestFlush PCTestDev

// Read: the port is write-only.
func (p *pcTestFlush) Read(off uint64, data []byte) {
	if off != 0 || !validWidth(len(data)) {
		p.Missed.Add(1)
	}
	fillOnes(data)
}

// Write flushes the page holding the 32-bit address written.
func (p *pcTestFlush) Write(off uint64, data []byte) {
	if off != 0 || len(data) != 4 || p.flush == nil {
		p.Missed.Add(1)
		return
	}
	p.flush(uint64(binary.LittleEndian.Uint32(data)) &^ 0xfff)
}

type pcTestIRQ PCTestDev

// Read: the lines are write-only.
func (p *pcTestIRQ) Read(off uint64, data []byte) {
	if off >= PCTestIRQLines || !validWidth(len(data)) {
		p.Missed.Add(1)
	}
	fillOnes(data)
}

// Write sets line off to the byte written (non-zero: asserted). A wider
// write sets one line per byte, from off up, as QEMU splits it into byte
// accesses: kvm-unit-tests' realmode test raises IRQ 11 with an outl to
// 0x200b (and so clears lines 12-14).
func (p *pcTestIRQ) Write(off uint64, data []byte) {
	if off+uint64(len(data)) > PCTestIRQLines || !validWidth(len(data)) || p.irq == nil {
		p.Missed.Add(1)
		return
	}
	for i, b := range data {
		p.irq(int(off)+i, b != 0)
	}
}

type pcTestIOMem PCTestDev

// Read copies from the memory; an access running past its end is missed.
func (p *pcTestIOMem) Read(off uint64, data []byte) {
	if off >= PCTestIOMemSize || uint64(len(data)) > PCTestIOMemSize-off {
		p.Missed.Add(1)
		fillOnes(data)
		return
	}
	p.memMu.Lock()
	copy(data, p.mem[off:])
	p.memMu.Unlock()
}

// Write copies into the memory.
func (p *pcTestIOMem) Write(off uint64, data []byte) {
	if off >= PCTestIOMemSize || uint64(len(data)) > PCTestIOMemSize-off {
		p.Missed.Add(1)
		return
	}
	p.memMu.Lock()
	copy(p.mem[off:], data)
	p.memMu.Unlock()
}
