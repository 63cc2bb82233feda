package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
)

// stepper is a raw client on one stub that opens as gdb does: its
// features (qSupported), then acknowledgments off (QStartNoAckMode) when
// the stub takes it. kvmscope's does; QEMU 10's system-mode stub answers
// it with an empty reply (unsupported), so gdb, and this client, go on
// acknowledging every packet there.
func stepper(addr string) (c *rawRSP, mode string, err error) {
	if c, err = dialRawRSP(addr); err != nil {
		return nil, "", err
	}
	fail := func(err error) (*rawRSP, string, error) { c.conn.Close(); return nil, "", err }
	if _, err := c.call("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386"); err != nil {
		return fail(err)
	}
	reply, err := c.call("QStartNoAckMode")
	switch {
	case err != nil:
		return fail(err)
	case reply == "OK":
		c.noAck, mode = true, "no acks"
	case reply == "":
		mode = "acks"
	default:
		return fail(fmt.Errorf("QStartNoAckMode: %q", reply))
	}
	if _, err := c.call("?"); err != nil {
		return fail(err)
	}
	return c, mode, nil
}

// stepRate single-steps n times and returns steps per second.
func stepRate(c *rawRSP, n int) (float64, error) {
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
// firmware image in the same run, in alternating rounds so that the
// host's noise falls on both, and the ratio of the medians (aim: at least
// 2).
func BenchmarkRSPStep(b *testing.B) {
	kvmtest.Available(b)
	img, _ := samples.Image("bench-compute")
	img, _ = samples.PatchIterations(img, 1<<40)
	path := b.TempDir() + "/compute.bin"
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.Fatal(err)
	}
	n := max(b.N, 100)

	ours := exec.Command(os.Args[0], "run", "--gdb", "127.0.0.1:12001", "--wait", path)
	ours.Env = append(os.Environ(), beKvmscope+"=1")
	if err := ours.Start(); err != nil {
		b.Fatal(err)
	}
	defer ours.Process.Kill()
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
	oc, omode, err := stepper("127.0.0.1:12001")
	if err != nil {
		b.Fatalf("kvmscope: %v", err)
	}
	defer oc.conn.Close()
	qc, qmode, err := stepper("127.0.0.1:12002")
	if err != nil {
		b.Fatalf("QEMU: %v", err)
	}
	defer qc.conn.Close()

	var o, qr []float64
	for range 5 {
		r, err := stepRate(oc, n)
		if err != nil {
			b.Fatalf("kvmscope: %v", err)
		}
		o = append(o, r)
		if r, err = stepRate(qc, n); err != nil {
			b.Fatalf("QEMU: %v", err)
		}
		qr = append(qr, r)
	}
	slices.Sort(o)
	slices.Sort(qr)
	b.Logf("single-steps per second, %d per round: kvmscope (%s) %.0f, QEMU (%s) %.0f", n, omode, o, qmode, qr)
	b.ReportMetric(o[2], "kvmscope-steps/s")
	b.ReportMetric(qr[2], "qemu-steps/s")
	b.ReportMetric(o[2]/qr[2], "ratio")
}
