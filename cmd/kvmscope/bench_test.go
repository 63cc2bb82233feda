package main

import (
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/samples/linux"
)

// TestBenchLinuxNotBuilt: naming a Linux workload without the sample built
// fails at once (before any firmware row runs) and says how to build it.
func TestBenchLinuxNotBuilt(t *testing.T) {
	t.Setenv(linux.DirEnv, t.TempDir())
	for _, args := range [][]string{{"bench", "linux"}, {"bench", "cpuid", "linux-idle"}} {
		stdout, stderr, status := kvmscope(t, args...)
		if status != exitFailure || stdout != "" || !strings.Contains(stderr, "make linux-sample") || strings.Contains(stderr, "cpuid") {
			t.Errorf("kvmscope %s: status %d, stdout %q, stderr %q; want status %d, only the way to build the sample",
				strings.Join(args, " "), status, stdout, stderr, exitFailure)
		}
	}
}

// TestBenchHelp: -h names the Linux workloads and when a bare bench runs them.
func TestBenchHelp(t *testing.T) {
	_, stderr, status := kvmscope(t, "bench", "-h")
	for _, want := range []string{"linux-boot", "linux-fork", `"linux" for all`, "make linux-sample"} {
		if status != 0 || !strings.Contains(stderr, want) {
			t.Errorf("bench -h: status %d, no %q in:\n%s", status, want, stderr)
		}
	}
}
