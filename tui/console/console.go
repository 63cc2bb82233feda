// Package console is the console pane: the guest's serial output, and,
// while the pane has focus, the keyboard as the guest's serial input.
// Then every key goes to the guest (a shell wants Tab and Ctrl-C) except
// ctrl-], which gives focus back.
package console

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kvmscope/kvmscope/tui/context"
	"github.com/kvmscope/kvmscope/tui/snap"
)

// MaxLines bounds the scrollback.
const MaxLines = 2000

// Model is the console pane.
type Model struct {
	ctx   *context.ProgramContext
	vp    viewport.Model
	lines []string
	cur   []byte // the line being written
	esc   escState
	cr    bool // a carriage return waits: the next byte starts the line over
	// dropped counts output bytes the driver lost.
	dropped  uint64
	restarts int
}

type escState int

const (
	escNone escState = iota
	escStart
	escCSI
	escOSC
)

// NewModel makes the pane.
func NewModel(ctx *context.ProgramContext) Model {
	m := Model{ctx: ctx, vp: viewport.New(0, 0)}
	m.resize()
	return m
}

// OutputMsg is guest output.
type OutputMsg struct {
	Data    []byte
	Dropped uint64
}

// ScrollMsg scrolls by Lines lines (negative: up).
type ScrollMsg struct{ Lines int }

// UpdateProgramContext gives the pane a new layout.
func (m *Model) UpdateProgramContext(ctx *context.ProgramContext) {
	m.ctx = ctx
	m.resize()
}

func (m *Model) resize() {
	r := m.ctx.Rects[context.Console]
	bottom := m.vp.AtBottom()
	m.vp.Width, m.vp.Height = r.InnerW(), r.InnerH()
	m.vp.SetContent(m.content())
	if bottom {
		m.vp.GotoBottom()
	}
}

// Update takes guest output and scrolling.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case OutputMsg:
		m.dropped = msg.Dropped
		if len(msg.Data) == 0 {
			break
		}
		bottom := m.vp.AtBottom() || m.vp.TotalLineCount() <= m.vp.Height
		m.write(msg.Data)
		m.vp.SetContent(m.content())
		if bottom {
			m.vp.GotoBottom()
		}
	case snap.Status:
		if msg.Restarts != m.restarts {
			m.restarts = msg.Restarts
			m.flushLine()
			m.lines = append(m.lines, "── restarted ──")
			m.vp.SetContent(m.content())
			m.vp.GotoBottom()
		}
	case ScrollMsg:
		if msg.Lines < 0 {
			m.vp.ScrollUp(-msg.Lines)
		} else {
			m.vp.ScrollDown(msg.Lines)
		}
	}
	return m, nil
}

func (m *Model) flushLine() {
	if len(m.cur) > 0 {
		m.lines = append(m.lines, strings.ToValidUTF8(string(m.cur), "�"))
		m.cur = m.cur[:0]
	}
}

// write runs the bytes through a small line discipline: newlines, CR,
// backspace and tabs act; escape sequences and other controls are dropped,
// so that the guest cannot move the TUI's cursor.
func (m *Model) write(data []byte) {
	for _, c := range data {
		switch m.esc {
		case escStart:
			switch c {
			case '[':
				m.esc = escCSI
			case ']':
				m.esc = escOSC
			default:
				m.esc = escNone
			}
			continue
		case escCSI:
			if c >= 0x40 && c <= 0x7e {
				m.esc = escNone
			}
			continue
		case escOSC:
			if c == 0x07 || c == '\\' {
				m.esc = escNone
			}
			continue
		}
		if m.cr && c != '\n' {
			m.cur = m.cur[:0]
		}
		m.cr = false
		switch {
		case c == '\n':
			m.lines = append(m.lines, strings.ToValidUTF8(string(m.cur), "�"))
			m.cur = m.cur[:0]
		case c == '\r':
			m.cr = true
		case c == '\b' || c == 0x7f:
			if len(m.cur) > 0 {
				_, n := utf8.DecodeLastRune(m.cur)
				m.cur = m.cur[:len(m.cur)-n]
			}
		case c == '\t':
			m.cur = append(m.cur, strings.Repeat(" ", 8-utf8.RuneCount(m.cur)%8)...)
		case c == 0x1b:
			m.esc = escStart
		case c < 0x20:
		default:
			m.cur = append(m.cur, c)
		}
	}
	if over := len(m.lines) - MaxLines; over > 0 {
		m.lines = append(m.lines[:0:0], m.lines[over:]...)
	}
}

func (m Model) content() string {
	all := m.lines
	if len(m.cur) > 0 {
		all = append(all[:len(all):len(all)], strings.ToValidUTF8(string(m.cur), "�"))
	}
	return strings.Join(all, "\n")
}

// Text is everything the pane holds, for tests.
func (m Model) Text() string { return m.content() }

// View draws the pane.
func (m Model) View() string {
	title := "console"
	if m.ctx.Focus == context.Console {
		title = "console · typing goes to the guest · ctrl-] leaves"
	}
	if m.dropped > 0 {
		title += " · output lost"
	}
	body := m.vp.View()
	if len(m.lines) == 0 && len(m.cur) == 0 {
		body = m.ctx.Styles.Dim.Render("(no output yet)")
	}
	return m.ctx.Box(context.Console, title, body)
}

// KeyBytes turns a key into what a terminal would send the guest.
func KeyBytes(k tea.KeyMsg) []byte {
	switch k.Type {
	case tea.KeyRunes:
		var b []byte
		if k.Alt {
			b = append(b, 0x1b)
		}
		return append(b, string(k.Runes)...)
	case tea.KeySpace:
		return []byte{' '}
	case tea.KeyEnter:
		return []byte{'\r'}
	case tea.KeyTab:
		return []byte{'\t'}
	case tea.KeyBackspace:
		return []byte{0x7f}
	case tea.KeyEsc:
		return []byte{0x1b}
	case tea.KeyUp:
		return []byte("\x1b[A")
	case tea.KeyDown:
		return []byte("\x1b[B")
	case tea.KeyRight:
		return []byte("\x1b[C")
	case tea.KeyLeft:
		return []byte("\x1b[D")
	case tea.KeyHome:
		return []byte("\x1b[H")
	case tea.KeyEnd:
		return []byte("\x1b[F")
	case tea.KeyDelete:
		return []byte("\x1b[3~")
	case tea.KeyShiftTab:
		return []byte("\x1b[Z")
	}
	if k.Type >= 0 && k.Type < 0x20 { // ctrl+@ .. ctrl+_: the control byte itself
		return []byte{byte(k.Type)}
	}
	return nil
}
