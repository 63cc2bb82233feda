package debug

import (
	"fmt"

	"github.com/kvmscope/kvmscope/vmm"
)

// StopKind says why the vCPUs stopped.
type StopKind int

const (
	StopStep       StopKind = iota + 1 // a single-step finished
	StopBreakpoint                     // a breakpoint was hit (Addr)
	StopWatchpoint                     // a watchpoint was hit (Addr, Watch)
	StopRequested                      // someone asked (Halt: Ctrl-C, the TUI's pause)
	StopExited                         // the machine ended: Machine says how
)

var stopKindNames = [...]string{StopStep: "step", StopBreakpoint: "breakpoint", StopWatchpoint: "watchpoint", StopRequested: "stopped", StopExited: "exited"}

func (k StopKind) String() string {
	if k > 0 && int(k) < len(stopKindNames) {
		return stopKindNames[k]
	}
	return fmt.Sprintf("StopKind(%d)", int(k))
}

// BreakKind is how a breakpoint is implemented (and what gdb asked for:
// Z0 software, Z1 hardware).
type BreakKind int

const (
	BreakSoftware BreakKind = iota // int3, or a fallback where the host cannot trap int3
	BreakHardware                  // a debug register (DR0-DR3) execute breakpoint
)

// WatchKind is the access a watchpoint catches (gdb's Z2, Z3, Z4).
type WatchKind int

const (
	WatchWrite WatchKind = iota + 1
	WatchRead
	WatchAccess
)

func (w WatchKind) String() string {
	switch w {
	case WatchWrite:
		return "write"
	case WatchRead:
		return "read"
	case WatchAccess:
		return "access"
	}
	return fmt.Sprintf("WatchKind(%d)", int(w))
}

// StopEvent reports that the machine is stopped (all-stop: every vCPU).
type StopEvent struct {
	Kind  StopKind
	VCPU  int       // the vCPU the reason belongs to
	Addr  uint64    // StopBreakpoint, StopWatchpoint: the linear address hit
	Watch WatchKind // StopWatchpoint: the kind of the watchpoint hit
	// Machine is how the machine ended, for StopExited.
	Machine *vmm.Stop
}

// Action is what one vCPU does on Resume.
type Action int

const (
	ActionStay     Action = iota // stay stopped
	ActionContinue               // run until something stops the machine
	ActionStep                   // execute one instruction, then stop the machine
)

// Resume gives one vCPU's action. VCPU -1 applies to every vCPU not named
// in another Resume, as gdb's vCont default action does.
type Resume struct {
	VCPU   int
	Action Action
}
