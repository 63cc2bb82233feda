package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/boot"
)

// machineFlags are the flags that describe the machine, shared by the
// commands that build one.
type machineFlags struct {
	mem     string
	cpus    int
	kernel  string
	timeout time.Duration
	ext     string
	initrd  string // Linux: initial RAM disk file
	append  string // Linux: kernel command line
	rom     string // what a write to ROM does: fault or drop
}

func (f *machineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mem, "mem", "64M", "guest memory: 64M, 1G (binary units; a bare number is MiB)")
	fs.IntVar(&f.cpus, "cpus", 1, "number of vCPUs")
	fs.StringVar(&f.kernel, "kernel", "", "guest image (same as the IMAGE argument)")
	fs.DurationVar(&f.timeout, "timeout", 0, "stop the guest after this long (e.g. 30s); 0 for no limit")
	fs.StringVar(&f.initrd, "initrd", "", "Linux kernel: initial RAM disk FILE (a cpio archive, plain or compressed)")
	fs.StringVar(&f.append, "append", "", "Linux kernel: the command line (default \""+boot.DefaultCmdline+"\")")
	fs.StringVar(&f.rom, "rom-writes", "fault", "a guest's write to ROM: fault (stop with a report, status 3) or drop (as hardware does; reported at the end)")
	fs.StringVar(&f.ext, "ext", "default", "host extensions: all, none, default, or a list like -ioeventfd,+hlt-passthrough\n(irqchip, ioeventfd, coalesced-mmio, coalesced-pio, hlt-passthrough, halt-poll)")
}

// config checks the flags and turns them into a machine configuration.
func (f *machineFlags) config(console io.Writer) (vmm.Config, error) {
	size, err := vmm.ParseSize(f.mem)
	if err != nil {
		return vmm.Config{}, fmt.Errorf("--mem: %w", err)
	}
	cfg := vmm.Config{MemSize: size, CPUs: f.cpus, Console: console, Ext: f.ext}
	switch f.rom {
	case "fault":
	case "drop":
		cfg.DropROMWrites = true
	default:
		return vmm.Config{}, fmt.Errorf("--rom-writes %q: want fault or drop", f.rom)
	}
	if err := cfg.Validate(); err != nil {
		return vmm.Config{}, err
	}
	if f.timeout < 0 {
		return vmm.Config{}, fmt.Errorf("--timeout %v: negative", f.timeout)
	}
	cfg.Cmdline = f.append
	if f.initrd != "" {
		if cfg.Initrd, err = readInitrd(f.initrd); err != nil {
			return vmm.Config{}, err
		}
	}
	return cfg, nil
}

// readInitrd reads --initrd's file.
func readInitrd(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("--initrd %s: no such file", name)
	case err != nil:
		return nil, fmt.Errorf("--initrd %s: %w", name, err)
	case len(data) == 0:
		return nil, fmt.Errorf("--initrd %s: empty file", name)
	}
	return data, nil
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// newFlagSet makes a command's flag set. It prints nothing by itself:
// parseFlags turns a bad flag into one line, and -h into the usage.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every error
	usages[fs] = synopsis
	return fs
}

// usages holds each flag set's synopsis for -h.
var usages = map[*flag.FlagSet]string{}

// parseFlags parses args; when ok is false the command returns status.
func parseFlags(fs *flag.FlagSet, args []string) (pos []string, status int, ok bool) {
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(os.Stderr, "usage: kvmscope %s %s\n", fs.Name(), usages[fs])
		fs.SetOutput(os.Stderr)
		fs.PrintDefaults()
		return nil, 0, false
	case err != nil:
		return nil, badInput("%s: %v (kvmscope %s -h for help)", fs.Name(), err, fs.Name()), false
	}
	return pos, 0, true
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
