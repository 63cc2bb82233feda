package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

func cmdProbe(args []string) int {
	if len(args) > 0 {
		return badInput("probe takes no arguments")
	}
	sys, err := kvm.Open()
	if err != nil {
		return failure("%v", err)
	}
	defer sys.Close()
	fmt.Printf("KVM API version %d\n", kvm.APIVersion)
	for _, c := range kvm.Caps() {
		v := sys.CheckExtension(c)
		state := "no"
		if v != 0 {
			state = fmt.Sprintf("yes (%#x)", v)
		}
		fmt.Printf("  %-24s %s\n", c, state)
	}
	p, err := debug.ProbeHost()
	if err != nil {
		return failure("probe breakpoints: %v", err)
	}
	hv := p.Hypervisor
	if hv == "" {
		hv = "none (bare metal)"
	}
	fmt.Printf("host hypervisor: %s\nbreakpoint strategy:\n", hv)
	for _, l := range strings.Split(strings.TrimSpace(p.Strategy()), "\n") {
		fmt.Printf("  %s\n", l)
	}
	return 0
}

func cmdSamples(args []string) int {
	if len(args) > 0 {
		return badInput("samples takes no arguments")
	}
	for _, n := range samples.Names() {
		fmt.Printf("sample:%-14s %s\n", n, strings.TrimSpace(samples.Describe(n)))
	}
	fmt.Fprintln(os.Stderr, "run one with: kvmscope run sample:NAME")
	return 0
}
