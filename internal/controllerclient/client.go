package controllerclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
)

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "lmc-controllerclient/1"

// Default per-request timeouts (spec §5.4): registry reads answer at once;
// clear, pin and health wait for every worker; compress, decompress and
// move move data around.
const (
	DefaultReadTimeout   = 10 * time.Second
	DefaultWorkerTimeout = 60 * time.Second
	DefaultLongTimeout   = 5 * time.Minute
)

// Default retry policy for reads.
const (
	DefaultRetries      = 2
	DefaultRetryWait    = 200 * time.Millisecond
	DefaultRetryMaxWait = 2 * time.Second
)

func defaultTimeout(ep Endpoint) time.Duration {
	switch ep {
	case EndpointHealth, EndpointClear, EndpointPin:
		return DefaultWorkerTimeout
	case EndpointCompress, EndpointDecompress, EndpointMove:
		return DefaultLongTimeout
	}
	return DefaultReadTimeout
}

// Client talks to one LMCache cache controller. It is safe for concurrent
// use.
type Client struct {
	base    string
	rc      *resty.Client
	cfg     config
	verbose *verboseLog
}

// TLSConfig describes the client side of a TLS connection (the controller
// itself serves plain HTTP; TLS matters behind a terminating proxy).
type TLSConfig struct {
	// CAFile is a PEM bundle that replaces the system roots.
	CAFile string
	// CertFile and KeyFile are a client certificate and its key (PEM).
	CertFile string
	KeyFile  string
	// InsecureSkipVerify disables server certificate verification.
	InsecureSkipVerify bool
	// ServerName overrides the name checked in the server certificate.
	ServerName string
}

type config struct {
	timeout      *time.Duration
	epTimeouts   map[Endpoint]time.Duration
	retries      int
	retryWait    time.Duration
	retryMaxWait time.Duration
	headers      http.Header
	userAgent    string
	tls          *TLSConfig
	verbose      io.Writer
	transport    http.RoundTripper
}

// Option configures a Client.
type Option func(*config) error

// WithTimeout sets the per-request timeout of every endpoint (each retry
// attempt gets its own). 0 disables it, leaving only the context's
// deadline. Without this option the defaults are DefaultReadTimeout,
// DefaultWorkerTimeout and DefaultLongTimeout by endpoint.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("timeout must not be negative")
		}
		c.timeout = &d
		return nil
	}
}

// WithEndpointTimeout sets the per-request timeout of one endpoint; it
// wins over WithTimeout. 0 disables it.
func WithEndpointTimeout(ep Endpoint, d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("timeout must not be negative")
		}
		c.epTimeouts[ep] = d
		return nil
	}
}

// WithRetries sets how many times a read (see Endpoint.IsRead) is retried
// after a transport failure, a 502/503/504/429 or a registry lock timeout,
// with exponential backoff from wait up to maxWait (with jitter).
// Mutations (clear, pin, compress, decompress, move) are never retried.
// retries 0 disables retrying.
func WithRetries(retries int, wait, maxWait time.Duration) Option {
	return func(c *config) error {
		if retries < 0 || wait < 0 || maxWait < 0 {
			return errors.New("retry settings must not be negative")
		}
		c.retries, c.retryWait, c.retryMaxWait = retries, wait, maxWait
		if c.retryMaxWait < c.retryWait {
			c.retryMaxWait = c.retryWait
		}
		return nil
	}
}

// WithHeader adds a header to every request (e.g. Authorization for a
// proxy in front of the controller). It can be given several times.
func WithHeader(key, value string) Option {
	return func(c *config) error {
		if key == "" || strings.ContainsAny(key, " :\r\n") || strings.ContainsAny(value, "\r\n") {
			return fmt.Errorf("invalid header %q", key)
		}
		c.headers.Add(key, value)
		return nil
	}
}

// WithBearerToken sends "Authorization: Bearer <token>".
func WithBearerToken(token string) Option {
	return WithHeader("Authorization", "Bearer "+token)
}

// WithTLS configures TLS for https base URLs.
func WithTLS(t TLSConfig) Option {
	return func(c *config) error {
		if (t.CertFile == "") != (t.KeyFile == "") {
			return errors.New("a client certificate needs both a cert file and a key file")
		}
		c.tls = &t
		return nil
	}
}

// WithVerbose logs every request and answer to w, with credentials
// (Authorization, Cookie, API-key-like headers and query parameters)
// redacted.
func WithVerbose(w io.Writer) Option {
	return func(c *config) error {
		c.verbose = w
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		c.userAgent = ua
		return nil
	}
}

// WithTransport replaces the HTTP transport (TLS options then do not
// apply). Mostly for tests and custom proxies.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		c.transport = rt
		return nil
	}
}

// New returns a client for the controller at baseURL, e.g.
// "http://10.0.0.5:9000" ("host:port" means http).
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := normalizeBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	cfg := config{
		epTimeouts:   map[Endpoint]time.Duration{},
		retries:      DefaultRetries,
		retryWait:    DefaultRetryWait,
		retryMaxWait: DefaultRetryMaxWait,
		headers:      http.Header{},
		userAgent:    DefaultUserAgent,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("controllerclient: %w", err)
		}
	}
	rt := cfg.transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.tls != nil {
			tc, err := buildTLS(cfg.tls)
			if err != nil {
				return nil, fmt.Errorf("controllerclient: %w", err)
			}
			tr.TLSClientConfig = tc
		}
		rt = tr
	} else if cfg.tls != nil {
		return nil, errors.New("controllerclient: WithTLS cannot be combined with WithTransport")
	}
	c := &Client{base: base, cfg: cfg}
	if cfg.verbose != nil {
		c.verbose = &verboseLog{w: cfg.verbose}
		rt = &logTransport{next: rt, log: c.verbose}
	}
	rc := resty.NewWithClient(&http.Client{Transport: rt})
	rc.SetLogger(discardLogger{})
	rc.SetDisableWarn(true)
	rc.SetRetryCount(0) // retries are ours: per endpoint, per-attempt timeouts
	rc.SetResponseBodyLimit(64 << 20)
	rc.SetHeader("User-Agent", cfg.userAgent)
	rc.SetHeader("Accept", "application/json")
	for k, vs := range cfg.headers {
		rc.Header[k] = append([]string(nil), vs...)
	}
	c.rc = rc
	return c, nil
}

// BaseURL returns the normalised controller URL.
func (c *Client) BaseURL() string { return c.base }

func normalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("controllerclient: empty controller URL")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("controllerclient: bad controller URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("controllerclient: unsupported scheme %q (want http or https)", u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("controllerclient: controller URL %q has no host", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	return u.String(), nil
}

func buildTLS(t *TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicit operator choice
		ServerName:         t.ServerName,
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (c *Client) timeoutFor(ep Endpoint) time.Duration {
	if d, ok := c.cfg.epTimeouts[ep]; ok {
		return d
	}
	if c.cfg.timeout != nil {
		return *c.cfg.timeout
	}
	return defaultTimeout(ep)
}

// do sends one logical request, retrying reads. On success it returns the
// 2xx status and body; otherwise a *TransportError or *APIError.
func (c *Client) do(ctx context.Context, method string, ep Endpoint, query url.Values, body any) (int, []byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, nil, fmt.Errorf("controllerclient: encoding %s request: %w", ep, err)
		}
	}
	maxAttempts := 1
	if ep.IsRead() {
		maxAttempts += c.cfg.retries
	}
	for attempt := 1; ; attempt++ {
		status, respBody, attemptTimedOut, err := c.once(ctx, method, ep, query, payload)
		if err == nil && status >= 200 && status < 300 {
			return status, respBody, nil
		}
		if attempt >= maxAttempts || !c.retryable(ctx, ep, status, respBody, err, attemptTimedOut) {
			if err != nil {
				return 0, nil, &TransportError{Endpoint: ep, Attempts: attempt, Err: err}
			}
			return status, respBody, newAPIError(ep, status, respBody)
		}
		t := time.NewTimer(c.backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			last := err
			if last == nil {
				last = newAPIError(ep, status, respBody)
			}
			return 0, nil, &TransportError{Endpoint: ep, Attempts: attempt,
				Err: fmt.Errorf("%w (while waiting to retry after: %v)", ctx.Err(), last)}
		}
	}
}

func (c *Client) once(ctx context.Context, method string, ep Endpoint, query url.Values,
	payload []byte) (status int, body []byte, attemptTimedOut bool, err error) {
	actx := ctx
	if d := c.timeoutFor(ep); d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	req := c.rc.R().SetContext(actx)
	if payload != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(payload)
	}
	if len(query) > 0 {
		req.SetQueryParamsFromValues(query)
	}
	resp, err := req.Execute(method, c.base+string(ep))
	if err != nil {
		timedOut := ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded)
		return 0, nil, timedOut, err
	}
	if c.verbose != nil {
		c.verbose.body("<", resp.Body())
	}
	return resp.StatusCode(), resp.Body(), false, nil
}

func (c *Client) retryable(ctx context.Context, ep Endpoint, status int, body []byte, err error, attemptTimedOut bool) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false
		}
		if attemptTimedOut {
			// A /health that timed out is waiting on a dead worker; asking
			// again only meets the stuck socket.
			return ep != EndpointHealth
		}
		return true
	}
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusInternalServerError:
		return strings.Contains(string(body), "Failed to acquire read lock within timeout")
	}
	return false
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.retryWait << (attempt - 1)
	if d > c.cfg.retryMaxWait || d <= 0 {
		d = c.cfg.retryMaxWait
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

// ---------------------------------------------------------------------------
// Verbose logging

type verboseLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (v *verboseLog) write(s string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, _ = io.WriteString(v.w, s)
}

const verboseBodyLimit = 512

func (v *verboseLog) body(dir string, b []byte) {
	if len(b) == 0 {
		return
	}
	s := string(b)
	if len(s) > verboseBodyLimit {
		s = fmt.Sprintf("%s… (%d bytes)", s[:verboseBodyLimit], len(b))
	}
	v.write(dir + " " + strings.TrimRight(s, "\n") + "\n")
}

type logTransport struct {
	next http.RoundTripper
	log  *verboseLog
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, redactURL(req.URL))
	writeHeaders(&b, ">", req.Header)
	t.log.write(b.String())
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(rc, verboseBodyLimit+1))
			_ = rc.Close()
			if len(data) > verboseBodyLimit && req.ContentLength > 0 {
				t.log.write(fmt.Sprintf("> %s… (%d bytes)\n", data[:verboseBodyLimit], req.ContentLength))
			} else {
				t.log.body(">", data)
			}
		}
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	elapsed := time.Since(start).Round(time.Microsecond)
	if err != nil {
		t.log.write(fmt.Sprintf("< error after %s: %v\n", elapsed, err))
		return resp, err
	}
	b.Reset()
	fmt.Fprintf(&b, "< %s %s (%s)\n", resp.Proto, resp.Status, elapsed)
	writeHeaders(&b, "<", resp.Header)
	t.log.write(b.String())
	return resp, nil
}

func writeHeaders(b *strings.Builder, dir string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s %s: %s\n", dir, k, RedactHeader(k, v))
		}
	}
}

// IsSensitiveName reports whether a header or query parameter name looks
// like it carries a credential.
func IsSensitiveName(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, frag := range []string{"token", "secret", "password", "passwd", "api-key", "apikey", "api_key",
		"auth", "session", "credential", "signature", "private"} {
		if strings.Contains(n, frag) {
			return true
		}
	}
	return false
}

// RedactHeader returns value, or a redacted form when the header carries a
// credential (keeping an Authorization scheme such as "Bearer").
func RedactHeader(name, value string) string {
	if !IsSensitiveName(name) {
		return value
	}
	lower := strings.ToLower(name)
	if lower == "authorization" || lower == "proxy-authorization" {
		if scheme, _, ok := strings.Cut(value, " "); ok {
			return scheme + " [REDACTED]"
		}
	}
	return "[REDACTED]"
}

func redactURL(u *url.URL) string {
	cp := *u
	if cp.RawQuery != "" {
		q := cp.Query()
		changed := false
		for k := range q {
			if IsSensitiveName(k) {
				q[k] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			cp.RawQuery = q.Encode()
		}
	}
	return cp.Redacted()
}
