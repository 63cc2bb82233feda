package linux_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples/linux"
	"github.com/kvmscope/kvmscope/vmm"
)

// BenchmarkLinuxWorkloads is King, Dunlap and Chen's table for a real OS:
// the Linux sample boots under each set of host extensions and runs
// /bin/kvmscope-bench (console output, idle, fork+exec); for each the
// benchmark reports the time per operation and the VM exits per
// operation, all of them (KVM's counters) and those that came to kvmscope.
// One boot per extension set; some minutes inside kvmbox:
//
//	scripts/kvm-tests -bench LinuxWorkloads
func BenchmarkLinuxWorkloads(b *testing.B) {
	kvmtest.Available(b)
	k := kernelFiles(b)
	initrd := sampleInitrd(b, true)
	const kib, forks = 32, 100
	var rows []workloadRow
	for _, ext := range []string{"default", "all", "none"} {
		r, err := runWorkloads(k.bzImage, initrd, ext, kib, forks)
		if err != nil {
			b.Fatalf("--ext %s: %v", ext, err)
		}
		rows = append(rows, r...)
	}
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "--ext\tworkload\tops\ttime/op\texits/op\tto kvmscope/op\tin kernel\t")
	for _, r := range rows {
		inKernel := "-"
		if r.exits > 0 {
			inKernel = fmt.Sprintf("%.1f%%", 100*float64(r.exits-min(r.user, r.exits))/float64(r.exits))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%v\t%.1f\t%.1f\t%s\t\n", r.ext, r.workload, r.ops,
			(r.time / time.Duration(r.ops)).Round(time.Microsecond), float64(r.exits)/float64(r.ops), float64(r.user)/float64(r.ops), inKernel)
		b.ReportMetric(float64(r.exits)/float64(r.ops), "exits/"+r.workload+"-"+r.ext)
	}
	tw.Flush()
	b.Logf("Linux workloads (%s, 1 vCPU; --ext default = %s, all adds hlt-passthrough, none has no irqchip):\n%s",
		k.bzImage, vmm.DefaultExtensions, out.String())
}

// workloadRow is one workload under one extension set.
type workloadRow struct {
	ext, workload string
	ops           int
	time          time.Duration
	exits, user   uint64 // all VM exits (KVM's count) and those that reached kvmscope
}

// marker is a "@@kvmscope-bench NAME N" line and when it was seen.
type marker struct {
	name string
	n    int
	at   time.Time
}

// markerConsole is the console of a workload run: it keeps the output and
// passes each marker line on as it is written.
type markerConsole struct {
	mu      sync.Mutex
	out     bytes.Buffer
	line    []byte
	markers chan marker
}

func (c *markerConsole) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out.Write(p)
	for _, ch := range p {
		if ch != '\n' {
			c.line = append(c.line, ch)
			continue
		}
		l := strings.TrimSpace(string(c.line))
		c.line = c.line[:0]
		if i := strings.Index(l, "@@kvmscope-bench "); i >= 0 {
			l = l[i:]
		}
		if f := strings.Fields(l); len(f) == 3 && f[0] == "@@kvmscope-bench" {
			n, _ := strconv.Atoi(f[2])
			select {
			case c.markers <- marker{f[1], n, time.Now()}:
			default:
			}
		}
	}
	return len(p), nil
}

func (c *markerConsole) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// runWorkloads boots the sample under one extension set and measures the
// workloads between its markers.
func runWorkloads(kernelFile string, initrd []byte, ext string, kib, forks int) ([]workloadRow, error) {
	image, err := os.ReadFile(kernelFile)
	if err != nil {
		return nil, err
	}
	console := &markerConsole{markers: make(chan marker, 8)}
	m, err := vmm.New(vmm.Config{
		MemSize: linux.MemSize, CPUs: 1, Ext: ext, Console: console, Initrd: initrd,
		Cmdline: linux.CmdlineWith(fmt.Sprintf("/bin/kvmscope-bench %d %d", kib, forks)),
	})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if _, err := m.Load(image); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	done := make(chan vmm.Stop, 1)
	go func() { done <- m.Run(ctx) }()

	type snap struct {
		marker
		exits, user uint64
	}
	var snaps []snap
	for {
		select {
		case stop := <-done:
			out := console.String()
			return nil, fmt.Errorf("the guest stopped before its workloads ended: %v; console ends:\n%s", &stop, out[max(0, len(out)-2000):])
		case mk := <-console.markers:
			ks, err := m.KernelStats()
			if err != nil {
				return nil, err
			}
			var user uint64
			for _, r := range m.ExitStats() {
				if r.Kind != "ring" && r.Kind != "signal" {
					user += r.Count
				}
			}
			snaps = append(snaps, snap{mk, ks["exits"], user})
			m.Serial().Input([]byte("\n"))
			if mk.name != "end" {
				continue
			}
			stop := <-done
			if stop.Kind != vmm.StopGuestExit || stop.Status != 0 {
				return nil, fmt.Errorf("stop %v, want a guest exit with status 0", &stop)
			}
			// Boot: from Run to the first marker, just after init started
			// the workloads.
			boot := workloadRow{ext: ext, workload: "boot", ops: 1, time: snaps[0].at.Sub(start)}
			rows := []workloadRow{boot}
			for i := 0; i+1 < len(snaps); i++ {
				a, z := snaps[i], snaps[i+1]
				rows = append(rows, workloadRow{
					ext: boot.ext, workload: a.name, ops: max(a.n, 1), time: z.at.Sub(a.at),
					exits: z.exits - a.exits, user: z.user - a.user,
				})
			}
			if len(rows) != 4 {
				return nil, fmt.Errorf("%d markers, want 4", len(snaps))
			}
			rows[0].exits, rows[0].user = snaps[0].exits, snaps[0].user // up to the first marker
			return rows, nil
		}
	}
}
