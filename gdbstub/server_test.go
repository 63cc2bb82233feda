package gdbstub

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/vmm"
)

// rawClient speaks the protocol by hand, to test what gdb never does.
type rawClient struct {
	t     *testing.T
	c     net.Conn
	dec   *Decoder
	noAck bool
}

func dial(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, c: c, dec: NewDecoder(c, 1<<20)}
}

func (c *rawClient) write(s string) {
	c.t.Helper()
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// frame reads the next frame.
func (c *rawClient) frame() Frame {
	c.t.Helper()
	for {
		f, err := c.dec.Next()
		if err != nil {
			if isProtocolError(err) {
				c.t.Errorf("stub sent bad bytes: %v", err)
				continue
			}
			c.t.Fatalf("read: %v", err)
		}
		return f
	}
}

// send sends a packet; in ack mode the stub must acknowledge it.
func (c *rawClient) send(data string) {
	c.t.Helper()
	c.write(string(AppendPacket(nil, []byte(data))))
	if !c.noAck {
		if f := c.frame(); f.Kind != FrameAck {
			c.t.Fatalf("after %q: got %v %q, want +", data, f.Kind, f.Data)
		}
	}
}

// recv reads the next packet (and acknowledges it in ack mode).
func (c *rawClient) recv() string {
	c.t.Helper()
	f := c.frame()
	if f.Kind != FramePacket {
		c.t.Fatalf("got frame %v, want a packet", f.Kind)
	}
	if !c.noAck {
		c.write("+")
	}
	data, err := Unescape(nil, f.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	return string(data)
}

func (c *rawClient) call(data string) string {
	c.t.Helper()
	c.send(data)
	return c.recv()
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func (f *fakeTarget) state() (running bool, bps, wps int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running, len(f.bps), len(f.wps)
}

func TestServeAcks(t *testing.T) {
	f := newFake(1)
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	c.write("+$g#68") // bad checksum
	if fr := c.frame(); fr.Kind != FrameNak {
		t.Fatalf("bad checksum answered with %v, want -", fr.Kind)
	}
	c.write("$?#3f")
	if fr := c.frame(); fr.Kind != FrameAck {
		t.Fatalf("good packet answered with %v, want +", fr.Kind)
	}
	first := c.recv()
	if first != "T05thread:1;" {
		t.Fatalf("? -> %q", first)
	}
	c.write("-") // "your reply was garbled": the stub sends it again
	if again := c.recv(); again != first {
		t.Fatalf("retransmission %q, want %q", again, first)
	}
	if r := c.call("QStartNoAckMode"); r != "OK" {
		t.Fatalf("QStartNoAckMode -> %q", r)
	}
	c.noAck = true
	if r := c.call("qC"); r != "QC1" { // no '+' comes first now
		t.Fatalf("qC in no-ack mode -> %q", r)
	}
	c.write("$g#00") // a bad checksum is dropped silently in no-ack mode
	if r := c.call("qAttached"); r != "1" {
		t.Fatalf("qAttached -> %q", r)
	}
	c.write("noise")
	if r := c.call("qC"); r != "QC1" {
		t.Fatalf("after noise: %q", r)
	}
}

func TestServeTooLong(t *testing.T) {
	f := newFake(1)
	s := startStub(t, f, Options{PacketSize: 100}) // raised to the minimum
	c := dial(t, s.addr)
	if r := c.call("qSupported"); !strings.Contains(r, "PacketSize=800;") {
		t.Fatalf("qSupported -> %q", r)
	}
	r := c.call("M0," + strings.Repeat("00", minPacketSize))
	if !strings.HasPrefix(r, "E.packet of") || !strings.Contains(r, "exceeds PacketSize 2048") {
		t.Fatalf("over-long packet -> %q", r)
	}
	if r := c.call("?"); r != "T05thread:1;" {
		t.Fatalf("after an over-long packet: %q", r)
	}
	c.write(string(frameRaw("a*"))) // good checksum, bad run length
	if fr := c.frame(); fr.Kind != FrameAck {
		t.Fatalf("malformed packet answered with %v", fr.Kind)
	}
	if r := c.recv(); !strings.HasPrefix(r, "E.malformed packet") {
		t.Fatalf("malformed packet -> %q", r)
	}
}

func TestServeInterrupt(t *testing.T) {
	f := newFake(2)
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	c.send("vCont;c")
	sp := <-f.spinning
	if sp.vcpu != 1 && sp.vcpu != 0 {
		t.Fatalf("spin %v", sp)
	}
	c.write("\x03")
	if r := c.recv(); r != "T02thread:1;" {
		t.Fatalf("after Ctrl-C: %q", r)
	}
	c.write("\x03") // stopped already: nothing happens
	if r := c.call("qC"); r != "QC1" {
		t.Fatalf("qC -> %q", r)
	}
}

func TestServeVanishWhileStopped(t *testing.T) {
	f := newFake(1)
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	c.call("Z0,1800,1")
	c.call("Z2,2000,2")
	c.c.Close() // gdb killed
	waitFor(t, "the guest to run without gdb's breakpoints", func() bool {
		running, bps, wps := f.state()
		return running && bps == 0 && wps == 0
	})
	// A new gdb attaches: the machine stops for it.
	c2 := dial(t, s.addr)
	if r := c2.call("?"); r != "T05thread:1;" {
		t.Fatalf("? after re-attach -> %q", r)
	}
	if running, _, _ := f.state(); running {
		t.Fatal("machine runs while gdb is attached")
	}
}

func TestServeVanishWhileRunning(t *testing.T) {
	f := newFake(1)
	f.mem[0x1004], f.mem[0x1005] = 0xeb, 0xfe
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	c.call("Z1,1f00,1")
	c.send("vCont;c")
	<-f.spinning
	c.c.Close()
	// The stub halts the machine to remove the breakpoint, then resumes.
	waitFor(t, "the breakpoint removed and the guest running", func() bool {
		running, bps, _ := f.state()
		return running && bps == 0
	})
	f.mu.Lock()
	n := len(f.resumes)
	violations := f.violations
	f.mu.Unlock()
	if n != 2 || len(violations) > 0 {
		t.Fatalf("%d resumes (want 2), violations %v", n, violations)
	}
}

func TestServeDetach(t *testing.T) {
	f := newFake(1)
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	c.call("Z1,1800,1")
	if r := c.call("D"); r != "OK" {
		t.Fatalf("D -> %q", r)
	}
	if _, err := c.dec.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after D the stub should close: %v", err)
	}
	waitFor(t, "the guest to run on without gdb's breakpoints", func() bool {
		running, bps, _ := f.state()
		return running && bps == 0
	})
}

func TestServeSecondClient(t *testing.T) {
	f := newFake(1)
	s := startStub(t, f, Options{})
	first := dial(t, s.addr)
	if r := first.call("qSupported:swbreak+"); !strings.Contains(r, "PacketSize") {
		t.Fatal(r)
	}
	second := dial(t, s.addr)
	r := second.call("qSupported")
	if !strings.HasPrefix(r, "E.kvmscope: another gdb is attached (from 127.0.0.1:") {
		t.Fatalf("second client got %q", r)
	}
	second.call("vMustReplyEmpty")
	second.call("?")
	second.call("g")
	if _, err := second.dec.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("second client not disconnected: %v", err)
	}
	if r := first.call("?"); r != "T05thread:1;" {
		t.Fatalf("first client disturbed: %q", r)
	}
	if running, _, _ := f.state(); running {
		t.Fatal("the refusal touched the machine")
	}
}

func TestServeKill(t *testing.T) {
	f := newFake(1)
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	c.send("k")
	select {
	case r := <-s.end:
		if r.err != nil || r.end.Reason != EndKilled {
			t.Fatalf("Serve returned %+v, %v; want EndKilled", r.end, r.err)
		}
		s.end <- r
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after k")
	}
}

func TestServeCancel(t *testing.T) {
	f := newFake(1)
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	c.call("?")
	s.stop()
	r := <-s.end
	s.end <- r
	if r.err != nil || r.end.Reason != EndCanceled {
		t.Fatalf("Serve returned %+v, %v; want EndCanceled", r.end, r.err)
	}
	if _, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		t.Error("the listener is still open")
	}
}

// runningFake reports its run state (RunState).
type runningFake struct{ *fakeTarget }

func (r runningFake) Running() bool {
	running, _, _ := r.state()
	return running
}

func TestServeAttachWhileRunning(t *testing.T) {
	for _, viaRunState := range []bool{false, true} {
		f := newFake(2)
		f.mem[0x1004], f.mem[0x1005] = 0xeb, 0xfe // runs until stopped
		f.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}})
		var s *served
		if viaRunState {
			s = startStubTarget(t, runningFake{f}, Options{})
		} else {
			s = startStub(t, f, Options{Running: true})
		}
		c := dial(t, s.addr)
		if r := c.call("?"); r != "T05thread:1;" {
			t.Fatalf("? -> %q", r)
		}
		if running, _, _ := f.state(); running {
			t.Fatal("the machine still runs with gdb attached")
		}
		if r := c.call("p10"); len(r) != 16 {
			t.Fatalf("p10 -> %q", r)
		}
	}
}

func TestServeExitWithoutClient(t *testing.T) {
	f := newFake(1)
	f.exitAt[0x1100] = 9
	f.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}})
	s := startStub(t, f, Options{Running: true})
	select {
	case r := <-s.end:
		s.end <- r
		if r.err != nil || r.end.Reason != EndExited || r.end.Stop.Status != 9 {
			t.Fatalf("Serve returned %+v, %v", r.end, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return when the machine exited")
	}
}

func TestServeExitReply(t *testing.T) {
	f := newFake(1)
	f.exitAt[0x1003] = 0x2a
	s := startStub(t, f, Options{})
	c := dial(t, s.addr)
	if r := c.call("vCont;c"); r != "W2a" {
		t.Fatalf("exit -> %q", r)
	}
	r := <-s.end
	s.end <- r
	if r.end.Reason != EndExited || r.end.Stop.Status != 0x2a {
		t.Fatalf("Serve returned %+v", r.end)
	}
}

// TestServeExitWhileIdle: the machine ends while stopped with gdb
// attached (a time limit, say): gdb learns it at its next packet; if gdb
// leaves instead, Serve returns all the same.
func TestServeExitWhileIdle(t *testing.T) {
	for _, leave := range []bool{false, true} {
		f := newFake(1)
		s := startStub(t, f, Options{})
		c := dial(t, s.addr)
		c.call("qC")
		f.stops <- debug.StopEvent{Kind: debug.StopExited, Machine: &vmm.Stop{Kind: vmm.StopTimeout}}
		if leave {
			c.c.Close()
		} else {
			waitFor(t, "the stub to see the end", func() bool { return len(f.stops) == 0 })
			if r := c.call("vCont;c"); r != "X0e" {
				t.Fatalf("resume after the end -> %q", r)
			}
		}
		select {
		case r := <-s.end:
			s.end <- r
			if r.err != nil || r.end.Reason != EndExited || r.end.Stop.Kind != vmm.StopTimeout {
				t.Fatalf("Serve returned %+v, %v", r.end, r.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return")
		}
		if running, _, _ := f.state(); running {
			t.Fatal("resumed after the end")
		}
	}
}

// startStubTarget is startStub for any Target.
func startStubTarget(t *testing.T, tgt Target, opts Options) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{addr: ln.Addr().String(), end: make(chan served1, 1), stop: cancel}
	go func() {
		end, err := Serve(ctx, ln, tgt, opts)
		s.end <- served1{end, err}
	}()
	t.Cleanup(func() {
		cancel()
		<-s.end
	})
	return s
}
