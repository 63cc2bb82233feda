package gdbstub

import (
	"bytes"
	"fmt"
)

// Connection setup: qSupported, QStartNoAckMode, qAttached.

// supportedRequest is what gdb announces in qSupported.
type supportedRequest struct {
	features map[string]string // "swbreak" -> "+", "xmlRegisters" -> "i386"...
}

// parseSupported reads "qSupported[:feature;feature...]" after its name.
func parseSupported(arg []byte) (supportedRequest, bool) {
	req := supportedRequest{features: map[string]string{}}
	if len(arg) == 0 {
		return req, true
	}
	if arg[0] != ':' {
		return req, false
	}
	for _, f := range bytes.Split(arg[1:], []byte(";")) {
		if len(f) == 0 {
			continue
		}
		if i := bytes.IndexByte(f, '='); i >= 0 {
			req.features[string(f[:i])] = string(f[i+1:])
			continue
		}
		last := f[len(f)-1]
		if last == '+' || last == '-' || last == '?' {
			req.features[string(f[:len(f)-1])] = string(last)
			continue
		}
		req.features[string(f)] = ""
	}
	return req, true
}

func cmdSupported(s *session, arg []byte) reply {
	req, ok := parseSupported(arg)
	if !ok {
		return replyEmpty()
	}
	s.swbreak = req.features["swbreak"] == "+"
	s.hwbreak = req.features["hwbreak"] == "+"
	return replyString(fmt.Sprintf("PacketSize=%x;qXfer:features:read+;vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+", s.srv.packetMax))
}

// cmdStartNoAck agrees to stop acknowledging; the connection's reader
// already stopped after acknowledging this packet.
func cmdStartNoAck(s *session, arg []byte) reply { return replyOK() }

// cmdAttached: we always attached to an existing machine (gdb detaches
// rather than kills when it quits).
func cmdAttached(s *session, arg []byte) reply { return replyString("1") }
