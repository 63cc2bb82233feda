package gdbstub

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// fakeTarget is a machine without KVM: flat memory where linear equals
// physical, and vCPUs whose every instruction is one byte long, except
// "jmp $" (eb fe), which spins. Effects attached to addresses stand for
// stores: executing the instruction at that address runs the effect.
// Reaching an exit address ends the machine with a status.
type fakeTarget struct {
	mu      sync.Mutex
	mem     []byte
	regs    []debug.Registers
	bps     map[fakeBP]bool
	wps     map[fakeWP]bool
	effects map[uint64]func(f *fakeTarget) // run under mu
	exitAt  map[uint64]uint8
	stepIRQ bool
	// noWatch lists watchpoint kinds the fake refuses as unsupported.
	noWatch map[debug.WatchKind]bool
	syms    *symbols.Table // nil: the guest has no symbols

	stops   chan debug.StopEvent
	running bool
	halt    bool
	ended   bool
	// spinning is signalled (non-blocking) with the pc when a vCPU that
	// continues reaches a spin loop.
	spinning chan spinAt
	resumes  [][]debug.Resume
	// violations records contract breaches by the stub (Resume while
	// running, registers set while running).
	violations []string
}

type spinAt struct {
	vcpu int
	pc   uint64
}

type fakeBP struct {
	kind debug.BreakKind
	addr uint64
}

type fakeWP struct {
	kind      debug.WatchKind
	addr, len uint64
}

const fakeMemSize = 0x10000

// newFake builds a machine with n vCPUs in 64-bit long mode, vCPU 0 at
// 0x1000, the others spinning at 0x5000. Memory is nops up to a spin at
// 0xfff0.
func newFake(n int) *fakeTarget {
	f := &fakeTarget{
		mem:      make([]byte, fakeMemSize),
		bps:      map[fakeBP]bool{},
		wps:      map[fakeWP]bool{},
		effects:  map[uint64]func(*fakeTarget){},
		exitAt:   map[uint64]uint8{},
		stops:    make(chan debug.StopEvent, 16),
		spinning: make(chan spinAt, 16),
	}
	for i := range f.mem {
		f.mem[i] = 0x90
	}
	f.mem[0x5000], f.mem[0x5001] = 0xeb, 0xfe
	f.mem[0xfff0], f.mem[0xfff1] = 0xeb, 0xfe // a vCPU left running ends up here
	for i := range n {
		var r debug.Registers
		r.Regs.RIP = 0x1000
		if i > 0 {
			r.Regs.RIP = 0x5000
		}
		r.Regs.RFLAGS = 0x202
		r.Regs.RSP = 0x8000
		r.Sregs.CR0 = kvm.CR0_PE | kvm.CR0_PG
		r.Sregs.CR4 = kvm.CR4_PAE
		r.Sregs.EFER = kvm.EFER_LME | kvm.EFER_LMA
		r.Sregs.CS = kvm.Segment{Selector: 8, Type: 11, Present: 1, S: 1, L: 1, G: 1, Limit: 0xffffffff}
		data := kvm.Segment{Selector: 16, Type: 3, Present: 1, S: 1, DB: 1, G: 1, Limit: 0xffffffff}
		r.Sregs.DS, r.Sregs.ES, r.Sregs.SS, r.Sregs.FS, r.Sregs.GS = data, data, data, data, data
		r.Sregs.FS.Base = 0x7000
		r.KernelGSBase = 0xffff800000001000
		r.FPU.FCW = 0x37f
		r.FPU.MXCSR = 0x1f80
		f.regs = append(f.regs, r)
	}
	return f
}

// setReal puts vCPU i in real mode at CS:IP.
func (f *fakeTarget) setReal(i int, cs uint16, ip uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &f.regs[i]
	r.Sregs.CR0, r.Sregs.CR4, r.Sregs.EFER = 0, 0, 0
	r.Sregs.CS = kvm.Segment{Selector: cs, Base: uint64(cs) << 4, Limit: 0xffff, Type: 11, Present: 1, S: 1}
	r.Regs.RIP = ip
}

func (f *fakeTarget) VCPUs() []int {
	ids := make([]int, len(f.regs))
	for i := range ids {
		ids[i] = i
	}
	return ids
}

func (f *fakeTarget) vcpu(v int) (*debug.Registers, error) {
	if v < 0 || v >= len(f.regs) {
		return nil, fmt.Errorf("no vCPU %d", v)
	}
	return &f.regs[v], nil
}

func (f *fakeTarget) Registers(v int) (*debug.Registers, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.violations = append(f.violations, "Registers while running")
		return nil, errors.New("running")
	}
	r, err := f.vcpu(v)
	if err != nil {
		return nil, err
	}
	c := *r
	return &c, nil
}

func (f *fakeTarget) SetRegisters(v int, r *debug.Registers) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.violations = append(f.violations, "SetRegisters while running")
		return errors.New("running")
	}
	p, err := f.vcpu(v)
	if err != nil {
		return err
	}
	*p = *r
	return nil
}

func (f *fakeTarget) access(addr uint64, n int) (int, error) {
	if addr >= uint64(len(f.mem)) {
		return 0, fmt.Errorf("linear %#x not mapped: %w", addr, syscall.EFAULT)
	}
	avail := uint64(len(f.mem)) - addr
	if uint64(n) > avail {
		return int(avail), fmt.Errorf("linear %#x not mapped: %w", uint64(len(f.mem)), syscall.EFAULT)
	}
	return n, nil
}

func (f *fakeTarget) ReadVirtual(v int, addr uint64, buf []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.access(addr, len(buf))
	if n > 0 {
		copy(buf[:n], f.mem[addr:])
	}
	return n, err
}

func (f *fakeTarget) WriteVirtual(v int, addr uint64, buf []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		return 0, errors.New("running")
	}
	n, err := f.access(addr, len(buf))
	if n > 0 {
		copy(f.mem[addr:addr+uint64(n)], buf)
	}
	return n, err
}

func (f *fakeTarget) ReadPhys(addr uint64, buf []byte) (int, error) {
	return f.ReadVirtual(0, addr, buf)
}

func (f *fakeTarget) SetBreakpoint(kind debug.BreakKind, addr uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind == debug.BreakHardware {
		n := 0
		for bp := range f.bps {
			if bp.kind == debug.BreakHardware {
				n++
			}
		}
		if n+len(f.wps) >= 4 {
			return fmt.Errorf("all 4 debug registers in use: %w", syscall.ENOSPC)
		}
	}
	f.bps[fakeBP{kind, addr}] = true
	return nil
}

func (f *fakeTarget) ClearBreakpoint(kind debug.BreakKind, addr uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.bps[fakeBP{kind, addr}] {
		return fmt.Errorf("no breakpoint at %#x", addr)
	}
	delete(f.bps, fakeBP{kind, addr})
	return nil
}

func (f *fakeTarget) SetWatchpoint(kind debug.WatchKind, addr, length uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noWatch[kind] {
		return fmt.Errorf("%v watchpoints: %w", kind, errors.ErrUnsupported)
	}
	if length == 0 || addr%length != 0 {
		return fmt.Errorf("unaligned watchpoint: %w", syscall.EINVAL)
	}
	f.wps[fakeWP{kind, addr, length}] = true
	return nil
}

func (f *fakeTarget) ClearWatchpoint(kind debug.WatchKind, addr, length uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.wps[fakeWP{kind, addr, length}] {
		return fmt.Errorf("no watchpoint at %#x", addr)
	}
	delete(f.wps, fakeWP{kind, addr, length})
	return nil
}

func (f *fakeTarget) Resume(actions []debug.Resume) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.violations = append(f.violations, "Resume while running")
		return errors.New("already running")
	}
	if f.ended {
		f.violations = append(f.violations, "Resume after the end")
		return errors.New("machine ended")
	}
	f.resumes = append(f.resumes, append([]debug.Resume(nil), actions...))
	plan := make([]debug.Action, len(f.regs))
	for _, a := range actions {
		if a.VCPU == -1 {
			for i := range plan {
				plan[i] = a.Action
			}
		}
	}
	for _, a := range actions {
		if a.VCPU >= 0 && a.VCPU < len(plan) {
			plan[a.VCPU] = a.Action
		}
	}
	f.running, f.halt = true, false
	go f.run(plan)
	return nil
}

func (f *fakeTarget) Halt() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.halt = true
	}
	return nil
}

func (f *fakeTarget) Stops() <-chan debug.StopEvent { return f.stops }

func (f *fakeTarget) ExitStats() []exitstats.Row {
	return []exitstats.Row{{Name: "io 0x3f8 (serial)", Count: 12}, {Name: "hlt", Count: 3}}
}

func (f *fakeTarget) Symbols() *symbols.Table { return f.syms }

func (f *fakeTarget) BreakpointStrategy() string {
	return "software: int3 (fake)\nhardware: DR0-DR3 (fake)\n"
}

func (f *fakeTarget) StepIRQ() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stepIRQ
}

func (f *fakeTarget) SetStepIRQ(block bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stepIRQ = block
	return nil
}

// stop ends a run: exactly one event per Resume.
func (f *fakeTarget) stop(ev debug.StopEvent) {
	f.running = false
	if ev.Kind == debug.StopExited {
		f.ended = true
	}
	f.stops <- ev
}

// run executes the plan in rounds: every vCPU that continues or steps
// executes one instruction a round; after a round with a step the machine
// stops.
func (f *fakeTarget) run(plan []debug.Action) {
	first := make([]bool, len(plan))
	for i := range first {
		first[i] = true
	}
	for {
		f.mu.Lock()
		if f.halt {
			f.stop(debug.StopEvent{Kind: debug.StopRequested, VCPU: 0})
			f.mu.Unlock()
			return
		}
		stepped, spun := -1, false
		for v, a := range plan {
			if a == debug.ActionStay {
				continue
			}
			ev, spin, stop := f.exec(v, first[v])
			first[v] = false
			if stop {
				f.stop(ev)
				f.mu.Unlock()
				return
			}
			if spin && a == debug.ActionContinue {
				spun = true
				select {
				case f.spinning <- spinAt{v, f.regs[v].PC()}:
				default:
				}
			}
			if a == debug.ActionStep && stepped < 0 {
				stepped = v
			}
		}
		if stepped >= 0 {
			f.stop(debug.StopEvent{Kind: debug.StopStep, VCPU: stepped})
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		if spun {
			time.Sleep(200 * time.Microsecond)
		}
	}
}

// exec runs one instruction of vCPU v (under mu).
func (f *fakeTarget) exec(v int, first bool) (ev debug.StopEvent, spin, stop bool) {
	r := &f.regs[v]
	pc := r.PC()
	if status, ok := f.exitAt[pc]; ok {
		return debug.StopEvent{Kind: debug.StopExited, VCPU: v, Machine: &vmm.Stop{Kind: vmm.StopGuestExit, Status: status, VCPU: v}}, false, true
	}
	if pc+1 >= uint64(len(f.mem)) {
		return debug.StopEvent{Kind: debug.StopExited, VCPU: v, Machine: &vmm.Stop{Kind: vmm.StopFault, VCPU: v, Detail: "ran off memory"}}, false, true
	}
	if !first && (f.bps[fakeBP{debug.BreakSoftware, pc}] || f.bps[fakeBP{debug.BreakHardware, pc}]) {
		return debug.StopEvent{Kind: debug.StopBreakpoint, VCPU: v, Addr: pc}, false, true
	}
	if f.mem[pc] == 0xeb && f.mem[pc+1] == 0xfe {
		return ev, true, false
	}
	var before []byte
	if eff := f.effects[pc]; eff != nil {
		before = append([]byte(nil), f.mem...)
		eff(f)
	}
	r.Regs.RIP++
	if before != nil {
		for wp := range f.wps {
			if wp.kind == debug.WatchRead {
				continue
			}
			for a := wp.addr; a < wp.addr+wp.len && a < uint64(len(f.mem)); a++ {
				if before[a] != f.mem[a] {
					return debug.StopEvent{Kind: debug.StopWatchpoint, VCPU: v, Addr: wp.addr, Watch: wp.kind}, false, true
				}
			}
		}
	}
	return ev, false, false
}

// waitStop takes the next stop event or fails after a while.
func (f *fakeTarget) waitStop() (debug.StopEvent, error) {
	select {
	case ev := <-f.stops:
		return ev, nil
	case <-time.After(5 * time.Second):
		return debug.StopEvent{}, errors.New("no stop event within 5s")
	}
}
