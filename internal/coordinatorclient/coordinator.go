package coordinatorclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Body limits: what each answer can legitimately be.
const (
	smallLimit   = 1 << 20
	listingLimit = 16 << 20
	openAPILimit = 8 << 20
	metricsLimit = 16 << 20
	// assumedChunkSize bounds token lists when the chunk size is unknown.
	assumedChunkSize = 4096
)

// ---------------------------------------------------------------------------
// Request bodies, in the coordinator models' field order.

type wireTokens struct {
	TokenIDs  []uint32 `json:"token_ids"`
	ModelName string   `json:"model_name"`
	WorldSize int      `json:"world_size"`
	CacheSalt string   `json:"cache_salt"`
}

// wireKey omits the fields the coordinator fills with defaults.
type wireKey struct {
	ChunkHashHex  string `json:"chunk_hash_hex"`
	ModelName     string `json:"model_name"`
	KVRank        int64  `json:"kv_rank"`
	ObjectGroupID int64  `json:"object_group_id,omitempty"`
	CacheSalt     string `json:"cache_salt,omitempty"`
}

type wireKeys struct {
	Keys []wireKey `json:"keys"`
}

type wirePin struct {
	ModelName string   `json:"model_name"`
	WorldSize int      `json:"world_size"`
	TokenIDs  []uint32 `json:"token_ids"`
	CacheSalt string   `json:"cache_salt"`
}

type wireDelete struct {
	InstanceID string   `json:"instance_id"`
	ModelName  string   `json:"model_name"`
	WorldSize  int      `json:"world_size"`
	TokenIDs   []uint32 `json:"token_ids"`
	CacheSalt  string   `json:"cache_salt"`
	Tier       Tier     `json:"tier"`
	Force      bool     `json:"force"`
}

type wirePrefetch struct {
	InstanceID string   `json:"instance_id"`
	ModelName  string   `json:"model_name"`
	WorldSize  int      `json:"world_size"`
	TokenIDs   []uint32 `json:"token_ids"`
	CacheSalt  string   `json:"cache_salt"`
}

// wireMove sends only fields the design doc names (the model forbids
// extra fields), leaving the tiers at their l1 defaults.
type wireMove struct {
	SourceInstanceID string   `json:"source_instance_id"`
	TargetInstanceID string   `json:"target_instance_id"`
	ModelName        string   `json:"model_name"`
	WorldSize        int      `json:"world_size"`
	TokenIDs         []uint32 `json:"token_ids"`
	CacheSalt        string   `json:"cache_salt"`
	KeepSource       bool     `json:"keep_source,omitempty"`
}

type wireQuotaSet struct {
	LimitGB float64 `json:"limit_gb"`
}

type wireQuotaConfig struct {
	DefaultLimitGB *float64 `json:"default_limit_gb"`
}

func nonNil(t []uint32) []uint32 {
	if t == nil {
		return []uint32{}
	}
	return t
}

// normalize checks a tokens request before it is sent and fills the world
// size (0 means 1).
func (t *TokensRequest) normalize() error {
	if t.WorldSize == 0 {
		t.WorldSize = 1
	}
	switch {
	case t.ModelName == "":
		return errors.New("the model name is required (exactly as the engines' --model)")
	case strings.Contains(t.ModelName, "@"):
		return fmt.Errorf("model name %q contains '@', which LMCache cannot key", t.ModelName)
	case t.WorldSize < 1 || t.WorldSize > MaxWorldSize:
		return fmt.Errorf("world size %d: must be 1..%d (kv_rank packs it in 8 bits)", t.WorldSize, MaxWorldSize)
	case len(t.TokenIDs) > MaxTokenIDs:
		return fmt.Errorf("%d tokens: the coordinator takes at most %d per request", len(t.TokenIDs), MaxTokenIDs)
	case t.ChunkSize < 0:
		return fmt.Errorf("chunk size %d is negative", t.ChunkSize)
	}
	return ValidateCacheSalt(t.CacheSalt)
}

// chunksOf is the number of complete chunks of t (-1 when the chunk size
// is unknown).
func (t *TokensRequest) chunksOf() int {
	if t.ChunkSize <= 0 {
		return -1
	}
	return len(t.TokenIDs) / t.ChunkSize
}

// checkChunks checks a chunk count the coordinator (or an MP server)
// resolved from t.
func (t *TokensRequest) checkChunks(got int, who string) string {
	if got > len(t.TokenIDs) {
		return fmt.Sprintf("%s resolved %d chunks from %d tokens", who, got, len(t.TokenIDs))
	}
	if want := t.chunksOf(); want >= 0 && got != want {
		return fmt.Sprintf("%s resolved %d chunks from %d tokens; with chunk size %d there are %d (its --chunk-size must equal the MP servers')",
			who, got, len(t.TokenIDs), t.ChunkSize, want)
	}
	return ""
}

// ---------------------------------------------------------------------------
// Fleet

// Healthz is GET /healthz (a liveness probe: it checks nothing).
func (c *Client) Healthz(ctx context.Context) (*Health, error) {
	h, _, err := roundTrip(ctx, c, call{rt: rHealthz, limit: 64 << 10}, nil, DecodeHealthz)
	if err != nil {
		return nil, err
	}
	c.present(FeatureHealthz, rHealthz)
	return h, nil
}

// Instances is GET /instances, in registration order.
func (c *Client) Instances(ctx context.Context) (*InstanceList, error) {
	l, _, err := roundTrip(ctx, c, call{rt: rInstances, limit: listingLimit}, nil, DecodeInstances)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// FleetUsage is GET /instances/usage (coordinators from 2026-08-19).
func (c *Client) FleetUsage(ctx context.Context) (*FleetUsage, error) {
	u, _, err := roundTrip(ctx, c, call{rt: rUsage, limit: listingLimit}, c.absent(FeatureUsage), DecodeFleetUsage)
	if err != nil {
		return nil, err
	}
	c.present(FeatureUsage, rUsage)
	return u, nil
}

// InstanceUsage is GET /instances/{id}/usage.
func (c *Client) InstanceUsage(ctx context.Context, instanceID string) (*InstanceUsage, error) {
	if instanceID == "" {
		return nil, errors.New("an instance id is required")
	}
	u, a, err := roundTrip(ctx, c, call{rt: rInstanceUsage, path: rInstanceUsage.path(instanceID), limit: smallLimit}, c.absent(FeatureUsage), DecodeInstanceUsage)
	if err != nil {
		return nil, err
	}
	if u.InstanceID != instanceID {
		return nil, c.bad(rInstanceUsage, a, "asked for instance %q, the answer is for %q", instanceID, u.InstanceID)
	}
	c.present(FeatureUsage, rInstanceUsage)
	return u, nil
}

// ---------------------------------------------------------------------------
// Directory

// LookupRequest is one /directory/lookup: the tokens form (TokenIDs with
// ModelName, WorldSize, CacheSalt) or the keys form (Keys), not both.
type LookupRequest struct {
	TokensRequest
	Keys []Key
	// ExpectChunkHashes are lmc's own hashes of the tokens' chunks (from
	// MPChunkHashes or the key flags): a disagreement is a
	// *HashMismatchError, the sign of a chunk size, hash algorithm or NONE
	// hash mismatch (spec §9).
	ExpectChunkHashes []string
}

func (c *Client) lookupLimit(req *LookupRequest) int64 {
	perKey := int64(256 + 6*(len(req.ModelName)+len(req.CacheSalt)))
	perPlacement := int64(512)
	cs := int64(req.ChunkSize)
	if cs <= 0 {
		cs = assumedChunkSize
	}
	var results, tokenBytes int64
	if len(req.Keys) > 0 {
		results = int64(len(req.Keys))
		for _, k := range req.Keys {
			perKey = max(perKey, int64(256+6*(len(k.ModelName)+len(k.CacheSalt)+len(k.ChunkHashHex))))
		}
		tokenBytes = results * cs * 12
	} else {
		ws := int64(max(req.WorldSize, 1))
		chunks := int64(len(req.TokenIDs))
		if req.ChunkSize > 0 {
			chunks /= int64(req.ChunkSize)
		}
		results = chunks * ws
		tokenBytes = int64(len(req.TokenIDs)) * ws * 12
	}
	n := 4096 + results*(perKey+128+int64(c.cfg.maxPlacements)*perPlacement) + tokenBytes
	return min(max(n, smallLimit), 1<<34)
}

// Lookup resolves keys, or a token sequence, to placements and chunk
// token ids (POST /directory/lookup). On a keys-only coordinator
// (2026-07-28 to mid-August 2026) the tokens form goes to
// /directory/lookup_tokens. The answer is checked against the request:
// chunk and result counts, every result's key (model, salt, rank, one
// hash per chunk), token lists against the request's tokens; with
// ExpectChunkHashes, the hashes too.
func (c *Client) Lookup(ctx context.Context, req LookupRequest) (*LookupResult, error) {
	keysForm := len(req.Keys) > 0
	var body any
	switch {
	case keysForm && len(req.TokenIDs) > 0:
		return nil, errors.New("a lookup takes keys or token ids, not both")
	case keysForm:
		wk := make([]wireKey, len(req.Keys))
		for i, k := range req.Keys {
			if err := k.Validate(); err != nil {
				return nil, fmt.Errorf("key %d: %v", i, err)
			}
			wk[i] = wireKey(k)
		}
		body = wireKeys{Keys: wk}
	case len(req.TokenIDs) == 0:
		return nil, errors.New("nothing to look up: no token ids and no keys")
	default:
		if err := req.normalize(); err != nil {
			return nil, err
		}
		body = wireTokens{TokenIDs: req.TokenIDs, ModelName: req.ModelName, WorldSize: req.WorldSize, CacheSalt: req.CacheSalt}
	}
	if c.support(FeatureDirectory) == Absent {
		return nil, c.unsupportedErr(FeatureDirectory, nil)
	}
	rt := rLookup
	if !keysForm && c.support(FeatureLookupTwoForm) == Absent && c.support(FeatureLookupTokensRoute) == Present {
		rt = rLookupTokens
	}
	limit := c.lookupLimit(&req)
	res, a, err := roundTrip(ctx, c, call{rt: rt, body: body, limit: limit}, c.absent(FeatureDirectory), DecodeLookup)
	if err != nil {
		return nil, err
	}
	c.present(FeatureDirectory, rt)
	if res.Chunks < 0 && !keysForm && rt == rLookup {
		// The keys-only shape: /directory/lookup ignored token_ids
		// (keys defaulted to []). Ask the tokens route of that era.
		c.learn(FeatureLookupTwoForm, Absent, "a tokens-form POST /directory/lookup answered without chunks")
		rt = rLookupTokens
		if a, err = c.do(ctx, call{rt: rt, body: body, limit: limit}); err != nil {
			if _, missing := routeMissing(err); missing {
				c.learn(FeatureLookupTokensRoute, Absent, "POST /directory/lookup_tokens answered 404")
				return nil, c.bad(rLookup, nil, "the coordinator ignores token_ids on /directory/lookup and has no /directory/lookup_tokens")
			}
			return nil, err
		}
		if res, err = DecodeLookup(a.body); err != nil {
			return nil, c.decodeErr(rt, a, err)
		}
		c.learn(FeatureLookupTokensRoute, Present, "POST /directory/lookup_tokens answered")
	}
	res.Route = rt.pattern
	if keysForm {
		res.Form, res.WorldSize = "keys", 1
		if res.Chunks < 0 {
			c.learn(FeatureLookupTwoForm, Absent, "a keys-form lookup answered without chunks")
			res.Chunks = len(res.Results)
		}
		if reason := checkKeysLookup(&req, res); reason != "" {
			return nil, c.bad(rt, a, "%s", reason)
		}
	} else {
		res.Form, res.WorldSize, res.ByChunk = "tokens", req.WorldSize, true
		if res.Chunks < 0 {
			return nil, c.bad(rt, a, "a tokens-form answer without chunks")
		}
		if rt == rLookup {
			c.learn(FeatureLookupTwoForm, Present, "a tokens-form POST /directory/lookup answered with chunks")
		}
		if reason := checkTokensLookup(&req, res); reason != "" {
			return nil, c.bad(rt, a, "%s", reason)
		}
		if err := checkExpected(&req, res); err != nil {
			return nil, err
		}
	}
	res.Warnings = append(res.Warnings, placementWarnings(res.Results)...)
	if len(res.Results) > 0 {
		c.fieldSeen(FeatureAccessCount, res.HasAccessCount, "lookup results")
	}
	return res, nil
}

// fieldSeen records a by-field feature from an answer.
func (c *Client) fieldSeen(f Feature, has bool, where string) {
	if has {
		c.learn(f, Present, where+" carry "+string(f))
	} else if c.support(f) == Unknown {
		c.learn(f, Absent, where+" lack "+string(f))
	}
}

func checkKeysLookup(req *LookupRequest, res *LookupResult) string {
	if res.Chunks != len(req.Keys) {
		return fmt.Sprintf("chunks %d for %d keys asked", res.Chunks, len(req.Keys))
	}
	if len(res.Results) != len(req.Keys) {
		return fmt.Sprintf("%d results for %d keys asked", len(res.Results), len(req.Keys))
	}
	cs := req.ChunkSize
	for i, r := range res.Results {
		if !r.Key.Equal(req.Keys[i]) {
			return fmt.Sprintf("results[%d] is key %s, the request's key %d is %s", i, r.Key, i, req.Keys[i])
		}
		if n := len(r.TokenIDs); n > 0 {
			if cs == 0 {
				cs = n
			} else if n != cs {
				return fmt.Sprintf("results[%d] has %d token ids; chunks have %d", i, n, cs)
			}
		}
	}
	res.ChunkSize = cs
	return ""
}

func checkTokensLookup(req *LookupRequest, res *LookupResult) string {
	ws := req.WorldSize
	if reason := req.checkChunks(res.Chunks, "the coordinator"); reason != "" {
		return reason
	}
	if len(res.Results) != res.Chunks*ws {
		return fmt.Sprintf("%d results for %d chunks × world size %d (want %d)", len(res.Results), res.Chunks, ws, res.Chunks*ws)
	}
	cs := req.ChunkSize
	for i, r := range res.Results {
		chunk, rank := i/ws, i%ws
		k := r.Key
		if k.ModelName != req.ModelName || k.CacheSalt != req.CacheSalt || k.KVRank != KVRank(ws, rank) || k.ObjectGroupID != 0 {
			return fmt.Sprintf("results[%d] is key %s (group %d), not chunk %d rank %d of model %q salt %q", i, k, k.ObjectGroupID, chunk, rank, req.ModelName, req.CacheSalt)
		}
		if rank > 0 {
			first := res.Results[i-rank]
			if !strings.EqualFold(first.Key.ChunkHashHex, k.ChunkHashHex) {
				return fmt.Sprintf("results[%d] and results[%d] are ranks of chunk %d with different hashes", i-rank, i, chunk)
			}
			if !slices.Equal(first.TokenIDs, r.TokenIDs) {
				return fmt.Sprintf("results[%d] and results[%d] are ranks of chunk %d with different token ids (tokens are bound by chunk hash)", i-rank, i, chunk)
			}
			continue
		}
		if n := len(r.TokenIDs); n > 0 {
			if cs == 0 {
				cs = n
				if reason := req.withChunkSize(cs).checkChunks(res.Chunks, "the coordinator"); reason != "" {
					return reason
				}
			}
			if n != cs {
				return fmt.Sprintf("results[%d] has %d token ids; chunks have %d", i, n, cs)
			}
			if !slices.Equal(r.TokenIDs, req.TokenIDs[chunk*cs:(chunk+1)*cs]) {
				return fmt.Sprintf("the token ids of chunk %d are not the request's tokens %d..%d", chunk, chunk*cs, (chunk+1)*cs-1)
			}
		}
	}
	res.ChunkSize = cs
	return ""
}

func (t *TokensRequest) withChunkSize(cs int) *TokensRequest {
	cp := *t
	cp.ChunkSize = cs
	return &cp
}

func checkExpected(req *LookupRequest, res *LookupResult) error {
	if len(req.ExpectChunkHashes) == 0 {
		return nil
	}
	for i := 0; i < res.Chunks && i < len(req.ExpectChunkHashes); i++ {
		got := strings.ToLower(res.Results[i*res.WorldSize].Key.ChunkHashHex)
		if want := strings.ToLower(req.ExpectChunkHashes[i]); got != want {
			return &HashMismatchError{Chunk: i, Want: want, Got: got}
		}
	}
	if len(req.ExpectChunkHashes) != res.Chunks {
		return &HashMismatchError{Chunk: min(res.Chunks, len(req.ExpectChunkHashes)),
			Want: fmt.Sprintf("%d chunks", len(req.ExpectChunkHashes)), Got: fmt.Sprintf("%d chunks", res.Chunks)}
	}
	return nil
}

func placementWarnings(rs []KeyPlacements) []string {
	var out []string
	for i, r := range rs {
		type id struct {
			shared        bool
			tier, backend string
			inst          string
		}
		seen := map[id]bool{}
		for _, p := range r.Placements {
			k := id{p.Shared, p.Tier, p.Backend, p.InstanceID}
			if p.Shared {
				k.inst = ""
			}
			if seen[k] {
				out = append(out, fmt.Sprintf("results[%d] lists placement %s/%s of %s twice", i, p.Tier, p.Backend, p.InstanceID))
				break
			}
			seen[k] = true
		}
		if len(out) > 3 {
			break
		}
	}
	return out
}

func (q KeysQuery) values() (url.Values, error) {
	v := url.Values{}
	if q.Tier != "" {
		if !q.Tier.Valid() {
			return nil, fmt.Errorf("tier %q: use l1, l2 or all", q.Tier)
		}
		v.Set("tier", string(q.Tier))
	}
	if q.InstanceID != "" {
		v.Set("instance_id", q.InstanceID)
	}
	if q.Backend != "" {
		v.Set("backend", q.Backend)
	}
	if q.Offset < 0 {
		return nil, fmt.Errorf("offset %d is negative", q.Offset)
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	if q.Limit < 0 || q.Limit > 10000 {
		return nil, fmt.Errorf("limit %d: use 1..10000", q.Limit)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v, nil
}

// Keys is one page of GET /directory/keys, checked against the query:
// at most limit keys, each with at least one placement and only
// placements that match the filters.
func (c *Client) Keys(ctx context.Context, q KeysQuery) (*KeysPage, error) {
	v, err := q.values()
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 1000
	}
	p, a, err := roundTrip(ctx, c, call{rt: rKeys, query: v, limit: int64(4096 + limit*(1024+c.cfg.maxPlacements*512))}, c.absent(FeatureDirectoryKeys), DecodeKeysPage)
	if err != nil {
		return nil, err
	}
	p.Offset = q.Offset
	if len(p.Keys) > limit {
		return nil, c.bad(rKeys, a, "%d keys on a page of at most %d", len(p.Keys), limit)
	}
	if q.Offset+len(p.Keys) > p.Total {
		return nil, c.bad(rKeys, a, "%d keys at offset %d of a listing of %d", len(p.Keys), q.Offset, p.Total)
	}
	f := PlacementFilter{Tier: q.Tier, InstanceID: q.InstanceID, Backend: q.Backend}
	for i, k := range p.Keys {
		if len(k.Placements) == 0 {
			return nil, c.bad(rKeys, a, "keys[%d] (%s) has no placement: the listing counts only keys with one", i, k.Key)
		}
		for _, pl := range k.Placements {
			if !f.Match(pl) {
				return nil, c.bad(rKeys, a, "keys[%d] has placement %s/%s on %q, outside the filter %s", i, pl.Tier, pl.Backend, pl.InstanceID, f)
			}
		}
	}
	c.present(FeatureDirectoryKeys, rKeys)
	if len(p.Keys) > 0 {
		c.fieldSeen(FeatureAccessCount, p.HasAccessCount, "keys listing entries")
	}
	return p, nil
}

// EachKey pages through GET /directory/keys (offset += len(keys) until
// offset >= total or a page comes back empty), calling fn once per key:
// keys that a changing directory repeats across pages are skipped. It
// returns the last total.
func (c *Client) EachKey(ctx context.Context, q KeysQuery, fn func(KeyEntry) error) (int, error) {
	seen := map[Key]bool{}
	total := 0
	for pages := 0; ; pages++ {
		p, err := c.Keys(ctx, q)
		if err != nil {
			return total, err
		}
		total = p.Total
		for _, k := range p.Keys {
			nk := k.Key.Normalized()
			if seen[nk] {
				continue
			}
			seen[nk] = true
			if err := fn(k); err != nil {
				return total, err
			}
		}
		q.Offset += len(p.Keys)
		if len(p.Keys) == 0 || q.Offset >= p.Total {
			return total, nil
		}
		if pages > 1_000_000 {
			return total, errors.New("the keys listing does not end")
		}
	}
}

// DirectoryStats is GET /directory/stats.
func (c *Client) DirectoryStats(ctx context.Context) (*DirectoryStats, error) {
	s, _, err := roundTrip(ctx, c, call{rt: rStats, limit: listingLimit}, c.absent(FeatureDirectory), DecodeDirectoryStats)
	if err != nil {
		return nil, err
	}
	c.present(FeatureDirectory, rStats)
	if s.NumKeys != nil {
		c.fieldSeen(FeatureTierTotals, s.HasTierTotals, "directory stats")
	}
	return s, nil
}

// PostEvents sends a batch of cache events (POST /events), as MP servers
// do. lmc itself never writes the directory: this is for sandboxes and
// tests. The answer's counts must add up to the batches sent.
func (c *Client) PostEvents(ctx context.Context, req CacheEventsRequest) (*EventsResult, error) {
	if req.Batches == nil {
		req.Batches = []CacheEventBatch{}
	}
	for i := range req.Batches {
		if req.Batches[i].Entries == nil {
			req.Batches[i].Entries = []CacheEventEntry{}
		}
		for j := range req.Batches[i].Entries {
			req.Batches[i].Entries[j].TokenIDs = nonNil(req.Batches[i].Entries[j].TokenIDs)
		}
	}
	r, a, err := roundTrip(ctx, c, call{rt: rEvents, body: req, limit: smallLimit}, c.absent(FeatureEvents), DecodeEventsResult)
	if err != nil {
		return nil, err
	}
	if n := r.Applied + r.Duplicates + r.Stale; n != len(req.Batches) {
		return nil, c.bad(rEvents, a, "applied %d + duplicates %d + stale %d for %d batches sent", r.Applied, r.Duplicates, r.Stale, len(req.Batches))
	}
	c.present(FeatureEvents, rEvents)
	return r, nil
}

// ---------------------------------------------------------------------------
// Quotas (L2, fleet-wide per cache salt)

func tierQuery(t Tier) (url.Values, error) {
	switch t {
	case "", TierL2:
		return nil, nil
	case TierL1:
		return url.Values{"tier": {"l1"}}, nil
	}
	return nil, fmt.Errorf("tier %q: quota usage is read for l1 or l2", t)
}

// roundTrip sends cl and decodes its answer with decode. A failed call
// goes through missing (how the route tells an absent feature; nil: as it
// is); an answer decode rejects is a *BadAnswerError.
func roundTrip[T any](ctx context.Context, c *Client, cl call, missing func(error) error, decode func([]byte) (*T, error)) (*T, *answer, error) {
	a, err := c.do(ctx, cl)
	if err != nil {
		if missing != nil {
			err = missing(err)
		}
		return nil, nil, err
	}
	x, err := decode(a.body)
	if err != nil {
		return nil, a, c.decodeErr(cl.rt, a, err)
	}
	return x, a, nil
}

// absent is how a route of feature f tells that f is missing.
func (c *Client) absent(f Feature) func(error) error {
	return func(err error) error { return c.unsupported(f, err) }
}

// quotaAbsent is how the quota routes tell that quotas are missing.
func (c *Client) quotaAbsent(ctx context.Context) func(error) error {
	return func(err error) error { return c.quotaMissing(ctx, err) }
}

// quotaMissing explains a 404 on /quota: the /l2 naming of June 2026, or
// a coordinator without its eviction controller.
func (c *Client) quotaMissing(ctx context.Context, err error) error {
	if _, ok := routeMissing(err); !ok {
		return err
	}
	if _, perr := c.do(ctx, call{rt: rL2Status, limit: listingLimit}); perr == nil {
		c.learn(FeatureL2Naming, Present, "GET /l2/status answered")
		c.learn(FeatureQuota, Absent, "GET /quota answered 404")
		u := c.unsupportedErr(FeatureQuota, err)
		u.Hint = "this coordinator predates 2026-06-30: its quotas live under /l2 (GET /l2/status), which lmc does not drive; upgrade LMCache"
		return u
	}
	return c.unsupported(FeatureQuota, err)
}

// Quotas is GET /quota?tier=T: usage per salt on the tier (L2 by
// default), with the quotas (L2 only).
func (c *Client) Quotas(ctx context.Context, tier Tier) (*QuotaList, error) {
	q, err := tierQuery(tier)
	if err != nil {
		return nil, err
	}
	l, a, err := roundTrip(ctx, c, call{rt: rQuotaList, query: q, limit: listingLimit}, c.quotaAbsent(ctx), DecodeQuotaList)
	if err != nil {
		return nil, err
	}
	l.Tier = orL2(tier)
	for i := range l.ByCacheSalt {
		l.ByCacheSalt[i].Tier = l.Tier
		if l.Tier == TierL1 && l.ByCacheSalt[i].QuotaExists {
			return nil, c.bad(rQuotaList, a, "a quota on L1 for salt %q (quotas are L2 only)", l.ByCacheSalt[i].CacheSalt)
		}
	}
	c.present(FeatureQuota, rQuotaList)
	return l, nil
}

func orL2(t Tier) Tier {
	if t == "" {
		return TierL2
	}
	return t
}

// Quota is GET /quota/{salt}?tier=T ("" is the default salt). It never
// answers 404: a salt without a quota has QuotaExists false.
func (c *Client) Quota(ctx context.Context, salt string, tier Tier) (*QuotaStatus, error) {
	q, err := tierQuery(tier)
	if err != nil {
		return nil, err
	}
	s, a, err := roundTrip(ctx, c, call{rt: rQuotaGet, path: rQuotaGet.path(saltPath(salt)), query: q, limit: smallLimit}, c.quotaAbsent(ctx), DecodeQuotaStatus)
	if err != nil {
		return nil, err
	}
	if s.CacheSalt != salt {
		return nil, c.bad(rQuotaGet, a, "asked for salt %q, the answer is for %q", salt, s.CacheSalt)
	}
	s.Tier = orL2(tier)
	c.present(FeatureQuota, rQuotaGet)
	return s, nil
}

// SetQuota is PUT /quota/{salt} {"limit_gb": L}: an L2 quota in GiB.
func (c *Client) SetQuota(ctx context.Context, salt string, limitGB float64) (*QuotaWriteResult, error) {
	if math.IsNaN(limitGB) || math.IsInf(limitGB, 0) || limitGB < 0 {
		return nil, fmt.Errorf("quota %v GiB: use a finite number >= 0", limitGB)
	}
	r, a, err := roundTrip(ctx, c, call{rt: rQuotaSet, path: rQuotaSet.path(saltPath(salt)), body: wireQuotaSet{LimitGB: limitGB}, limit: smallLimit}, c.quotaAbsent(ctx), DecodeQuotaWrite)
	if err != nil {
		return nil, err
	}
	switch {
	case r.CacheSalt != salt:
		return nil, c.bad(rQuotaSet, a, "set salt %q, the answer is for %q", salt, r.CacheSalt)
	case r.Status != "ok":
		return nil, c.bad(rQuotaSet, a, "status %q, not ok", r.Status)
	case math.Abs(r.LimitGB-limitGB) > 1e-9*math.Max(1, limitGB):
		return nil, c.bad(rQuotaSet, a, "set %v GiB, the answer says %v", limitGB, r.LimitGB)
	}
	c.present(FeatureQuota, rQuotaSet)
	return r, nil
}

// DeleteQuota is DELETE /quota/{salt}: Status "removed" or "not_found".
func (c *Client) DeleteQuota(ctx context.Context, salt string) (*QuotaWriteResult, error) {
	r, a, err := roundTrip(ctx, c, call{rt: rQuotaDelete, path: rQuotaDelete.path(saltPath(salt)), limit: smallLimit}, c.quotaAbsent(ctx), DecodeQuotaWrite)
	if err != nil {
		return nil, err
	}
	switch {
	case r.CacheSalt != salt:
		return nil, c.bad(rQuotaDelete, a, "deleted salt %q, the answer is for %q", salt, r.CacheSalt)
	case r.Status != "removed" && r.Status != "not_found":
		return nil, c.bad(rQuotaDelete, a, "status %q is neither removed nor not_found", r.Status)
	}
	c.present(FeatureQuota, rQuotaDelete)
	return r, nil
}

// QuotaDefault is GET /quota/config: the default L2 limit (nil: salts
// without a quota are exempt from eviction).
func (c *Client) QuotaDefault(ctx context.Context) (*QuotaConfig, error) {
	q, _, err := roundTrip(ctx, c, call{rt: rQuotaConfig, limit: smallLimit}, c.absent(FeatureQuotaConfig), DecodeQuotaConfig)
	if err != nil {
		return nil, err
	}
	c.present(FeatureQuotaConfig, rQuotaConfig)
	return q, nil
}

// SetQuotaDefault is PUT /quota/config {"default_limit_gb": L|null}. 0
// arms allowlist enforcement: every salt without a quota becomes
// evictable.
func (c *Client) SetQuotaDefault(ctx context.Context, limitGB *float64) (*QuotaConfig, error) {
	if limitGB != nil && (math.IsNaN(*limitGB) || math.IsInf(*limitGB, 0) || *limitGB < 0) {
		return nil, fmt.Errorf("default quota %v GiB: use a finite number >= 0, or none", *limitGB)
	}
	q, a, err := roundTrip(ctx, c, call{rt: rQuotaConfigW, body: wireQuotaConfig{DefaultLimitGB: limitGB}, limit: smallLimit}, c.absent(FeatureQuotaConfig), DecodeQuotaConfig)
	if err != nil {
		return nil, err
	}
	if (q.DefaultLimitGB == nil) != (limitGB == nil) || limitGB != nil && math.Abs(*q.DefaultLimitGB-*limitGB) > 1e-9*math.Max(1, *limitGB) {
		return nil, c.bad(rQuotaConfigW, a, "the answer's default limit is not the one set")
	}
	c.present(FeatureQuotaConfig, rQuotaConfigW)
	return q, nil
}

// ---------------------------------------------------------------------------
// Pins (fleet-wide, L2 eviction only, reference counted)

// Pin is POST /cache/pins: every resolved key's pin count goes up by one
// (not idempotent: it is never retried).
func (c *Client) Pin(ctx context.Context, req TokensRequest) (*PinResult, error) {
	return c.pin(ctx, rPin, req, "pinned")
}

// Unpin is DELETE /cache/pins: every resolved key's pin count goes down by
// one (a key pinned N times needs N unpins).
func (c *Client) Unpin(ctx context.Context, req TokensRequest) (*PinResult, error) {
	return c.pin(ctx, rUnpin, req, "unpinned")
}

func (c *Client) pin(ctx context.Context, rt route, req TokensRequest, want string) (*PinResult, error) {
	if err := req.normalize(); err != nil {
		return nil, err
	}
	p, a, err := roundTrip(ctx, c, call{rt: rt, body: wirePin{ModelName: req.ModelName, WorldSize: req.WorldSize, TokenIDs: nonNil(req.TokenIDs), CacheSalt: req.CacheSalt}, limit: smallLimit}, c.absent(FeaturePins), DecodePinResult)
	if err != nil {
		return nil, err
	}
	if p.Status != want {
		return nil, c.bad(rt, a, "status %q, not %s", p.Status, want)
	}
	if reason := req.checkChunks(p.Requested, "the coordinator"); reason != "" {
		return nil, c.bad(rt, a, "%s", reason)
	}
	if p.Affected != p.Requested*req.WorldSize {
		return nil, c.bad(rt, a, "affected %d keys for %d chunks × world size %d", p.Affected, p.Requested, req.WorldSize)
	}
	p.Pinned = want == "pinned"
	c.present(FeaturePins, rt)
	return p, nil
}

// Pins is GET /cache/pins (newest coordinators; older ones answer 405:
// an *UnsupportedError for FeaturePinList).
func (c *Client) Pins(ctx context.Context, q PinsQuery) (*PinList, error) {
	v := url.Values{}
	if q.CacheSalt != "" {
		v.Set("cache_salt", q.CacheSalt)
	}
	if q.ModelName != "" {
		v.Set("model_name", q.ModelName)
	}
	if q.Offset < 0 || q.Limit < 0 || q.Limit > 10000 {
		return nil, fmt.Errorf("offset %d / limit %d: use offset >= 0 and limit 1..10000", q.Offset, q.Limit)
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	limit := q.Limit
	if limit == 0 {
		limit = 1000
	} else {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	a, err := c.do(ctx, call{rt: rPinList, query: v, limit: int64(4096 + limit*1024)})
	if err != nil {
		if ae, ok := routeMissing(err); ok && ae.Status == http.StatusMethodNotAllowed {
			c.learn(FeaturePins, Present, "GET /cache/pins answered 405 (POST/DELETE only)")
		}
		return nil, c.unsupported(FeaturePinList, err)
	}
	p, err := DecodePinList(a.body)
	if err != nil {
		return nil, c.decodeErr(rPinList, a, err)
	}
	if len(p.Pins) > limit {
		return nil, c.bad(rPinList, a, "%d pins on a page of at most %d", len(p.Pins), limit)
	}
	for i, pk := range p.Pins {
		if q.CacheSalt != "" && pk.Key.CacheSalt != q.CacheSalt || q.ModelName != "" && pk.Key.ModelName != q.ModelName {
			return nil, c.bad(rPinList, a, "pins[%d] (%s) is outside the filter", i, pk.Key)
		}
	}
	c.present(FeaturePinList, rPinList)
	c.present(FeaturePins, rPinList)
	return p, nil
}

// ---------------------------------------------------------------------------
// Deletes, prefetches, moves (relayed to MP servers)

// Delete is POST /cache/delete: delete a token sequence's keys on one MP
// server (keys with an L2 pin are skipped unless Force). Never retried.
func (c *Client) Delete(ctx context.Context, req DeleteRequest) (*DeleteResult, error) {
	if req.InstanceID == "" {
		return nil, errors.New("an instance id is required")
	}
	if err := req.normalize(); err != nil {
		return nil, err
	}
	if req.Tier == "" {
		req.Tier = TierAll
	}
	if !req.Tier.Valid() {
		return nil, fmt.Errorf("tier %q: use l1, l2 or all", req.Tier)
	}
	body := wireDelete{InstanceID: req.InstanceID, ModelName: req.ModelName, WorldSize: req.WorldSize, TokenIDs: nonNil(req.TokenIDs),
		CacheSalt: req.CacheSalt, Tier: req.Tier, Force: req.Force}
	r, a, err := roundTrip(ctx, c, call{rt: rDelete, body: body, limit: smallLimit}, c.absent(FeatureDelete), DecodeDeleteResult)
	if err != nil {
		return nil, err
	}
	tiers := 1
	if req.Tier == TierAll {
		tiers = 2 // a key resident in both tiers counts twice
	}
	keys := r.Requested * req.WorldSize
	switch {
	case r.InstanceID != req.InstanceID:
		return nil, c.bad(rDelete, a, "asked to delete on %q, the answer is for %q", req.InstanceID, r.InstanceID)
	case r.Status != "deleted" && r.Status != "noop":
		return nil, c.bad(rDelete, a, "status %q is neither deleted nor noop", r.Status)
	case r.Status == "noop" && (r.Requested != 0 || r.Affected != 0):
		return nil, c.bad(rDelete, a, "status noop with %d chunks requested and %d keys affected", r.Requested, r.Affected)
	case r.Affected > keys*tiers || r.Skipped > keys*tiers:
		return nil, c.bad(rDelete, a, "affected %d and skipped %d keys of %d chunks × world size %d", r.Affected, r.Skipped, r.Requested, req.WorldSize)
	}
	if reason := req.checkChunks(r.Requested, "the coordinator"); reason != "" {
		return nil, c.bad(rDelete, a, "%s", reason)
	}
	c.present(FeatureDelete, rDelete)
	return r, nil
}

// Prefetch is POST /cache/prefetches: warm one MP server's L1 from L2.
// Never retried (each submit starts a job). Status "noop" means fewer
// tokens than one chunk: there is nothing to poll.
func (c *Client) Prefetch(ctx context.Context, req PrefetchRequest) (*PrefetchSubmitResult, error) {
	if req.InstanceID == "" {
		return nil, errors.New("an instance id is required")
	}
	if err := req.normalize(); err != nil {
		return nil, err
	}
	body := wirePrefetch{InstanceID: req.InstanceID, ModelName: req.ModelName, WorldSize: req.WorldSize, TokenIDs: nonNil(req.TokenIDs), CacheSalt: req.CacheSalt}
	r, a, err := roundTrip(ctx, c, call{rt: rPrefetch, body: body, limit: smallLimit}, c.absent(FeaturePrefetch), DecodePrefetchSubmit)
	if err != nil {
		return nil, err
	}
	if r.InstanceID != req.InstanceID {
		return nil, c.bad(rPrefetch, a, "asked to prefetch on %q, the answer is for %q", req.InstanceID, r.InstanceID)
	}
	if reason := req.checkChunks(r.Chunks, "the MP server"); reason != "" {
		return nil, c.bad(rPrefetch, a, "%s", reason)
	}
	c.present(FeaturePrefetch, rPrefetch)
	return r, nil
}

// PrefetchStatus is one poll. The first poll that sees "completed"
// consumes the job: a later one answers 404 (KindUnknownJob). Never
// retried, and never call it twice in parallel for one job.
func (c *Client) PrefetchStatus(ctx context.Context, instanceID, requestID string) (*PrefetchStatus, error) {
	if instanceID == "" || requestID == "" {
		return nil, errors.New("an instance id and a request id are required")
	}
	p, a, err := roundTrip(ctx, c, call{rt: rPrefetchStatus, path: rPrefetchStatus.path(instanceID, requestID), limit: smallLimit}, c.absent(FeaturePrefetch), DecodePrefetchStatus)
	if err != nil {
		return nil, err
	}
	if p.RequestID != "" && p.RequestID != requestID {
		return nil, c.bad(rPrefetchStatus, a, "polled request %q, the answer is for %q", requestID, p.RequestID)
	}
	p.InstanceID, p.RequestID = instanceID, requestID
	return p, nil
}

// DefaultPollInterval is WaitPrefetch's and WaitMove's default.
const DefaultPollInterval = 500 * time.Millisecond

// WaitPrefetch polls until the job completes or ctx ends. expectKeys,
// when > 0 (chunks × world size of the submit), is checked against
// total_keys. progress, if not nil, sees every pending answer.
//
// A poll whose answer was lost may have consumed the completion (net/http
// even resends a GET whose connection dropped, so the lost answer can
// surface as a 404): WaitPrefetch polls again after up to 3 lost answers
// in a row, and a 404 once the job was seen pending, or after a lost
// answer, means done — it returns a completed status with Consumed set
// and no counts (spec §6.12; an MP server restart also loses the job,
// which the API cannot tell apart). A 404 on the first poll is an error.
func (c *Client) WaitPrefetch(ctx context.Context, instanceID, requestID string, interval time.Duration, expectKeys int, progress func(*PrefetchStatus)) (*PrefetchStatus, error) {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	lost, seen := 0, false
	for {
		p, err := c.PrefetchStatus(ctx, instanceID, requestID)
		var te *TransportError
		var ae *APIError
		switch {
		case err == nil:
			lost, seen = 0, true
		case errors.As(err, &te) && ctx.Err() == nil && lost < 3:
			lost++
		case (lost > 0 || seen) && errors.As(err, &ae) && ae.Kind == KindUnknownJob:
			return &PrefetchStatus{InstanceID: instanceID, RequestID: requestID, Status: "completed", Consumed: true,
				Warnings: []string{"the job is gone after it was seen: a poll whose answer was lost (or another poller) consumed its completion, or the MP server restarted; counts unknown"}}, nil
		default:
			return nil, err
		}
		if p != nil && p.Completed() {
			if expectKeys > 0 && p.TotalKeys != expectKeys {
				return nil, c.bad(rPrefetchStatus, &answer{status: 200, body: []byte(fmt.Sprintf("total_keys %d", p.TotalKeys))},
					"total_keys %d for a submit of %d keys", p.TotalKeys, expectKeys)
			}
			return p, nil
		}
		if p != nil && progress != nil {
			progress(p)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for prefetch %s on %s: %w (the job keeps running there)", requestID, instanceID, ctx.Err())
		case <-t.C:
		}
	}
}

// Move is POST /cache/moves (proposed API): relocate a token sequence's
// L1 chunks from one MP server to another. An *UnsupportedError when the
// coordinator has no moves. Never retried.
func (c *Client) Move(ctx context.Context, req MoveRequest) (*MoveSubmitResult, error) {
	switch {
	case req.SourceInstanceID == "" || req.TargetInstanceID == "":
		return nil, errors.New("a source and a target instance are required")
	case req.SourceInstanceID == req.TargetInstanceID:
		return nil, errors.New("the source and the target are the same instance")
	}
	if err := req.normalize(); err != nil {
		return nil, err
	}
	if c.support(FeatureMoves) == Absent {
		return nil, c.unsupportedErr(FeatureMoves, nil)
	}
	body := wireMove{SourceInstanceID: req.SourceInstanceID, TargetInstanceID: req.TargetInstanceID, ModelName: req.ModelName,
		WorldSize: req.WorldSize, TokenIDs: nonNil(req.TokenIDs), CacheSalt: req.CacheSalt, KeepSource: req.KeepSource}
	m, a, err := roundTrip(ctx, c, call{rt: rMove, body: body, limit: smallLimit}, c.absent(FeatureMoves), DecodeMoveSubmit)
	if err != nil {
		return nil, err
	}
	if m.Status == "submitted" && (m.SourceInstanceID != req.SourceInstanceID || m.TargetInstanceID != req.TargetInstanceID) {
		return nil, c.bad(rMove, a, "asked to move %s → %s, the answer is for %s → %s", req.SourceInstanceID, req.TargetInstanceID, m.SourceInstanceID, m.TargetInstanceID)
	}
	if reason := req.checkChunks(m.Requested, "the coordinator"); reason != "" {
		return nil, c.bad(rMove, a, "%s", reason)
	}
	c.present(FeatureMoves, rMove)
	return m, nil
}

// MoveStatus is GET /cache/moves/{move_id}. Terminal reads can be
// repeated; a 404 means unknown, expired or evicted.
func (c *Client) MoveStatus(ctx context.Context, moveID string) (*MoveStatus, error) {
	if moveID == "" {
		return nil, errors.New("a move id is required")
	}
	m, a, err := roundTrip(ctx, c, call{rt: rMoveStatus, path: rMoveStatus.path(moveID), limit: smallLimit}, c.absent(FeatureMoves), DecodeMoveStatus)
	if err != nil {
		return nil, err
	}
	if m.MoveID != "" && m.MoveID != moveID {
		return nil, c.bad(rMoveStatus, a, "asked for move %q, the answer is for %q", moveID, m.MoveID)
	}
	m.MoveID = moveID
	return m, nil
}

// WaitMove polls a move until it is completed or failed, or ctx ends.
func (c *Client) WaitMove(ctx context.Context, moveID string, interval time.Duration, progress func(*MoveStatus)) (*MoveStatus, error) {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	for {
		m, err := c.MoveStatus(ctx, moveID)
		if err != nil {
			return nil, err
		}
		if m.Terminal() {
			return m, nil
		}
		if progress != nil {
			progress(m)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for move %s: %w (it keeps running on the coordinator)", moveID, ctx.Err())
		case <-t.C:
		}
	}
}

// Metrics is GET /metrics, the Prometheus text as it came.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	a, err := c.do(ctx, call{rt: rMetrics, limit: metricsLimit})
	if err != nil {
		return "", c.unsupported(FeatureMetrics, err)
	}
	c.present(FeatureMetrics, rMetrics)
	return string(a.body), nil
}
