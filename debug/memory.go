package debug

import (
	"fmt"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// sregsLocked reads a vCPU's segments and control registers: fresh when
// the machine is stopped, as of its last stop while it runs.
func (s *Session) sregsLocked(id int) (kvm.Sregs, error) {
	if id < 0 || id >= len(s.vcpus) {
		return kvm.Sregs{}, fmt.Errorf("no vcpu %d (the machine has %d)", id, len(s.vcpus))
	}
	st := s.vcpus[id]
	if s.running || s.ended || !st.parked {
		return st.sregs, nil
	}
	err := st.v.Do(func(kv *kvm.VCPU) error { return kv.GetSregs(&st.sregs) })
	return st.sregs, err
}

// ReadVirtual reads guest memory at a linear address of the vCPU's
// current mode (real mode: CS.base + IP and the like), walking its page
// tables. Allowed while the guest runs: then the translation uses the
// vCPU's state at its last stop. Unmapped addresses are an error.
func (s *Session) ReadVirtual(id int, addr uint64, buf []byte) (int, error) {
	s.mu.Lock()
	sregs, err := s.sregsLocked(id)
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return ReadLinear(s.m, &sregs, addr, buf)
}

// WriteVirtual writes guest memory at a linear address; only while stopped.
func (s *Session) WriteVirtual(id int, addr uint64, buf []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.ended {
		return 0, ErrNotStopped
	}
	sregs, err := s.sregsLocked(id)
	if err != nil {
		return 0, err
	}
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		phys, err := Translate(s.m, &sregs, a)
		if err != nil {
			return n, err
		}
		chunk := min(len(buf)-n, int(0x1000-a&0xfff))
		m, err := s.m.WritePhys(phys, buf[n:n+chunk])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ReadPhys reads guest-physical memory; allowed while running.
func (s *Session) ReadPhys(addr uint64, buf []byte) (int, error) { return s.m.ReadPhys(addr, buf) }

// WritePhys writes guest-physical memory; only while stopped.
func (s *Session) WritePhys(addr uint64, buf []byte) (int, error) {
	if !s.Stopped() {
		return 0, ErrNotStopped
	}
	return s.m.WritePhys(addr, buf)
}

// BreakpointStrategy says how breakpoints work on this host.
func (s *Session) BreakpointStrategy() string { return s.probe.Strategy() }

// Probe returns what the session knows of the host.
func (s *Session) Probe() Probe { return s.probe }
