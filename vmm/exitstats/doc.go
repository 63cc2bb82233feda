// Package exitstats accounts for VM exits: per vCPU and per key (an exit
// reason, or an I/O port or MMIO device for I/O exits), a count and two
// latency histograms — the KVM_RUN round trip that ended in the exit, and
// the time our own handler then took.
//
// The vCPU thread records with atomic adds into fixed arrays: no
// allocation and no lock on the exit path. Readers take snapshots at any
// time from any goroutine.
package exitstats
