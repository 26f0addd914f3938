// Package httpfake is the fault plumbing the sandbox's HTTP fakes share
// (controllerclient/sandboxcontroller and coordinatorclient/
// sandboxcoordinator, which lmc sandbox serves and the tests run
// against): faults kept per path and counted down, requests counted per
// path, requests held for a delay or until the client leaves, connections
// dropped without an answer.
//
// It knows nothing of any API: each fake keeps its own Fault type (what a
// fault can do there) and applies it. It is not a test helper (it ships in
// the binary) and it never builds an HTTP client.
package httpfake

import (
	"net/http"
	"sync"
	"time"
)

// Faults holds one fault of type F per key (a path or a route pattern).
// The zero value is empty and ready; it is safe for concurrent use.
type Faults[F any] struct {
	mu sync.Mutex
	m  map[string]*entry[F]
}

type entry[F any] struct {
	f     F
	times int // 0: until cleared
	left  int
}

// Inject installs f for key, replacing any earlier fault for it, for the
// next times requests (0: all until Clear).
func (b *Faults[F]) Inject(key string, f F, times int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]*entry[F]{}
	}
	b.m[key] = &entry[F]{f: f, times: times, left: times}
}

// Clear removes every fault.
func (b *Faults[F]) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m = nil
}

// Take returns the fault of the first key that has one and counts it
// down (a fault whose times are used up is removed); nil when no key has
// one.
func (b *Faults[F]) Take(keys ...string) *F {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		e := b.m[k]
		if e == nil {
			continue
		}
		f := e.f
		if e.times > 0 {
			e.left--
			if e.left <= 0 {
				delete(b.m, k)
			}
		}
		return &f
	}
	return nil
}

// Counts counts requests per path. The zero value is ready; it is safe
// for concurrent use.
type Counts struct {
	mu sync.Mutex
	m  map[string]int
}

// Add counts one request to path.
func (c *Counts) Add(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[path]++
}

// Get returns how many requests reached path.
func (c *Counts) Get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[path]
}

// Reset zeroes every count.
func (c *Counts) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// Hold blocks for d (forever if d < 0) or until the request ends or done
// is closed. It reports whether the full time elapsed.
func Hold(r *http.Request, d time.Duration, done <-chan struct{}) bool {
	var timer <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
		return true
	case <-r.Context().Done():
		return false
	case <-done:
		return false
	}
}

// Disrupt applies a fault's disruptions in order: a delay (cut short when
// the client leaves or done closes), a hold until then (hang), a dropped
// connection. It reports whether the request is over: nothing more may be
// written.
func Disrupt(w http.ResponseWriter, r *http.Request, delay time.Duration, hang, drop bool, done <-chan struct{}) bool {
	if delay > 0 && !Hold(r, delay, done) {
		return true
	}
	if hang {
		Hold(r, -1, done)
		return true
	}
	if drop {
		Drop(w)
		return true
	}
	return false
}

// Drop closes the connection under w without an answer (or, where it
// cannot be taken over, aborts the handler, which net/http turns into a
// closed connection too).
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
