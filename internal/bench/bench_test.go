package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
)

// TestBenchMovesExits runs the extension workloads small and checks the
// numbers move the way each mechanism says: with the extension, the
// operation's exits stay in the kernel (or, for HLT passthrough, vanish).
func TestBenchMovesExits(t *testing.T) {
	kvmtest.Available(t)
	var ws []Workload
	for _, w := range Workloads() {
		switch w.Name {
		case "doorbell", "window", "piowindow", "hlt":
			ws = append(ws, w)
		}
	}
	results, err := Run(context.Background(), ws, 0.1, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(workload, config string) Result {
		for _, r := range results {
			if r.Workload == workload && r.Config == config {
				return r
			}
		}
		t.Fatalf("no result for %s / %s", workload, config)
		return Result{}
	}
	for _, c := range []struct{ workload, ext string }{
		{"doorbell", "ioeventfd"}, {"window", "coalesced-mmio"}, {"piowindow", "coalesced-pio"}, {"hlt", "irqchip"},
	} {
		on, off := get(c.workload, c.ext+" on"), get(c.workload, c.ext+" off")
		if off.UserExitsPerOp < 0.9 || on.UserExitsPerOp > 0.2 {
			t.Errorf("%s on %s: user-space exits per op %.2f off, %.2f on; want ~1 (or more) off and ~0 on",
				c.ext, c.workload, off.UserExitsPerOp, on.UserExitsPerOp)
		}
	}
	// hlt-passthrough removes the HLT exits but not the timer's own, so
	// its total per tick need not drop: vmm's TestHLTExtensions checks
	// KVM's halt_exits instead.
	var out bytes.Buffer
	if err := WriteResults(&out, "csv", results, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r[3]] = true
	}
	for _, ext := range []string{"ioeventfd", "coalesced-mmio", "coalesced-pio", "irqchip", "hlt-passthrough", "halt-poll"} {
		if !seen[ext] {
			t.Errorf("the CSV names no %s rows:\n%s", ext, strings.Join(recs[0], ","))
		}
	}
}
