package vmm

import "github.com/kvmscope/kvmscope/vmm/kvm"

// cpuidFor adapts KVM's supported CPUID to one vCPU: its APIC ID and the
// number of logical processors in the package.
func cpuidFor(supported []kvm.CPUIDEntry, id, cpus int) []kvm.CPUIDEntry {
	out := make([]kvm.CPUIDEntry, len(supported))
	copy(out, supported)
	for i := range out {
		e := &out[i]
		switch e.Function {
		case 1:
			// EBX[31:24] initial APIC ID, EBX[23:16] logical processors.
			e.EBX = e.EBX&0x0000ffff | uint32(id)<<24 | uint32(cpus)<<16
			if cpus > 1 {
				e.EDX |= 1 << 28 // HTT: the count in EBX[23:16] is valid
			}
		case 0xb, 0x1f:
			e.EDX = uint32(id) // x2APIC ID
		}
	}
	return out
}
