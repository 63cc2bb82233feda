// Package tui is kvmscope's terminal UI: the machine live, driven from
// the keyboard. It is a bubbletea program whose root model lays out six
// panes (tui/vcpu, tui/code, tui/memory, tui/console, tui/exits,
// tui/extensions), each its own Model with Update and View, sized and
// styled by tui/context, with keys from tui/keys.
//
// The panes see only immutable snapshots (tui/snap). The root model asks
// a Backend for a snap.Frame at every tick (10 Hz) and whenever the
// Backend signals a stop, always from a bubbletea command, never from
// Update, so that drawing never waits on the machine and the machine
// never waits on drawing. tui/driver is the Backend on a live machine;
// tests use a fake one.
package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/kvmscope/kvmscope/tui/code"
	"github.com/kvmscope/kvmscope/tui/console"
	"github.com/kvmscope/kvmscope/tui/context"
	"github.com/kvmscope/kvmscope/tui/exits"
	"github.com/kvmscope/kvmscope/tui/extensions"
	"github.com/kvmscope/kvmscope/tui/keys"
	"github.com/kvmscope/kvmscope/tui/memory"
	"github.com/kvmscope/kvmscope/tui/snap"
	"github.com/kvmscope/kvmscope/tui/vcpu"
)

// Backend is the machine as the TUI drives it. Every method may block
// briefly (a stop of the machine, an ioctl); the model calls them from
// commands only.
type Backend interface {
	// Poll takes a snapshot of everything the panes show.
	Poll(q snap.Query) snap.Frame
	// Wake signals (without blocking the sender) that something worth a
	// poll happened: a stop, the machine's end, a restart. The backend
	// closes it when it is closed itself.
	Wake() <-chan struct{}
	Step(vcpu int) error
	StepOver(vcpu int) error
	Continue() error
	Pause() error
	// ToggleBreakpoint sets or clears an execute breakpoint at an address
	// or symbol ("" for the vCPU's PC) and says which it did.
	ToggleBreakpoint(expr string, vcpu int) (string, error)
	// ToggleWatchpoint sets or clears a watchpoint: "ADDR[/LEN] [w|r|a]".
	ToggleWatchpoint(expr string, vcpu int) (string, error)
	// ToggleExtension switches a host extension: in place when it is
	// live, by a restart with the other setting when it is not.
	ToggleExtension(name string) (string, error)
	// Restart builds the machine anew with the same image and settings.
	Restart() error
	// Input queues bytes for the guest's serial port.
	Input(b []byte)
}

// Options configure the model.
type Options struct {
	// Interval is the poll period; 0 means DefaultInterval.
	Interval time.Duration
	// Renderer draws the styles; nil means lipgloss's default (the
	// terminal's colour profile).
	Renderer *lipgloss.Renderer
	// Width and Height are the size before the first WindowSizeMsg.
	Width, Height int
}

// DefaultInterval is 10 Hz: the exits pane's rates move live.
const DefaultInterval = 100 * time.Millisecond

type promptKind int

const (
	promptNone promptKind = iota
	promptBreak
	promptWatch
	promptGoTo
	promptExt
)

var promptLabels = map[promptKind]string{
	promptBreak: "break at (address or symbol; empty: the PC): ",
	promptWatch: "watch (ADDR[/LEN] [w|r|a]; LEN 1, 2, 4 or 8): ",
	promptGoTo:  "memory at (address, symbol, register to follow; p:ADDR physical): ",
	promptExt:   "toggle extension: ",
}

// Model is the root model.
type Model struct {
	be       Backend
	ctx      *context.ProgramContext
	styles   context.Styles
	keys     keys.KeyMap
	help     help.Model
	interval time.Duration

	vcpu    vcpu.Model
	code    code.Model
	memory  memory.Model
	console console.Model
	exits   exits.Model
	exts    extensions.Model

	status    snap.Status
	note      string // the last action's outcome
	noteErr   bool
	prompt    textinput.Model
	promptFor promptKind
	showHelp  bool
	// polling says a poll is in flight; again that another was asked
	// meanwhile.
	polling, again bool
	// typed is guest input not yet sent; sending says a send is on its
	// way (one at a time, so that keys arrive in order).
	typed   []byte
	sending bool
	// drawn is the last screen View drew, shared by the copies of the
	// model that Update returns. Bubble Tea calls View after every
	// message; the ticks that only start a poll change nothing on the
	// screen, and drawing it again for them doubled what looking at a
	// running guest cost.
	drawn *drawnView
}

type drawnView struct {
	s     string
	valid bool
}

// New builds the root model on a backend.
func New(be Backend, opts Options) Model {
	r := opts.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	st := context.DefaultStyles(r)
	w, h := opts.Width, opts.Height
	if w == 0 || h == 0 {
		w, h = 120, 40
	}
	ctx := context.New(w, h, st)
	m := Model{
		be: be, ctx: ctx, styles: st, keys: keys.NewKeyMap(), help: help.New(), interval: opts.Interval,
		vcpu: vcpu.NewModel(ctx), code: code.NewModel(ctx), memory: memory.NewModel(ctx),
		console: console.NewModel(ctx), exits: exits.NewModel(ctx), exts: extensions.NewModel(ctx),
		prompt: textinput.New(), drawn: new(drawnView),
	}
	if m.interval <= 0 {
		m.interval = DefaultInterval
	}
	m.help.Styles.ShortKey, m.help.Styles.FullKey = st.Key, st.Key
	m.help.Styles.ShortDesc, m.help.Styles.FullDesc = st.Desc, st.Desc
	m.help.ShortSeparator = "  "
	m.prompt.Prompt = ""
	m.prompt.CharLimit = 128
	return m
}

type (
	tickMsg  struct{}
	wakeMsg  struct{}
	frameMsg snap.Frame
	// doneMsg is the outcome of an action on the backend.
	sentMsg struct{}
	doneMsg struct {
		what, info string
		err        error
	}
)

// Init starts the poll loop and the wait for stops.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.tick(), m.waitWake(), textinput.Blink)
}

func (m Model) tick() tea.Cmd {
	return tea.Tick(m.interval, func(time.Time) tea.Msg { return tickMsg{} })
}

func (m Model) waitWake() tea.Cmd {
	ch := m.be.Wake()
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return nil // the backend is closed: no more wakes to wait for
		}
		return wakeMsg{}
	}
}

func (m Model) query() snap.Query {
	q := snap.Query{VCPU: m.vcpu.Selected()}
	q.CodeAddr, q.CodeBefore, q.CodeLines = m.code.Query()
	q.MemExpr, q.MemOffset, q.MemLen = m.memory.Query()
	return q
}

// poll asks the backend for a frame unless one is on its way.
func (m *Model) poll() tea.Cmd {
	if m.polling {
		m.again = true
		return nil
	}
	m.polling = true
	be, q := m.be, m.query()
	return func() tea.Msg { return frameMsg(be.Poll(q)) }
}

// do runs an action on the backend.
func do(what string, fn func() (string, error)) tea.Cmd {
	return func() tea.Msg {
		info, err := fn()
		return doneMsg{what: what, info: info, err: err}
	}
}

func noInfo(fn func() error) func() (string, error) {
	return func() (string, error) { return "", fn() }
}

// Update handles keys, mouse, frames and action outcomes.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case tickMsg, wakeMsg: // only start a poll: the screen stays as drawn
	default:
		if m.drawn != nil {
			m.drawn.valid = false
		}
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		focus := m.ctx.Focus
		m.ctx = context.New(msg.Width, msg.Height, m.styles)
		m.ctx.Focus = focus
		m.pushContext()
		return m, m.poll()
	case tickMsg:
		return m, tea.Batch(m.tick(), m.poll())
	case wakeMsg:
		return m, tea.Batch(m.waitWake(), m.poll())
	case frameMsg:
		m.polling = false
		cmd := m.applyFrame(snap.Frame(msg))
		if m.again {
			m.again = false
			cmd = tea.Batch(cmd, m.poll())
		}
		return m, cmd
	case sentMsg:
		m.sending = false
		return m, m.send()
	case doneMsg:
		m.note, m.noteErr = msg.info, msg.err != nil
		if msg.err != nil {
			m.note = msg.what + ": " + msg.err.Error()
		}
		return m, m.poll()
	case tea.MouseMsg:
		return m.mouse(msg)
	case tea.KeyMsg:
		return m.key(msg)
	}
	if m.promptFor != promptNone {
		var cmd tea.Cmd
		m.prompt, cmd = m.prompt.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) applyFrame(f snap.Frame) tea.Cmd {
	newStop := f.Status.Stops != m.status.Stops || f.Status.Restarts != m.status.Restarts
	m.status = f.Status
	m.vcpu, _ = m.vcpu.Update(f.Status)
	m.code, _ = m.code.Update(f.Status)
	m.console, _ = m.console.Update(f.Status)
	m.vcpu, _ = m.vcpu.Update(f.VCPU)
	m.code, _ = m.code.Update(f.Code)
	m.memory, _ = m.memory.Update(f.Memory)
	m.console, _ = m.console.Update(console.OutputMsg{Data: f.Console, Dropped: f.ConsoleDropped})
	m.exits, _ = m.exits.Update(f.Exits)
	m.exts, _ = m.exts.Update(f.Extensions)
	if newStop {
		// The code pane went back to the PC: fetch it at once.
		return m.poll()
	}
	return nil
}

// send hands typed bytes to the guest, one batch at a time.
func (m *Model) send() tea.Cmd {
	if m.sending || len(m.typed) == 0 {
		return nil
	}
	m.sending = true
	be, b := m.be, m.typed
	m.typed = nil
	return func() tea.Msg {
		be.Input(b)
		return sentMsg{}
	}
}

func (m *Model) pushContext() {
	m.vcpu.UpdateProgramContext(m.ctx)
	m.code.UpdateProgramContext(m.ctx)
	m.memory.UpdateProgramContext(m.ctx)
	m.console.UpdateProgramContext(m.ctx)
	m.exits.UpdateProgramContext(m.ctx)
	m.exts.UpdateProgramContext(m.ctx)
}

func (m *Model) focus(p context.Pane) {
	m.ctx.Focus = p
	m.pushContext()
}

// scroll sends a pane its scroll message.
func (m *Model) scroll(p context.Pane, lines int) tea.Cmd {
	switch p {
	case context.VCPU:
		m.vcpu, _ = m.vcpu.Update(vcpu.SelectMsg{VCPU: m.vcpu.Selected() + sign(lines)})
	case context.Code:
		m.code, _ = m.code.Update(code.ScrollMsg{Lines: lines})
	case context.Memory:
		m.memory, _ = m.memory.Update(memory.ScrollMsg{Lines: lines})
	case context.Console:
		m.console, _ = m.console.Update(console.ScrollMsg{Lines: lines})
	case context.Exits:
		m.exits, _ = m.exits.Update(exits.ScrollMsg{Lines: lines})
	case context.Extensions:
		m.exts, _ = m.exts.Update(extensions.ScrollMsg{Lines: lines})
	}
	return m.poll()
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	p, ok := m.ctx.PaneAt(msg.X, msg.Y)
	if !ok || m.showHelp {
		return m, nil
	}
	switch {
	case msg.Button == tea.MouseButtonWheelUp && msg.Action == tea.MouseActionPress:
		return m, m.scroll(p, -3)
	case msg.Button == tea.MouseButtonWheelDown && msg.Action == tea.MouseActionPress:
		return m, m.scroll(p, 3)
	case msg.Button == tea.MouseButtonLeft && msg.Action == tea.MouseActionPress:
		m.focus(p)
	}
	return m, nil
}

func (m Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.promptFor != promptNone {
		return m.promptKey(k)
	}
	if m.ctx.Focus == context.Console {
		if key.Matches(k, m.keys.Release) {
			m.focus((context.Console + 1) % context.NumPanes)
			return m, nil
		}
		m.typed = append(m.typed, console.KeyBytes(k)...)
		return m, m.send()
	}
	if m.showHelp {
		if key.Matches(k, m.keys.Quit) {
			return m, tea.Quit
		}
		m.showHelp = false
		return m, nil
	}
	be, id := m.be, m.vcpu.Selected()
	km := m.keys
	switch {
	case key.Matches(k, km.Quit):
		return m, tea.Quit
	case key.Matches(k, km.Help):
		m.showHelp = true
	case key.Matches(k, km.Step):
		return m, do("step", noInfo(func() error { return be.Step(id) }))
	case key.Matches(k, km.StepOver):
		return m, do("step over", noInfo(func() error { return be.StepOver(id) }))
	case key.Matches(k, km.Continue):
		return m, do("continue", noInfo(be.Continue))
	case key.Matches(k, km.Pause):
		return m, do("pause", noInfo(be.Pause))
	case key.Matches(k, km.Restart):
		return m, do("restart", func() (string, error) { return "restarted", be.Restart() })
	case key.Matches(k, km.Break):
		return m, m.openPrompt(promptBreak, "")
	case key.Matches(k, km.Watch):
		return m, m.openPrompt(promptWatch, "")
	case key.Matches(k, km.GoTo):
		return m, m.openPrompt(promptGoTo, "")
	case key.Matches(k, km.Extension):
		if m.ctx.Focus == context.Extensions && m.exts.Selected() != "" {
			name := m.exts.Selected()
			return m, do("extension "+name, func() (string, error) { return be.ToggleExtension(name) })
		}
		return m, m.openPrompt(promptExt, m.exts.Selected())
	case key.Matches(k, km.Focus):
		m.focus((m.ctx.Focus + 1) % context.NumPanes)
	case key.Matches(k, km.FocusBack):
		m.focus((m.ctx.Focus + context.NumPanes - 1) % context.NumPanes)
	case key.Matches(k, km.PrevVCPU):
		m.vcpu, _ = m.vcpu.Update(vcpu.SelectMsg{VCPU: id - 1})
		return m, m.poll()
	case key.Matches(k, km.NextVCPU):
		m.vcpu, _ = m.vcpu.Update(vcpu.SelectMsg{VCPU: id + 1})
		return m, m.poll()
	case key.Matches(k, km.Up):
		return m, m.scroll(m.ctx.Focus, -1)
	case key.Matches(k, km.Down):
		return m, m.scroll(m.ctx.Focus, 1)
	case key.Matches(k, km.PageUp):
		return m, m.scroll(m.ctx.Focus, -max(m.ctx.Rects[m.ctx.Focus].InnerH()-1, 1))
	case key.Matches(k, km.PageDown):
		return m, m.scroll(m.ctx.Focus, max(m.ctx.Rects[m.ctx.Focus].InnerH()-1, 1))
	}
	return m, nil
}

func (m *Model) openPrompt(kind promptKind, value string) tea.Cmd {
	m.promptFor = kind
	m.prompt.SetValue(value)
	m.prompt.CursorEnd()
	m.prompt.ShowSuggestions = kind == promptExt
	if kind == promptExt {
		m.prompt.SetSuggestions(m.exts.Names())
	}
	return m.prompt.Focus()
}

func (m Model) promptKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Cancel):
		m.promptFor = promptNone
		m.prompt.Blur()
		return m, nil
	case key.Matches(k, m.keys.Submit):
		kind, val := m.promptFor, strings.TrimSpace(m.prompt.Value())
		m.promptFor = promptNone
		m.prompt.Blur()
		be, id := m.be, m.vcpu.Selected()
		switch kind {
		case promptBreak:
			return m, do("breakpoint", func() (string, error) { return be.ToggleBreakpoint(val, id) })
		case promptWatch:
			return m, do("watchpoint", func() (string, error) { return be.ToggleWatchpoint(val, id) })
		case promptGoTo:
			if val == "" {
				val = memory.DefaultExpr
			}
			m.memory, _ = m.memory.Update(memory.GoToMsg{Expr: val})
			return m, m.poll()
		case promptExt:
			return m, do("extension "+val, func() (string, error) { return be.ToggleExtension(val) })
		}
		return m, nil
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(k)
	return m, cmd
}

// View draws the screen, or returns the last one when nothing changed.
func (m Model) View() string {
	if m.drawn == nil {
		return m.draw()
	}
	if !m.drawn.valid {
		m.drawn.s, m.drawn.valid = m.draw(), true
	}
	return m.drawn.s
}

// draw renders the screen.
func (m Model) draw() string {
	if m.ctx.TooSmall {
		return fmt.Sprintf("kvmscope: the terminal is %dx%d; the TUI needs at least %dx%d", m.ctx.Width, m.ctx.Height, context.MinWidth, context.MinHeight)
	}
	var main string
	if m.showHelp {
		main = m.helpScreen()
	} else {
		// Every box has its exact size, so the columns are joined line by
		// line without measuring them again (lipgloss's Join would).
		left := strings.Split(m.vcpu.View()+"\n"+m.code.View()+"\n"+m.memory.View(), "\n")
		right := strings.Split(m.exits.View()+"\n"+m.exts.View()+"\n"+m.console.View(), "\n")
		var b strings.Builder
		for i := range max(len(left), len(right)) {
			if i > 0 {
				b.WriteByte('\n')
			}
			if i < len(left) {
				b.WriteString(left[i])
			}
			if i < len(right) {
				b.WriteString(right[i])
			}
		}
		main = b.String()
	}
	return main + "\n" + m.statusLine() + "\n" + m.helpBar()
}

func (m Model) helpScreen() string {
	h := m.help
	h.ShowAll = true
	body := "kvmscope TUI keys\n\n" + h.View(m.keys) + "\n\n" +
		"b toggles a breakpoint at an address or symbol (empty: the PC); w a watchpoint, ADDR[/LEN] [w|r|a];\n" +
		"g moves the memory pane to an address, a symbol or a register it then follows (rsp), p:ADDR physical;\n" +
		"e toggles the extension under the cursor in the extensions pane, or asks which; n runs a call to its return.\n\n" +
		"Panes: vCPU (registers, changed values highlighted), code (disassembly at the PC, ● breakpoints),\n" +
		"memory (hex and ASCII; g to move it or follow a register), console (the guest's serial line;\n" +
		"focused, every key goes to the guest until ctrl-]), exits (per kind: count, kernel vs user,\n" +
		"rate, mean and p99 round trip, sparkline), host extensions (exit cost with each on and off).\n" +
		"The mouse wheel scrolls the pane under the pointer; a click focuses it.\n\nany key closes this help"
	ctx := *m.ctx
	ctx.Rects[context.VCPU] = context.Rect{W: m.ctx.Width, H: m.ctx.Height - 2}
	ctx.Focus = context.VCPU
	return ctx.Box(context.VCPU, "help", body)
}

// statusLine says what the machine does and the last action's outcome.
func (m Model) statusLine() string {
	st := m.styles
	var badge string
	switch m.status.State {
	case snap.Running:
		badge = st.Running.Render(" RUNNING ")
	case snap.Stopped:
		badge = st.Stopped.Render(" STOPPED ")
	case snap.Ended:
		badge = st.Ended.Render(" ENDED ")
	default:
		badge = st.Stopped.Render(" STARTING ")
	}
	line := badge + " "
	if m.status.Why != "" {
		line += m.status.Why
	}
	if m.promptFor != promptNone {
		line = badge + " " + promptLabels[m.promptFor] + m.prompt.View()
		return context.Fit(line, m.ctx.Width)
	}
	if m.note != "" {
		n := m.note
		if m.noteErr {
			n = st.Error.Render(n)
		}
		line += " · " + n
	}
	right := m.status.Image
	if m.status.Ext != "" {
		right += " · ext " + m.status.Ext
	}
	if m.status.GDB != "" {
		right += " · " + m.status.GDB
	}
	right = st.Dim.Render(right)
	gap := m.ctx.Width - lipgloss.Width(line) - lipgloss.Width(right)
	if gap < 1 {
		return context.Fit(line, m.ctx.Width)
	}
	return line + strings.Repeat(" ", gap) + right
}

func (m Model) helpBar() string {
	if m.ctx.Focus == context.Console {
		return context.Fit(m.styles.Key.Render("ctrl+]")+" "+m.styles.Desc.Render("leave the console (every other key goes to the guest)"), m.ctx.Width)
	}
	h := m.help
	h.Width = m.ctx.Width
	return h.ShortHelpView(m.keys.ShortHelp())
}

// Run runs the TUI on the terminal until the user quits.
func Run(be Backend, opts Options, progOpts ...tea.ProgramOption) error {
	p := tea.NewProgram(New(be, opts), append([]tea.ProgramOption{tea.WithAltScreen(), tea.WithMouseCellMotion()}, progOpts...)...)
	_, err := p.Run()
	return err
}
