// Package vcpu is the vCPU pane: registers, RFLAGS decoded, segments,
// control registers, EFER and the CPU mode in words, with the values that
// changed since the previous stop highlighted, and a vCPU selector.
package vcpu

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/tui/context"
	"github.com/kvmscope/kvmscope/tui/snap"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Model is the vCPU pane.
type Model struct {
	ctx      *context.ProgramContext
	selected int
	count    int
	// last is the newest snapshot of each vCPU, prev the one of the stop
	// before it: what "changed" is measured against.
	last, prev map[int]snap.VCPU
	state      snap.RunState
	restarts   int
}

// NewModel makes the pane.
func NewModel(ctx *context.ProgramContext) Model {
	return Model{ctx: ctx, count: 1, last: map[int]snap.VCPU{}, prev: map[int]snap.VCPU{}}
}

// SelectMsg selects a vCPU.
type SelectMsg struct{ VCPU int }

// Selected is the vCPU shown.
func (m Model) Selected() int { return m.selected }

// UpdateProgramContext gives the pane a new layout.
func (m *Model) UpdateProgramContext(ctx *context.ProgramContext) { m.ctx = ctx }

// Update takes snapshots and selections.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case snap.VCPU:
		if msg.Count > 0 {
			m.count = msg.Count
		}
		if !msg.Valid {
			break
		}
		if l, ok := m.last[msg.ID]; ok && l.Valid && l.Stop != msg.Stop {
			m.prev[msg.ID] = l
		}
		m.last[msg.ID] = msg
	case snap.Status:
		m.state = msg.State
		if msg.Restarts != m.restarts {
			// A new machine: nothing of the old one is "previous".
			m.restarts = msg.Restarts
			m.last, m.prev = map[int]snap.VCPU{}, map[int]snap.VCPU{}
		}
	case SelectMsg:
		m.selected = ((msg.VCPU % m.count) + m.count) % m.count
	}
	return m, nil
}

// Title is the pane's title: which vCPU, of how many, in which mode.
func (m Model) Title() string {
	t := fmt.Sprintf("vCPU %d of %d", m.selected, m.count)
	if v, ok := m.last[m.selected]; ok {
		t += " · " + debug.ModeOf(&v.Regs, &v.Sregs).String()
	}
	return t
}

// View draws the pane.
func (m Model) View() string {
	return m.ctx.Box(context.VCPU, m.Title(), m.body())
}

func (m Model) body() string {
	v, ok := m.last[m.selected]
	if !ok {
		switch m.state {
		case snap.Running:
			return m.ctx.Styles.Dim.Render("running: registers are read when the machine stops (p)")
		case snap.Ended:
			return m.ctx.Styles.Dim.Render("the machine has ended")
		}
		return m.ctx.Styles.Dim.Render("no registers yet")
	}
	p, hasPrev := m.prev[m.selected]
	w := &writer{st: m.ctx.Styles.Changed, hasPrev: hasPrev}
	r, s := &v.Regs, &v.Sregs
	pr, ps := &p.Regs, &p.Sregs
	mode := debug.ModeOf(r, s)
	if mode == debug.ModeLong64 || mode == debug.ModeCompat32 || mode == debug.ModeCompat16 {
		gprs := []struct {
			name    string
			val, pv uint64
		}{{"RAX", r.RAX, pr.RAX}, {"RBX", r.RBX, pr.RBX}, {"RCX", r.RCX, pr.RCX}, {"RDX", r.RDX, pr.RDX},
			{"RSI", r.RSI, pr.RSI}, {"RDI", r.RDI, pr.RDI}, {"RBP", r.RBP, pr.RBP}, {"RSP", r.RSP, pr.RSP},
			{"R8 ", r.R8, pr.R8}, {"R9 ", r.R9, pr.R9}, {"R10", r.R10, pr.R10}, {"R11", r.R11, pr.R11},
			{"R12", r.R12, pr.R12}, {"R13", r.R13, pr.R13}, {"R14", r.R14, pr.R14}, {"R15", r.R15, pr.R15}}
		for i := 0; i < len(gprs); i += 2 {
			w.reg(gprs[i].name, gprs[i].val, gprs[i].pv, 16)
			w.text("  ")
			w.reg(gprs[i+1].name, gprs[i+1].val, gprs[i+1].pv, 16)
			w.nl()
		}
		w.reg("RIP", r.RIP, pr.RIP, 16)
		w.text("  ")
		w.reg("RFLAGS", r.RFLAGS, pr.RFLAGS, 8)
		w.nl()
		w.text("flags [" + debug.FlagsString(r.RFLAGS) + "]")
		w.nl()
		w.selectors(s, ps)
		w.reg("CR0", s.CR0, ps.CR0, 8)
		w.text("  ")
		w.reg("CR2", s.CR2, ps.CR2, 16)
		w.nl()
		w.reg("CR3", s.CR3, ps.CR3, 16)
		w.text("  ")
		w.reg("CR4", s.CR4, ps.CR4, 8)
		w.nl()
		w.reg("EFER", s.EFER, ps.EFER, 8)
		w.text(" [" + eferString(s.EFER) + "]")
		w.nl()
		return w.String()
	}
	regs := []struct {
		name    string
		val, pv uint64
	}{{"EAX", r.RAX, pr.RAX}, {"EBX", r.RBX, pr.RBX}, {"ECX", r.RCX, pr.RCX}, {"EDX", r.RDX, pr.RDX},
		{"ESI", r.RSI, pr.RSI}, {"EDI", r.RDI, pr.RDI}, {"EBP", r.RBP, pr.RBP}, {"ESP", r.RSP, pr.RSP}}
	for i, g := range regs {
		w.reg(g.name, g.val&0xffffffff, g.pv&0xffffffff, 8)
		if i%4 == 3 {
			w.nl()
		} else {
			w.text(" ")
		}
	}
	w.reg("EIP", r.RIP&0xffffffff, pr.RIP&0xffffffff, 8)
	w.text("  ")
	w.reg("EFLAGS", r.RFLAGS&0xffffffff, pr.RFLAGS&0xffffffff, 8)
	w.nl()
	w.text("flags [" + debug.FlagsString(r.RFLAGS) + "]")
	if mode == debug.ModeReal || mode == debug.ModeVM86 {
		w.text(fmt.Sprintf("  CS:IP %04x:%04x", s.CS.Selector, r.RIP&0xffff))
	}
	w.nl()
	for _, sg := range []struct {
		name string
		s, p *kvm.Segment
	}{{"CS", &s.CS, &ps.CS}, {"DS", &s.DS, &ps.DS}, {"ES", &s.ES, &ps.ES}, {"SS", &s.SS, &ps.SS}, {"FS", &s.FS, &ps.FS}, {"GS", &s.GS, &ps.GS}} {
		w.reg(sg.name, uint64(sg.s.Selector), uint64(sg.p.Selector), 4)
		w.text(" ")
		w.reg("base", sg.s.Base, sg.p.Base, 8)
		w.text(" ")
		w.reg("limit", uint64(sg.s.Limit), uint64(sg.p.Limit), 8)
		w.text(fmt.Sprintf(" %s", segBits(sg.s)))
		w.nl()
	}
	w.reg("CR0", s.CR0, ps.CR0, 8)
	w.text("  ")
	w.reg("CR3", s.CR3, ps.CR3, 8)
	w.text("  ")
	w.reg("CR4", s.CR4, ps.CR4, 8)
	w.nl()
	w.reg("EFER", s.EFER, ps.EFER, 8)
	w.text(fmt.Sprintf("  GDT %08x/%04x  IDT %08x/%04x", s.GDT.Base, s.GDT.Limit, s.IDT.Base, s.IDT.Limit))
	w.nl()
	return w.String()
}

func segBits(s *kvm.Segment) string {
	switch {
	case s.L != 0:
		return "64-bit"
	case s.DB != 0:
		return "32-bit"
	}
	return "16-bit"
}

func eferString(e uint64) string {
	var out []string
	for _, b := range []struct {
		bit  uint64
		name string
	}{{kvm.EFER_SCE, "SCE"}, {kvm.EFER_LME, "LME"}, {kvm.EFER_LMA, "LMA"}, {kvm.EFER_NXE, "NXE"}} {
		if e&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return strings.Join(out, " ")
}

// writer builds the body, styling the values that changed.
type writer struct {
	strings.Builder
	st interface {
		Render(...string) string
	}
	hasPrev bool
}

func (w *writer) text(s string) { w.WriteString(s) }
func (w *writer) nl()           { w.WriteByte('\n') }

func (w *writer) reg(name string, val, prev uint64, digits int) {
	v := fmt.Sprintf("%0*x", digits, val)
	if w.hasPrev && val != prev {
		v = w.st.Render(v)
	}
	w.WriteString(name + " " + v)
}

// selectors writes the six segment selectors on one line.
func (w *writer) selectors(s, p *kvm.Sregs) {
	for i, sg := range []struct {
		name string
		s, p *kvm.Segment
	}{{"CS", &s.CS, &p.CS}, {"DS", &s.DS, &p.DS}, {"ES", &s.ES, &p.ES}, {"SS", &s.SS, &p.SS}, {"FS", &s.FS, &p.FS}, {"GS", &s.GS, &p.GS}} {
		if i > 0 {
			w.text(" ")
		}
		w.reg(sg.name, uint64(sg.s.Selector), uint64(sg.p.Selector), 4)
	}
	w.nl()
}
