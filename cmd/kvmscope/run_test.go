package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
)

func TestRunHelloWithStats(t *testing.T) {
	kvmtest.Available(t)
	stdout, stderr, status := kvmscope(t, "run", "--stats", "--ktrace", "sample:hello")
	if status != 0 || stdout != "Hello from kvmscope guest!\n" {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	for _, want := range []string{"exit reason", "IO 0x3f8 serial", "IO 0xf4 debug-exit", "p99 round trip", "total"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("exit table lacks %q:\n%s", want, stderr)
		}
	}
	// The per-hardware-reason table, from tracefs: inside kvmbox (root,
	// tracefs mounted) it must be there; elsewhere it may be one line
	// saying why not.
	switch {
	case strings.Contains(stderr, "hardware exit reason"):
		for _, want := range []string{"to user space", "source: tracefs"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("hardware-reason table lacks %q:\n%s", want, stderr)
			}
		}
	case inKVMBox():
		t.Errorf("no hardware-reason table inside kvmbox:\n%s", stderr)
	case !strings.Contains(stderr, "no table of exits per hardware reason: tracefs unavailable: "):
		t.Errorf("neither a hardware-reason table nor why not:\n%s", stderr)
	}
	_, stderr, _ = kvmscope(t, "run", "--stats", "sample:hello")
	if !strings.Contains(stderr, "exits per hardware reason: add --ktrace") || strings.Contains(stderr, "hardware exit reason") {
		t.Errorf("--stats without --ktrace:\n%s", stderr)
	}
}

// inKVMBox says the test runs inside kvmbox, as root with tracefs.
func inKVMBox() bool { return os.Getenv("KVMSCOPE_IN_KVMBOX") == "1" }

// TestRunFirmware runs a 64 KiB real-mode image assembled here, apart from
// the samples: at the reset vector it jumps to code that computes 6*7 in
// a loop and writes the result to port 0xf4.
func TestRunFirmware(t *testing.T) {
	kvmtest.Available(t)
	img := make([]byte, 64<<10)
	for i := range img {
		img[i] = 0xf4 // hlt: anything unexpected stops
	}
	code := []byte{
		0x31, 0xc0, // xor %ax,%ax
		0xb9, 0x06, 0x00, // mov $6,%cx
		0x05, 0x07, 0x00, // again: add $7,%ax
		0xe2, 0xfb, // loop again
		0xe6, 0xf4, // out %al,$0xf4
		0xf4, // hlt
	}
	copy(img[0x100:], code)
	copy(img[0xfff0:], []byte{0xea, 0x00, 0x01, 0x00, 0xf0}) // ljmp $0xf000,$0x100
	path := filepath.Join(t.TempDir(), "fw.bin")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, status := kvmscope(t, "run", path); status != 42 {
		t.Fatalf("status %d, want 42; stderr %q", status, stderr)
	}
	if _, _, status := kvmscope(t, "run", "sample:fw-realmode"); status != 42 {
		t.Fatalf("sample:fw-realmode: status %d, want 42", status)
	}
}

func TestRunTripleFaultReport(t *testing.T) {
	kvmtest.Available(t)
	_, stderr, status := kvmscope(t, "run", "sample:triple-fault")
	if status != exitGuestFault {
		t.Fatalf("status %d, want %d; stderr %q", status, exitGuestFault, stderr)
	}
	for _, want := range []string{"triple fault", "rip ", "cs  0008", "cr0 ", "efer ", "64-bit long mode", "=> 0x"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "goroutine ") {
		t.Errorf("a Go panic:\n%s", stderr)
	}
}

func TestRunTimeout(t *testing.T) {
	kvmtest.Available(t)
	_, stderr, status := kvmscope(t, "run", "--timeout", "300ms", "sample:pio-loop")
	if status != exitTimeout || !strings.Contains(stderr, "timeout") {
		t.Fatalf("status %d, stderr %q; want %d and a timeout message", status, stderr, exitTimeout)
	}
}

func TestRunSMPAndWideExit(t *testing.T) {
	kvmtest.Available(t)
	stdout, _, status := kvmscope(t, "run", "--cpus", "2", "--mem", "128M", "sample:elf32-hello")
	if status != 32 || stdout != "Hello from 32-bit protected mode\n" {
		t.Fatalf("status %d stdout %q", status, stdout)
	}
}
