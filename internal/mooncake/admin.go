package mooncake

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"lmc/internal/transport"
)

// DefaultMaxURLLength is the default bound on the full URL of one admin
// request; /batch_query_keys requests are split to stay under it.
const DefaultMaxURLLength = 6 << 10

// Admin is a client of the master's HTTP admin server (--metrics_port,
// default 9003; spec §8.1).
//
// Unlike the RPCs ExistKey/BatchExistKey/GetReplicaList, which grant a read
// lease on every key they find (spec §5, §6.6), /batch_query_keys,
// /get_all_keys, /health and /metrics/summary are READ-ONLY: they grant no
// lease and count no metrics, so they cannot delay evictions or Removes.
// /query_key is the exception: the master serves it through GetReplicaList,
// so it does grant a lease.
type Admin struct {
	base    string // request URLs start here (no credentials)
	display string // the URL as it may be printed
	hc      *http.Client
	maxURL  int
	maxSeg  int64 // cap of /get_segments_detail (adminops.go)

	requests atomic.Int64
}

// AdminOption configures an Admin.
type AdminOption func(*Admin)

// WithMaxURLLength bounds each request URL (default 6 KiB).
func WithMaxURLLength(n int) AdminOption { return func(a *Admin) { a.maxURL = n } }

// NewAdmin returns a client for the admin server reached through peer (from
// transport.Peer, e.g. for "http://10.0.0.5:9003"), which carries TLS,
// headers, redirects and body limits. Per-call deadlines come from the
// context.
func NewAdmin(peer *transport.Peer, opts ...AdminOption) (*Admin, error) {
	if peer == nil {
		return nil, errors.New("mooncake admin: no peer")
	}
	a := &Admin{base: peer.Base, display: peer.Display, hc: peer.HTTP, maxURL: DefaultMaxURLLength}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// BaseURL returns the admin server's URL as it may be printed (credentials
// redacted).
func (a *Admin) BaseURL() string { return a.display }

// HTTPError is a non-2xx answer that did not carry a Mooncake error code.
type HTTPError struct {
	URL        string
	StatusCode int
	Body       string // at most 512 bytes
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("mooncake admin: %s: HTTP %d: %s", e.URL, e.StatusCode, e.Body)
}

// Bounds of admin answers, set per request with transport.WithBodyLimit (a
// larger answer fails with *transport.BodyTooLargeError). They follow the
// JSON forms of the structures bounded in limits.go: a memory replica is
// at most ~650 bytes of JSON with a 512-byte endpoint, a disk one ~4,150
// with a PATH_MAX path, and a key's entry is sized like an RPC one (8
// memory, 2 disk, 2 local-disk replicas at their maximum: ~15 KB), doubled
// for whitespace.
const (
	// adminSmallLimit bounds /health and /leader: a few hundred bytes.
	adminSmallLimit = 16 << 10
	// adminSummaryLimit bounds /metrics/summary: one line of counters.
	adminSummaryLimit = 64 << 10
	// adminErrorLimit bounds what is read of a non-2xx answer for its
	// message.
	adminErrorLimit = 64 << 10
	// adminQueryKeyLimit bounds /query_key: one key's memory replicas,
	// MaxReplicasPerKey of them at their largest.
	adminQueryKeyLimit = 256 << 10
	// adminKeyEntry is the budget of one key's entry in /batch_query_keys,
	// besides the key itself (echoed, up to 6 bytes a byte when escaped);
	// a page also gets adminPageBase.
	adminKeyEntry = 32 << 10
	adminPageBase = 512 << 10
	// MaxKeyLineLength bounds one line of /get_all_keys, a listing of
	// unbounded length read as a stream: Mooncake keys are short (an LMCache
	// key is ~100 bytes), and a longer line is not a key.
	MaxKeyLineLength = 4 << 10
)

// Requests is the number of HTTP requests sent so far.
func (a *Admin) Requests() int { return int(a.requests.Load()) }

// adminPath is the path of pathAndQuery, as errors name it.
func adminPath(pathAndQuery string) string {
	p, _, _ := strings.Cut(pathAndQuery, "?")
	return p
}

// answer is the envelope of the admin API's JSON answers: data endpoints
// say success, and failures carry error_code/error_message or error.
type answer struct {
	Success      *bool           `json:"success"`
	ErrorCode    *int32          `json:"error_code"`
	ErrorMessage *string         `json:"error_message"`
	Error        *string         `json:"error"`
	Data         json.RawMessage `json:"data"`
}

// failure returns the error an answer states, or nil when it states none:
// a Mooncake code becomes a *MasterError with the master's message, a bare
// message an *AdminError quoting it.
func (an answer) failure(path string, status int) error {
	if an.Success != nil && *an.Success {
		return nil
	}
	msg := ""
	if an.ErrorMessage != nil {
		msg = *an.ErrorMessage
	}
	if an.Error != nil && (msg == "" || an.ErrorCode == nil) {
		msg = *an.Error
	}
	if an.ErrorCode != nil {
		e := NewMasterError(path, ErrorCode(*an.ErrorCode))
		e.Msg = msg
		return e
	}
	if an.Success == nil {
		return nil
	}
	if msg == "" {
		msg = "(no message)"
	}
	return &AdminError{Path: path, StatusCode: status, Msg: msg}
}

// get sends one GET whose answer may hold at most limit bytes of body. A
// non-2xx answer is an error: a *MasterError when it carries a Mooncake
// code, an *HTTPError otherwise.
func (a *Admin) get(ctx context.Context, pathAndQuery string, limit int64) (*http.Response, error) {
	return a.do(ctx, http.MethodGet, pathAndQuery, limit)
}

// do sends one request without a body; see get.
func (a *Admin) do(ctx context.Context, method, pathAndQuery string, limit int64) (*http.Response, error) {
	a.requests.Add(1)
	u := a.base + pathAndQuery
	req, err := http.NewRequestWithContext(transport.WithBodyLimit(ctx, limit), method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("mooncake admin: %w", err)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mooncake admin: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, adminErrorLimit))
		var an answer
		if json.Unmarshal(body, &an) == nil {
			if err := an.failure(adminPath(pathAndQuery), resp.StatusCode); err != nil {
				if _, ok := err.(*MasterError); ok {
					return nil, err
				}
			}
		}
		msg := strings.TrimSpace(string(clip(body, 512)))
		if an.Error != nil {
			msg = *an.Error
		} else if an.ErrorMessage != nil {
			msg = *an.ErrorMessage
		}
		return nil, &HTTPError{URL: u, StatusCode: resp.StatusCode, Body: msg}
	}
	return resp, nil
}

// getBody reads a whole answer of at most limit bytes.
func (a *Admin) getBody(ctx context.Context, pathAndQuery string, limit int64) ([]byte, int, error) {
	resp, err := a.get(ctx, pathAndQuery, limit)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The answer had begun: cut short, it is a wrong answer, not an
		// unreachable peer (resets and timeouts stay network errors).
		return nil, 0, &ProtocolError{Method: adminPath(pathAndQuery), Offset: len(body), Err: ErrTruncated,
			Msg: fmt.Sprintf("the connection closed after %d bytes of the answer", len(body))}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("mooncake admin: %s: reading the answer: %w", adminPath(pathAndQuery), err)
	}
	return body, resp.StatusCode, nil
}

// decodeJSONOnce decodes body, which must hold exactly one JSON document,
// into v. Anything else is a *ProtocolError with the byte offset: invalid
// or truncated JSON, or data (a second document, garbage) after it.
func decodeJSONOnce(path string, body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		pe := &ProtocolError{Method: path, Offset: int(dec.InputOffset()), Msg: "the answer is not the expected JSON: " + err.Error()}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case err == io.EOF:
			pe.Offset, pe.Msg, pe.Err = 0, "the answer is empty", ErrTruncated
		case err == io.ErrUnexpectedEOF:
			pe.Offset, pe.Msg, pe.Err = len(body), "the answer ends inside its JSON", ErrTruncated
		case errors.As(err, &se):
			pe.Offset = int(se.Offset)
		case errors.As(err, &te):
			pe.Offset = int(te.Offset)
		}
		return pe
	}
	end := int(dec.InputOffset())
	rest := bytes.TrimLeft(body[end:], " \t\r\n")
	if len(rest) > 0 {
		at := len(body) - len(rest)
		return &ProtocolError{Method: path, Offset: at, Err: ErrTrailingData,
			Msg: fmt.Sprintf("%d bytes follow the JSON answer (a second document or garbage): %q", len(rest), clip(rest, 32))}
	}
	return nil
}

// checkKeys walks the object in raw and refuses a key that appears twice or
// that differs only in case from one of known: encoding/json would let the
// last of them win or fold them together, so {"ok":true,"OK":false} or a
// repeated "success" could pass for an answer the master never gave. raw
// has been decoded once already (it is valid JSON).
func checkKeys(path string, raw []byte, known ...string) error {
	// raw was decoded by encoding/json before (decodeJSONOnce, or as part
	// of an answer that was): jsonObject walks it without decoding.
	var keys keyList
	_, isObject, _ := jsonObject(raw, func(k jsonKeyLit, keyEnd int, _ []byte) (int, error) {
		keys.add(k, keyEnd)
		return -1, nil
	})
	if !isObject {
		return &ProtocolError{Method: path, Offset: -1, Msg: "the answer is not a JSON object"}
	}
	return keys.check(path, known...)
}

var answerKeys = []string{"success", "error_code", "error_message", "error", "data"}

// getJSON reads one JSON answer of at most limit bytes into v. An answer
// that says success=false (with any HTTP status) is the error it states.
func (a *Admin) getJSON(ctx context.Context, pathAndQuery string, limit int64, v any, keys ...string) error {
	path := adminPath(pathAndQuery)
	body, status, err := a.getBody(ctx, pathAndQuery, limit)
	if err != nil {
		return err
	}
	var an answer
	if err := decodeJSONOnce(path, body, &an); err != nil {
		return err
	}
	if err := checkKeys(path, body, append(keys, answerKeys...)...); err != nil {
		return err
	}
	if err := an.failure(path, status); err != nil {
		return err
	}
	return decodeJSONOnce(path, body, v)
}

// getData reads a data endpoint's answer: it must say success=true, and
// its data field is returned.
func (a *Admin) getData(ctx context.Context, pathAndQuery string, limit int64) (json.RawMessage, error) {
	path := adminPath(pathAndQuery)
	body, status, err := a.getBody(ctx, pathAndQuery, limit)
	if err != nil {
		return nil, err
	}
	an, keys, err := decodeAnswer(path, body)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		err = checkKeys(path, body, answerKeys...)
	} else {
		err = keys.check(path, answerKeys...) // checkKeys on the keys decodeAnswer met
	}
	if err != nil {
		return nil, err
	}
	if err := an.failure(path, status); err != nil {
		return nil, err
	}
	switch {
	case an.Success == nil:
		return nil, &ProtocolError{Method: path, Offset: -1, Msg: "the answer has no success field"}
	case an.ErrorCode != nil || (an.Error != nil && *an.Error != "") || (an.ErrorMessage != nil && *an.ErrorMessage != ""):
		return nil, &ProtocolError{Method: path, Offset: -1, Err: ErrContradiction, Msg: "the answer says success=true and names an error"}
	case len(an.Data) == 0 || string(an.Data) == "null":
		return nil, &ProtocolError{Method: path, Offset: -1, Msg: "the answer says success=true but holds no data"}
	}
	return an.Data, nil
}

// Health is the JSON of GET /health.
type Health struct {
	Status        string  `json:"status"`
	Role          string  `json:"role"`
	HAState       string  `json:"ha_state"`
	ServiceReady  bool    `json:"service_ready"`
	LeaderAddress *string `json:"leader_address"`
	ViewVersion   *int64  `json:"view_version"`
}

// Health returns GET /health.
func (a *Admin) Health(ctx context.Context) (Health, error) {
	var h Health
	if err := a.getJSON(ctx, "/health", adminSmallLimit, &h, "status", "role", "ha_state", "service_ready", "leader_address", "view_version"); err != nil {
		return Health{}, err
	}
	if h.Status == "" {
		return Health{}, &ProtocolError{Method: "/health", Offset: -1, Msg: "the answer has no status"}
	}
	return h, nil
}

// Leader is the answer of GET /leader, which any master (leader or
// standby) serves: where the HA leader's RPC listens.
type Leader struct {
	Present       bool    `json:"present"`
	LeaderAddress *string `json:"leader_address"`
	ViewVersion   *int64  `json:"view_version"`
}

// Leader returns GET /leader. With HA, only the leader runs the RPC server.
func (a *Admin) Leader(ctx context.Context) (Leader, error) {
	var l struct {
		Present *bool `json:"present"`
		Leader
	}
	if err := a.getJSON(ctx, "/leader", adminSmallLimit, &l, "present", "leader_address", "view_version"); err != nil {
		return Leader{}, err
	}
	switch {
	case l.Present == nil:
		return Leader{}, &ProtocolError{Method: "/leader", Offset: -1, Msg: "the answer has no present field"}
	case *l.Present && (l.LeaderAddress == nil || *l.LeaderAddress == ""):
		return Leader{}, &ProtocolError{Method: "/leader", Offset: -1, Err: ErrContradiction, Msg: "the answer says a leader is present but names no address"}
	case !*l.Present && l.LeaderAddress != nil && *l.LeaderAddress != "":
		return Leader{}, &ProtocolError{Method: "/leader", Offset: -1, Err: ErrContradiction, Msg: fmt.Sprintf("the answer says no leader is present but names %q", *l.LeaderAddress)}
	}
	l.Leader.Present = *l.Present
	return l.Leader, nil
}

// MetricsSummary returns the one-line text of GET /metrics/summary.
func (a *Admin) MetricsSummary(ctx context.Context) (string, error) {
	b, _, err := a.getBody(ctx, "/metrics/summary", adminSummaryLimit)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// QueryKey returns the memory replicas of key from GET /query_key. The
// master serves this through GetReplicaList, so it GRANTS A READ LEASE.
// The master does not URL-decode this parameter, so keys holding bytes that
// cannot appear raw in a query (space, '&', '#', '%', controls, non-ASCII)
// are rejected; use BatchQueryKeys for them.
func (a *Admin) QueryKey(ctx context.Context, key string) ([]BufferDescriptor, error) {
	if key == "" {
		return nil, errors.New("mooncake admin: empty key")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c >= 0x7f || c == '&' || c == '#' || c == '%' {
			return nil, fmt.Errorf("mooncake admin: /query_key cannot carry key %q: byte 0x%02x would need escaping, which the master does not undo", key, c)
		}
	}
	data, err := a.getData(ctx, "/query_key?key="+key, adminQueryKeyLimit)
	if err != nil {
		return nil, err
	}
	var out []BufferDescriptor
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &ProtocolError{Method: "/query_key", Offset: -1, Msg: "data is not a list of replicas: " + err.Error()}
	}
	if len(out) > MaxReplicasPerKey {
		return nil, &ProtocolError{Method: "/query_key", Offset: -1, Err: ErrContradiction,
			Msg: fmt.Sprintf("%d replicas for one object, more than the %d a master places", len(out), MaxReplicasPerKey)}
	}
	return out, nil
}

// KeyQuery is one key's entry of /batch_query_keys.
type KeyQuery struct {
	Key string
	OK  bool
	// Error is the master's error name for the key (e.g. "OBJECT_NOT_FOUND")
	// and Code its value when known.
	Error           string
	Code            ErrorCode
	Values          []BufferDescriptor // memory replicas
	DiskValues      []DiskDescriptor
	LocalDiskValues []LocalDiskDescriptor
	NoFValues       []BufferDescriptor
}

type jsonKeyQuery struct {
	OK              bool               `json:"ok"`
	Error           *string            `json:"error"`
	Values          []BufferDescriptor `json:"values"`
	DiskValues      []DiskDescriptor   `json:"disk_values"`
	LocalDiskValues []jsonLocalDisk    `json:"local_disk_values"`
	NoFValues       []BufferDescriptor `json:"nof_values"`
}

type jsonLocalDisk struct {
	ClientID          json.RawMessage `json:"client_id"`
	ObjectSize        uint64          `json:"object_size"`
	TransportEndpoint string          `json:"transport_endpoint"`
}

// parseUUIDJSON accepts the forms a UUID may take in JSON: [first, second],
// {"first":..,"second":..}, or the string "first-second".
func parseUUIDJSON(raw json.RawMessage) UUID {
	var arr [2]uint64
	if json.Unmarshal(raw, &arr) == nil {
		return UUID{arr[0], arr[1]}
	}
	var obj struct{ First, Second uint64 }
	if json.Unmarshal(raw, &obj) == nil {
		return UUID{obj.First, obj.Second}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		var u UUID
		if _, err := fmt.Sscanf(s, "%d-%d", &u.First, &u.Second); err == nil {
			return u
		}
	}
	return UUID{}
}

// queryEscape percent-encodes everything but RFC 3986 unreserved bytes, so
// any decoder (including one that does not treat '+' as space) restores the
// key exactly.
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	n := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			n += 2
		}
	}
	if n == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// splitBatch groups escaped keys so that prefix + keys joined by ',' stays
// within limit bytes. A single key longer than the limit is sent alone.
func splitBatch(prefixLen, limit int, escaped []string) [][2]int {
	var out [][2]int
	start, size := 0, prefixLen
	for i, k := range escaped {
		add := len(k)
		if i > start {
			add++ // the comma
		}
		if i > start && size+add > limit {
			out = append(out, [2]int{start, i})
			start, size = i, prefixLen
			add = len(k)
		}
		size += add
	}
	if start < len(escaped) {
		out = append(out, [2]int{start, len(escaped)})
	}
	return out
}

// BatchQueryKeys looks keys up through GET /batch_query_keys, which is
// read-only: no lease is granted, nothing is counted. The key list is split
// into as many requests as needed to keep every URL under the configured
// limit, and the answers are merged back in the order of keys. Keys must be
// non-empty and must not contain ',' (the master splits the decoded list on
// commas).
func (a *Admin) BatchQueryKeys(ctx context.Context, keys []string) ([]KeyQuery, error) {
	out := make([]KeyQuery, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	escaped := make([]string, len(keys))
	for i, k := range keys {
		if k == "" || strings.ContainsRune(k, ',') {
			return nil, fmt.Errorf("mooncake admin: key %q cannot be sent to /batch_query_keys (empty or contains ',')", k)
		}
		escaped[i] = queryEscape(k)
	}
	const path = "/batch_query_keys?keys="
	pages := splitBatch(len(a.base)+len(path), a.maxURL, escaped)
	query := func(ctx context.Context, i int) error {
		r := pages[i]
		return a.queryPage(ctx, path+strings.Join(escaped[r[0]:r[1]], ","), keys[r[0]:r[1]], out[r[0]:r[1]])
	}
	if len(pages) == 1 {
		if err := query(ctx, 0); err != nil {
			return nil, err
		}
		return out, nil
	}
	// (A failed page may have filled part of its range of out: out is
	// returned only when every page succeeded.)
	// Up to pagesInFlight pages at once (each on its own connection of the
	// peer's pool), taken in order. A failure stops the pages not yet sent
	// (those in flight finish: cancelling them could turn an earlier page's
	// answer into an error); the error returned is that of the first page,
	// in key order, that failed — the one a page-by-page loop would meet.
	errs := make([]error, len(pages))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(pagesInFlight, len(pages)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pages) || failed.Load() {
					return
				}
				if errs[i] = query(ctx, i); errs[i] != nil {
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pagesInFlight bounds the /batch_query_keys requests of one
// BatchQueryKeys call in flight at once: a prompt of 128k tokens needs
// about ten pages, which would otherwise wait on each other's round trip.
const pagesInFlight = 4

var entryKeys = []string{"ok", "error", "values", "disk_values", "local_disk_values", "nof_values"}

// withKey prefixes a *ProtocolError about an entry with its key.
func withKey(err error, key string) error {
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		return err
	}
	cp := *pe
	cp.Offset = -1
	cp.Msg = fmt.Sprintf("the entry of key %q: %s", key, pe.Msg)
	return &cp
}

// batchPageLimit bounds the answer to one /batch_query_keys page.
func batchPageLimit(keys []string) int64 {
	n := int64(adminPageBase)
	for _, k := range keys {
		n += adminKeyEntry + 6*int64(len(k))
	}
	return n
}

// queryPage asks /batch_query_keys for one page of keys and returns one
// KeyQuery per key, in order. The answer must say success=true and name
// only keys that were asked, each once; an entry that is ok and names an
// error contradicts itself. A key the answer leaves out is an error for
// that key (Code INTERNAL_ERROR), never a miss.
func (a *Admin) queryPage(ctx context.Context, pathAndQuery string, keys []string, out []KeyQuery) error {
	const p = "/batch_query_keys"
	data, err := a.getData(ctx, pathAndQuery, batchPageLimit(keys))
	if err != nil {
		return err
	}
	wrong := func(sentinel error, format string, args ...any) error {
		return &ProtocolError{Method: p, Offset: -1, Err: sentinel, Msg: fmt.Sprintf(format, args...)}
	}
	asked := make(map[string]int, len(keys))
	for i, k := range keys {
		asked[k] = i
	}
	got := make([]*jsonKeyQuery, len(keys))
	entries := make([]jsonKeyQuery, len(keys)) // got's targets, one allocation
	var jqv jsonKeyQuery
	// data is part of an answer encoding/json accepted (getData): walk
	// its members without decoding the whole again.
	_, isObject, err := jsonObject(data, func(kl jsonKeyLit, _ int, rest []byte) (int, error) {
		jqv = jsonKeyQuery{}
		jq := &jqv
		// checkKeys(p, raw, entryKeys...) on the keys decodeCommon met.
		var keys keyList
		n, common, isObject := jq.decodeCommon(rest, &keys)
		k := ""
		i, ok := 0, false
		if pk := kl.plain(); pk != nil {
			i, ok = asked[string(pk)]
			if !ok || got[i] != nil || !isObject || !common {
				k = string(pk)
			}
		} else {
			k = kl.String()
			i, ok = asked[k]
		}
		if !isObject {
			return 0, withKey(&ProtocolError{Method: p, Offset: -1, Msg: "the answer is not a JSON object"}, k)
		}
		if err := keys.check(p, entryKeys...); err != nil {
			return 0, withKey(err, k)
		}
		if !common {
			*jq = jsonKeyQuery{}
			if err := json.Unmarshal(rest[:n], jq); err != nil {
				return 0, wrong(nil, "the entry of key %q: %v", k, err)
			}
		}
		switch {
		case !ok:
			return 0, wrong(ErrContradiction, "the answer names key %q, which was not asked", k)
		case got[i] != nil:
			return 0, wrong(ErrContradiction, "the answer names key %q twice", k)
		case jq.OK && jq.Error != nil && *jq.Error != "":
			return 0, wrong(ErrContradiction, "key %q is ok and has error %q", kl.String(), *jq.Error)
		}
		entries[i] = *jq
		got[i] = &entries[i]
		return n, nil
	})
	if !isObject {
		return wrong(nil, "data is not an object of keys")
	}
	if err != nil {
		return err
	}
	for i, k := range keys {
		q := KeyQuery{Key: k}
		jq := got[i]
		if jq == nil {
			if j := asked[k]; j != i && got[j] != nil {
				jq = got[j] // the same key asked twice: one answer serves both
			}
		}
		if jq == nil {
			q.Error = "missing from the master's reply"
			q.Code = CodeInternalError
			out[i] = q
			continue
		}
		if n := len(jq.Values) + len(jq.DiskValues) + len(jq.LocalDiskValues) + len(jq.NoFValues); n > MaxReplicasPerKey {
			return wrong(ErrContradiction, "%d replicas for key %q, more than the %d a master places", n, k, MaxReplicasPerKey)
		}
		q.OK = jq.OK
		if jq.Error != nil {
			q.Error = *jq.Error
			if c, ok := ParseErrorCode(q.Error); ok {
				q.Code = c
			} else if !q.OK {
				q.Code = CodeInternalError
			}
		}
		if !q.OK && q.Error == "" {
			// The master always names the error; an answer that does
			// not is not trusted as a plain miss.
			q.Error, q.Code = "not ok, no reason given", CodeInternalError
		}
		q.Values, q.DiskValues, q.NoFValues = jq.Values, jq.DiskValues, jq.NoFValues
		for _, l := range jq.LocalDiskValues {
			q.LocalDiskValues = append(q.LocalDiskValues, LocalDiskDescriptor{
				ClientID: parseUUIDJSON(l.ClientID), ObjectSize: l.ObjectSize, TransportEndpoint: l.TransportEndpoint})
		}
		out[i] = q
	}
	return nil
}

// GetAllKeys streams GET /get_all_keys (default tenant, keys with a readable
// replica) and calls fn once per key without holding the whole listing in
// memory. It stops at the first error fn returns and returns it.
func (a *Admin) GetAllKeys(ctx context.Context, fn func(key string) error) error {
	// The listing has no length its request could bound: each line is
	// bounded instead (MaxKeyLineLength), and the context's deadline bounds
	// the whole.
	resp, err := a.get(ctx, "/get_all_keys", math.MaxInt64)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4<<10), MaxKeyLineLength+2) // room for "\r\n"
	tooLong := func(off int) error {
		return &ProtocolError{Method: "/get_all_keys", Offset: off, Err: ErrFrameTooLarge,
			Msg: fmt.Sprintf("a line longer than %d bytes is not a Mooncake key", MaxKeyLineLength)}
	}
	off := 0
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) > MaxKeyLineLength {
			return tooLong(off)
		}
		off += len(sc.Bytes()) + 1
		if len(line) == 0 {
			continue
		}
		k := string(line)
		if err := fn(k); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return tooLong(off)
		}
		return fmt.Errorf("mooncake admin: /get_all_keys: %w", err)
	}
	return nil
}

// AllKeys is GetAllKeys as an iterator. A failure is yielded once, with an
// empty key, as the last element.
func (a *Admin) AllKeys(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		stopped := errors.New("stopped")
		err := a.GetAllKeys(ctx, func(k string) error {
			if !yield(k, nil) {
				return stopped
			}
			return nil
		})
		if err != nil && err != stopped {
			yield("", err)
		}
	}
}
