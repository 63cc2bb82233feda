package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
)

// TestLinuxBadInput: a bad kernel, initrd, command line or memory size for
// a Linux guest gets one clear line and status 2, before any KVM call.
// The cases that need a real kernel use the one `kvmbox setup` fetched.
func TestLinuxBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := make([]byte, 0x400)
	binary.LittleEndian.PutUint16(header[0x1fe:], 0xaa55)
	copy(header[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(header[0x206:], 0x020f)
	// cpio is a newc archive of one file of size zero bytes and, when
	// whole, the trailer.
	cpio := func(size int, whole bool) []byte {
		entry := func(b []byte, name string, size int) []byte {
			b = fmt.Appendf(b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name)+1, 0)
			b = append(append(b, name...), 0)
			b = append(b, make([]byte, (4-len(b)%4)%4)...)
			b = append(b, make([]byte, size)...)
			return append(b, make([]byte, (4-len(b)%4)%4)...)
		}
		b := entry(nil, "x", size)
		if whole {
			b = entry(b, "TRAILER!!!", 0)
		}
		return b
	}

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"header-only bzImage", []string{"run", write("header.bz", header)}, "truncated bzImage"},
		{"--initrd missing", []string{"run", "--initrd", filepath.Join(dir, "nope"), "sample:hello"}, "--initrd " + filepath.Join(dir, "nope") + ": no such file"},
		{"--initrd empty", []string{"run", "--initrd", write("empty.cpio", nil), "sample:hello"}, "empty file"},
		{"--append for an ELF", []string{"run", "--append", "quiet", "sample:hello"}, "are for Linux kernels"},
		{"--initrd for an ELF", []string{"run", "--initrd", write("ok.cpio", cpio(4, true)), "sample:hello"}, "are for Linux kernels"},
		{"sample:linux not built", []string{"run", "sample:linux"}, `sample:linux is not built: run "make linux-sample"`},
	}
	c := kvmbox.Cache{Dir: kvmbox.Dir()}
	if kver, err := c.KernelVersion(); err == nil {
		if k, err := os.ReadFile(c.Vmlinuz(kver)); err == nil {
			kernel := write("vmlinuz", k)
			cases = append(cases, []struct {
				name string
				args []string
				want string
			}{
				{"truncated kernel", []string{"run", write("half.bz", k[:len(k)/2])}, "truncated bzImage: the header promises"},
				{"corrupt kernel", []string{"run", write("zero.bz", append(append([]byte{}, k[:0x4000]...), make([]byte, len(k)-0x4000)...))}, "corrupt bzImage"},
				{"kernel too large for --mem", []string{"run", "--mem", "64M", kernel}, "use --mem 128M or more"},
				{"command line too long", []string{"run", "--mem", "256M", "--append", strings.Repeat("x", 3000), kernel}, "kernel command line of 3000 bytes is longer than the 2047"},
				{"initrd corrupt", []string{"run", "--mem", "256M", "--initrd", write("junk.img", []byte("junk")), kernel}, "not a cpio archive"},
				{"initrd truncated", []string{"run", "--mem", "256M", "--initrd", write("trunc.cpio", cpio(100, false)), kernel}, "truncated cpio archive"},
				{"initrd too large", []string{"run", "--mem", "96M", "--initrd", write("big.cpio", cpio(20<<20, true)), kernel}, "does not fit"},
			}...)
		}
	}
	t.Setenv("KVMSCOPE_LINUX_SAMPLE", filepath.Join(dir, "no-such-build"))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, status := kvmscope(t, c.args...)
			if status != exitBadInput {
				t.Errorf("status %d, want %d; stderr %q", status, exitBadInput, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not mention %q", stderr, c.want)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("a Go panic: %s", stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("stderr has %d lines, want one: %q", n+1, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}
