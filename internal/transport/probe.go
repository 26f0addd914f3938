package transport

import (
	"context"
	"net"
	"strings"
	"time"
)

// ProbeHTTP reports whether hostport answers HTTP, and its status line: it
// sends a bare "GET / HTTP/1.0" on a fresh connection and reads the first
// line, within timeout. It is no HTTP client (no headers, no TLS, nothing
// of the operator's is sent): lmc uses it only to explain a failure ("this
// port speaks HTTP, not the master's RPC").
func ProbeHTTP(ctx context.Context, hostport string, timeout time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", hostport)
	if err != nil {
		return "", false
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	_ = c.SetDeadline(dl)
	if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		return "", false
	}
	buf := make([]byte, 128)
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if strings.Contains(string(buf[:n]), "\n") || err != nil {
			break
		}
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "HTTP/") {
		return "", false
	}
	return line, true
}
