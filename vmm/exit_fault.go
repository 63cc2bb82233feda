package vmm

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// handleHLT: with the in-kernel irqchip KVM handles HLT itself. An HLT
// that reaches us with interrupts off has stopped the guest for good,
// which is how simple guests end; with interrupts on, it waits for our
// own PIC to have one.
func handleHLT(v *VCPU) (action, *Stop) {
	if v.run.IFFlag == 0 {
		return stopVCPU, &Stop{Kind: StopPowerOff, VCPU: v.id, Detail: "HLT with interrupts disabled"}
	}
	if u := v.m.userIRQ; u != nil {
		u.waitInterrupt(v)
	}
	return continueVCPU, nil
}

// handleShutdown is a triple fault (or another shutdown condition).
func handleShutdown(v *VCPU) (action, *Stop) {
	return stopVCPU, v.fault(kvm.ExitShutdown, "triple fault (KVM_EXIT_SHUTDOWN)")
}

func handleFailEntry(v *VCPU) (action, *Stop) {
	fe := v.run.FailEntry()
	s := v.fault(kvm.ExitFailEntry, "VM entry failed (KVM_EXIT_FAIL_ENTRY)")
	s.Fault.Info = []uint64{fe.HardwareEntryFailureReason, uint64(fe.CPU)}
	return stopVCPU, s
}

func handleInternalError(v *VCPU) (action, *Stop) {
	ie := v.run.Internal()
	s := v.fault(kvm.ExitInternalError, "KVM internal error ("+internalErrorName(ie.Suberror)+")")
	n := min(int(ie.NData), len(ie.Data))
	s.Fault.Info = append([]uint64{uint64(ie.Suberror)}, ie.Data[:n]...)
	return stopVCPU, s
}

func internalErrorName(sub uint32) string {
	switch sub {
	case kvm.InternalErrorEmulation:
		return "instruction emulation failed"
	case kvm.InternalErrorSimulEx:
		return "exception while delivering an exception"
	case kvm.InternalErrorDeliveryEv:
		return "event delivery failed"
	case kvm.InternalErrorUnexpectedExitReason:
		return "unexpected hardware exit reason"
	}
	return "suberror " + strconv.FormatUint(uint64(sub), 10)
}

func handleSystemEvent(v *VCPU) (action, *Stop) {
	switch ev := v.run.SystemEvent(); ev.Type {
	case kvm.SystemEventReset:
		return stopVCPU, &Stop{Kind: StopReset, VCPU: v.id, Detail: "KVM system event reset"}
	case kvm.SystemEventShutdown:
		return stopVCPU, &Stop{Kind: StopPowerOff, VCPU: v.id, Detail: "KVM system event shutdown"}
	default:
		return stopVCPU, v.fault(kvm.ExitSystemEvent, "KVM system event "+strconv.FormatUint(uint64(ev.Type), 10))
	}
}

// fault captures the vCPU's state for a fault report. It runs on the
// vCPU's thread, off the fast path.
func (v *VCPU) fault(exit kvm.ExitReason, detail string) *Stop {
	f := &Fault{Exit: exit}
	v.kv.GetRegs(&f.Now.Regs)
	v.kv.GetSregs(&f.Now.Sregs)
	if v.lastValid {
		last := v.last
		f.LastExit = &last
	}
	f.ResetByKVM = exit == kvm.ExitShutdown && hostIsAMD()
	return &Stop{Kind: StopFault, VCPU: v.id, Detail: detail, Fault: f}
}

// hostIsAMD tells whether KVM runs on SVM, where it resets a vCPU on a
// shutdown intercept before reporting it.
var hostIsAMD = sync.OnceValue(func() bool {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, val, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "vendor_id" {
			return strings.TrimSpace(val) == "AuthenticAMD"
		}
	}
	return false
})
