package driver

import (
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/vmm"
)

// waitStop waits until the machine has stopped n times and returns the
// last stop.
func waitStop(t *testing.T, g *generation, n uint64) debug.StopEvent {
	t.Helper()
	for end := time.Now().Add(2 * time.Minute); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if g.stops.Load() >= n {
			return *g.lastStop.Load()
		}
	}
	t.Fatalf("no stop %d within 2 minutes (%d so far)", n, g.stops.Load())
	return debug.StopEvent{}
}

// TestStepOverRecursion: `n` over the recursive call in sum (sample
// recurse) stops at the return address in the caller's frame, although
// the nine deeper calls reach that address first as they return.
func TestStepOverRecursion(t *testing.T) {
	kvmtest.Available(t)
	image, err := samples.Image("recurse")
	if err != nil {
		t.Fatal(err)
	}
	syms, err := symbols.FromELF(image)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Machine: vmm.Config{MemSize: 64 * vmm.MiB, CPUs: 1}, Image: image, Name: "sample:recurse", Symbols: syms})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	g := d.current()
	waitStop(t, g, 1) // at the first instruction
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	regs := func() *debug.Registers {
		t.Helper()
		r, err := g.s.Registers(0)
		must("registers", err)
		return r
	}

	_, err = d.ToggleBreakpoint("sum_call", 0)
	must("break sum_call", err)
	must("continue", d.Continue())
	if ev := waitStop(t, g, 2); ev.Kind != debug.StopBreakpoint {
		t.Fatalf("stop %+v, want the breakpoint at sum_call", ev)
	}
	caller := regs()
	if caller.Regs.RAX != 9 {
		t.Fatalf("at sum_call with eax %d, want 9 (the outermost call)", caller.Regs.RAX)
	}
	_, err = d.ToggleBreakpoint("sum_call", 0) // off again
	must("clear sum_call", err)

	must("step over", d.StepOver(0))
	waitStop(t, g, 3)
	back := regs()
	ret, _ := syms.Lookup("sum_return")
	if back.PC() != ret.Addr || back.Regs.RSP != caller.Regs.RSP || back.Regs.RAX != 45 {
		t.Fatalf("step over the recursive call stopped at %s with esp %#x, eax %d; want sum_return with the caller's esp %#x and sum(9) = 45",
			syms.Format(back.PC()), back.Regs.RSP, back.Regs.RAX, caller.Regs.RSP)
	}

	must("continue", d.Continue())
	ev := waitStop(t, g, 4)
	if ev.Kind != debug.StopExited || ev.Machine == nil || ev.Machine.Kind != vmm.StopGuestExit || ev.Machine.Status != 55 {
		t.Fatalf("end %+v (%v), want the guest's exit with status 55", ev, ev.Machine)
	}
}
