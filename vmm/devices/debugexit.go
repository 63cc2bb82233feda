package devices

import "sync/atomic"

// DebugExit is a port (normally 0xf4, registered with size 1) through which
// a test guest ends the run with a status byte.
//
// Unlike QEMU's isa-debug-exit, which exits with (v<<1)|1, the status is
// the byte the guest wrote, so a guest writing 0 reports success. The guest
// may write 1, 2 or 4 bytes; only the low byte counts.
//
// kvm-unit-tests ends with outl(code, 0xf4): code 0 passed, 1 failed,
// 38 (77>>1) skipped. Under QEMU its scripts see (code<<1)|1: 1, 3, 77.
// kvmscope exits with the code itself; `kvmscope kut` maps it back
// ((code<<1)|1) and reads it as the suite's scripts do.
type DebugExit struct {
	// Missed counts accesses at a bad offset or width.
	Missed atomic.Uint64

	exit func(status uint8)
}

// NewDebugExit returns a debug-exit port that calls exit with the status
// byte on every guest write. exit runs on the writing vCPU's thread; it
// should ask the machine to stop rather than stop it itself.
func NewDebugExit(exit func(status uint8)) *DebugExit {
	return &DebugExit{exit: exit}
}

// Read implements Device. The port is write-only and reads as all ones.
func (d *DebugExit) Read(off uint64, data []byte) {
	if off != 0 || !debugExitWidth(len(data)) {
		d.Missed.Add(1)
	}
	fillOnes(data)
}

// Write implements Device.
func (d *DebugExit) Write(off uint64, data []byte) {
	if off != 0 || !debugExitWidth(len(data)) {
		d.Missed.Add(1)
		return
	}
	if d.exit != nil {
		d.exit(data[0])
	}
}

// debugExitWidth accepts the widths of an x86 out instruction.
func debugExitWidth(n int) bool {
	return n == 1 || n == 2 || n == 4
}
