// Package code is the code pane: the disassembly around the selected
// vCPU's next instruction in its current mode, with symbols where known
// and breakpoints marked. It scrolls (keys or mouse) and snaps back to
// the PC at the next stop.
package code

import (
	"encoding/hex"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kvmscope/kvmscope/tui/context"
	"github.com/kvmscope/kvmscope/tui/snap"
)

// Model is the code pane.
type Model struct {
	ctx  *context.ProgramContext
	code snap.Code
	// addr and before are the scroll position: 0 follows the PC.
	addr   uint64
	before int
	stops  uint64
}

// DefaultBefore is how many instructions before the PC are shown.
const DefaultBefore = 3

// NewModel makes the pane.
func NewModel(ctx *context.ProgramContext) Model {
	return Model{ctx: ctx, before: DefaultBefore}
}

// ScrollMsg scrolls by Lines instructions (negative: up).
type ScrollMsg struct{ Lines int }

// UpdateProgramContext gives the pane a new layout.
func (m *Model) UpdateProgramContext(ctx *context.ProgramContext) { m.ctx = ctx }

// Query is the address the pane wants disassembled, how many
// instructions before it, and how many lines in all.
func (m Model) Query() (addr uint64, before, lines int) {
	return m.addr, m.before, max(m.ctx.Rects[context.Code].InnerH(), 1)
}

// Update takes code snapshots and scrolling.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case snap.Code:
		m.code = msg
	case snap.Status:
		if msg.Stops != m.stops {
			// A new stop: back to the PC.
			m.stops, m.addr, m.before = msg.Stops, 0, DefaultBefore
		}
	case ScrollMsg:
		lines := m.code.Lines
		switch {
		case len(lines) == 0:
		case msg.Lines > 0:
			i := min(msg.Lines, len(lines)-1)
			m.addr, m.before = lines[i].Addr, 0
		case msg.Lines < 0:
			m.addr, m.before = lines[0].Addr, min(-msg.Lines, 8)
		}
	}
	return m, nil
}

// View draws the pane.
func (m Model) View() string {
	title := "code"
	if m.code.Bits != 0 {
		title = fmt.Sprintf("code · %d-bit", m.code.Bits)
	}
	if m.code.Where != "" {
		title += " · " + m.code.Where
	}
	return m.ctx.Box(context.Code, title, m.body())
}

func (m Model) body() string {
	st := m.ctx.Styles
	if m.code.Err != "" && len(m.code.Lines) == 0 {
		return st.Dim.Render(m.code.Err)
	}
	if len(m.code.Lines) == 0 {
		return st.Dim.Render("no code yet: the machine has not stopped")
	}
	wide := m.ctx.Rects[context.Code].InnerW() >= 72
	digits := 8
	for _, l := range m.code.Lines {
		if l.Addr > 0xffffffff {
			digits = 16
		}
	}
	var b strings.Builder
	for i, l := range m.code.Lines {
		if l.Symbol != "" && (i > 0 || l.PC || m.addr == 0) {
			b.WriteString(st.Symbol.Render("<"+l.Symbol+">:") + "\n")
		}
		mark := "  "
		if l.PC {
			mark = st.PC.Render("=>")
		}
		bp := " "
		if l.Break {
			bp = st.Break.Render("●")
		}
		line := fmt.Sprintf("%s%s %0*x  ", mark, bp, digits, l.Addr)
		if wide {
			hx := hex.EncodeToString(l.Bytes)
			if len(hx) > 16 {
				hx = hx[:15] + "…"
			}
			line += fmt.Sprintf("%-16s ", hx)
		}
		b.WriteString(line + l.Text + "\n")
	}
	if m.code.Err != "" {
		b.WriteString(st.Dim.Render(m.code.Err) + "\n")
	}
	return b.String()
}
