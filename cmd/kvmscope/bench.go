package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/kvmscope/kvmscope/internal/bench"
)

// benchSynopsis is `bench -h`'s: which workloads there are, and which a
// bare `kvmscope bench` runs.
const benchSynopsis = `[flags] [WORKLOAD...]

Workloads: compute, pio, mmio, doorbell, window, piowindow, hlt, cpuid (the
firmware samples, each under the extensions that act on it), and the Linux
sample's linux-boot, linux-console, linux-idle, linux-fork ("linux" for all
four; one boot per extension set: default, all, none). Without names: every
firmware workload, and the Linux ones when the Linux sample is built
("make linux-sample"; some 1-2 minutes more inside kvmbox).`

func cmdBench(args []string) int {
	fs := newFlagSet("bench", benchSynopsis)
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
	workloads, note, err := bench.Select(pos)
	if err != nil {
		return badInput("%v", err)
	}
	if note != "" {
		fmt.Fprintf(os.Stderr, "kvmscope: bench: %s\n", note)
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
