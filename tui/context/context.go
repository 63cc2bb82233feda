// Package context is what every pane of the TUI shares: its size and
// focus, the styles, and the frame drawn around it. The root model builds
// one ProgramContext per layout and pushes it to the panes (gh-dash's
// ProgramContext), so that no pane decides its own size or colours.
package context

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Pane names one pane, for focus and layout.
type Pane int

const (
	VCPU Pane = iota
	Code
	Memory
	Exits
	Extensions
	// Console is last in the focus order: once it has focus, tab goes to
	// the guest, and ctrl-] moves on to the first pane.
	Console
	NumPanes
)

var paneNames = [NumPanes]string{VCPU: "vCPU", Code: "code", Memory: "memory", Console: "console", Exits: "exits", Extensions: "extensions"}

func (p Pane) String() string {
	if p >= 0 && p < NumPanes {
		return paneNames[p]
	}
	return "?"
}

// Rect is a pane's place on the screen, border included.
type Rect struct{ X, Y, W, H int }

// Contains reports whether the cell (x, y) is inside r.
func (r Rect) Contains(x, y int) bool { return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H }

// InnerW and InnerH are the size inside the border.
func (r Rect) InnerW() int { return max(r.W-2, 0) }
func (r Rect) InnerH() int { return max(r.H-2, 0) }

// ProgramContext is the shared state pushed to the panes.
type ProgramContext struct {
	Width, Height int
	Rects         [NumPanes]Rect
	Focus         Pane
	Styles        Styles
	// TooSmall says the terminal cannot hold the layout.
	TooSmall bool
	// boxes holds each pane's last drawing (Box).
	boxes map[Pane]*boxMemo
}

// MinWidth and MinHeight are the smallest terminal the layout fits.
const (
	MinWidth  = 80
	MinHeight = 24
)

// New lays the panes out on a width×height terminal: the machine's state
// (vCPU, code, memory) on the left, its behaviour (exits, extensions,
// console) on the right, two lines at the bottom for status and help.
func New(width, height int, st Styles) *ProgramContext {
	c := &ProgramContext{Width: width, Height: height, Styles: st}
	if width < MinWidth || height < MinHeight {
		c.TooSmall = true
		return c
	}
	h := height - 2 // status line and help bar
	left := width * 9 / 20
	right := width - left
	vcpuH := min(16, h*16/38)
	codeH := (h - vcpuH) * 55 / 100
	c.Rects[VCPU] = Rect{0, 0, left, vcpuH}
	c.Rects[Code] = Rect{0, vcpuH, left, codeH}
	c.Rects[Memory] = Rect{0, vcpuH + codeH, left, h - vcpuH - codeH}
	exitsH := h * 16 / 38
	extH := min(10, (h-exitsH)/2)
	c.Rects[Exits] = Rect{left, 0, right, exitsH}
	c.Rects[Extensions] = Rect{left, exitsH, right, extH}
	c.Rects[Console] = Rect{left, exitsH + extH, right, h - exitsH - extH}
	return c
}

// PaneAt names the pane under the cell (x, y).
func (c *ProgramContext) PaneAt(x, y int) (Pane, bool) {
	for p := Pane(0); p < NumPanes; p++ {
		if c.Rects[p].Contains(x, y) {
			return p, true
		}
	}
	return 0, false
}

// Styles are the TUI's colours and text styles.
type Styles struct {
	Border, FocusBorder lipgloss.Style
	Title, FocusTitle   lipgloss.Style
	Changed             lipgloss.Style // a value that changed since the last stop
	PC                  lipgloss.Style // the next instruction
	Break               lipgloss.Style // a breakpoint mark
	Symbol              lipgloss.Style
	Dim                 lipgloss.Style
	On, Off             lipgloss.Style
	Running, Stopped    lipgloss.Style
	Ended, Error        lipgloss.Style
	Key, Desc           lipgloss.Style
	Selected, Header    lipgloss.Style
}

// DefaultStyles builds the styles with a renderer (which knows the
// terminal's colour profile). The colours are the 16 basic ones: every
// terminal has them, and they need no conversion per drawing (a 256-colour
// value drawn on a 16-colour terminal is converted each time, which at
// 10 frames a second cost more CPU than all the rest of the TUI).
func DefaultStyles(r *lipgloss.Renderer) Styles {
	s := r.NewStyle
	const (
		black, red, green, yellow, blue, cyan, white = "0", "1", "2", "3", "4", "6", "7"
		gray, bred, bgreen, byellow, bmagenta, bcyan = "8", "9", "10", "11", "13", "14"
	)
	c := func(s string) lipgloss.Color { return lipgloss.Color(s) }
	return Styles{
		Border:      s().Foreground(c(gray)),
		FocusBorder: s().Foreground(c(bcyan)),
		Title:       s().Foreground(c(white)),
		FocusTitle:  s().Foreground(c(bcyan)).Bold(true),
		Changed:     s().Foreground(c(byellow)).Bold(true),
		PC:          s().Foreground(c(black)).Background(c(cyan)),
		Break:       s().Foreground(c(bred)).Bold(true),
		Symbol:      s().Foreground(c(bmagenta)),
		Dim:         s().Foreground(c(gray)),
		On:          s().Foreground(c(bgreen)).Bold(true),
		Off:         s().Foreground(c(red)),
		Running:     s().Foreground(c(black)).Background(c(green)).Bold(true),
		Stopped:     s().Foreground(c(black)).Background(c(yellow)).Bold(true),
		Ended:       s().Foreground(c(white)).Background(c(blue)).Bold(true),
		Error:       s().Foreground(c(bred)).Bold(true),
		Key:         s().Foreground(c(bcyan)).Bold(true),
		Desc:        s().Foreground(c(white)),
		Selected:    s().Foreground(c(black)).Background(c(cyan)),
		Header:      s().Foreground(c(white)).Bold(true),
	}
}

// Box draws a pane: a rounded border with the title in its top edge, the
// body's lines cut or padded to the inside. focused picks the colours.
// The last drawing of each pane is kept: a pane whose title and body did
// not change since the previous frame costs a comparison.
func (c *ProgramContext) Box(p Pane, title, body string) string {
	r := c.Rects[p]
	if r.W < 4 || r.H < 2 {
		return ""
	}
	if c.boxes == nil {
		c.boxes = map[Pane]*boxMemo{}
	}
	memo := c.boxes[p]
	if memo != nil && memo.title == title && memo.body == body && memo.focused == (c.Focus == p) {
		return memo.out
	}
	border, titleSt := c.Styles.Border, c.Styles.Title
	if c.Focus == p {
		border, titleSt = c.Styles.FocusBorder, c.Styles.FocusTitle
	}
	iw := r.InnerW()
	t := ansi.Truncate(title, iw-3, "…")
	fill := max(iw-2-ansi.StringWidth(t)-1, 0)
	side := border.Render("│")
	var b strings.Builder
	b.WriteString(border.Render("╭─ ") + titleSt.Render(t) + border.Render(" "+strings.Repeat("─", fill)+"╮"))
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	for i := 0; i < r.InnerH(); i++ {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		b.WriteString("\n" + side + Fit(line, iw) + side)
	}
	b.WriteString("\n" + border.Render("╰"+strings.Repeat("─", iw)+"╯"))
	c.boxes[p] = &boxMemo{title: title, body: body, focused: c.Focus == p, out: b.String()}
	return c.boxes[p].out
}

type boxMemo struct {
	title, body string
	focused     bool
	out         string
}

// Fit cuts or pads a (possibly styled) line to exactly w cells.
func Fit(line string, w int) string {
	line = ansi.Truncate(line, w, "")
	if n := ansi.StringWidth(line); n < w {
		line += strings.Repeat(" ", w-n)
	}
	return line
}
