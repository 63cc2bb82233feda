package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/gdbstub"
	"github.com/kvmscope/kvmscope/vmm"
)

// gdbServer runs a machine under a debug session with the gdb stub in
// front of it.
type gdbServer struct {
	ln      net.Listener
	session *debug.Session
	wait    bool
}

// newGDBServer listens (loopback unless the user named a host) and sets
// cfg up so that the machine starts parked under the session.
func newGDBServer(spec string, cfg *vmm.Config, wait bool) (*gdbServer, error) {
	ln, err := listen("--gdb", spec)
	if err != nil {
		return nil, err
	}
	probe, err := debug.ProbeHost()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvmscope: warning: breakpoint probe failed (%v): assuming no int3 interception\n", err)
	}
	s := debug.NewSession(debug.Options{Probe: probe})
	cfg.StartPaused, cfg.Debug = true, s
	return &gdbServer{ln: ln, session: s, wait: wait}, nil
}

// run runs the machine until it ends, gdb kills it, or ctx ends.
func (g *gdbServer) run(ctx context.Context, m *vmm.Machine) vmm.Stop {
	g.session.Attach(m)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan vmm.Stop, 1)
	go func() { done <- g.session.Run(ctx) }()
	// Every vCPU parks before its first instruction: that is the first stop.
	if ev := <-g.session.Stops(); ev.Kind == debug.StopExited {
		return *ev.Machine
	}
	how := "the guest is held at its first instruction until gdb continues it"
	if !g.wait {
		how = "the guest runs; gdb stops it when it attaches"
		if err := g.session.Resume([]debug.Resume{{VCPU: -1, Action: debug.ActionContinue}}); err != nil {
			cancel()
			return <-done
		}
	}
	fmt.Fprintf(os.Stderr, "kvmscope: gdb stub on %s (%s); attach with:\n  %s\n", g.ln.Addr(), how, gdbstub.GDBCommand(g.ln.Addr().String()))
	end, err := gdbstub.Serve(ctx, g.ln, g.session, gdbstub.Options{
		Running: !g.wait,
		Logf:    func(format string, a ...any) { fmt.Fprintf(os.Stderr, "kvmscope: gdb: "+format+"\n", a...) },
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvmscope: gdb stub: %v\n", err)
	}
	switch end.Reason {
	case gdbstub.EndKilled:
		fmt.Fprintln(os.Stderr, "kvmscope: gdb killed the guest")
		cancel()
	case gdbstub.EndCanceled:
		cancel()
	}
	return <-done
}

// listen opens a TCP listener for a user's [HOST]:PORT or bare PORT:
// loopback unless they named a host, with a warning when it is not.
func listen(flag, spec string) (net.Listener, error) {
	addr, warning, err := gdbstub.ListenAddr(spec)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		fmt.Fprintf(os.Stderr, "kvmscope: warning: %s: %s\n", flag, warning)
	}
	return ln, nil
}
