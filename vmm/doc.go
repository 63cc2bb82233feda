// Package vmm is the virtual machine: guest memory, vCPU threads, the exit
// dispatch, the devices, and exit accounting.
//
// Each vCPU runs on its own goroutine locked to its own OS thread, created
// there and handling its own exits there: handing exits to another
// goroutine would recreate the two-process round trip that King, Dunlap
// and Chen measured as the main cost of a user-space VMM. The exit path
// neither allocates nor locks.
package vmm
