package sandboxcoordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"lmc/internal/pyjson"
)

const gib = 1 << 30

// epochFloat is time.time() at t: seconds plus the fraction (so
// 1770000002.417 reads back as written).
func epochFloat(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }

func hHealthz(*Server, *request) reply { return jsonReply(200, pyjson.Object{{"status", "healthy"}}) }

// ---------------------------------------------------------------------------
// Fleet membership (spec §6.2)

func hRegister(s *Server, rq *request) reply {
	var in instance
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		loc := []any{"body"}
		in.ip, _ = c.strStripped(o, loc, "ip", true, 1)
		in.port, _ = c.int(o, loc, "http_port", true, 0, geLe(1, 65535))
		id, _ := c.str(o, loc, "instance_id", false, "")
		in.id = strings.TrimSpace(id)
		in.metadata, _ = c.strDict(o, loc, "metadata")
		p2p, _ := c.str(o, loc, "p2p_advertised_url", false, "")
		in.p2p = strings.TrimSpace(p2p)
		in.mq, _ = c.int(o, loc, "mq_port", false, 0, geLe(0, 65535))
	})
	if r != nil {
		return *r
	}
	if in.id == "" {
		in.id = "mp-" + s.cfg.ids("instance")
	}
	now := s.cfg.now()
	in.regTime, in.lastHB = epochFloat(now), now
	s.mu.Lock()
	re := s.st.register(&in)
	s.mu.Unlock()
	return jsonReply(200, pyjson.Object{{"instance_id", in.id}, {"re_registered", re}})
}

func hHeartbeat(s *Server, rq *request) reply {
	id := rq.params["instance_id"]
	s.mu.Lock()
	in := s.st.reg[id]
	if in != nil {
		in.lastHB = s.cfg.now()
	}
	s.mu.Unlock()
	if in == nil {
		return jsonReply(http.StatusNotFound, pyjson.Object{{"error", "unknown instance " + id + "; re-register"}})
	}
	return jsonReply(200, pyjson.Object{{"instance_id", id}})
}

func hDeregister(s *Server, rq *request) reply {
	s.mu.Lock()
	s.st.deregister(rq.params["instance_id"])
	s.mu.Unlock()
	return reply{status: http.StatusNoContent}
}

func hInstances(s *Server, _ *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	for _, id := range s.st.regOrder {
		in := s.st.reg[id]
		e := pyjson.Object{{"instance_id", in.id}, {"ip", in.ip}, {"http_port", in.port}, {"registration_time", pyjson.Float(in.regTime)}, {"metadata", in.metadata}}
		if s.cfg.prof.p2pFields {
			e = append(e, pyjson.Member{"p2p_advertised_url", in.p2p}, pyjson.Member{"mq_port", in.mq})
		}
		list = append(list, e)
	}
	return jsonReply(200, pyjson.Object{{"instances", list}})
}

// ---------------------------------------------------------------------------
// Usage (spec §6.3)

func moduleJSON(m *module, declared bool) pyjson.Object {
	var ratio any
	if m.cap > 0 && declared {
		ratio = pyjson.Float(float64(m.used) / float64(m.cap))
	}
	return pyjson.Object{{"tier", m.tier}, {"backend", m.backend}, {"shared", m.shared}, {"used_bytes", m.used}, {"capacity_bytes", m.cap}, {"usage_ratio", ratio}}
}

func (s *Server) instanceUsage(id string, mods map[compKey]*module) pyjson.Object {
	_, registered := s.st.reg[id]
	_, declared := s.st.decls[id]
	list := []any{}
	for _, m := range sortedModules(mods) {
		list = append(list, moduleJSON(m, declared))
	}
	return pyjson.Object{{"instance_id", id}, {"registered", registered}, {"declared_capacity", declared}, {"modules", list}}
}

func hUsage(s *Server, _ *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	insts, shared := s.st.usage()
	ids := slices.Sorted(maps.Keys(insts))
	list := []any{}
	for _, id := range ids {
		list = append(list, s.instanceUsage(id, insts[id]))
	}
	sh := []any{}
	for _, m := range sortedModules(shared) {
		sh = append(sh, moduleJSON(m, true))
	}
	return jsonReply(200, pyjson.Object{{"instances", list}, {"shared_modules", sh}})
}

func hInstanceUsage(s *Server, rq *request) reply {
	id := rq.params["instance_id"]
	s.mu.Lock()
	defer s.mu.Unlock()
	insts, _ := s.st.usage()
	mods, ok := insts[id]
	if !ok {
		return detail(http.StatusNotFound, "unknown instance "+pyjson.Repr(id))
	}
	return jsonReply(200, s.instanceUsage(id, mods))
}

// ---------------------------------------------------------------------------
// Directory (spec §6.4–§6.7)

func placementsJSON(ps []placement) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = p.wire()
	}
	return out
}

func (s *Server) lookupResult(key pyjson.Object, k objKey, withTokens bool) pyjson.Object {
	var ps []placement
	var count int64
	if r := s.st.records[k]; r != nil {
		ps, count = sortedPlacements(r.placements), r.accessCount
	}
	e := pyjson.Object{{"key", key}, {"placements", placementsJSON(ps)}}
	if withTokens {
		e = append(e, pyjson.Member{"token_ids", s.st.tokenIDs(k.hash)})
		if s.cfg.prof.accessCount {
			e = append(e, pyjson.Member{"access_count", count})
		}
	}
	return e
}

// lookupReply answers the results of keys (each named in the answer as
// name(i) says), read under the lock, after the members head.
func (s *Server) lookupReply(keys []objKey, name func(i int) pyjson.Object, withTokens bool, head ...pyjson.Member) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := []any{}
	for i, k := range keys {
		res = append(res, s.lookupResult(name(i), k, withTokens))
	}
	return jsonReply(200, append(pyjson.Object(head), pyjson.Member{"results", res}))
}

func hLookup(s *Server, rq *request) reply {
	var eks []encodedKey
	var keys []objKey
	asSent := func(i int) pyjson.Object { return eks[i].wire() }
	if s.cfg.prof.keysOnly {
		// {"keys": [...]} only; token_ids and the rest are ignored.
		_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
			eks, keys, _ = c.keyList(o, []any{"body"}, "keys", false)
		})
		if r != nil {
			return *r
		}
		return s.lookupReply(keys, asSent, false)
	}
	var f tokensForm
	c, o, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		eks, keys, _ = c.keyList(o, []any{"body"}, "keys", false)
		f, _ = c.tokensFields(o, false, false)
	})
	if r != nil {
		return *r
	}
	switch {
	case len(f.tokens) > 0 && f.model == "":
		c.valueError([]any{"body"}, "'model_name' is required with 'token_ids'", o)
	case (len(keys) == 0) == (len(f.tokens) == 0):
		c.valueError([]any{"body"}, "supply exactly one of 'keys' or 'token_ids'", o)
	}
	if !c.ok() {
		return unprocessable(c)
	}
	if len(keys) > 0 {
		return s.lookupReply(keys, asSent, true, pyjson.Member{"chunks", int64(len(keys))})
	}
	return s.lookupTokens(f, true)
}

// lookupTokens answers a lookup of the tokens form.
func (s *Server) lookupTokens(f tokensForm, withTokens bool) reply {
	resolved, chunks, rr := s.resolve(f)
	if rr != nil {
		return *rr
	}
	return s.lookupReply(resolved, func(i int) pyjson.Object { return resolved[i].wire() }, withTokens, pyjson.Member{"chunks", int64(chunks)})
}

// hLookupTokens is the keys-only era's tokens route: {chunks, results}
// without token_ids.
func hLookupTokens(s *Server, rq *request) reply {
	var f tokensForm
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		f, _ = c.tokensFields(o, true, false)
	})
	if r != nil {
		return *r
	}
	return s.lookupTokens(f, false)
}

func hTokenIDs(s *Server, rq *request) reply {
	var eks []encodedKey
	var keys []objKey
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		eks, keys, _ = c.keyList(o, []any{"body"}, "keys", false)
	})
	if r != nil {
		return *r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := []any{}
	for i, k := range keys {
		res = append(res, pyjson.Object{{"key", eks[i].wire()}, {"token_ids", s.st.tokenIDs(k.hash)}})
	}
	return jsonReply(200, pyjson.Object{{"results", res}})
}

// hBlendLookup validates the tokens form; the fake runs with
// --enable-blend-lookup off, so it matches nothing.
func hBlendLookup(s *Server, rq *request) reply {
	var f tokensForm
	c, o, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		f, _ = c.tokensFields(o, false, false)
	})
	if r != nil {
		return *r
	}
	switch {
	case len(f.tokens) == 0:
		c.valueError([]any{"body"}, "'token_ids' is required", o)
	case f.model == "":
		c.valueError([]any{"body"}, "'model_name' is required with 'token_ids'", o)
	}
	if !c.ok() {
		return unprocessable(c)
	}
	if len(f.tokens) > maxTokenIDs {
		return detail(http.StatusBadRequest, fmt.Sprintf("too many token_ids in a single request (limit=%d, got=%d)", maxTokenIDs, len(f.tokens)))
	}
	return jsonReply(200, pyjson.Object{{"matches", []any{}}})
}

func hKeys(s *Server, rq *request) reply {
	c := &v{}
	tier := c.queryEnum(rq, "tier", "all", "l1", "l2", "all")
	inst, backend := queryStr(rq, "instance_id"), queryStr(rq, "backend")
	q := c.pageQuery(rq)
	if !c.ok() {
		return unprocessable(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []pyjson.Object
	for _, r := range s.st.recordList() {
		var ps []placement
		for _, p := range r.placements {
			if (tier == "all" || p.tier == tier) && (inst == "" || p.instance == inst) && (backend == "" || p.backend == backend) {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			continue
		}
		e := pyjson.Object{{"key", r.key.wire()}, {"placements", placementsJSON(ps)}, {"num_tokens", int64(len(s.st.tokenIDs(r.key.hash)))}}
		if s.cfg.prof.accessCount {
			e = append(e, pyjson.Member{"access_count", r.accessCount})
		}
		matched = append(matched, e)
	}
	return page(q, matched, "keys", func(e pyjson.Object) any { return e })
}

// pageQuery is the ?offset= and ?limit= of a listing.
type pageQuery struct{ offset, limit int64 }

func (c *v) pageQuery(rq *request) pageQuery {
	return pageQuery{c.queryInt(rq, "offset", 0, ge(0)), c.queryInt(rq, "limit", 1000, geLe(1, 10000))}
}

// page answers the page q of all: {"total": len(all), name: [item(e)...]}.
func page[T any](q pageQuery, all []T, name string, item func(T) any) reply {
	out := []any{}
	for i := q.offset; i < int64(len(all)) && i < q.offset+q.limit; i++ {
		out = append(out, item(all[i]))
	}
	return jsonReply(200, pyjson.Object{{"total", int64(len(all))}, {name, out}})
}

func hStats(s *Server, _ *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	var nPl, l1n, l1b, l2n, l2b int64
	for _, r := range s.st.records {
		nPl += int64(len(r.placements))
		for _, p := range r.placements {
			if p.tier == "l1" {
				l1n, l1b = l1n+1, l1b+p.size
			} else {
				l2n, l2b = l2n+1, l2b+p.size
			}
		}
	}
	out := pyjson.Object{{"num_keys", int64(len(s.st.records))}, {"num_placements", nPl}}
	if s.cfg.prof.keysOnly {
		// Before mid-August 2026: per-instance stream state (the key name
		// and layout are inferred; spec §6.7).
		streams := pyjson.Object{}
		ids := slices.Sorted(maps.Keys(s.st.cursors))
		for _, id := range ids {
			cu := s.st.cursors[id]
			var n1, n2 int64
			for _, r := range s.st.records {
				for _, p := range r.placements {
					if p.instance == id && p.tier == "l1" {
						n1++
					} else if p.instance == id {
						n2++
					}
				}
			}
			streams = append(streams, pyjson.Member{id, pyjson.Object{{"incarnation", cu.incarnation}, {"last_seq", cu.lastSeq}, {"gap_detected", cu.gap},
				{"num_l1_keys", n1}, {"num_l2_keys", n2}}})
		}
		return jsonReply(200, append(out, pyjson.Member{"instances", streams}))
	}
	by := pyjson.Object{}
	for _, id := range s.st.l1By.keys {
		by = append(by, pyjson.Member{id, int64(len(s.st.l1By.m[id]))})
	}
	out = append(out, pyjson.Member{"l1_keys_by_instance", by})
	if s.cfg.prof.blendStats {
		blend := pyjson.Object{{"num_contents", int64(0)}, {"num_chunks", int64(0)}}
		if s.cfg.prof.blendClaims {
			blend = append(blend, pyjson.Member{"num_claims", int64(0)}, pyjson.Member{"num_namespaces", int64(0)})
		}
		out = append(out, pyjson.Member{"blend", append(blend, pyjson.Member{"table_size", int64(1024)})})
	}
	if s.cfg.prof.tierTotals {
		out = append(out, pyjson.Member{"l1_count", l1n}, pyjson.Member{"l1_size_bytes", l1b}, pyjson.Member{"l2_count", l2n}, pyjson.Member{"l2_size_bytes", l2b})
	}
	return jsonReply(200, out)
}

// ---------------------------------------------------------------------------
// Events (spec §6.8)

func hEvents(s *Server, rq *request) reply {
	var batches []*batch
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		batches, _ = c.eventsRequest(o)
	})
	if r != nil {
		return *r
	}
	applied, dup, stale := s.offer(batches)
	return jsonReply(200, pyjson.Object{{"applied", int64(applied)}, {"duplicates", int64(dup)}, {"stale", int64(stale)}})
}

func (s *Server) offer(batches []*batch) (applied, dup, stale int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range batches {
		switch s.st.offer(b) {
		case "applied":
			applied++
		case "duplicate":
			dup++
		default:
			stale++
		}
	}
	return
}

// Ingest applies a POST /events body exactly as the route does (for
// seeding generations that predate /events). It returns the route's
// answer.
func (s *Server) Ingest(body []byte) (status int, answer []byte) {
	r := hEvents(s, &request{method: "POST", path: "/events", body: body, hasBody: len(body) > 0, ctype: "application/json", ctx: context.Background()})
	return r.status, r.body
}

// ---------------------------------------------------------------------------
// Quotas (spec §6.9)

// quotaTier validates ?tier= (l1, l2, all; default l2); all has no usage.
func quotaTier(rq *request, c *v) (string, *reply) {
	t := c.queryEnum(rq, "tier", "l2", "l1", "l2", "all")
	if !c.ok() {
		r := unprocessable(c)
		return "", &r
	}
	if t == "all" {
		r := detail(http.StatusBadRequest, "tier 'all' has no usage accounting; only 'l1', 'l2'")
		return "", &r
	}
	return t, nil
}

func l2Only(t string) *reply {
	if t != "l2" {
		r := detail(http.StatusBadRequest, "quotas apply to tier 'l2' only, not "+pyjson.Repr(t))
		return &r
	}
	return nil
}

// l2Query validates ?tier= of the routes that take only l2 (the default).
func l2Query(rq *request) *reply {
	c := &v{}
	tier := c.queryEnum(rq, "tier", "l2", "l1", "l2", "all")
	if !c.ok() {
		r := unprocessable(c)
		return &r
	}
	return l2Only(tier)
}

func saltParam(rq *request) string {
	if s := rq.params["cache_salt"]; s != "_default" {
		return s
	}
	return ""
}

func (s *Server) quotaStatus(salt, tier string, usage map[string]int64) pyjson.Object {
	limit, exists := s.st.quotas[salt]
	if tier != "l2" {
		limit, exists = 0, false
	}
	return pyjson.Object{{"cache_salt", salt}, {"quota_limit_gb", pyjson.Float(float64(limit) / gib)}, {"quota_exists", exists}, {"usage_gb", pyjson.Float(float64(usage[salt]) / gib)}}
}

func hQuotaList(s *Server, rq *request) reply {
	tier, r := quotaTier(rq, &v{})
	if r != nil {
		return *r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	usage := s.st.saltUsage(tier)
	salts := map[string]bool{}
	var total int64
	for salt, b := range usage {
		salts[salt] = true
		total += b
	}
	if tier == "l2" {
		for salt := range s.st.quotas {
			salts[salt] = true
		}
	}
	names := slices.Sorted(maps.Keys(salts))
	rows := []any{}
	for _, n := range names {
		rows = append(rows, s.quotaStatus(n, tier, usage))
	}
	return jsonReply(200, pyjson.Object{{"total_gb", pyjson.Float(float64(total) / gib)}, {"by_cache_salt", rows}})
}

func hQuotaGet(s *Server, rq *request) reply {
	tier, r := quotaTier(rq, &v{})
	if r != nil {
		return *r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return jsonReply(200, s.quotaStatus(saltParam(rq), tier, s.st.saltUsage(tier)))
}

func hQuotaPut(s *Server, rq *request) reply {
	var limit float64
	tier := "l2"
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		if val, ok := field(o, "limit_gb"); ok {
			limit, _ = c.floatValue(val, []any{"body", "limit_gb"}, true)
		} else {
			c.missing(o, []any{"body", "limit_gb"})
		}
		tier, _ = c.enum(o, []any{"body"}, "tier", "l2", "l1", "l2", "all")
	})
	if r != nil {
		return *r
	}
	if r := l2Only(tier); r != nil {
		return *r
	}
	if math.IsInf(limit, 0) || limit*gib > math.MaxInt64 {
		return internalServerError()
	}
	salt := saltParam(rq)
	s.mu.Lock()
	s.st.quotas[salt] = int64(limit * gib)
	s.mu.Unlock()
	return jsonReply(200, pyjson.Object{{"cache_salt", salt}, {"limit_gb", pyjson.Float(limit)}, {"status", "ok"}})
}

func hQuotaDelete(s *Server, rq *request) reply {
	if r := l2Query(rq); r != nil {
		return *r
	}
	salt := saltParam(rq)
	s.mu.Lock()
	_, ok := s.st.quotas[salt]
	delete(s.st.quotas, salt)
	s.mu.Unlock()
	status := "removed"
	if !ok {
		status = "not_found"
	}
	return jsonReply(200, pyjson.Object{{"cache_salt", salt}, {"limit_gb", pyjson.Float(0)}, {"status", status}})
}

func hQuotaConfigGet(s *Server, rq *request) reply {
	if r := l2Query(rq); r != nil {
		return *r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var d any
	if s.st.defaultLimit != nil {
		d = pyjson.Float(float64(*s.st.defaultLimit) / gib)
	}
	return jsonReply(200, pyjson.Object{{"default_limit_gb", d}})
}

func hQuotaConfigPut(s *Server, rq *request) reply {
	var limit *float64
	tier := "l2"
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		if val, ok := field(o, "default_limit_gb"); ok && val != nil {
			if f, ok := c.floatValue(val, []any{"body", "default_limit_gb"}, true); ok {
				limit = &f
			}
		}
		tier, _ = c.enum(o, []any{"body"}, "tier", "l2", "l1", "l2", "all")
	})
	if r != nil {
		return *r
	}
	if r := l2Only(tier); r != nil {
		return *r
	}
	if limit != nil && (math.IsInf(*limit, 0) || *limit*gib > math.MaxInt64) {
		return internalServerError()
	}
	s.mu.Lock()
	var echo any
	if limit == nil {
		s.st.defaultLimit = nil
	} else {
		b := int64(*limit * gib)
		s.st.defaultLimit = &b
		echo = pyjson.Float(*limit)
	}
	s.mu.Unlock()
	return jsonReply(200, pyjson.Object{{"default_limit_gb", echo}})
}

// hL2Status is the /l2 naming of June 2026 (the shape is not part of
// the spec; it serves feature detection).
func hL2Status(s *Server, _ *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	usage := s.st.saltUsage("l2")
	rows := pyjson.Object{}
	names := slices.Sorted(maps.Keys(usage))
	for _, n := range names {
		rows = append(rows, pyjson.Member{n, pyjson.Object{{"usage_bytes", usage[n]}}})
	}
	return jsonReply(200, pyjson.Object{{"salts", rows}})
}

// ---------------------------------------------------------------------------
// Pins (spec §6.10)

func (s *Server) pinBody(rq *request) ([]objKey, int, int64, *reply) {
	var f tokensForm
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		f, _ = c.tokensFields(o, true, true)
	})
	if r != nil {
		return nil, 0, 0, r
	}
	keys, chunks, rr := s.resolve(f)
	return keys, chunks, f.ws, rr
}

func hPin(s *Server, rq *request) reply {
	keys, chunks, _, r := s.pinBody(rq)
	if r != nil {
		return *r
	}
	s.mu.Lock()
	for _, k := range keys {
		p := s.st.pins[k]
		if p == nil {
			s.st.pinSeq++
			p = &pinEntry{order: s.st.pinSeq}
			s.st.pins[k] = p
		}
		p.count++
	}
	s.mu.Unlock()
	return jsonReply(200, pyjson.Object{{"requested", int64(chunks)}, {"affected", int64(len(keys))}, {"status", "pinned"}})
}

func hUnpin(s *Server, rq *request) reply {
	keys, chunks, _, r := s.pinBody(rq)
	if r != nil {
		return *r
	}
	s.mu.Lock()
	for _, k := range keys {
		if p := s.st.pins[k]; p != nil {
			if p.count--; p.count <= 0 {
				delete(s.st.pins, k)
			}
		}
	}
	s.mu.Unlock()
	return jsonReply(200, pyjson.Object{{"requested", int64(chunks)}, {"affected", int64(len(keys))}, {"status", "unpinned"}})
}

func hPinList(s *Server, rq *request) reply {
	c := &v{}
	salt, model := queryStr(rq, "cache_salt"), queryStr(rq, "model_name")
	q := c.pageQuery(rq)
	if !c.ok() {
		return unprocessable(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type pk struct {
		k objKey
		p *pinEntry
	}
	var all []pk
	for k, p := range s.st.pins {
		if (salt == "" || k.salt == salt) && (model == "" || k.model == model) {
			all = append(all, pk{k, p})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].p.order < all[j].p.order })
	return page(q, all, "pins", func(e pk) any { return pyjson.Object{{"key", e.k.wire()}, {"pin_count", int64(e.p.count)}} })
}

// PinCount returns a key's pin count (tests).
func (s *Server) PinCount(hashHex, model string, kvRank int64, salt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.st.pins[objKey{hash: strings.ToLower(hashHex), model: model, rank: kvRank, salt: salt}]; p != nil {
		return p.count
	}
	return 0
}

// ---------------------------------------------------------------------------
// Calls to MP servers

// resolveAt finds the base URLs of the instances ids and then resolves
// f; the first failure is the reply.
func (s *Server) resolveAt(f tokensForm, ids ...string) ([]string, []objKey, int, *reply) {
	bases := make([]string, len(ids))
	for i, id := range ids {
		var r *reply
		if bases[i], r = s.mpBase(id); r != nil {
			return nil, nil, 0, r
		}
	}
	keys, chunks, r := s.resolve(f)
	return bases, keys, chunks, r
}

// mpBase returns the registered instance's base URL, or the 404.
func (s *Server) mpBase(id string) (string, *reply) {
	s.mu.Lock()
	in := s.st.reg[id]
	s.mu.Unlock()
	if in == nil {
		r := detail(http.StatusNotFound, "no MP server registered with instance_id="+pyjson.Repr(id))
		return "", &r
	}
	return strings.TrimRight(s.cfg.mpURL(in.id, in.ip, int(in.port)), "/"), nil
}

// mpDo sends one request to an MP server; err is httpx-like text.
func (s *Server) mpDo(ctx context.Context, method, url string, body []byte) (int, []byte, error) {
	req, err := jsonRequest(ctx, method, url, body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.cfg.hc.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return 0, nil, errors.New("timed out")
		case strings.Contains(err.Error(), "connection refused"), strings.Contains(err.Error(), "no such host"):
			return 0, nil, errors.New("All connection attempts failed")
		}
		return 0, nil, errors.New("Server disconnected without sending a response.")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, errors.New("peer closed connection without sending complete message body")
	}
	return resp.StatusCode, data, nil
}

// jsonRequest is a request with body (nil: none) as JSON.
func jsonRequest(ctx context.Context, method, url string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// mpCall is mpDo raising for a non-2xx status as httpx does; the answer
// is its JSON object (an empty one when it is none).
func (s *Server) mpCall(ctx context.Context, method, url string, body []byte) (*pyjson.Dict, error) {
	status, data, err := s.mpDo(ctx, method, url, body)
	if err == nil && status/100 != 2 {
		err = statusError(status, url)
	}
	if err != nil {
		return nil, err
	}
	if v, _ := pyjson.Loads(data); v != nil {
		if o, ok := v.(*pyjson.Dict); ok {
			return o, nil
		}
	}
	return &pyjson.Dict{}, nil
}

// dictInt and dictStr read an MP server's answer (0 and "" for a member
// absent or of another type).
func dictInt(o *pyjson.Dict, k string) int64 {
	n, _ := o.Vals[k].(pyjson.Int)
	return n.V
}

func dictStr(o *pyjson.Dict, k string) string {
	s, _ := o.Vals[k].(string)
	return s
}

// mpDelete forwards a delete of keys to the MP server at base and returns
// what it deleted and skipped.
func (s *Server) mpDelete(ctx context.Context, base string, keys []objKey, tier string, force bool) (deleted, skipped int64, err error) {
	a, err := s.mpCall(ctx, http.MethodDelete, base+"/cache/objects", pyjson.Dumps(pyjson.Object{{"keys", keysJSON(keys)}, {"tier", tier}, {"force", force}}))
	if err != nil {
		return 0, 0, err
	}
	return dictInt(a, "deleted"), dictInt(a, "skipped"), nil
}

// mpPrefetch forwards a prefetch of f to the MP server at base.
func (s *Server) mpPrefetch(ctx context.Context, base string, f tokensForm) (*pyjson.Dict, error) {
	return s.mpCall(ctx, http.MethodPost, base+"/cache/prefetches", prefetchForward(f))
}

// statusError is httpx's raise_for_status text.
func statusError(status int, url string) error {
	kind := "Server error"
	if status < 500 {
		kind = "Client error"
	}
	if status < 400 {
		kind = "Redirect response"
	}
	return fmt.Errorf("%s '%d %s' for url '%s'\nFor more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/%d",
		kind, status, http.StatusText(status), url, status)
}

func keysJSON(keys []objKey) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k.wire()
	}
	return out
}

// ---------------------------------------------------------------------------
// Deletes (spec §6.11)

func hDelete(s *Server, rq *request) reply {
	var f tokensForm
	var id, tier string
	var force bool
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		id, _ = c.str(o, []any{"body"}, "instance_id", true, "")
		f, _ = c.tokensFields(o, true, true)
		tier, _ = c.enum(o, []any{"body"}, "tier", "all", "l1", "l2", "all")
		force, _ = c.boolean(o, []any{"body"}, "force", false)
	})
	if r != nil {
		return *r
	}
	bases, keys, chunks, rr := s.resolveAt(f, id)
	if rr != nil {
		return *rr
	}
	base := bases[0]
	if chunks == 0 {
		return jsonReply(200, pyjson.Object{{"instance_id", id}, {"requested", int64(0)}, {"affected", int64(0)}, {"skipped", int64(0)}, {"status", "noop"}})
	}
	send, held := keys, 0
	if tier != "l1" && !force {
		s.mu.Lock()
		send = nil
		for _, k := range keys {
			if p := s.st.pins[k]; p != nil && p.count > 0 {
				held++
				continue
			}
			send = append(send, k)
		}
		s.mu.Unlock()
	}
	deleted, skipped, err := s.mpDelete(rq.ctx, base, send, tier, force)
	if err != nil {
		return detail(http.StatusBadGateway, "delete to "+pyjson.Repr(id)+" failed: "+err.Error())
	}
	if force && tier != "l1" {
		s.mu.Lock()
		for _, k := range keys {
			delete(s.st.pins, k)
		}
		s.mu.Unlock()
	}
	return jsonReply(200, pyjson.Object{{"instance_id", id}, {"requested", int64(chunks)}, {"affected", deleted}, {"skipped", skipped + int64(held)}, {"status", "deleted"}})
}

// ---------------------------------------------------------------------------
// Prefetch (spec §6.12)

func prefetchForward(f tokensForm) []byte {
	return pyjson.Dumps(pyjson.Object{{"model_name", f.model}, {"world_size", f.ws}, {"token_ids", f.tokens}, {"cache_salt", f.salt}})
}

func hPrefetch(s *Server, rq *request) reply {
	var f tokensForm
	var id string
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		id, _ = c.str(o, []any{"body"}, "instance_id", true, "")
		f, _ = c.tokensFields(o, true, true)
	})
	if r != nil {
		return *r
	}
	base, rr := s.mpBase(id)
	if rr != nil {
		return *rr
	}
	a, err := s.mpPrefetch(rq.ctx, base, f)
	if err != nil {
		return detail(http.StatusBadGateway, "prefetch submit to "+pyjson.Repr(id)+" failed: "+err.Error())
	}
	return jsonReply(200, pyjson.Object{{"instance_id", id}, {"request_id", dictStr(a, "request_id")}, {"chunks", dictInt(a, "chunks")}, {"status", dictStr(a, "status")}})
}

func hPrefetchStatus(s *Server, rq *request) reply {
	id, reqID := rq.params["instance_id"], rq.params["request_id"]
	base, rr := s.mpBase(id)
	if rr != nil {
		return *rr
	}
	status, body, err := s.mpDo(rq.ctx, http.MethodGet, base+"/cache/prefetches/"+reqID, nil)
	if err != nil {
		return detail(http.StatusBadGateway, "prefetch status from "+pyjson.Repr(id)+" failed: "+err.Error())
	}
	if v, err := pyjson.Loads(body); err == nil {
		return reply{status: status, body: pyjson.Dumps(v), ctype: "application/json"}
	}
	return detail(status, string(body))
}

// ---------------------------------------------------------------------------
// Metrics (spec §6.16)

func hMetrics(s *Server, _ *request) reply {
	s.mu.Lock()
	var l1n, l1b, l2n, l2b int64
	for _, r := range s.st.records {
		for _, p := range r.placements {
			if p.tier == "l1" {
				l1n, l1b = l1n+1, l1b+p.size
			} else {
				l2n, l2b = l2n+1, l2b+p.size
			}
		}
	}
	s.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP python_info Python platform information\n# TYPE python_info gauge\n")
	b.WriteString(`python_info{implementation="CPython",major="3",minor="12",patchlevel="3",version="3.12.3"} 1.0` + "\n")
	if s.cfg.prof.tierTotals {
		b.WriteString("# HELP lmcache_mp_key_directory_placement_count Placements in the key directory\n# TYPE lmcache_mp_key_directory_placement_count gauge\n")
		fmt.Fprintf(&b, "lmcache_mp_key_directory_placement_count{otel_scope_name=\"lmcache.mp_coordinator\",tier=\"l1\"} %d.0\n", l1n)
		fmt.Fprintf(&b, "lmcache_mp_key_directory_placement_count{otel_scope_name=\"lmcache.mp_coordinator\",tier=\"l2\"} %d.0\n", l2n)
		b.WriteString("# HELP lmcache_mp_key_directory_placement_size_bytes Bytes of the placements in the key directory\n# TYPE lmcache_mp_key_directory_placement_size_bytes gauge\n")
		fmt.Fprintf(&b, "lmcache_mp_key_directory_placement_size_bytes{otel_scope_name=\"lmcache.mp_coordinator\",tier=\"l1\"} %d.0\n", l1b)
		fmt.Fprintf(&b, "lmcache_mp_key_directory_placement_size_bytes{otel_scope_name=\"lmcache.mp_coordinator\",tier=\"l2\"} %d.0\n", l2b)
	}
	return reply{status: 200, body: []byte(b.String()), ctype: "text/plain; version=0.0.4; charset=utf-8"}
}

// ---------------------------------------------------------------------------
// /openapi.json: the routes of the generation played

func hOpenAPI(s *Server, _ *request) reply {
	routes := s.activeRoutes()
	paths := pyjson.Object{}
	for _, p := range slices.Sorted(maps.Keys(routes)) {
		ops := pyjson.Object{}
		for _, rd := range routes[p] {
			ops = append(ops, pyjson.Member{strings.ToLower(rd.method), pyjson.Object{{"summary", rd.summary}}})
		}
		paths = append(paths, pyjson.Member{p, ops})
	}
	props := func(names ...string) pyjson.Object {
		o := pyjson.Object{}
		for _, n := range names {
			o = append(o, pyjson.Member{n, pyjson.Object{}})
		}
		return pyjson.Object{{"properties", o}}
	}
	schemas := pyjson.Object{{"RegisterRequest", props("ip", "http_port", "instance_id", "metadata", "p2p_advertised_url", "mq_port")}}
	if s.cfg.prof.directory {
		if s.cfg.prof.keysOnly {
			schemas = append(schemas, pyjson.Member{"DirectoryLookupRequest", props("keys")}, pyjson.Member{"DirectoryLookupResult", props("key", "placements")})
		} else {
			res := []string{"key", "placements", "token_ids"}
			entry := []string{"key", "placements", "num_tokens"}
			if s.cfg.prof.accessCount {
				res, entry = append(res, "access_count"), append(entry, "access_count")
			}
			schemas = append(schemas, pyjson.Member{"DirectoryLookupRequest", props("keys", "token_ids", "model_name", "world_size", "cache_salt")},
				pyjson.Member{"DirectoryLookupResult", props(res...)}, pyjson.Member{"DirectoryKeyEntry", props(entry...)})
		}
	}
	return jsonReply(200, pyjson.Object{{"openapi", "3.1.0"}, {"info", pyjson.Object{{"title", "LMCache MP Coordinator"}, {"version", "1.0.0"}}},
		{"paths", paths}, {"components", pyjson.Object{{"schemas", schemas}}}})
}
