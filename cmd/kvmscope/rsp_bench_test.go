package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
)

// stepRate single-steps n times and returns steps per second.
func stepRate(addr string, n int) (float64, error) {
	c, err := dialRawRSP(addr)
	if err != nil {
		return 0, err
	}
	defer c.conn.Close()
	if _, err := c.call("?"); err != nil {
		return 0, err
	}
	start := time.Now()
	for i := range n {
		reply, err := c.call("s")
		if err != nil {
			return 0, fmt.Errorf("step %d: %w", i, err)
		}
		if !strings.HasPrefix(reply, "T05") && !strings.HasPrefix(reply, "S05") {
			return 0, fmt.Errorf("step %d: reply %q", i, reply)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// BenchmarkRSPStep: raw remote-protocol single-steps per second through
// kvmscope's stub and through QEMU's (-accel kvm -s -S) on the same
// firmware image in the same run, and their ratio (aim: at least 2).
func BenchmarkRSPStep(b *testing.B) {
	kvmtest.Available(b)
	img, _ := samples.Image("bench-compute")
	img, _ = samples.PatchIterations(img, 1<<40)
	path := b.TempDir() + "/compute.bin"
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.Fatal(err)
	}
	n := max(b.N, 200)

	ours := exec.Command(os.Args[0], "run", "--gdb", "127.0.0.1:12001", "--wait", path)
	ours.Env = append(os.Environ(), beKvmscope+"=1")
	if err := ours.Start(); err != nil {
		b.Fatal(err)
	}
	defer ours.Process.Kill()
	oursRate, err := stepRate("127.0.0.1:12001", n)
	if err != nil {
		b.Fatalf("kvmscope: %v", err)
	}

	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		b.Fatalf("QEMU for the comparison: %v", err)
	}
	q := exec.Command(qemu, "-accel", "kvm", "-m", "64", "-bios", path, "-nodefaults", "-display", "none",
		"-monitor", "none", "-serial", "null", "-S", "-gdb", "tcp:127.0.0.1:12002")
	if err := q.Start(); err != nil {
		b.Fatal(err)
	}
	defer q.Process.Kill()
	qemuRate, err := stepRate("127.0.0.1:12002", n)
	if err != nil {
		b.Fatalf("QEMU: %v", err)
	}
	b.ReportMetric(oursRate, "kvmscope-steps/s")
	b.ReportMetric(qemuRate, "qemu-steps/s")
	b.ReportMetric(oursRate/qemuRate, "ratio")
}
