package gdbstub

import (
	"bytes"
)

// qXfer:features:read:ANNEX:OFFSET,LENGTH — the target description.

type xferRead struct {
	annex       string
	offset, len uint64
}

// parseXferRead reads "ANNEX:OFFSET,LENGTH".
func parseXferRead(arg []byte) (xferRead, bool) {
	i := bytes.LastIndexByte(arg, ':')
	if i < 0 {
		return xferRead{}, false
	}
	off, length, ok := bytes.Cut(arg[i+1:], []byte(","))
	if !ok {
		return xferRead{}, false
	}
	o, ok1 := parseHexUint(off)
	n, ok2 := parseHexUint(length)
	if !ok1 || !ok2 {
		return xferRead{}, false
	}
	return xferRead{annex: string(arg[:i]), offset: o, len: n}, true
}

func cmdXferFeatures(s *session, arg []byte) reply {
	req, ok := parseXferRead(arg)
	if !ok {
		return errInval
	}
	doc, ok := descFiles[req.annex]
	if !ok {
		return replyString("E00") // "unknown annex", as the protocol says
	}
	return replyData(xferChunk(doc, req.offset, req.len, s.srv.packetMax))
}

// xferChunk answers one qXfer read: 'm' and data when more follows, 'l'
// and data (possibly none) at the end. The reply is escaped when framed,
// so the length is bounded to leave room for escapes.
func xferChunk(doc string, off, n uint64, max int) []byte {
	if off >= uint64(len(doc)) {
		return []byte("l")
	}
	n = min(n, uint64(max/2), uint64(len(doc))-off)
	if n == 0 {
		return []byte("m")
	}
	end := off + n
	kind := byte('m')
	if end >= uint64(len(doc)) {
		kind = 'l'
	}
	return append([]byte{kind}, doc[off:end]...)
}
