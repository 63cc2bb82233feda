package vmm

import (
	"runtime"
	"testing"
)

func TestReserveProcs(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	a := reserveProcs(2)
	b := reserveProcs(1)
	if got := runtime.GOMAXPROCS(0); got != base+3 {
		t.Fatalf("GOMAXPROCS %d with 3 reserved over %d", got, base)
	}
	a()
	a() // a second release changes nothing
	if got := runtime.GOMAXPROCS(0); got != base+1 {
		t.Fatalf("GOMAXPROCS %d with 1 reserved over %d", got, base)
	}
	b()
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS %d after every release, want %d", got, base)
	}
}
