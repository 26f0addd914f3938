package mooncake_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	mc "lmc/internal/mooncake"
	"lmc/internal/transport"
)

// cachedRT answers each URL with the body the handler gave it the first
// time, so that a benchmark measures the client's decoding alone.
type cachedRT struct {
	h     http.Handler
	mu    sync.Mutex
	cache map[string][]byte
}

func (c *cachedRT) RoundTrip(r *http.Request) (*http.Response, error) {
	u := r.URL.RequestURI()
	c.mu.Lock()
	body, ok := c.cache[u]
	c.mu.Unlock()
	if !ok {
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, r)
		body = rec.Body.Bytes()
		c.mu.Lock()
		c.cache[u] = body
		c.mu.Unlock()
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{"Content-Type": {"application/json"}}, Request: r}, nil
}

// BenchmarkBatchQueryKeys512Decode: /batch_query_keys for the 512 keys of
// a 128k-token prompt (10 pages under the 6 KiB URL bound), all present,
// answers as the sandbox master writes them, served from memory: the
// client's share of lookup --admin (checks, decoding, merging).
func BenchmarkBatchQueryKeys512Decode(b *testing.B) {
	s := startFake(b)
	if err := s.Populate(ctxT(b), benchKeys); err != nil {
		b.Fatal(err)
	}
	rt := &cachedRT{h: s.AdminHandler(), cache: map[string][]byte{}}
	a, err := mc.NewAdmin(&transport.Peer{Base: "http://bench.invalid", Display: "http://bench.invalid", HTTP: &http.Client{Transport: rt}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.BatchQueryKeys(ctx, benchKeys); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		qs, err := a.BatchQueryKeys(ctx, benchKeys)
		if err != nil || !qs[511].OK {
			b.Fatal(err)
		}
	}
}
