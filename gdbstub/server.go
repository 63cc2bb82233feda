package gdbstub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/vmm"
)

// Options configure Serve. The zero value is ready to use.
type Options struct {
	// Running says the machine is already running when Serve starts; by
	// default it is taken to be stopped (QEMU's -S). A Target that
	// implements RunState is asked instead.
	Running bool
	// PacketSize is the largest packet accepted, advertised in
	// qSupported; 0 means DefaultPacketSize. Values below 2 KiB are
	// raised to 2 KiB, so that a `g` reply fits.
	PacketSize int
	// Logf, if set, gets one line per event worth knowing: a gdb attaches
	// or leaves, a second gdb is refused, a protocol error.
	Logf func(format string, args ...any)
	// Trace, if set, gets every packet in ("<- ") and out ("-> ").
	Trace func(format string, args ...any)
}

// EndReason says why Serve returned.
type EndReason int

const (
	// EndExited: the machine ended (the guest exited, faulted, reset...).
	// The attached gdb, if any, was told with a W or X packet. End.Stop
	// says how; exit with the guest's status when Stop.Kind is
	// vmm.StopGuestExit.
	EndExited EndReason = iota + 1
	// EndKilled: gdb sent k (kill). End the machine.
	EndKilled
	// EndCanceled: the context was canceled. The machine is left as it
	// was.
	EndCanceled
)

func (r EndReason) String() string {
	switch r {
	case EndExited:
		return "machine exited"
	case EndKilled:
		return "killed by gdb"
	case EndCanceled:
		return "canceled"
	}
	return fmt.Sprintf("EndReason(%d)", int(r))
}

// End is what Serve returns with.
type End struct {
	Reason EndReason
	// Stop is how the machine ended, for EndExited (may be nil if the
	// target gave no details).
	Stop *vmm.Stop
}

// writeTimeout bounds one write to gdb: a client that stops reading is
// treated as gone.
const writeTimeout = 10 * time.Second

// Serve runs the gdb stub on ln until the machine ends, gdb kills it, or
// ctx is canceled. It closes ln before it returns.
//
// One gdb is served at a time. A second client that connects meanwhile
// is refused without disturbing the first: each of its first packets is
// answered with an "E.kvmscope: ..." error text (gdb prints it, e.g.
// "Remote replied unexpectedly to 'vMustReplyEmpty': E.kvmscope: another
// gdb is attached from ..."), and then it is disconnected. When the
// attached gdb detaches (D) or its connection drops (gdb killed, network
// gone), gdb's breakpoints and watchpoints are removed and the guest is
// resumed — it runs on — and a new gdb may attach. A gdb that attaches
// while the machine runs stops it first, as QEMU does.
//
// The error is non-nil only when the listener or the target fails.
func Serve(ctx context.Context, ln net.Listener, t Target, opts Options) (End, error) {
	srv := newServer(t, opts)
	if rs, ok := t.(RunState); ok {
		srv.running = rs.Running()
	}
	defer ln.Close()
	return srv.serve(ctx, ln)
}

// server is the state of the machine as the stub knows it, and of the
// attached gdb. It is owned by Serve's goroutine.
type server struct {
	t         Target
	opts      Options
	vcpus     []int
	packetMax int

	running bool             // Resume was called and its StopEvent has not come
	exited  *debug.StopEvent // the machine ended; no more Resume
	// bps are gdb's breakpoints and watchpoints, to remove when it leaves.
	bps map[breakpoint]bool
	// cleanupOnStop: a gdb left while the machine ran with breakpoints
	// set; Halt was asked, and at the stop they are removed and the
	// machine resumed.
	cleanupOnStop bool
}

func newServer(t Target, opts Options) *server {
	max := opts.PacketSize
	if max <= 0 {
		max = DefaultPacketSize
	}
	max = maxInt(max, minPacketSize)
	return &server{t: t, opts: opts, vcpus: t.VCPUs(), packetMax: max, running: opts.Running, bps: map[breakpoint]bool{}}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func (srv *server) logf(format string, args ...any) {
	if srv.opts.Logf != nil {
		srv.opts.Logf(format, args...)
	}
}

// input is what a connection's reader goroutine hands the server.
type input struct {
	kind FrameKind // FramePacket, FrameNak, FrameInterrupt; 0 for err
	data []byte
	err  error // protocol error (the session goes on) or the end of the connection
}

// conn is the wire side of an attached gdb.
type conn struct {
	c     net.Conn
	wmu   sync.Mutex
	noAck atomic.Bool
	// acksOwed counts packets received and not yet acknowledged: the
	// '+' goes out with the reply, in one write, or alone once the
	// packet is handled without one. Each separate write wakes gdb.
	acksOwed int
	last     []byte // the last packet sent, for a '-' retransmit
	trace    func(format string, args ...any)
	in       chan input
	done     chan struct{}
	closing  sync.Once
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.c.Write(b)
	return err
}

// send frames and writes one packet.
func (c *conn) send(data []byte) error {
	if c.trace != nil {
		c.trace("-> %q", data)
	}
	pkt := AppendPacket(nil, data)
	c.wmu.Lock()
	c.last = pkt
	out := pkt
	if c.acksOwed > 0 {
		out = append(bytes.Repeat([]byte("+"), c.acksOwed), pkt...)
		c.acksOwed = 0
	}
	c.wmu.Unlock()
	return c.write(out)
}

// flushAcks acknowledges the packets handled without a reply.
func (c *conn) flushAcks() error {
	c.wmu.Lock()
	n := c.acksOwed
	c.acksOwed = 0
	c.wmu.Unlock()
	if n == 0 {
		return nil
	}
	return c.write(bytes.Repeat([]byte("+"), n))
}

func (c *conn) resend() error {
	c.wmu.Lock()
	last := c.last
	c.wmu.Unlock()
	if last == nil {
		return nil
	}
	return c.write(last)
}

func (c *conn) close() {
	c.closing.Do(func() {
		close(c.done)
		c.c.Close()
	})
}

// read runs in its own goroutine: it decodes frames, acknowledges packets
// while acknowledgments are on, and hands everything else to the server.
func (c *conn) read(max int) {
	dec := NewDecoder(c.c, max)
	for {
		f, err := dec.Next()
		var in input
		switch {
		case err != nil && !isProtocolError(err):
			c.deliver(input{err: err})
			return
		case err != nil:
			var ce *ChecksumError
			var ge *GarbageError
			switch {
			case errors.As(err, &ge):
				// noise is dropped without an answer
			case errors.As(err, &ce):
				if !c.noAck.Load() {
					c.write([]byte("-"))
				}
			default: // too long or malformed: it arrived intact, so acknowledge and answer
				if !c.noAck.Load() {
					c.write([]byte("+"))
				}
			}
			in = input{err: err}
		case f.Kind == FrameAck:
			continue
		case f.Kind == FramePacket:
			if c.trace != nil {
				c.trace("<- %q", f.Data)
			}
			if !c.noAck.Load() {
				c.wmu.Lock()
				c.acksOwed++
				c.wmu.Unlock()
				if string(f.Data) == "QStartNoAckMode" {
					c.noAck.Store(true)
				}
			}
			in = input{kind: FramePacket, data: f.Data}
		default:
			in = input{kind: f.Kind}
		}
		if !c.deliver(in) {
			return
		}
	}
}

func (c *conn) deliver(in input) bool {
	select {
	case c.in <- in:
		return true
	case <-c.done:
		return false
	}
}

// session is one attached gdb: its choices and what it was told.
type session struct {
	srv *server
	// out sends one packet (O packets of monitor output).
	out func(data []byte) error
	// swbreak, hwbreak: gdb announced it understands these stop reasons.
	swbreak, hwbreak bool
	cur              int // the current vCPU: the last one reported in a stop
	gVCPU            int // Hg: the vCPU g, p, m... act on
	cVCPU            int // Hc: the vCPU c and s act on; -1 for all
	// waiting: gdb resumed the machine and waits for a stop reply.
	waiting bool
	// last is the last stop reported in this session, which `?` repeats;
	// before any, `?` answers a plain SIGTRAP on the current vCPU.
	last *debug.StopEvent
}

func (srv *server) newSession(out func([]byte) error) *session {
	first := 0
	if len(srv.vcpus) > 0 {
		first = srv.vcpus[0]
	}
	return &session{srv: srv, out: out, cur: first, gVCPU: first, cVCPU: -1}
}

func (srv *server) serve(ctx context.Context, ln net.Listener) (End, error) {
	conns := make(chan net.Conn)
	acceptErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			select {
			case conns <- c:
			case <-quit:
				c.Close()
				return
			}
		}
	}()

	var (
		cn   *conn
		sess *session
		// attaching: a gdb connected while the machine ran; its packets
		// wait until the Halt's stop arrives.
		attaching bool
	)
	endSession := func(why string) {
		srv.logf("gdbstub: gdb %s %s", cn.c.RemoteAddr(), why)
		cn.close()
		cn, sess, attaching = nil, nil, false
		srv.leave()
	}
	defer func() {
		if cn != nil {
			cn.close()
		}
	}()
	stops := srv.t.Stops()
	for {
		if sess == nil && srv.exited != nil {
			// The machine ended while a gdb was attached but not
			// waiting, and that gdb has gone.
			return End{Reason: EndExited, Stop: srv.exited.Machine}, nil
		}
		var in chan input
		if cn != nil && !attaching {
			in = cn.in
		}
		select {
		case <-ctx.Done():
			return End{Reason: EndCanceled}, nil

		case err := <-acceptErr:
			if ctx.Err() != nil {
				return End{Reason: EndCanceled}, nil
			}
			return End{}, fmt.Errorf("gdbstub: accept: %w", err)

		case c := <-conns:
			if cn != nil {
				srv.logf("gdbstub: refused %s: gdb %s is attached", c.RemoteAddr(), cn.c.RemoteAddr())
				go refuse(c, cn.c.RemoteAddr().String(), srv.packetMax)
				continue
			}
			srv.logf("gdbstub: gdb attached from %s", c.RemoteAddr())
			cn = &conn{c: c, trace: srv.opts.Trace, in: make(chan input), done: make(chan struct{})}
			go cn.read(srv.packetMax)
			sess = srv.newSession(cn.send)
			if srv.running && srv.exited == nil {
				if err := srv.t.Halt(); err != nil {
					return End{}, fmt.Errorf("gdbstub: stop the machine for gdb: %w", err)
				}
				attaching = true
			}

		case ev, ok := <-stops:
			if !ok {
				return End{}, errors.New("gdbstub: the target closed its stop channel")
			}
			srv.running = false
			if ev.Kind == debug.StopExited {
				srv.exited = &ev
				srv.logf("gdbstub: machine ended: %v", machineString(ev.Machine))
				if sess == nil {
					return End{Reason: EndExited, Stop: ev.Machine}, nil
				}
				if attaching || sess.waiting {
					// gdb waits: tell it now. (While attaching, gdb's
					// coming `?` would get the same answer.)
					sess.waiting = false
					cn.send(exitReply(&ev))
					return End{Reason: EndExited, Stop: ev.Machine}, nil
				}
				// gdb is not waiting (the machine ended while stopped):
				// its next ? or resume gets the W or X, and then Serve
				// returns, as it does if gdb leaves.
				continue
			}
			if srv.cleanupOnStop {
				srv.cleanupOnStop = false
				srv.clearBreakpoints()
			}
			switch {
			case sess == nil:
				// No gdb: the guest runs on.
				if err := srv.resumeAll(); err != nil {
					return End{}, err
				}
			case attaching:
				attaching = false
			case sess.waiting:
				sess.waiting = false
				if err := cn.send(sess.stopReply(&ev)); err != nil {
					endSession("is gone: " + err.Error())
				}
			}

		case in := <-in:
			switch {
			case in.err != nil && !isProtocolError(in.err):
				why := "disconnected"
				if !errors.Is(in.err, io.EOF) {
					why = "is gone: " + in.err.Error()
				}
				endSession(why)
				continue
			case in.err != nil:
				srv.logf("gdbstub: %v", in.err)
				var tl *TooLongError
				var me *MalformedError
				if errors.As(in.err, &tl) || errors.As(in.err, &me) {
					cn.send([]byte("E." + in.err.Error()))
				}
				continue
			case in.kind == FrameNak:
				if !cn.noAck.Load() {
					cn.resend()
				}
				continue
			case in.kind == FrameInterrupt:
				if sess.waiting && srv.running {
					if err := srv.t.Halt(); err != nil {
						srv.logf("gdbstub: halt: %v", err)
					}
				}
				continue
			}
			r := sess.dispatch(in.data)
			switch r.act {
			case actKill:
				srv.logf("gdbstub: gdb %s killed the machine", cn.c.RemoteAddr())
				if r.data != nil {
					cn.send(r.data)
				}
				cn.flushAcks()
				return End{Reason: EndKilled}, nil
			case actWait:
				sess.waiting = true
				if err := cn.flushAcks(); err != nil {
					endSession("is gone: " + err.Error())
				}
				continue
			}
			if err := cn.send(r.data); err != nil {
				endSession("is gone: " + err.Error())
				continue
			}
			switch r.act {
			case actDetach:
				endSession("detached")
			case actExit:
				return End{Reason: EndExited, Stop: srv.exited.Machine}, nil
			}
		}
	}
}

// leave is what happens when gdb goes, by D or by vanishing: its
// breakpoints and watchpoints are removed and the guest runs on.
func (srv *server) leave() {
	if srv.exited != nil {
		return
	}
	if srv.running {
		if len(srv.bps) > 0 && !srv.cleanupOnStop {
			if err := srv.t.Halt(); err != nil {
				srv.logf("gdbstub: halt to remove breakpoints: %v", err)
				return
			}
			srv.cleanupOnStop = true
		}
		return
	}
	srv.clearBreakpoints()
	if err := srv.resumeAll(); err != nil {
		srv.logf("gdbstub: %v", err)
	}
}

func (srv *server) resumeAll() error {
	return srv.resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}})
}

// resume lets the machine run; only while it is stopped.
func (srv *server) resume(actions []debug.Resume) error {
	if srv.running || srv.exited != nil {
		return errors.New("gdbstub: resume while the machine is not stopped")
	}
	if err := srv.t.Resume(actions); err != nil {
		return fmt.Errorf("gdbstub: resume: %w", err)
	}
	srv.running = true
	return nil
}

func machineString(s *vmm.Stop) string {
	if s == nil {
		return "no details"
	}
	return s.String()
}

// refuse answers a second client: each of its first few packets gets an
// error text that gdb prints, then it is disconnected.
func refuse(c net.Conn, holder string, max int) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	msg := AppendPacket(nil, []byte("E.kvmscope: another gdb is attached (from "+holder+"); detach it first"))
	dec := NewDecoder(c, max)
	for answered := 0; answered < 4; {
		f, err := dec.Next()
		if err != nil {
			if isProtocolError(err) {
				continue
			}
			return
		}
		if f.Kind != FramePacket {
			continue
		}
		if _, err := c.Write(append([]byte("+"), msg...)); err != nil {
			return
		}
		answered++
	}
}
