package exitstats

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteReasons(t *testing.T) {
	var cpuid ReasonRow
	cpuid.Reason, cpuid.Kernel = "cpuid", 3
	for _, ns := range []uint64{1000, 2000, 3000} {
		cpuid.KernelTime.Record(ns)
		cpuid.KernelSum += 1000 * 2 // 2 µs each on average
	}
	io := ReasonRow{Reason: "io", User: 2} // counted, not timed
	var b bytes.Buffer
	WriteReasons(&b, []ReasonRow{cpuid, io}, "note: one")
	out := b.String()
	for _, want := range []string{"hardware exit reason", "cpuid", "2.00µs", "total", "note: one"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	if f := strings.Fields(lines[2]); len(f) != 7 || f[0] != "io" || f[1] != "0" || f[2] != "-" || f[4] != "2" || f[5] != "-" {
		t.Errorf("io line %q", lines[2])
	}
	if f := strings.Fields(lines[3]); len(f) != 3 || f[1] != "3" || f[2] != "2" {
		t.Errorf("total line %q", lines[3])
	}
}
