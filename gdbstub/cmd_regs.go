package gdbstub

import (
	"bytes"
	"syscall"

	"github.com/kvmscope/kvmscope/debug"
)

// Registers: g, G, p, P, on the Hg vCPU, in the register table's layout.

// regs reads the Hg vCPU's registers, or says why not.
func (s *session) regs() (*debug.Registers, reply, bool) {
	if s.srv.running {
		return nil, replyErrno(syscall.EBUSY), false
	}
	r, err := s.srv.t.Registers(s.gVCPU)
	if err != nil || r == nil {
		return nil, replyErr(err, syscall.EIO), false
	}
	c := *r // never change the target's copy behind its back
	return &c, reply{}, true
}

func (s *session) setRegs(r *debug.Registers) reply {
	if err := s.srv.t.SetRegisters(s.gVCPU, r); err != nil {
		return replyErr(err, syscall.EIO)
	}
	return replyOK()
}

func cmdReadRegs(s *session, arg []byte) reply {
	r, bad, ok := s.regs()
	if !ok {
		return bad
	}
	return replyData(encodeRegs(make([]byte, 0, 2*regsSize), r))
}

func cmdWriteRegs(s *session, arg []byte) reply {
	raw, ok := decodeHex(arg)
	if !ok || len(raw) != regsSize {
		return errInval
	}
	r, bad, ok := s.regs()
	if !ok {
		return bad
	}
	decodeRegs(r, raw)
	return s.setRegs(r)
}

// regWrite is "P n=value".
type regWrite struct {
	n     int
	value []byte
}

func parseRegNum(b []byte) (int, bool) {
	n, ok := parseHexUint(b)
	if !ok || n >= uint64(len(registers)) {
		return 0, false
	}
	return int(n), true
}

func parseRegWrite(arg []byte) (regWrite, bool) {
	num, val, ok := bytes.Cut(arg, []byte("="))
	if !ok {
		return regWrite{}, false
	}
	n, ok := parseRegNum(num)
	if !ok {
		return regWrite{}, false
	}
	v, ok := decodeHex(val)
	if !ok || len(v) != registers[n].size() {
		return regWrite{}, false
	}
	return regWrite{n: n, value: v}, true
}

func cmdReadReg(s *session, arg []byte) reply {
	n, ok := parseRegNum(arg)
	if !ok {
		return errInval
	}
	r, bad, ok := s.regs()
	if !ok {
		return bad
	}
	var b [16]byte
	g := &registers[n]
	g.get(r, b[:g.size()])
	return replyData(appendHex(nil, b[:g.size()]))
}

func cmdWriteReg(s *session, arg []byte) reply {
	req, ok := parseRegWrite(arg)
	if !ok {
		return errInval
	}
	r, bad, ok := s.regs()
	if !ok {
		return bad
	}
	registers[req.n].set(r, req.value)
	return s.setRegs(r)
}
