package vmm

import (
	"math/bits"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// CPUID bits kvmscope sets beyond what KVM_GET_SUPPORTED_CPUID reports.
const (
	// cpuid1ECXTSCDeadline: the local APIC timer has TSC-deadline mode.
	// KVM emulates it in its in-kernel LAPIC whatever the host has, and
	// says so with KVM_CAP_TSC_DEADLINE_TIMER instead of in the supported
	// CPUID; Linux then needs no calibration of the APIC timer.
	cpuid1ECXTSCDeadline = 1 << 24
	// cpuid1ECXHypervisor: running under a hypervisor. Linux looks for
	// KVM's leaves at 0x40000000 (kvmclock, PV EOI, ...) only when it is set.
	cpuid1ECXHypervisor = 1 << 31
)

// cpuidFor adapts KVM's supported CPUID to one vCPU: its APIC ID, the
// topology of a package of cpus cores with one thread each, and the
// hypervisor and TSC-deadline bits.
func cpuidFor(supported []kvm.CPUIDEntry, id, cpus int) []kvm.CPUIDEntry {
	out := make([]kvm.CPUIDEntry, 0, len(supported)+3)
	coreBits := uint32(bits.Len(uint(cpus - 1))) // APIC ID bits that number the cores
	topology := false
	for _, e := range supported {
		switch e.Function {
		case 1:
			// EBX[31:24] initial APIC ID, EBX[23:16] logical processors.
			e.EBX = e.EBX&0x0000ffff | uint32(id)<<24 | uint32(cpus)<<16
			if cpus > 1 {
				e.EDX |= 1 << 28 // HTT: the count in EBX[23:16] is valid
			}
			e.ECX |= cpuid1ECXHypervisor | cpuid1ECXTSCDeadline
		case 4:
			// Intel's deterministic cache parameters: EAX[31:26] is the
			// number of cores in the package less one.
			if e.EAX&0x1f != 0 {
				e.EAX = e.EAX&0x03ffffff | uint32(cpus-1)<<26
			}
		case 0xb:
			// Extended topology, replaced below by one thread per core.
			if !topology {
				topology = true
				out = append(out, topologyLeaves(0xb, id, cpus, coreBits)...)
			}
			continue
		case 0x1f:
			e.EDX = uint32(id) // x2APIC ID
		case 0x80000008:
			// AMD: ECX[7:0] cores in the package less one, ECX[15:12] the
			// APIC ID bits that number them.
			e.ECX = e.ECX&^0xf0ff | coreBits<<12 | uint32(cpus-1)&0xff
		}
		out = append(out, e)
	}
	return out
}

// topologyLeaves is leaf 0xb's sub-leaves: SMT level (one thread), core
// level (cpus cores, numbered by the low coreBits of the x2APIC ID), and
// the invalid level that ends the list.
func topologyLeaves(fn uint32, id, cpus int, coreBits uint32) []kvm.CPUIDEntry {
	x2apic := uint32(id)
	return []kvm.CPUIDEntry{
		{Function: fn, Index: 0, Flags: kvm.CPUIDFlagSignificantIndex, EAX: 0, EBX: 1, ECX: 1 << 8, EDX: x2apic},
		{Function: fn, Index: 1, Flags: kvm.CPUIDFlagSignificantIndex, EAX: coreBits, EBX: uint32(cpus), ECX: 2<<8 | 1, EDX: x2apic},
		{Function: fn, Index: 2, Flags: kvm.CPUIDFlagSignificantIndex, ECX: 2, EDX: x2apic},
	}
}
