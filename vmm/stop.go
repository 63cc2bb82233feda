package vmm

import (
	"fmt"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// StopKind says why a machine stopped running.
type StopKind int

const (
	StopGuestExit StopKind = iota + 1 // the guest wrote its status to the debug-exit port
	StopReset                         // the guest asked for a reset (i8042, port 0xcf9, KVM system event)
	StopPowerOff                      // the guest powered off (KVM system event)
	StopFault                         // triple fault, failed entry, KVM internal error, unhandled exit
	StopTimeout                       // the run's time limit passed
	StopCanceled                      // the caller stopped it
	StopError                         // kvmscope itself failed
)

var stopNames = [...]string{
	StopGuestExit: "guest exit", StopReset: "guest reset", StopPowerOff: "guest power-off",
	StopFault: "guest fault", StopTimeout: "timeout", StopCanceled: "canceled", StopError: "error",
}

func (k StopKind) String() string {
	if k > 0 && int(k) < len(stopNames) {
		return stopNames[k]
	}
	return fmt.Sprintf("StopKind(%d)", int(k))
}

// Stop is how and why a run ended.
type Stop struct {
	Kind   StopKind
	Status uint8  // StopGuestExit: the byte the guest wrote
	VCPU   int    // the vCPU that caused it, or -1
	Detail string // e.g. "triple fault (KVM_EXIT_SHUTDOWN)"
	Fault  *Fault // StopFault: the vCPU's state
	Err    error  // StopError: the cause
}

func (s *Stop) String() string {
	switch s.Kind {
	case StopGuestExit:
		return fmt.Sprintf("guest exit with status %d", s.Status)
	case StopError:
		return fmt.Sprintf("error: %v", s.Err)
	}
	if s.Detail != "" {
		return fmt.Sprintf("%v: %s", s.Kind, s.Detail)
	}
	return s.Kind.String()
}

// CPUState is a vCPU's architectural state at one moment.
type CPUState struct {
	Regs  kvm.Regs
	Sregs kvm.Sregs
}

// Fault is the evidence of a guest fault, for the report.
type Fault struct {
	Exit kvm.ExitReason
	// Now is the state read after the exit.
	Now CPUState
	// LastExit is the state at the vCPU's previous exit to user space, when
	// known. On AMD KVM resets the vCPU before reporting a shutdown, so Now
	// is the reset state there and LastExit is the best evidence left.
	LastExit *CPUState
	// ResetByKVM says Now is KVM's reset state, not the faulting state.
	ResetByKVM bool
	// Info holds exit-specific words: the hardware entry-failure reason, or
	// the internal error's suberror and data.
	Info []uint64
}
