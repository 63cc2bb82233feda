package gdbstub

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// seedPackets are what gdb sends in a session, and some near misses.
var seedPackets = []string{
	"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vContSupported+;xmlRegisters=i386",
	"vMustReplyEmpty", "QStartNoAckMode", "Hg0", "Hgp1.2", "Hc-1", "qXfer:features:read:target.xml:0,ffb",
	"qXfer:features:read:64bit-core.xml:100,200", "qTStatus", "?", "qfThreadInfo", "qsThreadInfo", "qAttached",
	"qC", "g", "G" + strings.Repeat("00", 800), "p10", "P10=0020000000000000", "P11=02020000",
	"m1000,10", "M3000,4:01020304", "X3000,4:}\x03}]*a", "X3000,0:", "Z0,1010,1", "Z1,1020,1", "Z2,2000,2",
	"Z3,2000,8", "Z4,2000,4", "z0,1010,1", "z1,1020,1", "z2,2000,2", "vCont?", "vCont;c", "vCont;s:1;c",
	"vCont;s:2", "vCont;C05:1", "c", "c1005", "s", "s1000", "C05;1000", "S05", "T1", "T2",
	"qThreadExtraInfo,1", "qRcmd," + hexOf("help"), "qRcmd," + hexOf("regs"), "qRcmd," + hexOf("phys 0x1000 64"),
	"qRcmd," + hexOf("exits"), "qRcmd," + hexOf("probe"), "qRcmd," + hexOf("step-irq on"), "qRcmd," + hexOf("code 4"),
	"D", "D;1", "k", "vKill;1", "qOffsets", "qSymbol::", "",
}

var (
	errorReply = regexp.MustCompile(`^E([0-9]{2}|\.[ -~]+)$`)
	stopReply  = regexp.MustCompile(`^(T[0-9a-f]{2}thread:[0-9a-f]+;((swbreak|hwbreak):;|(watch|rwatch|awatch):[0-9a-f]+;)?|[WX][0-9a-f]{2})$`)
)

// checkReply says whether a reply is well-formed: printable, framed and
// unframed back to itself, within the packet size, errors as E NN or
// E.text, stop replies in their syntax.
func checkReply(pkt string, r reply, data []byte, max int) error {
	for _, c := range data {
		if (c < 0x20 || c > 0x7e) && c != '\n' {
			return fmt.Errorf("reply %q has byte %#x", data, c)
		}
	}
	if len(data) > max+1 {
		return fmt.Errorf("reply of %d bytes, packet size %d", len(data), max)
	}
	d := NewDecoder(bytes.NewReader(AppendPacket(nil, data)), 4*max)
	f, err := d.Next()
	if err != nil || f.Kind != FramePacket {
		return fmt.Errorf("reply %q does not frame: %v", data, err)
	}
	if back, err := Unescape(nil, f.Data); err != nil || !bytes.Equal(back, data) {
		return fmt.Errorf("reply %q comes back as %q", data, back)
	}
	if len(data) > 0 && data[0] == 'E' && !errorReply.Match(data) {
		return fmt.Errorf("bad error reply %q", data)
	}
	if r.act == actWait || r.act == actExit {
		if !stopReply.Match(data) {
			return fmt.Errorf("bad stop reply %q", data)
		}
	}
	return nil
}

// FuzzDispatch runs random packets (one per line) against the fake
// target: the dispatcher never panics, every reply is well-formed, the
// target's contract holds (no Resume while running, no register writes
// while running).
func FuzzDispatch(f *testing.F) {
	for _, p := range seedPackets {
		f.Add([]byte(p))
	}
	f.Add([]byte("Z0,1002,1\nvCont;c\nz0,1002,1\ns\ng"))
	f.Add([]byte("Z2,2000,2\nM1003,1:00\nc\n?"))
	f.Add([]byte("Hg2\nP10=0030000000000000\nHc2\ns\nqC"))
	f.Fuzz(func(t *testing.T, in []byte) {
		h := newHarness(t, 2)
		h.f.effects[0x1004] = func(f *fakeTarget) { f.mem[0x2000]++ }
		h.f.exitAt[0x1100] = 3
		for _, pkt := range bytes.Split(in, []byte("\n")) {
			h.console = nil
			r := h.s.dispatch(pkt)
			data := r.data
			if r.act == actWait {
				if !h.srv.running {
					t.Fatalf("%q: waits for a stop but nothing runs", pkt)
				}
				h.f.Halt()
				ev, err := h.f.waitStop()
				if err != nil {
					t.Fatalf("%q: %v", pkt, err)
				}
				data = []byte(h.stopped(ev))
			}
			if r.act != actKill && data == nil {
				t.Fatalf("%q: no reply", pkt)
			}
			if err := checkReply(string(pkt), r, data, h.srv.packetMax); err != nil {
				t.Fatalf("%q: %v", pkt, err)
			}
			for _, o := range h.console {
				if 1+2*len(o) > h.srv.packetMax {
					t.Fatalf("%q: O packet too long", pkt)
				}
			}
			if h.srv.exited != nil || r.act == actKill || r.act == actDetach {
				break
			}
		}
		h.f.mu.Lock()
		defer h.f.mu.Unlock()
		if len(h.f.violations) > 0 {
			t.Fatalf("target contract violated: %v", h.f.violations)
		}
	})
}

// FuzzParsers feeds every packet parser the same bytes: none panics, and
// what they accept is consistent.
func FuzzParsers(f *testing.F) {
	for _, p := range seedPackets {
		f.Add([]byte(p))
		if len(p) > 1 {
			f.Add([]byte(p[1:]))
		}
	}
	f.Add([]byte("s:1;c:p1.-1;S05:2"))
	f.Add([]byte("0,ffffffffffffffff,8"))
	f.Add([]byte("target.xml:0,fff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if acts, ok := parseVCont(b); ok {
			if len(acts) == 0 {
				t.Fatal("vCont accepted without actions")
			}
			var re []string
			for _, a := range acts {
				if a.op != 'c' && a.op != 's' {
					t.Fatalf("vCont action %q", a.op)
				}
				s := string(a.op)
				if a.tid != threadAll {
					s += ":" + fmt.Sprintf("%x", a.tid)
				}
				re = append(re, s)
			}
			again, ok := parseVCont([]byte(strings.Join(re, ";")))
			if !ok || len(again) != len(acts) {
				t.Fatalf("vCont %q re-formatted as %q does not parse the same", b, re)
			}
			for i := range acts {
				if again[i] != acts[i] {
					t.Fatalf("vCont %q: %v became %v", b, acts[i], again[i])
				}
			}
			resolveVCont(acts, []int{0, 1, 2})
		}
		if bp, ok := parseBreakpoint(b); ok && (bp.typ < '0' || bp.typ > '4') {
			t.Fatalf("breakpoint type %q", bp.typ)
		}
		if tid, ok := parseThreadID(b); ok && tid < threadAll {
			t.Fatalf("thread id %d", tid)
		}
		if st, ok := parseSetThread(b); ok && st.op != 'g' && st.op != 'c' {
			t.Fatalf("H op %q", st.op)
		}
		parseMemRange(b)
		for _, binary := range []bool{false, true} {
			if w, ok := parseMemWrite(b, binary); ok && uint64(len(w.data)) != w.len {
				t.Fatalf("memory write of %d bytes says %d", len(w.data), w.len)
			}
		}
		parseXferRead(b)
		if w, ok := parseRegWrite(b); ok && (w.n >= len(registers) || len(w.value) != registers[w.n].size()) {
			t.Fatalf("register write %+v", w)
		}
		for _, sig := range []bool{false, true} {
			parseResumeAddr(b, sig)
		}
		parseSupported(b)
		parseMonitor(string(b))
		if out, err := expandRunLength(nil, b, 512); err == nil && len(out) > 512 {
			t.Fatalf("run-length output %d > 512", len(out))
		}
		Unescape(nil, b)
		decodeHex(b)
		parseHexUint(b)
	})
}
