package coordinatorclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"lmc/internal/transport"
)

// Default retry policy for routes that are safe to repeat.
const (
	DefaultRetries      = 2
	DefaultRetryWait    = 200 * time.Millisecond
	DefaultRetryMaxWait = 2 * time.Second
)

// DefaultMaxPlacementsPerKey bounds, for the body limit of a lookup, how
// many placements one key may have (one per instance and tier, plus shared
// pools). WithMaxPlacementsPerKey raises it for very large fleets.
const DefaultMaxPlacementsPerKey = 64

// MaxTokenIDs is the coordinator's cap on one request's token_ids.
const MaxTokenIDs = 1_000_000

// Option configures a Client or an MPServer.
type Option func(*config)

type config struct {
	timeout       *time.Duration
	retries       int
	retryWait     time.Duration
	retryMaxWait  time.Duration
	display       string
	maxPlacements int
	now           func() time.Time
}

// WithTimeout sets the per-attempt timeout of every route (0: only the
// context's deadline). The defaults are DefaultReadTimeout, and
// DefaultRelayTimeout for routes the coordinator relays to an MP server.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = &d }
}

// WithRetries sets how often a route that is safe to repeat (reads,
// lookups, quota writes) is retried after a transport failure or a
// 502/503/504/429, with jittered exponential backoff from wait to
// maxWait. Pins, unpins, deletes, prefetch submits and polls and move
// submits are never retried.
func WithRetries(n int, wait, maxWait time.Duration) Option {
	return func(c *config) {
		c.retries, c.retryWait, c.retryMaxWait = max(n, 0), max(wait, 0), max(maxWait, wait, 0)
	}
}

// WithDisplay sets the URL shown in errors (transport.Peer.Display: the
// base with credentials redacted).
func WithDisplay(s string) Option { return func(c *config) { c.display = s } }

// WithMaxPlacementsPerKey sets the placements per key a lookup's body
// limit allows for.
func WithMaxPlacementsPerKey(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxPlacements = n
		}
	}
}

// WithClock sets the clock for ages (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// base is the HTTP plumbing shared by the coordinator and MP server
// clients.
type base struct {
	hc   *http.Client
	url  string
	peer string
	cfg  config
}

func newBase(hc *http.Client, baseURL, peer string, opts []Option) (base, error) {
	if hc == nil {
		return base{}, errors.New("coordinatorclient: nil *http.Client (build one with transport.Peer)")
	}
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return base{}, errors.New("coordinatorclient: the base URL is not http(s)://host[:port] (pass transport.Peer.Base)")
	}
	cfg := config{retries: DefaultRetries, retryWait: DefaultRetryWait, retryMaxWait: DefaultRetryMaxWait,
		maxPlacements: DefaultMaxPlacementsPerKey, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	clean := *u
	clean.User, clean.RawQuery, clean.Fragment = nil, "", ""
	clean.Path = strings.TrimRight(clean.Path, "/")
	clean.RawPath = ""
	if cfg.display == "" {
		cfg.display = clean.String()
	}
	return base{hc: hc, url: clean.String(), peer: peer, cfg: cfg}, nil
}

// call is one logical request.
type call struct {
	rt     route
	path   string
	query  url.Values
	body   any // encoded as JSON unless nil
	noBody bool
	// limit bounds the answer's body.
	limit int64
	// accept lists non-2xx statuses that are answers, not errors (MP
	// /healthcheck 503).
	accept []int
}

// answer is a response that was read whole.
type answer struct {
	status int
	body   []byte
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func (b *base) timeoutFor(rt route) time.Duration {
	if b.cfg.timeout != nil {
		return *b.cfg.timeout
	}
	if rt.timeout > 0 {
		return rt.timeout
	}
	return DefaultReadTimeout
}

// do sends c, retrying what is safe to repeat, and returns a 2xx (or
// accepted) answer, or an *APIError / *TransportError.
func (b *base) do(ctx context.Context, c call) (*answer, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var payload []byte
	if c.body != nil {
		var err error
		if payload, err = encodeJSON(c.body); err != nil {
			return nil, fmt.Errorf("%s %s %s: encoding the request: %w", b.peer, c.rt.method, c.rt.pattern, err)
		}
	}
	if c.path == "" {
		c.path = c.rt.pattern
	}
	if c.limit <= 0 {
		c.limit = 1 << 20
	}
	attempts := 1
	if c.rt.retry {
		attempts += b.cfg.retries
	}
	for attempt := 1; ; attempt++ {
		a, err := b.once(ctx, c, payload)
		if err == nil && (a.status/100 == 2 || accepted(c.accept, a.status)) {
			return a, nil
		}
		if attempt >= attempts || !retryable(ctx, a, err) {
			if err != nil {
				return nil, &TransportError{Peer: b.peer, URL: b.cfg.display, Method: c.rt.method, Route: c.rt.pattern, Attempts: attempt, Err: err}
			}
			return a, newAPIError(b.peer, b.cfg.display, c.rt, a.status, a.body)
		}
		if perr := transport.Pause(ctx, transport.Backoff(attempt, b.cfg.retryWait, b.cfg.retryMaxWait)); perr != nil {
			last := err
			if last == nil {
				last = newAPIError(b.peer, b.cfg.display, c.rt, a.status, a.body)
			}
			return nil, &TransportError{Peer: b.peer, URL: b.cfg.display, Method: c.rt.method, Route: c.rt.pattern, Attempts: attempt,
				Err: fmt.Errorf("%w (while waiting to retry after: %v)", perr, last)}
		}
	}
}

func accepted(list []int, status int) bool {
	for _, s := range list {
		if s == status {
			return true
		}
	}
	return false
}

func (b *base) once(ctx context.Context, c call, payload []byte) (*answer, error) {
	actx := transport.WithBodyLimit(ctx, c.limit)
	if d := b.timeoutFor(c.rt); d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(actx, d)
		defer cancel()
	}
	u := b.url + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, c.rt.method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// The transport bounds bodies already; this bound also holds for an
	// *http.Client that does not come from package transport.
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.limit {
		return nil, &transport.BodyTooLargeError{URL: transport.RedactURL(req.URL), Limit: c.limit}
	}
	return &answer{status: resp.StatusCode, body: data}, nil
}

func retryable(ctx context.Context, a *answer, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		var bt *transport.BodyTooLargeError
		var re *transport.RedirectError
		if errors.Is(err, context.Canceled) || errors.As(err, &bt) || errors.As(err, &re) || transport.IsConfigError(err) {
			return false
		}
		return true
	}
	switch a.status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests:
		return true
	}
	return false
}

// bad builds the error for an answer that cannot be trusted.
func (b *base) bad(rt route, a *answer, reason string, args ...any) *BadAnswerError {
	e := &BadAnswerError{Peer: b.peer, URL: b.cfg.display, Method: rt.method, Route: rt.pattern, Reason: fmt.Sprintf(reason, args...)}
	if a != nil {
		e.Status, e.Excerpt = a.status, excerpt(a.body)
	}
	return e
}

// decodeErr wraps a decoder's error.
func (b *base) decodeErr(rt route, a *answer, err error) *BadAnswerError {
	e := b.bad(rt, a, "%v", err)
	if len(bytes.TrimSpace(a.body)) > 0 && bytes.TrimSpace(a.body)[0] == '<' {
		e.Hint = "an HTML page: is this the " + b.peer + "'s port, or a proxy's error page?"
	}
	return e
}

// Client is a client of one LMCache MP coordinator (lmcache coordinator,
// default port 9300). It is safe for concurrent use.
type Client struct {
	base
	mu   sync.Mutex
	feat *features
}

// New returns a client of the coordinator at baseURL over hc — both from
// transport.Peer (Peer.HTTP, Peer.Base); pass WithDisplay(Peer.Display)
// for errors.
func New(hc *http.Client, baseURL string, opts ...Option) (*Client, error) {
	b, err := newBase(hc, baseURL, peerCoordinator, opts)
	if err != nil {
		return nil, err
	}
	return &Client{base: b, feat: newFeatures()}, nil
}

// FromPeer is New(p.HTTP, p.Base, WithDisplay(p.Display), opts...).
func FromPeer(p *transport.Peer, opts ...Option) (*Client, error) {
	return New(p.HTTP, p.Base, append([]Option{WithDisplay(p.Display)}, opts...)...)
}

// BaseURL is the coordinator's base URL.
func (c *Client) BaseURL() string { return c.url }

// Generation is what the client knows of the coordinator's generation
// now (no request is sent; see Detect).
func (c *Client) Generation() Generation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.feat.generation()
}

func (c *Client) support(f Feature) Support {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.feat.get(f)
}

func (c *Client) learn(f Feature, s Support, evidence string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.feat.source == "" {
		c.feat.source = "answers"
	}
	c.feat.set(f, s, evidence, true)
}

// routeMissing reports a 404 {"detail":"Not Found"} or 405 answer.
func routeMissing(err error) (*APIError, bool) {
	var ae *APIError
	if errors.As(err, &ae) && (ae.Kind == KindRouteMissing || ae.Kind == KindMethodNotAllowed) {
		return ae, true
	}
	return nil, false
}

// unsupported turns a missing route into an *UnsupportedError (and
// records it); other errors pass.
func (c *Client) unsupported(f Feature, err error) error {
	ae, ok := routeMissing(err)
	if !ok {
		return err
	}
	c.learn(f, Absent, fmt.Sprintf("%s %s answered %d", ae.Method, ae.Route, ae.Status))
	return c.unsupportedErr(f, err)
}

func (c *Client) unsupportedErr(f Feature, err error) *UnsupportedError {
	return &UnsupportedError{Peer: peerCoordinator, URL: c.cfg.display, Feature: f, Generation: c.Generation().String(),
		Hint: FeatureInfo(f).Missing, Err: err}
}

// present records a route that answered.
func (c *Client) present(f Feature, rt route) {
	if c.support(f) != Present {
		c.learn(f, Present, rt.method+" "+rt.pattern+" answered")
	}
}
