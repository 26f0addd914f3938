package controllerclient

// Response decoders. They accept every response shape listed in the spec's
// version-drift rules (§9.2) and reject bodies that are not what the
// controller sends, never panicking on arbitrary input.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
)

func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("answer is null, not a JSON object")
	}
	return m, nil
}

func present(m map[string]json.RawMessage, k string) bool {
	v, ok := m[k]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// opt reads member k as a T: nil when it is absent or null.
func opt[T any](m map[string]json.RawMessage, k string) (*T, error) {
	if !present(m, k) {
		return nil, nil
	}
	var x T
	if err := json.Unmarshal(m[k], &x); err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	return &x, nil
}

func optString(m map[string]json.RawMessage, k string) (string, error) {
	s, err := opt[string](m, k)
	if s == nil {
		return "", err
	}
	return *s, nil
}

// optInt reads member k with parseInt: nil when it is absent or null.
func optInt(m map[string]json.RawMessage, k string) (*int, error) {
	if !present(m, k) {
		return nil, nil
	}
	n, err := parseInt(m[k])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	return &n, nil
}

// eventAnswer decodes body, a JSON object, and its optional event_id.
func eventAnswer(body []byte) (map[string]json.RawMessage, string, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, "", err
	}
	id, err := optString(m, "event_id")
	if err != nil {
		return nil, "", err
	}
	return m, id, nil
}

// parseInt accepts a JSON number that is an integer (also written as
// 512.0) within the int range.
func parseInt(raw json.RawMessage) (int, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, err
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if int64(int(i)) != i {
			return 0, fmt.Errorf("number %s out of range", n)
		}
		return int(i), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("number %s is not an integer", n)
	}
	return int(f), nil
}

// DecodeLookup decodes a /lookup answer: {"event_id", "layout_info":
// {instance: [location, end]}} (keeping the controller's instance order),
// or the pre-v0.3.0 {"res": "<instance>"}.
func DecodeLookup(body []byte) (*LookupResult, error) {
	m, eventID, err := eventAnswer(body)
	if err != nil {
		return nil, err
	}
	res := &LookupResult{EventID: eventID, Instances: []InstanceHit{}}
	switch {
	case present(m, "layout_info"):
		hits, err := decodeLayout(m["layout_info"])
		if err != nil {
			return nil, fmt.Errorf("layout_info: %w", err)
		}
		res.Instances = hits
		for _, h := range hits {
			res.MatchedTokens = max(res.MatchedTokens, h.HitTokens)
		}
	case present(m, "res"):
		inst, err := optString(m, "res")
		if err != nil {
			return nil, err
		}
		res.Legacy = true
		if inst != "" {
			res.Instances = append(res.Instances, InstanceHit{InstanceID: inst})
		}
	case hasKey(m, "layout_info"):
		// null layout: treat as a miss
	default:
		return nil, errors.New("answer has neither layout_info nor res")
	}
	return res, nil
}

func hasKey(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

// decodeLayout walks the layout object in order (a Go map would lose the
// order, which says which instance was credited first).
func decodeLayout(raw json.RawMessage) ([]InstanceHit, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	hits := []InstanceHit{}
	index := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		inst, ok := tok.(string)
		if !ok {
			return nil, errors.New("bad key")
		}
		var pair []json.RawMessage
		if err := dec.Decode(&pair); err != nil {
			return nil, fmt.Errorf("%q: %w", inst, err)
		}
		if len(pair) < 2 {
			return nil, fmt.Errorf("%q: want [location, tokens], got %d elements", inst, len(pair))
		}
		var loc string
		if err := json.Unmarshal(pair[0], &loc); err != nil {
			return nil, fmt.Errorf("%q: location: %w", inst, err)
		}
		n, err := parseInt(pair[1])
		if err != nil {
			return nil, fmt.Errorf("%q: tokens: %w", inst, err)
		}
		h := InstanceHit{InstanceID: inst, Location: loc, HitTokens: n}
		if i, dup := index[inst]; dup {
			hits[i] = h // JSON duplicates: last wins, like Python
			continue
		}
		index[inst] = len(hits)
		hits = append(hits, h)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return hits, nil
}

// DecodeOp decodes the answer of clear, pin, compress, decompress and
// move: {"event_id", "num_tokens"}, or the legacy {"success"},
// {"event_id"} or {"event_ids"}.
func DecodeOp(body []byte) (*OpResult, error) {
	m, eventID, err := eventAnswer(body)
	if err != nil {
		return nil, err
	}
	res := &OpResult{EventID: eventID}
	n, err := optInt(m, "num_tokens")
	if err != nil {
		return nil, err
	}
	if n != nil {
		res.NumTokens, res.HasNumTokens = *n, true
	}
	if res.Success, err = opt[bool](m, "success"); err != nil {
		return nil, err
	}
	ids, err := opt[[]string](m, "event_ids")
	if err != nil {
		return nil, err
	}
	if ids != nil {
		res.EventIDs = *ids
	}
	if !present(m, "event_id") && n == nil && res.Success == nil && ids == nil {
		return nil, errors.New("answer has none of num_tokens, success, event_id, event_ids")
	}
	return res, nil
}

// DecodeHealth decodes a /health answer: {"event_id", "error_codes":
// {"<worker>": code}}, or the legacy {"error_code": n} or {"alive": b}.
func DecodeHealth(body []byte) (*HealthResult, error) {
	m, eventID, err := eventAnswer(body)
	if err != nil {
		return nil, err
	}
	res := &HealthResult{EventID: eventID, Workers: []WorkerHealth{}}
	known := false
	if present(m, "error_codes") {
		var codes map[string]json.RawMessage
		if err := json.Unmarshal(m["error_codes"], &codes); err != nil {
			return nil, fmt.Errorf("error_codes: %w", err)
		}
		for k, v := range codes {
			id, err := strconv.Atoi(k)
			if err != nil {
				return nil, fmt.Errorf("error_codes: worker id %q: %w", k, err)
			}
			code, err := parseInt(v)
			if err != nil {
				return nil, fmt.Errorf("error_codes[%s]: %w", k, err)
			}
			res.Workers = append(res.Workers, WorkerHealth{WorkerID: id, Code: code, Meaning: HealthCodeMeaning(code)})
		}
		sort.Slice(res.Workers, func(i, j int) bool { return res.Workers[i].WorkerID < res.Workers[j].WorkerID })
		known = true
	}
	if res.ErrorCode, err = optInt(m, "error_code"); err != nil {
		return nil, err
	}
	if res.Alive, err = opt[bool](m, "alive"); err != nil {
		return nil, err
	}
	if !known && res.ErrorCode == nil && res.Alive == nil {
		return nil, errors.New("answer has none of error_codes, error_code, alive")
	}
	return res, nil
}

// DecodeCheckFinish decodes {"status": str} or the legacy {"finished": b}.
func DecodeCheckFinish(body []byte) (*CheckFinishResult, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	res := &CheckFinishResult{}
	if res.Status, err = optString(m, "status"); err != nil {
		return nil, err
	}
	if res.Finished, err = opt[bool](m, "finished"); err != nil {
		return nil, err
	}
	if res.Status == "" && res.Finished == nil {
		return nil, errors.New("answer has neither status nor finished")
	}
	return res, nil
}

type wireWorker struct {
	InstanceID        *string  `json:"instance_id"`
	WorkerID          *int     `json:"worker_id"`
	IP                string   `json:"ip"`
	Port              int      `json:"port"`
	PeerInitURL       *string  `json:"peer_init_url"`
	DistributedURL    *string  `json:"distributed_url"`
	RegistrationTime  *float64 `json:"registration_time"`
	LastHeartbeatTime *float64 `json:"last_heartbeat_time"`
	KeyCount          *int     `json:"key_count"`
}

func (w wireWorker) info() (WorkerInfo, error) {
	if w.InstanceID == nil || w.WorkerID == nil {
		return WorkerInfo{}, errors.New("worker entry lacks instance_id or worker_id")
	}
	wi := WorkerInfo{
		InstanceID: *w.InstanceID, WorkerID: *w.WorkerID, IP: w.IP, Port: w.Port,
		PeerInitURL: w.PeerInitURL, KeyCount: w.KeyCount,
	}
	if wi.PeerInitURL == nil {
		wi.PeerInitURL = w.DistributedURL
	}
	if w.RegistrationTime != nil {
		wi.RegistrationTime = *w.RegistrationTime
	}
	if w.LastHeartbeatTime != nil {
		wi.LastHeartbeatTime = *w.LastHeartbeatTime
	}
	return wi, nil
}

func decodeWorkerList(raw json.RawMessage) ([]WorkerInfo, error) {
	var ws []wireWorker
	if err := json.Unmarshal(raw, &ws); err != nil {
		return nil, err
	}
	out := make([]WorkerInfo, 0, len(ws))
	for i, w := range ws {
		wi, err := w.info()
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, wi)
	}
	return out, nil
}

// DecodeWorkerInfos decodes a /query_worker_info answer.
func DecodeWorkerInfos(body []byte) (*WorkerInfoResult, error) {
	m, eventID, err := eventAnswer(body)
	if err != nil {
		return nil, err
	}
	res := &WorkerInfoResult{EventID: eventID, Workers: []WorkerInfo{}}
	if !hasKey(m, "worker_infos") {
		return nil, errors.New("answer lacks worker_infos")
	}
	if present(m, "worker_infos") {
		if res.Workers, err = decodeWorkerList(m["worker_infos"]); err != nil {
			return nil, fmt.Errorf("worker_infos: %w", err)
		}
	}
	return res, nil
}

// DecodeWorkers decodes a GET /controller/workers answer, either the list
// {"workers": [...], "total_count": n} or a single worker object.
func DecodeWorkers(body []byte) (*WorkersResult, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if hasKey(m, "workers") {
		res := &WorkersResult{Workers: []WorkerInfo{}}
		if present(m, "workers") {
			if res.Workers, err = decodeWorkerList(m["workers"]); err != nil {
				return nil, fmt.Errorf("workers: %w", err)
			}
		}
		res.TotalCount = len(res.Workers)
		n, err := optInt(m, "total_count")
		if err != nil {
			return nil, err
		}
		if n != nil {
			res.TotalCount = *n
		}
		return res, nil
	}
	var w wireWorker
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	wi, err := w.info()
	if err != nil {
		return nil, err
	}
	return &WorkersResult{Workers: []WorkerInfo{wi}, TotalCount: 1}, nil
}

// DecodeKeyStats decodes a GET /controller/key-stats answer.
func DecodeKeyStats(body []byte) (*KeyStats, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if !hasKey(m, "total_key_count") && !hasKey(m, "instances") {
		return nil, errors.New("answer lacks total_key_count and instances")
	}
	var ks KeyStats
	if err := json.Unmarshal(body, &ks); err != nil {
		return nil, err
	}
	if ks.Instances == nil {
		ks.Instances = []InstanceKeyStats{}
	}
	return &ks, nil
}

// DecodeQueryInstance decodes a /query_instance answer {"event_id",
// "res": "<instance>"}.
func DecodeQueryInstance(body []byte) (*QueryInstanceResult, error) {
	m, eventID, err := eventAnswer(body)
	if err != nil {
		return nil, err
	}
	res := &QueryInstanceResult{EventID: eventID}
	if !present(m, "res") {
		return nil, errors.New("answer lacks res")
	}
	if res.InstanceID, err = optString(m, "res"); err != nil {
		return nil, err
	}
	return res, nil
}
