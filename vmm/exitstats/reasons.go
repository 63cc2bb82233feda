package exitstats

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// ReasonRow is one hardware exit reason (SVM's cpuid, npf, io, ...; VMX's
// CPUID, EPT_VIOLATION, ...) as KVM's trace events saw it: how many exits
// KVM handled in the kernel and how many came to user space, with the
// exit→entry time of each path (for user space, the whole round trip).
// The histograms hold the timed exits only; Kernel and User count all.
type ReasonRow struct {
	Reason               string
	Kernel, User         uint64
	KernelSum, UserSum   time.Duration
	KernelTime, UserTime HistSnapshot
}

// meanOf is sum over the timed exits of a histogram.
func meanOf(sum time.Duration, h *HistSnapshot) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	return sum / time.Duration(n)
}

// MeanKernel and MeanUser are the mean times of the two paths.
func (r *ReasonRow) MeanKernel() time.Duration { return meanOf(r.KernelSum, &r.KernelTime) }
func (r *ReasonRow) MeanUser() time.Duration   { return meanOf(r.UserSum, &r.UserTime) }

// WriteReasons prints the per-hardware-reason table, then each note on a
// line of its own (lost events, the source's limits).
func WriteReasons(w io.Writer, rows []ReasonRow, notes ...string) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "hardware exit reason\tin kernel\tmean\tp99\tto user space\tmean round trip\tp99\t")
	var kernel, user uint64
	for _, r := range rows {
		kernel += r.Kernel
		user += r.User
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t\n", r.Reason,
			r.Kernel, timeCell(r.MeanKernel(), &r.KernelTime, 0), timeCell(0, &r.KernelTime, 0.99),
			r.User, timeCell(r.MeanUser(), &r.UserTime, 0), timeCell(0, &r.UserTime, 0.99))
	}
	fmt.Fprintf(tw, "total\t%d\t\t\t%d\t\t\t\n", kernel, user)
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

// timeCell is a mean (q == 0) or a quantile of h, "-" when nothing was
// timed.
func timeCell(mean time.Duration, h *HistSnapshot, q float64) string {
	if h.Count() == 0 {
		return "-"
	}
	if q == 0 {
		return FormatDuration(mean)
	}
	return FormatDuration(time.Duration(h.Quantile(q)))
}
