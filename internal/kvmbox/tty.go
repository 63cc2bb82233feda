package kvmbox

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal tells whether f is a terminal (a TCGETS that works).
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// terminalSize returns the rows and columns of the terminal f, or zeros.
// The serial console inside has no size of its own, so the command script
// sets this one with stty for full-screen programs.
func terminalSize(f *os.File) (rows, cols int) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0
	}
	return int(ws.Row), int(ws.Col)
}

// savedTerminal remembers a terminal's settings, to put them back should
// QEMU die without restoring them (it switches the terminal to raw mode
// for -serial stdio, and a SIGKILL leaves it so).
type savedTerminal struct {
	fd      int
	termios *unix.Termios
}

func saveTerminal(f *os.File) *savedTerminal {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return nil
	}
	return &savedTerminal{fd: int(f.Fd()), termios: t}
}

func (s *savedTerminal) restore() {
	if s != nil {
		unix.IoctlSetTermios(s.fd, unix.TCSETS, s.termios)
	}
}
