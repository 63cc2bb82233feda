package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/debug/symbols"
	linuxsample "github.com/kvmscope/kvmscope/samples/linux"
	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

func cmdRun(args []string) int {
	fs := newFlagSet("run", "[flags] IMAGE|sample:NAME")
	var mf machineFlags
	mf.register(fs)
	stats := fs.Bool("stats", false, "print the exit tables when the guest stops")
	ktraceOn := fs.Bool("ktrace", false, "with --stats or --metrics: count exits per hardware reason, in kernel and to user\nspace, from KVM's kvm_exit/kvm_entry trace events (needs root and tracefs; the kernel's\ntwo or three trace events per exit make each exit slower: 20-26% in the nested sandbox)")
	gdbAddr := fs.String("gdb", "", "serve gdb on [HOST]:PORT (a bare PORT listens on 127.0.0.1)")
	metrics := fs.String("metrics", "", "serve exit counters for Prometheus on [HOST]:PORT/metrics (a bare PORT listens on 127.0.0.1)")
	wait := fs.Bool("wait", false, "with --gdb: hold the guest at its first instruction until gdb continues it")
	symFile := fs.String("symbols", "", "symbols for gdb's monitor and thread list and for a fault report: a System.map, an ELF\nfile, or a kernel image whose kallsyms name them; none for none (default: the guest's\nown, found in the background under --gdb, else only for a fault report)")
	pos, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	cfg, err := mf.config(os.Stdout)
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
	cfg.ImageName = name // a multiboot kernel's first word of its command line
	if uint64(len(image)) > cfg.MemSize {
		return badInput("image %s: %d bytes is larger than guest memory (%s)", name, len(image), vmm.FormatSize(cfg.MemSize))
	}
	// Symbols name the code for gdb and in a fault report. A kernel's own
	// are looked for only when needed (a fault report) or, under --gdb, in
	// the background: recovering kallsyms costs a decompression.
	var named *symbols.Kernel
	if *symFile != "" && *symFile != "none" {
		if named, err = loadSymbolFile(*symFile); err != nil {
			return badInput("%v", err)
		}
	}
	guestSyms := sync.OnceValue(func() *symbols.Kernel {
		if named != nil || *symFile == "none" {
			return named
		}
		k, _ := guestSymbols(name, image, "")
		return k
	})
	faultSyms := func() debug.Symbolizer {
		if t := guestSyms().Symbols(); t != nil {
			return t.At
		}
		return nil
	}

	if *wait && *gdbAddr == "" {
		return badInput("--wait needs --gdb")
	}
	var gdb *gdbServer
	if *gdbAddr != "" {
		if gdb, err = newGDBServer(*gdbAddr, &cfg, *wait); err != nil {
			return badInput("--gdb %s: %v", *gdbAddr, err)
		}
		defer gdb.ln.Close()
		// A kernel's table moves with KASLR: the session finds the slide
		// by its banner once the kernel runs.
		setSyms := func(k *symbols.Kernel) {
			if k != nil {
				gdb.session.SetKernelSymbols(k.Table, k.Banner)
			}
		}
		switch {
		case named != nil:
			setSyms(named)
		case *symFile != "none":
			go func() { setSyms(guestSyms()) }()
		}
	}
	cfg.TraceExits = *ktraceOn && (*stats || *metrics != "")
	m, err := vmm.New(cfg)
	if err != nil {
		return failure("%v", err)
	}
	defer m.Close()
	if _, err := m.Load(image); err != nil {
		return badInput("image %s: %v", name, err)
	}
	if *metrics != "" {
		ln, err := serveMetrics(*metrics, m)
		if err != nil {
			return badInput("--metrics %s: %v", *metrics, err)
		}
		defer ln.Close()
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if mf.timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, mf.timeout)
		defer cancelTimeout()
	}
	restore := forwardStdin(m)
	defer restore()
	var stop vmm.Stop
	if gdb != nil {
		stop = gdb.run(ctx, m)
	} else {
		stop = m.Run(ctx)
	}
	for _, w := range m.Warnings() {
		fmt.Fprintf(os.Stderr, "kvmscope: warning: %s\n", w)
	}
	if *stats {
		exitstats.WriteTable(os.Stderr, m.ExitStats())
		if rows, err := m.ExitSplit(); err != nil {
			fmt.Fprintf(os.Stderr, "kvmscope: kernel exit counters: %v\n", err)
		} else if rows == nil {
			fmt.Fprintln(os.Stderr, "kvmscope: this host's KVM has no binary stats fd: the in-kernel/user-space split is unknown")
		} else {
			fmt.Fprintln(os.Stderr)
			exitstats.WriteSplit(os.Stderr, rows)
		}
		writeExitReasons(os.Stderr, m)
	}
	return report(os.Stderr, &stop, m, mf.timeout, faultSyms)
}

// writeExitReasons prints the per-hardware-reason table from KVM's trace
// events, or one line saying why there is none.
func writeExitReasons(w io.Writer, m *vmm.Machine) {
	snap, err := m.ExitReasons()
	switch {
	case errors.Is(err, vmm.ErrTraceOff):
		fmt.Fprintln(w, "kvmscope: exits per hardware reason: add --ktrace (root, tracefs; tracing slows each exit)")
		return
	case err != nil && snap.Events == 0:
		fmt.Fprintf(w, "kvmscope: no table of exits per hardware reason: %v\n", err)
		return
	}
	var returns uint64 // KVM_RUN returns, as kvmscope's own table counts them
	for _, r := range m.ExitStats() {
		if r.Kind != "ring" {
			returns += r.Count
		}
	}
	notes := []string{fmt.Sprintf("source: tracefs kvm:kvm_exit, kvm_entry, kvm_userspace_exit (%d events of the vCPU threads); kvmscope counted %d returns from KVM_RUN, some without a VM exit (a kick before entry)", snap.Events, returns)}
	if snap.Lost > 0 || snap.BadPages > 0 {
		notes = append(notes, fmt.Sprintf("warning: %d events lost, %d pages unreadable: the counts are lower bounds", snap.Lost, snap.BadPages))
	}
	if snap.Unpaired > 0 {
		notes = append(notes, fmt.Sprintf("%d exits had no entry after them (a lost event, or a vCPU stopped in between): not counted", snap.Unpaired))
	}
	if err != nil {
		notes = append(notes, fmt.Sprintf("warning: %v", err))
	}
	fmt.Fprintln(w)
	exitstats.WriteReasons(w, snap.Rows, notes...)
}

// forwardStdin hands what arrives on standard input to the guest's
// serial port, so that a shell on the guest's console (the Linux sample's)
// takes commands. A terminal is switched to byte-at-a-time input without
// echo (the guest echoes), keeping ISIG so that Ctrl-C still stops
// kvmscope; the returned function puts it back. Without standard input
// (CI runs with it closed or /dev/null) the reader ends at once.
func forwardStdin(m *vmm.Machine) (restore func()) {
	restore = func() {}
	fd := int(os.Stdin.Fd())
	if old, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil {
		raw := *old
		raw.Lflag &^= unix.ICANON | unix.ECHO | unix.IEXTEN
		raw.Iflag &^= unix.ICRNL | unix.IXON
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		if unix.IoctlSetTermios(fd, unix.TCSETS, &raw) == nil {
			restore = func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }
		}
	}
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := os.Stdin.Read(buf)
			if n > 0 {
				m.Serial().Input(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return restore
}

// linuxSampleName is the Linux guest of samples/linux, built by `make
// linux-sample` rather than embedded.
const linuxSampleName = "sample:linux"

// linuxSample finds the built Linux sample and returns its kernel's path,
// giving cfg the sample's initrd, command line and memory size where the
// flags did not set them.
func linuxSample(fs *flag.FlagSet, mf *machineFlags, cfg *vmm.Config) (string, error) {
	s, err := linuxsample.Find()
	if err != nil {
		return "", err
	}
	if mf.initrd == "" {
		if cfg.Initrd, err = readInitrd(s.Initrd); err != nil {
			return "", err
		}
	}
	if mf.append == "" {
		cfg.Cmdline = linuxsample.Cmdline
	}
	if !isSet(fs, "mem") {
		cfg.MemSize = linuxsample.MemSize
		if err := cfg.Validate(); err != nil {
			return "", err
		}
	}
	return s.Kernel, nil
}

// report says why the guest stopped, when that is not simply its own
// exit status, and returns kvmscope's exit status. syms, when not nil,
// gives the symbols that name the code in a fault report.
func report(w io.Writer, s *vmm.Stop, m *vmm.Machine, timeout interface{ String() string }, syms func() debug.Symbolizer) int {
	switch s.Kind {
	case vmm.StopGuestExit:
		return int(s.Status)
	case vmm.StopPowerOff:
		fmt.Fprintf(w, "kvmscope: %v\n", s)
		return 0
	case vmm.StopReset:
		fmt.Fprintf(w, "kvmscope: %v\n", s)
		return exitGuestReset
	case vmm.StopFault:
		var sym debug.Symbolizer
		if syms != nil {
			sym = syms()
		}
		debug.WriteFault(w, s, m, sym)
		return exitGuestFault
	case vmm.StopTimeout:
		fmt.Fprintf(w, "kvmscope: timeout: the guest was still running after %v\n", timeout)
		return exitTimeout
	case vmm.StopCanceled:
		fmt.Fprintln(w, "kvmscope: interrupted")
		return exitInterrupted
	}
	if errors.Is(s.Err, kvm.ErrNoKVM) {
		fmt.Fprintf(w, "kvmscope: %v: this machine has no KVM; run kvmscope inside kvmbox (see README)\n", s.Err)
		return exitFailure
	}
	fmt.Fprintf(w, "kvmscope: %v\n", s)
	return exitFailure
}
