package ktrace

import (
	"fmt"
	"sort"
	"time"

	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// maxReasons bounds the distinct hardware exit reasons kept apart; more
// (which no real guest produces) share one "other reasons" row.
const maxReasons = 64

// reasonKey identifies a hardware exit reason: the ISA in the high word,
// kvm_exit's exit_reason in the low one.
type reasonKey uint64

func keyOf(isa, reason uint32) reasonKey { return reasonKey(isa)<<32 | reasonKey(reason) }

// reasonAcc accumulates one reason. Only the pairer's goroutine (under
// the tracer's lock) writes it, so plain counters do.
type reasonAcc struct {
	key                  reasonKey
	kernel, user         uint64 // exits by where they were handled
	kernelSum, userSum   uint64 // ns, over the timed ones
	kernelTime, userTime exitstats.HistSnapshot
}

// thread is the pairing state of one vCPU thread: the exit whose entry it
// waits for.
type thread struct {
	open   bool
	user   bool // a kvm_userspace_exit came after the exit
	exitTS uint64
	acc    *reasonAcc
}

// pairer pairs each kvm_exit with the next kvm_entry of the same thread
// and accounts the pair to the exit's reason. Events of other threads are
// ignored. It allocates only for a reason seen for the first time.
type pairer struct {
	threads map[int32]*thread
	accs    []*reasonAcc
	index   map[reasonKey]*reasonAcc
	other   reasonAcc // reasons beyond maxReasons
	// unpaired counts exits that never met their entry: a lost event,
	// or a vCPU that stopped in between.
	unpaired uint64
}

func newPairer(tids []int) *pairer {
	p := &pairer{threads: map[int32]*thread{}, index: map[reasonKey]*reasonAcc{}}
	for _, t := range tids {
		p.threads[int32(t)] = &thread{}
	}
	return p
}

func (p *pairer) acc(k reasonKey) *reasonAcc {
	if a := p.index[k]; a != nil {
		return a
	}
	if len(p.accs) >= maxReasons {
		return &p.other
	}
	a := &reasonAcc{key: k}
	p.accs = append(p.accs, a)
	p.index[k] = a
	return a
}

// add accounts one event, in time order for its thread.
func (p *pairer) add(ev *Event) {
	th := p.threads[ev.PID]
	if th == nil {
		return
	}
	switch ev.Kind {
	case KindExit:
		if th.open { // the previous exit's entry is missing
			p.unpaired++
		}
		th.open, th.user, th.exitTS = true, false, ev.TS
		th.acc = p.acc(keyOf(ev.ISA, ev.Reason))
	case KindUserspaceExit:
		if th.open {
			th.user = true
		}
	case KindEntry:
		if !th.open { // the first entry, or one after an immediate exit
			return
		}
		th.open = false
		var dt uint64
		if ev.TS > th.exitTS {
			dt = ev.TS - th.exitTS
		}
		a := th.acc
		if th.user {
			a.user++
			a.userSum += dt
			a.userTime.Record(dt)
		} else {
			a.kernel++
			a.kernelSum += dt
			a.kernelTime.Record(dt)
		}
	}
}

// finish accounts the exits still open when tracing ends. One that went
// to user space is counted there (without a time: the VMM never entered
// the guest again, as after the exit that stops it); one that did not is
// unpaired.
func (p *pairer) finish() {
	for _, th := range p.threads {
		if !th.open {
			continue
		}
		th.open = false
		if th.user {
			th.acc.user++
		} else {
			p.unpaired++
		}
	}
}

// forget drops every open exit, after events were lost: the next entry
// might not be the one that ends it.
func (p *pairer) forget() {
	for _, th := range p.threads {
		if th.open {
			th.open = false
			p.unpaired++
		}
	}
}

// rows returns the table, most exits first.
func (p *pairer) rows(names *reasonNames) []exitstats.ReasonRow {
	rows := make([]exitstats.ReasonRow, 0, len(p.accs)+1)
	emit := func(a *reasonAcc, name string) {
		if a.kernel+a.user == 0 {
			return
		}
		rows = append(rows, exitstats.ReasonRow{
			Reason: name, Kernel: a.kernel, User: a.user,
			KernelSum: time.Duration(a.kernelSum), UserSum: time.Duration(a.userSum),
			KernelTime: a.kernelTime, UserTime: a.userTime,
		})
	}
	for _, a := range p.accs {
		emit(a, names.name(a.key))
	}
	emit(&p.other, "other reasons")
	sort.SliceStable(rows, func(i, j int) bool {
		return rows[i].Kernel+rows[i].User > rows[j].Kernel+rows[j].User
	})
	return rows
}

// reasonNames names hardware exit reasons with the tables of the running
// kernel's own kvm_exit print format, so that new reasons are named as
// the kernel names them.
type reasonNames struct {
	vmx, svm map[uint32]string
}

// namesFrom reads the two __print_symbolic tables of kvm_exit's print
// format: VMX's (under isa == 1) first, then SVM's. A format it cannot
// read leaves numeric names.
func namesFrom(exit *eventFormat) *reasonNames {
	n := &reasonNames{}
	t := symbolTables(exit.print)
	if len(t) == 2 {
		n.vmx, n.svm = t[0], t[1]
	}
	return n
}

func (n *reasonNames) name(k reasonKey) string {
	isa, reason := uint32(k>>32), uint32(k)
	switch isa {
	case isaVMX:
		s := n.vmx[reason&0xffff]
		if s == "" {
			s = fmt.Sprintf("vmx %d", reason&0xffff)
		}
		if reason&0x80000000 != 0 {
			s += " (failed entry)"
		}
		return s
	case isaSVM:
		if s := n.svm[reason]; s != "" {
			return s
		}
		return fmt.Sprintf("svm %#x", reason)
	}
	return fmt.Sprintf("isa %d reason %#x", isa, reason)
}
