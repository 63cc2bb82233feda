package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// Formats are the output formats of WriteResults.
var Formats = []string{"table", "csv", "json"}

// WriteResults prints the results and the extension ratios in a format.
func WriteResults(w io.Writer, format string, results []Result, qemu []QEMUResult) error {
	ratios := Ratios(results)
	switch format {
	case "table":
		writeTable(w, results, ratios, qemu)
		return nil
	case "csv":
		return writeCSV(w, results, ratios, qemu)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Results []Result     `json:"results"`
			Ratios  []Ratio      `json:"extension_ratios"`
			QEMU    []QEMUResult `json:"qemu,omitempty"`
		}{results, ratios, qemu})
	}
	return fmt.Errorf("--format %q: want table, csv or json", format)
}

func writeTable(w io.Writer, results []Result, ratios []Ratio, qemu []QEMUResult) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tconfiguration\tops\tuser exits/op\tkernel exits/op\ttime/op\tslowdown\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%s\t%.1fx\t\n", r.Workload, r.Config, r.N, r.UserExitsPerOp, r.KernelExitsPerOp,
			exitstats.FormatDuration(r.TimePerOp), r.Slowdown)
	}
	tw.Flush()
	if len(ratios) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "extension\tworkload\ttime/op off\ttime/op on\toff/on\tuser exits/op off\ton\t")
		for _, r := range ratios {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2fx\t%.2f\t%.2f\t\n", r.Extension, r.Workload,
				exitstats.FormatDuration(r.Off.TimePerOp), exitstats.FormatDuration(r.On.TimePerOp), r.Speedup,
				r.Off.UserExitsPerOp, r.On.UserExitsPerOp)
		}
		tw.Flush()
	}
	if len(qemu) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "workload\tkvmscope time/op\tQEMU time/op\tkvmscope/QEMU\t")
		for _, q := range qemu {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fx\t\n", q.Workload, exitstats.FormatDuration(q.Ours), exitstats.FormatDuration(q.QEMU), q.Ratio)
		}
		tw.Flush()
	}
	writeLegend(w, results)
	fmt.Fprintln(w, "\nTimes are wall-clock on this host; inside the nested sandbox they are an emulated CPU's: compare the ratios.")
}

// writeLegend says what one operation of each workload in the table is,
// and what a Linux row's configuration and slowdown mean.
func writeLegend(w io.Writer, results []Result) {
	var seen []string
	linuxRows := false
	for _, r := range results {
		if !slices.Contains(seen, r.Workload) {
			seen = append(seen, r.Workload)
		}
		linuxRows = linuxRows || strings.HasPrefix(r.Workload, LinuxGroup+"-")
	}
	fmt.Fprintln(w, "\nOne operation:")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, wl := range Workloads() {
		if slices.Contains(seen, wl.Name) {
			fmt.Fprintf(tw, "  %s\t%s\n", wl.Name, wl.Op)
		}
	}
	tw.Flush()
	if linuxRows {
		fmt.Fprintln(w, "linux-*: the Linux sample, 1 vCPU, one boot per configuration: --ext default, all (adds hlt-passthrough),")
		fmt.Fprintln(w, "none (no irqchip: kvmscope's own PIC and PIT); slowdown against the same workload under default.")
	}
}

func writeCSV(w io.Writer, results []Result, ratios []Ratio, qemu []QEMUResult) error {
	cw := csv.NewWriter(w)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	cw.Write([]string{"kind", "workload", "configuration", "extension", "on", "n", "user_exits_per_op", "kernel_exits_per_op", "time_per_op_ns", "slowdown", "off_over_on"})
	for _, r := range results {
		cw.Write([]string{"result", r.Workload, r.Config, r.Extension, strconv.FormatBool(r.On), strconv.FormatUint(r.N, 10),
			f(r.UserExitsPerOp), f(r.KernelExitsPerOp), strconv.FormatInt(r.TimePerOp.Nanoseconds(), 10), f(r.Slowdown), ""})
	}
	for _, r := range ratios {
		cw.Write([]string{"ratio", r.Workload, "", r.Extension, "", "", "", "", "", "", f(r.Speedup)})
	}
	for _, q := range qemu {
		cw.Write([]string{"qemu", q.Workload, "kvmscope/qemu", "", "", strconv.FormatUint(q.N, 10), "", "",
			strconv.FormatInt(q.QEMU.Nanoseconds(), 10), "", f(q.Ratio)})
	}
	cw.Flush()
	return cw.Error()
}
