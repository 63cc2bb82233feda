package exitstats

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteTable prints the exit table: per reason (I/O per device), the
// count, mean and p99 KVM_RUN round trip, and the share of each exit
// cycle spent in kvmscope's own handler.
func WriteTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "exit reason\tcount\tmean round trip\tp99 round trip\tin handler\t")
	var total uint64
	for _, r := range rows {
		total += r.Count
		if r.Run.Count() == 0 {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t\n", r.Name, r.Count)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.1f%%\t\n", r.Name, r.Count,
			FormatDuration(r.MeanRun()), FormatDuration(time.Duration(r.Run.Quantile(0.99))), 100*r.HandlerShare())
	}
	fmt.Fprintf(tw, "total\t%d\t\t\t\t\n", total)
	tw.Flush()
}

// FormatDuration prints a latency with three significant digits.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
