// Package exits is the exits pane: per kind of VM exit the count, the
// rate per second, the mean and p99 cost of the exits that came to user
// space, how many KVM kept in the kernel and how many came to kvmscope,
// and a sparkline of the rate. It is a bubbles table, updated from
// exit-stats snapshots at every poll.
package exits

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

// Model is the exits pane.
type Model struct {
	ctx   *context.ProgramContext
	tbl   table.Model
	exits snap.Exits
}

// SparkWidth is the sparkline's width in cells.
const SparkWidth = 8

// NewModel makes the pane.
func NewModel(ctx *context.ProgramContext) Model {
	m := Model{ctx: ctx, tbl: table.New()}
	m.layout()
	return m
}

// ScrollMsg moves the table's cursor by Lines rows.
type ScrollMsg struct{ Lines int }

// UpdateProgramContext gives the pane a new layout.
func (m *Model) UpdateProgramContext(ctx *context.ProgramContext) {
	m.ctx = ctx
	m.layout()
}

func (m *Model) layout() {
	r := m.ctx.Rects[context.Exits]
	num := 6
	name := max(r.InnerW()-6*(num+1)-(SparkWidth+1), 8)
	m.tbl.SetColumns([]table.Column{
		{Title: "reason", Width: name},
		{Title: right("count", num), Width: num + 1},
		{Title: right("kernel", num), Width: num + 1},
		{Title: right("user", num), Width: num + 1},
		{Title: right("/s", num), Width: num + 1},
		{Title: right("mean", num), Width: num + 1},
		{Title: right("p99", num), Width: num + 1},
		{Title: " rate", Width: SparkWidth + 1},
	})
	m.tbl.SetHeight(max(r.InnerH()-1, 1))
	m.tbl.SetWidth(r.InnerW())
	st := table.Styles{
		Header:   m.ctx.Styles.Header,
		Cell:     lipgloss.NewStyle(),
		Selected: lipgloss.NewStyle(),
	}
	if m.ctx.Focus == context.Exits {
		st.Selected = m.ctx.Styles.Selected
	}
	m.tbl.SetStyles(st)
	m.fill()
}

func right(s string, w int) string { return fmt.Sprintf("%*s", w+1, s) }

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
	rows = make([]table.Row, 0, len(m.exits.Rows))
	for _, r := range m.exits.Rows {
		name := r.Name
		if r.Sub {
			name = "  " + name
		}
		kernel, user := "?", format.Count(r.User)
		if r.KernelKnown {
			kernel = format.Count(r.Kernel)
		} else if r.Sub {
			kernel = ""
		}
		rows = append(rows, table.Row{
			name,
			right(format.Count(r.Count), 6),
			right(kernel, 6),
			right(user, 6),
			right(format.Rate(r.Rate), 6),
			right(format.Duration(r.Mean), 6),
			right(format.Duration(r.P99), 6),
			" " + format.Sparkline(r.History, SparkWidth),
		})
	}
}

// Update takes exit snapshots and scrolling.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case snap.Exits:
		m.exits = msg
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
	title := "exits · mean/p99: KVM_RUN round trip of exits to kvmscope"
	if !m.exits.Split {
		title = "exits to kvmscope · the kernel's share is unknown here"
	}
	body := m.tbl.View()
	if len(m.exits.Rows) == 0 {
		body += "\n" + m.ctx.Styles.Dim.Render("no exits yet")
	}
	return m.ctx.Box(context.Exits, title, body)
}
