package tui

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/kvmscope/kvmscope/tui/context"
)

func TestMain(m *testing.M) {
	// Golden files hold plain text: no colours, whatever the terminal.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

const width, height = 120, 40

func start(t *testing.T, f *fake) *teatest.TestModel {
	t.Helper()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	m := New(f, Options{Renderer: r, Width: width, Height: height, Interval: 20 * time.Millisecond})
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height))
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func final(t *testing.T, tm *teatest.TestModel) Model {
	t.Helper()
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
}

func typeKeys(tm *teatest.TestModel, s string) {
	for _, r := range s {
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func special(tm *teatest.TestModel, k tea.KeyType) { tm.Send(tea.KeyMsg{Type: k}) }

// waitCalls waits until the backend has seen want.
func waitCalls(t *testing.T, f *fake, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := f.Calls(); len(got) >= len(want) && slices.Equal(got[len(got)-len(want):], want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("backend calls %q, want them to end with %q", f.Calls(), want)
}

// TestLayout is the whole screen at 120x40 with every pane filled.
func TestLayout(t *testing.T) {
	f := newFake()
	tm := start(t, f)
	waitFor(t, tm, "Hello from kvmscope guest!")
	time.Sleep(100 * time.Millisecond) // a few polls: the same frame
	m := final(t, tm)
	golden.RequireEqual(t, []byte(m.View()))
}

// TestHelpScreen is what ? shows.
func TestHelpScreen(t *testing.T) {
	tm := start(t, newFake())
	typeKeys(tm, "?")
	waitFor(t, tm, "any key closes this help")
	tm.Send(tea.QuitMsg{})
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	golden.RequireEqual(t, []byte(m.View()))
}

// TestKeys drives every key of the list and checks what the
// backend was asked.
func TestKeys(t *testing.T) {
	f := newFake()
	tm := start(t, f)
	typeKeys(tm, "s")
	waitCalls(t, f, "step 0")
	typeKeys(tm, "s")
	waitCalls(t, f, "step 0", "step 0")
	typeKeys(tm, "n")
	waitCalls(t, f, "stepover 0")
	typeKeys(tm, "c")
	waitCalls(t, f, "continue")
	typeKeys(tm, "p")
	waitCalls(t, f, "pause")
	typeKeys(tm, " ")
	waitCalls(t, f, "pause", "pause")
	typeKeys(tm, "bputs")
	special(tm, tea.KeyEnter)
	waitCalls(t, f, "break puts")
	waitFor(t, tm, "breakpoint set at puts")
	typeKeys(tm, "b")
	special(tm, tea.KeyEnter)
	waitCalls(t, f, "break ")
	typeKeys(tm, "w0x7000/2 w")
	special(tm, tea.KeyEnter)
	waitCalls(t, f, "watch 0x7000/2 w")
	// A prompt that is canceled asks nothing.
	typeKeys(tm, "bxyz")
	special(tm, tea.KeyEscape)
	typeKeys(tm, "r")
	waitCalls(t, f, "restart")
	// e with the prompt (focus elsewhere), then in the focused pane.
	typeKeys(tm, "e")
	special(tm, tea.KeyCtrlU)
	typeKeys(tm, "ioeventfd")
	special(tm, tea.KeyEnter)
	waitCalls(t, f, "ext ioeventfd")
	final(t, tm)
}

// TestFocusAndExtensionPane: tab walks the panes; e in the extensions
// pane toggles the row under the cursor at once.
func TestFocusAndExtensionPane(t *testing.T) {
	f := newFake()
	tm := start(t, f)
	for range 4 {
		special(tm, tea.KeyTab)
	}
	waitFor(t, tm, "e toggles irqchip")
	special(tm, tea.KeyDown)
	waitFor(t, tm, "e toggles ioeventfd")
	typeKeys(tm, "e")
	waitCalls(t, f, "ext ioeventfd")
	m := final(t, tm)
	if m.ctx.Focus != context.Extensions {
		t.Fatalf("focus %v after four tabs, want extensions", m.ctx.Focus)
	}
}

// TestConsoleTakesKeys: with the console focused every key, q and tab
// included, goes to the guest until ctrl-].
func TestConsoleTakesKeys(t *testing.T) {
	f := newFake()
	tm := start(t, f)
	special(tm, tea.KeyShiftTab) // the console is last in the focus order
	waitFor(t, tm, "typing goes to the guest")
	typeKeys(tm, "ls q")
	special(tm, tea.KeyTab)
	special(tm, tea.KeyCtrlC)
	special(tm, tea.KeyEnter)
	special(tm, tea.KeyUp)
	deadline := time.Now().Add(5 * time.Second)
	want := "ls q\t\x03\r\x1b[A"
	for f.Typed() != want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := f.Typed(); got != want {
		t.Fatalf("guest got %q, want %q", got, want)
	}
	special(tm, tea.KeyCtrlCloseBracket)
	waitFor(t, tm, "s step")
	m := final(t, tm)
	if m.ctx.Focus != context.VCPU {
		t.Fatalf("focus %v after ctrl-], want the vCPU pane (next after the console)", m.ctx.Focus)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("console keys reached the backend as commands: %q", f.Calls())
	}
}

// TestGoToAndScroll: g points the memory pane; the wheel scrolls the
// pane under the pointer; [ and ] select vCPUs.
func TestGoToAndScroll(t *testing.T) {
	f := newFake()
	tm := start(t, f)
	typeKeys(tm, "gp:0x7000")
	special(tm, tea.KeyEnter)
	waitFor(t, tm, "memory · p:0x7000")
	// The wheel over the memory pane (left column, bottom).
	mem := context.New(width, height, context.Styles{}).Rects[context.Memory]
	tm.Send(tea.MouseMsg{X: mem.X + 3, Y: mem.Y + 2, Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	waitFor(t, tm, "+0x18")
	code := context.New(width, height, context.Styles{}).Rects[context.Code]
	tm.Send(tea.MouseMsg{X: code.X + 3, Y: code.Y + 2, Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	typeKeys(tm, "]")
	waitFor(t, tm, "vCPU 1 of 2")
	m := final(t, tm)
	q := m.query()
	if q.MemExpr != "p:0x7000" || q.MemOffset != 24 {
		t.Errorf("memory query %q%+d, want p:0x7000+24", q.MemExpr, q.MemOffset)
	}
	if q.CodeAddr != 0x100008 || q.CodeBefore != 0 {
		t.Errorf("code query at %#x (before %d) after scrolling 3 down, want 0x100008", q.CodeAddr, q.CodeBefore)
	}
	if q.VCPU != 1 {
		t.Errorf("vCPU %d after ], want 1", q.VCPU)
	}
}

// TestTooSmall says so instead of a broken layout.
func TestTooSmall(t *testing.T) {
	m := New(newFake(), Options{Width: 60, Height: 20, Renderer: lipgloss.NewRenderer(io.Discard)})
	if v := m.View(); !strings.Contains(v, "needs at least 80x24") {
		t.Fatalf("view at 60x20: %q", v)
	}
}
