package driver

import (
	"strings"
	"time"

	"github.com/kvmscope/kvmscope/tui/snap"
	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// HistoryLen is how many rates a row keeps for its sparkline.
const HistoryLen = 32

// minInterval is the shortest poll interval that makes a new rate: two
// polls close together (a tick and a stop) keep the previous rates.
const minInterval = 50 * time.Millisecond

// category groups the user-space rows as the kernel's counters do
// (vmm.ExitSplit's kinds).
func category(r *exitstats.Row) string {
	switch {
	case r.Kind == "io":
		return "port I/O"
	case r.Kind == "mmio":
		return "MMIO"
	case r.Kind == "signal":
		return "signal"
	case r.Kind == "ring":
		return "coalesced writes"
	case r.Name == "HLT":
		return "HLT"
	case r.Name == "IRQWindowOpen":
		return "interrupt window"
	}
	return "other"
}

// short names the split's kinds in the exits pane's narrow column.
var short = map[string]string{
	"port I/O": "port I/O", "MMIO": "MMIO", "HLT": "HLT", "interrupt window": "irq window",
	"instruction emulation": "emulation", "coalesced writes": "coalesced", "signal": "signal",
	"other (CPUID, MSR, faults, interrupts, ...)": "other", "all exits": "all exits",
}

// userAgg sums user-space rows: count, timed count, round-trip sum and
// histogram.
type userAgg struct {
	count, timed uint64
	sum          time.Duration
	hist         exitstats.HistSnapshot
}

func (a *userAgg) add(r *exitstats.Row) {
	a.count += r.Count
	if n := r.Run.Count(); n > 0 {
		a.timed += n
		a.sum += r.SumRun
		a.hist.Add(&r.Run)
	}
}

func (a *userAgg) mean() time.Duration {
	if a.timed == 0 {
		return 0
	}
	return a.sum / time.Duration(a.timed)
}

func (a *userAgg) p99() time.Duration {
	if a.timed == 0 {
		return 0
	}
	return time.Duration(a.hist.Quantile(0.99))
}

// rates turns successive cumulative snapshots into rates and sparkline
// histories, keyed by row name.
type rates struct {
	last    time.Time
	counts  map[string]uint64
	rate    map[string]float64
	history map[string][]float64
}

func newRates() *rates {
	return &rates{counts: map[string]uint64{}, rate: map[string]float64{}, history: map[string][]float64{}}
}

// reset forgets the counts (a new machine starts from zero) but keeps
// the histories.
func (t *rates) reset() {
	t.last = time.Time{}
	t.counts = map[string]uint64{}
	for k := range t.rate {
		t.rate[k] = 0
	}
}

// observe records the cumulative counts of this poll.
func (t *rates) observe(now time.Time, counts map[string]uint64) {
	if !t.last.IsZero() && now.Sub(t.last) < minInterval {
		return
	}
	dt := now.Sub(t.last).Seconds()
	first := t.last.IsZero()
	for name, n := range counts {
		if first {
			continue // a baseline only: no interval to divide by
		}
		r := 0.0
		if prev, ok := t.counts[name]; ok && n >= prev {
			r = float64(n-prev) / dt
		}
		t.rate[name] = r
		h := append(t.history[name], r)
		if len(h) > HistoryLen {
			h = h[len(h)-HistoryLen:]
		}
		t.history[name] = h
	}
	t.counts = counts
	t.last = now
}

// pause is a poll while the guest stands still: the rates read 0 and
// the sparklines keep what they had; the next run starts a new baseline.
func (t *rates) pause(counts map[string]uint64) {
	t.last = time.Time{}
	t.counts = counts
	for k := range t.rate {
		t.rate[k] = 0
	}
}

func (t *rates) row(r snap.ExitRow) snap.ExitRow {
	r.Rate = t.rate[r.Name+sub(r.Sub)]
	r.History = append([]float64(nil), t.history[r.Name+sub(r.Sub)]...)
	return r
}

func sub(b bool) string {
	if b {
		return "\x00sub"
	}
	return ""
}

// exitRows builds the exits pane: with the kernel's counters, one row per
// kind of exit (total, kernel, user) with the user-space devices under
// port I/O and MMIO; without them, the user-space rows alone.
func exitRows(rows []exitstats.Row, split []exitstats.SplitRow) (out []snap.ExitRow) {
	aggs := map[string]*userAgg{}
	all := &userAgg{}
	for i := range rows {
		r := &rows[i]
		c := category(r)
		if aggs[c] == nil {
			aggs[c] = &userAgg{}
		}
		aggs[c].add(r)
		if r.Kind != "ring" && r.Kind != "signal" {
			all.add(r)
		}
	}
	subRows := func(kind string) {
		for i := range rows {
			r := &rows[i]
			if r.Kind != kind || r.Count == 0 {
				continue
			}
			var a userAgg
			a.add(r)
			name := strings.TrimPrefix(strings.TrimPrefix(r.Name, "IO "), "MMIO ")
			out = append(out, snap.ExitRow{Name: name, Sub: true, Count: r.Count, User: r.Count, Mean: a.mean(), P99: a.p99()})
		}
	}
	if split == nil {
		for i := range rows {
			r := &rows[i]
			var a userAgg
			a.add(r)
			out = append(out, snap.ExitRow{Name: r.Name, Count: r.Count, User: r.Count, Mean: a.mean(), P99: a.p99()})
		}
		return out
	}
	for _, s := range split {
		name := short[s.Reason]
		if name == "" {
			name = s.Reason
		}
		if s.Total == 0 && name != "all exits" {
			continue
		}
		a := aggs[catOfSplit(s.Reason)]
		if name == "all exits" {
			a = all
		}
		if a == nil {
			a = &userAgg{}
		}
		row := snap.ExitRow{Name: name, Count: s.Total, Kernel: s.Kernel, User: s.User, KernelKnown: true, Mean: a.mean(), P99: a.p99()}
		if name == "all exits" {
			// The sum first: it stays in view when the table scrolls.
			out = append([]snap.ExitRow{row}, out...)
			continue
		}
		out = append(out, row)
		switch s.Reason {
		case "port I/O":
			subRows("io")
		case "MMIO":
			subRows("mmio")
		}
	}
	return out
}

// catOfSplit maps a split row's reason to category's names.
func catOfSplit(reason string) string {
	switch {
	case strings.HasPrefix(reason, "other"):
		return "other"
	case reason == "instruction emulation":
		return ""
	}
	return reason
}

// extInfo says which user-space exits an extension's measure covers.
type extInfo struct {
	what  string
	match func(r *exitstats.Row) bool
}

func anyExit(r *exitstats.Row) bool { return r.Kind != "ring" && r.Kind != "signal" }

var extInfos = map[vmm.Extension]extInfo{
	vmm.ExtIRQChip:   {"all exits to kvmscope", anyExit},
	vmm.ExtIOEventFD: {"doorbell (port 0x500) exits", func(r *exitstats.Row) bool { return strings.Contains(r.Name, "doorbell") }},
	vmm.ExtCoalescedMMIO: {"data-window MMIO and flush exits", func(r *exitstats.Row) bool {
		return strings.Contains(r.Name, "window") && !strings.Contains(r.Name, "pio window")
	}},
	vmm.ExtCoalescedPIO:   {"pio-window (port 0x508) exits", func(r *exitstats.Row) bool { return strings.Contains(r.Name, "pio window") }},
	vmm.ExtHLTPassthrough: {"HLT exits to kvmscope", func(r *exitstats.Row) bool { return r.Name == "HLT" }},
	vmm.ExtHaltPoll:       {"all exits to kvmscope", anyExit},
}

// acc accumulates one extension state's measure.
type acc struct {
	seconds      float64
	exits        uint64
	sum          time.Duration
	timed        uint64
	total        uint64 // every exit, from the kernel's counter
	totalSeconds float64
}

func (a *acc) measure() snap.Measure {
	m := snap.Measure{Valid: a.seconds >= 0.2, Seconds: a.seconds, Exits: a.exits}
	if a.seconds > 0 {
		m.Rate = float64(a.exits) / a.seconds
	}
	if a.timed > 0 {
		m.Mean = a.sum / time.Duration(a.timed)
	}
	if a.totalSeconds > 0 {
		m.Total, m.TotalKnown = float64(a.total)/a.totalSeconds, true
	}
	return m
}

// measures keeps, for every extension, what was seen with it on
// ([1]) and off ([0]), across machines.
type measures struct {
	acc [len(extNames)][2]acc
	// prev is the last poll's per-extension user totals and the kernel's
	// exit count; ok says there is one to difference against.
	prev struct {
		ok           bool
		count, timed [len(extNames)]uint64
		sum          [len(extNames)]time.Duration
		kernel       uint64
		kernelOK     bool
	}
}

var extNames = [...]vmm.Extension{vmm.ExtIRQChip, vmm.ExtIOEventFD, vmm.ExtCoalescedMMIO, vmm.ExtCoalescedPIO, vmm.ExtHLTPassthrough, vmm.ExtHaltPoll}

// reset drops the baseline (a new machine counts from zero).
func (ms *measures) reset() { ms.prev.ok = false }

// observe adds what happened since the last poll to the state each
// extension had. ran is how long the guest ran in between (0 when it was
// stopped: then nothing is counted).
func (ms *measures) observe(rows []exitstats.Row, kernelExits uint64, kernelOK bool, active vmm.Extensions, ran time.Duration) {
	var count, timed [len(extNames)]uint64
	var sum [len(extNames)]time.Duration
	for i, e := range extNames {
		for j := range rows {
			r := &rows[j]
			if extInfos[e].match(r) {
				count[i] += r.Count
				timed[i] += r.Run.Count()
				sum[i] += r.SumRun
			}
		}
	}
	if ms.prev.ok && ran > 0 {
		for i, e := range extNames {
			a := &ms.acc[i][b2i(active.Has(e))]
			a.seconds += ran.Seconds()
			a.exits += sat(count[i], ms.prev.count[i])
			a.timed += sat(timed[i], ms.prev.timed[i])
			if sum[i] > ms.prev.sum[i] {
				a.sum += sum[i] - ms.prev.sum[i]
			}
			if kernelOK && ms.prev.kernelOK {
				a.total += sat(kernelExits, ms.prev.kernel)
				a.totalSeconds += ran.Seconds()
			}
		}
	}
	ms.prev.ok = true
	ms.prev.count, ms.prev.timed, ms.prev.sum = count, timed, sum
	ms.prev.kernel, ms.prev.kernelOK = kernelExits, kernelOK
}

func (ms *measures) rows(active, offered vmm.Extensions, started bool) []snap.ExtRow {
	out := make([]snap.ExtRow, 0, len(extNames))
	for i, e := range extNames {
		out = append(out, snap.ExtRow{
			Name: e.String(), Live: e.Live(), Offered: !started || offered.Has(e), On: active.Has(e),
			What: extInfos[e].what, OnM: ms.acc[i][1].measure(), OffM: ms.acc[i][0].measure(),
		})
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sat(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}
