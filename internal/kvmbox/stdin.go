package kvmbox

import (
	"fmt"
	"io"
	"os"
)

// portInput decides what feeds the standard input port: nothing when
// standard input is closed or /dev/null (the command then reads
// /dev/null), the file itself when QEMU can reopen it through
// /proc/self/fd (pipe, file, terminal), else a pipe that a goroutine
// fills (a socket cannot be reopened). The returned func releases it.
func portInput(f *os.File) (*os.File, func(), error) {
	nop := func() {}
	if f == nil {
		return nil, nop, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nop, nil // closed
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return nil, nop, nil
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return f, nop, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nop, fmt.Errorf("standard input pipe: %w", err)
	}
	go func() {
		io.Copy(w, f)
		w.Close()
	}()
	return r, func() { r.Close() }, nil
}
