package vmm

import "github.com/kvmscope/kvmscope/vmm/boot"

// kvmPagesEnd ends the pages KVM uses below 4 GiB: the identity-map page
// and the three of KVM_SET_TSS_ADDR (memory.go).
const kvmPagesEnd = tssAddr + 3*4096

// bootOptions describes the machine to a Linux kernel: its command line
// and initrd, its vCPUs, its RAM above 4 GiB, whether it has APICs (the
// in-kernel irqchip), and the pages KVM uses below 4 GiB.
func (m *Machine) bootOptions() boot.Options {
	low := min(m.cfg.MemSize, lowRAMLimit)
	return boot.Options{
		Cmdline:   m.cfg.Cmdline,
		Initrd:    m.cfg.Initrd,
		CPUs:      m.cfg.CPUs,
		HighRAM:   m.cfg.MemSize - low,
		APIC:      m.requested.Has(ExtIRQChip),
		Reserved:  []boot.Range{{GPA: identityMapAddr, Size: kvmPagesEnd - identityMapAddr, Name: "KVM identity map and TSS"}},
		ImageName: m.cfg.ImageName,
	}
}
