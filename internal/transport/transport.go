// Package transport is the one place lmc builds HTTP clients. Every HTTP
// peer — the LMCache controller, the Mooncake admin API, an engine's
// /tokenize endpoint, version probes and whatever is added later — is
// reached through a *Peer made here, so TLS (--cacert, --insecure,
// --cert/--key), extra headers (-H), credentials in the URL, the redirect
// policy, the response-size policy, --verbose logging with redaction and the
// classification of failures are each decided once.
//
// The rules:
//
//   - Headers given with -H, and credentials in a peer's URL (userinfo,
//     credential-like query parameters), are sent only to that peer's
//     origin (scheme, host and port). A redirect to another origin is
//     followed without them; a redirect loop or more than MaxRedirects hops
//     is an error (*RedirectError).
//   - Every response body is bounded: DefaultBodyLimit unless the request's
//     context says otherwise (WithBodyLimit). Reading past the bound fails
//     with *BodyTooLargeError; the limit applies to the decoded bytes, so a
//     gzip bomb is bounded too.
//   - --verbose logs each request and answer with every -H value, URL
//     password and credential-like header or query parameter redacted.
//   - Classify tells "could not reach it in time" (Unreachable) from a
//     configuration mistake (TLS against plain HTTP, a refused certificate)
//     and from a peer that answered wrongly.
//   - A client that retries waits Backoff (jittered exponential, capped)
//     through Pause; which answers to retry stays each client's.
//
// It is not a client of any particular API: the controller, admin and
// tokenize clients live in their own packages and take a *http.Client from
// here.
package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// MaxRedirects bounds the redirect hops of one request.
const MaxRedirects = 10

// maxPEMBytes bounds a --cacert/--cert/--key file.
const maxPEMBytes = 4 << 20

// Header is one -H value.
type Header struct{ Name, Value string }

// ParseHeader splits "Name: value". The error never shows the value.
func ParseHeader(s string) (Header, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
		return Header{}, fmt.Errorf("header %q: expected 'Name: value'", redactHeaderArg(s))
	}
	return Header{Name: http.CanonicalHeaderKey(name), Value: strings.TrimSpace(value)}, nil
}

func redactHeaderArg(h string) string {
	name, _, ok := strings.Cut(h, ":")
	if !ok {
		if len(h) > 12 {
			return h[:12] + "…"
		}
		return h
	}
	return name + ": <redacted>"
}

// Options are the global HTTP settings.
type Options struct {
	Headers  []Header
	CAFile   string
	CertFile string
	KeyFile  string
	Insecure bool
	// Timeout bounds each request, body included (0: none; the context
	// still applies).
	Timeout time.Duration
	// Verbose, when set, receives the request log.
	Verbose   io.Writer
	UserAgent string
}

// Validate checks what can be checked without touching files.
func (o Options) Validate() error {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return errors.New("--cert and --key go together: give both (the client certificate and its private key)")
	}
	if o.Timeout < 0 {
		return errors.New("timeout must not be negative")
	}
	return nil
}

// UsesTLSOptions reports whether any TLS option is set.
func (o Options) UsesTLSOptions() bool {
	return o.CAFile != "" || o.Insecure || o.CertFile != "" || o.KeyFile != ""
}

// Transport holds the one connection pool and TLS configuration shared by
// every peer. It is built lazily: nothing is read or allocated until the
// first Peer.
type Transport struct {
	opts Options

	once sync.Once
	base *http.Transport
	err  error
	log  *logger
}

// New validates o and returns a Transport.
func New(o Options) (*Transport, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	t := &Transport{opts: o}
	if o.Verbose != nil {
		t.log = &logger{w: o.Verbose, secret: headerNames(o.Headers)}
	}
	return t, nil
}

// Options returns the settings the Transport was built with.
func (t *Transport) Options() Options { return t.opts }

func (t *Transport) build() (*http.Transport, error) {
	t.once.Do(func() {
		tc, err := buildTLS(t.opts)
		if err != nil {
			t.err = err
			return
		}
		dialTimeout := 30 * time.Second
		if t.opts.Timeout > 0 && t.opts.Timeout < dialTimeout {
			dialTimeout = t.opts.Timeout
		}
		t.base = &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:        tc,
			TLSHandshakeTimeout:    dialTimeout,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           64,
			MaxIdleConnsPerHost:    16,
			IdleConnTimeout:        90 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 1 << 20,
		}
	})
	return t.base, t.err
}

func buildTLS(o Options) (*tls.Config, error) {
	if !o.UsesTLSOptions() {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: o.Insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // --insecure is the operator's explicit choice
	if o.CAFile != "" {
		pem, err := readPEM(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s: no PEM certificate found (want a file of -----BEGIN CERTIFICATE----- blocks)", o.CAFile)
		}
		c.RootCAs = pool
	}
	if o.CertFile != "" {
		certPEM, err := readPEM(o.CertFile)
		if err != nil {
			return nil, fmt.Errorf("--cert: %v", err)
		}
		keyPEM, err := readPEM(o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("--key: %v", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("--cert %s / --key %s: %v", o.CertFile, o.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// readPEM reads a small file with a bound (a link to /dev/zero must not
// take the process down).
func readPEM(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPEMBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB: not a PEM file", path, maxPEMBytes>>20)
	}
	return b, nil
}

// Peer is one HTTP server lmc talks to.
type Peer struct {
	// Base is the peer's URL without credentials, query or trailing slash,
	// for building request URLs.
	Base string
	// Display is the URL as it may be printed (credentials redacted).
	Display string
	// HTTP sends requests; requests to Base's origin carry the -H headers
	// and the URL's credentials, others do not.
	HTTP *http.Client

	origin string
}

// Origin is scheme://host:port of the peer.
func (p *Peer) Origin() string { return p.origin }

// Peer returns the client for the server at rawURL ("host:port" means
// http). The URL may carry credentials (user:password@, ?access_token=):
// they go only to this origin.
func (t *Transport) Peer(rawURL string) (*Peer, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	base, err := t.build()
	if err != nil {
		return nil, err
	}
	cred := credentials{user: u.User, query: u.Query()}
	origin := Origin(u)
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), ""
	u.Fragment, u.RawFragment = "", ""
	clean := *u
	clean.User, clean.RawQuery, clean.ForceQuery = nil, "", false
	p := &Peer{Base: clean.String(), Display: RedactURL(u), origin: origin}
	var rt http.RoundTripper = base
	rt = &limitTransport{next: rt}
	if t.log != nil {
		rt = &logTransport{next: rt, log: t.log}
	}
	rt = &peerTransport{next: rt, origin: origin, headers: t.opts.Headers, cred: cred, userAgent: t.opts.UserAgent}
	p.HTTP = &http.Client{Transport: rt, Timeout: t.opts.Timeout, CheckRedirect: checkRedirect(origin, t.opts.Headers)}
	return p, nil
}

// ParseURL parses a peer URL, adding http:// to a bare host:port, and
// checks scheme and host. Errors show the URL redacted.
func ParseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("empty URL")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL %s: %v", redactRaw(raw), unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %s: unsupported scheme %q (want http or https)", RedactURL(u), u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %s has no host", RedactURL(u))
	}
	return u, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Origin is scheme://host:port, with the scheme's default port made
// explicit, lower-cased.
func Origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(host, port)
}

type credentials struct {
	user  *url.Userinfo
	query url.Values
}

// peerTransport adds the -H headers, the URL's credentials and the
// User-Agent to requests for the peer's origin only.
type peerTransport struct {
	next      http.RoundTripper
	origin    string
	headers   []Header
	cred      credentials
	userAgent string
}

func (p *peerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	same := Origin(req.URL) == p.origin
	if !same && p.userAgent == "" {
		return p.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	if p.userAgent != "" {
		req.Header.Set("User-Agent", p.userAgent)
	}
	if same {
		for _, h := range p.headers {
			req.Header.Set(h.Name, h.Value)
		}
		if p.cred.user != nil && req.Header.Get("Authorization") == "" {
			pw, _ := p.cred.user.Password()
			req.SetBasicAuth(p.cred.user.Username(), pw)
		}
		if len(p.cred.query) > 0 {
			q := req.URL.Query()
			for k, vs := range p.cred.query {
				if _, set := q[k]; !set {
					q[k] = vs
				}
			}
			req.URL.RawQuery = q.Encode()
		}
	}
	return p.next.RoundTrip(req)
}

// RedirectError is a redirect lmc refused to follow.
type RedirectError struct {
	From, To string // redacted
	Loop     bool
	Hops     int
}

func (e *RedirectError) Error() string {
	if e.Loop {
		return fmt.Sprintf("redirect loop: %s redirects back to %s", e.From, e.To)
	}
	return fmt.Sprintf("more than %d redirects (last %s → %s)", MaxRedirects, e.From, e.To)
}

// checkRedirect follows at most MaxRedirects hops, refuses loops, and
// strips every credential from a hop that leaves the origin (net/http
// would keep custom headers, and Authorization to a subdomain).
func checkRedirect(origin string, headers []Header) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		last := via[len(via)-1]
		for _, v := range via {
			if sameURL(v.URL, req.URL) {
				return &RedirectError{From: RedactURL(last.URL), To: RedactURL(req.URL), Loop: true, Hops: len(via)}
			}
		}
		if len(via) >= MaxRedirects {
			return &RedirectError{From: RedactURL(last.URL), To: RedactURL(req.URL), Hops: len(via)}
		}
		if Origin(req.URL) != origin {
			for _, h := range headers {
				req.Header.Del(h.Name)
			}
			for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2"} {
				req.Header.Del(k)
			}
			req.URL.User = nil
		}
		return nil
	}
}

func sameURL(a, b *url.URL) bool {
	return Origin(a) == Origin(b) && a.EscapedPath() == b.EscapedPath() && a.RawQuery == b.RawQuery
}

func headerNames(hs []Header) map[string]bool {
	m := map[string]bool{}
	for _, h := range hs {
		m[strings.ToLower(h.Name)] = true
	}
	return m
}

// NewPeer is a Peer with default Options (no extra headers, system TLS
// roots, no timeout beyond the context's): for library users and tests.
func NewPeer(rawURL string) (*Peer, error) { return NewPeerWith(Options{}, rawURL) }

// NewPeerWith is the Peer of rawURL on a Transport of its own, built from
// o: for a program (or a test) with one peer.
func NewPeerWith(o Options, rawURL string) (*Peer, error) {
	t, err := New(o)
	if err != nil {
		return nil, err
	}
	return t.Peer(rawURL)
}

// Client is an HTTP client bound to no peer (no -H headers, no URL
// credentials), with the shared connection pool, TLS, body limits,
// redirect policy and log: for a server that relays to peers of its own
// (the sandbox's coordinator calling its MP servers).
func (t *Transport) Client() (*http.Client, error) {
	base, err := t.build()
	if err != nil {
		return nil, err
	}
	var rt http.RoundTripper = &limitTransport{next: base}
	if t.log != nil {
		rt = &logTransport{next: rt, log: t.log}
	}
	return &http.Client{Transport: rt, Timeout: t.opts.Timeout, CheckRedirect: checkRedirect("", nil)}, nil
}

// NewClient is Client with default options and a timeout per request.
func NewClient(timeout time.Duration) *http.Client {
	t := &Transport{opts: Options{Timeout: timeout}}
	c, err := t.Client()
	if err != nil { // only TLS files fail to load, and there are none
		return &http.Client{Timeout: timeout, CheckRedirect: checkRedirect("", nil)}
	}
	return c
}
