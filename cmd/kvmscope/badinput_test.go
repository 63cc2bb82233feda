package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
	"github.com/kvmscope/kvmscope/samples"
)

// badInputRow is one row of docs/bad-input.md.
type badInputRow struct {
	args   []string // with {NAME} placeholders
	want   string
	status int
}

var badInputLine = regexp.MustCompile("^\\| `([^`]+)` \\| `([^`]+)` \\| (\\d+) \\|$")

// readBadInputTable parses the table of docs/bad-input.md.
func readBadInputTable(t *testing.T) []badInputRow {
	t.Helper()
	doc, err := os.ReadFile("../../docs/bad-input.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []badInputRow
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		m := badInputLine.FindStringSubmatch(sc.Text())
		if m == nil {
			if strings.HasPrefix(sc.Text(), "| `") {
				t.Errorf("docs/bad-input.md: a row the test cannot read: %s", sc.Text())
			}
			continue
		}
		status, _ := strconv.Atoi(m[3])
		rows = append(rows, badInputRow{args: strings.Fields(m[1]), want: m[2], status: status})
	}
	if len(rows) < 40 {
		t.Fatalf("docs/bad-input.md: %d rows; the table lost some", len(rows))
	}
	return rows
}

// badInputFiles makes the files the table's placeholders name. The ones
// made from the Debian kernel are missing when `kvmbox setup` has not
// fetched it.
func badInputFiles(t *testing.T) map[string]string {
	dir := t.TempDir()
	files := map[string]string{"missing": filepath.Join(dir, "missing"), "long": strings.Repeat("x", 3000)}
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	hello, err := samples.Image("hello")
	if err != nil {
		t.Fatal(err)
	}
	arm := append([]byte(nil), hello...)
	arm[18], arm[19] = 183, 0 // e_machine = EM_AARCH64
	header := make([]byte, 0x400)
	binary.LittleEndian.PutUint16(header[0x1fe:], 0xaa55)
	copy(header[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(header[0x206:], 0x020f)
	write("empty", nil)
	write("trunc.elf", hello[:40])
	write("arm.elf", arm)
	write("big.bin", bytes.Repeat([]byte{0x90}, 3<<20))
	write("header.bz", header)
	write("ok.cpio", newcArchive(4, true))
	write("junk.img", []byte("junk"))
	write("trunc.cpio", newcArchive(100, false))
	write("big.cpio", newcArchive(20<<20, true))
	write("map", []byte("zzzz T start\n"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte{0x90}, 64<<10))
	zw.Close()
	write("nop.gz", gz.Bytes())
	write("placeholder.map", []byte("ffffffffffffffff B The real System.map is in the linux-image-6.1.0-57-amd64-dbg package\n"))
	c := kvmbox.Cache{Dir: kvmbox.Dir()}
	if kver, err := c.KernelVersion(); err == nil {
		if k, err := os.ReadFile(c.Vmlinuz(kver)); err == nil {
			write("vmlinuz", k)
			write("half.bz", k[:len(k)/2])
			write("zero.bz", append(append([]byte{}, k[:0x4000]...), make([]byte, len(k)-0x4000)...))
			flip := append([]byte(nil), k...)
			flip[len(flip)/2] ^= 0x40
			write("flip.bz", flip)
		}
	}
	return files
}

// newcArchive is a cpio "newc" archive of one file of size zero bytes
// and, when whole, the trailer.
func newcArchive(size int, whole bool) []byte {
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

var placeholder = regexp.MustCompile(`^\{([a-z.]+)\}$`)

// TestBadInputTable runs every row of docs/bad-input.md: one clear line
// on stderr, the status the row gives, nothing on stdout, no panic.
func TestBadInputTable(t *testing.T) {
	files := badInputFiles(t)
	t.Setenv("KVMSCOPE_LINUX_SAMPLE", files["missing"])
	for _, row := range readBadInputTable(t) {
		t.Run(strings.Join(row.args, " "), func(t *testing.T) {
			args := make([]string, len(row.args))
			for i, a := range row.args {
				m := placeholder.FindStringSubmatch(a)
				if m == nil {
					args[i] = a
					continue
				}
				f, ok := files[m[1]]
				switch {
				case !ok && (m[1] == "vmlinuz" || strings.HasSuffix(m[1], ".bz")):
					t.Skipf("needs the Debian kernel of the sandbox: run `bin/kvmbox setup` (make setup)")
				case !ok:
					t.Fatalf("docs/bad-input.md names {%s}, which the test does not make", m[1])
				}
				args[i] = f
			}
			stdout, stderr, status := kvmscope(t, args...)
			if status != row.status {
				t.Errorf("status %d, want %d; stderr %q", status, row.status, stderr)
			}
			if !strings.Contains(stderr, row.want) {
				t.Errorf("stderr %q does not say %q", stderr, row.want)
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
