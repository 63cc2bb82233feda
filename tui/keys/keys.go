// Package keys is the TUI's key map. NewKeyMap returns a fresh value:
// there is no package-level map for code to mutate behind the panes'
// backs. It feeds bubbles/help (ShortHelp for the help bar, FullHelp for
// the `?` screen).
package keys

import "github.com/charmbracelet/bubbles/key"

// KeyMap holds every binding of the TUI.
type KeyMap struct {
	Step, StepOver, Continue, Pause key.Binding
	Break, Watch, GoTo              key.Binding
	Extension, Restart              key.Binding
	Focus, FocusBack                key.Binding
	PrevVCPU, NextVCPU              key.Binding
	Up, Down, PageUp, PageDown      key.Binding
	Help, Quit                      key.Binding
	// Release gives focus back from the console, where every other key
	// goes to the guest.
	Release key.Binding
	// Submit and Cancel end a prompt.
	Submit, Cancel key.Binding
}

// NewKeyMap returns the default bindings.
func NewKeyMap() KeyMap {
	return KeyMap{
		Step:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "step")),
		StepOver:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "step over")),
		Continue:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "continue")),
		Pause:     key.NewBinding(key.WithKeys("p", " "), key.WithHelp("p", "pause")),
		Break:     key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "break")),
		Watch:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "watch")),
		GoTo:      key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "memory")),
		Extension: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "extension")),
		Restart:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart")),
		Focus:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus")),
		FocusBack: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		PrevVCPU:  key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous vCPU")),
		NextVCPU:  key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next vCPU")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Release:   key.NewBinding(key.WithKeys("ctrl+]"), key.WithHelp("ctrl+]", "leave console")),
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "ok")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp is the help bar.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Step, k.StepOver, k.Continue, k.Pause, k.Break, k.Watch, k.GoTo, k.Extension, k.Restart, k.Focus, k.Help, k.Quit}
}

// FullHelp is the `?` screen, in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Step, k.StepOver, k.Continue, k.Pause, k.Restart},
		{k.Break, k.Watch, k.GoTo, k.Extension},
		{k.Focus, k.FocusBack, k.PrevVCPU, k.NextVCPU, k.Release},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Help, k.Quit},
	}
}
