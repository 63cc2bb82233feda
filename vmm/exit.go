package vmm

import (
	"fmt"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// action is what the vCPU loop does after an exit handler.
type action int

const (
	continueVCPU action = iota // enter the guest again
	stopVCPU                   // stop the machine with the returned Stop
	parkVCPU                   // park the vCPU for the debugger
)

// exitHandler handles one kind of exit on the vCPU's thread.
type exitHandler func(v *VCPU) (action, *Stop)

// exitHandlers is indexed by exit reason; the handlers live in
// exit_<reason>.go. A reason without a handler stops the machine, naming it.
var exitHandlers [kvm.NumExitReasons]exitHandler

func init() {
	exitHandlers[kvm.ExitIO] = handleIO
	exitHandlers[kvm.ExitMMIO] = handleMMIO
	exitHandlers[kvm.ExitHLT] = handleHLT
	exitHandlers[kvm.ExitIRQWindowOpen] = handleNothing
	exitHandlers[kvm.ExitIntr] = handleNothing
	exitHandlers[kvm.ExitShutdown] = handleShutdown
	exitHandlers[kvm.ExitFailEntry] = handleFailEntry
	exitHandlers[kvm.ExitInternalError] = handleInternalError
	exitHandlers[kvm.ExitSystemEvent] = handleSystemEvent
	exitHandlers[kvm.ExitDebug] = handleDebug
}

func (v *VCPU) dispatch(reason kvm.ExitReason) (action, *Stop) {
	if reason < kvm.NumExitReasons {
		if h := exitHandlers[reason]; h != nil {
			return h(v)
		}
	}
	return stopVCPU, v.fault(reason, fmt.Sprintf("unhandled exit reason %v (%d)", reason, uint32(reason)))
}

// handleNothing re-enters the guest: the exit needs no work from us.
func handleNothing(*VCPU) (action, *Stop) { return continueVCPU, nil }
