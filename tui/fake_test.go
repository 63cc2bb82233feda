package tui

import (
	"strings"
	"sync"
	"time"

	"github.com/kvmscope/kvmscope/tui/snap"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// fake is a Backend with a fixed machine: a 64-bit guest stopped at
// _start, a few exits, the extensions with one measured both ways. It
// records what the model asked of it.
type fake struct {
	mu      sync.Mutex
	calls   []string
	input   []byte
	queries []snap.Query
	frame   snap.Frame
	console []byte
	wake    chan struct{}
}

func newFake() *fake {
	f := &fake{wake: make(chan struct{}, 1)}
	var regs kvm.Regs
	var sregs kvm.Sregs
	regs.RIP, regs.RSP, regs.RAX, regs.RFLAGS = 0x100005, 0x102000, 0x2a, 0x46
	sregs.CR0, sregs.CR3, sregs.CR4, sregs.EFER = 0x80010033, 0x9000, 0x20, kvm.EFER_LME|kvm.EFER_LMA
	sregs.CS = kvm.Segment{Selector: 8, L: 1, Present: 1, S: 1, Type: 11}
	sregs.DS, sregs.SS = kvm.Segment{Selector: 0x10}, kvm.Segment{Selector: 0x10}
	f.frame = snap.Frame{
		Status: snap.Status{State: snap.Stopped, Why: "stopped: step on vCPU 0", Image: "sample:hello", Ext: "irqchip,ioeventfd", Stops: 2},
		VCPU:   snap.VCPU{ID: 0, Count: 2, Valid: true, Regs: regs, Sregs: sregs, Stop: 2},
		Code: snap.Code{PC: 0x100005, Bits: 64, Where: "_start+0x5", Lines: []snap.CodeLine{
			{Addr: 0x100000, Text: "mov $0x3f8,%dx", Symbol: "_start"},
			{Addr: 0x100005, Text: "mov $0x2a,%al", PC: true},
			{Addr: 0x100007, Text: "out %al,(%dx)", Break: true},
			{Addr: 0x100008, Text: "call 0x100020 <puts>"},
			{Addr: 0x10000d, Text: "hlt"},
		}},
		Memory: snap.Memory{Addr: 0x102000, Expr: "rsp", Follow: "rsp", Data: []byte("Hello from kvmscope guest!\n\x00\x01\x02")},
		Exits: snap.Exits{Split: true, Rows: []snap.ExitRow{
			{Name: "port I/O", Count: 150000, Kernel: 100000, User: 50000, KernelKnown: true, Rate: 1234, Mean: 52 * time.Microsecond, P99: 130 * time.Microsecond, History: []float64{1, 2, 3, 4, 5, 6, 7, 8}},
			{Name: "0x3f8 serial", Sub: true, Count: 27, User: 27, Mean: 60 * time.Microsecond, P99: 90 * time.Microsecond},
			{Name: "HLT", Count: 100, Kernel: 100, KernelKnown: true, Rate: 10},
			{Name: "all exits", Count: 150100, Kernel: 100100, User: 50000, KernelKnown: true, Rate: 1244, Mean: 52 * time.Microsecond, P99: 130 * time.Microsecond},
		}},
		Extensions: snap.Extensions{Rows: []snap.ExtRow{
			{Name: "irqchip", Offered: true, On: true, What: "all exits to kvmscope", OnM: snap.Measure{Valid: true, Rate: 1200, Mean: 50 * time.Microsecond}},
			{Name: "ioeventfd", Live: true, Offered: true, On: false, What: "doorbell (port 0x500) exits",
				OnM: snap.Measure{Valid: true, Rate: 0}, OffM: snap.Measure{Valid: true, Rate: 9000, Mean: 51 * time.Microsecond}},
			{Name: "hlt-passthrough", Offered: false, What: "HLT exits to kvmscope"},
		}},
	}
	f.console = []byte("Hello from kvmscope guest!\r\n$ ")
	return f
}

func (f *fake) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fake) Typed() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.input)
}

func (f *fake) LastQuery() snap.Query {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[len(f.queries)-1]
}

func (f *fake) Poll(q snap.Query) snap.Frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	fr := f.frame
	fr.Console, f.console = f.console, nil
	fr.Memory.Expr, fr.Memory.Addr = q.MemExpr, 0x7000+uint64(q.MemOffset)
	if q.MemExpr == "rsp" {
		fr.Memory.Follow, fr.Memory.Addr = "rsp", 0x102000+uint64(q.MemOffset)
	} else {
		fr.Memory.Follow = ""
	}
	fr.VCPU.ID = q.VCPU
	return fr
}

func (f *fake) Wake() <-chan struct{} { return f.wake }
func (f *fake) Step(v int) error      { f.record("step " + itoa(v)); return nil }
func (f *fake) StepOver(v int) error  { f.record("stepover " + itoa(v)); return nil }
func (f *fake) Continue() error       { f.record("continue"); return nil }
func (f *fake) Pause() error          { f.record("pause"); return nil }
func (f *fake) Restart() error        { f.record("restart"); return nil }
func (f *fake) Input(b []byte)        { f.mu.Lock(); f.input = append(f.input, b...); f.mu.Unlock() }
func (f *fake) ToggleBreakpoint(e string, v int) (string, error) {
	f.record("break " + e)
	return "breakpoint set at " + e, nil
}
func (f *fake) ToggleWatchpoint(e string, v int) (string, error) {
	f.record("watch " + e)
	return "watchpoint set", nil
}
func (f *fake) ToggleExtension(n string) (string, error) {
	f.record("ext " + n)
	return n + " toggled", nil
}

func itoa(v int) string { return strings.TrimSpace(string(rune('0' + v))) }
