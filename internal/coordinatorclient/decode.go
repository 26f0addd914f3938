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
	if err := o.read(strField("chunk_hash_hex", true, &k.ChunkHashHex)); err != nil {
		return Key{}, err
	}
	if _, err := parseHex(k.ChunkHashHex); err != nil {
		return Key{}, fmt.Errorf("%s: chunk_hash_hex %q: %v", path, k.ChunkHashHex, err)
	}
	if err := o.read(strField("model_name", true, &k.ModelName), intField("kv_rank", true, &k.KVRank),
		intField("object_group_id", false, &k.ObjectGroupID), strField("cache_salt", false, &k.CacheSalt)); err != nil {
		return Key{}, err
	}
	o.done()
	return k, nil
}

// keyField reads the required member "key", a Key.
func keyField(p *Key) field {
	return func(o *obj) (err error) {
		raw, ok := o.get("key")
		if !ok {
			return o.missing("key")
		}
		*p, err = decodeKey(o.d, raw, o.field("key"))
		return err
	}
}

// accessCountField reads an optional, non-negative access_count; *has
// turns false when it is absent.
func accessCountField(p *int64, has *bool) field {
	return func(o *obj) error {
		n, ok, err := o.integer("access_count", false)
		switch {
		case err != nil:
			return err
		case !ok:
			*has = false
		case n < 0:
			return fmt.Errorf("%s.access_count: %d is negative", o.path, n)
		default:
			*p = n
		}
		return nil
	}
}

func placementsField(p *[]Placement) field {
	return func(o *obj) (err error) { *p, err = decodePlacements(o, "placements"); return err }
}

func decodePlacements(o *obj, k string) ([]Placement, error) {
	var out []Placement
	err := objects(o, k, false, &out, func(path string, p *obj, pl *Placement) error {
		if err := p.finish(strField("instance_id", true, &pl.InstanceID), intField("incarnation", false, &pl.Incarnation),
			strField("tier", true, &pl.Tier), strField("backend", false, &pl.Backend),
			intField("size_bytes", false, &pl.SizeBytes), boolField("shared", false, &pl.Shared)); err != nil {
			return err
		}
		if pl.SizeBytes < 0 || pl.Incarnation < 0 {
			return fmt.Errorf("%s: negative size or incarnation", path)
		}
		if pl.InstanceID == "" && !pl.Shared {
			return fmt.Errorf("%s: a private placement without instance_id", path)
		}
		if pl.Tier != string(TierL1) && pl.Tier != string(TierL2) {
			o.d.warn("%s has tier %q, which lmc does not know (a newer coordinator?)", shapePath(path), pl.Tier)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeLookup decodes a /directory/lookup answer: {"chunks", "results":
// [{"key", "placements", "token_ids", "access_count"}]}, or the keys-only
// shape of 2026-07-28..mid-August ({"results": [{"key", "placements"}]},
// Chunks then -1) and /directory/lookup_tokens ({"chunks", "results"}
// without token_ids).
func DecodeLookup(body []byte) (*LookupResult, error) {
	res := &LookupResult{Chunks: -1, Results: []KeyPlacements{}}
	return decodeAnswer(body, "lookup answer", res, &res.Warnings, func(d *decoder, o *obj) error {
		if n, ok, err := o.count("chunks", false); err != nil {
			return err
		} else if ok {
			res.Chunks = n
		}
		res.HasTokenIDs, res.HasAccessCount = true, true
		err := objects(o, "results", true, &res.Results, func(path string, r *obj, kp *KeyPlacements) error {
			if err := r.read(keyField(&kp.Key), placementsField(&kp.Placements)); err != nil {
				return err
			}
			if v, ok := r.get("token_ids"); ok {
				var err error
				if kp.TokenIDs, err = tokenList(v, path+".token_ids"); err != nil {
					return err
				}
			} else {
				res.HasTokenIDs = false
				kp.TokenIDs = []uint32{}
			}
			return r.finish(accessCountField(&kp.AccessCount, &res.HasAccessCount))
		})
		if err != nil {
			return err
		}
		if len(res.Results) == 0 {
			res.HasTokenIDs, res.HasAccessCount = false, false
		}
		o.done()
		return nil
	})
}

// DecodeKeysPage decodes GET /directory/keys: {"total", "keys": [{"key",
// "placements", "num_tokens", "access_count"}]}.
func DecodeKeysPage(body []byte) (*KeysPage, error) {
	res := &KeysPage{Keys: []KeyEntry{}}
	return decodeAnswer(body, "keys listing", res, &res.Warnings, func(d *decoder, o *obj) error {
		if err := o.read(countField("total", true, &res.Total)); err != nil {
			return err
		}
		res.HasAccessCount = true
		err := objects(o, "keys", true, &res.Keys, func(path string, e *obj, ke *KeyEntry) error {
			return e.finish(keyField(&ke.Key), placementsField(&ke.Placements), countField("num_tokens", false, &ke.NumTokens),
				accessCountField(&ke.AccessCount, &res.HasAccessCount))
		})
		if err != nil {
			return err
		}
		if len(res.Keys) == 0 {
			res.HasAccessCount = false
		}
		o.done()
		if len(res.Keys) > res.Total {
			return fmt.Errorf("%d keys on a page of a listing of %d", len(res.Keys), res.Total)
		}
		return nil
	})
}

// DecodeDirectoryStats decodes GET /directory/stats, every field optional.
func DecodeDirectoryStats(body []byte) (*DirectoryStats, error) {
	st := &DirectoryStats{}
	return decodeAnswer(body, "directory stats", st, &st.Warnings, func(d *decoder, o *obj) error {
		for _, f := range []struct {
			k string
			p **int64
		}{{"num_keys", &st.NumKeys}, {"num_placements", &st.NumPlacements}, {"l1_count", &st.L1Count},
			{"l1_size_bytes", &st.L1SizeBytes}, {"l2_count", &st.L2Count}, {"l2_size_bytes", &st.L2SizeBytes}} {
			if err := o.read(optIntField(f.k, f.p)); err != nil {
				return err
			}
			if *f.p != nil && **f.p < 0 {
				return fmt.Errorf("%s: %d is negative", f.k, **f.p)
			}
		}
		st.HasTierTotals = st.L1Count != nil || st.L2Count != nil
		if v, ok := o.get("l1_keys_by_instance"); ok {
			var err error
			if st.L1KeysByInstance, err = countMap(v, "l1_keys_by_instance"); err != nil {
				return err
			}
		}
		if b, err := o.child("blend", false); err != nil {
			return err
		} else if b != nil {
			bs := &BlendStats{}
			if err := b.finish(intField("num_contents", false, &bs.NumContents), intField("num_chunks", false, &bs.NumChunks),
				intField("table_size", false, &bs.TableSize), optIntField("num_claims", &bs.NumClaims),
				optIntField("num_namespaces", &bs.NumNamespaces)); err != nil {
				return err
			}
			st.Blend = bs
		}
		if err := readStreams(d, o, st); err != nil {
			return err
		}
		o.done()
		if st.NumKeys != nil && st.NumPlacements != nil && *st.NumPlacements < *st.NumKeys {
			return fmt.Errorf("num_placements %d < num_keys %d: every listed key has a placement", *st.NumPlacements, *st.NumKeys)
		}
		if st.NumPlacements != nil && st.L1Count != nil && st.L2Count != nil && *st.L1Count+*st.L2Count != *st.NumPlacements {
			return fmt.Errorf("l1_count %d + l2_count %d != num_placements %d", *st.L1Count, *st.L2Count, *st.NumPlacements)
		}
		return nil
	})
}

// readStreams reads the per-instance stream state of stats before
// mid-August 2026. Its exact key was not recorded; any object of objects
// carrying last_seq is read as one.
func readStreams(d *decoder, o *obj, st *DirectoryStats) error {
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
			if err := so.finish(optIntField("incarnation", &ss.Incarnation), optIntField("last_seq", &ss.LastSeq),
				optIntField("num_l1_keys", &ss.NumL1Keys), optIntField("num_l2_keys", &ss.NumL2Keys),
				optBoolField("gap_detected", &ss.GapDetected)); err != nil {
				return err
			}
			streams[inst] = ss
		}
		if streams != nil {
			o.known(k)
			st.Streams = streams
		}
	}
	return nil
}

// DecodeHealthz decodes GET /healthz: {"status": "healthy"}.
func DecodeHealthz(body []byte) (*Health, error) {
	h := &Health{}
	return decodeAnswer(body, "healthz answer", h, &h.Warnings, func(d *decoder, o *obj) error {
		if err := o.finish(strField("status", true, &h.Status)); err != nil {
			return err
		}
		h.Healthy = h.Status == "healthy"
		return nil
	})
}

// portField reads a TCP port (lo is 1 for a port that must be set).
func portField(k string, required bool, lo int64, p *int) field {
	return func(o *obj) error {
		n, _, err := o.integer(k, required)
		if err != nil {
			return err
		}
		if n < lo || n > 65535 {
			return fmt.Errorf("%s: %d is not a port", o.field(k), n)
		}
		*p = int(n)
		return nil
	}
}

// DecodeInstances decodes GET /instances.
func DecodeInstances(body []byte) (*InstanceList, error) {
	res := &InstanceList{Instances: []Instance{}}
	return decodeAnswer(body, "instances listing", res, &res.Warnings, func(d *decoder, o *obj) error {
		res.HasP2PFields = true
		seen := map[string]bool{}
		err := objects(o, "instances", true, &res.Instances, func(path string, e *obj, in *Instance) error {
			if err := e.read(strField("instance_id", true, &in.InstanceID)); err != nil {
				return err
			}
			if in.InstanceID == "" || seen[in.InstanceID] {
				return fmt.Errorf("%s: instance_id %q is empty or listed twice", path, in.InstanceID)
			}
			seen[in.InstanceID] = true
			if err := e.read(strField("ip", true, &in.IP), portField("http_port", true, 1, &in.HTTPPort),
				numField("registration_time", false, &in.RegistrationTime)); err != nil {
				return err
			}
			in.Metadata = map[string]string{}
			if v, ok := e.get("metadata"); ok {
				var err error
				if in.Metadata, err = stringMap(v, path+".metadata"); err != nil {
					return err
				}
			}
			hasURL, hasMQ := e.has("p2p_advertised_url"), e.has("mq_port")
			in.HasP2PFields = hasURL && hasMQ
			if !in.HasP2PFields {
				res.HasP2PFields = false
			}
			if err := e.read(strField("p2p_advertised_url", false, &in.P2PAdvertisedURL), portField("mq_port", false, 0, &in.MQPort)); err != nil {
				return err
			}
			for _, k := range []string{"last_heartbeat_time", "last_heartbeat"} {
				if f, err := e.optNumber(k); err != nil {
					return err
				} else if f != nil && *f > 1e9 {
					in.LastHeartbeatTime = f
				}
			}
			e.done()
			return nil
		})
		if err != nil {
			return err
		}
		if len(res.Instances) == 0 {
			res.HasP2PFields = false
		}
		o.done()
		return nil
	})
}

func decodeModules(o *obj, k string, declared *bool) ([]ModuleUsage, error) {
	var out []ModuleUsage
	err := objects(o, k, false, &out, func(path string, m *obj, mu *ModuleUsage) error {
		if err := m.finish(strField("tier", true, &mu.Tier), strField("backend", false, &mu.Backend),
			boolField("shared", false, &mu.Shared), intField("used_bytes", true, &mu.UsedBytes),
			intField("capacity_bytes", false, &mu.CapacityBytes), optNumField("usage_ratio", &mu.UsageRatio)); err != nil {
			return err
		}
		if mu.UsedBytes < 0 || mu.CapacityBytes < 0 {
			return fmt.Errorf("%s: negative bytes", path)
		}
		switch {
		case mu.CapacityBytes == 0 && mu.UsageRatio != nil:
			return fmt.Errorf("%s: usage_ratio %v without a capacity (it must be null: unknown)", path, *mu.UsageRatio)
		case mu.CapacityBytes > 0 && mu.UsageRatio == nil && (declared == nil || *declared):
			return fmt.Errorf("%s: capacity %d but no usage_ratio", path, mu.CapacityBytes)
		case mu.UsageRatio != nil:
			want := float64(mu.UsedBytes) / float64(mu.CapacityBytes)
			if r := *mu.UsageRatio; math.IsNaN(r) || math.Abs(r-want) > 1e-9*math.Max(1, want) {
				return fmt.Errorf("%s: usage_ratio %v but %d of %d bytes is %v", path, r, mu.UsedBytes, mu.CapacityBytes, want)
			}
		}
		if declared != nil && !*declared && mu.UsageRatio != nil {
			return fmt.Errorf("%s: a usage_ratio on an instance that declared no capacity", path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func decodeInstanceUsage(o *obj, iu *InstanceUsage) error {
	if err := o.read(strField("instance_id", true, &iu.InstanceID), boolField("registered", false, &iu.Registered),
		boolField("declared_capacity", false, &iu.DeclaredCapacity)); err != nil {
		return err
	}
	var err error
	if iu.Modules, err = decodeModules(o, "modules", &iu.DeclaredCapacity); err != nil {
		return err
	}
	o.done()
	for _, m := range iu.Modules {
		if m.Shared {
			return fmt.Errorf("%s: a shared pool among an instance's private modules", orTop(o.path))
		}
	}
	return nil
}

// DecodeInstanceUsage decodes GET /instances/{id}/usage.
func DecodeInstanceUsage(body []byte) (*InstanceUsage, error) {
	iu := &InstanceUsage{}
	return decodeAnswer(body, "instance usage", iu, &iu.Warnings, func(d *decoder, o *obj) error {
		return decodeInstanceUsage(o, iu)
	})
}

// DecodeFleetUsage decodes GET /instances/usage.
func DecodeFleetUsage(body []byte) (*FleetUsage, error) {
	fu := &FleetUsage{Instances: []InstanceUsage{}}
	return decodeAnswer(body, "fleet usage", fu, &fu.Warnings, func(d *decoder, o *obj) error {
		seen := map[string]bool{}
		err := objects(o, "instances", true, &fu.Instances, func(_ string, e *obj, iu *InstanceUsage) error {
			if err := decodeInstanceUsage(e, iu); err != nil {
				return err
			}
			if seen[iu.InstanceID] {
				return fmt.Errorf("instance %q listed twice", iu.InstanceID)
			}
			seen[iu.InstanceID] = true
			return nil
		})
		if err != nil {
			return err
		}
		if fu.SharedModules, err = decodeModules(o, "shared_modules", nil); err != nil {
			return err
		}
		o.done()
		return nil
	})
}

func decodeQuotaStatus(o *obj, q *QuotaStatus) error {
	if err := o.read(strField("cache_salt", true, &q.CacheSalt), numField("quota_limit_gb", false, &q.QuotaLimitGB),
		boolField("quota_exists", false, &q.QuotaExists), numField("usage_gb", true, &q.UsageGB)); err != nil {
		return err
	}
	o.known("tier") // the upstream CLI reads it; the server never sends it
	o.done()
	if q.QuotaLimitGB < 0 || q.UsageGB < 0 || math.IsNaN(q.QuotaLimitGB) || math.IsNaN(q.UsageGB) {
		return fmt.Errorf("%s: negative quota or usage", orTop(o.path))
	}
	if !q.QuotaExists && q.QuotaLimitGB != 0 {
		return fmt.Errorf("%s: quota_limit_gb %v for a salt without a quota", orTop(o.path), q.QuotaLimitGB)
	}
	return nil
}

// DecodeQuotaStatus decodes GET /quota/{salt}.
func DecodeQuotaStatus(body []byte) (*QuotaStatus, error) {
	q := &QuotaStatus{}
	return decodeAnswer(body, "quota status", q, &q.Warnings, func(d *decoder, o *obj) error {
		return decodeQuotaStatus(o, q)
	})
}

// DecodeQuotaList decodes GET /quota: {"total_gb", "by_cache_salt": [...]}.
func DecodeQuotaList(body []byte) (*QuotaList, error) {
	ql := &QuotaList{ByCacheSalt: []QuotaStatus{}}
	return decodeAnswer(body, "quota listing", ql, &ql.Warnings, func(d *decoder, o *obj) error {
		if err := o.read(numField("total_gb", true, &ql.TotalGB)); err != nil {
			return err
		}
		seen := map[string]bool{}
		sum := 0.0
		err := objects(o, "by_cache_salt", true, &ql.ByCacheSalt, func(_ string, e *obj, q *QuotaStatus) error {
			if err := decodeQuotaStatus(e, q); err != nil {
				return err
			}
			if seen[q.CacheSalt] {
				return fmt.Errorf("salt %q listed twice", q.CacheSalt)
			}
			seen[q.CacheSalt] = true
			sum += q.UsageGB
			return nil
		})
		if err != nil {
			return err
		}
		o.done()
		if math.IsNaN(ql.TotalGB) || ql.TotalGB < 0 || math.Abs(sum-ql.TotalGB) > 1e-9*math.Max(1, ql.TotalGB) {
			return fmt.Errorf("total_gb %v but the salts' usage adds up to %v", ql.TotalGB, sum)
		}
		return nil
	})
}

// DecodeQuotaWrite decodes PUT and DELETE /quota/{salt}: {"cache_salt",
// "limit_gb", "status"}.
func DecodeQuotaWrite(body []byte) (*QuotaWriteResult, error) {
	q := &QuotaWriteResult{}
	return decodeAnswer(body, "quota answer", q, &q.Warnings, func(d *decoder, o *obj) error {
		return o.finish(strField("cache_salt", true, &q.CacheSalt), numField("limit_gb", false, &q.LimitGB),
			strField("status", true, &q.Status))
	})
}

// DecodeQuotaConfig decodes GET/PUT /quota/config: {"default_limit_gb":
// null | float}.
func DecodeQuotaConfig(body []byte) (*QuotaConfig, error) {
	qc := &QuotaConfig{}
	return decodeAnswer(body, "quota config", qc, &qc.Warnings, func(d *decoder, o *obj) error {
		if !o.has("default_limit_gb") {
			return o.missing("default_limit_gb")
		}
		if err := o.finish(optNumField("default_limit_gb", &qc.DefaultLimitGB)); err != nil {
			return err
		}
		if qc.DefaultLimitGB != nil && (*qc.DefaultLimitGB < 0 || math.IsNaN(*qc.DefaultLimitGB)) {
			return fmt.Errorf("default_limit_gb %v is negative", *qc.DefaultLimitGB)
		}
		return nil
	})
}

// DecodePinResult decodes POST/DELETE /cache/pins: {"requested",
// "affected", "status"}.
func DecodePinResult(body []byte) (*PinResult, error) {
	p := &PinResult{}
	return decodeAnswer(body, "pin answer", p, &p.Warnings, func(d *decoder, o *obj) error {
		if err := o.read(countField("requested", true, &p.Requested), countField("affected", true, &p.Affected),
			strField("status", true, &p.Status)); err != nil {
			return err
		}
		o.known("instance_id") // the per-instance pins of one July 2026 review state
		o.done()
		p.Pinned = p.Status == "pinned"
		return nil
	})
}

// DecodePinList decodes GET /cache/pins: {"total", "pins": [{"key",
// "pin_count"}]}.
func DecodePinList(body []byte) (*PinList, error) {
	pl := &PinList{Pins: []PinnedKey{}}
	return decodeAnswer(body, "pin listing", pl, &pl.Warnings, func(d *decoder, o *obj) error {
		if err := o.read(countField("total", true, &pl.Total)); err != nil {
			return err
		}
		err := objects(o, "pins", true, &pl.Pins, func(path string, e *obj, pk *PinnedKey) error {
			if err := e.read(keyField(&pk.Key), countField("pin_count", true, &pk.PinCount)); err != nil {
				return err
			}
			if pk.PinCount == 0 {
				return fmt.Errorf("%s: a pinned key with pin_count 0", path)
			}
			e.done()
			return nil
		})
		if err != nil {
			return err
		}
		o.done()
		if len(pl.Pins) > pl.Total {
			return fmt.Errorf("%d pins on a page of a listing of %d", len(pl.Pins), pl.Total)
		}
		return nil
	})
}

// DecodeDeleteResult decodes POST /cache/delete.
func DecodeDeleteResult(body []byte) (*DeleteResult, error) {
	r := &DeleteResult{}
	return decodeAnswer(body, "delete answer", r, &r.Warnings, func(d *decoder, o *obj) error {
		return o.finish(strField("instance_id", true, &r.InstanceID), countField("requested", true, &r.Requested),
			countField("affected", true, &r.Affected), countField("skipped", false, &r.Skipped),
			strField("status", true, &r.Status))
	})
}

// DecodePrefetchSubmit decodes the coordinator's POST /cache/prefetches
// answer {"instance_id", "request_id", "chunks", "status"} (and an MP
// server's, which lacks instance_id and, for a noop, request_id).
func DecodePrefetchSubmit(body []byte) (*PrefetchSubmitResult, error) {
	r := &PrefetchSubmitResult{}
	return decodeAnswer(body, "prefetch answer", r, &r.Warnings, func(d *decoder, o *obj) error {
		if err := o.finish(strField("instance_id", false, &r.InstanceID), strField("request_id", false, &r.RequestID),
			countField("chunks", true, &r.Chunks), strField("status", true, &r.Status)); err != nil {
			return err
		}
		return submitted(r.Status, r.RequestID, r.Chunks, "request_id: there is nothing to poll", "chunks")
	})
}

// submitted checks the status of a job submission: "submitted" with an
// id, or "noop" for nothing (n is then 0).
func submitted(status, id string, n int, noID, what string) error {
	switch status {
	case "submitted":
		if id == "" {
			return errors.New("status submitted without a " + noID)
		}
	case "noop":
		if n != 0 {
			return fmt.Errorf("status noop with %d %s", n, what)
		}
	default:
		return fmt.Errorf("status %q is neither submitted nor noop", status)
	}
	return nil
}

// DecodePrefetchStatus decodes a poll answer: {"request_id", "status":
// "pending"} or {"request_id", "status": "completed", "found_keys",
// "total_keys"[, "missing_key_indices"]} (request_id absent on older
// servers).
func DecodePrefetchStatus(body []byte) (*PrefetchStatus, error) {
	p := &PrefetchStatus{}
	return decodeAnswer(body, "prefetch status", p, &p.Warnings, func(d *decoder, o *obj) error {
		if err := o.read(strField("request_id", false, &p.RequestID), strField("status", true, &p.Status)); err != nil {
			return err
		}
		switch p.Status {
		case "pending":
			o.known("found_keys", "total_keys", "missing_key_indices")
		case "completed":
			if err := o.read(countField("found_keys", true, &p.FoundKeys), countField("total_keys", true, &p.TotalKeys)); err != nil {
				return err
			}
			if p.FoundKeys > p.TotalKeys {
				return fmt.Errorf("found_keys %d > total_keys %d", p.FoundKeys, p.TotalKeys)
			}
			if err := readMissing(o, p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("status %q is neither pending nor completed", p.Status)
		}
		o.done()
		return nil
	})
}

// readMissing reads missing_key_indices, the indices of the keys not found.
func readMissing(o *obj, p *PrefetchStatus) error {
	l, ok, err := o.list("missing_key_indices", false)
	if err != nil || !ok {
		return err
	}
	p.MissingKeyIndices = make([]int, 0, len(l))
	seen := map[int]bool{}
	for i, raw := range l {
		n, err := parseInteger(raw)
		if err != nil || n < 0 || n >= int64(p.TotalKeys) || seen[int(n)] {
			return fmt.Errorf("missing_key_indices[%d]: not a distinct index below total_keys %d", i, p.TotalKeys)
		}
		seen[int(n)] = true
		p.MissingKeyIndices = append(p.MissingKeyIndices, int(n))
	}
	if len(p.MissingKeyIndices) != p.TotalKeys-p.FoundKeys {
		return fmt.Errorf("%d missing_key_indices for %d of %d keys found", len(p.MissingKeyIndices), p.FoundKeys, p.TotalKeys)
	}
	return nil
}

// DecodeMoveSubmit decodes POST /cache/moves.
func DecodeMoveSubmit(body []byte) (*MoveSubmitResult, error) {
	m := &MoveSubmitResult{}
	return decodeAnswer(body, "move answer", m, &m.Warnings, func(d *decoder, o *obj) error {
		if err := o.finish(strField("move_id", false, &m.MoveID), strField("source_instance_id", false, &m.SourceInstanceID),
			strField("target_instance_id", false, &m.TargetInstanceID), countField("requested", true, &m.Requested),
			strField("status", true, &m.Status)); err != nil {
			return err
		}
		return submitted(m.Status, m.MoveID, m.Requested, "move_id", "chunks requested")
	})
}

// DecodeMoveStatus decodes GET /cache/moves/{move_id}.
func DecodeMoveStatus(body []byte) (*MoveStatus, error) {
	m := &MoveStatus{}
	return decodeAnswer(body, "move status", m, &m.Warnings, func(d *decoder, o *obj) error {
		if err := o.finish(strField("move_id", false, &m.MoveID), strField("source_instance_id", false, &m.SourceInstanceID),
			strField("target_instance_id", false, &m.TargetInstanceID), strField("status", true, &m.Status),
			strField("phase", false, &m.Phase), strField("error", false, &m.Error),
			countField("requested", false, &m.Requested), countField("loaded", false, &m.Loaded),
			countField("missing", false, &m.Missing), countField("deleted", false, &m.Deleted),
			countField("skipped", false, &m.Skipped)); err != nil {
			return err
		}
		switch m.Status {
		case "pending", "completed", "failed":
		default:
			return fmt.Errorf("status %q is none of pending, completed, failed", m.Status)
		}
		if m.Phase != "" && m.Phase != "load" && m.Phase != "delete" {
			d.warn("the move status has phase %q, which lmc does not know", m.Phase)
		}
		if m.Deleted+m.Skipped > m.Loaded && m.Loaded > 0 {
			return fmt.Errorf("deleted %d + skipped %d of %d keys loaded: the source deletes only what the target loaded", m.Deleted, m.Skipped, m.Loaded)
		}
		return nil
	})
}

// DecodeEventsResult decodes POST /events: {"applied", "duplicates",
// "stale"}.
func DecodeEventsResult(body []byte) (*EventsResult, error) {
	r := &EventsResult{}
	return decodeAnswer(body, "events answer", r, &r.Warnings, func(d *decoder, o *obj) error {
		return o.finish(countField("applied", true, &r.Applied), countField("duplicates", false, &r.Duplicates),
			countField("stale", false, &r.Stale))
	})
}
