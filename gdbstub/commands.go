package gdbstub

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
)

// action says what the server does after a command.
type action int

const (
	actReply  action = iota // send the reply
	actWait                 // the machine runs: the stop reply comes when it stops
	actDetach               // send the reply, then end the session; the guest runs on
	actKill                 // send nothing; Serve returns (EndKilled)
	actExit                 // send the reply (W or X), then Serve returns (EndExited)
)

// reply is a command's answer.
type reply struct {
	data []byte
	act  action
}

func replyOK() reply                   { return reply{data: []byte("OK")} }
func replyEmpty() reply                { return reply{data: []byte{}} }
func replyData(b []byte) reply         { return reply{data: b} }
func replyString(s string) reply       { return reply{data: []byte(s)} }
func replyErrno(e syscall.Errno) reply { return replyString(errnoCode(e)) }

// Error numbers in replies follow QEMU's stub: the errno in decimal
// (E14 is EFAULT, E22 EINVAL); gdb shows only the number.
func errnoCode(e syscall.Errno) string {
	n := int(e)
	if n <= 0 || n > 99 {
		n = 1
	}
	return fmt.Sprintf("E%02d", n)
}

// replyErr answers a target error: an errno found in the chain gives
// that errno, anything else fallback.
func replyErr(err error, fallback syscall.Errno) reply {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return replyErrno(errno)
	}
	return replyErrno(fallback)
}

// replyFeatureErr is replyErr for optional features (Z, z):
// errors.ErrUnsupported gives the empty reply, which tells gdb the
// feature is missing (for a watchpoint type, gdb then falls back to
// single-stepping and comparing).
func replyFeatureErr(err error, fallback syscall.Errno) reply {
	if errors.Is(err, errors.ErrUnsupported) {
		return replyEmpty()
	}
	return replyErr(err, fallback)
}

var (
	errInval = replyErrno(syscall.EINVAL)
	errFault = replyErrno(syscall.EFAULT)
	errSrch  = replyErrno(syscall.ESRCH)
)

// command is one row of the prefix table.
type command struct {
	prefix string
	// exact says the packet must be exactly prefix (no arguments).
	exact bool
	run   func(s *session, arg []byte) reply
}

// commandTable maps packets to handlers, grouped by family; each family
// lives in its own cmd_*.go file. The first matching row wins, so longer
// prefixes come before shorter ones that share their start. Packets that
// match no row get the empty reply, which tells gdb the packet is not
// supported.
var commandTable []command

func init() {
	commandTable = []command{
		// cmd_query.go: connection setup
		{prefix: "qSupported", run: cmdSupported},
		{prefix: "QStartNoAckMode", exact: true, run: cmdStartNoAck},
		{prefix: "qAttached", run: cmdAttached},
		// cmd_qxfer.go: target description
		{prefix: "qXfer:features:read:", run: cmdXferFeatures},
		// cmd_thread.go: vCPUs as threads
		{prefix: "qfThreadInfo", exact: true, run: cmdThreadInfoFirst},
		{prefix: "qsThreadInfo", exact: true, run: cmdThreadInfoNext},
		{prefix: "qThreadExtraInfo,", run: cmdThreadExtraInfo},
		{prefix: "qC", exact: true, run: cmdCurrentThread},
		{prefix: "H", run: cmdSetThread},
		{prefix: "T", run: cmdThreadAlive},
		// cmd_monitor.go: monitor commands
		{prefix: "qRcmd,", run: cmdMonitor},
		// cmd_regs.go: registers
		{prefix: "g", exact: true, run: cmdReadRegs},
		{prefix: "G", run: cmdWriteRegs},
		{prefix: "p", run: cmdReadReg},
		{prefix: "P", run: cmdWriteReg},
		// cmd_m.go: memory
		{prefix: "m", run: cmdReadMem},
		{prefix: "M", run: cmdWriteMem},
		{prefix: "X", run: cmdWriteMemBinary},
		// cmd_z.go: breakpoints and watchpoints
		{prefix: "Z", run: cmdInsertBreak},
		{prefix: "z", run: cmdRemoveBreak},
		// cmd_vcont.go: resuming
		{prefix: "vCont?", exact: true, run: cmdVContQuery},
		{prefix: "vCont;", run: cmdVCont},
		{prefix: "c", run: cmdContinue},
		{prefix: "C", run: cmdContinueSignal},
		{prefix: "s", run: cmdStep},
		{prefix: "S", run: cmdStepSignal},
		// cmd_stop.go: stop state, detach, kill
		{prefix: "?", exact: true, run: cmdHaltReason},
		{prefix: "D", run: cmdDetach},
		{prefix: "k", exact: true, run: cmdKill},
		{prefix: "vKill", run: cmdKill},
	}
}

// dispatch runs one packet (its payload, still escaped) and returns the
// reply. It never panics on any input.
func (s *session) dispatch(pkt []byte) reply {
	for i := range commandTable {
		c := &commandTable[i]
		if !bytes.HasPrefix(pkt, []byte(c.prefix)) {
			continue
		}
		arg := pkt[len(c.prefix):]
		if c.exact && len(arg) != 0 {
			continue
		}
		return c.run(s, arg)
	}
	return replyEmpty()
}
