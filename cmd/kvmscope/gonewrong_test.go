package main

import (
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
)

// TestGuestsGoneWrong: each sample that goes wrong ends kvmscope with the
// status and the report it promises: never a Go panic, never a hang.
func TestGuestsGoneWrong(t *testing.T) {
	kvmtest.Available(t)
	cases := []struct {
		sample string
		args   []string
		status int
		wants  []string
	}{
		{"triple-fault", nil, exitGuestFault, []string{"triple fault", "rip ", "64-bit long mode", "=> 0x"}},
		{"runaway", nil, exitGuestFault, []string{"KVM internal error (instruction emulation failed)", "rip ", "64-bit long mode"}},
		{"spin-cli", []string{"--timeout", "2s"}, exitTimeout, []string{"timeout: the guest was still running after 2s"}},
		{"rom-write", nil, exitGuestFault, []string{"write of 1 bytes to read-only memory (ROM) at 0xffff004", "real mode", "=> 0x"}},
		{"rom-write", []string{"--rom-writes", "drop"}, 0, []string{"the guest wrote to read-only memory (ROM) 1 time(s), first at 0xffff004", "by the instruction at 0xffff00", "dropped"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(append([]string{c.sample}, c.args...), " "), func(t *testing.T) {
			_, stderr, status := kvmscope(t, append(append([]string{"run"}, c.args...), "sample:"+c.sample)...)
			if status != c.status {
				t.Errorf("status %d, want %d; stderr:\n%s", status, c.status, stderr)
			}
			for _, w := range c.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("a Go panic:\n%s", stderr)
			}
		})
	}
}

// TestGDBGuestsGoneWrong: under gdb, a guest that faults ends the session
// with SIGSEGV, and one that spins with interrupts off stops on Ctrl-C at
// its loop.
func TestGDBGuestsGoneWrong(t *testing.T) {
	for _, sample := range []string{"triple-fault", "runaway", "rom-write"} {
		t.Run(sample, func(t *testing.T) {
			p := startStub(t, "--wait", "sample:"+sample)
			out := p.gdb(t, "continue")
			mustContain(t, out, "Program terminated with signal SIGSEGV")
			if s := p.status(t); s != exitGuestFault {
				t.Errorf("kvmscope exited %d, want %d; stderr:\n%s", s, exitGuestFault, p.stderrText())
			}
		})
	}
	t.Run("spin-cli", func(t *testing.T) {
		p := startStub(t, "--wait", "sample:spin-cli")
		out := p.gdbInterrupted(t, 2*time.Second, "continue", "x/i $pc", "p $eflags", "kill")
		// The loop is `spin: pause; jmp spin` at 0x100014.
		mustContain(t, out, "SIGINT", "$1 = [")
		if !strings.Contains(out, "=> 0x100014:\tpause") && !strings.Contains(out, "=> 0x100016:\tjmp    0x100014") {
			t.Errorf("not stopped in the spin loop:\n%s", out)
		}
		if strings.Contains(out, " IF ") {
			t.Errorf("interrupts on while spinning:\n%s", out)
		}
		p.status(t)
	})
}
