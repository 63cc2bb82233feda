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

// WritePrometheusReasons writes the per-hardware-reason table from KVM's
// trace events: exits by reason and by where they were handled
// (handled="kernel" or "user"), and the exit→entry time of each path.
func WritePrometheusReasons(w io.Writer, rows []ReasonRow) {
	fmt.Fprintln(w, "# HELP kvmscope_kvm_exits_total VM exits by hardware reason (tracefs kvm_exit), by where they were handled.")
	fmt.Fprintln(w, "# TYPE kvmscope_kvm_exits_total counter")
	for _, r := range rows {
		fmt.Fprintf(w, "kvmscope_kvm_exits_total{reason=%q,handled=\"kernel\"} %d\n", promLabel(r.Reason), r.Kernel)
		fmt.Fprintf(w, "kvmscope_kvm_exits_total{reason=%q,handled=\"user\"} %d\n", promLabel(r.Reason), r.User)
	}
	fmt.Fprintln(w, "# HELP kvmscope_kvm_exit_seconds Exit to next entry, by hardware reason and where the exit was handled (for user, the whole round trip).")
	fmt.Fprintln(w, "# TYPE kvmscope_kvm_exit_seconds summary")
	for _, r := range rows {
		for _, p := range []struct {
			handled string
			h       *HistSnapshot
			sum     float64
		}{{"kernel", &r.KernelTime, r.KernelSum.Seconds()}, {"user", &r.UserTime, r.UserSum.Seconds()}} {
			n := p.h.Count()
			if n == 0 {
				continue
			}
			l := fmt.Sprintf("reason=%q,handled=%q", promLabel(r.Reason), p.handled)
			for _, q := range []float64{0.5, 0.99} {
				fmt.Fprintf(w, "kvmscope_kvm_exit_seconds{%s,quantile=\"%g\"} %g\n", l, q, float64(p.h.Quantile(q))/1e9)
			}
			fmt.Fprintf(w, "kvmscope_kvm_exit_seconds_sum{%s} %g\n", l, p.sum)
			fmt.Fprintf(w, "kvmscope_kvm_exit_seconds_count{%s} %d\n", l, n)
		}
	}
}
