package gdbstub

import (
	"fmt"
	"slices"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/vmm"
)

// Stop state and the end of a session: ?, stop replies, D, k.

// gdb's signal numbers (gdb/signals.def; the protocol uses these, not the
// host's).
const (
	sigINT  = 2
	sigABRT = 6
	sigTRAP = 5
	sigKILL = 9
	sigSEGV = 11
	sigALRM = 14
	sigPWR  = 32
)

// stopReply formats a stop and makes its vCPU the current one (gdb
// assumes that the thread of a stop reply is selected for g, m...).
func (s *session) stopReply(ev *debug.StopEvent) []byte {
	v := ev.VCPU
	if !slices.Contains(s.srv.vcpus, v) {
		v = s.cur
	}
	s.cur, s.gVCPU = v, v
	e := *ev
	s.last = &e
	sig := sigTRAP
	reason := ""
	switch ev.Kind {
	case debug.StopRequested:
		sig = sigINT
	case debug.StopBreakpoint:
		switch s.srv.hitBreakpoint(ev.Addr) {
		case '0':
			if s.swbreak {
				reason = "swbreak:;"
			}
		case '1':
			if s.hwbreak {
				reason = "hwbreak:;"
			}
		}
	case debug.StopWatchpoint:
		name := "awatch"
		switch ev.Watch {
		case debug.WatchWrite:
			name = "watch"
		case debug.WatchRead:
			name = "rwatch"
		}
		reason = fmt.Sprintf("%s:%x;", name, ev.Addr)
	}
	return fmt.Appendf(nil, "T%02xthread:%s;%s", sig, threadOf(v), reason)
}

// exitReply is W (the guest exited, with its status; or powered off) or X
// and a signal for the other ends: SIGSEGV for a fault, SIGPWR for a
// reset, SIGALRM for the time limit, SIGKILL when canceled, SIGABRT when
// kvmscope failed.
func exitReply(ev *debug.StopEvent) []byte {
	m := ev.Machine
	if m == nil {
		return fmt.Appendf(nil, "X%02x", sigKILL)
	}
	sig := sigKILL
	switch m.Kind {
	case vmm.StopGuestExit:
		return fmt.Appendf(nil, "W%02x", m.Status)
	case vmm.StopPowerOff:
		return []byte("W00")
	case vmm.StopFault:
		sig = sigSEGV
	case vmm.StopReset:
		sig = sigPWR
	case vmm.StopTimeout:
		sig = sigALRM
	case vmm.StopError:
		sig = sigABRT
	}
	return fmt.Appendf(nil, "X%02x", sig)
}

func cmdHaltReason(s *session, arg []byte) reply {
	if s.srv.exited != nil {
		return reply{data: exitReply(s.srv.exited), act: actExit}
	}
	if s.last != nil {
		return replyData(s.stopReply(s.last))
	}
	return replyData(fmt.Appendf(nil, "T%02xthread:%s;", sigTRAP, threadOf(s.cur)))
}

// cmdDetach: "D" or "D;pid". The server then removes gdb's breakpoints
// and watchpoints and lets the guest run on.
func cmdDetach(s *session, arg []byte) reply {
	return reply{data: []byte("OK"), act: actDetach}
}

// cmdKill: k (no reply; gdb does not wait for one) or vKill;pid (OK).
func cmdKill(s *session, arg []byte) reply {
	if len(arg) > 0 {
		return reply{data: []byte("OK"), act: actKill}
	}
	return reply{act: actKill}
}
