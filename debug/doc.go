// Package debug is what a debugger needs from the VMM: CPU modes, the
// guest page-table walk, disassembly and reports of a vCPU's state. The
// gdb stub and the terminal UI are front ends on it; it knows neither.
package debug
