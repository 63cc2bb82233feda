package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
)

// rawRSP speaks just enough of the remote protocol to single-step.
type rawRSP struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialRawRSP(addr string) (*rawRSP, error) {
	var conn net.Conn
	var err error
	for range 100 { // QEMU takes a moment to listen
		if conn, err = net.Dial("tcp", addr); err == nil {
			return &rawRSP{conn: conn, r: bufio.NewReader(conn)}, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// call sends a packet and returns the reply, acknowledging it.
func (c *rawRSP) call(data string) (string, error) {
	if _, err := c.conn.Write([]byte(appendPacket(data))); err != nil {
		return "", err
	}
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return "", err
		}
		if b != '$' {
			continue // the '+' for our packet, or noise
		}
		reply, err := c.r.ReadString('#')
		if err != nil {
			return "", err
		}
		if _, err := c.r.Discard(2); err != nil {
			return "", err
		}
		if _, err := c.conn.Write([]byte{'+'}); err != nil {
			return "", err
		}
		return strings.TrimSuffix(reply, "#"), nil
	}
}

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
