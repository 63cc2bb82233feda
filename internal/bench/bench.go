// Package bench measures what each VM exit costs under each host
// extension, on the bench-* sample workloads and on the Linux sample (boot
// to init, console output, idle, fork+exec), and prints the table King,
// Dunlap and Chen printed for their host extensions: per workload and
// configuration, exits to user space and exits handled in the kernel per
// operation, time per operation, slowdown (against a loop with no exits,
// or for Linux against the same workload under the default extensions),
// and the on/off ratio of each extension.
package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/samples/linux"
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
	Sample  string // the firmware sample, or "linux"
	Op      string
	N       uint64
	Configs []Config
	// Linux is the Linux sample's workload ("boot", or a step of
	// /bin/kvmscope-bench: "console", "idle", "fork"); "" for firmware.
	// The chosen Linux workloads share one boot per config.
	Linux string
}

// Workloads lists the workloads, each with the extensions that act on it:
// the firmware ones, then the Linux ones.
func Workloads() []Workload {
	hlt := append(append(onOff("irqchip"), onOff("hlt-passthrough")...), onOff("halt-poll")...)
	return []Workload{
		{"compute", "bench-compute", "loop iteration (no exit: the baseline)", 2_000_000, []Config{defaultConfig}, ""},
		{"pio", "bench-pio", "out to an unclaimed port", 2000, []Config{defaultConfig}, ""},
		{"mmio", "bench-mmio", "store to unclaimed MMIO", 2000, []Config{defaultConfig}, ""},
		{"doorbell", "bench-doorbell", "doorbell port write", 2000, onOff("ioeventfd"), ""},
		{"window", "bench-window", "store into a device's MMIO data window", 2000, onOff("coalesced-mmio"), ""},
		{"piowindow", "bench-piowindow", "out into a device's port data window", 2000, onOff("coalesced-pio"), ""},
		{"hlt", "bench-hlt", "timer tick while idle in HLT", 100, hlt, ""},
		{"cpuid", "bench-cpuid", "cpuid", 2000, []Config{defaultConfig}, ""},
		{"linux-boot", LinuxGroup, "boot from power-on to init's banner", 1, linuxConfigs, linuxBoot},
		{"linux-console", LinuxGroup, "byte written to the console", 32 << 10, linuxConfigs, "console"},
		{"linux-idle", LinuxGroup, "second asleep", 1, linuxConfigs, "idle"},
		{"linux-fork", LinuxGroup, "fork+exec of /bin/true", 100, linuxConfigs, "fork"},
	}
}

// Select returns the workloads that names choose: each a workload's name,
// or "linux" for all the Linux ones. No names choose every firmware
// workload, and the Linux ones too when the Linux sample is built; note
// then says why there are none, for the user.
func Select(names []string) (ws []Workload, note string, err error) {
	all := Workloads()
	if len(names) == 0 {
		_, findErr := linux.Find()
		for _, w := range all {
			if w.Linux == "" || findErr == nil {
				ws = append(ws, w)
			}
		}
		if findErr != nil {
			note = fmt.Sprintf("no Linux rows: %v", findErr)
		}
		return ws, note, nil
	}
	for _, name := range names {
		var chosen []Workload
		for _, w := range all {
			if w.Name == name || (name == LinuxGroup && w.Linux != "") {
				chosen = append(chosen, w)
			}
		}
		if len(chosen) == 0 {
			var have []string
			for _, w := range all {
				have = append(have, w.Name)
			}
			return nil, "", fmt.Errorf("no workload %q (have %s, or %s for all linux-*)", name, strings.Join(have, ", "), LinuxGroup)
		}
		for _, w := range chosen {
			if !containsWorkload(ws, w.Name) {
				ws = append(ws, w)
			}
		}
	}
	return ws, "", nil
}

func containsWorkload(ws []Workload, name string) bool {
	for _, w := range ws {
		if w.Name == name {
			return true
		}
	}
	return false
}

// scaled is a workload's operation count at --scale, at least one.
func scaled(n uint64, scale float64) uint64 { return max(uint64(float64(n)*scale), 1) }

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

// Run measures every workload under each of its configs. Each firmware
// workload is run with N operations and with none, and the difference
// divided by N, so that building the VM and booting the firmware cancel
// out. The Linux workloads share one boot per config, each measured
// between its markers (runLinux). A Linux workload with no Linux sample
// built fails before anything runs, with the way to build it.
func Run(ctx context.Context, workloads []Workload, scale float64, progress io.Writer) ([]Result, error) {
	var firmware, lx []Workload
	for _, w := range workloads {
		if w.Linux != "" {
			lx = append(lx, w)
		} else {
			firmware = append(firmware, w)
		}
	}
	var sample linux.Sample
	if len(lx) > 0 {
		var err error
		if sample, err = linux.Find(); err != nil {
			return nil, err
		}
		if err := sample.CheckBenchScript(); err != nil {
			return nil, err
		}
	}
	var out []Result
	for _, w := range firmware {
		n := scaled(w.N, scale)
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
	if len(lx) > 0 {
		rows, err := runLinux(ctx, sample, lx, scale, progress)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	fmt.Fprintf(progress, "\r%80s\r", "")
	setSlowdowns(out)
	return out, nil
}

// setSlowdowns divides each time per operation by its baseline's: the
// compute loop's for a firmware row, the same workload's under
// linuxBaseline for a Linux row.
func setSlowdowns(out []Result) {
	base := map[string]time.Duration{}
	for _, r := range out {
		if r.Workload == "compute" {
			base[""] = r.TimePerOp
		}
		if strings.HasPrefix(r.Workload, LinuxGroup+"-") && r.Config == linuxBaseline {
			base[r.Workload] = r.TimePerOp
		}
	}
	for i, r := range out {
		key := ""
		if strings.HasPrefix(r.Workload, LinuxGroup+"-") {
			key = r.Workload
		}
		if b := base[key]; b > 0 {
			out[i].Slowdown = float64(r.TimePerOp) / float64(b)
		}
	}
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
	if r.user, r.total, err = exitCounts(m); err != nil {
		return run{}, err
	}
	return r, nil
}

// exitCounts returns a machine's exits so far: those that came to
// kvmscope (not coalesced ring entries, which are no exits, nor the
// kicks that interrupt KVM_RUN), and all of them, KVM's own count (the
// user count where the host has no stats fd).
func exitCounts(m *vmm.Machine) (user, total uint64, err error) {
	for _, row := range m.ExitStats() {
		if row.Kind != "ring" && row.Kind != "signal" {
			user += row.Count
		}
	}
	ks, err := m.KernelStats()
	if err != nil {
		return 0, 0, err
	}
	return user, max(ks["exits"], user), nil
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
