package debug

import (
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/kvmscope/kvmscope/internal/hostcpu"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Probe is what this host's KVM can do for a debugger, found by trying.
type Probe struct {
	// Int3 says KVM traps the guest's int3 for us (KVM_GUESTDBG_USE_SW_BP).
	// QEMU's software emulator does not deliver that intercept.
	Int3 bool
	// BlockIRQ says single-steps can keep interrupts out (KVM_GUESTDBG_BLOCKIRQ).
	BlockIRQ bool
	// TCG says the host is QEMU's software emulator, which crashes on a
	// debug-register execute breakpoint hit while CS.base is not 0.
	TCG bool
	// Hypervisor is the host's own hypervisor signature, if any.
	Hypervisor string
}

// Strategy says in words how breakpoints are implemented here.
func (p Probe) Strategy() string {
	var b strings.Builder
	if p.Int3 {
		b.WriteString("software breakpoints: int3, trapped by KVM; they work before paging is on and across its switch (kept by physical address)\n")
	} else {
		b.WriteString("software breakpoints: this host does not deliver the int3 intercept, so they use free debug registers (DR0-DR3, matching linear addresses) and, beyond those, single-stepping until RIP reaches one\n")
	}
	b.WriteString("hardware breakpoints and watchpoints: DR0-DR3 (four in all)\n")
	if p.TCG {
		b.WriteString("host is QEMU TCG (CPUID 0x40000000 \"TCGTCGTCGTCG\"): execute breakpoints while CS.base != 0 (real mode) use single-stepping, since its debug-register breakpoints crash the emulator there\n")
	}
	if p.BlockIRQ {
		b.WriteString("single-step: interrupts can be blocked while stepping (monitor step-irq)\n")
	} else {
		b.WriteString("single-step: this KVM cannot block interrupts while stepping\n")
	}
	return b.String()
}

// ProbeHost tries a throw-away VM: does KVM hand us the guest's int3?
func ProbeHost() (Probe, error) {
	p := Probe{Hypervisor: hostcpu.HypervisorVendor()}
	p.TCG = p.Hypervisor == "TCGTCGTCGTCG"
	sys, err := kvm.Open()
	if err != nil {
		return p, err
	}
	defer sys.Close()
	p.BlockIRQ = uint64(sys.CheckExtension(kvm.CapSetGuestDebug2))&kvm.GuestDebugBlockIRQ != 0
	p.Int3, err = probeInt3(sys)
	return p, err
}

// probeInt3 runs, in real mode at 0x1000, an int3 followed by hlt, with
// the #BP vector pointing at a second hlt. A debug exit means KVM trapped
// the int3; a HLT exit means the guest took it.
func probeInt3(sys *kvm.System) (bool, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	vm, err := sys.CreateVM()
	if err != nil {
		return false, err
	}
	defer vm.Close()
	mem, err := unix.Mmap(-1, 0, 0x10000, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return false, fmt.Errorf("probe memory: %w", err)
	}
	defer unix.Munmap(mem)
	copy(mem[0x1000:], []byte{0xcc, 0xf4}) // int3; hlt
	mem[0x2000] = 0xf4                     // the #BP handler: hlt
	mem[3*4], mem[3*4+1] = 0x00, 0x20      // IVT[3] = 0000:2000
	if err := vm.SetUserMemoryRegion(&kvm.UserMemoryRegion{MemorySize: uint64(len(mem)), UserspaceAddr: kvm.HostAddr(mem)}); err != nil {
		return false, err
	}
	v, err := vm.CreateVCPU(0)
	if err != nil {
		return false, err
	}
	defer v.Close()
	var sregs kvm.Sregs
	if err := v.GetSregs(&sregs); err != nil {
		return false, err
	}
	sregs.CS.Base, sregs.CS.Selector = 0, 0
	if err := v.SetSregs(&sregs); err != nil {
		return false, err
	}
	if err := v.SetRegs(&kvm.Regs{RIP: 0x1000, RSP: 0x8000, RFLAGS: kvm.RFLAGS_FIXED}); err != nil {
		return false, err
	}
	if err := v.SetGuestDebug(&kvm.GuestDebug{Control: kvm.GuestDebugEnable | kvm.GuestDebugUseSWBP}); err != nil {
		return false, err
	}
	for range 10 {
		err := v.Enter()
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("probe KVM_RUN: %w", err)
		}
		switch r := v.Run(); r.ExitReason {
		case kvm.ExitDebug:
			return r.Debug().Exception == 3, nil
		case kvm.ExitHLT:
			return false, nil
		default:
			return false, fmt.Errorf("probe: unexpected exit %v", r.ExitReason)
		}
	}
	return false, fmt.Errorf("probe: KVM_RUN kept being interrupted")
}
