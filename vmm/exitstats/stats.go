package exitstats

import (
	"fmt"
	"sync/atomic"
	"time"
)

// MaxKeys bounds the keys of one machine: exit reasons plus I/O and MMIO
// devices. Fixed so that a vCPU's table is one allocation, made up front.
const MaxKeys = 96

// Key indexes a row of the table.
type Key uint16

// Keys names the rows of a machine's table. It is filled before the vCPUs
// start and read-only afterwards.
type Keys struct {
	names  []string
	kinds  []string
	frozen bool
}

// Add registers a row; kind groups rows in reports ("exit", "io", "mmio").
func (k *Keys) Add(kind, name string) (Key, error) {
	if k.frozen {
		return 0, fmt.Errorf("exit-stats key %q added after the machine started", name)
	}
	if len(k.names) >= MaxKeys {
		return 0, fmt.Errorf("exit-stats key %q: table full (%d keys)", name, MaxKeys)
	}
	k.names = append(k.names, name)
	k.kinds = append(k.kinds, kind)
	return Key(len(k.names) - 1), nil
}

// Freeze ends registration.
func (k *Keys) Freeze() { k.frozen = true }

// Len is the number of keys.
func (k *Keys) Len() int { return len(k.names) }

// Name and Kind describe key i.
func (k *Keys) Name(i Key) string { return k.names[i] }
func (k *Keys) Kind(i Key) string { return k.kinds[i] }

type row struct {
	count      atomic.Uint64
	sumRun     atomic.Uint64 // ns
	sumHandler atomic.Uint64 // ns
	run        Histogram
	handler    Histogram
}

// VCPU is one vCPU's table. Only that vCPU's thread records into it.
type VCPU struct {
	rows [MaxKeys]row
}

// Record accounts one exit: the KVM_RUN call that ended with it and our
// handling of it. No allocation, no lock.
func (v *VCPU) Record(k Key, run, handler time.Duration) {
	r := &v.rows[k]
	add(&r.count, 1)
	add(&r.sumRun, uint64(run))
	add(&r.sumHandler, uint64(handler))
	r.run.Record(uint64(run))
	r.handler.Record(uint64(handler))
}

// Count records an exit that has no meaningful latency (a signal that
// interrupted KVM_RUN before the guest ran, say).
func (v *VCPU) Count(k Key) { add(&v.rows[k].count, 1) }

// CountN counts n events at once, such as writes drained from a ring.
func (v *VCPU) CountN(k Key, n uint64) { add(&v.rows[k].count, n) }

// add adds d to a counter that has one writer: an atomic load and store,
// which readers on other threads see whole, without the locked
// read-modify-write of Add, which every exit would pay several times
// (and which an emulated CPU, as in the nested sandbox, makes dearer).
func add(c *atomic.Uint64, d uint64) { c.Store(c.Load() + d) }

// Row is a snapshot of one key.
type Row struct {
	Key        Key
	Kind, Name string
	Count      uint64
	SumRun     time.Duration
	SumHandler time.Duration
	Run        HistSnapshot
	Handler    HistSnapshot
}

// MeanRun is the mean KVM_RUN round trip of the exits counted.
func (r *Row) MeanRun() time.Duration {
	if r.Count == 0 {
		return 0
	}
	return r.SumRun / time.Duration(r.Count)
}

// HandlerShare is the fraction of the exit cycle (round trip plus
// handler) spent in our own handler.
func (r *Row) HandlerShare() float64 {
	total := r.SumRun + r.SumHandler
	if total == 0 {
		return 0
	}
	return float64(r.SumHandler) / float64(total)
}

// Snapshot copies the rows of v that saw at least one exit, adding them
// into acc (indexed by key) so that several vCPUs sum into one table.
func (v *VCPU) Snapshot(keys *Keys, acc map[Key]*Row) {
	for i := 0; i < keys.Len(); i++ {
		r := &v.rows[i]
		n := r.count.Load()
		if n == 0 {
			continue
		}
		k := Key(i)
		out := acc[k]
		if out == nil {
			out = &Row{Key: k, Kind: keys.Kind(k), Name: keys.Name(k)}
			acc[k] = out
		}
		out.Count += n
		out.SumRun += time.Duration(r.sumRun.Load())
		out.SumHandler += time.Duration(r.sumHandler.Load())
		var h HistSnapshot
		r.run.snapshot(&h)
		out.Run.Add(&h)
		r.handler.snapshot(&h)
		out.Handler.Add(&h)
	}
}
