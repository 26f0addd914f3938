package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"lmc/internal/controllerclient"
	"lmc/internal/mooncake"
	"lmc/internal/transport"
)

// Recognising the wrong port. The master's RPC, its admin API and the
// controller listen on neighbouring ports, and pointing a flag at the
// wrong one otherwise gives slow, cryptic errors. When a request fails in
// a way the other protocol explains, lmc asks that address in the other
// protocol (within wrongPortProbe) and says what it is.

// wrongPortProbe bounds each probe; probes run only on failures.
const wrongPortProbe = time.Second

// slowFirstReply is how long the first RPC may go unanswered before lmc
// checks whether the address speaks HTTP (an HTTP server waits for a line
// that a coro_rpc frame never sends).
const slowFirstReply = 500 * time.Millisecond

// errAnsweredHTTP is --master at an HTTP port.
func errAnsweredHTTP(addr, status string) error {
	return &UsageError{Err: fmt.Errorf("%s answered HTTP (%q): --master wants the Mooncake master's RPC port (default 50051); did you mean --admin http://%s?", addr, status, addr)}
}

// rpcAtHTTP checks, after a failed RPC, whether addr speaks HTTP.
func rpcAtHTTP(addr string, err error) error {
	var pe *mooncake.ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, mooncake.ErrBadMagic) {
		return nil
	}
	if line, ok := transport.ProbeHTTP(context.Background(), addr, wrongPortProbe); ok {
		return errAnsweredHTTP(addr, line)
	}
	return nil
}

// watchRPC returns a context for a master call that is cancelled, with the
// wrong-port error as its cause, when the call goes unanswered for
// slowFirstReply and addr turns out to speak HTTP. stop ends the watch.
func watchRPC(ctx context.Context, addr string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(slowFirstReply, func() {
		if line, ok := transport.ProbeHTTP(ctx, addr, wrongPortProbe); ok {
			cancel(errAnsweredHTTP(addr, line))
		}
	})
	return ctx, func() { t.Stop(); cancel(nil) }
}

// rpcCause returns the watch's wrong-port error when it ended the call.
func rpcCause(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ue *UsageError
	if c := context.Cause(ctx); c != nil && errors.As(c, &ue) {
		return c
	}
	return err
}

// httpPortHint explains a failed HTTP request to the peer named by flag
// at rawURL when the address speaks another protocol: the master's RPC
// (the connection closed or the answer is not HTTP), the admin API where
// the controller was meant, or the controller where the admin API was.
func (f *Factory) httpPortHint(flag, rawURL string, err error) error {
	u, perr := transport.ParseURL(rawURL)
	if perr != nil {
		return nil
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"https": "443"}[u.Scheme]+map[string]string{"http": "80"}[u.Scheme])
	}
	closed := errors.Is(err, io.EOF) || strings.Contains(err.Error(), "malformed HTTP") || strings.Contains(err.Error(), "connection reset")
	if closed && mooncake.ProbeRPC(context.Background(), host, wrongPortProbe) {
		return &UsageError{Err: fmt.Errorf("%s answered the Mooncake master's RPC (coro_rpc): %s wants %s; did you mean --master %s?", host, flag, httpPortName(flag), host)}
	}
	status := 0
	var he *mooncake.HTTPError
	var ae *controllerclient.APIError
	switch {
	case errors.As(err, &he):
		status = he.StatusCode
	case errors.As(err, &ae):
		status = ae.Status
	}
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		return nil
	}
	switch flag {
	case "--controller":
		if f.looksLike(rawURL, "/health", "ha_state", "service_ready") {
			return &UsageError{Err: fmt.Errorf("%s is a Mooncake master's admin API, not an LMCache controller: did you mean --admin %s?", u.Redacted(), u.Redacted())}
		}
	case "--admin":
		if f.looksLike(rawURL, "/openapi.json", "/lookup", "/controller/workers") {
			return &UsageError{Err: fmt.Errorf("%s is an LMCache controller, not a Mooncake admin API: did you mean --controller %s?", u.Redacted(), u.Redacted())}
		}
	}
	return nil
}

func httpPortName(flag string) string {
	switch flag {
	case "--admin":
		return "the master's HTTP admin port (--metrics_port, default 9003)"
	case "--controller":
		return "the LMCache controller's HTTP port (default 9000)"
	}
	return "an HTTP port"
}

// looksLike GETs path at rawURL (through the one transport, briefly) and
// reports whether a JSON object answer holds any of the marks.
func (f *Factory) looksLike(rawURL, path string, marks ...string) bool {
	p, err := f.peer("probe", rawURL)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), wrongPortProbe)
	defer cancel()
	req, err := http.NewRequestWithContext(transport.WithBodyLimit(ctx, 1<<20), http.MethodGet, p.Base+path, nil)
	if err != nil {
		return false
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return false
	}
	b, err := transport.ReadBody(resp)
	if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(b) {
		return false
	}
	for _, m := range marks {
		if strings.Contains(string(b), `"`+m+`"`) {
			return true
		}
	}
	return false
}
