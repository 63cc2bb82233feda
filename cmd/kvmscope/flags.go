package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kvmscope/kvmscope/vmm"
)

// machineFlags are the flags that describe the machine, shared by the
// commands that build one.
type machineFlags struct {
	mem     string
	cpus    int
	kernel  string
	timeout time.Duration
}

func (f *machineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mem, "mem", "64M", "guest memory: 64M, 1G (binary units; a bare number is MiB)")
	fs.IntVar(&f.cpus, "cpus", 1, "number of vCPUs")
	fs.StringVar(&f.kernel, "kernel", "", "guest image (same as the IMAGE argument)")
	fs.DurationVar(&f.timeout, "timeout", 0, "stop the guest after this long (e.g. 30s); 0 for no limit")
}

// config checks the flags and turns them into a machine configuration.
func (f *machineFlags) config(console io.Writer) (vmm.Config, error) {
	size, err := vmm.ParseSize(f.mem)
	if err != nil {
		return vmm.Config{}, fmt.Errorf("--mem: %w", err)
	}
	cfg := vmm.Config{MemSize: size, CPUs: f.cpus, Console: console}
	if err := cfg.Validate(); err != nil {
		return vmm.Config{}, fmt.Errorf("--mem/--cpus: %w", err)
	}
	if f.timeout < 0 {
		return vmm.Config{}, fmt.Errorf("--timeout %v: negative", f.timeout)
	}
	return cfg, nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, as `run IMAGE --stats` reads naturally.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
