package gdbstub

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ListenAddr turns a user's -gdb spec into an address to listen on.
// spec is "[HOST]:PORT" or a bare "PORT" (a leading "tcp:", as QEMU's
// -gdb tcp::1234 writes it, is accepted). Without a host the stub listens
// on 127.0.0.1 only. warning is non-empty when the host is not loopback:
// whoever can connect controls the guest.
func ListenAddr(spec string) (addr, warning string, err error) {
	s := strings.TrimPrefix(strings.TrimSpace(spec), "tcp:")
	if s == "" {
		return "", "", fmt.Errorf("gdb address %q: want [HOST]:PORT or PORT", spec)
	}
	host, port := "", s
	if strings.Contains(s, ":") {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return "", "", fmt.Errorf("gdb address %q: want [HOST]:PORT or PORT: %w", spec, err)
		}
		host, port = h, p
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", "", fmt.Errorf("gdb address %q: port %q is not a number from 0 to 65535", spec, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	addr = net.JoinHostPort(host, strconv.FormatUint(n, 10))
	if !isLoopback(host) {
		warning = fmt.Sprintf("the gdb stub listens on %s, not on loopback only: anyone who can reach it controls the guest", addr)
	}
	return addr, warning, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// GDBCommand is the command line to paste to attach gdb to a stub
// listening on addr (as returned by ListenAddr, or a listener's Addr
// string), e.g. gdb -ex 'target remote 127.0.0.1:1234'. A wildcard host
// (0.0.0.0, ::) is replaced by loopback.
func GDBCommand(addr string) string {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
			if ip.To4() == nil {
				host = "::1"
			}
		}
		addr = net.JoinHostPort(host, port)
	}
	return fmt.Sprintf("gdb -ex 'target remote %s'", addr)
}
