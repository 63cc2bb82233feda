package vmm

import (
	"fmt"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// KernelStats sums KVM's own per-vCPU counters (the binary stats fd):
// every exit, including those KVM handled without coming to us. Name to
// value; cumulative counters only. Empty when the host lacks the stats fd.
func (m *Machine) KernelStats() (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, v := range m.VCPUs() {
		if v.kstats == nil {
			continue
		}
		buf := make([]uint64, v.kstats.Words())
		if err := v.kstats.Read(buf); err != nil {
			return nil, fmt.Errorf("vcpu %d kernel stats: %w", v.id, err)
		}
		for _, d := range v.kstats.Descs {
			if d.Flags&kvm.StatTypeMask != kvm.StatTypeCumulative || d.Size != 1 {
				continue
			}
			out[d.Name] += buf[d.Offset/8]
		}
	}
	return out, nil
}

// openKernelStats opens the vCPU's stats fd when the host has one.
func (v *VCPU) openKernelStats() {
	if v.m.sys.CheckExtension(kvm.CapBinaryStatsFD) == 0 {
		return
	}
	if st, err := v.kv.StatsFD(); err == nil {
		v.kstats = st
	}
}
