package vmm

import (
	"time"

	"github.com/kvmscope/kvmscope/vmm/devices"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Without the in-kernel irqchip, interrupts are kvmscope's business: its
// own 8259 PIC and 8254 PIT take the guest's port writes, a timer
// goroutine turns PIT periods into IRQ 0 edges, and the vCPU thread
// injects the PIC's vector before entering the guest, asking KVM for an
// interrupt-window exit when the guest cannot take it yet. This is the
// "extensions off" machine: every interrupt costs user-space exits.

// userIRQ is the user-space interrupt path of a single-vCPU machine.
type userIRQ struct {
	pic    *devices.PIC
	pit    *devices.PIT
	start  time.Time
	pitSet chan struct{} // the guest reprogrammed channel 0
}

func (m *Machine) newUserIRQ() *userIRQ {
	u := &userIRQ{pic: devices.NewPIC(), start: time.Now(), pitSet: make(chan struct{}, 1)}
	u.pit = devices.NewPIT(u.clock, func(level bool) { u.pic.SetIRQ(0, level) })
	u.pit.Changed = func() { signal(u.pitSet) }
	u.pic.Notify = m.interruptPending
	return u
}

func (u *userIRQ) clock() time.Duration { return time.Since(u.start) }

// signal is a non-blocking send on a 1-buffered channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// interruptPending wakes vCPU 0 to take an interrupt: out of KVM_RUN, or
// out of its HLT wait.
func (m *Machine) interruptPending() {
	if vs := m.VCPUs(); len(vs) > 0 {
		vs[0].kick()
	}
}

// timer raises IRQ 0 when the PIT's channel 0 says so, until the machine
// stops. A floor between wake-ups keeps a tiny guest-programmed period
// from spinning the host; the PIT merges the periods it missed.
func (u *userIRQ) timer(stop <-chan struct{}) {
	const floor = 200 * time.Microsecond
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		wait := time.Hour
		if next, ok := u.pit.NextEvent(); ok {
			wait = max(next-u.clock(), floor)
		}
		t.Reset(wait)
		select {
		case <-t.C:
			u.pit.Tick(u.clock())
		case <-u.pitSet:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		case <-stop:
			return
		}
	}
}

// inject runs on the vCPU thread before KVM_RUN: hand the guest the PIC's
// interrupt when it can take one, else ask to be told when it can.
func (u *userIRQ) inject(v *VCPU) {
	if !u.pic.HasInterrupt() {
		v.run.SetRequestInterruptWindow(false)
		return
	}
	if v.run.ReadyForInterruptInjection != 0 {
		if vec, ok := u.pic.Acknowledge(); ok {
			v.kv.Interrupt(uint32(vec))
		}
	}
	v.run.SetRequestInterruptWindow(u.pic.HasInterrupt())
}

// waitInterrupt holds a halted vCPU until an interrupt is pending or
// something else needs it (a pause, the machine's end).
func (u *userIRQ) waitInterrupt(v *VCPU) {
	for !u.pic.HasInterrupt() && !v.pauseReq.Load() && !v.m.stopping() {
		select {
		case <-v.wake:
		case <-v.m.stopCh:
		}
	}
	v.run.ClearImmediateExit()
}

// wireUserIRQ claims the legacy interrupt controller ports.
func (m *Machine) wireUserIRQ() error {
	u := m.newUserIRQ()
	m.userIRQ = u
	m.serial.IRQ = func(level bool) { u.pic.SetIRQ(4, level) }
	for _, d := range []struct {
		base, size uint64
		name       string
		dev        devices.Device
	}{
		{0x20, 2, "pic master", u.pic.Master()},
		{0xa0, 2, "pic slave", u.pic.Slave()},
		{0x4d0, 2, "elcr", u.pic.ELCR()},
		{0x40, 4, "pit", u.pit},
		{0x61, 1, "port 61", u.pit.Port61()},
	} {
		if _, err := m.pio.Register(d.base, d.size, d.name, d.dev); err != nil {
			return err
		}
	}
	return nil
}

// hideAPIC removes the local APIC from CPUID when there is none.
func hideAPIC(entries []kvm.CPUIDEntry) {
	for i := range entries {
		if entries[i].Function == 1 {
			entries[i].EDX &^= 1 << 9  // APIC
			entries[i].ECX &^= 1 << 21 // x2APIC
		}
	}
}
