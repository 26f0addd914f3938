package sandboxcoordinator

// Hostile behaviour: faults per path (error bodies, garbage, stalls,
// dropped connections) and lies (answers that look right but contradict
// the request).

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"lmc/internal/httpfake"
	"lmc/internal/pyjson"
)

// Lie names a way to falsify a 2xx answer.
type Lie string

// Lies.
const (
	// LieCount adds one to the first count field of the answer (chunks,
	// total, applied, requested, affected, found_keys, num_keys, chunks).
	LieCount Lie = "count"
	// LieDropItem drops the last element of the answer's main list
	// (results, keys, instances, pins, by_cache_salt, entries).
	LieDropItem Lie = "drop-item"
	// LieWrongKey changes the rank of the first result's key.
	LieWrongKey Lie = "wrong-key"
	// LieForeignPlacement adds a placement of another tier and instance to
	// the first result or listed key.
	LieForeignPlacement Lie = "foreign-placement"
	// LieStatus replaces the status field with another value.
	LieStatus Lie = "status"
	// LieTokens changes the first token of the first result's token_ids.
	LieTokens Lie = "tokens"
	// LieRatio doubles the first module's usage_ratio.
	LieRatio Lie = "ratio"
	// LieTrailing appends a second JSON document.
	LieTrailing Lie = "trailing"
	// LieTruncate cuts the answer in half.
	LieTruncate Lie = "truncate"
)

// Lies lists every lie.
var Lies = []Lie{LieCount, LieDropItem, LieWrongKey, LieForeignPlacement, LieStatus, LieTokens, LieRatio, LieTrailing, LieTruncate}

// Fault changes how the fake answers one path.
type Fault struct {
	// Times is how many requests it applies to (0: all until ClearFaults).
	Times int
	// Delay holds the request this long first (less if the client leaves).
	Delay time.Duration
	// Stall holds the request until the client leaves or Close, and
	// answers nothing.
	Stall bool
	// Drop closes the connection without an answer.
	Drop bool
	// Status, when set, is answered with Body (ContentType defaults to
	// application/json) instead of the real answer.
	Status      int
	Body        string
	ContentType string
	// Lie falsifies the real answer (2xx only).
	Lie Lie
}

// ErrorAnswer answers status with body (e.g. the spec's 422/404/502
// envelopes).
func ErrorAnswer(status int, body string) Fault { return Fault{Status: status, Body: body} }

// Garbage answers 200 with an HTML page.
func Garbage() Fault {
	return Fault{Status: http.StatusOK, Body: "<html><body><h1>It works!</h1></body></html>", ContentType: "text/html"}
}

// Stall holds requests until the client gives up.
func Stall() Fault { return Fault{Stall: true} }

// Lying falsifies the answer with l.
func Lying(l Lie) Fault { return Fault{Lie: l} }

// faultBox holds the faults and the request log of a fake (coordinator
// or MP server).
type faultBox struct {
	fmu      sync.Mutex
	faults   httpfake.Faults[Fault]
	requests []Request
	counts   httpfake.Counts
	done     chan struct{}
}

func newFaultBox() faultBox {
	return faultBox{done: make(chan struct{})}
}

// Requests returns what the fake received, oldest first (the last 1000).
func (s *faultBox) Requests() []Request {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return append([]Request(nil), s.requests...)
}

// LastRequest returns the last request with that method and path.
func (s *faultBox) LastRequest(method, path string) (Request, bool) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for i := len(s.requests) - 1; i >= 0; i-- {
		if r := s.requests[i]; r.Method == method && r.Path == path {
			return r, true
		}
	}
	return Request{}, false
}

// Count returns how many requests reached path.
func (s *faultBox) Count(path string) int { return s.counts.Get(path) }

// ResetRequests forgets the recorded requests and counts.
func (s *faultBox) ResetRequests() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.requests = nil
	s.counts.Reset()
}

func (s *faultBox) record(r *http.Request, body []byte) {
	s.counts.Add(r.URL.Path)
	s.fmu.Lock()
	defer s.fmu.Unlock()
	b := string(body)
	if len(b) > 1<<20 {
		b = b[:1<<20]
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: b})
	if len(s.requests) > 1000 {
		s.requests = s.requests[len(s.requests)-1000:]
	}
}

// InjectFault installs f for path: an exact request path
// ("/directory/lookup") or a route pattern
// ("/cache/prefetches/{instance_id}/{request_id}"), replacing any earlier
// fault for it.
func (s *faultBox) InjectFault(path string, f Fault) { s.faults.Inject(path, f, f.Times) }

// ClearFaults removes every fault.
func (s *faultBox) ClearFaults() { s.faults.Clear() }

// takeFault returns the fault for the request path, else for its route
// pattern.
func (s *faultBox) takeFault(path, pattern string) *Fault {
	if pattern == "" {
		return s.faults.Take(path)
	}
	return s.faults.Take(path, pattern)
}

// preFault runs delays, stalls and drops; false means the request is over.
func (s *faultBox) preFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	return !httpfake.Disrupt(w, r, f.Delay, f.Stall, f.Drop, s.done)
}

// answer is the reply of a fault with a Status (ContentType defaults to
// application/json).
func (f *Fault) answer() reply {
	ct := f.ContentType
	if ct == "" {
		ct = "application/json"
	}
	return reply{status: f.Status, body: []byte(f.Body), ctype: ct}
}

// falsify applies the fault's lie, if any, to a 2xx reply (f may be nil).
func (f *Fault) falsify(rep reply) reply {
	if f != nil && f.Lie != "" && rep.status/100 == 2 {
		rep.body = applyLie(f.Lie, rep.body)
	}
	return rep
}

// applyLie falsifies a JSON answer.
func applyLie(l Lie, body []byte) []byte {
	switch l {
	case LieTrailing:
		return append(append([]byte(nil), body...), []byte(`{"extra":true}`)...)
	case LieTruncate:
		return append([]byte(nil), body[:len(body)/2]...)
	}
	v, err := pyjson.Loads(body)
	if err != nil {
		return body
	}
	o, ok := v.(*pyjson.Dict)
	if !ok {
		return body
	}
	switch l {
	case LieCount:
		for _, k := range []string{"chunks", "total", "applied", "requested", "affected", "found_keys", "num_keys", "deleted"} {
			if n, ok := o.Vals[k].(pyjson.Int); ok {
				o.Set(k, pyjson.Int{V: n.V + 1})
				break
			}
		}
	case LieDropItem:
		for _, k := range []string{"results", "keys", "instances", "pins", "by_cache_salt", "entries", "modules"} {
			if l, ok := o.Vals[k].([]any); ok && len(l) > 0 {
				o.Set(k, l[:len(l)-1])
				break
			}
		}
	case LieWrongKey, LieForeignPlacement, LieTokens:
		first := firstItem(o)
		if first == nil {
			break
		}
		switch l {
		case LieWrongKey:
			if k, ok := first.Vals["key"].(*pyjson.Dict); ok {
				if r, ok := k.Vals["kv_rank"].(pyjson.Int); ok {
					k.Set("kv_rank", pyjson.Int{V: r.V ^ 1<<16})
				}
			}
		case LieForeignPlacement:
			if ps, ok := first.Vals["placements"].([]any); ok {
				tier := "l2"
				if len(ps) > 0 {
					if p, ok := ps[0].(*pyjson.Dict); ok && p.Vals["tier"] == "l2" {
						tier = "l1"
					}
				}
				first.Set("placements", append(ps, pyjson.Object{{"instance_id", "intruder"}, {"incarnation", int64(1)}, {"tier", tier},
					{"backend", "dram"}, {"size_bytes", int64(1)}, {"shared", false}}))
			}
		case LieTokens:
			if ts, ok := first.Vals["token_ids"].([]any); ok && len(ts) > 0 {
				if t, ok := ts[0].(pyjson.Int); ok {
					ts[0] = pyjson.Int{V: t.V + 1}
				}
			}
		}
	case LieStatus:
		if st, ok := o.Vals["status"].(string); ok {
			swap := map[string]string{"pinned": "unpinned", "unpinned": "pinned", "ok": "error", "submitted": "queued",
				"completed": "done", "pending": "running", "healthy": "degraded", "removed": "gone", "deleted": "failed"}
			if n, ok := swap[st]; ok {
				o.Set("status", n)
			} else {
				o.Set("status", strings.ToUpper(st))
			}
		}
	case LieRatio:
		lieRatio(o)
	}
	return pyjson.Dumps(o)
}

func firstItem(o *pyjson.Dict) *pyjson.Dict {
	for _, k := range []string{"results", "keys", "pins", "entries"} {
		if l, ok := o.Vals[k].([]any); ok && len(l) > 0 {
			if f, ok := l[0].(*pyjson.Dict); ok {
				return f
			}
		}
	}
	return nil
}

func lieRatio(o *pyjson.Dict) bool {
	if mods, ok := o.Vals["modules"].([]any); ok {
		for _, m := range mods {
			if mo, ok := m.(*pyjson.Dict); ok {
				if r, ok := mo.Vals["usage_ratio"].(pyjson.Float); ok {
					mo.Set("usage_ratio", pyjson.Float(float64(r)*2+0.5))
					return true
				}
			}
		}
	}
	for _, k := range []string{"instances", "shared_modules"} {
		if l, ok := o.Vals[k].([]any); ok {
			for _, e := range l {
				if eo, ok := e.(*pyjson.Dict); ok {
					if k == "shared_modules" {
						if r, ok := eo.Vals["usage_ratio"].(pyjson.Float); ok {
							eo.Set("usage_ratio", pyjson.Float(float64(r)*2+0.5))
							return true
						}
					} else if lieRatio(eo) {
						return true
					}
				}
			}
		}
	}
	return false
}
