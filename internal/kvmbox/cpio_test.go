package kvmbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is one parsed newc entry.
type cpioEntry struct {
	Name       string
	Mode       uint32
	Rmaj, Rmin uint32
	Data       []byte
}

// readNewc parses a newc archive (possibly several concatenated) the way
// the kernel does, to check the writer without external tools.
func readNewc(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	for len(b) > 0 {
		if len(b) < 110 || string(b[:6]) != "070701" {
			t.Fatalf("bad header at %d bytes from the end: %q", len(b), b[:min(len(b), 6)])
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(b[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("bad header field %d: %v", i, err)
			}
			return uint32(v)
		}
		mode, size, rmaj, rmin, namesize := field(1), field(6), field(9), field(10), field(11)
		name := string(b[110 : 110+namesize-1])
		off := 110 + int(namesize)
		off += pad4(off)
		data := b[off : off+int(size)]
		off += int(size)
		off += pad4(off)
		if off%4 != 0 {
			t.Fatalf("misaligned entry %s", name)
		}
		b = b[off:]
		if name == "TRAILER!!!" {
			continue
		}
		out = append(out, cpioEntry{name, mode, rmaj, rmin, data})
	}
	return out
}

func testArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.Dir("bin", 0o755)
	w.File("bin/hello", 0o755, []byte("#!/bin/sh\necho hi\n"))
	w.File("/odd", 0o600, []byte("12345"))
	w.File("empty", 0o644, nil)
	w.Symlink("bin/sh", "busybox")
	w.CharDev("dev/console", 0o600, 5, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCPIORoundTrip(t *testing.T) {
	b := testArchive(t)
	// Two archives back to back, as Run builds the boot's initramfs.
	got := readNewc(t, append(b, b...))
	if len(got) != 12 {
		t.Fatalf("got %d entries, want 12", len(got))
	}
	want := []struct {
		name string
		mode uint32
		data string
	}{
		{"bin", cpioTypeDir | 0o755, ""},
		{"bin/hello", cpioTypeRegular | 0o755, "#!/bin/sh\necho hi\n"},
		{"odd", cpioTypeRegular | 0o600, "12345"},
		{"empty", cpioTypeRegular | 0o644, ""},
		{"bin/sh", cpioTypeSymlink | 0o777, "busybox"},
		{"dev/console", cpioTypeCharDev | 0o600, ""},
	}
	for i, w := range want {
		e := got[i]
		if e.Name != w.name || e.Mode != w.mode || string(e.Data) != w.data {
			t.Errorf("entry %d = %q %o %q, want %q %o %q", i, e.Name, e.Mode, e.Data, w.name, w.mode, w.data)
		}
	}
	if c := got[5]; c.Rmaj != 5 || c.Rmin != 1 {
		t.Errorf("console device = %d:%d, want 5:1", c.Rmaj, c.Rmin)
	}
}

func TestCPIOBadName(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	if err := w.File("/", 0o644, nil); err == nil {
		t.Fatal("empty name accepted")
	}
	if err := w.Close(); err == nil {
		t.Fatal("writer kept going after an error")
	}
}

// TestCPIOWithCpioTool checks the archive against GNU cpio, when present.
func TestCPIOWithCpioTool(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed")
	}
	b := testArchive(t)
	cmd := exec.Command("cpio", "-it", "--quiet")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -it: %v\n%s", err, out)
	}
	if got, want := strings.Fields(string(out)), []string{"bin", "bin/hello", "odd", "empty", "bin/sh", "dev/console"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("cpio -it lists %q, want %q", got, want)
	}

	// Extract the plain files and compare.
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.Dir("d", 0o755)
	w.File("d/f", 0o640, []byte("contents\x00\xff"))
	w.Symlink("d/l", "f")
	w.Close()
	dir := t.TempDir()
	cmd = exec.Command("cpio", "-id", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "d", "l"))
	if err != nil || string(data) != "contents\x00\xff" {
		t.Fatalf("extracted d/l (via symlink) = %q, %v", data, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "d", "f")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("extracted d/f: %v %v", fi, err)
	}
}
