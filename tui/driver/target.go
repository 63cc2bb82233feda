package driver

import (
	"fmt"
	"strings"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// Target is one machine as the gdb stub sees it beside the TUI: the
// session's methods, with these differences.
//   - Stops delivers only the stops gdb waits for (after its Resume or
//     Halt) and the machine's end; the TUI's other stops are not gdb's
//     business, and the stub would resume the guest on them.
//   - Resume while the machine already runs (the TUI continued it) is
//     not an error: gdb now waits for the next stop, whoever causes it.
//   - What needs the machine stopped (registers, writes, breakpoints)
//     first stops it when the TUI left it running; it stays stopped.
//
// It satisfies gdbstub.Target, gdbstub.RunState and gdbstub.Symbolizer
// without importing gdbstub.
type Target struct{ g *generation }

func (t *Target) stopped() error {
	if t.g.s.Stopped() || t.g.ended() {
		return nil
	}
	_, _, err := t.g.halt(false)
	return err
}

// VCPUs lists the vCPU ids.
func (t *Target) VCPUs() []int { return t.g.s.VCPUs() }

// Registers reads a vCPU's registers, stopping the machine if need be.
func (t *Target) Registers(id int) (*debug.Registers, error) {
	if err := t.stopped(); err != nil {
		return nil, err
	}
	return t.g.s.Registers(id)
}

// SetRegisters writes a vCPU's registers.
func (t *Target) SetRegisters(id int, r *debug.Registers) error {
	if err := t.stopped(); err != nil {
		return err
	}
	defer t.g.epoch.Add(1)
	return t.g.s.SetRegisters(id, r)
}

// ReadVirtual reads guest memory at a linear address.
func (t *Target) ReadVirtual(id int, addr uint64, buf []byte) (int, error) {
	return t.g.s.ReadVirtual(id, addr, buf)
}

// WriteVirtual writes guest memory at a linear address.
func (t *Target) WriteVirtual(id int, addr uint64, buf []byte) (int, error) {
	if err := t.stopped(); err != nil {
		return 0, err
	}
	return t.g.s.WriteVirtual(id, addr, buf)
}

// ReadPhys reads guest-physical memory.
func (t *Target) ReadPhys(addr uint64, buf []byte) (int, error) { return t.g.s.ReadPhys(addr, buf) }

// SetBreakpoint sets gdb's breakpoint; the code pane marks it.
func (t *Target) SetBreakpoint(kind debug.BreakKind, addr uint64) error {
	if err := t.stopped(); err != nil {
		return err
	}
	if err := t.g.s.SetBreakpoint(kind, addr); err != nil {
		return err
	}
	t.g.gdbBps.Store(addr, struct{}{})
	return nil
}

// ClearBreakpoint clears gdb's breakpoint.
func (t *Target) ClearBreakpoint(kind debug.BreakKind, addr uint64) error {
	if err := t.stopped(); err != nil {
		return err
	}
	t.g.gdbBps.Delete(addr)
	return t.g.s.ClearBreakpoint(kind, addr)
}

// SetWatchpoint sets gdb's watchpoint.
func (t *Target) SetWatchpoint(kind debug.WatchKind, addr, length uint64) error {
	if err := t.stopped(); err != nil {
		return err
	}
	return t.g.s.SetWatchpoint(kind, addr, length)
}

// ClearWatchpoint clears gdb's watchpoint.
func (t *Target) ClearWatchpoint(kind debug.WatchKind, addr, length uint64) error {
	if err := t.stopped(); err != nil {
		return err
	}
	return t.g.s.ClearWatchpoint(kind, addr, length)
}

// Resume lets the vCPUs go for gdb; the next stop goes to gdb.
func (t *Target) Resume(actions []debug.Resume) error {
	t.g.gdbWaits.Store(true)
	if !t.g.s.Stopped() && !t.g.ended() {
		return nil // the TUI runs it: gdb waits for the next stop
	}
	if err := t.g.s.Resume(actions); err != nil {
		t.g.gdbWaits.Store(false)
		return err
	}
	t.g.d.signal()
	return nil
}

// Halt stops the machine for gdb; the stop goes to gdb.
func (t *Target) Halt() error {
	t.g.gdbWaits.Store(true)
	if t.g.s.Stopped() {
		// Already stopped (by the TUI): answer at once.
		if t.g.gdbWaits.CompareAndSwap(true, false) {
			if ev := t.g.lastStop.Load(); ev != nil {
				t.g.toGDB(*ev)
			}
		}
		return nil
	}
	return t.g.s.Halt()
}

// Stops delivers the stops gdb waits for.
func (t *Target) Stops() <-chan debug.StopEvent { return t.g.gdbCh }

// ExitStats is the exit table.
func (t *Target) ExitStats() []exitstats.Row { return t.g.s.ExitStats() }

// BreakpointStrategy says how breakpoints work on this host.
func (t *Target) BreakpointStrategy() string { return t.g.s.BreakpointStrategy() }

// StepIRQ reports whether single-steps block interrupts.
func (t *Target) StepIRQ() bool { return t.g.s.StepIRQ() }

// SetStepIRQ chooses whether single-steps block interrupts.
func (t *Target) SetStepIRQ(block bool) error { return t.g.s.SetStepIRQ(block) }

// Running tells the stub whether the machine runs when it starts serving.
func (t *Target) Running() bool { return !t.g.s.Stopped() && !t.g.ended() }

// Symbols is the guest's symbol table for `monitor code` and `monitor sym`.
func (t *Target) Symbols() *symbols.Table { return t.g.d.cfg.Symbols }

// Note puts a line about gdb (it attached, it left) in the status line.
func (t *Target) Note(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	line = strings.TrimPrefix(line, "gdbstub: ")
	t.g.d.mu.Lock()
	t.g.d.gdbLine = line
	t.g.d.mu.Unlock()
	t.g.d.signal()
}
