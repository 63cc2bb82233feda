package main

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// TestLLDBModes: LLDB, the other debugger people point at a stub, attaches
// to the modes sample from its reset vector, reads registers, steps into
// real mode, stops at a hardware breakpoint in long mode, reads memory and
// continues to the guest's exit status.
func TestLLDBModes(t *testing.T) {
	if _, err := exec.LookPath("lldb"); err != nil {
		t.Fatalf("this test drives real LLDB, which is missing (apt-get install lldb): %v", err)
	}
	p := startStub(t, "--wait", "sample:modes")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"-b", "-o", "gdb-remote " + p.addr}
	for _, c := range []string{
		"register read rip cs", "thread step-inst", "register read rip",
		"breakpoint set -a 0xf00ed -H", "continue", "register read rip", "thread list",
		"memory read -c 16 0x7000", "continue",
	} {
		args = append(args, "-o", c)
	}
	out, _ := exec.CommandContext(ctx, "lldb", args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("lldb timed out:\n%s", out)
	}
	mustContain(t, string(out),
		"rip = 0x00000000fffffff0", "cs = 0x0000f000",
		"stop reason = instruction step into", "frame #0: 0x00000000000f0000",
		"stop reason = breakpoint 1.1", "rip = 0x00000000000f00ed", // long_mode_work
		"0x00007000: 10 00 00 00 10 00 00 00", // the real and protected mode counters
		"exited with status = 0",
	)
	if s := p.status(t); s != 0 {
		t.Fatalf("kvmscope exited %d; stderr:\n%s", s, p.stderrText())
	}
}
