package debug_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/vmm"
)

type rig struct {
	s       *debug.Session
	m       *vmm.Machine
	console *bytes.Buffer
	done    chan vmm.Stop
}

// start builds a machine for image under a session, stopped at its first
// instruction.
func start(t *testing.T, image []byte, cpus int) *rig {
	t.Helper()
	kvmtest.Available(t)
	probe, err := debug.ProbeHost()
	if err != nil {
		t.Fatal(err)
	}
	s := debug.NewSession(debug.Options{Probe: probe})
	r := &rig{s: s, console: new(bytes.Buffer), done: make(chan vmm.Stop, 1)}
	r.m, err = vmm.New(vmm.Config{MemSize: 64 * vmm.MiB, CPUs: cpus, Console: r.console, StartPaused: true, Debug: s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Load(image); err != nil {
		t.Fatal(err)
	}
	s.Attach(r.m)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
		r.m.Close()
	})
	if ev := r.wait(t); ev.Kind != debug.StopRequested {
		t.Fatalf("first stop %+v, want the initial stop", ev)
	}
	return r
}

func (r *rig) wait(t *testing.T) debug.StopEvent {
	t.Helper()
	select {
	case ev := <-r.s.Stops():
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no stop within a minute")
	}
	return debug.StopEvent{}
}

func (r *rig) resume(t *testing.T, actions ...debug.Resume) debug.StopEvent {
	t.Helper()
	if err := r.s.Resume(actions); err != nil {
		t.Fatal(err)
	}
	return r.wait(t)
}

func (r *rig) pc(t *testing.T) uint64 {
	t.Helper()
	regs, err := r.s.Registers(0)
	if err != nil {
		t.Fatal(err)
	}
	return regs.PC()
}

var (
	cont = debug.Resume{VCPU: -1, Action: debug.ActionContinue}
	step = debug.Resume{VCPU: 0, Action: debug.ActionStep}
)

// TestStepBreakWatchLongMode drives hello (64-bit): single steps, a
// hardware breakpoint, a software one (int3 or its fallback), and a run to
// the guest's exit status.
func TestStepBreakWatchLongMode(t *testing.T) {
	image, _ := samples.Image("hello")
	r := start(t, image, 1)
	regs, err := r.s.Registers(0)
	if err != nil {
		t.Fatal(err)
	}
	if regs.Mode() != debug.ModeLong64 || regs.Regs.RIP != 0x100000 {
		t.Fatalf("start in %v at %#x, want long mode at 0x100000", regs.Mode(), regs.Regs.RIP)
	}
	prev := regs.Regs.RIP
	for i := range 3 {
		ev := r.resume(t, step)
		if ev.Kind != debug.StopStep {
			t.Fatalf("step %d: %+v", i, ev)
		}
		pc := r.pc(t)
		if pc == prev {
			t.Fatalf("step %d did not move from %#x", i, pc)
		}
		prev = pc
	}
	// Three steps reach puts (lea, lea, call): break on its loop.
	code := make([]byte, 64)
	if _, err := r.s.ReadVirtual(0, prev, code); err != nil {
		t.Fatal(err)
	}
	lines := debug.Disassemble(code, prev, 64, 8, nil)
	target := lines[5].Addr
	if err := r.s.SetBreakpoint(debug.BreakHardware, target); err != nil {
		t.Fatal(err)
	}
	ev := r.resume(t, cont)
	if ev.Kind != debug.StopBreakpoint || ev.Addr != target || r.pc(t) != target {
		t.Fatalf("stop %+v at pc %#x, want breakpoint at %#x", ev, r.pc(t), target)
	}
	// Continuing from a breakpoint must step over it, not hit it again.
	r.s.ClearBreakpoint(debug.BreakHardware, target)
	if err := r.s.SetBreakpoint(debug.BreakSoftware, lines[6].Addr); err != nil {
		t.Fatal(err)
	}
	ev = r.resume(t, cont)
	if ev.Kind != debug.StopBreakpoint || ev.Addr != lines[6].Addr {
		t.Fatalf("stop %+v, want software breakpoint at %#x", ev, lines[6].Addr)
	}
	r.s.ClearBreakpoint(debug.BreakSoftware, lines[6].Addr)
	ev = r.resume(t, cont)
	if ev.Kind != debug.StopExited || ev.Machine.Kind != vmm.StopGuestExit || ev.Machine.Status != 0 {
		t.Fatalf("end %+v", ev)
	}
	if got := r.console.String(); got != "Hello from kvmscope guest!\n" {
		t.Errorf("console %q", got)
	}
}

// TestRealModeFirmware steps and breaks in real-mode firmware at
// F000:xxxx, where the emulator's debug-register bug forces stepping.
func TestRealModeFirmware(t *testing.T) {
	image, _ := samples.Image("fw-realmode")
	r := start(t, image, 1)
	regs, _ := r.s.Registers(0)
	if regs.Mode() != debug.ModeReal || regs.PC() != 0xfffffff0 {
		t.Fatalf("start %v at %#x, want real mode at the reset vector", regs.Mode(), regs.PC())
	}
	r.resume(t, step) // the far jump to F000:xxxx
	pc := r.pc(t)
	if pc < 0xf0000 || pc > 0xfffff {
		t.Fatalf("after the reset jump pc %#x, want in F000 segment", pc)
	}
	for range 3 {
		if ev := r.resume(t, step); ev.Kind != debug.StopStep {
			t.Fatalf("step: %+v", ev)
		}
	}
	code := make([]byte, 32)
	pc = r.pc(t)
	r.s.ReadVirtual(0, pc, code)
	lines := debug.Disassemble(code, pc, 16, 4, nil)
	target := lines[3].Addr
	if err := r.s.SetBreakpoint(debug.BreakHardware, target); err != nil {
		t.Fatal(err)
	}
	ev := r.resume(t, cont)
	if ev.Kind != debug.StopBreakpoint || r.pc(t) != target {
		t.Fatalf("stop %+v at %#x, want breakpoint at %#x", ev, r.pc(t), target)
	}
	r.s.ClearBreakpoint(debug.BreakHardware, target)
	ev = r.resume(t, cont)
	if ev.Kind != debug.StopExited || ev.Machine.Status != 42 {
		t.Fatalf("end %+v", ev)
	}
}

// TestWatchpoint watches the stack of hello: its first push.
func TestWatchpoint(t *testing.T) {
	image, _ := samples.Image("hello")
	r := start(t, image, 1)
	// hello's stack top is 0x102000 (see samples/hello): the first call
	// writes the return address just below.
	if err := r.s.SetWatchpoint(debug.WatchWrite, 0x101ff8, 8); err != nil {
		t.Fatal(err)
	}
	ev := r.resume(t, cont)
	if ev.Kind != debug.StopWatchpoint || ev.Addr != 0x101ff8 || ev.Watch != debug.WatchWrite {
		t.Fatalf("stop %+v, want write watchpoint at 0x101ff8", ev)
	}
	var ret [8]byte
	r.s.ReadVirtual(0, 0x101ff8, ret[:])
	if ret[2] != 0x10 { // a return address inside the image at 0x10xxxx
		t.Errorf("watched bytes %x, want a return address", ret)
	}
	r.s.ClearWatchpoint(debug.WatchWrite, 0x101ff8, 8)
	if ev := r.resume(t, cont); ev.Kind != debug.StopExited {
		t.Fatalf("end %+v", ev)
	}
}

// TestHaltRunningGuest stops a guest that runs for hours, on every vCPU.
func TestHaltRunningGuest(t *testing.T) {
	image, _ := samples.PIOLoopImage(1 << 40)
	r := start(t, image, 2)
	if err := r.s.Resume([]debug.Resume{cont}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := r.s.Halt(); err != nil {
		t.Fatal(err)
	}
	if ev := r.wait(t); ev.Kind != debug.StopRequested {
		t.Fatalf("stop %+v", ev)
	}
	if _, err := r.s.Registers(1); err != nil {
		t.Fatalf("vcpu 1 registers while stopped: %v", err)
	}
	if err := r.s.SetBreakpoint(debug.BreakHardware, 0x1234); err != nil {
		t.Fatal(err)
	}
}

// TestProbe: the probe must run, and on QEMU's emulator find what its
// notes record (no int3 intercept).
func TestProbe(t *testing.T) {
	kvmtest.Available(t)
	p, err := debug.ProbeHost()
	if err != nil {
		t.Fatal(err)
	}
	if p.TCG && p.Int3 {
		t.Errorf("QEMU TCG host reports the int3 intercept working: %+v", p)
	}
	if p.Strategy() == "" {
		t.Error("no strategy text")
	}
	t.Logf("%+v\n%s", p, p.Strategy())
}

// TestModesBreakpoints breaks in each mode of the modes sample, from
// real-mode firmware (stepping on the emulator) to long mode, with the
// breakpoints taken out for each step off them, as gdb does. It runs a few
// times: a stale DR6 hit bit once hid a step every few runs.
func TestModesBreakpoints(t *testing.T) {
	for i := range 5 {
		t.Run(fmt.Sprint(i), testModesBreakpoints)
	}
}

func testModesBreakpoints(t *testing.T) {
	image, _ := samples.Image("modes")
	r := start(t, image, 1)
	want := []struct {
		addr uint64
		mode debug.Mode
	}{{0xf000b, debug.ModeReal}, {0xf0043, debug.ModeProtected32}, {0xf00ed, debug.ModeLong64}}
	for _, w := range want {
		for _, b := range want {
			if err := r.s.SetBreakpoint(debug.BreakHardware, b.addr); err != nil {
				t.Fatal(err)
			}
		}
		ev := r.resume(t, cont)
		regs, err := r.s.Registers(0)
		if err != nil || ev.Kind != debug.StopBreakpoint || regs.PC() != w.addr || regs.Mode() != w.mode {
			t.Fatalf("stop %+v (%v), want breakpoint at %#x in %v", ev, err, w.addr, w.mode)
		}
		for _, b := range want {
			r.s.ClearBreakpoint(debug.BreakHardware, b.addr)
		}
		if ev := r.resume(t, step); ev.Kind != debug.StopStep {
			t.Fatalf("step off %#x: %+v", w.addr, ev)
		}
	}
	if ev := r.resume(t, cont); ev.Kind != debug.StopExited || ev.Machine.Status != 0 {
		t.Fatalf("end %+v", ev)
	}
}
