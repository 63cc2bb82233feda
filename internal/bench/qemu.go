package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/kvmscope/kvmscope/samples"
)

// QEMUResult compares one workload's time per operation under kvmscope
// and under QEMU (-accel kvm) on the same firmware image and host.
type QEMUResult struct {
	Workload string        `json:"workload"`
	N        uint64        `json:"n"`
	Ours     time.Duration `json:"kvmscope_time_per_op_ns"`
	QEMU     time.Duration `json:"qemu_time_per_op_ns"`
	Ratio    float64       `json:"kvmscope_over_qemu"`
}

// qemuWorkloads run the same way under both: no device of ours involved,
// both with KVM's in-kernel irqchip.
var qemuWorkloads = []string{"compute", "pio", "mmio", "cpuid"}

// QEMUBinary is the QEMU that CompareQEMU runs.
const QEMUBinary = "qemu-system-x86_64"

// CompareQEMU times the shared workloads under QEMU and kvmscope, each
// the best of three runs with N and with 0 operations.
func CompareQEMU(ctx context.Context, scale float64, progress io.Writer) ([]QEMUResult, error) {
	qemu, err := exec.LookPath(QEMUBinary)
	if err != nil {
		return nil, fmt.Errorf("--compare-qemu: %s is not installed", QEMUBinary)
	}
	dir, err := os.MkdirTemp("", "kvmscope-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out []QEMUResult
	for _, w := range Workloads() {
		if !slices.Contains(qemuWorkloads, w.Name) {
			continue
		}
		n := max(uint64(float64(w.N)*scale)*5, 1)
		fmt.Fprintf(progress, "\rbench: QEMU vs kvmscope: %-9s N=%-8d ", w.Name, n)
		ours, err := best(3, func() (time.Duration, error) { return perOp(ctx, w.Sample, n, measureOurs) })
		if err != nil {
			return nil, fmt.Errorf("%s under kvmscope: %w", w.Name, err)
		}
		theirs, err := best(3, func() (time.Duration, error) {
			return perOp(ctx, w.Sample, n, func(ctx context.Context, sample string, n uint64) (time.Duration, error) {
				return runQEMU(ctx, qemu, dir, sample, n)
			})
		})
		if err != nil {
			return nil, fmt.Errorf("%s under QEMU: %w", w.Name, err)
		}
		r := QEMUResult{Workload: w.Name, N: n, Ours: ours, QEMU: theirs}
		if theirs > 0 {
			r.Ratio = float64(ours) / float64(theirs)
		}
		out = append(out, r)
	}
	fmt.Fprintf(progress, "\r%60s\r", "")
	return out, nil
}

type timer func(ctx context.Context, sample string, n uint64) (time.Duration, error)

func perOp(ctx context.Context, sample string, n uint64, run timer) (time.Duration, error) {
	full, err := run(ctx, sample, n)
	if err != nil {
		return 0, err
	}
	empty, err := run(ctx, sample, 0)
	if err != nil {
		return 0, err
	}
	return max(full-empty, 0) / time.Duration(n), nil
}

func measureOurs(ctx context.Context, sample string, n uint64) (time.Duration, error) {
	r, err := measure(ctx, sample, n, "default")
	return r.wall, err
}

// runQEMU runs a firmware image under QEMU with KVM and returns its wall
// time. QEMU's isa-debug-exit makes it exit with (status << 1) | 1.
func runQEMU(ctx context.Context, qemu, dir, sample string, n uint64) (time.Duration, error) {
	img, err := samples.Image(sample)
	if err != nil {
		return 0, err
	}
	if img, err = samples.PatchIterations(img, n); err != nil {
		return 0, err
	}
	path := filepath.Join(dir, sample+".bin")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-accel", "kvm", "-m", "64", "-bios", path,
		"-nodefaults", "-display", "none", "-no-reboot", "-serial", "null", "-monitor", "none",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=4")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return 0, fmt.Errorf("qemu: %v: %s", err, out)
	}
	if code := exit.ExitCode(); code != 1 { // status 0 → (0<<1)|1
		return 0, fmt.Errorf("qemu exited with %d (guest status %d): %s", code, code>>1, out)
	}
	return wall, nil
}

func best(times int, f func() (time.Duration, error)) (time.Duration, error) {
	var b time.Duration
	for i := range times {
		d, err := f()
		if err != nil {
			return 0, err
		}
		if i == 0 || d < b {
			b = d
		}
	}
	return b, nil
}
