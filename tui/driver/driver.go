// Package driver is the TUI's Backend on a live machine: it builds the
// machine under a debug session, runs it, restarts it, drives it (step,
// continue, pause, breakpoints, watchpoints, extensions, serial input)
// and takes the snapshots the panes are drawn from.
//
// Cost of looking: a poll reads the exit counters (atomics), the
// kernel's stats fd and, while stopped, the registers; memory is read
// while the guest runs, as the session allows. No poll holds a lock a
// vCPU thread needs; the console reaches the TUI through a lock-free
// ring that drops rather than blocks.
//
// Stops: exactly one goroutine per machine (hub) consumes the session's
// Stops channel and fans each stop out: it wakes the TUI, and hands it
// to the gdb stub when gdb is the one waiting for it (gdb resumed or
// halted the machine). So a stop gdb causes shows in the TUI (it polls on
// every wake, and at 10 Hz sees that gdb resumed), and a stop the TUI
// causes while gdb waits in `continue` ends gdb's wait. Stops of the
// driver's own making (a halt to change breakpoints while running, then
// a resume) are not handed on.
package driver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/vmm"
)

// Config describes the machine to drive.
type Config struct {
	// Machine is the machine's configuration; the driver sets Console,
	// StartPaused, Debug and (on extension changes) Ext.
	Machine vmm.Config
	// Image is the guest image; Name what to call it.
	Image []byte
	Name  string
	// Symbols names guest addresses (may be nil).
	Symbols *symbols.Table
	// Probe is what the host's KVM can do for a debugger.
	Probe debug.Probe
	// Run starts the guest running instead of stopped at its first
	// instruction.
	Run bool
	// Timeout ends each run of the guest after this long (0: never).
	Timeout time.Duration
	// GDB, if set, serves gdb on each machine: it is called in its own
	// goroutine with the machine's gdb target and ctx, which is canceled
	// when the machine is replaced. It returns a line for the status
	// ("gdb killed the guest"); killed says to end the machine.
	GDB func(ctx context.Context, t *Target) (line string, killed bool)
	// GDBAddr describes where gdb attaches, for the status line.
	GDBAddr string
}

// Driver runs and watches one machine at a time.
type Driver struct {
	cfg     Config
	console *Ring
	wake    chan struct{} // closed by Close, under mu

	mu       sync.Mutex // the fields below
	g        *generation
	restarts int
	ext      vmm.Extensions // requested, carried to restarts
	bps      []uint64       // the TUI's breakpoints, carried to restarts
	wps      []watch
	gdbLine  string
	closed   bool

	pollMu sync.Mutex // one poll at a time; the fields below
	rates  *rates
	meas   measures
	lastG  *generation
	lastAt time.Time
	regs   map[int]regCache
}

type watch struct {
	kind   debug.WatchKind
	addr   uint64
	length uint64
}

type regCache struct {
	stop  uint64
	epoch uint64
	r     *debug.Registers
	err   error
}

// New checks the configuration; Start builds and starts the machine.
func New(cfg Config) (*Driver, error) {
	ext, err := vmm.ParseExtensions(cfg.Machine.Ext)
	if err != nil {
		return nil, err
	}
	return &Driver{cfg: cfg, console: NewRing(1 << 16), wake: make(chan struct{}, 1), ext: ext, rates: newRates(), regs: map[int]regCache{}}, nil
}

// Start builds the first machine and starts it: stopped at its first
// instruction, or running with Config.Run.
func (d *Driver) Start() error {
	g, err := d.startGen(d.cfg.Run)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.g = g
	d.mu.Unlock()
	d.signal()
	return nil
}

// Close ends the machine, and closes the Wake channel.
func (d *Driver) Close() {
	d.mu.Lock()
	g, again := d.g, d.closed
	d.closed = true
	d.mu.Unlock()
	if again {
		return
	}
	if g != nil {
		g.shutdown()
	}
	d.mu.Lock()
	close(d.wake) // signal sends nothing once closed is set
	d.mu.Unlock()
}

// Wake implements tui.Backend.
func (d *Driver) Wake() <-chan struct{} { return d.wake }

func (d *Driver) signal() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Driver) current() *generation {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.g
}

// Machine is the machine running now (for tests and benchmarks).
func (d *Driver) Machine() *vmm.Machine {
	if g := d.current(); g != nil {
		return g.m
	}
	return nil
}

// Session is the debug session of the machine running now.
func (d *Driver) Session() *debug.Session {
	if g := d.current(); g != nil {
		return g.s
	}
	return nil
}

// Ended is closed when the current machine has ended.
func (d *Driver) Ended() <-chan struct{} { return d.current().done }

// generation is one machine: built by Start or a restart.
type generation struct {
	d      *Driver
	m      *vmm.Machine
	s      *debug.Session
	cancel context.CancelFunc
	done   chan struct{} // closed when the machine has ended
	first  chan struct{} // closed at the first stop
	end    vmm.Stop      // how it ended, once done is closed

	// use guards the machine's memory against Close: readers (polls,
	// gdb) hold it shared, shutdown exclusively.
	use    sync.RWMutex
	closed bool

	stops    atomic.Uint64
	epoch    atomic.Uint64 // bumped when gdb writes registers
	lastStop atomic.Pointer[debug.StopEvent]
	// gdbWaits: gdb resumed or halted the machine and waits for the
	// stop; gdbCh is its Stops channel.
	gdbWaits atomic.Bool
	gdbCh    chan debug.StopEvent
	gdbDone  chan struct{}
	gdbStop  context.CancelFunc
	gdbBps   sync.Map // uint64 -> struct{}: gdb's breakpoints, to mark in the code pane
	// internal: a halt of the driver's own is in progress; its stop goes
	// to internalCh instead of gdb.
	internal   atomic.Bool
	internalCh chan debug.StopEvent
	// ran is how long the guest has run (not counting stops), in ns.
	ran atomic.Int64
	// tempBP is the step-over breakpoint to remove at the next stop.
	tempMu sync.Mutex
	tempBP *stepOver
}

// stepOver is a step over a call in progress: the breakpoint at the
// return address, and the vCPU and stack pointer of the caller's frame.
// A recursive call reaches the return address first in a deeper frame,
// with a lower stack pointer; only the caller's own return ends the step.
type stepOver struct {
	addr, sp uint64
	vcpu     int
}

func (d *Driver) startGen(run bool) (*generation, error) {
	d.mu.Lock()
	cfg := d.cfg.Machine
	cfg.Ext = d.ext.String()
	bps, wps := append([]uint64(nil), d.bps...), append([]watch(nil), d.wps...)
	d.mu.Unlock()
	if cfg.Ext == "none" || cfg.Ext == "" {
		cfg.Ext = "none"
	}
	s := debug.NewSession(debug.Options{Probe: d.cfg.Probe})
	cfg.Console = d.console
	cfg.StartPaused, cfg.Debug = true, s
	m, err := vmm.New(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := m.Load(d.cfg.Image); err != nil {
		m.Close()
		return nil, fmt.Errorf("image %s: %w", d.cfg.Name, err)
	}
	s.Attach(m)
	ctx := newRunContext()
	cancel := func() { ctx.end(context.Canceled) }
	g := &generation{d: d, m: m, s: s, cancel: cancel, done: make(chan struct{}), first: make(chan struct{}),
		gdbCh: make(chan debug.StopEvent, 16), gdbDone: make(chan struct{}), internalCh: make(chan debug.StopEvent, 1)}
	go func() {
		g.end = s.Run(ctx)
		close(g.done)
	}()
	go g.hub()
	go g.clock(ctx, d.cfg.Timeout)
	select {
	case <-g.first:
	case <-g.done:
	}
	if g.s.Stopped() {
		for _, a := range bps {
			s.SetBreakpoint(debug.BreakSoftware, a)
		}
		for _, w := range wps {
			s.SetWatchpoint(w.kind, w.addr, w.length)
		}
		if run {
			s.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}})
		}
	}
	if d.cfg.GDB != nil {
		gctx, gcancel := context.WithCancel(context.Background())
		g.gdbStop = gcancel
		t := &Target{g: g}
		go func() {
			defer close(g.gdbDone)
			line, killed := d.cfg.GDB(gctx, t)
			if line != "" {
				d.mu.Lock()
				d.gdbLine = line
				d.mu.Unlock()
			}
			if killed {
				g.cancel()
			}
			d.signal()
		}()
	} else {
		close(g.gdbDone)
	}
	return g, nil
}

// hub is the one consumer of the session's stops (see the package doc).
func (g *generation) hub() {
	firstDone := false
	for ev := range g.s.Stops() {
		if g.deeperFrame(ev) && g.s.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}}) == nil {
			continue
		}
		g.stops.Add(1)
		e := ev
		g.lastStop.Store(&e)
		if !firstDone {
			firstDone = true
			close(g.first)
		}
		if ev.Kind != debug.StopExited {
			g.removeTemp()
		}
		switch {
		case ev.Kind == debug.StopExited:
			g.internal.Store(false)
			select {
			case g.internalCh <- ev:
			default:
			}
			g.toGDB(ev)
		case g.internal.Load():
			g.internal.Store(false)
			g.internalCh <- ev
		case g.gdbWaits.CompareAndSwap(true, false):
			g.toGDB(ev)
		}
		g.d.signal()
		if ev.Kind == debug.StopExited {
			return
		}
	}
}

func (g *generation) toGDB(ev debug.StopEvent) {
	select {
	case g.gdbCh <- ev:
	default: // no stub reads: it has gone
	}
}

func (g *generation) removeTemp() {
	g.tempMu.Lock()
	defer g.tempMu.Unlock()
	if g.tempBP != nil {
		g.s.ClearBreakpoint(debug.BreakSoftware, g.tempBP.addr)
		g.tempBP = nil
	}
}

// deeperFrame reports whether ev is the step-over breakpoint reached by
// another frame than the caller's (a deeper recursive call returning, or
// another vCPU), a stop to resume from rather than report.
func (g *generation) deeperFrame(ev debug.StopEvent) bool {
	g.tempMu.Lock()
	t := g.tempBP
	g.tempMu.Unlock()
	if t == nil || ev.Kind != debug.StopBreakpoint || ev.Addr != t.addr {
		return false
	}
	if ev.VCPU != t.vcpu {
		return true
	}
	r, err := g.s.Registers(ev.VCPU)
	return err == nil && r.Regs.RSP < t.sp
}

// shutdown ends the machine, its gdb server and releases it.
func (g *generation) shutdown() {
	if g.gdbStop != nil {
		g.gdbStop()
	}
	g.cancel()
	<-g.done
	select {
	case <-g.gdbDone:
	case <-time.After(5 * time.Second):
	}
	g.use.Lock()
	if !g.closed {
		g.closed = true
		g.m.Close()
	}
	g.use.Unlock()
}

// ended reports whether the machine has ended.
func (g *generation) ended() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// halt stops a running machine and waits for the stop. internal says
// the stop is the driver's own business (it will resume), so gdb is not
// told. It returns the stop and whether it was a plain halt (and not a
// breakpoint or the machine's end that came at the same moment).
func (g *generation) halt(internal bool) (debug.StopEvent, bool, error) {
	if internal {
		g.internal.Store(true)
	}
	if err := g.s.Halt(); err != nil {
		g.internal.Store(false)
		return debug.StopEvent{}, false, err
	}
	if !internal {
		for !g.s.Stopped() && !g.ended() {
			time.Sleep(time.Millisecond)
		}
		return debug.StopEvent{Kind: debug.StopRequested}, true, nil
	}
	select {
	case ev := <-g.internalCh:
		if ev.Kind == debug.StopExited {
			return ev, false, vmm.ErrMachineStopped
		}
		return ev, ev.Kind == debug.StopRequested, nil
	case <-time.After(5 * time.Second):
		g.internal.Store(false)
		return debug.StopEvent{}, false, errors.New("the machine did not stop within 5s")
	}
}

// withStopped runs fn with the machine stopped: at once when it is, else
// by halting it and resuming it afterwards.
func (g *generation) withStopped(fn func() error) error {
	if g.ended() {
		return errEnded
	}
	if g.s.Stopped() {
		return fn()
	}
	ev, plain, err := g.halt(true)
	if err != nil {
		return err
	}
	err = fn()
	if !plain {
		// A real stop (a breakpoint) came at the same moment: it stands,
		// and gdb, if it waits, hears of it.
		if g.gdbWaits.CompareAndSwap(true, false) {
			g.toGDB(ev)
		}
		g.d.signal()
		return err
	}
	if rerr := g.s.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}}); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

var errEnded = errors.New("the machine has ended: r restarts it")

func (d *Driver) live() (*generation, error) {
	g := d.current()
	if g == nil {
		return nil, errors.New("no machine")
	}
	if g.ended() {
		return nil, errEnded
	}
	return g, nil
}

func friendly(err error) error {
	switch {
	case errors.Is(err, debug.ErrNotStopped):
		return errors.New("the machine is running: pause it first (p)")
	case errors.Is(err, vmm.ErrMachineStopped):
		return errEnded
	case err != nil && strings.Contains(err.Error(), "already running"):
		return errors.New("the machine is already running")
	}
	return err
}

// Step implements tui.Backend: one instruction on one vCPU.
func (d *Driver) Step(vcpu int) error {
	g, err := d.live()
	if err != nil {
		return err
	}
	return friendly(g.s.Resume([]debug.Resume{{VCPU: vcpu, Action: debug.ActionStep}}))
}

// StepOver implements tui.Backend: a call runs to its return, anything
// else is a step.
func (d *Driver) StepOver(vcpu int) error {
	g, err := d.live()
	if err != nil {
		return err
	}
	r, err := g.s.Registers(vcpu)
	if err != nil {
		return friendly(err)
	}
	pc := r.PC()
	buf := make([]byte, 16)
	n, _ := g.s.ReadVirtual(vcpu, pc, buf)
	lines := debug.Disassemble(buf[:n], pc, r.Mode().Bits(), 1, nil)
	if len(lines) == 0 || !isCall(lines[0].Text) {
		return friendly(g.s.Resume([]debug.Resume{{VCPU: vcpu, Action: debug.ActionStep}}))
	}
	next := pc + uint64(len(lines[0].Bytes))
	d.mu.Lock()
	user := contains(d.bps, next)
	d.mu.Unlock()
	if !user {
		if err := g.s.SetBreakpoint(debug.BreakSoftware, next); err != nil {
			return friendly(err)
		}
		g.tempMu.Lock()
		g.tempBP = &stepOver{addr: next, sp: r.Regs.RSP, vcpu: vcpu}
		g.tempMu.Unlock()
	}
	return friendly(g.s.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}}))
}

func isCall(text string) bool {
	op := strings.Fields(text)
	return len(op) > 0 && (strings.HasPrefix(op[0], "call") || strings.HasPrefix(op[0], "lcall"))
}

func contains(list []uint64, a uint64) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// Continue implements tui.Backend.
func (d *Driver) Continue() error {
	g, err := d.live()
	if err != nil {
		return err
	}
	return friendly(g.s.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}}))
}

// Pause implements tui.Backend.
func (d *Driver) Pause() error {
	g, err := d.live()
	if err != nil {
		return err
	}
	if g.s.Stopped() {
		return errors.New("already stopped")
	}
	return friendly(g.s.Halt())
}

// Input implements tui.Backend.
func (d *Driver) Input(b []byte) {
	if g := d.current(); g != nil && !g.ended() {
		g.m.Serial().Input(b)
	}
}

// Restart implements tui.Backend: the same image and settings on a new
// machine; breakpoints and watchpoints come along, and the extension
// measures are kept.
func (d *Driver) Restart() error { return d.restart(d.cfg.Run) }

// restart replaces the machine; run says to start the new one running.
func (d *Driver) restart(run bool) error {
	d.mu.Lock()
	old := d.g
	d.mu.Unlock()
	if old != nil {
		old.shutdown()
	}
	g, err := d.startGen(run)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.g = g
	d.restarts++
	d.gdbLine = ""
	d.mu.Unlock()
	d.signal()
	return nil
}

// resolve turns what the user typed into an address: a number, a symbol
// (name+off), or a register of the vCPU at its last stop.
func (d *Driver) resolve(g *generation, expr string, vcpu int) (addr uint64, reg string, err error) {
	expr = strings.TrimSpace(expr)
	if r, ok := d.registers(g, vcpu); ok {
		if v, ok := regValue(r, strings.ToLower(expr)); ok {
			return v, strings.ToLower(expr), nil
		}
	}
	a, err := d.cfg.Symbols.Resolve(expr)
	if err != nil {
		return 0, "", fmt.Errorf("%q: not a number, register or known symbol", expr)
	}
	return a, "", nil
}

// regValue reads a register by name; sp, bp and ip are linear addresses
// (segment base added outside 64-bit mode), as the memory view wants.
func regValue(r *debug.Registers, name string) (uint64, bool) {
	g := &r.Regs
	long := r.Mode() == debug.ModeLong64
	stack := func(v uint64) uint64 {
		if long {
			return v
		}
		if r.Mode().Bits() == 16 {
			v &= 0xffff
		}
		return (r.Sregs.SS.Base + v) & 0xffffffff
	}
	switch name {
	case "pc", "rip", "eip", "ip":
		return r.PC(), true
	case "rsp", "esp", "sp":
		return stack(g.RSP), true
	case "rbp", "ebp", "bp":
		return stack(g.RBP), true
	}
	vals := map[string]uint64{
		"rax": g.RAX, "rbx": g.RBX, "rcx": g.RCX, "rdx": g.RDX, "rsi": g.RSI, "rdi": g.RDI,
		"r8": g.R8, "r9": g.R9, "r10": g.R10, "r11": g.R11, "r12": g.R12, "r13": g.R13, "r14": g.R14, "r15": g.R15,
		"cr2": r.Sregs.CR2, "cr3": r.Sregs.CR3,
	}
	if v, ok := vals[name]; ok {
		return v, true
	}
	if len(name) == 3 && name[0] == 'e' {
		if v, ok := vals["r"+name[1:]]; ok {
			return v & 0xffffffff, true
		}
	}
	return 0, false
}

// ToggleBreakpoint implements tui.Backend.
func (d *Driver) ToggleBreakpoint(expr string, vcpu int) (string, error) {
	g, err := d.live()
	if err != nil {
		return "", err
	}
	var addr uint64
	if expr == "" {
		r, ok := d.registers(g, vcpu)
		if !ok || !g.s.Stopped() {
			return "", errors.New("the machine is running: name an address or symbol")
		}
		addr = r.PC()
	} else if addr, _, err = d.resolve(g, expr, vcpu); err != nil {
		return "", err
	}
	d.mu.Lock()
	set := !contains(d.bps, addr)
	d.mu.Unlock()
	err = g.withStopped(func() error {
		if set {
			return g.s.SetBreakpoint(debug.BreakSoftware, addr)
		}
		return g.s.ClearBreakpoint(debug.BreakSoftware, addr)
	})
	if err != nil {
		return "", friendly(err)
	}
	d.mu.Lock()
	if set {
		d.bps = append(d.bps, addr)
	} else {
		d.bps = remove(d.bps, addr)
	}
	d.mu.Unlock()
	what := "cleared"
	if set {
		what = "set"
	}
	return fmt.Sprintf("breakpoint %s at %s", what, d.cfg.Symbols.Format(addr)), nil
}

func remove(list []uint64, a uint64) []uint64 {
	out := list[:0]
	for _, x := range list {
		if x != a {
			out = append(out, x)
		}
	}
	return out
}

// parseWatch reads "ADDR[/LEN] [w|r|a]".
func (d *Driver) parseWatch(g *generation, expr string, vcpu int) (watch, error) {
	f := strings.Fields(expr)
	if len(f) == 0 || len(f) > 2 {
		return watch{}, errors.New("want ADDR[/LEN] [w|r|a]")
	}
	w := watch{kind: debug.WatchWrite}
	if len(f) == 2 {
		switch f[1] {
		case "w", "write":
		case "r", "read":
			w.kind = debug.WatchRead
		case "a", "rw", "access":
			w.kind = debug.WatchAccess
		default:
			return watch{}, fmt.Errorf("%q: want w, r or a", f[1])
		}
	}
	a, l, hasLen := strings.Cut(f[0], "/")
	addr, _, err := d.resolve(g, a, vcpu)
	if err != nil {
		return watch{}, err
	}
	w.addr = addr
	switch {
	case hasLen:
		n, err := strconv.ParseUint(l, 0, 8)
		if err != nil {
			return watch{}, fmt.Errorf("length %q: %v", l, err)
		}
		w.length = n
	case addr%4 == 0:
		w.length = 4
	case addr%2 == 0:
		w.length = 2
	default:
		w.length = 1
	}
	return w, nil
}

// ToggleWatchpoint implements tui.Backend.
func (d *Driver) ToggleWatchpoint(expr string, vcpu int) (string, error) {
	g, err := d.live()
	if err != nil {
		return "", err
	}
	w, err := d.parseWatch(g, expr, vcpu)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	set := true
	for _, o := range d.wps {
		if o == w {
			set = false
		}
	}
	d.mu.Unlock()
	err = g.withStopped(func() error {
		if set {
			return g.s.SetWatchpoint(w.kind, w.addr, w.length)
		}
		return g.s.ClearWatchpoint(w.kind, w.addr, w.length)
	})
	if err != nil {
		return "", friendly(err)
	}
	d.mu.Lock()
	if set {
		d.wps = append(d.wps, w)
	} else {
		out := d.wps[:0]
		for _, o := range d.wps {
			if o != w {
				out = append(out, o)
			}
		}
		d.wps = out
	}
	d.mu.Unlock()
	what := "cleared"
	if set {
		what = "set"
	}
	return fmt.Sprintf("%v watchpoint %s at %s, %d bytes", w.kind, what, d.cfg.Symbols.Format(w.addr), w.length), nil
}

// ToggleExtension implements tui.Backend.
func (d *Driver) ToggleExtension(name string) (string, error) {
	var e vmm.Extension
	found := false
	for _, x := range vmm.AllExtensions() {
		if x.String() == strings.TrimSpace(name) {
			e, found = x, true
		}
	}
	if !found {
		return "", fmt.Errorf("no extension %q", name)
	}
	g := d.current()
	if g == nil {
		return "", errors.New("no machine")
	}
	select {
	case <-g.m.Started():
		if !g.m.OfferedExtensions().Has(e) {
			return "", fmt.Errorf("%v: this host's KVM does not offer it", e)
		}
	default:
	}
	d.mu.Lock()
	on := !d.ext.Has(e)
	if g.m.VCPUs() != nil {
		on = !g.m.ActiveExtensions().Has(e)
	}
	d.mu.Unlock()
	word := map[bool]string{true: "on", false: "off"}[on]
	if e.Live() && !g.ended() {
		if err := g.m.SetExtension(e, on); err != nil {
			return "", err
		}
		d.mu.Lock()
		d.ext = d.ext.With(e, on)
		d.mu.Unlock()
		return fmt.Sprintf("%v %s (switched live)", e, word), nil
	}
	d.mu.Lock()
	next := d.ext.With(e, on)
	cfg := d.cfg.Machine
	cfg.Ext = next.String()
	d.mu.Unlock()
	if cfg.Ext == "none" {
		cfg.Ext = "none"
	}
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	d.mu.Lock()
	d.ext = next
	d.mu.Unlock()
	// A guest that was running runs on after the restart, so that the
	// other column fills.
	if err := d.restart(d.cfg.Run || !g.ended() && !g.s.Stopped()); err != nil {
		return "", err
	}
	return fmt.Sprintf("%v %s: the guest restarted with it", e, word), nil
}

// clockTick is how often a machine's run time is accounted.
const clockTick = 20 * time.Millisecond

// clock counts the time the guest runs, leaving out the time it stands
// stopped under the debugger, and ends the run when that passes timeout
// (0: never): in the TUI a person may look at a stopped guest for as long
// as they like.
func (g *generation) clock(ctx *runContext, timeout time.Duration) {
	t := time.NewTicker(clockTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-g.done:
			return
		case now := <-t.C:
			if !g.s.Stopped() && g.lastStop.Load() != nil {
				g.ran.Add(int64(now.Sub(last)))
			}
			last = now
			if timeout > 0 && time.Duration(g.ran.Load()) >= timeout {
				ctx.end(context.DeadlineExceeded)
				return
			}
		}
	}
}

// runContext is the machine's context: canceled by a restart or Close,
// or past its deadline when the run-time budget is spent (vmm reports
// that as a timeout).
type runContext struct {
	done chan struct{}
	once sync.Once
	err  atomic.Pointer[error]
}

func newRunContext() *runContext { return &runContext{done: make(chan struct{})} }

func (c *runContext) end(err error) {
	c.once.Do(func() {
		c.err.Store(&err)
		close(c.done)
	})
}

func (c *runContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *runContext) Done() <-chan struct{}       { return c.done }
func (c *runContext) Value(any) any               { return nil }
func (c *runContext) Err() error {
	if e := c.err.Load(); e != nil {
		return *e
	}
	return nil
}
