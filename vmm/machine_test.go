package vmm_test

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// runImage runs an image to its end and returns the stop, the console
// output and the exit table.
func runImage(t testing.TB, cfg vmm.Config, image []byte, timeout time.Duration) (vmm.Stop, string, []exitstats.Row) {
	t.Helper()
	kvmtest.Available(t)
	var console bytes.Buffer
	cfg.Console = &console
	if cfg.MemSize == 0 {
		cfg.MemSize = vmm.DefaultMemSize
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 1
	}
	m, err := vmm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Load(image); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stop := m.Run(ctx)
	return stop, console.String(), m.ExitStats()
}

func row(rows []exitstats.Row, name string) *exitstats.Row {
	for i := range rows {
		if rows[i].Name == name {
			return &rows[i]
		}
	}
	return nil
}

// TestSamples runs every embedded sample and checks its serial output
// and how it ends against what the sample promises. A sample that runs
// forever (the demo) runs for a few seconds, is stopped by the time
// limit, and must have begun its output as promised.
func TestSamples(t *testing.T) {
	for _, name := range samples.Names() {
		t.Run(name, func(t *testing.T) {
			want, err := samples.Expect(name)
			if err != nil {
				t.Fatal(err)
			}
			image, err := samples.Image(name)
			if err != nil {
				t.Fatal(err)
			}
			if name == "pio-loop" {
				image, _ = samples.PIOLoopImage(500)
			}
			if want.Forever {
				stop, out, rows := runImage(t, vmm.Config{}, image, 3*time.Second)
				if stop.Kind != vmm.StopTimeout {
					t.Fatalf("stop %v, want the timeout: the sample runs forever", &stop)
				}
				if !strings.HasPrefix(out, want.Serial) {
					t.Errorf("console %q, want it to begin %q", out, want.Serial)
				}
				if r := row(rows, "IO 0xf4 debug-exit"); r != nil {
					t.Errorf("debug-exit row %+v, want none", r)
				}
				return
			}
			stop, out, rows := runImage(t, vmm.Config{}, image, time.Minute)
			if out != want.Serial {
				t.Errorf("console %q, want %q", out, want.Serial)
			}
			switch {
			case want.TripleFault:
				if stop.Kind != vmm.StopFault || stop.Fault == nil || stop.Fault.Exit != kvm.ExitShutdown {
					t.Fatalf("stop %v, want a triple fault", &stop)
				}
				if !strings.Contains(stop.Detail, "triple fault") {
					t.Errorf("detail %q does not say triple fault", stop.Detail)
				}
			case want.Fault != "":
				if stop.Kind != vmm.StopFault || stop.Fault == nil || !strings.Contains(stop.Detail, want.Fault) {
					t.Fatalf("stop %v, want a fault: %s", &stop, want.Fault)
				}
			default:
				if stop.Kind != vmm.StopGuestExit || int(stop.Status) != want.ExitStatus {
					t.Fatalf("stop %v, want guest exit with status %d", &stop, want.ExitStatus)
				}
			}
			if r := row(rows, "IO 0xf4 debug-exit"); !want.TripleFault && want.Fault == "" && (r == nil || r.Count != 1) {
				t.Errorf("debug-exit row %+v, want one exit", r)
			}
		})
	}
}

// TestExitAccounting checks that every port write of pio-loop is one
// user-space exit, counted under the unclaimed port with its latency.
func TestExitAccounting(t *testing.T) {
	const n = 2000
	image, err := samples.PIOLoopImage(n)
	if err != nil {
		t.Fatal(err)
	}
	stop, _, rows := runImage(t, vmm.Config{}, image, time.Minute)
	if stop.Kind != vmm.StopGuestExit || stop.Status != 0 {
		t.Fatalf("stop %v", &stop)
	}
	r := row(rows, "IO unclaimed port")
	if r == nil || r.Count != n {
		t.Fatalf("unclaimed-port row %+v, want %d exits", r, n)
	}
	if r.Run.Count() != n || r.MeanRun() <= 0 || r.Run.Quantile(0.99) == 0 {
		t.Errorf("round-trip histogram: %d values, mean %v", r.Run.Count(), r.MeanRun())
	}
	if r.Handler.Count() != n {
		t.Errorf("handler histogram holds %d values, want %d", r.Handler.Count(), n)
	}
}

// TestExitPathDoesNotAllocate compares the heap allocations of two runs
// that differ only in their number of exits.
func TestExitPathDoesNotAllocate(t *testing.T) {
	mallocs := func(n uint64) uint64 {
		image, err := samples.PIOLoopImage(n)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		stop, _, _ := runImage(t, vmm.Config{}, image, time.Minute)
		runtime.ReadMemStats(&after)
		if stop.Kind != vmm.StopGuestExit {
			t.Fatalf("stop %v", &stop)
		}
		return after.Mallocs - before.Mallocs
	}
	small, large := mallocs(100), mallocs(5100)
	if perExit := (float64(large) - float64(small)) / 5000; perExit > 0.01 {
		t.Fatalf("%.3f allocations per exit (runs: %d and %d mallocs)", perExit, small, large)
	}
}

// TestSMP boots hello with four vCPUs: the application processors wait
// for INIT/SIPI in the kernel and must not disturb the boot vCPU.
func TestSMP(t *testing.T) {
	image, _ := samples.Image("hello")
	stop, out, _ := runImage(t, vmm.Config{CPUs: 4}, image, time.Minute)
	if stop.Kind != vmm.StopGuestExit || stop.Status != 0 || out != "Hello from kvmscope guest!\n" {
		t.Fatalf("stop %v, console %q", &stop, out)
	}
}

// TestTimeout stops a guest that would run for hours.
func TestTimeout(t *testing.T) {
	image, _ := samples.PIOLoopImage(1 << 40)
	start := time.Now()
	// Long enough to build the VM and make some exits on a loaded host.
	stop, _, rows := runImage(t, vmm.Config{}, image, 3*time.Second)
	if stop.Kind != vmm.StopTimeout {
		t.Fatalf("stop %v, want timeout", &stop)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("stopping took %v", time.Since(start))
	}
	if r := row(rows, "IO unclaimed port"); r == nil || r.Count == 0 {
		t.Errorf("no exits counted before the timeout")
	}
}

// TestTripleFaultReport checks what the fault report has to work with.
func TestTripleFaultReport(t *testing.T) {
	image, _ := samples.Image("triple-fault")
	stop, _, _ := runImage(t, vmm.Config{}, image, time.Minute)
	f := stop.Fault
	if f == nil {
		t.Fatalf("stop %v carries no fault", &stop)
	}
	state := &f.Now
	if f.ResetByKVM {
		if f.LastExit == nil {
			t.Fatal("AMD host, but no state from the last exit")
		}
		state = f.LastExit
	}
	if state.Sregs.EFER&kvm.EFER_LMA == 0 || state.Regs.RIP < 0x100000 || state.Regs.RIP >= 0x101000 {
		t.Errorf("fault state not in the guest's long-mode code: rip %#x efer %#x", state.Regs.RIP, state.Sregs.EFER)
	}
}

// BenchmarkPIOExit measures the user-space port-I/O exit round trip on
// pio-loop: ns per exit and heap allocations per exit.
func BenchmarkPIOExit(b *testing.B) {
	kvmtest.Available(b)
	image, _ := samples.PIOLoopImage(uint64(b.N))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	stop, _, rows := runImage(b, vmm.Config{}, image, 10*time.Minute)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if stop.Kind != vmm.StopGuestExit {
		b.Fatalf("stop %v", &stop)
	}
	r := row(rows, "IO unclaimed port")
	if r == nil || r.Count != uint64(b.N) {
		b.Fatalf("row %+v, want %d exits", r, b.N)
	}
	b.ReportMetric(float64(r.MeanRun().Nanoseconds()), "ns/roundtrip")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/exit")
}

// BenchmarkAccountingOverhead runs pio-loop with exit accounting on and
// off, alternating, and reports how much slower accounting makes an exit
// (aim: at most 2%) from the medians of the guest's own run times: one
// run in the nested sandbox varies by 10-30%, so a few runs decide
// nothing (-benchtime sets the exits per run; the pairs are fixed).
func BenchmarkAccountingOverhead(b *testing.B) {
	kvmtest.Available(b)
	n := uint64(max(b.N, 10000))
	image, _ := samples.PIOLoopImage(n)
	run := func(on bool) float64 {
		m, err := vmm.New(vmm.Config{MemSize: vmm.DefaultMemSize, CPUs: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		vmm.SetAccounting(m, on)
		if _, err := m.Load(image); err != nil {
			b.Fatal(err)
		}
		if stop := m.Run(context.Background()); stop.Kind != vmm.StopGuestExit {
			b.Fatalf("stop %v", &stop)
		}
		return float64(m.GuestTime()) / float64(n)
	}
	const pairs = 15
	var with, without []float64
	for i := range pairs { // each first in every other pair
		on := i%2 == 0
		a := run(on)
		b := run(!on)
		if !on {
			a, b = b, a
		}
		with, without = append(with, a), append(without, b)
	}
	slices.Sort(with)
	slices.Sort(without)
	w, wo := with[pairs/2], without[pairs/2]
	b.Logf("ns per exit over %d pairs of %d exits: accounted %.0f, bare %.0f", pairs, n, with, without)
	b.ReportMetric(w, "ns/exit-accounted")
	b.ReportMetric(wo, "ns/exit-bare")
	b.ReportMetric(100*(w/wo-1), "%overhead")
}
