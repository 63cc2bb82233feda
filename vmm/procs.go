package vmm

import (
	"runtime"
	"sync"
)

// A vCPU thread gives up its P (the Go scheduler's right to run Go code)
// while it sits in KVM_RUN, and the scheduler lends that P to other
// goroutines: the TUI drawing its panes, a gdb stub, the garbage
// collector. When the guest exits, the thread needs a P back to handle
// the exit; if every P is busy it waits for one, as long as a scheduler
// time slice (10 ms), and the exit's round trip grows by that much.
// So each running vCPU gets a P of its own on top of GOMAXPROCS: an idle
// P is there when it returns, and the scheduler has no reason to take its
// P away while it is in the guest. At most as many as the host has CPUs:
// more vCPUs than that cannot all be out of the guest at once, and every
// P beyond them would add garbage-collector workers (a quarter of
// GOMAXPROCS) competing with the vCPUs for the same CPUs.
var procs struct {
	mu       sync.Mutex
	base     int // GOMAXPROCS before the first reservation
	reserved int
}

// reserveProcs raises GOMAXPROCS by n vCPUs' worth until release is
// called.
func reserveProcs(n int) (release func()) {
	n = min(n, runtime.NumCPU())
	procs.mu.Lock()
	defer procs.mu.Unlock()
	if procs.reserved == 0 {
		procs.base = runtime.GOMAXPROCS(0)
	}
	procs.reserved += n
	runtime.GOMAXPROCS(procs.base + procs.reserved)
	var once sync.Once
	return func() {
		once.Do(func() {
			procs.mu.Lock()
			defer procs.mu.Unlock()
			procs.reserved -= n
			runtime.GOMAXPROCS(procs.base + procs.reserved)
		})
	}
}
