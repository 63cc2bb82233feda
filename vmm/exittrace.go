package vmm

import (
	"errors"

	"github.com/kvmscope/kvmscope/vmm/ktrace"
)

// ErrTraceOff is ExitReasons' error when Config.TraceExits was not set.
var ErrTraceOff = errors.New("tracing of KVM's exit events was not asked for")

// startTrace starts reading KVM's exit events for the vCPU threads, once
// they exist and before any enters the guest, so that no exit is missed.
// A host that cannot trace is not an error: ExitReasons reports it.
func (m *Machine) startTrace() {
	if !m.cfg.TraceExits {
		m.traceErr = ErrTraceOff
		return
	}
	tids := make([]int, len(m.vcpus))
	for i, v := range m.vcpus {
		tids[i] = v.tid
	}
	m.trace, m.traceErr = ktrace.Start(tids)
}

// stopTrace takes in the last events once the vCPUs have stopped and
// removes the tracefs instance.
func (m *Machine) stopTrace() {
	if m.trace == nil {
		return
	}
	m.trace.Close() // its error is the tracer's Err, which ExitReasons returns
}

// ExitReasons is the per-hardware-reason table from KVM's kvm_exit and
// kvm_entry events: per reason, the exits KVM handled in the kernel and
// those that came to user space, with the time of each path. Final once
// Run has returned; while the guest runs it lags by a few tens of
// milliseconds. The error says why there is no table (ErrTraceOff, or
// one wrapping ktrace.ErrUnavailable: no tracefs, not root, ...) or that
// reading failed part way (then the snapshot holds what was read).
func (m *Machine) ExitReasons() (ktrace.Snapshot, error) {
	select {
	case <-m.startedCh:
	default:
		return ktrace.Snapshot{}, errors.New("the machine has not started")
	}
	if m.trace == nil {
		return ktrace.Snapshot{}, m.traceErr
	}
	s := m.trace.Snapshot()
	if err := m.trace.Err(); err != nil {
		return s, err
	}
	return s, nil
}
