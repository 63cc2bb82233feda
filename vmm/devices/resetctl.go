package devices

import "sync/atomic"

// Reset control register bits (Intel PIIX3/ICH, port 0xcf9).
const (
	rcrSysReset = 0x02 // SYS_RST: the next reset is a hard (system) one
	rcrResetCPU = 0x04 // RST_CPU: writing it set resets the machine
)

// ResetControl is the PC chipset's reset control register at port 0xcf9
// (register size 1), the reset that firmware and kernels try besides the
// i8042's: SeaBIOS on QEMU resets the machine by writing 2 and then 6 to
// it (and triple-faults if that fails), Linux's reboot=pci does the same.
//
// As QEMU's PIIX does, any write with RST_CPU set resets the machine at
// once, and otherwise only SYS_RST is kept and read back; the hard/soft
// distinction does not matter to a reset that ends the run. Only byte
// accesses reach the register: a wider access at 0xcf8 is the PCI
// configuration address, which this device does not own.
type ResetControl struct {
	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64

	reset func()
	rcr   atomic.Uint32
}

// NewResetControl returns a reset control register whose reset calls
// reset (nil: ignored). reset runs on the writing vCPU's thread; it should
// ask the machine to reset or stop rather than do it itself.
func NewResetControl(reset func()) *ResetControl {
	return &ResetControl{reset: reset}
}

// Read implements Device: the kept SYS_RST bit.
func (r *ResetControl) Read(off uint64, data []byte) {
	if off != 0 || len(data) != 1 {
		r.Missed.Add(1)
		fillOnes(data)
		return
	}
	data[0] = byte(r.rcr.Load())
}

// Write implements Device.
func (r *ResetControl) Write(off uint64, data []byte) {
	if off != 0 || len(data) != 1 {
		r.Missed.Add(1)
		return
	}
	if data[0]&rcrResetCPU != 0 {
		if r.reset != nil {
			r.reset()
		}
		return
	}
	r.rcr.Store(uint32(data[0] & rcrSysReset))
}
