package exitstats

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WritePrometheus writes the exit table and KVM's own counters in the
// Prometheus text exposition format (version 0.0.4).
func WritePrometheus(w io.Writer, rows []Row, kernel map[string]uint64) {
	fmt.Fprintln(w, "# HELP kvmscope_exits_total VM exits that reached kvmscope, by reason (I/O by device).")
	fmt.Fprintln(w, "# TYPE kvmscope_exits_total counter")
	for _, r := range rows {
		fmt.Fprintf(w, "kvmscope_exits_total{kind=%q,reason=%q} %d\n", r.Kind, promLabel(r.Name), r.Count)
	}
	fmt.Fprintln(w, "# HELP kvmscope_exit_roundtrip_seconds KVM_RUN round trips that ended in each exit.")
	fmt.Fprintln(w, "# TYPE kvmscope_exit_roundtrip_seconds summary")
	for _, r := range rows {
		if r.Run.Count() == 0 {
			continue
		}
		l := fmt.Sprintf("kind=%q,reason=%q", r.Kind, promLabel(r.Name))
		for _, q := range []float64{0.5, 0.99} {
			fmt.Fprintf(w, "kvmscope_exit_roundtrip_seconds{%s,quantile=\"%g\"} %g\n", l, q, float64(r.Run.Quantile(q))/1e9)
		}
		fmt.Fprintf(w, "kvmscope_exit_roundtrip_seconds_sum{%s} %g\n", l, r.SumRun.Seconds())
		fmt.Fprintf(w, "kvmscope_exit_roundtrip_seconds_count{%s} %d\n", l, r.Run.Count())
	}
	fmt.Fprintln(w, "# HELP kvmscope_exit_handler_seconds_total Time kvmscope's own handlers took, by reason.")
	fmt.Fprintln(w, "# TYPE kvmscope_exit_handler_seconds_total counter")
	for _, r := range rows {
		fmt.Fprintf(w, "kvmscope_exit_handler_seconds_total{kind=%q,reason=%q} %g\n", r.Kind, promLabel(r.Name), r.SumHandler.Seconds())
	}
	if len(kernel) > 0 {
		names := make([]string, 0, len(kernel))
		for n := range kernel {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(w, "# HELP kvmscope_kvm_vcpu_stat KVM's own per-vCPU counters (binary stats fd), summed over vCPUs.")
		fmt.Fprintln(w, "# TYPE kvmscope_kvm_vcpu_stat counter")
		for _, n := range names {
			fmt.Fprintf(w, "kvmscope_kvm_vcpu_stat{name=%q} %d\n", n, kernel[n])
		}
	}
}

// promLabel keeps a label value printable; %q does the escaping.
func promLabel(s string) string { return strings.ToValidUTF8(s, "?") }
