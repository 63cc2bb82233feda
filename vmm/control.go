package vmm

import (
	"errors"
	"fmt"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// DebugHooks lets a debugger take part in the vCPU threads' lives. Both
// methods run on the vCPU's own thread.
type DebugHooks interface {
	// DebugExit handles a KVM_EXIT_DEBUG (single-step, breakpoint,
	// watchpoint). Returning true parks the vCPU; false re-enters the guest.
	DebugExit(v *VCPU, info *kvm.ExitDebugInfo) (park bool)
	// Parked says the vCPU has parked: after DebugExit asked for it, after
	// RequestPause, or before its first instruction with Config.StartPaused.
	Parked(v *VCPU)
}

// ErrRunning is returned for a request that needs a parked vCPU.
var ErrRunning = errors.New("vcpu is running")

// ErrMachineStopped is returned for a request to a machine that has ended.
var ErrMachineStopped = errors.New("machine has stopped")

// control is a request served by a parked vCPU on its own thread: run fn
// (if any), then, with resume and no error, leave the park.
type control struct {
	fn     func(kv *kvm.VCPU) error
	resume bool
	reply  chan error
}

// ID is the vCPU's index.
func (v *VCPU) ID() int { return v.id }

// KVM is the vCPU's KVM handle, for DebugHooks, which run on its thread.
// Anywhere else, use Do.
func (v *VCPU) KVM() *kvm.VCPU { return v.kv }

// ExitState returns the registers KVM copied into kvm_run at the vCPU's
// last exit (KVM_CAP_SYNC_REGS), sparing two ioctls; ok is false when the
// host has no sync regs or the vCPU has not run yet. Only on the vCPU's
// thread, and only while nothing has changed its registers since.
func (v *VCPU) ExitState() (regs *kvm.Regs, sregs *kvm.Sregs, ok bool) {
	if !v.syncRegs || !v.entered {
		return nil, nil, false
	}
	return &v.run.Sync.Regs, &v.run.Sync.Sregs, true
}

// RequestPause asks the vCPU to park at its next exit, kicking it out of
// the guest. It returns at once; the DebugHooks' Parked reports the park.
func (v *VCPU) RequestPause() {
	v.pauseReq.Store(true)
	v.kick()
}

// Do runs fn on the vCPU's thread with its KVM handle, which is where the
// KVM API wants vCPU ioctls. The vCPU must be parked.
func (v *VCPU) Do(fn func(kv *kvm.VCPU) error) error {
	return v.send(control{fn: fn, reply: make(chan error, 1)})
}

// Continue lets a parked vCPU run the guest again.
func (v *VCPU) Continue() error {
	return v.send(control{reply: make(chan error, 1), resume: true})
}

// ContinueAfter runs fn on the parked vCPU's thread and, if it succeeds,
// lets the vCPU run: one hand-off instead of Do and Continue's two.
func (v *VCPU) ContinueAfter(fn func(kv *kvm.VCPU) error) error {
	return v.send(control{fn: fn, reply: make(chan error, 1), resume: true})
}

func (v *VCPU) send(c control) error {
	if !v.parked.Load() {
		return fmt.Errorf("vcpu %d: %w", v.id, ErrRunning)
	}
	select {
	case v.ctl <- c:
	case <-v.m.stopCh:
		return ErrMachineStopped
	}
	select {
	case err := <-c.reply:
		return err
	case <-v.m.stopCh:
		return ErrMachineStopped
	}
}

// Parked reports whether the vCPU is parked.
func (v *VCPU) Parked() bool { return v.parked.Load() }

// park holds the vCPU on its thread, serving requests, until Continue or
// the machine's end. It returns false when the machine ended.
func (v *VCPU) park() bool {
	v.pauseReq.Store(false)
	v.parked.Store(true)
	if h := v.m.cfg.Debug; h != nil {
		h.Parked(v)
	}
	for {
		select {
		case c := <-v.ctl:
			var err error
			if c.fn != nil {
				err = c.fn(v.kv)
			}
			if c.resume && err == nil {
				v.pauseReq.Store(false)
				v.parked.Store(false)
				v.run.ClearImmediateExit()
				c.reply <- nil
				return true
			}
			c.reply <- err
		case <-v.m.stopCh:
			return false
		}
	}
}

// handleDebug hands KVM_EXIT_DEBUG to the debugger; without one it is a
// stray exit and stops the machine.
func handleDebug(v *VCPU) (action, *Stop) {
	h := v.m.cfg.Debug
	if h == nil {
		return stopVCPU, v.fault(kvm.ExitDebug, "debug exit without a debugger")
	}
	if h.DebugExit(v, v.run.Debug()) {
		return parkVCPU, nil
	}
	return continueVCPU, nil
}
