// Package bench measures what each VM exit costs under each host
// extension, on the bench-* sample workloads, and prints the table King,
// Dunlap and Chen printed for their host extensions: per workload and
// configuration, exits to user space and exits handled in the kernel per
// operation, time per operation, slowdown against a loop with no exits,
// and the on/off ratio of each extension.
package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/vmm"
)

// Config is one setting of the host extensions.
type Config struct {
	Name      string // shown in the table
	Ext       string // --ext
	Extension string // the extension this config switches ("" for none)
	On        bool
}

var defaultConfig = Config{Name: "default", Ext: "default"}

// onOff is the pair of configs that switch one extension.
func onOff(ext string) []Config {
	return []Config{
		{Name: ext + " on", Ext: "+" + ext, Extension: ext, On: true},
		{Name: ext + " off", Ext: "-" + ext, Extension: ext},
	}
}

// Workload is one sample guest and what one of its operations is.
type Workload struct {
	Name    string
	Sample  string
	Op      string
	N       uint64
	Configs []Config
}

// Workloads lists the workloads, each with the extensions that act on it.
func Workloads() []Workload {
	hlt := append(append(onOff("irqchip"), onOff("hlt-passthrough")...), onOff("halt-poll")...)
	return []Workload{
		{"compute", "bench-compute", "loop iteration (no exit: the baseline)", 2_000_000, []Config{defaultConfig}},
		{"pio", "bench-pio", "out to an unclaimed port", 2000, []Config{defaultConfig}},
		{"mmio", "bench-mmio", "store to unclaimed MMIO", 2000, []Config{defaultConfig}},
		{"doorbell", "bench-doorbell", "doorbell port write", 2000, onOff("ioeventfd")},
		{"window", "bench-window", "store into a device's MMIO data window", 2000, onOff("coalesced-mmio")},
		{"piowindow", "bench-piowindow", "out into a device's port data window", 2000, onOff("coalesced-pio")},
		{"hlt", "bench-hlt", "timer tick while idle in HLT", 100, hlt},
		{"cpuid", "bench-cpuid", "cpuid", 2000, []Config{defaultConfig}},
	}
}

// Result is one workload under one config.
type Result struct {
	Workload  string        `json:"workload"`
	Config    string        `json:"config"`
	Extension string        `json:"extension,omitempty"`
	On        bool          `json:"on"`
	N         uint64        `json:"n"`
	TimePerOp time.Duration `json:"time_per_op_ns"`
	// Exits per operation, to kvmscope and inside KVM.
	UserExitsPerOp   float64 `json:"user_exits_per_op"`
	KernelExitsPerOp float64 `json:"kernel_exits_per_op"`
	// Slowdown is TimePerOp over the compute loop's time per iteration.
	Slowdown float64 `json:"slowdown"`
}

// run is one measured run of an image.
type run struct {
	wall        time.Duration // the guest's own run, without building the VM
	user, total uint64        // exits to user space; all exits (KVM's count)
}

// Run measures every workload under each of its configs. Each is run with
// N operations and with none, and the difference divided by N, so that
// building the VM and booting the firmware cancel out.
func Run(ctx context.Context, workloads []Workload, scale float64, progress io.Writer) ([]Result, error) {
	var out []Result
	for _, w := range workloads {
		n := max(uint64(float64(w.N)*scale), 1)
		for _, c := range w.Configs {
			fmt.Fprintf(progress, "\rbench: %-9s %-22s N=%-8d ", w.Name, c.Name, n)
			full, err := measure(ctx, w.Sample, n, c.Ext)
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", w.Name, c.Name, err)
			}
			empty, err := measure(ctx, w.Sample, 0, c.Ext)
			if err != nil {
				return nil, fmt.Errorf("%s, %s (N=0): %w", w.Name, c.Name, err)
			}
			user := float64(int64(full.user-empty.user)) / float64(n)
			total := float64(int64(full.total-empty.total)) / float64(n)
			out = append(out, Result{
				Workload: w.Name, Config: c.Name, Extension: c.Extension, On: c.On, N: n,
				TimePerOp:        max(full.wall-empty.wall, 0) / time.Duration(n),
				UserExitsPerOp:   user,
				KernelExitsPerOp: max(total-user, 0),
			})
		}
	}
	fmt.Fprintf(progress, "\r%60s\r", "")
	var base time.Duration
	for _, r := range out {
		if r.Workload == "compute" {
			base = r.TimePerOp
		}
	}
	for i := range out {
		if base > 0 {
			out[i].Slowdown = float64(out[i].TimePerOp) / float64(base)
		}
	}
	return out, nil
}

// measure runs one image to its end and returns its time and exit counts.
func measure(ctx context.Context, sample string, n uint64, ext string) (run, error) {
	img, err := samples.Image(sample)
	if err != nil {
		return run{}, err
	}
	if img, err = samples.PatchIterations(img, n); err != nil {
		return run{}, err
	}
	m, err := vmm.New(vmm.Config{MemSize: 64 * vmm.MiB, CPUs: 1, Ext: ext})
	if err != nil {
		return run{}, err
	}
	defer m.Close()
	if _, err := m.Load(img); err != nil {
		return run{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	stop := m.Run(ctx)
	wall := m.GuestTime()
	if stop.Kind != vmm.StopGuestExit || stop.Status != 0 {
		return run{}, fmt.Errorf("guest did not finish: %v", &stop)
	}
	r := run{wall: wall}
	for _, row := range m.ExitStats() {
		if row.Kind != "ring" && row.Kind != "signal" {
			r.user += row.Count
		}
	}
	ks, err := m.KernelStats()
	if err != nil {
		return run{}, err
	}
	r.total = max(ks["exits"], r.user)
	return r, nil
}

// Ratio is one extension's effect on one workload.
type Ratio struct {
	Extension string  `json:"extension"`
	Workload  string  `json:"workload"`
	Off, On   Result  `json:"-"`
	Speedup   float64 `json:"off_over_on_time"`
}

// Ratios pairs the on and off results of each extension.
func Ratios(results []Result) []Ratio {
	var out []Ratio
	for _, on := range results {
		if on.Extension == "" || !on.On {
			continue
		}
		for _, off := range results {
			if off.Workload == on.Workload && off.Extension == on.Extension && !off.On {
				r := Ratio{Extension: on.Extension, Workload: on.Workload, Off: off, On: on}
				if on.TimePerOp > 0 {
					r.Speedup = float64(off.TimePerOp) / float64(on.TimePerOp)
				}
				out = append(out, r)
			}
		}
	}
	return out
}
