// Package memory is the memory pane: hex and ASCII at a virtual (or,
// with a "p:" prefix, physical) address, a symbol, or a register it then
// follows from stop to stop. It refreshes while the guest runs (reads
// are allowed then) and highlights the bytes that changed.
package memory

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kvmscope/kvmscope/tui/context"
	"github.com/kvmscope/kvmscope/tui/snap"
)

// DefaultExpr is what the pane shows first: the stack.
const DefaultExpr = "rsp"

// Model is the memory pane.
type Model struct {
	ctx    *context.ProgramContext
	expr   string
	offset int64
	mem    snap.Memory
	prev   snap.Memory
}

// NewModel makes the pane.
func NewModel(ctx *context.ProgramContext) Model {
	return Model{ctx: ctx, expr: DefaultExpr}
}

// GoToMsg points the pane at an address expression.
type GoToMsg struct{ Expr string }

// ScrollMsg scrolls by Lines lines (negative: up).
type ScrollMsg struct{ Lines int }

// UpdateProgramContext gives the pane a new layout.
func (m *Model) UpdateProgramContext(ctx *context.ProgramContext) { m.ctx = ctx }

// PerLine is how many bytes a line shows at the pane's width.
func (m Model) PerLine() int {
	if m.ctx.Rects[context.Memory].InnerW() >= 16+2+48+1+16 {
		return 16
	}
	return 8
}

// Query is the address expression, the scroll offset and the bytes wanted.
func (m Model) Query() (expr string, offset int64, n int) {
	return m.expr, m.offset, m.PerLine() * max(m.ctx.Rects[context.Memory].InnerH(), 1)
}

// Update takes memory snapshots, go-tos and scrolling.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case snap.Memory:
		if msg.Addr == m.mem.Addr && msg.Phys == m.mem.Phys {
			m.prev = m.mem
		} else {
			m.prev = snap.Memory{}
		}
		m.mem = msg
	case GoToMsg:
		m.expr, m.offset = strings.TrimSpace(msg.Expr), 0
	case ScrollMsg:
		m.offset += int64(msg.Lines * m.PerLine())
	}
	return m, nil
}

// View draws the pane.
func (m Model) View() string {
	title := "memory · " + m.expr
	if m.mem.Follow != "" {
		title = "memory · follows " + m.mem.Follow
	}
	if m.offset != 0 {
		title += fmt.Sprintf(" %+#x", m.offset)
	}
	if m.mem.Phys {
		title += " (physical)"
	}
	return m.ctx.Box(context.Memory, title, m.body())
}

func (m Model) body() string {
	st := m.ctx.Styles
	if m.mem.Err != "" && len(m.mem.Data) == 0 {
		return st.Dim.Render(fmt.Sprintf("%#x: %s", m.mem.Addr, m.mem.Err))
	}
	if len(m.mem.Data) == 0 {
		return st.Dim.Render("no memory read yet")
	}
	per := m.PerLine()
	digits := 8
	if m.mem.Addr+uint64(len(m.mem.Data)) > 0xffffffff {
		digits = 16
	}
	var b strings.Builder
	for off := 0; off < len(m.mem.Data); off += per {
		row := m.mem.Data[off:min(off+per, len(m.mem.Data))]
		fmt.Fprintf(&b, "%0*x ", digits, m.mem.Addr+uint64(off))
		var text strings.Builder
		for i, c := range row {
			h := fmt.Sprintf("%02x", c)
			ch := "."
			if c >= 0x20 && c < 0x7f {
				ch = string(rune(c))
			}
			if j := off + i; j < len(m.prev.Data) && m.prev.Data[j] != c {
				h, ch = st.Changed.Render(h), st.Changed.Render(ch)
			}
			b.WriteString(" " + h)
			text.WriteString(ch)
		}
		b.WriteString(strings.Repeat("   ", per-len(row)) + "  " + text.String() + "\n")
	}
	if m.mem.Err != "" {
		b.WriteString(st.Dim.Render(m.mem.Err) + "\n")
	}
	return b.String()
}
