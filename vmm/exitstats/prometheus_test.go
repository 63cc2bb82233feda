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
