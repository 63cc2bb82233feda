package kvmbox

import (
	"bytes"
	"testing"
)

func TestStderrFilter(t *testing.T) {
	var out bytes.Buffer
	f := &stderrFilter{w: &out}
	f.Write([]byte("qemu-system-x86_64: terminating on signal 15 from pid 1 (x)\nwarn"))
	f.stopping.Store(true)
	f.Write([]byte("ing: a\nqemu-system-x86_64: terminating on signal 15 from pid 2 (kvmbox)\nlast"))
	f.Flush()
	want := "qemu-system-x86_64: terminating on signal 15 from pid 1 (x)\nwarning: a\nlast"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
