package coordinatorclient

// Exported decoders of every answer the client reads. They take the raw
// body of a 2xx answer, never panic, accept the shapes of every generation
// the spec lists (§11), report unknown fields as warnings, and reject what
// cannot be an answer of that route: not exactly one JSON document, a
// field of the wrong type, a missing required field, or numbers that
// contradict each other. Checks that need the request (counts, echoed ids,
// filters) are the Client's.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

func decodeKey(d *decoder, raw json.RawMessage, path string) (Key, error) {
	o, err := d.object(raw, path)
	if err != nil {
		return Key{}, err
	}
	var k Key
	if k.ChunkHashHex, err = o.str("chunk_hash_hex", true); err != nil {
		return Key{}, err
	}
	if _, err := parseHex(k.ChunkHashHex); err != nil {
		return Key{}, fmt.Errorf("%s: chunk_hash_hex %q: %v", path, k.ChunkHashHex, err)
	}
	if k.ModelName, err = o.str("model_name", true); err != nil {
		return Key{}, err
	}
	if k.KVRank, _, err = o.integer("kv_rank", true); err != nil {
		return Key{}, err
	}
	if k.ObjectGroupID, _, err = o.integer("object_group_id", false); err != nil {
		return Key{}, err
	}
	if k.CacheSalt, err = o.str("cache_salt", false); err != nil {
		return Key{}, err
	}
	o.done()
	return k, nil
}

func decodePlacements(d *decoder, o *obj, k string) ([]Placement, error) {
	l, _, err := o.list(k, false)
	if err != nil {
		return nil, err
	}
	out := make([]Placement, 0, len(l))
	for i, raw := range l {
		path := fmt.Sprintf("%s[%d]", o.field(k), i)
		p, err := d.object(raw, path)
		if err != nil {
			return nil, err
		}
		var pl Placement
		if pl.InstanceID, err = p.str("instance_id", true); err != nil {
			return nil, err
		}
		if pl.Incarnation, _, err = p.integer("incarnation", false); err != nil {
			return nil, err
		}
		if pl.Tier, err = p.str("tier", true); err != nil {
			return nil, err
		}
		if pl.Backend, err = p.str("backend", false); err != nil {
			return nil, err
		}
		if pl.SizeBytes, _, err = p.integer("size_bytes", false); err != nil {
			return nil, err
		}
		if pl.Shared, err = p.boolean("shared", false); err != nil {
			return nil, err
		}
		p.done()
		if pl.SizeBytes < 0 || pl.Incarnation < 0 {
			return nil, fmt.Errorf("%s: negative size or incarnation", path)
		}
		if pl.InstanceID == "" && !pl.Shared {
			return nil, fmt.Errorf("%s: a private placement without instance_id", path)
		}
		if pl.Tier != string(TierL1) && pl.Tier != string(TierL2) {
			d.warn("%s has tier %q, which lmc does not know (a newer coordinator?)", shapePath(path), pl.Tier)
		}
		out = append(out, pl)
	}
	return out, nil
}

// DecodeLookup decodes a /directory/lookup answer: {"chunks", "results":
// [{"key", "placements", "token_ids", "access_count"}]}, or the keys-only
// shape of 2026-07-28..mid-August ({"results": [{"key", "placements"}]},
// Chunks then -1) and /directory/lookup_tokens ({"chunks", "results"}
// without token_ids).
func DecodeLookup(body []byte) (*LookupResult, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("lookup answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	res := &LookupResult{Chunks: -1, Results: []KeyPlacements{}}
	if n, ok, err := o.count("chunks", false); err != nil {
		return nil, err
	} else if ok {
		res.Chunks = n
	}
	l, _, err := o.list("results", true)
	if err != nil {
		return nil, err
	}
	res.HasTokenIDs, res.HasAccessCount = len(l) > 0, len(l) > 0
	for i, raw := range l {
		path := fmt.Sprintf("results[%d]", i)
		r, err := d.object(raw, path)
		if err != nil {
			return nil, err
		}
		kraw, ok := r.get("key")
		if !ok {
			return nil, r.missing("key")
		}
		var kp KeyPlacements
		if kp.Key, err = decodeKey(d, kraw, path+".key"); err != nil {
			return nil, err
		}
		if kp.Placements, err = decodePlacements(d, r, "placements"); err != nil {
			return nil, err
		}
		if v, ok := r.get("token_ids"); ok {
			if kp.TokenIDs, err = tokenList(v, path+".token_ids"); err != nil {
				return nil, err
			}
		} else {
			res.HasTokenIDs = false
			kp.TokenIDs = []uint32{}
		}
		if n, ok, err := r.integer("access_count", false); err != nil {
			return nil, err
		} else if !ok {
			res.HasAccessCount = false
		} else if n < 0 {
			return nil, fmt.Errorf("%s.access_count: %d is negative", path, n)
		} else {
			kp.AccessCount = n
		}
		r.done()
		res.Results = append(res.Results, kp)
	}
	o.done()
	res.Warnings = d.warnings
	return res, nil
}

// DecodeKeysPage decodes GET /directory/keys: {"total", "keys": [{"key",
// "placements", "num_tokens", "access_count"}]}.
func DecodeKeysPage(body []byte) (*KeysPage, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("keys listing")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	res := &KeysPage{Keys: []KeyEntry{}}
	if res.Total, _, err = o.count("total", true); err != nil {
		return nil, err
	}
	l, _, err := o.list("keys", true)
	if err != nil {
		return nil, err
	}
	res.HasAccessCount = len(l) > 0
	for i, raw := range l {
		path := fmt.Sprintf("keys[%d]", i)
		e, err := d.object(raw, path)
		if err != nil {
			return nil, err
		}
		kraw, ok := e.get("key")
		if !ok {
			return nil, e.missing("key")
		}
		var ke KeyEntry
		if ke.Key, err = decodeKey(d, kraw, path+".key"); err != nil {
			return nil, err
		}
		if ke.Placements, err = decodePlacements(d, e, "placements"); err != nil {
			return nil, err
		}
		if ke.NumTokens, _, err = e.count("num_tokens", false); err != nil {
			return nil, err
		}
		if n, ok, err := e.integer("access_count", false); err != nil {
			return nil, err
		} else if !ok {
			res.HasAccessCount = false
		} else if n < 0 {
			return nil, fmt.Errorf("%s.access_count: %d is negative", path, n)
		} else {
			ke.AccessCount = n
		}
		e.done()
		res.Keys = append(res.Keys, ke)
	}
	o.done()
	if len(res.Keys) > res.Total {
		return nil, fmt.Errorf("%d keys on a page of a listing of %d", len(res.Keys), res.Total)
	}
	res.Warnings = d.warnings
	return res, nil
}

// DecodeDirectoryStats decodes GET /directory/stats, every field optional.
func DecodeDirectoryStats(body []byte) (*DirectoryStats, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("directory stats")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	st := &DirectoryStats{}
	for _, f := range []struct {
		k string
		p **int64
	}{{"num_keys", &st.NumKeys}, {"num_placements", &st.NumPlacements}, {"l1_count", &st.L1Count},
		{"l1_size_bytes", &st.L1SizeBytes}, {"l2_count", &st.L2Count}, {"l2_size_bytes", &st.L2SizeBytes}} {
		if *f.p, err = o.optInt(f.k); err != nil {
			return nil, err
		}
		if *f.p != nil && **f.p < 0 {
			return nil, fmt.Errorf("%s: %d is negative", f.k, **f.p)
		}
	}
	st.HasTierTotals = st.L1Count != nil || st.L2Count != nil
	if v, ok := o.get("l1_keys_by_instance"); ok {
		if st.L1KeysByInstance, err = countMap(v, "l1_keys_by_instance"); err != nil {
			return nil, err
		}
	}
	if b, err := o.child("blend", false); err != nil {
		return nil, err
	} else if b != nil {
		bs := &BlendStats{}
		for _, f := range []struct {
			k string
			p *int64
		}{{"num_contents", &bs.NumContents}, {"num_chunks", &bs.NumChunks}, {"table_size", &bs.TableSize}} {
			if *f.p, _, err = b.integer(f.k, false); err != nil {
				return nil, err
			}
		}
		if bs.NumClaims, err = b.optInt("num_claims"); err != nil {
			return nil, err
		}
		if bs.NumNamespaces, err = b.optInt("num_namespaces"); err != nil {
			return nil, err
		}
		b.done()
		st.Blend = bs
	}
	// Before mid-August 2026: per-instance stream state. Its exact key was
	// not recorded; any object of objects carrying last_seq is read as one.
	for k, v := range o.m {
		if o.used[k] || len(v) == 0 || v[0] != '{' {
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil || len(m) == 0 {
			continue
		}
		streams := map[string]StreamState{}
		for inst, sv := range m {
			so, err := d.object(sv, k+"["+strconv.Quote(inst)+"]")
			if err != nil || !so.has("last_seq") {
				streams = nil
				break
			}
			var ss StreamState
			if ss.Incarnation, err = so.optInt("incarnation"); err != nil {
				return nil, err
			}
			if ss.LastSeq, err = so.optInt("last_seq"); err != nil {
				return nil, err
			}
			if ss.NumL1Keys, err = so.optInt("num_l1_keys"); err != nil {
				return nil, err
			}
			if ss.NumL2Keys, err = so.optInt("num_l2_keys"); err != nil {
				return nil, err
			}
			if so.has("gap_detected") {
				g, err := so.boolean("gap_detected", false)
				if err != nil {
					return nil, err
				}
				ss.GapDetected = &g
			}
			so.done()
			streams[inst] = ss
		}
		if streams != nil {
			o.known(k)
			st.Streams = streams
		}
	}
	o.done()
	if st.NumKeys != nil && st.NumPlacements != nil && *st.NumPlacements < *st.NumKeys {
		return nil, fmt.Errorf("num_placements %d < num_keys %d: every listed key has a placement", *st.NumPlacements, *st.NumKeys)
	}
	if st.NumPlacements != nil && st.L1Count != nil && st.L2Count != nil && *st.L1Count+*st.L2Count != *st.NumPlacements {
		return nil, fmt.Errorf("l1_count %d + l2_count %d != num_placements %d", *st.L1Count, *st.L2Count, *st.NumPlacements)
	}
	st.Warnings = d.warnings
	return st, nil
}

// DecodeHealthz decodes GET /healthz: {"status": "healthy"}.
func DecodeHealthz(body []byte) (*Health, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("healthz answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	h := &Health{}
	if h.Status, err = o.str("status", true); err != nil {
		return nil, err
	}
	o.done()
	h.Healthy = h.Status == "healthy"
	h.Warnings = d.warnings
	return h, nil
}

// DecodeInstances decodes GET /instances.
func DecodeInstances(body []byte) (*InstanceList, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("instances listing")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	l, _, err := o.list("instances", true)
	if err != nil {
		return nil, err
	}
	res := &InstanceList{Instances: []Instance{}, HasP2PFields: len(l) > 0}
	seen := map[string]bool{}
	for i, raw := range l {
		path := fmt.Sprintf("instances[%d]", i)
		e, err := d.object(raw, path)
		if err != nil {
			return nil, err
		}
		var in Instance
		if in.InstanceID, err = e.str("instance_id", true); err != nil {
			return nil, err
		}
		if in.InstanceID == "" || seen[in.InstanceID] {
			return nil, fmt.Errorf("%s: instance_id %q is empty or listed twice", path, in.InstanceID)
		}
		seen[in.InstanceID] = true
		if in.IP, err = e.str("ip", true); err != nil {
			return nil, err
		}
		port, _, err := e.integer("http_port", true)
		if err != nil {
			return nil, err
		}
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("%s.http_port: %d is not a port", path, port)
		}
		in.HTTPPort = int(port)
		if in.RegistrationTime, _, err = e.number("registration_time", false); err != nil {
			return nil, err
		}
		in.Metadata = map[string]string{}
		if v, ok := e.get("metadata"); ok {
			if in.Metadata, err = stringMap(v, path+".metadata"); err != nil {
				return nil, err
			}
		}
		hasURL, hasMQ := e.has("p2p_advertised_url"), e.has("mq_port")
		in.HasP2PFields = hasURL && hasMQ
		if !in.HasP2PFields {
			res.HasP2PFields = false
		}
		if in.P2PAdvertisedURL, err = e.str("p2p_advertised_url", false); err != nil {
			return nil, err
		}
		mq, _, err := e.integer("mq_port", false)
		if err != nil {
			return nil, err
		}
		if mq < 0 || mq > 65535 {
			return nil, fmt.Errorf("%s.mq_port: %d is not a port", path, mq)
		}
		in.MQPort = int(mq)
		for _, k := range []string{"last_heartbeat_time", "last_heartbeat"} {
			if f, err := e.optNumber(k); err != nil {
				return nil, err
			} else if f != nil && *f > 1e9 {
				in.LastHeartbeatTime = f
			}
		}
		e.done()
		res.Instances = append(res.Instances, in)
	}
	o.done()
	res.Warnings = d.warnings
	return res, nil
}

func decodeModules(d *decoder, o *obj, k string, declared *bool) ([]ModuleUsage, error) {
	l, _, err := o.list(k, false)
	if err != nil {
		return nil, err
	}
	out := make([]ModuleUsage, 0, len(l))
	for i, raw := range l {
		path := fmt.Sprintf("%s[%d]", o.field(k), i)
		m, err := d.object(raw, path)
		if err != nil {
			return nil, err
		}
		var mu ModuleUsage
		if mu.Tier, err = m.str("tier", true); err != nil {
			return nil, err
		}
		if mu.Backend, err = m.str("backend", false); err != nil {
			return nil, err
		}
		if mu.Shared, err = m.boolean("shared", false); err != nil {
			return nil, err
		}
		if mu.UsedBytes, _, err = m.integer("used_bytes", true); err != nil {
			return nil, err
		}
		if mu.CapacityBytes, _, err = m.integer("capacity_bytes", false); err != nil {
			return nil, err
		}
		if mu.UsageRatio, err = m.optNumber("usage_ratio"); err != nil {
			return nil, err
		}
		m.done()
		if mu.UsedBytes < 0 || mu.CapacityBytes < 0 {
			return nil, fmt.Errorf("%s: negative bytes", path)
		}
		switch {
		case mu.CapacityBytes == 0 && mu.UsageRatio != nil:
			return nil, fmt.Errorf("%s: usage_ratio %v without a capacity (it must be null: unknown)", path, *mu.UsageRatio)
		case mu.CapacityBytes > 0 && mu.UsageRatio == nil && (declared == nil || *declared):
			return nil, fmt.Errorf("%s: capacity %d but no usage_ratio", path, mu.CapacityBytes)
		case mu.UsageRatio != nil:
			want := float64(mu.UsedBytes) / float64(mu.CapacityBytes)
			if r := *mu.UsageRatio; math.IsNaN(r) || math.Abs(r-want) > 1e-9*math.Max(1, want) {
				return nil, fmt.Errorf("%s: usage_ratio %v but %d of %d bytes is %v", path, r, mu.UsedBytes, mu.CapacityBytes, want)
			}
		}
		if declared != nil && !*declared && mu.UsageRatio != nil {
			return nil, fmt.Errorf("%s: a usage_ratio on an instance that declared no capacity", path)
		}
		out = append(out, mu)
	}
	return out, nil
}

func decodeInstanceUsage(d *decoder, raw json.RawMessage, path string) (*InstanceUsage, error) {
	o, err := d.object(raw, path)
	if err != nil {
		return nil, err
	}
	iu := &InstanceUsage{}
	if iu.InstanceID, err = o.str("instance_id", true); err != nil {
		return nil, err
	}
	if iu.Registered, err = o.boolean("registered", false); err != nil {
		return nil, err
	}
	if iu.DeclaredCapacity, err = o.boolean("declared_capacity", false); err != nil {
		return nil, err
	}
	if iu.Modules, err = decodeModules(d, o, "modules", &iu.DeclaredCapacity); err != nil {
		return nil, err
	}
	o.done()
	for _, m := range iu.Modules {
		if m.Shared {
			return nil, fmt.Errorf("%s: a shared pool among an instance's private modules", orTop(path))
		}
	}
	return iu, nil
}

// DecodeInstanceUsage decodes GET /instances/{id}/usage.
func DecodeInstanceUsage(body []byte) (*InstanceUsage, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("instance usage")
	iu, err := decodeInstanceUsage(d, raw, "")
	if err != nil {
		return nil, err
	}
	iu.Warnings = d.warnings
	return iu, nil
}

// DecodeFleetUsage decodes GET /instances/usage.
func DecodeFleetUsage(body []byte) (*FleetUsage, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("fleet usage")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	l, _, err := o.list("instances", true)
	if err != nil {
		return nil, err
	}
	fu := &FleetUsage{Instances: []InstanceUsage{}}
	seen := map[string]bool{}
	for i, raw := range l {
		iu, err := decodeInstanceUsage(d, raw, fmt.Sprintf("instances[%d]", i))
		if err != nil {
			return nil, err
		}
		if seen[iu.InstanceID] {
			return nil, fmt.Errorf("instance %q listed twice", iu.InstanceID)
		}
		seen[iu.InstanceID] = true
		fu.Instances = append(fu.Instances, *iu)
	}
	if fu.SharedModules, err = decodeModules(d, o, "shared_modules", nil); err != nil {
		return nil, err
	}
	o.done()
	fu.Warnings = d.warnings
	return fu, nil
}

func decodeQuotaStatus(d *decoder, raw json.RawMessage, path string) (*QuotaStatus, error) {
	o, err := d.object(raw, path)
	if err != nil {
		return nil, err
	}
	q := &QuotaStatus{}
	if q.CacheSalt, err = o.str("cache_salt", true); err != nil {
		return nil, err
	}
	if q.QuotaLimitGB, _, err = o.number("quota_limit_gb", false); err != nil {
		return nil, err
	}
	if q.QuotaExists, err = o.boolean("quota_exists", false); err != nil {
		return nil, err
	}
	if q.UsageGB, _, err = o.number("usage_gb", true); err != nil {
		return nil, err
	}
	o.known("tier") // the upstream CLI reads it; the server never sends it
	o.done()
	if q.QuotaLimitGB < 0 || q.UsageGB < 0 || math.IsNaN(q.QuotaLimitGB) || math.IsNaN(q.UsageGB) {
		return nil, fmt.Errorf("%s: negative quota or usage", orTop(path))
	}
	if !q.QuotaExists && q.QuotaLimitGB != 0 {
		return nil, fmt.Errorf("%s: quota_limit_gb %v for a salt without a quota", orTop(path), q.QuotaLimitGB)
	}
	return q, nil
}

// DecodeQuotaStatus decodes GET /quota/{salt}.
func DecodeQuotaStatus(body []byte) (*QuotaStatus, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("quota status")
	q, err := decodeQuotaStatus(d, raw, "")
	if err != nil {
		return nil, err
	}
	q.Warnings = d.warnings
	return q, nil
}

// DecodeQuotaList decodes GET /quota: {"total_gb", "by_cache_salt": [...]}.
func DecodeQuotaList(body []byte) (*QuotaList, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("quota listing")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	ql := &QuotaList{ByCacheSalt: []QuotaStatus{}}
	if ql.TotalGB, _, err = o.number("total_gb", true); err != nil {
		return nil, err
	}
	l, _, err := o.list("by_cache_salt", true)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	sum := 0.0
	for i, raw := range l {
		q, err := decodeQuotaStatus(d, raw, fmt.Sprintf("by_cache_salt[%d]", i))
		if err != nil {
			return nil, err
		}
		if seen[q.CacheSalt] {
			return nil, fmt.Errorf("salt %q listed twice", q.CacheSalt)
		}
		seen[q.CacheSalt] = true
		sum += q.UsageGB
		ql.ByCacheSalt = append(ql.ByCacheSalt, *q)
	}
	o.done()
	if math.IsNaN(ql.TotalGB) || ql.TotalGB < 0 || math.Abs(sum-ql.TotalGB) > 1e-9*math.Max(1, ql.TotalGB) {
		return nil, fmt.Errorf("total_gb %v but the salts' usage adds up to %v", ql.TotalGB, sum)
	}
	ql.Warnings = d.warnings
	return ql, nil
}

// DecodeQuotaWrite decodes PUT and DELETE /quota/{salt}: {"cache_salt",
// "limit_gb", "status"}.
func DecodeQuotaWrite(body []byte) (*QuotaWriteResult, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("quota answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	q := &QuotaWriteResult{}
	if q.CacheSalt, err = o.str("cache_salt", true); err != nil {
		return nil, err
	}
	if q.LimitGB, _, err = o.number("limit_gb", false); err != nil {
		return nil, err
	}
	if q.Status, err = o.str("status", true); err != nil {
		return nil, err
	}
	o.done()
	res := q
	res.Warnings = d.warnings
	return res, nil
}

// DecodeQuotaConfig decodes GET/PUT /quota/config: {"default_limit_gb":
// null | float}.
func DecodeQuotaConfig(body []byte) (*QuotaConfig, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("quota config")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	if !o.has("default_limit_gb") {
		return nil, o.missing("default_limit_gb")
	}
	qc := &QuotaConfig{}
	if qc.DefaultLimitGB, err = o.optNumber("default_limit_gb"); err != nil {
		return nil, err
	}
	o.done()
	if qc.DefaultLimitGB != nil && (*qc.DefaultLimitGB < 0 || math.IsNaN(*qc.DefaultLimitGB)) {
		return nil, fmt.Errorf("default_limit_gb %v is negative", *qc.DefaultLimitGB)
	}
	qc.Warnings = d.warnings
	return qc, nil
}

// DecodePinResult decodes POST/DELETE /cache/pins: {"requested",
// "affected", "status"}.
func DecodePinResult(body []byte) (*PinResult, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("pin answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	p := &PinResult{}
	if p.Requested, _, err = o.count("requested", true); err != nil {
		return nil, err
	}
	if p.Affected, _, err = o.count("affected", true); err != nil {
		return nil, err
	}
	if p.Status, err = o.str("status", true); err != nil {
		return nil, err
	}
	o.known("instance_id") // the per-instance pins of one July 2026 review state
	o.done()
	p.Pinned = p.Status == "pinned"
	p.Warnings = d.warnings
	return p, nil
}

// DecodePinList decodes GET /cache/pins: {"total", "pins": [{"key",
// "pin_count"}]}.
func DecodePinList(body []byte) (*PinList, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("pin listing")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	pl := &PinList{Pins: []PinnedKey{}}
	if pl.Total, _, err = o.count("total", true); err != nil {
		return nil, err
	}
	l, _, err := o.list("pins", true)
	if err != nil {
		return nil, err
	}
	for i, raw := range l {
		path := fmt.Sprintf("pins[%d]", i)
		e, err := d.object(raw, path)
		if err != nil {
			return nil, err
		}
		kraw, ok := e.get("key")
		if !ok {
			return nil, e.missing("key")
		}
		var pk PinnedKey
		if pk.Key, err = decodeKey(d, kraw, path+".key"); err != nil {
			return nil, err
		}
		if pk.PinCount, _, err = e.count("pin_count", true); err != nil {
			return nil, err
		}
		if pk.PinCount == 0 {
			return nil, fmt.Errorf("%s: a pinned key with pin_count 0", path)
		}
		e.done()
		pl.Pins = append(pl.Pins, pk)
	}
	o.done()
	if len(pl.Pins) > pl.Total {
		return nil, fmt.Errorf("%d pins on a page of a listing of %d", len(pl.Pins), pl.Total)
	}
	pl.Warnings = d.warnings
	return pl, nil
}

// DecodeDeleteResult decodes POST /cache/delete.
func DecodeDeleteResult(body []byte) (*DeleteResult, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("delete answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	r := &DeleteResult{}
	if r.InstanceID, err = o.str("instance_id", true); err != nil {
		return nil, err
	}
	if r.Requested, _, err = o.count("requested", true); err != nil {
		return nil, err
	}
	if r.Affected, _, err = o.count("affected", true); err != nil {
		return nil, err
	}
	if r.Skipped, _, err = o.count("skipped", false); err != nil {
		return nil, err
	}
	if r.Status, err = o.str("status", true); err != nil {
		return nil, err
	}
	o.done()
	r.Warnings = d.warnings
	return r, nil
}

// DecodePrefetchSubmit decodes the coordinator's POST /cache/prefetches
// answer {"instance_id", "request_id", "chunks", "status"} (and an MP
// server's, which lacks instance_id and, for a noop, request_id).
func DecodePrefetchSubmit(body []byte) (*PrefetchSubmitResult, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("prefetch answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	r := &PrefetchSubmitResult{}
	if r.InstanceID, err = o.str("instance_id", false); err != nil {
		return nil, err
	}
	if r.RequestID, err = o.str("request_id", false); err != nil {
		return nil, err
	}
	if r.Chunks, _, err = o.count("chunks", true); err != nil {
		return nil, err
	}
	if r.Status, err = o.str("status", true); err != nil {
		return nil, err
	}
	o.done()
	switch r.Status {
	case "submitted":
		if r.RequestID == "" {
			return nil, errors.New("status submitted without a request_id: there is nothing to poll")
		}
	case "noop":
		if r.Chunks != 0 {
			return nil, fmt.Errorf("status noop with %d chunks", r.Chunks)
		}
	default:
		return nil, fmt.Errorf("status %q is neither submitted nor noop", r.Status)
	}
	r.Warnings = d.warnings
	return r, nil
}

// DecodePrefetchStatus decodes a poll answer: {"request_id", "status":
// "pending"} or {"request_id", "status": "completed", "found_keys",
// "total_keys"[, "missing_key_indices"]} (request_id absent on older
// servers).
func DecodePrefetchStatus(body []byte) (*PrefetchStatus, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("prefetch status")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	p := &PrefetchStatus{}
	if p.RequestID, err = o.str("request_id", false); err != nil {
		return nil, err
	}
	if p.Status, err = o.str("status", true); err != nil {
		return nil, err
	}
	switch p.Status {
	case "pending":
		o.known("found_keys", "total_keys", "missing_key_indices")
	case "completed":
		if p.FoundKeys, _, err = o.count("found_keys", true); err != nil {
			return nil, err
		}
		if p.TotalKeys, _, err = o.count("total_keys", true); err != nil {
			return nil, err
		}
		if p.FoundKeys > p.TotalKeys {
			return nil, fmt.Errorf("found_keys %d > total_keys %d", p.FoundKeys, p.TotalKeys)
		}
		l, ok, err := o.list("missing_key_indices", false)
		if err != nil {
			return nil, err
		}
		if ok {
			p.MissingKeyIndices = make([]int, 0, len(l))
			seen := map[int]bool{}
			for i, raw := range l {
				n, err := parseInteger(raw)
				if err != nil || n < 0 || n >= int64(p.TotalKeys) || seen[int(n)] {
					return nil, fmt.Errorf("missing_key_indices[%d]: not a distinct index below total_keys %d", i, p.TotalKeys)
				}
				seen[int(n)] = true
				p.MissingKeyIndices = append(p.MissingKeyIndices, int(n))
			}
			if len(p.MissingKeyIndices) != p.TotalKeys-p.FoundKeys {
				return nil, fmt.Errorf("%d missing_key_indices for %d of %d keys found", len(p.MissingKeyIndices), p.FoundKeys, p.TotalKeys)
			}
		}
	default:
		return nil, fmt.Errorf("status %q is neither pending nor completed", p.Status)
	}
	o.done()
	p.Warnings = d.warnings
	return p, nil
}

// DecodeMoveSubmit decodes POST /cache/moves.
func DecodeMoveSubmit(body []byte) (*MoveSubmitResult, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("move answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	m := &MoveSubmitResult{}
	if m.MoveID, err = o.str("move_id", false); err != nil {
		return nil, err
	}
	if m.SourceInstanceID, err = o.str("source_instance_id", false); err != nil {
		return nil, err
	}
	if m.TargetInstanceID, err = o.str("target_instance_id", false); err != nil {
		return nil, err
	}
	if m.Requested, _, err = o.count("requested", true); err != nil {
		return nil, err
	}
	if m.Status, err = o.str("status", true); err != nil {
		return nil, err
	}
	o.done()
	switch m.Status {
	case "submitted":
		if m.MoveID == "" {
			return nil, errors.New("status submitted without a move_id")
		}
	case "noop":
		if m.Requested != 0 {
			return nil, fmt.Errorf("status noop with %d chunks requested", m.Requested)
		}
	default:
		return nil, fmt.Errorf("status %q is neither submitted nor noop", m.Status)
	}
	m.Warnings = d.warnings
	return m, nil
}

// DecodeMoveStatus decodes GET /cache/moves/{move_id}.
func DecodeMoveStatus(body []byte) (*MoveStatus, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("move status")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	m := &MoveStatus{}
	for _, f := range []struct {
		k   string
		p   *string
		req bool
	}{{"move_id", &m.MoveID, false}, {"source_instance_id", &m.SourceInstanceID, false},
		{"target_instance_id", &m.TargetInstanceID, false}, {"status", &m.Status, true},
		{"phase", &m.Phase, false}, {"error", &m.Error, false}} {
		if *f.p, err = o.str(f.k, f.req); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		k string
		p *int
	}{{"requested", &m.Requested}, {"loaded", &m.Loaded}, {"missing", &m.Missing}, {"deleted", &m.Deleted}, {"skipped", &m.Skipped}} {
		if *f.p, _, err = o.count(f.k, false); err != nil {
			return nil, err
		}
	}
	o.done()
	switch m.Status {
	case "pending", "completed", "failed":
	default:
		return nil, fmt.Errorf("status %q is none of pending, completed, failed", m.Status)
	}
	if m.Phase != "" && m.Phase != "load" && m.Phase != "delete" {
		d.warn("the move status has phase %q, which lmc does not know", m.Phase)
	}
	if m.Deleted+m.Skipped > m.Loaded && m.Loaded > 0 {
		return nil, fmt.Errorf("deleted %d + skipped %d of %d keys loaded: the source deletes only what the target loaded", m.Deleted, m.Skipped, m.Loaded)
	}
	m.Warnings = d.warnings
	return m, nil
}

// DecodeEventsResult decodes POST /events: {"applied", "duplicates",
// "stale"}.
func DecodeEventsResult(body []byte) (*EventsResult, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder("events answer")
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	r := &EventsResult{}
	if r.Applied, _, err = o.count("applied", true); err != nil {
		return nil, err
	}
	if r.Duplicates, _, err = o.count("duplicates", false); err != nil {
		return nil, err
	}
	if r.Stale, _, err = o.count("stale", false); err != nil {
		return nil, err
	}
	o.done()
	r.Warnings = d.warnings
	return r, nil
}
