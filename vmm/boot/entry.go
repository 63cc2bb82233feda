package boot

import "github.com/kvmscope/kvmscope/vmm/kvm"

// Entry says how the boot vCPU starts.
//
// For Reset entries only Mode is meaningful. Otherwise the fields are the
// complete entry state: Setup writes them into the registers, and the
// loader has written a GDT into guest RAM whose descriptors decode to
// exactly CS, Data and TR, so that a guest reloading a segment register
// from the GDT keeps the segment it started with.
type Entry struct {
	Mode  string // "real", "protected", "long": for messages
	Reset bool   // true: keep the vCPU's architectural reset state (F000:FFF0); Setup does nothing

	RIP uint64
	// RSI and RBX carry a boot protocol's pointer: the Linux zero page
	// (boot_params) in RSI, the PVH start info or the multiboot
	// information in EBX; RAX a protocol's magic (multiboot's 0x2BADB002).
	// Every other general-purpose register starts at zero.
	RAX, RSI, RBX uint64

	CR0  uint64
	CR3  uint64 // the PML4 in long mode, 0 with paging off
	CR4  uint64
	EFER uint64

	GDT  kvm.DTable
	CS   kvm.Segment
	Data kvm.Segment // loaded into DS, ES, FS, GS and SS
	TR   kvm.Segment

	// NoLocalAPIC disables the vCPU's local APIC in IA32_APIC_BASE, for a
	// machine without one (no in-kernel irqchip). KVM derives CPUID's APIC
	// bit from that MSR's enable bit, so without this a kernel would see an
	// APIC that is not there, whatever CPUID was set to.
	NoLocalAPIC bool
}

// Setup changes the vCPU's registers (as read from KVM after creation) to
// the entry state. It edits rather than builds them so that what the loader
// does not own (APIC base, unless NoLocalAPIC, CR8, pending interrupts)
// keeps KVM's values.
//
// The VMM applies it to vCPU 0 before the first KVM_RUN: KVM_GET_REGS and
// KVM_GET_SREGS, Setup, then KVM_SET_SREGS and KVM_SET_REGS (KVM checks
// each on its own, so their order does not matter for this state; KVM
// refuses the sregs only if CR0, CR3, CR4 and EFER disagree, which Setup
// never makes them). A Reset entry needs none of the SET calls.
//
// The IDT is set empty (limit 0): until the guest installs its own, any
// exception becomes a triple fault, which KVM reports as a shutdown exit,
// rather than a jump through whatever the IVT bytes at 0 decode to.
func (e *Entry) Setup(regs *kvm.Regs, sregs *kvm.Sregs) {
	if e.Reset {
		return
	}
	*regs = kvm.Regs{
		RIP:    e.RIP,
		RAX:    e.RAX,
		RSI:    e.RSI,
		RBX:    e.RBX,
		RFLAGS: kvm.RFLAGS_FIXED,
	}

	sregs.CS = e.CS
	sregs.DS = e.Data
	sregs.ES = e.Data
	sregs.FS = e.Data
	sregs.GS = e.Data
	sregs.SS = e.Data
	sregs.TR = e.TR
	sregs.LDT = kvm.Segment{Type: 2, Unusable: 1} // an LDT descriptor type, not present
	sregs.GDT = e.GDT
	sregs.IDT = kvm.DTable{}

	if e.NoLocalAPIC {
		sregs.APICBase = 0
	}
	sregs.CR0 = e.CR0
	sregs.CR2 = 0
	sregs.CR3 = e.CR3
	sregs.CR4 = e.CR4
	sregs.EFER = e.EFER
}
