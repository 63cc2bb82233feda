package main

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// rawRSP speaks just enough of the remote protocol for the tests: packets
// with acknowledgments, no gdb.
type rawRSP struct {
	conn net.Conn
	r    *bufio.Reader
	// noAck: QStartNoAckMode is in force; replies are not acknowledged.
	noAck bool
}

func dialRawRSP(addr string) (*rawRSP, error) {
	var conn net.Conn
	var err error
	for range 100 { // QEMU takes a moment to listen
		if conn, err = net.Dial("tcp", addr); err == nil {
			return &rawRSP{conn: conn, r: bufio.NewReader(conn)}, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// appendPacket frames data as a remote-protocol packet.
func appendPacket(data string) string {
	var sum byte
	for i := range len(data) {
		sum += data[i]
	}
	return fmt.Sprintf("$%s#%02x", data, sum)
}

// send sends one packet.
func (c *rawRSP) send(data string) error {
	_, err := c.conn.Write([]byte(appendPacket(data)))
	return err
}

// recv returns the next packet, acknowledging it, skipping acks and noise.
func (c *rawRSP) recv() (string, error) {
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return "", err
		}
		if b != '$' {
			continue // the '+' for our packet, or noise
		}
		reply, err := c.r.ReadString('#')
		if err != nil {
			return "", err
		}
		if _, err := c.r.Discard(2); err != nil {
			return "", err
		}
		if !c.noAck {
			if _, err := c.conn.Write([]byte{'+'}); err != nil {
				return "", err
			}
		}
		return strings.TrimSuffix(reply, "#"), nil
	}
}

// recvWithin is recv with a deadline.
func (c *rawRSP) recvWithin(d time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	defer c.conn.SetReadDeadline(time.Time{})
	return c.recv()
}

// call sends a packet and returns the reply.
func (c *rawRSP) call(data string) (string, error) {
	if err := c.send(data); err != nil {
		return "", err
	}
	return c.recv()
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

// readAck reads one acknowledgment byte.
func readAck(t *testing.T, c *rawRSP) byte {
	t.Helper()
	b, err := c.r.ReadByte()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// abort drops a connection with a reset, as a killed process's socket
// does when data is unread.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
