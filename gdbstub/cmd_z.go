package gdbstub

import (
	"bytes"
	"syscall"

	"github.com/kvmscope/kvmscope/debug"
)

// Breakpoints and watchpoints: Z0-Z4 insert, z0-z4 remove.
//
//	Z0 software breakpoint  → debug.BreakSoftware
//	Z1 hardware breakpoint  → debug.BreakHardware
//	Z2 write watchpoint     → debug.WatchWrite
//	Z3 read watchpoint      → debug.WatchRead
//	Z4 access watchpoint    → debug.WatchAccess
//
// Addresses are linear. For breakpoints KIND (the instruction length gdb
// would patch, 1 on x86) is ignored; for watchpoints it is the length
// (1, 2, 4 or 8). Conditions and commands (";X...") are not supported
// (not announced), and ignored.

// breakpoint is one Z packet's request, also the key gdb's breakpoints
// are remembered under.
type breakpoint struct {
	typ  byte // '0'..'4'
	addr uint64
	kind uint64
}

func (b breakpoint) watch() bool { return b.typ >= '2' }

func (b breakpoint) breakKind() debug.BreakKind {
	if b.typ == '1' {
		return debug.BreakHardware
	}
	return debug.BreakSoftware
}

func (b breakpoint) watchKind() debug.WatchKind {
	switch b.typ {
	case '2':
		return debug.WatchWrite
	case '3':
		return debug.WatchRead
	}
	return debug.WatchAccess
}

// parseBreakpoint reads "TYPE,ADDR,KIND[;cond...]" after Z or z.
func parseBreakpoint(arg []byte) (breakpoint, bool) {
	if i := bytes.IndexByte(arg, ';'); i >= 0 {
		arg = arg[:i]
	}
	f := bytes.Split(arg, []byte(","))
	if len(f) != 3 || len(f[0]) != 1 || f[0][0] < '0' || f[0][0] > '4' {
		return breakpoint{}, false
	}
	addr, ok1 := parseHexUint(f[1])
	kind, ok2 := parseHexUint(f[2])
	if !ok1 || !ok2 {
		return breakpoint{}, false
	}
	return breakpoint{typ: f[0][0], addr: addr, kind: kind}, true
}

func validWatchLength(n uint64) bool { return n == 1 || n == 2 || n == 4 || n == 8 }

// key is how a breakpoint is remembered: a code breakpoint's KIND does
// not matter.
func (b breakpoint) key() breakpoint {
	if !b.watch() {
		b.kind = 0
	}
	return b
}

func cmdInsertBreak(s *session, arg []byte) reply {
	bp, ok := parseBreakpoint(arg)
	if !ok {
		return errInval
	}
	bp = bp.key()
	if bp.watch() && !validWatchLength(bp.kind) {
		return errInval
	}
	if s.srv.bps[bp] {
		return replyOK() // inserting twice is allowed and does nothing
	}
	if err := s.srv.setBreakpoint(bp); err != nil {
		return replyFeatureErr(err, syscall.ENOSPC)
	}
	s.srv.bps[bp] = true
	return replyOK()
}

func cmdRemoveBreak(s *session, arg []byte) reply {
	bp, ok := parseBreakpoint(arg)
	if !ok {
		return errInval
	}
	bp = bp.key()
	if !s.srv.bps[bp] {
		return replyOK() // not ours, or removed already
	}
	if err := s.srv.clearBreakpoint(bp); err != nil {
		return replyFeatureErr(err, syscall.EINVAL)
	}
	delete(s.srv.bps, bp)
	return replyOK()
}

func (srv *server) setBreakpoint(bp breakpoint) error {
	if bp.watch() {
		return srv.t.SetWatchpoint(bp.watchKind(), bp.addr, bp.kind)
	}
	return srv.t.SetBreakpoint(bp.breakKind(), bp.addr)
}

func (srv *server) clearBreakpoint(bp breakpoint) error {
	if bp.watch() {
		return srv.t.ClearWatchpoint(bp.watchKind(), bp.addr, bp.kind)
	}
	return srv.t.ClearBreakpoint(bp.breakKind(), bp.addr)
}

// clearBreakpoints removes all of gdb's breakpoints and watchpoints.
func (srv *server) clearBreakpoints() {
	for bp := range srv.bps {
		if err := srv.clearBreakpoint(bp); err != nil {
			srv.logf("gdbstub: remove breakpoint Z%c at %#x: %v", bp.typ, bp.addr, err)
		}
		delete(srv.bps, bp)
	}
}

// hitBreakpoint says which of gdb's breakpoints is at addr: '0', '1' or 0.
func (srv *server) hitBreakpoint(addr uint64) byte {
	for bp := range srv.bps {
		if !bp.watch() && bp.addr == addr {
			return bp.typ
		}
	}
	return 0
}
