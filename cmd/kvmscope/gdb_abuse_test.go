package main

import (
	"crypto/md5"
	"fmt"
	"net"
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

// rspDialed is a raw client on the stub; the test fails if it cannot connect.
func rspDialed(t *testing.T, addr string) *rawRSP {
	t.Helper()
	c, err := dialRawRSP(addr)
	if err != nil {
		t.Fatalf("connect to the stub: %v", err)
	}
	c.conn.SetDeadline(time.Now().Add(time.Minute))
	return c
}

// rspReattach connects right after a client vanished. The stub learns of
// the reset from its reader a moment later and may refuse a connection
// that arrives first, as "another gdb is attached": then try again.
func rspReattach(t *testing.T, addr string) *rawRSP {
	t.Helper()
	for try := 0; ; try++ {
		c := rspDialed(t, addr)
		r, err := c.call("?")
		if err == nil && strings.HasPrefix(r, "T") {
			return c
		}
		c.conn.Close()
		if try == 20 || err == nil && !strings.Contains(r, "another gdb is attached") {
			t.Fatalf("attach after a client vanished: %q, %v", r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mustCall sends a packet and checks the reply's start.
func (c *rawRSP) mustCall(t *testing.T, data, wantPrefix string) string {
	t.Helper()
	r, err := c.call(data)
	if err != nil {
		t.Fatalf("%.40q: %v", data, err)
	}
	if !strings.HasPrefix(r, wantPrefix) {
		t.Fatalf("%.40q: reply %.80q, want %q...", data, r, wantPrefix)
	}
	return r
}

// TestGDBAbuse: gdb clients that misbehave in every way issue 9 lists,
// against a running 2-vCPU Linux guest doing checksummed work, which must
// come out of it with every checksum right and its own exit status.
func TestGDBAbuse(t *testing.T) {
	g := linuxGuestFiles(t)
	sym := g.guestKallsyms(t, "start_kernel", "__x64_sys_wait4")
	p := startStub(t, g.args(2, checksumWork(20000, 60))...)
	// The guest boots on while the first client attaches: wait for init.
	c := rspDialed(t, p.addr)
	c.mustCall(t, "?", "T")
	c.mustCall(t, "D", "OK")
	c.conn.Close()

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
		if r := readReply(t, c); !strings.HasPrefix(r, "T") {
			t.Fatalf("? byte by byte: %q", r)
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
		c.conn.Write([]byte(appendPacket("vCont;s:1")))
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

	if s := p.status(t); s != 0 {
		t.Fatalf("the guest's checksummed work: status %d (the count of wrong sums, 99 for no round done); stderr:\n%s", s, p.stderrText())
	}
}

// readAck reads one acknowledgment byte.
func readAck(t *testing.T, c *rawRSP) byte {
	t.Helper()
	b, err := c.r.ReadByte()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readReply reads a reply to a packet sent by hand and acknowledges it.
func readReply(t *testing.T, c *rawRSP) string {
	t.Helper()
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		if b == '$' {
			break
		}
	}
	reply, err := c.r.ReadString('#')
	if err != nil {
		t.Fatal(err)
	}
	c.r.Discard(2)
	c.conn.Write([]byte{'+'})
	return strings.TrimSuffix(reply, "#")
}

// appendPacket frames data as a remote-protocol packet.
func appendPacket(data string) string {
	var sum byte
	for i := range len(data) {
		sum += data[i]
	}
	return fmt.Sprintf("$%s#%02x", data, sum)
}

// abort drops a connection with a reset, as a killed process's socket
// does when data is unread.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
