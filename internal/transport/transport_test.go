package transport

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a loopback server that records the headers and queries it
// was sent.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Clone(context.Background()))
		r.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.seen...)
}

func mustPeer(t *testing.T, o Options, url string) *Peer {
	t.Helper()
	p, err := NewPeerWith(o, url)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, p *Peer, path string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.HTTP.Do(req)
}

func TestCredentialsStayWithTheirOrigin(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	home := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "/away", http.StatusFound)
			return
		}
		http.Redirect(w, r, other.URL+"/landed?x=1", http.StatusTemporaryRedirect)
	})
	tr, err := New(Options{Headers: []Header{{"Authorization", "Bearer s3cret"}, {"X-Vault-Pass", "v4ult"}}})
	if err != nil {
		t.Fatal(err)
	}
	u := strings.Replace(home.URL, "http://", "http://alice:pw0rd@", 1) + "/?access_token=t0ken"
	p, err := tr.Peer(u)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Display, "pw0rd") || strings.Contains(p.Display, "t0ken") {
		t.Fatalf("Display shows a secret: %s", p.Display)
	}
	resp, err := get(t, p, "/hop")
	if err != nil {
		t.Fatalf("GET /hop: %v", err)
	}
	resp.Body.Close()
	hs := home.requests()
	if len(hs) != 2 {
		t.Fatalf("home saw %d requests, want 2 (/hop and /away)", len(hs))
	}
	for _, r := range hs {
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-Vault-Pass") != "v4ult" || r.URL.Query().Get("access_token") != "t0ken" {
			t.Errorf("home request %s lacks its credentials: %v %v", r.URL, r.Header, r.URL.Query())
		}
	}
	os := other.requests()
	if len(os) != 1 {
		t.Fatalf("other host saw %d requests, want 1", len(os))
	}
	r := os[0]
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Vault-Pass") != "" || r.URL.Query().Get("access_token") != "" || r.URL.Query().Get("x") != "1" {
		t.Fatalf("credentials crossed to another origin: headers %v query %v", r.Header, r.URL.Query())
	}
}

func TestUserinfoBecomesBasicAuthForOriginOnly(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
	p := mustPeer(t, Options{}, strings.Replace(srv.URL, "http://", "http://bob:hunter2@", 1))
	if strings.Contains(p.Base, "hunter2") {
		t.Fatalf("Base keeps the password: %s", p.Base)
	}
	resp, err := get(t, p, "/x")
	if err != nil {
		t.Fatalf("GET /x: %v", err)
	}
	resp.Body.Close()
	u, pw, ok := srv.requests()[0].BasicAuth()
	if !ok || u != "bob" || pw != "hunter2" {
		t.Fatalf("basic auth = %q %q %v, want bob hunter2", u, pw, ok)
	}
}

func TestRedirectLoopAndHops(t *testing.T) {
	t.Parallel()
	var srv *recorder
	srv = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", http.StatusFound)
		case "/b":
			http.Redirect(w, r, "/a", http.StatusFound)
		default:
			var n int
			if _, err := fmt.Sscanf(r.URL.Path, "/n%d", &n); err != nil {
				t.Errorf("redirecting server: path %s: %v", r.URL.Path, err)
			}
			http.Redirect(w, r, fmt.Sprintf("/n%d", n+1), http.StatusFound)
		}
	})
	p := mustPeer(t, Options{}, srv.URL)
	_, err := get(t, p, "/a")
	var re *RedirectError
	if !errors.As(err, &re) || !re.Loop || Classify(err) != ClassOther {
		t.Fatalf("loop: err = %v (class %d), want a RedirectError loop of class other", err, Classify(err))
	}
	_, err = get(t, p, "/n0")
	if !errors.As(err, &re) || re.Loop || re.Hops != MaxRedirects {
		t.Fatalf("hops: err = %v, want a RedirectError (no loop) after %d redirects", err, MaxRedirects)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("x"), 1<<20)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := 0; i < 64; i++ { // 64 MiB of zeros in ~64 KiB
		if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.WriteHeader(200)
			for i := 0; i < 8; i++ {
				w.Write(big)
				w.(http.Flusher).Flush()
			}
		case "/length":
			w.Header().Set("Content-Length", fmt.Sprint(8<<20))
			w.WriteHeader(200)
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
		case "/exact":
			w.Write(big)
		}
	})
	p := mustPeer(t, Options{}, srv.URL)
	ctx := WithBodyLimit(context.Background(), 1<<20)
	for _, path := range []string{"/chunked", "/length", "/gzip"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := p.HTTP.Do(req)
		if err == nil {
			_, err = ReadBody(resp)
		}
		var bt *BodyTooLargeError
		if !errors.As(err, &bt) || bt.Limit != 1<<20 {
			t.Errorf("%s: err = %v, want BodyTooLargeError at 1 MiB", path, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Base+"/exact", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		t.Fatalf("GET /exact: %v", err)
	}
	if b, err := ReadBody(resp); err != nil || len(b) != 1<<20 {
		t.Fatalf("a body of exactly the limit: %d bytes, %v; want %d bytes, nil", len(b), err, 1<<20)
	}
}

func TestVerboseRedactsEveryHeaderGiven(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "sid=c00kie")
		io.WriteString(w, "{\"ok\":true,\"t\":\"\x1b]0;pwned\x07\"}")
	})
	var log bytes.Buffer
	p := mustPeer(t, Options{Verbose: &log, Headers: []Header{{"X-Access-Key", "k3y"}, {"X-Vault-Pass", "v4ult"}, {"X-Plain", "pl41n"}, {"Authorization", "Bearer t0k"}}},
		strings.Replace(srv.URL, "http://", "http://u:pw0rd@", 1)+"?token=q7")
	resp, err := get(t, p, "/v")
	if err != nil {
		t.Fatalf("GET /v: %v", err)
	}
	if _, err := ReadBody(resp); err != nil {
		t.Fatalf("ReadBody: %v", err)
	}
	out := log.String()
	for _, secret := range []string{"k3y", "v4ult", "pl41n", "t0k", "pw0rd", "q7", "c00kie", "\x1b", "\x07"} {
		if strings.Contains(out, secret) {
			t.Errorf("verbose log shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"> GET ", "Bearer [REDACTED]", "< HTTP/1.1 200 OK", `< {"ok":true,"t":"\e]0;pwned\x07"}`, `\e]0;pwned\x07`} {
		if !strings.Contains(out, want) {
			t.Errorf("verbose log lacks %q:\n%s", want, out)
		}
	}
}

func TestParseHeaderAndURL(t *testing.T) {
	t.Parallel()
	if h, err := ParseHeader("authorization:  Bearer x "); err != nil || h.Name != "Authorization" || h.Value != "Bearer x" {
		t.Fatalf("ParseHeader = %+v, %v; want Authorization: Bearer x, nil", h, err)
	}
	for _, bad := range []string{"NoColon", "Bad Name: v", ": v"} {
		if _, err := ParseHeader(bad); err == nil {
			t.Errorf("ParseHeader(%q) error = nil, want an error", bad)
		}
	}
	if _, err := ParseHeader("X-Key:secretvalue\r\nInjected: 1"); err == nil || strings.Contains(err.Error(), "secretvalue") {
		t.Fatalf("ParseHeader with CRLF: error %v, want an error that does not show the value", err)
	}
	for _, bad := range []string{"", "ftp://h", "http://"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) error = nil, want an error", bad)
		}
	}
	if _, err := ParseURL("http://u:s3cr3t@h:1:2"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("ParseURL(a bad URL with a password): error %v, want an error that does not show the password", err)
	}
	if _, err := New(Options{CertFile: "c.pem"}); err == nil || !strings.Contains(err.Error(), "--cert and --key go together") {
		t.Fatalf("New(cert without key) error = %v, want one saying --cert and --key go together", err)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	plain := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
	tr, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	peer := func(url string) *Peer {
		t.Helper()
		p, err := tr.Peer(url)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := peer(strings.Replace(plain.URL, "http://", "https://", 1))
	_, err = get(t, p, "/")
	if Classify(err) != ClassConfig {
		t.Fatalf("https:// against plain HTTP: %v classified %d, want config", err, Classify(err))
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.URL
	closed.Close()
	p = peer(addr)
	_, err = get(t, p, "/")
	if Classify(err) != ClassUnreachable {
		t.Fatalf("refused: %v classified %d, want unreachable", err, Classify(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, plain.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	p = peer(plain.URL)
	_, err = p.HTTP.Do(req)
	if Classify(err) != ClassCanceled {
		t.Fatalf("canceled: %v classified %d, want canceled (%d)", err, Classify(err), ClassCanceled)
	}
}
