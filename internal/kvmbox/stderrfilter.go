package kvmbox

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
)

// stderrFilter passes QEMU's standard error through, line by line, except
// its "terminating on signal" line once kvmbox itself has stopped QEMU:
// kvmbox then says why in its own words (timeout, signal).
type stderrFilter struct {
	w        io.Writer
	stopping atomic.Bool
	mu       sync.Mutex
	partial  []byte
}

var qemuTerminating = []byte(": terminating on signal ")

func (f *stderrFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			break
		}
		line := f.partial[:i+1]
		if !(f.stopping.Load() && bytes.Contains(line, qemuTerminating)) {
			if _, err := f.w.Write(line); err != nil {
				return len(p), err
			}
		}
		f.partial = f.partial[i+1:]
	}
	return len(p), nil
}

// Flush writes what is left of an unfinished last line.
func (f *stderrFilter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.partial) > 0 {
		f.w.Write(f.partial)
		f.partial = nil
	}
}
