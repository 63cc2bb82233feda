package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/kvmscope/kvmscope/internal/bench"
)

func cmdBench(args []string) int {
	fs := newFlagSet("bench", "[flags] [WORKLOAD...]")
	format := fs.String("format", "table", "output format: table, csv or json")
	scale := fs.Float64("scale", 1, "multiply every workload's operation count")
	compare := fs.Bool("compare-qemu", false, "also time the shared workloads under qemu-system-x86_64 -accel kvm")
	pos, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	if !slices.Contains(bench.Formats, *format) {
		return badInput("--format %q: want %s", *format, strings.Join(bench.Formats, ", "))
	}
	if *scale <= 0 || *scale > 1000 {
		return badInput("--scale %v: want more than 0 and at most 1000", *scale)
	}
	workloads := bench.Workloads()
	if len(pos) > 0 {
		var chosen []bench.Workload
		for _, name := range pos {
			i := slices.IndexFunc(workloads, func(w bench.Workload) bool { return w.Name == name })
			if i < 0 {
				return badInput("no workload %q (have %s)", name, workloadNames(workloads))
			}
			chosen = append(chosen, workloads[i])
		}
		workloads = chosen
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	results, err := bench.Run(ctx, workloads, *scale, os.Stderr)
	if err != nil {
		return failure("bench: %v", err)
	}
	var qemu []bench.QEMUResult
	if *compare {
		if qemu, err = bench.CompareQEMU(ctx, *scale, os.Stderr); err != nil {
			return failure("bench: %v", err)
		}
	}
	// Format into memory first: a failed run never leaves half a table.
	var out bytes.Buffer
	if err := bench.WriteResults(&out, *format, results, qemu); err != nil {
		return failure("bench: %v", err)
	}
	if _, err := os.Stdout.Write(out.Bytes()); err != nil {
		return failure("bench: write results: %v", err)
	}
	return 0
}

func workloadNames(ws []bench.Workload) string {
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return strings.Join(names, ", ")
}
