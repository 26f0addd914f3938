package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// DefaultBodyLimit bounds a response body when the request does not say
// otherwise. lmc's largest legitimate answers (a controller lookup of a 1M
// token prompt, a /batch_query_keys page, a /tokenize of a long document)
// are far below it.
const DefaultBodyLimit = 32 << 20

type bodyLimitKey struct{}

// WithBodyLimit returns a context whose requests may read at most n bytes
// of response body (after content decoding). Clients set it from what the
// request can legitimately produce.
func WithBodyLimit(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, bodyLimitKey{}, n)
}

// BodyLimit is the limit in force for ctx.
func BodyLimit(ctx context.Context) int64 {
	if n, ok := ctx.Value(bodyLimitKey{}).(int64); ok && n > 0 {
		return n
	}
	return DefaultBodyLimit
}

// BodyTooLargeError is an answer larger than its request can produce.
type BodyTooLargeError struct {
	URL   string // redacted
	Limit int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("the answer of %s is larger than %s, more than this request can produce: refused", e.URL, FormatBytes(e.Limit))
}

// FormatBytes renders a byte count as operators read it.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// limitTransport wraps every response body in the limit of its request.
type limitTransport struct{ next http.RoundTripper }

func (l *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	limit := BodyLimit(req.Context())
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, &BodyTooLargeError{URL: RedactURL(req.URL), Limit: limit}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, url: RedactURL(req.URL), limit: limit}
	return resp, nil
}

type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
	url   string
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, &BodyTooLargeError{URL: b.url, Limit: b.limit}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// ReadBody reads a whole (already bounded) response body.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
