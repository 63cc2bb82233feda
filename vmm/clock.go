package vmm

import _ "unsafe" // go:linkname

// monotonic is the exit path's clock, in nanoseconds: the Go runtime's
// monotonic clock, one vDSO read. time.Now also reads the wall clock, a
// second read, and the exit path reads the clock twice per exit (the
// accounting's cost is measured by BenchmarkAccountingOverhead).
// runtime.nanotime is one of the runtime functions Go keeps reachable by
// go:linkname for exactly this use.
//
//go:linkname monotonic runtime.nanotime
func monotonic() int64
