// Command kvmscope runs a guest on KVM and shows why and how often it
// leaves hardware virtualization, and what each VM exit costs.
//
// Exit status: the byte the guest wrote to the debug-exit port 0xf4, or
// one of kvmscope's own: 1 kvmscope failed, 2 bad input, 3 guest fault,
// 4 guest reset, 124 timeout, 130 interrupted.
package main

import (
	"fmt"
	"os"
)

// kvmscope's own exit statuses.
const (
	exitFailure     = 1
	exitBadInput    = 2
	exitGuestFault  = 3
	exitGuestReset  = 4
	exitTimeout     = 124
	exitInterrupted = 130
)

type command struct {
	name, summary string
	run           func(args []string) int
}

var commands = []command{
	{"run", "run a guest image or sample to its end", cmdRun},
	{"bench", "measure exit costs with each host extension on and off", cmdBench},
	{"probe", "report what this host's KVM offers", cmdProbe},
	{"samples", "list the embedded sample guests", cmdSamples},
	{"tui", "watch and drive a guest live in the terminal UI", cmdTUI},
	{"symbols", "print a kernel's symbols, from its own kallsyms when it has no System.map", cmdSymbols},
	{"kut", "run a kvm-unit-tests build's x86 tests (and under QEMU, to compare)", cmdKUT},
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return exitBadInput
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "kvmscope: unknown command %q (try kvmscope help)\n", args[0])
	return exitBadInput
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kvmscope COMMAND [flags] [args]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nexit status: the guest's byte on port 0xf4, or 1 failure, 2 bad input, 3 guest fault, 4 guest reset, 124 timeout")
}

// badInput reports a user error in one line and returns its status.
func badInput(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "kvmscope: "+format+"\n", a...)
	return exitBadInput
}

// failure reports kvmscope's own failure in one line.
func failure(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "kvmscope: "+format+"\n", a...)
	return exitFailure
}
