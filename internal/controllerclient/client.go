package controllerclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"lmc/internal/transport"
)

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

// bodyLimit bounds each endpoint's answer by what it can legitimately
// hold: a lookup or an operation answers a few fields per instance; worker
// listings grow with the fleet.
func bodyLimit(ep Endpoint) int64 {
	switch ep {
	case EndpointWorkers, EndpointQueryWorkerInfo, EndpointQueryInstance:
		return 16 << 20
	}
	return 4 << 20
}

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
	peer *transport.Peer
	rc   *resty.Client
	cfg  config
}

type config struct {
	timeout      *time.Duration
	epTimeouts   map[Endpoint]time.Duration
	retries      int
	retryWait    time.Duration
	retryMaxWait time.Duration
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

// New returns a client for the controller reached through peer (made by
// transport.Peer, which carries TLS, headers, redirects, body limits and
// the --verbose log).
func New(peer *transport.Peer, opts ...Option) (*Client, error) {
	if peer == nil {
		return nil, errors.New("controllerclient: no peer")
	}
	cfg := config{
		epTimeouts:   map[Endpoint]time.Duration{},
		retries:      DefaultRetries,
		retryWait:    DefaultRetryWait,
		retryMaxWait: DefaultRetryMaxWait,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("controllerclient: %w", err)
		}
	}
	rc := resty.NewWithClient(peer.HTTP)
	rc.SetLogger(discardLogger{})
	rc.SetDisableWarn(true)
	rc.SetRetryCount(0) // retries are ours: per endpoint, per-attempt timeouts
	rc.SetHeader("Accept", "application/json")
	return &Client{peer: peer, rc: rc, cfg: cfg}, nil
}

// BaseURL returns the controller URL as it may be printed (credentials
// redacted).
func (c *Client) BaseURL() string { return c.peer.Display }

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
		if perr := transport.Pause(ctx, transport.Backoff(attempt, c.cfg.retryWait, c.cfg.retryMaxWait)); perr != nil {
			last := err
			if last == nil {
				last = newAPIError(ep, status, respBody)
			}
			return 0, nil, &TransportError{Endpoint: ep, Attempts: attempt,
				Err: fmt.Errorf("%w (while waiting to retry after: %v)", perr, last)}
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
	actx = transport.WithBodyLimit(actx, bodyLimit(ep))
	req := c.rc.R().SetContext(actx)
	if payload != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(payload)
	}
	if len(query) > 0 {
		req.SetQueryParamsFromValues(query)
	}
	resp, err := req.Execute(method, c.peer.Base+string(ep))
	if err != nil {
		timedOut := ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded)
		return 0, nil, timedOut, err
	}
	return resp.StatusCode(), resp.Body(), false, nil
}

func (c *Client) retryable(ctx context.Context, ep Endpoint, status int, body []byte, err error, attemptTimedOut bool) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || transport.Classify(err) != transport.ClassUnreachable {
			// Canceled, a TLS or scheme mismatch, an answer too large, a
			// redirect loop: asking again gives the same.
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

type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
