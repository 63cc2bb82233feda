package gdbstub

import (
	"bytes"
	"syscall"

	"github.com/kvmscope/kvmscope/debug"
)

// Resuming: vCont?, vCont, c, C, s, S. Every resume goes through
// Target.Resume with one debug.Resume per vCPU; the stop reply is sent
// when the machine stops (actWait).
//
// vCont follows the protocol: for each vCPU the leftmost action whose
// thread-id matches applies (an action without thread-id matches every
// vCPU), and vCPUs no action matches stay stopped. So "vCont;s:2;c"
// steps thread 2 (vCPU 1) while the others continue, and "vCont;s:2"
// (gdb's `set scheduler-locking step`) steps it with the others stopped.
// C and S are accepted as c and s: a vCPU has no signals to deliver, so
// the signal is dropped. t (stop) and r (range step) are not supported
// and not announced.

// vContAction is one ";action[:thread-id]".
type vContAction struct {
	op  byte  // 'c' or 's'
	tid int64 // threadAll when absent
}

// parseVCont reads the actions after "vCont;".
func parseVCont(arg []byte) ([]vContAction, bool) {
	var acts []vContAction
	for _, f := range bytes.Split(arg, []byte(";")) {
		a := vContAction{tid: threadAll}
		act, tid, hasTid := bytes.Cut(f, []byte(":"))
		if hasTid {
			t, ok := parseThreadID(tid)
			if !ok {
				return nil, false
			}
			a.tid = t
		}
		switch {
		case len(act) == 1 && (act[0] == 'c' || act[0] == 's'):
			a.op = act[0]
		case len(act) == 3 && (act[0] == 'C' || act[0] == 'S'):
			if _, ok := parseHexByte(act[1], act[2]); !ok {
				return nil, false
			}
			a.op = act[0] + 'a' - 'A'
		default:
			return nil, false
		}
		acts = append(acts, a)
	}
	return acts, len(acts) > 0
}

// resolveVCont gives every vCPU its action: the leftmost that matches.
func resolveVCont(acts []vContAction, vcpus []int) []debug.Resume {
	out := make([]debug.Resume, 0, len(vcpus))
	for _, v := range vcpus {
		r := debug.Resume{VCPU: v, Action: debug.ActionStay}
		for _, a := range acts {
			if a.tid == threadAll || a.tid == threadAny || a.tid == int64(v)+1 {
				r.Action = debug.ActionContinue
				if a.op == 's' {
					r.Action = debug.ActionStep
				}
				break
			}
		}
		out = append(out, r)
	}
	return out
}

func cmdVContQuery(s *session, arg []byte) reply { return replyString("vCont;c;C;s;S") }

func cmdVCont(s *session, arg []byte) reply {
	acts, ok := parseVCont(arg)
	if !ok {
		return errInval
	}
	return s.resume(resolveVCont(acts, s.srv.vcpus))
}

// resume starts the machine for gdb; the reply comes at the next stop.
func (s *session) resume(actions []debug.Resume) reply {
	if s.srv.exited != nil {
		return reply{data: exitReply(s.srv.exited), act: actExit}
	}
	if s.srv.running {
		return replyErrno(syscall.EBUSY)
	}
	moves := false
	for _, a := range actions {
		moves = moves || a.Action != debug.ActionStay
	}
	if !moves {
		return errInval // no vCPU would run: gdb would wait forever
	}
	if err := s.srv.resume(actions); err != nil {
		return replyErr(err, syscall.EIO)
	}
	return reply{act: actWait}
}

// resumeAddr is the optional address of c, s ("c[addr]") and of C, S
// ("Csig[;addr]").
func parseResumeAddr(arg []byte, signal bool) (addr uint64, has, ok bool) {
	if signal {
		if len(arg) < 2 {
			return 0, false, false
		}
		if _, ok := parseHexByte(arg[0], arg[1]); !ok {
			return 0, false, false
		}
		arg = arg[2:]
		if len(arg) == 0 {
			return 0, false, true
		}
		if arg[0] != ';' {
			return 0, false, false
		}
		arg = arg[1:]
	}
	if len(arg) == 0 {
		return 0, false, true
	}
	addr, ok = parseHexUint(arg)
	return addr, true, ok
}

// target is the vCPU c and s act on: Hc's, or the current one.
func (s *session) target() int {
	if s.cVCPU >= 0 {
		return s.cVCPU
	}
	return s.cur
}

// setPC moves a vCPU to a (linear) address before c addr / s addr.
func (s *session) setPC(vcpu int, addr uint64) reply {
	if s.srv.running {
		return replyErrno(syscall.EBUSY)
	}
	r, err := s.srv.t.Registers(vcpu)
	if err != nil || r == nil {
		return replyErr(err, syscall.EIO)
	}
	c := *r
	pcSet(&c, addr)
	if err := s.srv.t.SetRegisters(vcpu, &c); err != nil {
		return replyErr(err, syscall.EIO)
	}
	return reply{}
}

func (s *session) legacyResume(arg []byte, signal, step bool) reply {
	addr, has, ok := parseResumeAddr(arg, signal)
	if !ok {
		return errInval
	}
	if s.srv.exited != nil {
		return reply{data: exitReply(s.srv.exited), act: actExit}
	}
	v := s.target()
	if has {
		if r := s.setPC(v, addr); r.data != nil {
			return r
		}
	}
	if step {
		// s steps the Hc (or current) vCPU; the others stay stopped.
		acts := make([]debug.Resume, 0, len(s.srv.vcpus))
		for _, u := range s.srv.vcpus {
			a := debug.Resume{VCPU: u, Action: debug.ActionStay}
			if u == v {
				a.Action = debug.ActionStep
			}
			acts = append(acts, a)
		}
		return s.resume(acts)
	}
	return s.resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}})
}

func cmdContinue(s *session, arg []byte) reply       { return s.legacyResume(arg, false, false) }
func cmdContinueSignal(s *session, arg []byte) reply { return s.legacyResume(arg, true, false) }
func cmdStep(s *session, arg []byte) reply           { return s.legacyResume(arg, false, true) }
func cmdStepSignal(s *session, arg []byte) reply     { return s.legacyResume(arg, true, true) }
