package gdbstub

import (
	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// Target is the machine the stub drives. *debug.Session implements it.
// All-stop: Resume lets vCPUs run; exactly one StopEvent follows on Stops()
// when the machine is stopped again (every vCPU stopped).
type Target interface {
	VCPUs() []int                                 // vCPU ids 0..N-1; gdb thread id = vCPU id + 1
	Registers(vcpu int) (*debug.Registers, error) // only while stopped
	SetRegisters(vcpu int, r *debug.Registers) error
	ReadVirtual(vcpu int, addr uint64, buf []byte) (int, error) // addr is linear in the vCPU's current mode; error for unmapped
	WriteVirtual(vcpu int, addr uint64, buf []byte) (int, error)
	ReadPhys(addr uint64, buf []byte) (int, error)
	SetBreakpoint(kind debug.BreakKind, addr uint64) error // global, all vCPUs
	ClearBreakpoint(kind debug.BreakKind, addr uint64) error
	SetWatchpoint(kind debug.WatchKind, addr, length uint64) error // length 1, 2, 4 or 8
	ClearWatchpoint(kind debug.WatchKind, addr, length uint64) error
	Resume(actions []debug.Resume) error // returns at once
	Halt() error                         // ask every vCPU to stop; a StopEvent{Kind: debug.StopRequested} follows (if they were running)
	Stops() <-chan debug.StopEvent
	ExitStats() []exitstats.Row
	BreakpointStrategy() string // one or a few lines, for `monitor probe`
	StepIRQ() bool              // whether single-steps block interrupt injection
	SetStepIRQ(block bool) error
}

// RunState is an optional interface: a Target that implements it tells
// Serve whether the machine is running when Serve starts, instead of
// Options.Running.
type RunState interface {
	Running() bool
}

// Symbolizer is an optional interface: a Target that implements it gets
// func+off in `monitor code` and in thread descriptions, and `monitor
// sym`. Symbols may return nil: the guest has no symbols.
type Symbolizer interface {
	Symbols() *symbols.Table
}

// symbolTable is the target's symbol table, or nil.
func (srv *server) symbolTable() *symbols.Table {
	if sy, ok := srv.t.(Symbolizer); ok {
		return sy.Symbols()
	}
	return nil
}
