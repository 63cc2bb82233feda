package debug

import (
	"encoding/binary"
	"fmt"

	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Resume lets the vCPUs go, each with its action (see Resume's doc); the
// next stop arrives on Stops. The machine must be stopped.
func (s *Session) Resume(actions []Resume) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return vmm.ErrMachineStopped
	}
	if s.running {
		return fmt.Errorf("resume: %w", errAlreadyRunning)
	}
	plan := make([]Action, len(s.vcpus))
	def := ActionStay
	for _, a := range actions {
		if a.VCPU == -1 {
			def = a.Action
		}
	}
	for i := range plan {
		plan[i] = def
	}
	for _, a := range actions {
		if a.VCPU >= len(s.vcpus) || a.VCPU < -1 {
			return fmt.Errorf("resume: no vcpu %d", a.VCPU)
		}
		if a.VCPU >= 0 {
			plan[a.VCPU] = a.Action
		}
	}
	go1 := false
	for _, a := range plan {
		go1 = go1 || a != ActionStay
	}
	if !go1 {
		return fmt.Errorf("resume: every vcpu would stay stopped")
	}
	// Arm each vCPU on its own thread, and let it go in the same hand-off.
	s.plantLocked()
	s.running = true
	s.pending = nil
	for id, st := range s.vcpus {
		a := plan[id]
		arm := func(kv *kvm.VCPU) error { return s.arm(kv, st, a) }
		if id == 0 && len(s.wps) > 0 {
			arm = func(kv *kvm.VCPU) error {
				if err := s.arm(kv, st, a); err != nil {
					return err
				}
				s.snapshotWatchesLocked(&st.sregs)
				return nil
			}
		}
		var err error
		if a == ActionStay {
			err = st.v.Do(arm)
		} else {
			st.parked = false
			err = st.v.ContinueAfter(arm)
		}
		if err != nil {
			return fmt.Errorf("resume vcpu %d: %w", id, err)
		}
	}
	return nil
}

var errAlreadyRunning = fmt.Errorf("the machine is already running")

// arm sets a parked vCPU's guest-debug state for its action. It runs on
// the vCPU's thread while Resume holds the session's lock.
func (s *Session) arm(kv *kvm.VCPU, st *vcpuState, a Action) error {
	var regs kvm.Regs
	if r, sr, ok := st.v.ExitState(); ok && !st.regsWritten {
		regs, st.sregs = *r, *sr
	} else {
		if err := kv.GetRegs(&regs); err != nil {
			return err
		}
		if err := kv.GetSregs(&st.sregs); err != nil {
			return err
		}
	}
	pc := CodeAddress(&regs, &st.sregs)
	st.noExecDR = s.noExecDR(&regs, &st.sregs)
	slots, stepping := s.debugPlanLocked(st.noExecDR)
	st.action = a
	st.dr = slots
	st.stepping = stepping && a == ActionContinue
	st.event = nil
	// Off a breakpoint it just reported, a vCPU first steps without it.
	st.stepOver = a != ActionStay && st.hasHit && st.lastHit == pc && s.bps.at(pc)
	st.lastStepOver = pc
	st.hasHit = false
	int3 := s.probe.Int3 && len(s.bps.list) > 0
	step := a == ActionStep || st.stepping || st.stepOver
	armed := slots
	if st.stepOver {
		armed = withoutExec(slots)
		for _, bp := range s.bps.list {
			if bp.planted && bp.addr == pc {
				s.unplantLocked(bp) // replanted when the step is done
			}
		}
	}
	d := guestDebug(armed, int3, step, s.stepIRQ && s.probe.BlockIRQ)
	if a == ActionStay {
		d = guestDebug(slots, int3, false, false)
	}
	return kv.SetGuestDebug(&d)
}

// noExecDR says whether execute breakpoints must stay out of the debug
// registers for a vCPU in this state: QEMU TCG's crash when one hits
// while CS.base != 0 (see Probe.TCG).
func (s *Session) noExecDR(regs *kvm.Regs, sregs *kvm.Sregs) bool {
	return s.probe.TCG && sregs.CS.Base != 0 && ModeOf(regs, sregs) != ModeLong64
}

func withoutExec(slots [4]debugSlot) [4]debugSlot {
	for i := range slots {
		if slots[i].exec {
			slots[i] = debugSlot{}
		}
	}
	return slots
}

// DebugExit is the machine's hook for KVM_EXIT_DEBUG, on the vCPU's
// thread: decide whether this is a stop to report or a step of our own.
func (s *Session) DebugExit(v *vmm.VCPU, info *kvm.ExitDebugInfo) bool {
	st := s.vcpus[v.ID()]
	kv := v.KVM()
	switch {
	case info.Exception == 3: // int3
		if s.isInt3(info.PC) {
			st.event = &StopEvent{Kind: StopBreakpoint, VCPU: v.ID(), Addr: info.PC}
			return true
		}
		s.reinjectInt3(kv)
		return false
	case info.DR6&(dr6HitMask|dr6Step) != 0:
		// B0-B3 are sticky and may be set for slots we never armed (the
		// CPU sets them on a matching condition even when DR7 leaves the
		// slot off), so a hit bit alone says nothing: look only at armed
		// slots, and when none of them hit, a step bit still means a step.
		for i := range maxDebugRegs {
			if info.DR6&(1<<i) == 0 || !st.dr[i].used {
				continue
			}
			sl := st.dr[i]
			if sl.exec {
				st.event = &StopEvent{Kind: StopBreakpoint, VCPU: v.ID(), Addr: sl.addr}
				return true
			}
			if s.watchHit(v, sl.watch) {
				st.event = &StopEvent{Kind: StopWatchpoint, VCPU: v.ID(), Addr: sl.addr, Watch: sl.watch.kind}
				return true
			}
		}
		if info.DR6&dr6Step != 0 {
			return s.stepDone(v, st, info.PC)
		}
		return false
	}
	// A debug exit we did not ask for: report it rather than lose it.
	st.event = &StopEvent{Kind: StopStep, VCPU: v.ID(), Addr: info.PC}
	return true
}

// stepDone handles a finished single-step.
func (s *Session) stepDone(v *vmm.VCPU, st *vcpuState, pc uint64) bool {
	if st.stepOver {
		st.stepOver = false
		s.replantAfterStepOver(st)
		if st.action == ActionStep {
			st.event = &StopEvent{Kind: StopStep, VCPU: v.ID(), Addr: pc}
			return true
		}
		d := guestDebug(st.dr, s.probe.Int3 && s.hasInt3(), st.stepping, s.stepIRQ && s.probe.BlockIRQ)
		v.KVM().SetGuestDebug(&d)
		if st.stepping && s.execBreakpointAt(pc) {
			st.event = &StopEvent{Kind: StopBreakpoint, VCPU: v.ID(), Addr: pc}
			return true
		}
		return false
	}
	if st.stepping {
		if s.execBreakpointAt(pc) {
			st.event = &StopEvent{Kind: StopBreakpoint, VCPU: v.ID(), Addr: pc}
			return true
		}
		if st.noExecDR {
			// Stepping only because the emulator's execute breakpoints
			// fail while CS.base != 0: once the guest leaves such code
			// (an AP's real-mode trampoline, firmware), the debug
			// registers take over and the vCPU runs at full speed.
			if r, sr, ok := v.ExitState(); ok && !s.noExecDR(r, sr) {
				st.noExecDR = false
				st.dr, st.stepping = s.debugPlanLocked(false)
			}
		}
		// Re-arm every step: stepping across the guest's far jump into
		// protected mode lost the trap flag on QEMU TCG (seen), and the
		// breakpoints after it went by unseen.
		d := guestDebug(st.dr, s.probe.Int3 && s.hasInt3(), st.stepping, s.stepIRQ && s.probe.BlockIRQ)
		v.KVM().SetGuestDebug(&d)
		return false
	}
	st.event = &StopEvent{Kind: StopStep, VCPU: v.ID(), Addr: pc}
	return true
}

// The breakpoint list changes only while the machine is stopped, so the
// vCPU threads may read it while they run.
func (s *Session) execBreakpointAt(pc uint64) bool { return s.bps.at(pc) }

func (s *Session) isInt3(pc uint64) bool {
	for _, bp := range s.bps.list {
		if bp.int3 && bp.addr == pc {
			return true
		}
	}
	return false
}

func (s *Session) hasInt3() bool {
	for _, bp := range s.bps.list {
		if bp.int3 {
			return true
		}
	}
	return false
}

// reinjectInt3 gives the guest its own int3 back: KVM stopped at the
// instruction, so step RIP past it and inject #BP as the CPU would have.
func (s *Session) reinjectInt3(kv *kvm.VCPU) {
	var regs kvm.Regs
	if kv.GetRegs(&regs) != nil {
		return
	}
	regs.RIP++
	kv.SetRegs(&regs)
	st := kvm.GuestDebug{Control: kvm.GuestDebugEnable | kvm.GuestDebugUseSWBP | kvm.GuestDebugInjectBP}
	kv.SetGuestDebug(&st)
}

// watchHit decides whether a data breakpoint hit is a stop: x86 has no
// read-only condition, so a read watchpoint uses read/write and lets pass
// the hits that changed the value (writes). A write of the same value is
// reported as a read: that is the documented limit.
func (s *Session) watchHit(v *vmm.VCPU, w *watchpoint) bool {
	if w.kind == WatchWrite {
		return true
	}
	var sregs kvm.Sregs
	if v.KVM().GetSregs(&sregs) != nil {
		return true
	}
	var buf [8]byte
	if _, err := ReadLinear(s.m, &sregs, w.addr, buf[:w.length]); err != nil {
		return true
	}
	now := binary.LittleEndian.Uint64(buf[:])
	changed := now != w.value
	w.value = now
	return w.kind == WatchAccess || !changed
}

// plantLocked writes int3 over every software breakpoint, translating
// each through vCPU 0's mode as of its last stop; a breakpoint whose
// address is not mapped yet stays unplanted (and so is not hit).
func (s *Session) plantLocked() {
	if !s.probe.Int3 {
		return
	}
	sregs, err := s.sregsLocked(0)
	if err != nil {
		return
	}
	for _, bp := range s.bps.list {
		if !bp.int3 || bp.planted || s.steppingOver(bp.addr) {
			continue
		}
		phys, err := Translate(s.m, &sregs, bp.addr)
		if err != nil {
			continue
		}
		var b [1]byte
		if _, err := s.m.ReadPhys(phys, b[:]); err != nil {
			continue
		}
		if _, err := s.m.WritePhys(phys, []byte{0xcc}); err != nil {
			continue
		}
		bp.phys, bp.orig, bp.planted = phys, b[0], true
	}
}

// unplantLocked puts back the byte a planted int3 replaced.
func (s *Session) unplantLocked(bp *breakpoint) {
	s.m.WritePhys(bp.phys, []byte{bp.orig})
	bp.planted = false
}

func (s *Session) unplantAllLocked() {
	for _, bp := range s.bps.list {
		if bp.planted {
			s.unplantLocked(bp)
		}
	}
}

// snapshotWatchesLocked records the watched values before the guest runs.
func (s *Session) snapshotWatchesLocked(sregs *kvm.Sregs) {
	for _, w := range s.wps {
		var buf [8]byte
		if _, err := ReadLinear(s.m, sregs, w.addr, buf[:w.length]); err == nil {
			w.value = binary.LittleEndian.Uint64(buf[:])
		}
	}
}

// steppingOver reports whether some vCPU steps off a breakpoint at addr,
// which must stay unplanted for that step.
func (s *Session) steppingOver(addr uint64) bool {
	for _, st := range s.vcpus {
		if st.stepOver && st.lastStepOver == addr {
			return true
		}
	}
	return false
}

// replantAfterStepOver plants the int3 a vCPU just stepped off. It runs on
// the vCPU's thread while others may run: a vCPU passing the address in
// that window misses the breakpoint, as in any all-stop debugger.
func (s *Session) replantAfterStepOver(st *vcpuState) {
	if !s.probe.Int3 {
		return
	}
	for _, bp := range s.bps.list {
		if bp.int3 && !bp.planted && bp.addr == st.lastStepOver {
			phys, err := Translate(s.m, &st.sregs, bp.addr)
			if err != nil {
				return
			}
			var b [1]byte
			if _, err := s.m.ReadPhys(phys, b[:]); err == nil {
				if _, err := s.m.WritePhys(phys, []byte{0xcc}); err == nil {
					bp.phys, bp.orig, bp.planted = phys, b[0], true
				}
			}
		}
	}
}
