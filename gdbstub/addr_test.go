package gdbstub

import (
	"strings"
	"testing"
)

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct {
		spec, addr string
		warn       bool
	}{
		{"1234", "127.0.0.1:1234", false},
		{":1234", "127.0.0.1:1234", false},
		{"tcp::1234", "127.0.0.1:1234", false},
		{"localhost:1234", "localhost:1234", false},
		{"127.0.0.2:1", "127.0.0.2:1", false},
		{"[::1]:1234", "[::1]:1234", false},
		{"0.0.0.0:1234", "0.0.0.0:1234", true},
		{"[::]:1234", "[::]:1234", true},
		{"192.168.1.5:1234", "192.168.1.5:1234", true},
		{"myhost:0", "myhost:0", true},
	} {
		addr, warn, err := ListenAddr(tc.spec)
		if err != nil || addr != tc.addr || (warn != "") != tc.warn {
			t.Errorf("ListenAddr(%q) = %q, %q, %v; want %q, warning %v", tc.spec, addr, warn, err, tc.addr, tc.warn)
		}
		if tc.warn && !strings.Contains(warn, tc.addr) {
			t.Errorf("warning %q does not name %s", warn, tc.addr)
		}
	}
	for _, bad := range []string{"", "x", "1234:", ":65536", ":-1", "1:2:3", "[::1"} {
		if addr, _, err := ListenAddr(bad); err == nil {
			t.Errorf("ListenAddr(%q) = %q, no error", bad, addr)
		}
	}
}

func TestGDBCommand(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:1234": "gdb -ex 'target remote 127.0.0.1:1234'",
		"0.0.0.0:1234":   "gdb -ex 'target remote 127.0.0.1:1234'",
		"[::]:1234":      "gdb -ex 'target remote [::1]:1234'",
		"[::1]:99":       "gdb -ex 'target remote [::1]:99'",
	} {
		if got := GDBCommand(addr); got != want {
			t.Errorf("GDBCommand(%q) = %q, want %q", addr, got, want)
		}
	}
}
