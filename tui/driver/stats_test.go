package driver

import (
	"bytes"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

func TestRingNeverBlocks(t *testing.T) {
	r := NewRing(8)
	r.Write([]byte("hello"))
	r.Write([]byte(" world")) // 3 of 6 fit
	got, dropped := r.Drain()
	if string(got) != "hello wo" || dropped != 3 {
		t.Fatalf("drain = %q, %d dropped; want \"hello wo\", 3", got, dropped)
	}
	r.Write([]byte("abcdefg")) // wraps around
	if got, _ := r.Drain(); string(got) != "abcdefg" {
		t.Fatalf("after wrap: %q", got)
	}
	if got, _ := r.Drain(); got != nil {
		t.Fatalf("empty ring drained %q", got)
	}
}

func row(kind, name string, count uint64, run time.Duration) exitstats.Row {
	r := exitstats.Row{Kind: kind, Name: name, Count: count, SumRun: run * time.Duration(count)}
	if run > 0 {
		r.Run[40] = count // some bucket: what counts is that they were timed
	}
	return r
}

func TestExitRowsWithSplit(t *testing.T) {
	rows := []exitstats.Row{row("io", "IO 0x3f8 serial", 10, 0), row("io", "IO unclaimed port", 0, 0), row("exit", "HLT", 2, 0)}
	split := []exitstats.SplitRow{
		{Reason: "port I/O", Total: 30, Kernel: 20, User: 10},
		{Reason: "MMIO"},
		{Reason: "HLT", Total: 5, Kernel: 3, User: 2},
		{Reason: "all exits", Total: 40, Kernel: 28, User: 12},
	}
	out := exitRows(rows, split)
	var names []string
	for _, r := range out {
		names = append(names, r.Name)
	}
	want := []string{"all exits", "port I/O", "0x3f8 serial", "HLT"}
	if len(names) != len(want) {
		t.Fatalf("rows %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("rows %q, want %q", names, want)
		}
	}
	if r := out[1]; r.Count != 30 || r.Kernel != 20 || r.User != 10 || !r.KernelKnown {
		t.Errorf("port I/O row %+v", r)
	}
	if r := out[2]; !r.Sub || r.KernelKnown || r.User != 10 {
		t.Errorf("serial row %+v", r)
	}
	// Without the kernel's counters: the user-space rows as they are.
	if out := exitRows(rows, nil); len(out) != 3 || out[0].KernelKnown {
		t.Errorf("rows without split: %+v", out)
	}
}

func TestRates(t *testing.T) {
	r := newRates()
	t0 := time.Unix(100, 0)
	r.observe(t0, map[string]uint64{"a": 10})
	r.observe(t0.Add(10*time.Millisecond), map[string]uint64{"a": 1000}) // too soon: ignored
	r.observe(t0.Add(time.Second), map[string]uint64{"a": 110})
	if got := r.rate["a"]; got != 100 {
		t.Fatalf("rate %v, want 100/s", got)
	}
	if h := r.history["a"]; len(h) != 1 || h[0] != 100 {
		t.Fatalf("history %v", h)
	}
}

func TestMeasuresKeepBothColumns(t *testing.T) {
	var ms measures
	door := func(n uint64) []exitstats.Row {
		return []exitstats.Row{row("io", "IO 0x500 doorbell", n, 50*time.Microsecond)}
	}
	off := vmm.DefaultExtensions.With(vmm.ExtIOEventFD, false)
	ms.observe(door(0), 0, false, off, 0)
	ms.observe(door(100), 0, false, off, time.Second)
	ms.observe(door(100), 0, false, vmm.DefaultExtensions, time.Second)
	var got map[string][2]float64 = map[string][2]float64{}
	for _, r := range ms.rows(vmm.DefaultExtensions, vmm.ExtAll, true) {
		got[r.Name] = [2]float64{r.OnM.Rate, r.OffM.Rate}
		if r.Name == "ioeventfd" && (!r.OnM.Valid || !r.OffM.Valid || r.OffM.Mean != 50*time.Microsecond) {
			t.Errorf("ioeventfd measures %+v / %+v", r.OnM, r.OffM)
		}
	}
	if got["ioeventfd"] != [2]float64{0, 100} {
		t.Fatalf("ioeventfd on/off = %v, want 0/s on, 100/s off", got["ioeventfd"])
	}
	// A new machine: the baseline goes, the columns stay.
	ms.reset()
	ms.observe(door(5), 0, false, off, time.Second)
	if r := ms.rows(off, vmm.ExtAll, true)[1]; r.OffM.Exits != 100 {
		t.Fatalf("after reset the off column counts %d exits, want the 100 it had", r.OffM.Exits)
	}
}

func TestBackUpIn(t *testing.T) {
	// 32-bit: mov $1,%eax (5 bytes); inc %ecx (1); nop (1); then addr.
	code := []byte{0xb8, 1, 0, 0, 0, 0x41, 0x90}
	buf := append(bytes.Repeat([]byte{0xcc}, 8), code...) // int3 padding before
	addr := uint64(0x1000)
	start := backUpIn(buf, addr, 2, 32)
	if start != addr-2 {
		t.Fatalf("2 instructions before %#x start at %#x, want %#x", addr, start, addr-2)
	}
	if s, ok := fromStart(code, addr-7, addr, 3, 32); !ok || s != addr-7 {
		t.Fatalf("fromStart = %#x, %v", s, ok)
	}
	if _, ok := fromStart(code[1:], addr-6, addr, 3, 32); ok {
		// Decoding from the middle of the mov may still land: only
		// insist that a result, when given, lands exactly.
		t.Log("decoding from inside an instruction happened to land")
	}
}
