package debug

import "github.com/kvmscope/kvmscope/vmm/kvm"

// Mode is the CPU's execution mode, as a debugger must know it to decode
// instructions and translate addresses.
type Mode int

const (
	ModeReal        Mode = iota // CR0.PE clear
	ModeVM86                    // RFLAGS.VM set
	ModeProtected16             // CS.D clear
	ModeProtected32
	ModeCompat16 // long mode, 16-bit code segment
	ModeCompat32 // long mode, 32-bit code segment
	ModeLong64
)

var modeNames = [...]string{
	ModeReal: "real mode", ModeVM86: "virtual-8086 mode",
	ModeProtected16: "16-bit protected mode", ModeProtected32: "32-bit protected mode",
	ModeCompat16: "16-bit compatibility mode", ModeCompat32: "32-bit compatibility mode",
	ModeLong64: "64-bit long mode",
}

func (m Mode) String() string { return modeNames[m] }

// Bits is the default operand and address size of code in this mode.
func (m Mode) Bits() int {
	switch m {
	case ModeLong64:
		return 64
	case ModeProtected32, ModeCompat32:
		return 32
	}
	return 16
}

// ModeOf derives the mode from the registers.
func ModeOf(regs *kvm.Regs, sregs *kvm.Sregs) Mode {
	switch {
	case sregs.CR0&kvm.CR0_PE == 0:
		return ModeReal
	case sregs.EFER&kvm.EFER_LMA != 0 && sregs.CS.L != 0:
		return ModeLong64
	case sregs.EFER&kvm.EFER_LMA != 0 && sregs.CS.DB != 0:
		return ModeCompat32
	case sregs.EFER&kvm.EFER_LMA != 0:
		return ModeCompat16
	case regs.RFLAGS&kvm.RFLAGS_VM != 0:
		return ModeVM86
	case sregs.CS.DB != 0:
		return ModeProtected32
	}
	return ModeProtected16
}

// CodeAddress is the linear address of the next instruction: CS.base +
// RIP, except in 64-bit mode where CS.base is ignored.
func CodeAddress(regs *kvm.Regs, sregs *kvm.Sregs) uint64 {
	mode := ModeOf(regs, sregs)
	switch mode {
	case ModeLong64:
		return regs.RIP
	case ModeReal, ModeVM86, ModeProtected16, ModeCompat16:
		return (sregs.CS.Base + regs.RIP&0xffff) & 0xffffffff
	}
	return (sregs.CS.Base + regs.RIP) & 0xffffffff
}
