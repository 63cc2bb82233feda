package gdbstub

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/vmm"
)

// harness runs packets through the dispatcher against a fake target,
// without a connection; a resume waits for the fake's stop as the server
// would.
type harness struct {
	t       testing.TB
	f       *fakeTarget
	srv     *server
	s       *session
	console []string // O packets, decoded
	act     action   // the last reply's action
}

func newHarness(t testing.TB, n int) *harness {
	f := newFake(n)
	h := &harness{t: t, f: f, srv: newServer(f, Options{})}
	h.s = h.srv.newSession(func(b []byte) error {
		if len(b) > 0 && b[0] == 'O' {
			text, _ := hex.DecodeString(string(b[1:]))
			h.console = append(h.console, string(text))
		}
		return nil
	})
	h.s.swbreak, h.s.hwbreak = true, true
	return h
}

// do sends one packet and returns the reply (for a resume: the stop
// reply).
func (h *harness) do(pkt string) string {
	h.t.Helper()
	r := h.s.dispatch([]byte(pkt))
	h.act = r.act
	if r.act != actWait {
		return string(r.data)
	}
	ev, err := h.f.waitStop()
	if err != nil {
		h.t.Fatalf("%s: %v", pkt, err)
	}
	return h.stopped(ev)
}

// stopped handles a stop event as the server does.
func (h *harness) stopped(ev debug.StopEvent) string {
	h.srv.running = false
	if ev.Kind == debug.StopExited {
		h.srv.exited = &ev
		return string(exitReply(&ev))
	}
	return string(h.s.stopReply(&ev))
}

// doHalting sends a resume and halts the machine once the vCPU spins.
func (h *harness) doHalting(pkt string) string {
	h.t.Helper()
	r := h.s.dispatch([]byte(pkt))
	if r.act != actWait {
		return string(r.data)
	}
	<-h.f.spinning
	h.f.Halt()
	ev, err := h.f.waitStop()
	if err != nil {
		h.t.Fatal(err)
	}
	return h.stopped(ev)
}

func (h *harness) expect(pkt, want string) {
	h.t.Helper()
	if got := h.do(pkt); got != want {
		h.t.Errorf("%q -> %q, want %q", pkt, got, want)
	}
}

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }

func TestSupported(t *testing.T) {
	h := newHarness(t, 1)
	h.s.swbreak, h.s.hwbreak = false, false
	got := h.do("qSupported:multiprocess+;swbreak+;hwbreak-;xmlRegisters=i386")
	for _, want := range []string{"PacketSize=4000", "qXfer:features:read+", "vContSupported+", "swbreak+", "hwbreak+", "QStartNoAckMode+"} {
		if !strings.Contains(got, want) {
			t.Errorf("qSupported reply %q lacks %q", got, want)
		}
	}
	if !h.s.swbreak || h.s.hwbreak {
		t.Errorf("swbreak %v hwbreak %v, want true false", h.s.swbreak, h.s.hwbreak)
	}
	h.expect("qSupported", got)
	h.expect("QStartNoAckMode", "OK")
	h.expect("qAttached", "1")
	h.expect("qAttached:1", "1")
	h.expect("vMustReplyEmpty", "")
	h.expect("qTStatus", "")
	h.expect("qC1", "") // not qC
}

func TestXferFeatures(t *testing.T) {
	h := newHarness(t, 1)
	for name, doc := range descFiles {
		var got []byte
		for off := 0; ; {
			r := h.do(fmt.Sprintf("qXfer:features:read:%s:%x,%x", name, off, 100))
			if r == "" || (r[0] != 'm' && r[0] != 'l') {
				t.Fatalf("%s at %d: %q", name, off, r)
			}
			got = append(got, r[1:]...)
			off += len(r) - 1
			if r[0] == 'l' {
				break
			}
		}
		if string(got) != doc {
			t.Errorf("%s reassembled differs", name)
		}
	}
	h.expect("qXfer:features:read:target.xml:100000,10", "l")
	h.expect("qXfer:features:read:nosuch.xml:0,10", "E00")
	h.expect("qXfer:features:read:target.xml:0", "E22")
	h.expect("qXfer:features:read:target.xml:zz,10", "E22")
}

func TestHaltReason(t *testing.T) {
	h := newHarness(t, 2)
	h.expect("?", "T05thread:1;")
	h.expect("Hg2", "OK")
	h.expect("?", "T05thread:1;")
}

func TestThreads(t *testing.T) {
	h := newHarness(t, 3)
	h.expect("qfThreadInfo", "m1,2,3")
	h.expect("qsThreadInfo", "l")
	h.expect("qC", "QC1")
	h.expect("T1", "OK")
	h.expect("T3", "OK")
	h.expect("T4", "E03")
	h.expect("T0", "E03")
	h.expect("Tzz", "E22")
	h.expect("qThreadExtraInfo,2", hexOf("vCPU 1, 64-bit long mode"))
	h.expect("qThreadExtraInfo,9", "E03")
	h.f.setReal(2, 0xf000, 0xfff0)
	h.expect("qThreadExtraInfo,3", hexOf("vCPU 2, real mode"))
	h.expect("qThreadExtraInfo,p1.3", hexOf("vCPU 2, real mode"))

	// Hg selects the vCPU of g, p, m...
	h.expect("Hg2", "OK")
	h.expect("p10", "0050000000000000") // rip of vCPU 1
	h.expect("Hg0", "OK")               // any: the current one (vCPU 0)
	h.expect("p10", "0010000000000000")
	h.expect("Hg-1", "OK")
	h.expect("Hg7", "E03")
	h.expect("Hx1", "E22")
	h.expect("H", "E22")
	h.expect("Hc2", "OK")
	if h.s.cVCPU != 1 {
		t.Errorf("Hc2: cVCPU %d", h.s.cVCPU)
	}
	h.expect("Hc-1", "OK")
	if h.s.cVCPU != -1 {
		t.Errorf("Hc-1: cVCPU %d", h.s.cVCPU)
	}
}

func TestReadWriteRegs(t *testing.T) {
	h := newHarness(t, 1)
	g := h.do("g")
	if len(g) != 2*regsSize {
		t.Fatalf("g reply has %d hex digits, want %d", len(g), 2*regsSize)
	}
	before := h.f.regs[0]
	// G with the same content changes nothing.
	h.expect("G"+g, "OK")
	if h.f.regs[0] != before {
		t.Error("G with g's own content changed registers")
	}
	h.expect("G"+g[:len(g)-2], "E22")
	h.expect("G"+g[:len(g)-1]+"z", "E22")

	// Every register reads (p) the same as its slice of g, and P writes it.
	off := 0
	for n := range registers {
		size := 2 * registers[n].size()
		want := g[off : off+size]
		off += size
		h.expect(fmt.Sprintf("p%x", n), want)
	}
	h.expect(fmt.Sprintf("p%x", len(registers)), "E22")
	h.expect("p", "E22")

	h.expect("P0=1122334455667788", "OK")
	if h.f.regs[0].Regs.RAX != 0x8877665544332211 {
		t.Errorf("P rax: %#x", h.f.regs[0].Regs.RAX)
	}
	h.expect("P0=11", "E22")
	h.expect("P0", "E22")
	h.expect(fmt.Sprintf("P%x=00000000", regNumber("cr0")), "E22") // cr0 is 64 bits

	// eflags is the low half of RFLAGS; the upper half stays.
	h.f.regs[0].Regs.RFLAGS = 0xdead_0000_0000_0202
	h.expect(fmt.Sprintf("P%x=46020000", regNumber("eflags")), "OK")
	if got := h.f.regs[0].Regs.RFLAGS; got != 0xdead_0000_0000_0246 {
		t.Errorf("rflags %#x", got)
	}

	// Whole-table checks: a register set through G reads back.
	raw, _ := hex.DecodeString(g)
	for i := range raw {
		raw[i] = byte(i)
	}
	h.expect("G"+hex.EncodeToString(raw), "OK")
	g2 := h.do("g")
	raw2, _ := hex.DecodeString(g2)
	// Values the register map cannot hold (selector bits 16-31, ftag's
	// detail, the attribute gaps...) come back normalized; compare a few
	// full-width ones.
	for _, name := range []string{"rax", "r15", "fs_base", "cr3", "dr7", "gdtr_base", "xmm15", "st7", "mxcsr"} {
		n := regNumber(name)
		o := regOffset(n)
		sz := registers[n].size()
		if !bytes.Equal(raw[o:o+sz], raw2[o:o+sz]) {
			t.Errorf("%s: wrote %x, read %x", name, raw[o:o+sz], raw2[o:o+sz])
		}
	}
}

func regOffset(n int) int {
	o := 0
	for i := range n {
		o += registers[i].size()
	}
	return o
}

// TestRealModePC: in real mode gdb's rip is CS.base + IP, and writing it
// stores IP = value - CS.base.
func TestRealModePC(t *testing.T) {
	h := newHarness(t, 1)
	h.f.setReal(0, 0x07c0, 0x0010)
	h.expect("p10", "107c000000000000") // 0x7c10
	h.expect("P10=007d000000000000", "OK")
	if r := h.f.regs[0]; r.Regs.RIP != 0x100 || r.Sregs.CS.Base != 0x7c00 {
		t.Errorf("after P rip=0x7d00: IP %#x CS.base %#x", r.Regs.RIP, r.Sregs.CS.Base)
	}
	// A new CS selector in real mode loads the base; IP stays.
	h.expect(fmt.Sprintf("P%x=00100000", regNumber("cs")), "OK")
	if r := h.f.regs[0]; r.Sregs.CS.Base != 0x10000 || r.Sregs.CS.Selector != 0x1000 || r.Regs.RIP != 0x100 {
		t.Errorf("after P cs=0x1000: %+v rip %#x", r.Sregs.CS, r.Regs.RIP)
	}
	// The reset state: CS f000 with base ffff0000; rewriting the same
	// selector (G does) keeps the base.
	h.f.setReal(0, 0xf000, 0xfff0)
	h.f.regs[0].Sregs.CS.Base = 0xffff0000
	h.expect("p10", "f0ffffff00000000")
	h.expect("G"+h.do("g"), "OK")
	if h.f.regs[0].Sregs.CS.Base != 0xffff0000 {
		t.Error("G with unchanged cs reloaded the base")
	}
	// c with an address moves IP to reach it from CS.
	h.f.setReal(0, 0x0100, 0)
	h.f.exitAt[0x1005] = 0
	h.expect("c1003", "W00")
	if ip := h.f.regs[0].Regs.RIP; ip != 5 {
		t.Errorf("IP %#x after c1003 to the exit at 0x1005", ip)
	}
}

func TestFPUTag(t *testing.T) {
	var r debug.Registers
	r.FPU.FSW = 6 << 11 // TOP = 6
	r.FPU.FTWX = 1<<6 | 1<<7
	// ST(0) is physical 6: 1.0 (valid); ST(1) is physical 7: zero.
	copy(r.FPU.FPR[0][:], []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f})
	tag := fullTag(&r.FPU)
	if want := uint16(0x4fff); tag != want { // phys 7 zero (01), phys 6 valid (00), others empty (11)
		t.Errorf("tag %#04x, want %#04x", tag, want)
	}
	if a := abridgedTag(tag); a != 0xc0 {
		t.Errorf("abridged %#x", a)
	}
}

func TestMemory(t *testing.T) {
	h := newHarness(t, 1)
	copy(h.f.mem[0x3000:], "\xde\xad\xbe\xef")
	h.expect("m3000,4", "deadbeef")
	h.expect("m3000,0", "E22")
	h.expect(fmt.Sprintf("m%x,4", fakeMemSize-2), "9090") // partial
	h.expect(fmt.Sprintf("m%x,4", fakeMemSize), "E14")
	h.expect("mffffffffffffffff,1", "E14")
	h.expect("m3000", "E22")
	h.expect("m,4", "E22")
	// Huge lengths are clipped to what one reply holds.
	if r := h.do("m0,ffffffff"); len(r) != h.srv.packetMax {
		t.Errorf("m0,ffffffff: %d hex digits", len(r))
	}

	h.expect("M3000,2:0102", "OK")
	h.expect("m3000,4", "0102beef")
	h.expect("M3000,2:01", "E22")
	h.expect("M3000,2:zzzz", "E22")
	h.expect(fmt.Sprintf("M%x,1:00", fakeMemSize), "E14")

	// X carries escaped binary: '}' then byte^0x20.
	h.expect("X3000,0:", "OK")
	h.expect("X3000,4:}\x03}\x04+}]", "OK")
	h.expect("m3000,4", "23242b7d")
	h.expect("X3000,2:}", "E22")
}

func TestBreakpoints(t *testing.T) {
	h := newHarness(t, 1)
	h.expect("Z0,1010,1", "OK")
	h.expect("Z1,1020,1", "OK")
	h.expect("Z2,2000,2", "OK")
	h.expect("Z3,2008,8", "OK")
	h.expect("Z4,2010,4", "OK")
	h.expect("Z0,1010,1", "OK") // twice: fine
	want := map[fakeBP]bool{{debug.BreakSoftware, 0x1010}: true, {debug.BreakHardware, 0x1020}: true}
	if !mapsEqual(h.f.bps, want) {
		t.Errorf("breakpoints %v", h.f.bps)
	}
	wantW := map[fakeWP]bool{{debug.WatchWrite, 0x2000, 2}: true, {debug.WatchRead, 0x2008, 8}: true, {debug.WatchAccess, 0x2010, 4}: true}
	if !mapsEqual(h.f.wps, wantW) {
		t.Errorf("watchpoints %v", h.f.wps)
	}
	h.expect("Z1,1030,1", "E28") // the fake's 4 debug registers are taken: ENOSPC
	h.expect("Z2,2001,2", "E22") // the fake refuses unaligned
	h.expect("Z2,2000,3", "E22") // not 1, 2, 4, 8
	h.expect("Z5,2000,1", "E22")
	h.expect("Z0,1010", "E22")
	h.expect("Z0,1010,1;X1,0", "OK") // conditions are ignored

	h.expect("z0,1010,1", "OK")
	h.expect("z0,1010,1", "OK") // gone already
	h.expect("z2,2000,2", "OK")
	h.expect("z9", "E22")
	if len(h.f.bps) != 1 || len(h.f.wps) != 2 {
		t.Errorf("after z: %v %v", h.f.bps, h.f.wps)
	}
	h.f.noWatch = map[debug.WatchKind]bool{debug.WatchRead: true}
	h.expect("Z3,3000,4", "") // unsupported: gdb then knows
	h.srv.clearBreakpoints()
	if len(h.f.bps) != 0 || len(h.f.wps) != 0 || len(h.srv.bps) != 0 {
		t.Errorf("after clearBreakpoints: %v %v %v", h.f.bps, h.f.wps, h.srv.bps)
	}
}

func mapsEqual[K comparable](a, b map[K]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestStopReplies(t *testing.T) {
	h := newHarness(t, 2)
	h.f.effects[0x1004] = func(f *fakeTarget) { f.mem[0x2000] = 1 }
	h.expect("Z0,1002,1", "OK")
	h.expect("vCont;c", "T05thread:1;swbreak:;")
	h.expect("z0,1002,1", "OK")
	h.expect("Z1,1003,1", "OK")
	h.expect("c", "T05thread:1;hwbreak:;")
	h.expect("z1,1003,1", "OK")
	h.expect("Z2,2000,1", "OK")
	h.expect("c", "T05thread:1;watch:2000;")
	h.expect("z2,2000,1", "OK")
	h.expect("Z4,2000,1", "OK")
	h.f.effects[0x1005] = func(f *fakeTarget) { f.mem[0x2000] = 2 }
	h.expect("c", "T05thread:1;awatch:2000;")
	h.expect("z4,2000,1", "OK")
	// Without swbreak+ from gdb, no swbreak reason.
	h.s.swbreak = false
	h.expect("Z0,1008,1", "OK")
	h.expect("c", "T05thread:1;")

	// A stop on vCPU 1 makes it current.
	if got := h.stopped(debug.StopEvent{Kind: debug.StopBreakpoint, VCPU: 1, Addr: 0x5000}); got != "T05thread:2;" {
		t.Errorf("stop on vCPU 1: %q", got)
	}
	if h.s.cur != 1 || h.s.gVCPU != 1 {
		t.Errorf("current %d, Hg %d after a stop on vCPU 1", h.s.cur, h.s.gVCPU)
	}
	h.expect("qC", "QC2")
	h.expect("?", "T05thread:2;")
	if got := h.stopped(debug.StopEvent{Kind: debug.StopWatchpoint, VCPU: 0, Addr: 0x10, Watch: debug.WatchRead}); got != "T05thread:1;rwatch:10;" {
		t.Errorf("read watchpoint: %q", got)
	}
	if got := h.stopped(debug.StopEvent{Kind: debug.StopRequested, VCPU: 7}); got != "T02thread:1;" {
		t.Errorf("requested stop, unknown vCPU: %q", got)
	}

	for _, tc := range []struct {
		m    *vmm.Stop
		want string
	}{
		{&vmm.Stop{Kind: vmm.StopGuestExit, Status: 0x2a}, "W2a"},
		{&vmm.Stop{Kind: vmm.StopPowerOff}, "W00"},
		{&vmm.Stop{Kind: vmm.StopFault}, "X0b"},
		{&vmm.Stop{Kind: vmm.StopReset}, "X20"},
		{&vmm.Stop{Kind: vmm.StopTimeout}, "X0e"},
		{&vmm.Stop{Kind: vmm.StopCanceled}, "X09"},
		{&vmm.Stop{Kind: vmm.StopError}, "X06"},
		{nil, "X09"},
	} {
		if got := string(exitReply(&debug.StopEvent{Kind: debug.StopExited, Machine: tc.m})); got != tc.want {
			t.Errorf("exit %v: %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestVCont(t *testing.T) {
	h := newHarness(t, 2)
	h.expect("vCont?", "vCont;c;C;s;S")
	for _, tc := range []struct {
		pkt  string
		want []debug.Resume
		halt bool // nothing steps: halt the machine once it spins
	}{
		{"vCont;s:2;c", plan(debug.ActionContinue, debug.ActionStep), false},
		{"vCont;s:2", plan(debug.ActionStay, debug.ActionStep), false},
		{"vCont;s:1", plan(debug.ActionStep, debug.ActionStay), false},
		{"vCont;c:2;s:2", plan(debug.ActionStay, debug.ActionContinue), true},   // leftmost wins
		{"vCont;c;s:1", plan(debug.ActionContinue, debug.ActionContinue), true}, // leftmost wins
		{"vCont;S05:p1.1;C02", plan(debug.ActionStep, debug.ActionContinue), false},
		{"vCont;s:1;c:-1", plan(debug.ActionStep, debug.ActionContinue), false},
	} {
		h.f.mu.Lock()
		n := len(h.f.resumes)
		h.f.mu.Unlock()
		do := h.do
		if tc.halt {
			do = h.doHalting
		}
		if r := do(tc.pkt); !strings.HasPrefix(r, "T") {
			t.Errorf("%s: reply %q", tc.pkt, r)
		}
		h.f.mu.Lock()
		got := h.f.resumes[n]
		h.f.mu.Unlock()
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: resume %v, want %v", tc.pkt, got, tc.want)
		}
	}
	h.expect("vCont;c:5", "E22") // no such thread: nothing would run
	h.expect("vCont;t", "E22")
	h.expect("vCont;r1000,2000", "E22")
	h.expect("vCont;", "E22")
	h.expect("vCont;C5", "E22")
	h.expect("vCont;c:zz", "E22")
}

// plan is the per-vCPU resume list the stub builds for two vCPUs.
func plan(a0, a1 debug.Action) []debug.Resume {
	return []debug.Resume{{VCPU: 0, Action: a0}, {VCPU: 1, Action: a1}}
}

func TestLegacyResume(t *testing.T) {
	h := newHarness(t, 2)
	h.expect("s", "T05thread:1;")
	if rip := h.f.regs[0].Regs.RIP; rip != 0x1001 {
		t.Errorf("rip %#x after s", rip)
	}
	h.expect("s2000", "T05thread:1;")
	if rip := h.f.regs[0].Regs.RIP; rip != 0x2001 {
		t.Errorf("rip %#x after s2000", rip)
	}
	h.expect("S05;3000", "T05thread:1;")
	if rip := h.f.regs[0].Regs.RIP; rip != 0x3001 {
		t.Errorf("rip %#x after S05;3000", rip)
	}
	h.expect("Hc2", "OK")
	h.expect("s", "T05thread:2;") // steps vCPU 1 (spinning: rip stays)
	h.f.mu.Lock()
	last := h.f.resumes[len(h.f.resumes)-1]
	h.f.mu.Unlock()
	if !slices.Equal(last, plan(debug.ActionStay, debug.ActionStep)) {
		t.Errorf("s with Hc2: %v", last)
	}
	h.expect("Hc-1", "OK")
	h.f.exitAt[0x4000] = 3
	h.expect("c4000", "W03")
	if h.srv.exited == nil {
		t.Error("the exit was not recorded")
	}
	// After the end, every resume and ? report the end again.
	h.expect("c", "W03")
	if h.act != actExit {
		t.Errorf("c after the end: action %v", h.act)
	}
	h.expect("?", "W03")
	h.expect("vCont;c", "W03")
	h.expect("czz", "E22")
	h.expect("C", "E22")
	h.expect("C05x", "E22")
}

func TestDetachKill(t *testing.T) {
	h := newHarness(t, 1)
	h.expect("D", "OK")
	if h.act != actDetach {
		t.Errorf("D: action %v", h.act)
	}
	h.expect("D;1", "OK")
	h.expect("k", "")
	if h.act != actKill {
		t.Errorf("k: action %v", h.act)
	}
	h.expect("vKill;1", "OK")
	if h.act != actKill {
		t.Errorf("vKill: action %v", h.act)
	}
	h.expect("kx", "") // not k: unknown
}

func (h *harness) monitor(cmd string) string {
	h.t.Helper()
	h.console = nil
	if r := h.do("qRcmd," + hexOf(cmd)); r != "OK" {
		h.t.Errorf("monitor %s: reply %q", cmd, r)
	}
	return strings.Join(h.console, "")
}

func TestMonitor(t *testing.T) {
	h := newHarness(t, 1)
	for _, c := range []string{"help", ""} {
		out := h.monitor(c)
		for _, name := range []string{"regs", "phys ADDR LEN", "exits", "probe", "step-irq [on|off]", "help", "code"} {
			if !strings.Contains(out, name) {
				t.Errorf("monitor %q lacks %q:\n%s", c, name, out)
			}
		}
	}
	h.f.regs[0].Debug.DR7 = 0x400
	out := h.monitor("regs")
	for _, want := range []string{"vCPU 0", "mode: 64-bit long mode", "rip 0000000000001000", "cs  0008", "efer 500 [LME LMA]",
		"fs_base 0000000000007000", "kernel_gs_base ffff800000001000", "dr7 0000000000000400"} {
		if !strings.Contains(out, want) {
			t.Errorf("monitor regs lacks %q:\n%s", want, out)
		}
	}
	copy(h.f.mem[0x3000:], "Hello, guest!\x00\x01\x02xyz")
	out = h.monitor("phys 0x3000 20")
	if !strings.Contains(out, "0000000000003000: 48 65 6c 6c 6f 2c 20 67  75 65 73 74 21 00 01 02  |Hello, guest!...|") ||
		!strings.Contains(out, "0000000000003010: 78 79 7a 90") {
		t.Errorf("monitor phys:\n%s", out)
	}
	for _, bad := range []string{"phys", "phys 0x3000", "phys x 1", "phys 0 0", "phys 0 999999999"} {
		if out := h.monitor(bad); !strings.Contains(out, "monitor phys:") {
			t.Errorf("monitor %s: %q", bad, out)
		}
	}
	if out := h.monitor(fmt.Sprintf("phys %#x 4", fakeMemSize-2)); !strings.Contains(out, "90 90") || !strings.Contains(out, "read 2 of 4 bytes") {
		t.Errorf("monitor phys at the end of memory: %q", out)
	}
	if out := h.monitor("exits"); !strings.Contains(out, "io 0x3f8 (serial)") || !strings.Contains(out, "total") || !strings.Contains(out, "15") {
		t.Errorf("monitor exits:\n%s", out)
	}
	if out := h.monitor("probe"); out != "software: int3 (fake)\nhardware: DR0-DR3 (fake)\n" {
		t.Errorf("monitor probe: %q", out)
	}
	if out := h.monitor("step-irq"); !strings.HasPrefix(out, "step-irq off") {
		t.Errorf("monitor step-irq: %q", out)
	}
	if out := h.monitor("step-irq on"); !strings.HasPrefix(out, "step-irq on") || !h.f.stepIRQ {
		t.Errorf("monitor step-irq on: %q", out)
	}
	if out := h.monitor("step-irq off"); !strings.HasPrefix(out, "step-irq off") || h.f.stepIRQ {
		t.Errorf("monitor step-irq off: %q", out)
	}
	if out := h.monitor("step-irq maybe"); !strings.Contains(out, "usage") {
		t.Errorf("monitor step-irq maybe: %q", out)
	}
	if out := h.monitor("code 3"); !strings.Contains(out, "=> 0x1000: 90") || strings.Count(out, "nop") != 3 {
		t.Errorf("monitor code 3:\n%s", out)
	}
	if out := h.monitor("frobnicate"); !strings.Contains(out, `unknown monitor command "frobnicate"`) {
		t.Errorf("unknown command: %q", out)
	}
	h.expect("qRcmd,zz", "E22")

	// Long output is split into O packets that each fit.
	h.srv.packetMax = minPacketSize
	h.monitor(fmt.Sprintf("phys 0 %d", 4096))
	if len(h.console) < 2 {
		t.Errorf("a long dump came in %d O packets", len(h.console))
	}
	for _, c := range h.console {
		if 1+2*len(c) > h.srv.packetMax {
			t.Errorf("O packet of %d bytes exceeds %d", 1+2*len(c), h.srv.packetMax)
		}
	}
}

// TestMonitorSym: `monitor sym` resolves names and names addresses, and
// thread descriptions say where each vCPU is, when the guest has symbols.
func TestMonitorSym(t *testing.T) {
	h := newHarness(t, 2)
	if out := h.monitor("sym start_kernel"); !strings.Contains(out, "no symbols for this guest") {
		t.Errorf("sym without symbols: %q", out)
	}
	if r := h.do("qThreadExtraInfo,1"); r != hexOf("vCPU 0, 64-bit long mode") {
		t.Errorf("qThreadExtraInfo without symbols: %q", r)
	}
	h.f.syms = symbols.New([]symbols.Symbol{
		{Name: "start_kernel", Addr: 0x1000, Size: 0x40, Kind: 'T'},
		{Name: "idle", Addr: 0x2000, Size: 0x10, Kind: 't'},
	})
	out := h.monitor("sym start_kernel idle+4 0x1010 0x9000")
	for _, want := range []string{"0000000000001000 start_kernel\n", "0000000000002004 idle+4\n", "0000000000001010 start_kernel+0x10\n", "0000000000009000 0x9000\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("monitor sym lacks %q:\n%s", want, out)
		}
	}
	if out := h.monitor("sym nosuch start_kernel"); !strings.Contains(out, "no symbol nosuch") || !strings.Contains(out, "start_kernel") {
		t.Errorf("monitor sym nosuch: %q", out)
	}
	if out := h.monitor("sym"); !strings.Contains(out, "usage") {
		t.Errorf("monitor sym: %q", out)
	}
	if r := h.do("qThreadExtraInfo,1"); r != hexOf("vCPU 0, 64-bit long mode, in start_kernel") {
		b, _ := decodeHex([]byte(r))
		t.Errorf("qThreadExtraInfo with symbols: %q", b)
	}
}
