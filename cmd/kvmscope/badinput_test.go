package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/samples"
)

// TestBadInput: every bad input gets one clear line on stderr and status
// 2, before any KVM call, so this runs on any machine.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hello, err := samples.Image("hello")
	if err != nil {
		t.Fatal(err)
	}
	arm := append([]byte(nil), hello...)
	arm[18], arm[19] = 183, 0 // e_machine = EM_AARCH64
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = 0x90
	}

	for _, c := range []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"missing file", []string{"run", filepath.Join(dir, "nope.elf")}, "no such file"},
		{"empty file", []string{"run", write("empty.bin", nil)}, "empty file"},
		{"truncated ELF", []string{"run", write("trunc.elf", hello[:40])}, "truncated"},
		{"ELF for another machine", []string{"run", write("arm.elf", arm)}, "AARCH64"},
		{"image larger than memory", []string{"run", "--mem", "2M", write("big.bin", big)}, "larger than guest memory"},
		{"unknown sample", []string{"run", "sample:nonesuch"}, "nonesuch"},
		{"--mem 0", []string{"run", "--mem", "0", "sample:hello"}, "--mem"},
		{"--mem above host RAM", []string{"run", "--mem", "1T", "sample:hello"}, "more than this host"},
		{"--mem garbage", []string{"run", "--mem", "lots", "sample:hello"}, "--mem"},
		{"--cpus 0", []string{"run", "--cpus", "0", "sample:hello"}, "--cpus"},
		{"--ext unknown", []string{"run", "--ext", "-warp", "sample:hello"}, "unknown extension"},
		{"--ext none with SMP", []string{"run", "--ext", "none", "--cpus", "2", "sample:hello"}, "irqchip"},
		{"no image", []string{"run"}, "no image"},
		{"two images", []string{"run", "a", "b"}, "one image"},
		{"unknown flag", []string{"run", "--bogus", "sample:hello"}, "bogus"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
	} {
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
