package gdbstub

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

const gdbPath = "/usr/bin/gdb"

// served is a stub running on a fake target.
type served struct {
	addr string
	end  chan served1
	stop context.CancelFunc
	logs *logBuf
}

type served1 struct {
	end End
	err error
}

// logBuf collects the stub's log lines, safe for concurrent use.
type logBuf struct {
	ch chan string
}

func (l *logBuf) logf(format string, args ...any) {
	select {
	case l.ch <- sprintf(format, args...):
	default:
	}
}

func startStub(t *testing.T, f *fakeTarget, opts Options) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{addr: ln.Addr().String(), end: make(chan served1, 1), stop: cancel, logs: &logBuf{ch: make(chan string, 1000)}}
	if opts.Logf == nil {
		opts.Logf = s.logs.logf
	}
	if os.Getenv("GDBSTUB_TRACE") != "" {
		opts.Trace = t.Logf
	}
	go func() {
		end, err := Serve(ctx, ln, f, opts)
		s.end <- served1{end, err}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.end:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return s
}

// gdbCmd builds a batch gdb that attaches to addr and runs cmds.
func gdbCmd(ctx context.Context, addr string, cmds ...string) *exec.Cmd {
	args := []string{"-nx", "-batch", "-ex", "set confirm off", "-ex", "set pagination off",
		"-ex", "set tcp connect-timeout 5", "-ex", "target remote " + addr}
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	cmd := exec.CommandContext(ctx, gdbPath, args...)
	cmd.Env = append(os.Environ(), "TERM=dumb", "HOME="+os.TempDir())
	return cmd
}

func needGDB(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(gdbPath); err != nil {
		t.Skipf("real-gdb test skipped: %s is missing (%v)", gdbPath, err)
	}
}

func runGDB(t *testing.T, addr string, cmds ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := gdbCmd(ctx, addr, cmds...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Logf("gdb: %v", err)
	}
	return out.String()
}

// program lays out the fake guest the real-gdb test drives: vCPU 0 runs
// from 0x1000; the instruction at 0x1010 stores 0x1234 to 0x2000; 0x1030
// spins; reaching 0x1040 exits with status 7. Data at 0x3000.
func program(f *fakeTarget) {
	f.mu.Lock()
	defer f.mu.Unlock()
	copy(f.mem[0x3000:], []byte{0xde, 0xad, 0xbe, 0xef})
	f.mem[0x2000], f.mem[0x2001] = 0, 0
	f.effects[0x1010] = func(f *fakeTarget) { f.mem[0x2000], f.mem[0x2001] = 0x34, 0x12 }
	f.mem[0x1030], f.mem[0x1031] = 0xeb, 0xfe
	f.exitAt[0x1040] = 7
}

// runGDBInterrupting runs gdb like runGDB and, when vCPU 0 spins at pc,
// sends gdb SIGINT, as a person pressing Ctrl-C does (gdb then sends the
// 0x03 interrupt byte).
func runGDBInterrupting(t *testing.T, f *fakeTarget, pc uint64, addr string, cmds ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := gdbCmd(ctx, addr, cmds...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	interrupted := false
	for {
		select {
		case sp := <-f.spinning:
			if sp.vcpu == 0 && sp.pc == pc && !interrupted {
				interrupted = true
				time.Sleep(50 * time.Millisecond) // let gdb settle into waiting
				cmd.Process.Signal(os.Interrupt)
			}
		case err := <-done:
			if err != nil {
				t.Logf("gdb: %v", err)
			}
			if !interrupted {
				t.Errorf("vCPU 0 never spun at %#x", pc)
			}
			return out.String()
		}
	}
}

// wantLines checks that out contains every string, in order.
func wantInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("gdb output lacks %q (in order); output:\n%s", w, out)
			return
		}
		rest = rest[i+len(w):]
	}
}

func TestGDBSession(t *testing.T) {
	needGDB(t)
	f := newFake(2)
	program(f)
	s := startStub(t, f, Options{})

	out := runGDBInterrupting(t, f, 0x1030, s.addr,
		"info registers rip",
		"x/4xb 0x3000",
		"set {char}0x3000 = 1",
		"x/1xb 0x3000",
		"stepi",
		"info registers rip",
		"watch *(short*)0x2000",
		"continue",
		"delete",
		"hbreak *0x1020",
		"continue",
		"delete",
		"info threads",
		"monitor help",
		"shell "+gdbPath+" -nx -batch -ex 'target remote "+s.addr+"' 2>&1 | sed 's/^/second: /'",
		"continue",
		"info registers rip",
		"detach",
	)
	t.Log(out)
	wantInOrder(t, out,
		"rip            0x1000",
		"0x3000:\t0xde\t0xad\t0xbe\t0xef",
		"0x3000:\t0x01",
		"0x0000000000001001 in ?? ()",
		"rip            0x1001",
		"Hardware watchpoint 1: *(short*)0x2000",
		"Old value = 0",
		"New value = 4660",
		"Hardware assisted breakpoint 2 at 0x1020",
		"Breakpoint 2, 0x0000000000001020 in ?? ()",
		"* 1    Thread 1 (vCPU 0, 64-bit long mode)",
		"2    Thread 2 (vCPU 1, 64-bit long mode)",
		"kvmscope monitor commands:",
		"second: ", "another gdb is attached",
		"received signal SIGINT",
		"rip            0x1030",
		"[Inferior 1 (Remote target) detached]",
	)
	if f.mem[0x3000] != 1 {
		t.Errorf("memory at 0x3000 = %#x after set {char}, want 1", f.mem[0x3000])
	}

	// The guest runs on after detach; a new gdb attaches (stopping it),
	// moves it to the exit and continues to the end.
	out = runGDB(t, s.addr, "info registers rip", "set $pc = 0x1040", "continue")
	t.Log(out)
	wantInOrder(t, out, "rip            0x1030", "[Inferior 1 (Remote target) exited with code 07]")
	select {
	case r := <-s.end:
		if r.err != nil || r.end.Reason != EndExited || r.end.Stop == nil || r.end.Stop.Status != 7 {
			t.Fatalf("Serve returned %+v, %v; want EndExited with status 7", r.end, r.err)
		}
		s.end <- r // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the machine exited")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.violations) > 0 {
		t.Errorf("target contract violated: %v", f.violations)
	}
}

// TestGDBModes walks vCPU 0 from real mode through protected mode to
// long mode under gdb: the register layout never changes (no "'g' packet
// reply is too long"), and in real mode $pc is linear (CS.base + IP).
func TestGDBModes(t *testing.T) {
	needGDB(t)
	f := newFake(1)
	f.setReal(0, 0x0100, 0x0000) // linear 0x1000
	f.mu.Lock()
	f.effects[0x1001] = func(f *fakeTarget) { // lgdt; mov cr0; ljmp 8:0x1002
		r := &f.regs[0]
		r.Sregs.CR0 |= kvm.CR0_PE
		r.Sregs.CS = kvm.Segment{Selector: 8, Limit: 0xffffffff, Type: 11, Present: 1, S: 1, DB: 1, G: 1}
		r.Regs.RIP = 0x1001 // becomes 0x1002
	}
	f.effects[0x1002] = func(f *fakeTarget) { // paging and long mode on, ljmp to a 64-bit CS
		r := &f.regs[0]
		r.Sregs.CR4 |= kvm.CR4_PAE
		r.Sregs.EFER |= kvm.EFER_LME | kvm.EFER_LMA
		r.Sregs.CR0 |= kvm.CR0_PG
		r.Sregs.CS = kvm.Segment{Selector: 0x18, Limit: 0xffffffff, Type: 11, Present: 1, S: 1, L: 1, G: 1}
	}
	f.mu.Unlock()
	s := startStub(t, f, Options{})
	out := runGDB(t, s.addr,
		"info registers rip cs cs_base",
		"info threads",
		"monitor regs",
		"stepi", "info registers rip cs",
		"stepi", "info registers rip cs",
		"info threads",
		"stepi", "info registers rip cs cs_attr efer",
		"info threads",
		"set $pc = 0x1234", "info registers rip",
		"detach")
	t.Log(out)
	if strings.Contains(out, "too long") {
		t.Error("gdb complained about the register packet")
	}
	wantInOrder(t, out,
		"rip            0x1000", "cs             0x100", "cs_base        0x1000",
		"Thread 1 (vCPU 0, real mode)",
		"mode: real mode", "cs:ip 0100:0000 (linear 0x1000)",
		"rip            0x1001", "cs             0x100",
		"rip            0x1002", "cs             0x8",
		"Thread 1 (vCPU 0, 32-bit protected mode)",
		"rip            0x1003", "cs             0x18", "cs_attr", "[ type=11 S DPL=0 P L G ]", "efer", "[ LME LMA ]",
		"Thread 1 (vCPU 0, 64-bit long mode)",
		"rip            0x1234",
	)
}

// TestGDBSchedulerLocking: gdb's stepi on thread 2 becomes vCont;s:2;c,
// or vCont;s:2 under `set scheduler-locking step`.
func TestGDBSchedulerLocking(t *testing.T) {
	needGDB(t)
	f := newFake(2)
	f.regs[1].Regs.RIP = 0x6000
	s := startStub(t, f, Options{})
	out := runGDB(t, s.addr,
		"thread 2",
		"set scheduler-locking step",
		"stepi",
		"info registers rip",
		"set scheduler-locking off",
		"stepi",
		"info registers rip",
		"detach")
	t.Log(out)
	wantInOrder(t, out, "rip            0x6001", "rip            0x6002")
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.resumes) < 3 {
		t.Fatalf("resumes %v", f.resumes)
	}
	if got := f.resumes[0]; !slices.Equal(got, plan(debug.ActionStay, debug.ActionStep)) {
		t.Errorf("stepi under scheduler-locking step: %v", got)
	}
	if got := f.resumes[1]; !slices.Equal(got, plan(debug.ActionContinue, debug.ActionStep)) {
		t.Errorf("stepi without scheduler locking: %v", got)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
