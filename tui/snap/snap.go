// Package snap holds the immutable snapshots the TUI's panes are drawn
// from. The driver takes them from the live machine; a pane only ever
// sees these values, never the machine, the session or their locks.
package snap

import (
	"time"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// RunState is what the machine is doing, as the status line says it.
type RunState int

const (
	Starting RunState = iota // the machine is being built
	Running                  // some vCPU runs the guest
	Stopped                  // every vCPU is parked: registers can be read
	Ended                    // the machine ended: Status.Why says how
)

var runStateNames = [...]string{Starting: "starting", Running: "running", Stopped: "stopped", Ended: "ended"}

func (s RunState) String() string {
	if s >= 0 && int(s) < len(runStateNames) {
		return runStateNames[s]
	}
	return "?"
}

// Status is the status line's matter.
type Status struct {
	State RunState
	// Why says why the machine stopped or how it ended ("breakpoint at
	// 0x100010 <loop>", "guest exit with status 42").
	Why string
	// Image is what the machine runs; Ext its host extensions.
	Image, Ext string
	// GDB describes the gdb stub, "" without one.
	GDB string
	// Restarts counts the machines built after the first.
	Restarts int
	// Stops counts the stops of this machine; a new value means a new stop.
	Stops uint64
	// GuestTime is how long the guest has run, when it has ended.
	GuestTime time.Duration
}

// VCPU is one vCPU's state at a stop.
type VCPU struct {
	ID, Count int
	// Valid says the registers were read; Err why not.
	Valid bool
	Err   string
	Regs  kvm.Regs
	Sregs kvm.Sregs
	// Stop is Status.Stops when the registers were read.
	Stop uint64
}

// CodeLine is one disassembled instruction.
type CodeLine struct {
	Addr   uint64
	Bytes  []byte
	Text   string
	Symbol string // "name" where a symbol starts here, else ""
	Break  bool   // a breakpoint is set here
	PC     bool   // the vCPU's next instruction
}

// Code is the disassembly around (or from) an address.
type Code struct {
	VCPU  int
	PC    uint64
	Bits  int
	Where string // PC as name+0xoff when a symbol is known
	Lines []CodeLine
	Err   string
}

// Memory is a run of guest memory.
type Memory struct {
	Addr uint64
	Phys bool
	// Expr is what the user asked for; Follow names the register the view
	// follows ("" for a fixed address).
	Expr, Follow string
	Data         []byte
	Err          string
}

// ExitRow is one line of the exits pane.
type ExitRow struct {
	Name string
	// Sub marks a detail row under its kind (one port or MMIO device).
	Sub bool
	// Count is every exit of this kind; Kernel the ones KVM handled
	// itself, User the ones that came to kvmscope. KernelKnown is false
	// when the host cannot tell (no binary stats fd), or for detail rows.
	Count, Kernel, User uint64
	KernelKnown         bool
	// Rate is exits per second over the last poll interval.
	Rate float64
	// Mean and P99 are the KVM_RUN round trip of the exits that came to
	// user space; zero when none did or they carry no timing.
	Mean, P99 time.Duration
	// History holds the last rates, oldest first, for the sparkline.
	History []float64
}

// Exits is the exits pane's matter.
type Exits struct {
	Rows []ExitRow
	// Split says the kernel/user split is known.
	Split bool
}

// Measure is what was seen of the exits while an extension held one
// state: exits that came to user space per second of guest run time, and
// their mean KVM_RUN round trip.
type Measure struct {
	Valid   bool
	Seconds float64 // run time measured
	Exits   uint64  // exits to user space counted
	Rate    float64
	Mean    time.Duration
	// Total is every exit (kernel and user) per second, when known.
	Total      float64
	TotalKnown bool
}

// ExtRow is one host extension.
type ExtRow struct {
	Name    string
	Live    bool // switchable while the guest runs; else a restart applies it
	Offered bool
	On      bool
	// What is which exits the measure covers ("doorbell port I/O").
	What string
	// OnM and OffM are the exits measured with it on and with it off.
	OnM, OffM Measure
}

// Extensions is the extensions pane's matter.
type Extensions struct {
	Rows []ExtRow
}

// Frame is everything one poll of the machine saw.
type Frame struct {
	Status     Status
	VCPU       VCPU
	Code       Code
	Memory     Memory
	Exits      Exits
	Extensions Extensions
	// Console is the guest's serial output since the last poll.
	Console []byte
	// ConsoleDropped counts bytes lost because the TUI fell behind.
	ConsoleDropped uint64
}

// Query is what the panes want to see in the next frame.
type Query struct {
	VCPU int
	// CodeAddr is the address the disassembly is about, 0 for the PC;
	// CodeBefore how many instructions before it to show.
	CodeAddr   uint64
	CodeBefore int
	CodeLines  int
	// MemExpr is the memory view's address: a number, a symbol, a
	// register name (then the view follows it), with a "p:" prefix for
	// guest-physical. MemLen is how many bytes.
	MemExpr   string
	MemOffset int64
	MemLen    int
}
