package debug

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Session is a debugger on one machine: all-stop run control, registers,
// memory, breakpoints and watchpoints. The gdb stub and the TUI drive it.
//
// Build it before the machine, because the machine calls it back:
//
//	s := debug.NewSession(opts)
//	cfg.Debug, cfg.StartPaused = s, true
//	m, _ := vmm.New(cfg)
//	s.Attach(m)
//	go s.Run(ctx)
//
// All-stop means: after Resume, exactly one StopEvent arrives on Stops
// when every vCPU is parked again, whichever vCPU caused it.
type Session struct {
	opts  Options
	m     *vmm.Machine
	probe Probe

	mu      sync.Mutex
	vcpus   []*vcpuState
	running bool       // some vCPU was resumed and the stop is not reported yet
	pending *StopEvent // the reason of the stop in progress
	last    StopEvent  // the last stop reported
	ended   bool
	stepIRQ bool
	bps     breakpoints
	wps     []*watchpoint
	stops   chan StopEvent
	syms    atomic.Pointer[symbols.Table] // see Symbols
	kaslr   atomic.Pointer[kaslrSearch]   // a kernel whose slide is still to find
}

// Options configures a session.
type Options struct {
	// Probe is what the host can do (from ProbeHost); the zero value
	// assumes the least: no int3 interception.
	Probe Probe
	// Symbols names guest addresses for the front ends (func+off) and
	// resolves names; nil when the guest has none.
	Symbols *symbols.Table
}

// vcpuState is the session's side of one vCPU. Fields marked "thread" are
// used by the vCPU's thread while it runs and by the session while it is
// parked; the park and Continue hand-offs order the two.
type vcpuState struct {
	v      *vmm.VCPU
	parked bool // under Session.mu

	// thread:
	action   Action
	stepOver bool // single-stepping off a breakpoint before the action
	stepping bool // continuing by single steps (breakpoints no DR holds)
	noExecDR bool // execute breakpoints kept out of the DRs (Session.noExecDR)
	dr       [4]debugSlot
	event    *StopEvent // why the vCPU parked itself, nil for a requested park
	lastHit  uint64     // the breakpoint it last reported, to step over on resume
	hasHit   bool
	// lastStepOver is the address stepped off; sregs the vCPU's segments
	// and control registers when it was last resumed or read.
	lastStepOver uint64
	sregs        kvm.Sregs
	// regsWritten says the debugger set registers since the vCPU's last
	// exit, so kvm_run's copy of them is stale.
	regsWritten bool
}

// NewSession makes a session; Attach gives it its machine.
func NewSession(opts Options) *Session {
	s := &Session{opts: opts, probe: opts.Probe, stepIRQ: true, stops: make(chan StopEvent, 4)}
	s.syms.Store(opts.Symbols)
	return s
}

// Attach binds the session to a machine built with Config.Debug = s.
func (s *Session) Attach(m *vmm.Machine) {
	s.m = m
	s.vcpus = make([]*vcpuState, m.CPUs())
	for i := range s.vcpus {
		s.vcpus[i] = &vcpuState{}
	}
	s.running = true // the vCPUs start and park (Config.StartPaused)
	s.pending = &StopEvent{Kind: StopRequested, VCPU: 0}
}

// Run runs the machine until it ends, then reports StopExited.
func (s *Session) Run(ctx context.Context) vmm.Stop {
	stop := s.m.Run(ctx)
	s.mu.Lock()
	s.ended = true
	s.running = false
	ev := StopEvent{Kind: StopExited, VCPU: max(stop.VCPU, 0), Machine: &stop}
	s.last = ev
	s.mu.Unlock()
	s.emit(ev)
	return stop
}

// Stops delivers one event per stop of the machine.
func (s *Session) Stops() <-chan StopEvent { return s.stops }

func (s *Session) emit(ev StopEvent) {
	select {
	case s.stops <- ev:
	default: // nobody listens: the last stop stays queryable
	}
}

// LastStop is the most recent stop reported.
func (s *Session) LastStop() StopEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// VCPUs lists the vCPU ids.
func (s *Session) VCPUs() []int {
	ids := make([]int, len(s.vcpus))
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// Stopped reports whether every vCPU is parked (registers may be read).
func (s *Session) Stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.running && !s.ended
}

// Parked is the machine's hook: a vCPU has parked on its thread.
func (s *Session) Parked(v *vmm.VCPU) {
	s.mu.Lock()
	st := s.vcpus[v.ID()]
	st.v = v
	st.parked = true
	st.regsWritten = false // it exited (or never ran): kvm_run's copy is current
	if st.event != nil && s.running {
		if s.pending == nil || s.pending.Kind == StopRequested && st.event.Kind != StopRequested {
			s.pending = st.event
		}
		st.event = nil
		// All-stop: the others follow.
		for _, o := range s.vcpus {
			if !o.parked && o.v != nil {
				o.v.RequestPause()
			}
		}
	}
	s.finishStopLocked()
	s.mu.Unlock()
}

// finishStopLocked reports the stop once every vCPU is parked.
func (s *Session) finishStopLocked() {
	if !s.running {
		return
	}
	for _, o := range s.vcpus {
		if !o.parked {
			return
		}
	}
	s.running = false
	s.unplantAllLocked()
	ev := StopEvent{Kind: StopRequested}
	if s.pending != nil {
		ev = *s.pending
	}
	s.pending = nil
	s.last = ev
	if ev.Kind == StopBreakpoint {
		hit := s.vcpus[ev.VCPU]
		hit.lastHit, hit.hasHit = ev.Addr, true
	}
	s.emit(ev)
}

// Halt asks every vCPU to stop; a StopRequested event follows.
func (s *Session) Halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return vmm.ErrMachineStopped
	}
	if !s.running {
		return nil
	}
	if s.pending == nil {
		s.pending = &StopEvent{Kind: StopRequested, VCPU: 0}
	}
	for _, o := range s.vcpus {
		if !o.parked && o.v != nil {
			o.v.RequestPause()
		}
	}
	return nil
}

// ErrNotStopped is returned for what needs the machine stopped.
var ErrNotStopped = errors.New("the machine is running: stop it first")

// vcpu returns a parked vCPU's state, or an error.
func (s *Session) vcpu(id int) (*vcpuState, error) {
	if id < 0 || id >= len(s.vcpus) {
		return nil, fmt.Errorf("no vcpu %d (the machine has %d)", id, len(s.vcpus))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, vmm.ErrMachineStopped
	}
	if s.running || !s.vcpus[id].parked {
		return nil, ErrNotStopped
	}
	return s.vcpus[id], nil
}

// Registers reads a stopped vCPU's registers.
func (s *Session) Registers(id int) (*Registers, error) {
	st, err := s.vcpu(id)
	if err != nil {
		return nil, err
	}
	r := new(Registers)
	err = st.v.Do(func(kv *kvm.VCPU) error { return readRegisters(kv, r) })
	return r, err
}

// SetRegisters writes a stopped vCPU's registers.
func (s *Session) SetRegisters(id int, r *Registers) error {
	st, err := s.vcpu(id)
	if err != nil {
		return err
	}
	st.regsWritten = true
	return st.v.Do(func(kv *kvm.VCPU) error { return writeRegisters(kv, r) })
}

func readRegisters(kv *kvm.VCPU, r *Registers) error {
	if err := kv.GetRegs(&r.Regs); err != nil {
		return err
	}
	if err := kv.GetSregs(&r.Sregs); err != nil {
		return err
	}
	if err := kv.GetFPU(&r.FPU); err != nil {
		return err
	}
	if err := kv.GetDebugRegs(&r.Debug); err != nil {
		return err
	}
	msrs := []kvm.MSREntry{{Index: kvm.MSR_KERNEL_GS_BASE}}
	if err := kv.GetMSRs(msrs); err != nil {
		return err
	}
	r.KernelGSBase = msrs[0].Data
	return nil
}

func writeRegisters(kv *kvm.VCPU, r *Registers) error {
	if err := kv.SetSregs(&r.Sregs); err != nil {
		return err
	}
	if err := kv.SetRegs(&r.Regs); err != nil {
		return err
	}
	if err := kv.SetFPU(&r.FPU); err != nil {
		return err
	}
	if err := kv.SetDebugRegs(&r.Debug); err != nil {
		return err
	}
	return kv.SetMSRs([]kvm.MSREntry{{Index: kvm.MSR_KERNEL_GS_BASE, Data: r.KernelGSBase}})
}

// ExitStats is the machine's exit table.
func (s *Session) ExitStats() []exitstats.Row { return s.m.ExitStats() }

// StepIRQ reports whether single-steps block interrupt injection.
func (s *Session) StepIRQ() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stepIRQ
}

// SetStepIRQ chooses whether single-steps block interrupt injection
// (KVM_GUESTDBG_BLOCKIRQ), so that stepi stays in the code being stepped.
func (s *Session) SetStepIRQ(block bool) error {
	if block && !s.probe.BlockIRQ {
		return errors.New("this host's KVM cannot block interrupts while single-stepping (no KVM_GUESTDBG_BLOCKIRQ)")
	}
	s.mu.Lock()
	s.stepIRQ = block
	s.mu.Unlock()
	return nil
}
