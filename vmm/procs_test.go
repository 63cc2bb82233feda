package vmm

import (
	"runtime"
	"testing"
)

func TestReserveProcs(t *testing.T) {
	base, cpus := runtime.GOMAXPROCS(0), runtime.NumCPU()
	a := reserveProcs(1)
	b := reserveProcs(cpus + 64) // no more than the host's CPUs
	if got := runtime.GOMAXPROCS(0); got != base+1+cpus {
		t.Fatalf("GOMAXPROCS %d with 1 and %d reserved over %d", got, cpus, base)
	}
	b()
	b() // a second release changes nothing
	if got := runtime.GOMAXPROCS(0); got != base+1 {
		t.Fatalf("GOMAXPROCS %d with 1 reserved over %d", got, base)
	}
	a()
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS %d after every release, want %d", got, base)
	}
}
