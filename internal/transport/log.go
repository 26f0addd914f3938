package transport

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"lmc/internal/safetext"
)

// logBodyLimit is how much of a body --verbose shows.
const logBodyLimit = 512

// logger writes the --verbose request log. Every -H header is secret: its
// value is never printed, whatever its name.
type logger struct {
	mu     sync.Mutex
	w      io.Writer
	secret map[string]bool
}

func (l *logger) write(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, s)
}

func (l *logger) header(name, value string) string {
	if l.secret[strings.ToLower(name)] || strings.EqualFold(name, "authorization") || strings.EqualFold(name, "proxy-authorization") {
		return redactValue(name, value)
	}
	return RedactHeader(name, value)
}

func (l *logger) headers(b *strings.Builder, dir string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s %s: %s\n", dir, k, safetext.Escape(l.header(k, v)))
		}
	}
}

func (l *logger) body(dir string, b []byte, total int64) {
	if len(b) == 0 {
		return
	}
	s := string(b)
	if len(s) > logBodyLimit {
		s = s[:logBodyLimit]
	}
	if total > int64(len(s)) {
		s = fmt.Sprintf("%s… (%d bytes)", s, total)
	}
	l.write(dir + " " + safetext.Escape(strings.TrimRight(s, "\n")) + "\n")
}

// logTransport logs each request with its headers (redacted) and the
// first bytes of its body, and each answer with status, time, headers and
// the first bytes of its body.
type logTransport struct {
	next http.RoundTripper
	log  *logger
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, safetext.Escape(RedactURL(req.URL)))
	t.log.headers(&b, ">", req.Header)
	t.log.write(b.String())
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(rc, logBodyLimit+1))
			_ = rc.Close()
			t.log.body(">", data, req.ContentLength)
		}
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	elapsed := time.Since(start).Round(time.Microsecond)
	if err != nil {
		t.log.write(fmt.Sprintf("< error after %s: %s\n", elapsed, safetext.Escape(err.Error())))
		return resp, err
	}
	b.Reset()
	fmt.Fprintf(&b, "< %s %s (%s)\n", resp.Proto, safetext.Escape(resp.Status), elapsed)
	t.log.headers(&b, "<", resp.Header)
	t.log.write(b.String())
	if resp.Body != nil {
		resp.Body = &loggedBody{rc: resp.Body, log: t.log}
	}
	return resp, nil
}

// loggedBody shows the first bytes of an answer once it is read or closed.
type loggedBody struct {
	rc    io.ReadCloser
	log   *logger
	head  []byte
	total int64
	done  bool
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if room := logBodyLimit - len(b.head); room > 0 && n > 0 {
		b.head = append(b.head, p[:min(n, room)]...)
	}
	b.total += int64(n)
	if err == io.EOF {
		b.flush()
	}
	return n, err
}

func (b *loggedBody) flush() {
	if !b.done {
		b.done = true
		b.log.body("<", b.head, b.total)
	}
}

func (b *loggedBody) Close() error {
	b.flush()
	return b.rc.Close()
}
