package exitstats

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWritePrometheus(t *testing.T) {
	var keys Keys
	k, _ := keys.Add("io", `IO 0x3f8 "serial"`)
	keys.Freeze()
	var v VCPU
	v.Record(k, 50*time.Microsecond, 5*time.Microsecond)
	acc := map[Key]*Row{}
	v.Snapshot(&keys, acc)
	var b bytes.Buffer
	WritePrometheus(&b, []Row{*acc[k]}, map[string]uint64{"exits": 7})
	out := b.String()
	for _, want := range []string{
		`kvmscope_exits_total{kind="io",reason="IO 0x3f8 \"serial\""} 1`,
		`kvmscope_exit_roundtrip_seconds_count{kind="io",reason="IO 0x3f8 \"serial\""} 1`,
		`kvmscope_kvm_vcpu_stat{name="exits"} 7`,
		"# TYPE kvmscope_exits_total counter",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

func TestWritePrometheusReasons(t *testing.T) {
	r := ReasonRow{Reason: "cpuid", Kernel: 2, KernelSum: 3 * time.Microsecond}
	r.KernelTime.Record(1000)
	r.KernelTime.Record(2000)
	var b bytes.Buffer
	WritePrometheusReasons(&b, []ReasonRow{r})
	out := b.String()
	for _, want := range []string{
		`kvmscope_kvm_exits_total{reason="cpuid",handled="kernel"} 2`,
		`kvmscope_kvm_exits_total{reason="cpuid",handled="user"} 0`,
		`kvmscope_kvm_exit_seconds_count{reason="cpuid",handled="kernel"} 2`,
		`kvmscope_kvm_exit_seconds_sum{reason="cpuid",handled="kernel"} 3e-06`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, `handled="user",quantile`) {
		t.Errorf("a summary for a path with no timed exits:\n%s", out)
	}
}
