// Package extensions is the extensions pane: each host extension with its
// state, and what the exits cost with it on and with it off, side by
// side. A live extension flips in place and the table keeps both
// columns; a creation-time one (irqchip, hlt-passthrough) restarts the
// guest with the other setting, and the earlier column stays.
package extensions

import (
	"fmt"
	"slices"

	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/kvmscope/kvmscope/tui/context"
	"github.com/kvmscope/kvmscope/tui/format"
	"github.com/kvmscope/kvmscope/tui/snap"
)

// Model is the extensions pane.
type Model struct {
	ctx  *context.ProgramContext
	tbl  table.Model
	exts snap.Extensions
}

// NewModel makes the pane.
func NewModel(ctx *context.ProgramContext) Model {
	m := Model{ctx: ctx, tbl: table.New()}
	m.layout()
	return m
}

// ScrollMsg moves the cursor by Lines rows.
type ScrollMsg struct{ Lines int }

// UpdateProgramContext gives the pane a new layout.
func (m *Model) UpdateProgramContext(ctx *context.ProgramContext) {
	m.ctx = ctx
	m.layout()
}

func (m *Model) layout() {
	r := m.ctx.Rects[context.Extensions]
	col := 16
	name := max(r.InnerW()-6-8-2*(col+1), 10)
	m.tbl.SetColumns([]table.Column{
		{Title: "extension", Width: name},
		{Title: "state", Width: 6},
		{Title: "applies", Width: 8},
		{Title: " with it on", Width: col + 1},
		{Title: " with it off", Width: col + 1},
	})
	m.tbl.SetHeight(max(r.InnerH()-1, 2))
	m.tbl.SetWidth(r.InnerW())
	st := table.Styles{Header: m.ctx.Styles.Header, Cell: lipgloss.NewStyle(), Selected: lipgloss.NewStyle()}
	if m.ctx.Focus == context.Extensions {
		st.Selected = m.ctx.Styles.Selected
	}
	m.tbl.SetStyles(st)
	m.fill()
}

// measure prints one column: exits to user space per second and their
// mean cost.
func measure(ms snap.Measure, current bool) string {
	switch {
	case !ms.Valid && current:
		return " measuring…"
	case !ms.Valid:
		return " —"
	}
	return fmt.Sprintf(" %s/s %s", format.Rate(ms.Rate), format.Duration(ms.Mean))
}

func (m *Model) fill() {
	var rows []table.Row
	defer func() {
		if !slices.EqualFunc(m.tbl.Rows(), rows, func(a, b table.Row) bool { return slices.Equal(a, b) }) {
			m.tbl.SetRows(rows)
		}
		if m.tbl.Cursor() < 0 && len(rows) > 0 {
			m.tbl.SetCursor(0) // an empty table left the cursor at -1
		}
	}()
	rows = make([]table.Row, 0, len(m.exts.Rows))
	for _, e := range m.exts.Rows {
		state, applies := "off", "live"
		if e.On {
			state = "on"
		}
		if !e.Offered {
			state = "n/a"
		}
		if !e.Live {
			applies = "restart"
		}
		rows = append(rows, table.Row{e.Name, state, applies, measure(e.OnM, e.On && e.Offered), measure(e.OffM, !e.On && e.Offered)})
	}
}

// Selected is the extension under the cursor, "" when there is none.
func (m Model) Selected() string {
	if r := m.tbl.SelectedRow(); r != nil {
		return r[0]
	}
	return ""
}

// Names lists the extensions, for completion.
func (m Model) Names() []string {
	var out []string
	for _, e := range m.exts.Rows {
		out = append(out, e.Name)
	}
	return out
}

// Update takes extension snapshots and scrolling.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case snap.Extensions:
		m.exts = msg
		m.fill()
	case ScrollMsg:
		if msg.Lines < 0 {
			m.tbl.MoveUp(-msg.Lines)
		} else {
			m.tbl.MoveDown(msg.Lines)
		}
	}
	return m, nil
}

// View draws the pane.
func (m Model) View() string {
	body := m.tbl.View()
	note := "exits to kvmscope per second of run time, mean round trip"
	if i := m.tbl.Cursor(); i >= 0 && i < len(m.exts.Rows) && m.ctx.Focus == context.Extensions {
		e := m.exts.Rows[i]
		note = "e toggles " + e.Name + "; measures " + e.What
	}
	body += "\n" + m.ctx.Styles.Dim.Render(note)
	return m.ctx.Box(context.Extensions, "host extensions · exit cost on vs off", body)
}
