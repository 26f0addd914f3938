package coordinatorclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"

	"lmc/internal/transport"
)

// MPServer is a client of one MP server's HTTP API (lmcache server
// --http-port, default 8080): status, health, clearing L1 and its L2
// objects. Routes were renamed twice in 2026 (spec §10.4): each call tries
// the newest name first, falls back on 404, and keeps the name that
// answered. It is safe for concurrent use.
type MPServer struct {
	base
	mu       sync.Mutex
	resolved map[mpOp]route
}

// NewMPServer returns a client of the MP server at baseURL over hc (from
// transport.Peer).
func NewMPServer(hc *http.Client, baseURL string, opts ...Option) (*MPServer, error) {
	b, err := newBase(hc, baseURL, peerMP, opts)
	if err != nil {
		return nil, err
	}
	return &MPServer{base: b, resolved: map[mpOp]route{}}, nil
}

// MPServerFromPeer is NewMPServer(p.HTTP, p.Base, WithDisplay(p.Display), opts...).
func MPServerFromPeer(p *transport.Peer, opts ...Option) (*MPServer, error) {
	return NewMPServer(p.HTTP, p.Base, append([]Option{WithDisplay(p.Display)}, opts...)...)
}

// BaseURL is the server's base URL.
func (m *MPServer) BaseURL() string { return m.url }

// Routes returns the route names that answered so far, by operation.
func (m *MPServer) Routes() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for op, rt := range m.resolved {
		out[string(op)] = rt.method + " " + rt.pattern
	}
	return out
}

// fallback sends op on the first route name that exists.
func (m *MPServer) fallback(ctx context.Context, op mpOp, build func(route) call) (*answer, route, error) {
	m.mu.Lock()
	rt, ok := m.resolved[op]
	m.mu.Unlock()
	cands := mpRoutes[op]
	if ok {
		cands = []route{rt}
	}
	var last error
	for _, rt := range cands {
		a, err := m.do(ctx, build(rt))
		if _, missing := routeMissing(err); missing {
			last = err
			continue
		}
		if err == nil || !errors.As(err, new(*TransportError)) {
			m.mu.Lock()
			m.resolved[op] = rt
			m.mu.Unlock()
		}
		return a, rt, err
	}
	var ae *APIError
	if errors.As(last, &ae) {
		names := make([]string, len(cands))
		for i, r := range cands {
			names[i] = r.method + " " + r.pattern
		}
		ae.Hint = fmt.Sprintf("none of %v exists here: is this an MP server's HTTP port (--http-port, default 8080)?", names)
	}
	return nil, route{}, last
}

// mpFetch sends op (fallback tries its route names) and decodes the
// answer with decode; what decode rejects is a *BadAnswerError.
func mpFetch[T any](ctx context.Context, m *MPServer, op mpOp, build func(route) call, decode func([]byte) (*T, error)) (*T, *answer, route, error) {
	a, rt, err := m.fallback(ctx, op, build)
	if err != nil {
		return nil, nil, rt, err
	}
	x, err := decode(a.body)
	if err != nil {
		return nil, a, rt, m.decodeErr(rt, a, err)
	}
	return x, a, rt, nil
}

// MPStatus is the useful part of GET /status (the key set depends on the
// loaded modules).
type MPStatus struct {
	IsHealthy  *bool  `json:"is_healthy,omitempty"`
	EngineType string `json:"engine_type,omitempty"`
	// ChunkSize and HashAlgorithm are the key parameters of the fleet (0
	// and "" when the server does not report them).
	ChunkSize          int              `json:"chunk_size"`
	HashAlgorithm      string           `json:"hash_algorithm"`
	ActiveSessions     *int64           `json:"active_sessions,omitempty"`
	RegisteredGPUIDs   []int64          `json:"registered_gpu_ids,omitempty"`
	Contexts           []MPCacheContext `json:"contexts"`
	ActivePrefetchJobs *int64           `json:"active_prefetch_jobs,omitempty"`
	Storage            *MPStorage       `json:"storage_manager,omitempty"`
	// Route is the route that answered (/status or /api/status); Fields
	// the top-level keys it sent.
	Route    string   `json:"route"`
	Fields   []string `json:"fields"`
	Warnings []string `json:"warnings,omitempty"`
}

// MPCacheContext is one registered KV cache (cache_context_meta, named
// gpu_context_meta before mid-2026): what the coordinator's tokens form
// needs (model, world size).
type MPCacheContext struct {
	ID                string `json:"id"`
	ModelName         string `json:"model_name"`
	WorldSize         int    `json:"world_size"`
	NumLayers         int64  `json:"num_layers,omitempty"`
	CacheSizePerToken int64  `json:"cache_size_per_token,omitempty"`
}

// MPStorage is storage_manager of /status.
type MPStorage struct {
	IsHealthy      *bool         `json:"is_healthy,omitempty"`
	L1             *MPL1         `json:"l1_manager,omitempty"`
	EvictionPolicy string        `json:"eviction_policy,omitempty"`
	L2Adapters     []MPL2Adapter `json:"l2_adapters"`
}

// MPL1 is the L1 manager's state.
type MPL1 struct {
	MemoryTotalBytes int64    `json:"memory_total_bytes"`
	MemoryUsedBytes  int64    `json:"memory_used_bytes"`
	MemoryUsageRatio *float64 `json:"memory_usage_ratio,omitempty"`
	TotalObjectCount int64    `json:"total_object_count"`
}

// MPL2Adapter is one L2 adapter's state.
type MPL2Adapter struct {
	Type              string `json:"type"`
	IsHealthy         *bool  `json:"is_healthy,omitempty"`
	Backend           string `json:"backend"`
	StoredObjectCount int64  `json:"stored_object_count"`
	MaxCapacityBytes  int64  `json:"max_capacity_bytes"`
	CurrentSizeBytes  int64  `json:"current_size_bytes"`
}

// DecodeMPStatus decodes an MP server's GET /status. Unknown top-level
// keys are expected (modules add them) and only listed in Fields; unknown
// keys inside the parts lmc reads are warnings.
func DecodeMPStatus(body []byte) (*MPStatus, error) {
	st := &MPStatus{Contexts: []MPCacheContext{}}
	return decodeAnswer(body, "MP server status", st, &st.Warnings, func(d *decoder, o *obj) error {
		for k := range o.m {
			st.Fields = append(st.Fields, k)
		}
		sort.Strings(st.Fields)
		var cs int64
		if err := o.read(optBoolField("is_healthy", &st.IsHealthy), strField("engine_type", false, &st.EngineType),
			intField("chunk_size", false, &cs)); err != nil {
			return err
		}
		if cs < 0 || cs > 1<<24 {
			return fmt.Errorf("chunk_size %d is not a chunk size", cs)
		}
		st.ChunkSize = int(cs)
		if err := o.read(strField("hash_algorithm", false, &st.HashAlgorithm), optIntField("active_sessions", &st.ActiveSessions),
			optIntField("active_prefetch_jobs", &st.ActivePrefetchJobs)); err != nil {
			return err
		}
		if v, ok := o.get("registered_gpu_ids"); ok {
			if err := json.Unmarshal(v, &st.RegisteredGPUIDs); err != nil {
				return fmt.Errorf("registered_gpu_ids: %s, not a list of ints", kindOf(v))
			}
		}
		if err := readCacheContexts(o, st); err != nil {
			return err
		}
		if sm, err := o.child("storage_manager", false); err != nil {
			return err
		} else if sm != nil {
			if st.Storage, err = decodeStorage(sm); err != nil {
				return err
			}
		}
		return nil
	})
}

// readCacheContexts reads cache_context_meta (gpu_context_meta before
// mid-2026).
func readCacheContexts(o *obj, st *MPStatus) error {
	for _, name := range []string{"cache_context_meta", "gpu_context_meta"} {
		c, err := o.child(name, false)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		for id := range c.m {
			e, err := c.child(id, true)
			if err != nil {
				return err
			}
			cc := MPCacheContext{ID: id}
			var ws int64
			if err := e.read(strField("model_name", false, &cc.ModelName), intField("world_size", false, &ws)); err != nil {
				return err
			}
			if ws < 0 || ws > MaxWorldSize {
				return fmt.Errorf("%s[%q].world_size %d is not a world size", name, id, ws)
			}
			cc.WorldSize = int(ws)
			if l, err := e.child("kv_cache_layout", false); err != nil {
				return err
			} else if l != nil {
				if err := l.read(intField("num_layers", false, &cc.NumLayers), intField("cache_size_per_token", false, &cc.CacheSizePerToken)); err != nil {
					return err
				}
			}
			st.Contexts = append(st.Contexts, cc)
		}
		sort.Slice(st.Contexts, func(i, j int) bool { return st.Contexts[i].ID < st.Contexts[j].ID })
		break
	}
	return nil
}

func decodeStorage(sm *obj) (*MPStorage, error) {
	s := &MPStorage{L2Adapters: []MPL2Adapter{}}
	if err := sm.read(optBoolField("is_healthy", &s.IsHealthy)); err != nil {
		return nil, err
	}
	if l1, err := sm.child("l1_manager", false); err != nil {
		return nil, err
	} else if l1 != nil {
		s.L1 = &MPL1{}
		if err := l1.read(intField("memory_total_bytes", false, &s.L1.MemoryTotalBytes), intField("memory_used_bytes", false, &s.L1.MemoryUsedBytes),
			optNumField("memory_usage_ratio", &s.L1.MemoryUsageRatio), intField("total_object_count", false, &s.L1.TotalObjectCount)); err != nil {
			return nil, err
		}
	}
	if ec, err := sm.child("eviction_controller", false); err != nil {
		return nil, err
	} else if ec != nil {
		if err := ec.read(strField("eviction_policy", false, &s.EvictionPolicy)); err != nil {
			return nil, err
		}
	}
	err := objects(sm, "l2_adapters", false, &s.L2Adapters, func(_ string, a *obj, ad *MPL2Adapter) error {
		return a.read(strField("type", false, &ad.Type), optBoolField("is_healthy", &ad.IsHealthy), strField("backend", false, &ad.Backend),
			intField("stored_object_count", false, &ad.StoredObjectCount), intField("max_capacity_bytes", false, &ad.MaxCapacityBytes),
			intField("current_size_bytes", false, &ad.CurrentSizeBytes))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Status is GET /status (GET /api/status on 2026-03 servers). A server
// whose engine is not initialized answers 503 (KindUnavailable).
func (m *MPServer) Status(ctx context.Context) (*MPStatus, error) {
	st, _, rt, err := mpFetch(ctx, m, mpStatus, func(rt route) call { return call{rt: rt, limit: listingLimit} }, DecodeMPStatus)
	if err != nil {
		return nil, err
	}
	st.Route = rt.pattern
	return st, nil
}

// MPHealth is GET /healthcheck: 200 healthy, or 503 with a reason.
type MPHealth struct {
	Healthy  bool     `json:"healthy"`
	Status   string   `json:"status"`
	Reason   string   `json:"reason,omitempty"`
	Route    string   `json:"route"`
	Warnings []string `json:"warnings,omitempty"`
}

// DecodeMPHealth decodes {"status": "healthy"} or {"status":
// "unhealthy", "reason": "..."}.
func DecodeMPHealth(body []byte) (*MPHealth, error) {
	h := &MPHealth{}
	return decodeAnswer(body, "MP server healthcheck", h, &h.Warnings, func(d *decoder, o *obj) error {
		if err := o.finish(strField("status", true, &h.Status), strField("reason", false, &h.Reason)); err != nil {
			return err
		}
		h.Healthy = h.Status == "healthy"
		return nil
	})
}

// Healthcheck is GET /healthcheck (/api/healthcheck on 2026-03 servers).
// An unhealthy server (503 with a status) is an answer, not an error.
func (m *MPServer) Healthcheck(ctx context.Context) (*MPHealth, error) {
	a, rt, err := m.fallback(ctx, mpHealth, func(rt route) call {
		return call{rt: rt, limit: 64 << 10, accept: []int{http.StatusServiceUnavailable}}
	})
	if err != nil {
		return nil, err
	}
	h, derr := DecodeMPHealth(a.body)
	if derr != nil {
		if a.status == http.StatusServiceUnavailable {
			return nil, newAPIError(m.peer, m.cfg.display, rt, a.status, a.body)
		}
		return nil, m.decodeErr(rt, a, derr)
	}
	if (a.status == http.StatusOK) != h.Healthy {
		return nil, m.bad(rt, a, "HTTP %d with status %q", a.status, h.Status)
	}
	h.Route = rt.pattern
	return h, nil
}

// ClearRequest is POST /cache/clear's optional body.
type ClearRequest struct {
	Tier  Tier // "" sends no body (the server clears L1)
	Force bool
}

type wireClear struct {
	Tier  Tier `json:"tier"`
	Force bool `json:"force,omitempty"`
}

// MPClearResult is the answer of a clear.
type MPClearResult struct {
	Status string `json:"status"`
	// ClearedTier is cleared.tier ("" on servers before the /cache
	// routes).
	ClearedTier string   `json:"cleared_tier,omitempty"`
	Route       string   `json:"route"`
	Warnings    []string `json:"warnings,omitempty"`
}

// DecodeMPClear decodes {"status": "ok", "cleared": {"tier": "l1"}} or the
// older {"status": "ok"}.
func DecodeMPClear(body []byte) (*MPClearResult, error) {
	r := &MPClearResult{}
	return decodeAnswer(body, "MP server clear answer", r, &r.Warnings, func(d *decoder, o *obj) error {
		if err := o.read(strField("status", true, &r.Status)); err != nil {
			return err
		}
		if c, err := o.child("cleared", false); err != nil {
			return err
		} else if c != nil {
			if err := c.finish(strField("tier", false, &r.ClearedTier)); err != nil {
				return err
			}
		}
		o.done()
		return nil
	})
}

// ClearCache is POST /cache/clear (POST /clear-cache, /api/clear-cache on
// older servers, which take no body): drop the server's L1 objects. Only
// tier l1 exists. Never retried.
func (m *MPServer) ClearCache(ctx context.Context, req ClearRequest) (*MPClearResult, error) {
	if req.Tier != "" && req.Tier != TierL1 {
		return nil, fmt.Errorf("tier %q: an MP server clears only l1", req.Tier)
	}
	r, a, rt, err := mpFetch(ctx, m, mpClear, func(rt route) call {
		c := call{rt: rt, limit: smallLimit}
		if rt.pattern == "/cache/clear" && (req.Tier != "" || req.Force) {
			c.body = wireClear{Tier: TierL1, Force: req.Force}
		}
		return c
	}, DecodeMPClear)
	if err != nil {
		return nil, err
	}
	if r.Status != "ok" {
		return nil, m.bad(rt, a, "status %q, not ok", r.Status)
	}
	if r.ClearedTier != "" && r.ClearedTier != string(TierL1) {
		return nil, m.bad(rt, a, "asked to clear l1, the answer cleared %q", r.ClearedTier)
	}
	r.Route = rt.pattern
	return r, nil
}

// ObjectsQuery pages GET /cache/objects (the L2 keys of one adapter).
type ObjectsQuery struct {
	Tier      Tier   // "" means l2 (the only tier that lists)
	Adapter   string // an adapter type_name; "" the primary one
	ModelName string
	// CacheSalt filters on 2026-05 servers (GET /l2/keys) only.
	CacheSalt string
	PageSize  int // 0: the server's default (500); at most 5000
	PageToken string
}

// ObjectEntry is one listed object.
type ObjectEntry struct {
	Key       Key    `json:"key"`
	SizeBytes int64  `json:"size_bytes"`
	Adapter   string `json:"adapter,omitempty"`
}

// ObjectsPage is one page of objects.
type ObjectsPage struct {
	Adapter string        `json:"adapter"`
	Entries []ObjectEntry `json:"entries"`
	// NextPageToken is "" on the last page.
	NextPageToken string   `json:"next_page_token"`
	Route         string   `json:"route"`
	Warnings      []string `json:"warnings,omitempty"`
}

// DecodeObjectsPage decodes {"adapter", "entries": [{"key", "size_bytes"}],
// "next_page_token"} and the 2026-05 /l2/keys shape, whose entries are
// flat keys with size_bytes and adapter.
func DecodeObjectsPage(body []byte) (*ObjectsPage, error) {
	p := &ObjectsPage{Entries: []ObjectEntry{}}
	return decodeAnswer(body, "objects listing", p, &p.Warnings, func(d *decoder, o *obj) error {
		if err := o.read(strField("adapter", false, &p.Adapter), strField("next_page_token", false, &p.NextPageToken)); err != nil {
			return err
		}
		err := objects(o, "entries", true, &p.Entries, func(path string, e *obj, oe *ObjectEntry) error {
			if _, ok := e.get("key"); ok {
				if err := e.read(keyField(&oe.Key)); err != nil {
					return err
				}
			} else {
				// Flat: the key's fields beside size_bytes and adapter.
				flat := map[string]json.RawMessage{}
				for k, v := range e.m {
					switch k {
					case "size_bytes", "adapter":
					default:
						flat[k] = v
						e.known(k)
					}
				}
				b, _ := json.Marshal(flat)
				var err error
				if oe.Key, err = decodeKey(d, b, path); err != nil {
					return err
				}
			}
			if err := e.read(intField("size_bytes", false, &oe.SizeBytes)); err != nil {
				return err
			}
			if oe.SizeBytes < 0 {
				return fmt.Errorf("%s.size_bytes is negative", path)
			}
			return e.finish(strField("adapter", false, &oe.Adapter))
		})
		if err != nil {
			return err
		}
		o.done()
		return nil
	})
}

// Objects is one page of GET /cache/objects (GET /l2/keys on 2026-05
// servers), checked against the query: at most PageSize entries, of the
// model asked, and a next page token that moves on. Only the S3 adapter
// lists (others answer 501, KindNotImplemented).
func (m *MPServer) Objects(ctx context.Context, q ObjectsQuery) (*ObjectsPage, error) {
	if q.Tier != "" && q.Tier != TierL2 {
		return nil, fmt.Errorf("tier %q: only l2 objects are listed", q.Tier)
	}
	if q.PageSize < 0 || q.PageSize > 5000 {
		return nil, fmt.Errorf("page size %d: use 1..5000", q.PageSize)
	}
	size := q.PageSize
	if size == 0 {
		size = 500
	}
	p, a, rt, err := mpFetch(ctx, m, mpObjects, func(rt route) call {
		v := url.Values{}
		if rt.pattern == "/cache/objects" {
			if q.Tier != "" {
				v.Set("tier", string(q.Tier))
			}
			if q.Adapter != "" {
				v.Set("adapter", q.Adapter)
			}
		} else if q.CacheSalt != "" {
			v.Set("cache_salt", q.CacheSalt)
		}
		if q.ModelName != "" {
			v.Set("model_name", q.ModelName)
		}
		if q.PageSize > 0 {
			v.Set("page_size", strconv.Itoa(q.PageSize))
		}
		if q.PageToken != "" {
			v.Set("page_token", q.PageToken)
		}
		return call{rt: rt, query: v, limit: int64(4096 + size*1024)}
	}, DecodeObjectsPage)
	if err != nil {
		return nil, err
	}
	switch {
	case len(p.Entries) > size:
		return nil, m.bad(rt, a, "%d entries on a page of at most %d", len(p.Entries), size)
	case p.NextPageToken != "" && p.NextPageToken == q.PageToken:
		return nil, m.bad(rt, a, "the next page token is the one asked: the listing would not end")
	}
	for i, e := range p.Entries {
		if q.ModelName != "" && e.Key.ModelName != q.ModelName {
			return nil, m.bad(rt, a, "entries[%d] is of model %q, not %q", i, e.Key.ModelName, q.ModelName)
		}
	}
	p.Route = rt.pattern
	return p, nil
}

// DeleteObjectsRequest is DELETE /cache/objects.
type DeleteObjectsRequest struct {
	Keys    []Key
	Tier    Tier // "" means l2
	Force   bool
	Adapter string
}

type wireDeleteObjects struct {
	Keys    []Key   `json:"keys"`
	Tier    Tier    `json:"tier"`
	Force   bool    `json:"force"`
	Adapter *string `json:"adapter"`
}

// ObjectsDeleteResult is the answer of a delete.
type ObjectsDeleteResult struct {
	Deleted int `json:"deleted"`
	Skipped int `json:"skipped"`
	// OK false: an L2 adapter failed (the server still answers 200).
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
	Route    string   `json:"route"`
	Warnings []string `json:"warnings,omitempty"`
}

// DecodeObjectsDelete decodes {"deleted", "skipped", "ok"[, "error"]} and
// the 2026-05 /l2/keys:evict answer {"requested", "evicted"|"deleted",
// "ok"}.
func DecodeObjectsDelete(body []byte) (*ObjectsDeleteResult, error) {
	r := &ObjectsDeleteResult{}
	return decodeAnswer(body, "objects delete answer", r, &r.Warnings, func(d *decoder, o *obj) error {
		n, okD, err := o.count("deleted", false)
		if err != nil {
			return err
		}
		e, okE, err := o.count("evicted", false)
		if err != nil {
			return err
		}
		if !okD && !okE {
			return errors.New("answer has neither deleted nor evicted")
		}
		r.Deleted = n + e
		if err := o.read(countField("skipped", false, &r.Skipped), boolField("ok", true, &r.OK), strField("error", false, &r.Error)); err != nil {
			return err
		}
		o.known("requested")
		o.done()
		return nil
	})
}

// FailedError is an answer that says the operation failed (a success
// flag false), quoting the peer's reason.
type FailedError struct {
	Peer, Route, Reason string
}

func (e *FailedError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("%s %s: the operation failed (no reason given)", e.Peer, e.Route)
	}
	return fmt.Sprintf("%s %s: the operation failed: %s", e.Peer, e.Route, e.Reason)
}

// DeleteObjects is DELETE /cache/objects (POST /l2/keys:evict on 2026-05
// servers): at most 10,000 keys. A 200 with ok false is a *FailedError
// (with the result). Never retried.
func (m *MPServer) DeleteObjects(ctx context.Context, req DeleteObjectsRequest) (*ObjectsDeleteResult, error) {
	if len(req.Keys) == 0 {
		return nil, errors.New("no keys to delete")
	}
	if len(req.Keys) > 10000 {
		return nil, fmt.Errorf("%d keys: an MP server deletes at most 10000 per request", len(req.Keys))
	}
	if req.Tier == "" {
		req.Tier = TierL2
	}
	if !req.Tier.Valid() {
		return nil, fmt.Errorf("tier %q: use l1, l2 or all", req.Tier)
	}
	r, a, rt, err := mpFetch(ctx, m, mpEvict, func(rt route) call {
		if rt.pattern == "/cache/objects" {
			w := wireDeleteObjects{Keys: req.Keys, Tier: req.Tier, Force: req.Force}
			if req.Adapter != "" {
				w.Adapter = &req.Adapter
			}
			return call{rt: rt, body: w, limit: smallLimit}
		}
		return call{rt: rt, body: map[string][]Key{"keys": req.Keys}, limit: smallLimit}
	}, DecodeObjectsDelete)
	if err != nil {
		return nil, err
	}
	tiers := 1
	if req.Tier == TierAll {
		tiers = 2
	}
	if r.Deleted+r.Skipped > len(req.Keys)*tiers {
		return nil, m.bad(rt, a, "deleted %d + skipped %d of %d keys", r.Deleted, r.Skipped, len(req.Keys))
	}
	r.Route = rt.pattern
	if !r.OK {
		return r, &FailedError{Peer: m.peer, Route: rt.method + " " + rt.pattern, Reason: r.Error}
	}
	return r, nil
}

// Version is GET /version: a bare JSON string such as "0.3.1-ca79ea33".
func (m *MPServer) Version(ctx context.Context) (string, error) {
	a, rt, err := m.fallback(ctx, mpVersion, func(rt route) call { return call{rt: rt, limit: 64 << 10} })
	if err != nil {
		return "", err
	}
	raw, err := document(a.body)
	if err != nil {
		return "", m.decodeErr(rt, a, err)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", m.bad(rt, a, "%s, not a version string", kindOf(raw))
	}
	return s, nil
}
