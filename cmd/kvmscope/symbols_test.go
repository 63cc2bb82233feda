package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
	"github.com/kvmscope/kvmscope/samples"
)

func TestSymbolsCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	smap := write("System.map", "ffffffff81000000 T _text\nffffffff81000100 T start_kernel\nffffffff82000000 D jiffies\nffffffff82000000 D jiffies_64\n")
	hello, err := samples.Image("hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "k"), 0o755); err != nil {
		t.Fatal(err)
	}
	stripped := write("k/stripped.elf", string(hello[:64])+strings.Repeat("\x00", 64)) // no System.map beside it

	for _, c := range []struct {
		name   string
		args   []string
		status int
		out    string // stdout, exactly
		errs   string // in stderr
	}{
		{"all", []string{"--symbols", smap}, 0, "ffffffff81000000 T _text\nffffffff81000100 T start_kernel\nffffffff82000000 D jiffies\nffffffff82000000 D jiffies_64\n", ""},
		{"names", []string{"--symbols", smap, "jiffies", "start_kernel"}, 0, "ffffffff81000100 T start_kernel\nffffffff82000000 D jiffies\n", ""},
		{"missing name", []string{"--symbols", smap, "jiffies", "nosuch", "nor_this"}, 1, "ffffffff82000000 D jiffies\n", "no symbol named nosuch, nor_this"},
		{"no kernel", nil, 2, "", "no kernel"},
		{"missing kernel", []string{"--kernel", filepath.Join(dir, "nope")}, 2, "", "no such file"},
		{"missing map", []string{"--symbols", filepath.Join(dir, "nope")}, 2, "", "no such file"},
		{"no kallsyms", []string{"--kernel", stripped}, 2, "", "no kallsyms tables found in " + stripped + ": build with CONFIG_KALLSYMS or pass --symbols"},
		{"bad flag", []string{"--bogus"}, 2, "", "bogus"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, status := kvmscope(t, append([]string{"symbols"}, c.args...)...)
			if status != c.status || stdout != c.out || !strings.Contains(stderr, c.errs) {
				t.Errorf("status %d, stdout %q, stderr %q; want %d, %q, stderr with %q", status, stdout, stderr, c.status, c.out, c.errs)
			}
			if c.status != 0 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}

// run and tui refuse a --symbols file they cannot read before they start
// anything.
func TestRunSymbolsFlag(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.map")
	for _, cmd := range []string{"run", "tui"} {
		_, stderr, status := kvmscope(t, cmd, "--symbols", missing, "sample:hello")
		if status != exitBadInput || !strings.Contains(stderr, "--symbols "+missing+": no such file") {
			t.Errorf("%s: status %d, stderr %q", cmd, status, stderr)
		}
	}
}

// The Debian kernel beside Debian's placeholder System.map: the note says
// it is passed over, and the kernel's own kallsyms answer. (Its vmlinux,
// which the bzImage unpacks to: debug/symbols/kimage tests that, and
// unpacking xz again here costs half a minute under -race.)
func TestSymbolsDebianKernel(t *testing.T) {
	c := kvmbox.Cache{Dir: kvmbox.Dir()}
	kver, err := c.KernelVersion()
	if err != nil {
		t.Skipf("needs the Debian kernel that `bin/kvmbox setup` fetches: %v", err)
	}
	if _, err := os.Stat(c.Vmlinux(kver)); err != nil {
		t.Skipf("needs the Debian kernel that `bin/kvmbox setup` fetches: %v", err)
	}
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinux-"+kver)
	if err := os.Symlink(c.Vmlinux(kver), kernel); err != nil {
		t.Fatal(err)
	}
	placeholder := "ffffffffffffffff B The real System.map is in the linux-image-" + kver + "-dbg package\n"
	if err := os.WriteFile(filepath.Join(dir, "System.map-"+kver), []byte(placeholder), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, status := kvmscope(t, "symbols", "--kernel", kernel, "start_kernel", "_text")
	if status != 0 || stdout != "ffffffff81000000 T _text\n"+stdout[strings.Index(stdout, "\n")+1:] ||
		!strings.Contains(stdout, " T start_kernel\n") || strings.Count(stdout, "\n") != 2 {
		t.Errorf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	if !strings.Contains(stderr, "System.map-"+kver+" is Debian's placeholder") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one note on the placeholder", stderr)
	}
}
