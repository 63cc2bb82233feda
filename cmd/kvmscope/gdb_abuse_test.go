package main

import (
	"crypto/md5"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checksumWork is a guest command for the Linux sample that keeps both
// vCPUs busy for secs seconds of its uptime: rounds of two `seq 1 N |
// md5sum` in parallel, each checked against want. It prints the rounds
// and exits with the number of wrong sums (0: the guest's work survived
// whatever the debugger did to it), or 99 if no round finished.
func checksumWork(n, secs int) (cmd string) {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	want := fmt.Sprintf("%x", md5.Sum([]byte(b.String())))
	return fmt.Sprintf("mkdir -p /tmp; want=%s; bad=0; rounds=0; end=$(($(cut -d. -f1 /proc/uptime)+%d)); "+
		"while [ $(cut -d. -f1 /proc/uptime) -lt $end ]; do "+
		"for c in 0 1; do (seq 1 %d | md5sum > /tmp/s$c) & done; wait; "+
		"for c in 0 1; do read h x < /tmp/s$c; [ $h = $want ] || bad=$((bad+1)); done; rounds=$((rounds+1)); done; "+
		"echo rounds $rounds bad $bad; [ $rounds -gt 0 ] || exit 99; exit $bad", want, secs, n)
}

// TestGDBAbuse: gdb clients that misbehave in every way issue 9 lists,
// against a running 2-vCPU Linux guest doing checksummed work, which must
// come out of it with every checksum right and its own exit status.
func TestGDBAbuse(t *testing.T) {
	g := linuxGuestFiles(t)
	sym := g.guestKallsyms(t, "start_kernel", "__x64_sys_wait4")
	p := startStub(t, append([]string{"--symbols", "none"}, g.args(2, checksumWork(20000, 60))...)...)
	// The abuse starts once init runs the work, whose clock is the
	// guest's uptime.
	p.waitConsole(t, "kvmscope-linux: init at", 5*time.Minute)

	t.Run("100 connect and detach cycles", func(t *testing.T) {
		for i := range 100 {
			c := rspDialed(t, p.addr)
			c.mustCall(t, "?", "T")
			threads := c.mustCall(t, "qfThreadInfo", "m")
			if threads != "m1,2" {
				t.Fatalf("cycle %d: threads %q, want m1,2", i, threads)
			}
			c.mustCall(t, "g", "")
			c.mustCall(t, "D", "OK")
			c.conn.Close()
		}
	})

	t.Run("second client refused", func(t *testing.T) {
		first := rspDialed(t, p.addr)
		first.mustCall(t, "?", "T")
		second := rspDialed(t, p.addr)
		second.mustCall(t, "qSupported", "E.kvmscope: another gdb is attached")
		second.conn.Close()
		first.mustCall(t, "qfThreadInfo", "m1,2")
		first.mustCall(t, "D", "OK")
		first.conn.Close()
	})

	t.Run("garbage, Ctrl-C flood, bad checksums, 1 MiB packet", func(t *testing.T) {
		c := rspDialed(t, p.addr)
		c.mustCall(t, "?", "T")
		c.conn.Write([]byte("hello \x00\xff garbage \x7f"))
		c.conn.Write([]byte(strings.Repeat("\x03", 1000)))
		// A bad checksum gets a '-': gdb would send the packet again.
		c.conn.Write([]byte("$g#00"))
		if b := readAck(t, c); b != '-' {
			t.Fatalf("bad checksum: got %q, want '-'", b)
		}
		big := "M1000,80000:" + strings.Repeat("90", 1<<19)
		c.mustCall(t, big, "E.")
		c.mustCall(t, "m1000,zz", "E")
		c.mustCall(t, "vNoSuchPacket", "")
		c.mustCall(t, "qfThreadInfo", "m1,2")
		c.mustCall(t, "D", "OK")
		c.conn.Close()
	})

	t.Run("slow client", func(t *testing.T) {
		c := rspDialed(t, p.addr)
		for _, b := range []byte("$?#3f") {
			c.conn.Write([]byte{b})
			time.Sleep(50 * time.Millisecond)
		}
		if r, err := c.recv(); err != nil || !strings.HasPrefix(r, "T") {
			t.Fatalf("? byte by byte: %q, %v", r, err)
		}
		c.mustCall(t, "D", "OK")
		c.conn.Close()
	})

	t.Run("vanish mid-packet and during a step", func(t *testing.T) {
		c := rspDialed(t, p.addr)
		c.mustCall(t, "?", "T")
		c.conn.Write([]byte("$qSupported:multipro"))
		abort(c.conn)
		c = rspReattach(t, p.addr)
		// A breakpoint the guest hits every round: the stub must take it
		// out when this client vanishes, or the guest stops for good.
		c.mustCall(t, fmt.Sprintf("Z1,%x,1", sym["__x64_sys_wait4"]), "OK")
		c.send("vCont;s:1")
		abort(c.conn)
		c = rspReattach(t, p.addr)
		c.mustCall(t, "D", "OK")
		c.conn.Close()
	})

	t.Run("real gdb killed while it waits on continue", func(t *testing.T) {
		gdb := exec.Command("gdb", "-nx", "-batch", "-ex", "target remote "+p.addr,
			"-ex", fmt.Sprintf("hbreak *%#x", sym["start_kernel"]),
			"-ex", fmt.Sprintf("hbreak *%#x", sym["__x64_sys_wait4"]), "-ex", "delete 2", "-ex", "continue")
		attached := strings.Count(p.stderrText(), "attached from")
		if err := gdb.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for strings.Count(p.stderrText(), "attached from") == attached && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(3 * time.Second) // gdb has set its breakpoints and continued
		gdb.Process.Signal(syscall.SIGKILL)
		gdb.Wait()
		out := p.gdb(t, "info threads", "detach")
		mustContain(t, out, "vCPU 0, 64-bit long mode", "vCPU 1, 64-bit long mode", "detached")
	})

	if s := p.statusWithin(t, 4*time.Minute); s != 0 {
		t.Fatalf("the guest's checksummed work: status %d (the count of wrong sums, 99 for no round done); stderr:\n%s", s, p.stderrText())
	}
}
