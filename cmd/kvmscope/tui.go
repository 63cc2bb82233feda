package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/gdbstub"
	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/tui"
	"github.com/kvmscope/kvmscope/tui/driver"
	"github.com/kvmscope/kvmscope/vmm"
)

func cmdTUI(args []string) int {
	fs := newFlagSet("tui", "[flags] IMAGE|sample:NAME")
	var mf machineFlags
	mf.register(fs)
	run := fs.Bool("run", false, "start the guest running (default: stopped at its first instruction)")
	gdbAddr := fs.String("gdb", "", "also serve gdb on [HOST]:PORT (a bare PORT listens on 127.0.0.1)")
	symFile := fs.String("symbols", "", "symbols for the code pane: an ELF file or a System.map")
	pos, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	cfg, err := mf.config(nil)
	if err != nil {
		return badInput("%v", err)
	}
	name, err := imageArg(pos, mf.kernel)
	if err != nil {
		return badInput("%v", err)
	}
	if name == linuxSampleName {
		if name, err = linuxSample(fs, &mf, &cfg); err != nil {
			return badInput("%v", err)
		}
	}
	image, err := readImage(name)
	if err != nil {
		return badInput("%v", err)
	}
	if uint64(len(image)) > cfg.MemSize {
		return badInput("image %s: %d bytes is larger than guest memory (%s)", name, len(image), vmm.FormatSize(cfg.MemSize))
	}
	syms, err := guestSymbols(name, image, *symFile)
	if err != nil {
		return badInput("%v", err)
	}
	probe, err := debug.ProbeHost()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "kvmscope: warning: breakpoint probe failed (%v): assuming no int3 interception\n", err)
	}
	dc := driver.Config{Machine: cfg, Image: image, Name: name, Symbols: syms.Symbols(), Probe: probe, Run: *run, Timeout: mf.timeout}
	if *gdbAddr != "" {
		gdb, err := newTUIGDB(*gdbAddr)
		if err != nil {
			return badInput("--gdb %s: %v", *gdbAddr, err)
		}
		dc.GDB, dc.GDBAddr = gdb.serve, "gdb on "+gdb.addr
	}
	d, err := driver.New(dc)
	if err != nil {
		return badInput("%v", err)
	}
	if err := d.Start(); err != nil {
		return report(os.Stderr, &vmm.Stop{Kind: vmm.StopError, VCPU: -1, Err: err}, nil, nil, nil)
	}
	defer d.Close()
	if err := tui.Run(d, tui.Options{}); err != nil {
		return failure("tui: %v", err)
	}
	return 0
}

// guestSymbols finds symbols for the code pane (and run's fault
// report): --symbols, a sample's symbol file, or the kernel's own (see
// kernelSymbols).
func guestSymbols(name string, image []byte, file string) (*symbols.Kernel, error) {
	switch file {
	case "none":
		return nil, nil
	case "":
	default:
		return loadSymbolFile(file)
	}
	if s, ok := strings.CutPrefix(name, "sample:"); ok {
		data, err := samples.SymbolFile(s)
		if err != nil {
			return nil, nil // a raw sample without symbols
		}
		t, _ := symbols.Load(data)
		return &symbols.Kernel{Table: t, From: name}, nil
	}
	return kernelSymbols(name, image), nil // a System.map beside it, ELF symbols or kallsyms
}

// tuiGDB serves gdb beside the TUI: on every machine the TUI builds (a
// restart makes a new one, and gdb attaches anew), on the same address.
type tuiGDB struct {
	addr  string
	mu    sync.Mutex
	first net.Listener // listened before the TUI starts, so that a bad address is refused at once
}

func newTUIGDB(spec string) (*tuiGDB, error) {
	ln, err := listen("--gdb", spec)
	if err != nil {
		return nil, err
	}
	return &tuiGDB{addr: ln.Addr().String(), first: ln}, nil
}

func (g *tuiGDB) serve(ctx context.Context, t *driver.Target) (string, bool) {
	g.mu.Lock()
	ln := g.first
	g.first = nil
	g.mu.Unlock()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", g.addr); err != nil {
			return "gdb: " + err.Error(), false
		}
	}
	end, err := gdbstub.Serve(ctx, ln, t, gdbstub.Options{Running: t.Running(), Logf: t.Note})
	switch {
	case err != nil:
		return "gdb stub: " + err.Error(), false
	case end.Reason == gdbstub.EndKilled:
		return "gdb killed the guest", true
	}
	return "", false
}
