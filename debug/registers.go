package debug

import "github.com/kvmscope/kvmscope/vmm/kvm"

// Registers is everything a debugger shows of one vCPU.
type Registers struct {
	Regs  kvm.Regs
	Sregs kvm.Sregs // segments with bases (FS/GS base are Sregs.FS.Base, GS.Base), CRs, EFER
	FPU   kvm.FPU   // x87 and SSE
	// KernelGSBase is MSR_KERNEL_GS_BASE (what SWAPGS exchanges with GS base).
	KernelGSBase uint64
	// Debug is the guest's own DR0-DR3, DR6, DR7 (not the debugger's).
	Debug kvm.DebugRegs
}

// Mode is the CPU mode these registers put the vCPU in.
func (r *Registers) Mode() Mode { return ModeOf(&r.Regs, &r.Sregs) }

// PC is the linear address of the next instruction.
func (r *Registers) PC() uint64 { return CodeAddress(&r.Regs, &r.Sregs) }
