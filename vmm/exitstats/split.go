package exitstats

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// SplitRow is one kind of exit divided by where it was handled.
type SplitRow struct {
	Reason string
	Total  uint64 // every exit of this kind, as KVM counts them
	Kernel uint64 // handled inside KVM
	User   uint64 // came to kvmscope
	Note   string
}

// WriteSplit prints where each kind of exit was handled.
func WriteSplit(w io.Writer, rows []SplitRow) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "exits by where they were handled\ttotal\tin kernel\tto kvmscope\tin kernel %\tnote")
	for _, r := range rows {
		share := "-"
		if r.Total > 0 {
			share = fmt.Sprintf("%.1f%%", 100*float64(r.Kernel)/float64(r.Total))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", r.Reason, r.Total, r.Kernel, r.User, share, r.Note)
	}
	tw.Flush()
}
