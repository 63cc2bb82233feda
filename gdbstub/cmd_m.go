package gdbstub

import (
	"bytes"
	"syscall"
)

// Memory: m, M, X, at linear addresses of the Hg vCPU's current mode.

// memRange is "ADDR,LENGTH".
type memRange struct {
	addr, len uint64
}

func parseMemRange(b []byte) (memRange, bool) {
	a, l, ok := bytes.Cut(b, []byte(","))
	if !ok {
		return memRange{}, false
	}
	addr, ok1 := parseHexUint(a)
	n, ok2 := parseHexUint(l)
	return memRange{addr: addr, len: n}, ok1 && ok2
}

// memWrite is "ADDR,LENGTH:DATA" (DATA hex for M, escaped binary for X).
type memWrite struct {
	memRange
	data []byte
}

func parseMemWrite(arg []byte, binary bool) (memWrite, bool) {
	head, data, ok := bytes.Cut(arg, []byte(":"))
	if !ok {
		return memWrite{}, false
	}
	r, ok := parseMemRange(head)
	if !ok {
		return memWrite{}, false
	}
	var b []byte
	if binary {
		var err error
		if b, err = Unescape(nil, data); err != nil {
			return memWrite{}, false
		}
	} else if b, ok = decodeHex(data); !ok {
		return memWrite{}, false
	}
	if uint64(len(b)) != r.len {
		return memWrite{}, false
	}
	return memWrite{memRange: r, data: b}, true
}

func cmdReadMem(s *session, arg []byte) reply {
	req, ok := parseMemRange(arg)
	if !ok || req.len == 0 {
		return errInval // an empty reply would mean "m is not supported"
	}
	// The reply is hex: two characters a byte.
	n := min(req.len, uint64(s.srv.packetMax/2))
	buf := make([]byte, n)
	got, err := s.srv.t.ReadVirtual(s.gVCPU, req.addr, buf)
	got = max(0, min(got, len(buf)))
	if got == 0 {
		if err == nil {
			return errFault
		}
		return replyErr(err, syscall.EFAULT)
	}
	return replyData(appendHex(nil, buf[:got])) // a short read is a partial reply
}

func (s *session) writeMem(req memWrite) reply {
	if s.srv.running {
		return replyErrno(syscall.EBUSY)
	}
	if len(req.data) == 0 {
		return replyOK() // gdb probes X support with a zero-length write
	}
	n, err := s.srv.t.WriteVirtual(s.gVCPU, req.addr, req.data)
	if err != nil || n != len(req.data) {
		return replyErr(err, syscall.EFAULT)
	}
	return replyOK()
}

func cmdWriteMem(s *session, arg []byte) reply {
	req, ok := parseMemWrite(arg, false)
	if !ok {
		return errInval
	}
	return s.writeMem(req)
}

func cmdWriteMemBinary(s *session, arg []byte) reply {
	req, ok := parseMemWrite(arg, true)
	if !ok {
		return errInval
	}
	return s.writeMem(req)
}
