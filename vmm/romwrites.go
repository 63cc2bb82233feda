package vmm

import (
	"fmt"
	"sync/atomic"
)

// romWrites counts the guest's writes to read-only memory. Hardware drops
// them and so does kvmscope, but a write to ROM is more often a bug (a
// wild pointer, code that thinks it runs from RAM) than a wish, so the
// first one is kept to report where it came from. Lock-free: it is
// updated on the vCPU threads' exit path.
type romWrites struct {
	count     atomic.Uint64
	addr, pc  atomic.Uint64 // the first write's address and code address
	pcIsKnown atomic.Bool
}

func (r *romWrites) record(addr uint64, pc uint64, pcKnown bool) {
	if r.count.Add(1) == 1 {
		r.addr.Store(addr)
		r.pc.Store(pc)
		r.pcIsKnown.Store(pcKnown)
	}
}

// String is the warning line, "" when the guest wrote no ROM.
func (r *romWrites) String() string {
	n := r.count.Load()
	if n == 0 {
		return ""
	}
	from := ""
	if r.pcIsKnown.Load() {
		from = fmt.Sprintf(" by the instruction at %#x", r.pc.Load())
	}
	return fmt.Sprintf("the guest wrote to read-only memory (ROM) %d time(s), first at %#x%s; the writes were dropped, as hardware drops them", n, r.addr.Load(), from)
}

// codeAddr is the linear address of the instruction that made the
// current exit, when kvm_run carries the registers (sync regs).
func (v *VCPU) codeAddr() (uint64, bool) {
	if !v.syncRegs {
		return 0, false
	}
	return v.run.Sync.Sregs.CS.Base + v.run.Sync.Regs.RIP, true
}
