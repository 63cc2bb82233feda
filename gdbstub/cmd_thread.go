package gdbstub

import (
	"bytes"
	"fmt"
	"strconv"
)

// vCPUs as threads: qfThreadInfo, qsThreadInfo, qC, qThreadExtraInfo, H,
// T. gdb's thread id is the vCPU id + 1 (gdb reserves 0 for "any" and -1
// for "all").

// Thread ids as parsed: a thread, or one of these.
const (
	threadAll = -1
	threadAny = 0
)

// parseThreadID reads a thread-id: hex, "-1", "0", or the multiprocess
// form "pPID.TID" (of which TID counts).
func parseThreadID(b []byte) (int64, bool) {
	if len(b) > 0 && b[0] == 'p' {
		_, tid, ok := bytes.Cut(b[1:], []byte("."))
		if !ok {
			return threadAll, true // "pPID": all threads of the process
		}
		b = tid
	}
	if string(b) == "-1" {
		return threadAll, true
	}
	v, ok := parseHexUint(b)
	if !ok || v > 1<<31 {
		return 0, false
	}
	return int64(v), true
}

// vcpuOfThread maps a thread id to a vCPU, if one has it.
func (srv *server) vcpuOfThread(tid int64) (int, bool) {
	for _, v := range srv.vcpus {
		if int64(v)+1 == tid {
			return v, true
		}
	}
	return 0, false
}

func threadOf(vcpu int) string { return strconv.FormatInt(int64(vcpu)+1, 16) }

func cmdThreadInfoFirst(s *session, arg []byte) reply {
	b := []byte("m")
	for i, v := range s.srv.vcpus {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, threadOf(v)...)
	}
	if len(s.srv.vcpus) == 0 {
		return replyString("l")
	}
	return replyData(b)
}

func cmdThreadInfoNext(s *session, arg []byte) reply { return replyString("l") }

func cmdCurrentThread(s *session, arg []byte) reply { return replyString("QC" + threadOf(s.cur)) }

// cmdThreadExtraInfo describes a vCPU in words: "vCPU 0, 64-bit long mode",
// and where it is when the guest has symbols: ", in default_idle+0x1d".
// gdb prints this in `info threads`, which then shows where every vCPU of
// a kernel is even when gdb itself has no symbols for it.
func cmdThreadExtraInfo(s *session, arg []byte) reply {
	tid, ok := parseThreadID(arg)
	if !ok {
		return errInval
	}
	v, ok := s.srv.vcpuOfThread(tid)
	if !ok {
		return errSrch
	}
	text := fmt.Sprintf("vCPU %d", v)
	if !s.srv.running {
		if r, err := s.srv.t.Registers(v); err == nil {
			text += ", " + r.Mode().String()
			if t := s.srv.symbolTable(); t != nil {
				if _, _, ok := t.At(r.PC()); ok {
					text += ", in " + t.Format(r.PC())
				}
			}
		}
	} else {
		text += ", running"
	}
	return replyData(appendHex(nil, []byte(text)))
}

// setThread is "H" op thread-id.
type setThread struct {
	op  byte // 'g' (registers, memory) or 'c' (step, continue)
	tid int64
}

func parseSetThread(arg []byte) (setThread, bool) {
	if len(arg) < 2 || (arg[0] != 'g' && arg[0] != 'c') {
		return setThread{}, false
	}
	tid, ok := parseThreadID(arg[1:])
	return setThread{op: arg[0], tid: tid}, ok
}

func cmdSetThread(s *session, arg []byte) reply {
	req, ok := parseSetThread(arg)
	if !ok {
		return errInval
	}
	v := s.cur
	if req.tid != threadAny && req.tid != threadAll {
		if v, ok = s.srv.vcpuOfThread(req.tid); !ok {
			return errSrch
		}
	}
	if req.op == 'g' {
		s.gVCPU = v
		return replyOK()
	}
	s.cVCPU = v
	if req.tid == threadAll {
		s.cVCPU = -1
	}
	return replyOK()
}

func cmdThreadAlive(s *session, arg []byte) reply {
	tid, ok := parseThreadID(arg)
	if !ok {
		return errInval
	}
	if _, ok := s.srv.vcpuOfThread(tid); !ok {
		return errSrch
	}
	return replyOK()
}
