package vmm

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kvmscope/kvmscope/vmm/exitstats"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// VCPU is one virtual CPU and the OS thread that runs it.
type VCPU struct {
	m      *Machine
	id     int
	kv     *kvm.VCPU
	run    *kvm.Run
	ioData func() ([]byte, error)
	tid    int // the OS thread, for kicks; set before the vCPU is published
	stats  *exitstats.VCPU

	// key is the exit-table row of the exit being handled; handlers refine
	// it (an I/O exit names its port's device).
	key exitstats.Key
	// last is the state at the previous exit to user space, copied from
	// kvm_run's sync area; lastValid says it was filled.
	last      CPUState
	lastValid bool
	syncRegs  bool

	// Run control (control.go): pauseReq asks the thread to park; parked
	// says it has; ctl carries requests to a parked vCPU.
	pauseReq atomic.Bool
	parked   atomic.Bool
	ctl      chan control
	wake     chan struct{} // kick's nudge for a vCPU waiting in user space

	kstats *kvm.Stats // KVM's counters for this vCPU (kernelstats.go)

	// The exit being handled is recorded at the next entry, whose clock
	// read ends its handling (loop).
	pending    bool
	pendingKey exitstats.Key
	pendingRun time.Duration
	pendingEnd int64 // monotonic ns
	entered    bool  // has entered the guest once
}

// startVCPUs creates every vCPU on its own locked OS thread and lets them
// run. It returns once all are created (or one failed to be).
func (m *Machine) startVCPUs() error {
	ready := make(chan error, m.cfg.CPUs)
	start := make(chan struct{})
	defer close(start)
	m.vcpus = make([]*VCPU, 0, m.cfg.CPUs)
	vcpus := make(chan *VCPU, m.cfg.CPUs)
	for id := 0; id < m.cfg.CPUs; id++ {
		v := &VCPU{m: m, id: id, stats: new(exitstats.VCPU), ctl: make(chan control), wake: make(chan struct{}, 1)}
		m.wg.Add(1)
		go v.thread(ready, vcpus, start)
	}
	var first error
	for range m.cfg.CPUs {
		if err := <-ready; err != nil && first == nil {
			first = err
		}
	}
	close(vcpus)
	for v := range vcpus {
		m.vcpus = append(m.vcpus, v)
	}
	if first != nil {
		m.requestStop(Stop{Kind: StopError, VCPU: -1, Err: first})
		return first
	}
	m.startTrace()
	close(m.startedCh)
	return nil
}

// thread is the vCPU's whole life. It runs the guest only once start is
// closed, when every vCPU is published in m.vcpus. The goroutine never
// unlocks its thread: when it returns, the thread goes with it.
func (v *VCPU) thread(ready chan<- error, publish chan<- *VCPU, start <-chan struct{}) {
	defer v.m.wg.Done()
	runtime.LockOSThread()
	v.tid = unix.Gettid()
	if err := v.create(); err != nil {
		ready <- fmt.Errorf("vcpu %d: %w", v.id, err)
		return
	}
	publish <- v
	ready <- nil
	<-start
	if stop := v.loop(); stop != nil {
		v.m.requestStop(*stop)
	}
}

func (v *VCPU) create() error {
	kv, err := v.m.vm.CreateVCPU(v.id)
	if err != nil {
		return err
	}
	v.kv, v.run, v.ioData = kv, kv.Run(), kv.IOData
	v.openKernelStats()
	if v.id == 0 && v.m.offered.Has(ExtCoalescedMMIO) {
		v.m.ring = kv.CoalescedRing()
	}
	cpuid := cpuidFor(v.m.cpuid, v.id, v.m.cfg.CPUs)
	if v.m.userIRQ != nil {
		hideAPIC(cpuid)
	}
	if err := kv.SetCPUID2(cpuid); err != nil {
		return err
	}
	if v.m.sys.CheckExtension(kvm.CapSyncRegs) != 0 {
		v.run.ValidRegs = kvm.SyncRegsGPR | kvm.SyncRegsSregs
		v.syncRegs = true
	}
	if v.id == 0 && !v.m.image.Entry.Reset {
		var regs kvm.Regs
		var sregs kvm.Sregs
		if err := kv.GetSregs(&sregs); err != nil {
			return err
		}
		if err := kv.GetRegs(&regs); err != nil {
			return err
		}
		v.m.image.Entry.Setup(&regs, &sregs)
		if err := kv.SetSregs(&sregs); err != nil {
			return err
		}
		if err := kv.SetRegs(&regs); err != nil {
			return err
		}
	}
	return nil
}

// loop runs the guest until the machine stops or this vCPU must stop it.
// This is the exit path: it neither allocates nor locks.
func (v *VCPU) loop() *Stop {
	if v.m.cfg.StartPaused && !v.park() {
		return nil
	}
	acct := !v.m.noAccounting
	var t0, t1 int64 // monotonic ns
	for !v.m.stopping() {
		if v.pauseReq.Load() {
			v.flushRecord(monotonic())
			if !v.park() {
				return nil
			}
			continue
		}
		if u := v.m.userIRQ; u != nil {
			u.inject(v)
		}
		if !v.entered {
			v.entered = true
			if v.id == 0 {
				v.m.firstEntry.Store(time.Now().UnixNano())
			}
		}
		if acct {
			// One clock read ends the previous exit's handling and starts
			// this round trip: two reads per exit, not three.
			t0 = monotonic()
			if v.pending {
				v.stats.Record(v.pendingKey, v.pendingRun, time.Duration(t0-v.pendingEnd))
				v.pending = false
			}
		}
		err := v.kv.Enter()
		if acct {
			t1 = monotonic()
		}
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				v.stats.Count(v.m.intrKey)
				v.run.ClearImmediateExit()
				continue
			}
			return &Stop{Kind: StopError, VCPU: v.id, Err: fmt.Errorf("vcpu %d: KVM_RUN: %w", v.id, err)}
		}
		if n := v.m.drainCoalesced(); n > 0 {
			v.stats.CountN(v.m.ringKey, uint64(n))
		}
		reason := v.run.ExitReason
		v.key = v.m.exitKeys[reason%kvm.NumExitReasons]
		action, stop := v.dispatch(reason)
		if acct {
			v.pendingKey, v.pendingRun, v.pending = v.key, time.Duration(t1-t0), true
			v.pendingEnd = t1
		}
		switch action {
		case stopVCPU:
			v.flushRecord(monotonic())
			return stop
		case parkVCPU:
			v.flushRecord(monotonic())
			if !v.park() {
				return nil
			}
		}
		if v.syncRegs {
			v.last.Regs, v.last.Sregs = v.run.Sync.Regs, v.run.Sync.Sregs
			v.lastValid = true
		}
	}
	v.flushRecord(monotonic())
	return nil
}

// flushRecord accounts the exit whose handling ends at end, before the
// vCPU stops or parks (otherwise the next entry does it).
func (v *VCPU) flushRecord(end int64) {
	if v.pending {
		v.stats.Record(v.pendingKey, v.pendingRun, time.Duration(end-v.pendingEnd))
		v.pending = false
	}
}

// kick makes the vCPU leave KVM_RUN promptly: immediate_exit covers the
// window before it enters, the signal the time inside. Safe from any
// goroutine. SIGURG is the Go runtime's own preemption signal, so its
// handler is always installed and harmless.
func (v *VCPU) kick() {
	if v.run == nil {
		return
	}
	v.run.SetImmediateExit()
	unix.Tgkill(unix.Getpid(), v.tid, unix.SIGURG)
	signal(v.wake)
}
