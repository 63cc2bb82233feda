package driver

import (
	"fmt"
	"strings"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/tui/snap"
	"github.com/kvmscope/kvmscope/vmm"
)

// Poll implements tui.Backend: one snapshot of everything the panes show.
func (d *Driver) Poll(q snap.Query) snap.Frame {
	d.pollMu.Lock()
	defer d.pollMu.Unlock()
	var f snap.Frame
	f.Console, f.ConsoleDropped = d.console.Drain()
	g := d.current()
	if g == nil {
		f.Status = snap.Status{State: snap.Starting, Image: d.cfg.Name}
		return f
	}
	g.use.RLock()
	defer g.use.RUnlock()
	if g.closed {
		return f
	}
	now := time.Now()
	f.Status = d.status(g)
	if g != d.lastG {
		d.lastG = g
		d.rates.reset()
		d.meas.reset()
		d.regs = map[int]regCache{}
		d.lastAt = time.Time{}
	}
	// Exits and extension measures.
	rows := g.m.ExitStats()
	split, _ := g.m.ExitSplit()
	f.Exits = snap.Exits{Split: split != nil}
	exitRowsNow := exitRows(rows, split)
	counts := map[string]uint64{}
	for _, r := range exitRowsNow {
		counts[r.Name+sub(r.Sub)] = r.Count
	}
	if f.Status.State == snap.Running {
		d.rates.observe(now, counts)
	} else {
		d.rates.pause(counts)
	}
	for _, r := range exitRowsNow {
		f.Exits.Rows = append(f.Exits.Rows, d.rates.row(r))
	}
	var kernelExits uint64
	for _, s := range split {
		if s.Reason == "all exits" {
			kernelExits = s.Total
		}
	}
	started := g.m.VCPUs() != nil
	active := d.requested()
	if started {
		active = g.m.ActiveExtensions()
	}
	ran := time.Duration(0)
	if !d.lastAt.IsZero() && f.Status.State == snap.Running {
		ran = now.Sub(d.lastAt)
	}
	d.meas.observe(rows, kernelExits, split != nil, active, ran)
	d.lastAt = now
	f.Extensions = snap.Extensions{Rows: d.meas.rows(active, g.m.OfferedExtensions(), started)}

	// The selected vCPU, its code, and memory.
	ids := g.s.VCPUs()
	f.VCPU = snap.VCPU{ID: q.VCPU, Count: len(ids)}
	if q.VCPU < 0 || q.VCPU >= len(ids) {
		q.VCPU = 0
	}
	r, ok := d.registers(g, q.VCPU)
	if ok {
		f.VCPU.Valid, f.VCPU.Regs, f.VCPU.Sregs, f.VCPU.Stop = true, r.Regs, r.Sregs, d.regs[q.VCPU].stop
		f.Code = d.code(g, q, r)
	} else if c, ok := d.regs[q.VCPU]; ok && c.err != nil {
		f.VCPU.Err = c.err.Error()
	}
	f.Memory = d.memory(g, q, r)
	return f
}

func (d *Driver) requested() vmm.Extensions {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ext
}

// registers reads a vCPU's registers at the current stop, or returns
// those of the last stop while the machine runs.
func (d *Driver) registers(g *generation, id int) (*debug.Registers, bool) {
	stop, epoch := g.stops.Load(), g.epoch.Load()
	c, ok := d.regs[id]
	if ok && (c.stop == stop && c.epoch == epoch || !g.s.Stopped()) {
		return c.r, c.r != nil
	}
	if !g.s.Stopped() {
		return nil, false
	}
	r, err := g.s.Registers(id)
	if err != nil {
		d.regs[id] = regCache{stop: stop, epoch: epoch, r: c.r, err: err}
		return c.r, c.r != nil
	}
	d.regs[id] = regCache{stop: stop, epoch: epoch, r: r}
	return r, true
}

func (d *Driver) status(g *generation) snap.Status {
	d.mu.Lock()
	st := snap.Status{Image: d.cfg.Name, Restarts: d.restarts, GDB: d.cfg.GDBAddr}
	if d.gdbLine != "" {
		st.GDB = d.gdbLine
	}
	d.mu.Unlock()
	st.Stops = g.stops.Load()
	if g.m.VCPUs() != nil {
		st.Ext = g.m.ActiveExtensions().String()
	} else {
		st.Ext = d.requested().String()
	}
	last := g.lastStop.Load()
	switch {
	case g.ended():
		st.State = snap.Ended
		st.Why = endWhy(&g.end, d.cfg.Timeout)
		if t := time.Duration(g.ran.Load()); t > 0 {
			st.GuestTime = t
			if g.end.Kind != vmm.StopTimeout {
				st.Why += fmt.Sprintf(" after %s of running", t.Round(10*time.Millisecond))
			}
		}
	case last == nil:
		st.State = snap.Starting
	case g.s.Stopped():
		st.State = snap.Stopped
		st.Why = d.stopWhy(last, st.Stops)
	default:
		st.State = snap.Running
		st.Why = "running"
	}
	return st
}

func (d *Driver) stopWhy(ev *debug.StopEvent, n uint64) string {
	switch ev.Kind {
	case debug.StopStep:
		return fmt.Sprintf("stopped: step on vCPU %d", ev.VCPU)
	case debug.StopBreakpoint:
		return fmt.Sprintf("stopped: breakpoint at %s on vCPU %d", d.cfg.Symbols.Format(ev.Addr), ev.VCPU)
	case debug.StopWatchpoint:
		return fmt.Sprintf("stopped: %v watchpoint at %s on vCPU %d", ev.Watch, d.cfg.Symbols.Format(ev.Addr), ev.VCPU)
	case debug.StopRequested:
		if n == 1 {
			return "stopped at the first instruction: s steps, c continues"
		}
		return "stopped: paused"
	}
	return "stopped: " + ev.Kind.String()
}

// endWhy says how the machine ended, as `kvmscope run` would.
func endWhy(s *vmm.Stop, timeout time.Duration) string {
	switch s.Kind {
	case vmm.StopGuestExit:
		return fmt.Sprintf("exited with status %d", s.Status)
	case vmm.StopTimeout:
		return fmt.Sprintf("timeout: the guest was still running after %v of running", timeout)
	case vmm.StopCanceled:
		return "ended: canceled"
	}
	return "ended: " + s.String()
}

// code disassembles around the PC (or the scrolled-to address): the
// instructions before it and from it are decoded apart, so that the
// address itself always starts a line.
func (d *Driver) code(g *generation, q snap.Query, r *debug.Registers) snap.Code {
	pc := r.PC()
	bits := r.Mode().Bits()
	c := snap.Code{VCPU: q.VCPU, PC: pc, Bits: bits}
	if d.cfg.Symbols != nil {
		c.Where = d.cfg.Symbols.Format(pc)
	}
	addr := q.CodeAddr
	if addr == 0 {
		addr = pc
	}
	n := max(q.CodeLines, 1)
	var sym debug.Symbolizer
	if d.cfg.Symbols != nil {
		sym = d.cfg.Symbols.At
	}
	var lines []debug.Line
	if q.CodeBefore > 0 {
		start := d.backUp(g, q.VCPU, addr, q.CodeBefore, bits)
		if start < addr {
			buf := make([]byte, addr-start)
			if got, _ := g.s.ReadVirtual(q.VCPU, start, buf); got == len(buf) {
				lines = debug.Disassemble(buf, start, bits, q.CodeBefore, sym)
			}
		}
	}
	buf := make([]byte, 16*n)
	got, err := g.s.ReadVirtual(q.VCPU, addr, buf)
	if got == 0 {
		c.Err = fmt.Sprintf("code at %#x unreadable: %v", addr, err)
	}
	lines = append(lines, debug.Disassemble(buf[:got], addr, bits, n-len(lines), sym)...)
	bps := d.breakpointSet(g)
	for _, l := range lines {
		cl := snap.CodeLine{Addr: l.Addr, Bytes: l.Bytes, Text: l.Text, Break: bps[l.Addr], PC: l.Addr == pc}
		if name, base, ok := d.cfg.Symbols.At(l.Addr); ok && base == l.Addr {
			cl.Symbol = name
		}
		c.Lines = append(c.Lines, cl)
	}
	return c
}

// maxBack bounds how far before an address the code pane looks for the
// instructions that lead to it.
const maxBack = 4096

// backUp finds where to start decoding so that up to `before`
// instructions lead exactly to addr. With a symbol that starts before
// addr, decoding from it is exact; without one, see backUpIn.
func (d *Driver) backUp(g *generation, vcpu int, addr uint64, before, bits int) uint64 {
	if _, base, ok := d.cfg.Symbols.At(addr); ok && base < addr && addr-base <= maxBack {
		buf := make([]byte, addr-base)
		if n, _ := g.s.ReadVirtual(vcpu, base, buf); n == len(buf) {
			if start, ok := fromStart(buf, base, addr, before, bits); ok {
				return start
			}
		}
	}
	span := min(uint64(15*before), addr)
	buf := make([]byte, span)
	if n, _ := g.s.ReadVirtual(vcpu, addr-span, buf); uint64(n) < span {
		return addr
	}
	return backUpIn(buf, addr, before, bits)
}

// fromStart decodes buf (at base, ending at addr) and returns the start
// of the last `before` instructions, if they land exactly on addr.
func fromStart(buf []byte, base, addr uint64, before, bits int) (uint64, bool) {
	lines := debug.Disassemble(buf, base, bits, len(buf), nil)
	if len(lines) == 0 {
		return addr, false
	}
	last := lines[len(lines)-1]
	if last.Err != nil || last.Addr+uint64(len(last.Bytes)) != addr {
		return addr, false
	}
	return lines[max(len(lines)-before, 0)].Addr, true
}

// backUpIn picks, among the starts in buf (the bytes just before addr),
// the farthest one whose instructions decode cleanly and end exactly at
// addr: x86 cannot be decoded backwards, and the longest consistent run
// is the likeliest to be the real one.
func backUpIn(buf []byte, addr uint64, before, bits int) uint64 {
	span := uint64(len(buf))
	for k := span; k >= 1; k-- {
		lines := debug.Disassemble(buf[span-k:], addr-k, bits, int(k), nil)
		ok := true
		for _, l := range lines {
			ok = ok && l.Err == nil
		}
		if !ok || len(lines) == 0 {
			continue
		}
		if last := lines[len(lines)-1]; last.Addr+uint64(len(last.Bytes)) != addr {
			continue
		}
		return lines[max(len(lines)-before, 0)].Addr
	}
	return addr
}

func (d *Driver) breakpointSet(g *generation) map[uint64]bool {
	set := map[uint64]bool{}
	d.mu.Lock()
	for _, a := range d.bps {
		set[a] = true
	}
	d.mu.Unlock()
	g.gdbBps.Range(func(k, _ any) bool {
		set[k.(uint64)] = true
		return true
	})
	return set
}

// memory reads the memory view.
func (d *Driver) memory(g *generation, q snap.Query, r *debug.Registers) snap.Memory {
	m := snap.Memory{Expr: q.MemExpr}
	expr := strings.TrimSpace(q.MemExpr)
	if p, ok := strings.CutPrefix(expr, "p:"); ok {
		m.Phys, expr = true, p
	}
	var base uint64
	if r != nil {
		if v, ok := regValue(r, strings.ToLower(expr)); ok {
			base, m.Follow = v, strings.ToLower(expr)
		}
	}
	if m.Follow == "" {
		a, err := d.cfg.Symbols.Resolve(expr)
		if err != nil {
			if _, isReg := regValue(&debug.Registers{}, strings.ToLower(expr)); isReg {
				m.Err = "no registers yet: the machine has not stopped"
			} else {
				m.Err = fmt.Sprintf("%q: not a number, register or known symbol", expr)
			}
			return m
		}
		base = a
	}
	m.Addr = uint64(int64(base) + q.MemOffset)
	if q.MemLen <= 0 {
		return m
	}
	buf := make([]byte, q.MemLen)
	var n int
	var err error
	if m.Phys {
		n, err = g.s.ReadPhys(m.Addr, buf)
	} else {
		n, err = g.s.ReadVirtual(q.VCPU, m.Addr, buf)
	}
	m.Data = buf[:n]
	if err != nil {
		m.Err = err.Error()
	}
	return m
}
