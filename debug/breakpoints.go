package debug

import (
	"errors"
	"fmt"
	"slices"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// breakpoint is an execute breakpoint at a linear address.
type breakpoint struct {
	addr uint64
	kind BreakKind
	// An int3 breakpoint is planted in guest memory while the machine runs:
	// phys is where (translated when inserted), orig the byte it replaced.
	int3, planted bool
	phys          uint64
	orig          byte
}

type breakpoints struct{ list []*breakpoint }

func (b *breakpoints) find(addr uint64, kind BreakKind) int {
	return slices.IndexFunc(b.list, func(bp *breakpoint) bool { return bp.addr == addr && bp.kind == kind })
}

// at reports whether an execute breakpoint sits at addr.
func (b *breakpoints) at(addr uint64) bool {
	return slices.ContainsFunc(b.list, func(bp *breakpoint) bool { return bp.addr == addr })
}

// watchpoint is a data breakpoint on [addr, addr+length).
type watchpoint struct {
	kind   WatchKind
	addr   uint64
	length uint64
	// value is the watched bytes as last seen, to tell a read (unchanged)
	// from a write under the read/write condition x86 offers for reads.
	value uint64
}

// maxDebugRegs is DR0-DR3.
const maxDebugRegs = 4

// ErrNoDebugRegs says every debug register is taken.
var ErrNoDebugRegs = errors.New("all four debug registers are in use")

// SetBreakpoint sets an execute breakpoint on every vCPU at a linear
// address. Software breakpoints are int3 where the host intercepts it,
// else a free debug register, else single-stepping to the address.
// Hardware breakpoints take a debug register or fail.
func (s *Session) SetBreakpoint(kind BreakKind, addr uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return ErrNotStopped // the vCPU threads read the lists while they run
	}
	if s.bps.find(addr, kind) >= 0 {
		return nil
	}
	if kind == BreakHardware && s.hardwareUsedLocked() >= maxDebugRegs {
		return fmt.Errorf("hardware breakpoint at %#x: %w", addr, ErrNoDebugRegs)
	}
	s.bps.list = append(s.bps.list, &breakpoint{addr: addr, kind: kind, int3: kind == BreakSoftware && s.probe.Int3})
	return nil
}

// ClearBreakpoint removes a breakpoint; removing a missing one is no error.
func (s *Session) ClearBreakpoint(kind BreakKind, addr uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return ErrNotStopped // the vCPU threads read the lists while they run
	}
	if i := s.bps.find(addr, kind); i >= 0 {
		if bp := s.bps.list[i]; bp.planted {
			s.unplantLocked(bp)
		}
		s.bps.list = slices.Delete(s.bps.list, i, i+1)
	}
	return nil
}

// SetWatchpoint watches 1, 2, 4 or 8 bytes (naturally aligned) on every vCPU.
func (s *Session) SetWatchpoint(kind WatchKind, addr, length uint64) error {
	if length != 1 && length != 2 && length != 4 && length != 8 || addr%length != 0 {
		return fmt.Errorf("watchpoint at %#x: %d bytes: x86 watches 1, 2, 4 or 8 naturally aligned bytes", addr, length)
	}
	if kind < WatchWrite || kind > WatchAccess {
		return fmt.Errorf("watchpoint kind %v", kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return ErrNotStopped // the vCPU threads read the lists while they run
	}
	for _, w := range s.wps {
		if w.kind == kind && w.addr == addr && w.length == length {
			return nil
		}
	}
	if s.hardwareUsedLocked() >= maxDebugRegs {
		return fmt.Errorf("watchpoint at %#x: %w", addr, ErrNoDebugRegs)
	}
	s.wps = append(s.wps, &watchpoint{kind: kind, addr: addr, length: length})
	return nil
}

// ClearWatchpoint removes a watchpoint.
func (s *Session) ClearWatchpoint(kind WatchKind, addr, length uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return ErrNotStopped // the vCPU threads read the lists while they run
	}
	s.wps = slices.DeleteFunc(s.wps, func(w *watchpoint) bool {
		return w.kind == kind && w.addr == addr && w.length == length
	})
	return nil
}

// hardwareUsedLocked counts what must have a debug register.
func (s *Session) hardwareUsedLocked() int {
	n := len(s.wps)
	for _, bp := range s.bps.list {
		if bp.kind == BreakHardware {
			n++
		}
	}
	return n
}

// debugSlot is what one of DR0-DR3 holds on a vCPU.
type debugSlot struct {
	used  bool
	exec  bool
	addr  uint64
	watch *watchpoint
}

// DR7 fields for slot i.
func dr7Enable(i int) uint64 { return 1 << (2*i + 1) } // G0..G3

func dr7Cond(i int, rw, length uint64) uint64 {
	var lenBits uint64
	switch length {
	case 2:
		lenBits = 1
	case 4:
		lenBits = 3
	case 8:
		lenBits = 2
	}
	return (rw | lenBits<<2) << (16 + 4*i)
}

// DR6 bits.
const (
	dr6HitMask = 0xf
	dr6Step    = 1 << 14
)

// debugPlan lays the breakpoints out on one vCPU: which go into debug
// registers, and whether the rest need continuing by single steps.
// noExecDR keeps execute breakpoints out of the debug registers (the TCG
// bug with CS.base != 0). A running vCPU's thread may call it too: the
// lists it reads change only while the machine is stopped.
func (s *Session) debugPlanLocked(noExecDR bool) (slots [4]debugSlot, stepping bool) {
	n := 0
	for _, w := range s.wps {
		slots[n] = debugSlot{used: true, addr: w.addr, watch: w}
		n++
	}
	for _, kind := range []BreakKind{BreakHardware, BreakSoftware} {
		for _, bp := range s.bps.list {
			if bp.kind != kind || bp.int3 {
				continue
			}
			if noExecDR || n == maxDebugRegs {
				stepping = true
				continue
			}
			slots[n] = debugSlot{used: true, exec: true, addr: bp.addr}
			n++
		}
	}
	return slots, stepping
}

// guestDebug builds KVM_SET_GUEST_DEBUG's argument from a plan.
func guestDebug(slots [4]debugSlot, int3, step, blockIRQ bool) kvm.GuestDebug {
	d := kvm.GuestDebug{Control: kvm.GuestDebugEnable}
	var dr7 uint64
	for i, sl := range slots {
		if !sl.used {
			continue
		}
		d.DebugReg[i] = sl.addr
		dr7 |= dr7Enable(i)
		if sl.watch != nil {
			rw := uint64(3) // read/write: x86 has no read-only condition
			if sl.watch.kind == WatchWrite {
				rw = 1
			}
			dr7 |= dr7Cond(i, rw, sl.watch.length)
		}
	}
	if dr7 != 0 {
		d.Control |= kvm.GuestDebugUseHWBP
		d.DebugReg[7] = dr7 | 1<<10 // bit 10 reads as one
	}
	if int3 {
		d.Control |= kvm.GuestDebugUseSWBP
	}
	if step {
		d.Control |= kvm.GuestDebugSingleStep
		if blockIRQ {
			d.Control |= kvm.GuestDebugBlockIRQ
		}
	}
	return d
}
