package mooncake

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
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
	base   string
	hc     *http.Client
	maxURL int
	maxSeg int64 // cap of /get_segments_detail (adminops.go)
}

// AdminOption configures an Admin.
type AdminOption func(*Admin)

// WithHTTPClient sets the HTTP client (default http.DefaultClient). Per-call
// deadlines come from the context.
func WithHTTPClient(hc *http.Client) AdminOption { return func(a *Admin) { a.hc = hc } }

// WithMaxURLLength bounds each request URL (default 6 KiB).
func WithMaxURLLength(n int) AdminOption { return func(a *Admin) { a.maxURL = n } }

// NewAdmin returns a client for the admin server at baseURL, for example
// "http://10.0.0.5:9003" (a bare "host:port" gets "http://").
func NewAdmin(baseURL string, opts ...AdminOption) (*Admin, error) {
	if baseURL == "" {
		return nil, errors.New("mooncake admin: empty base URL")
	}
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	a := &Admin{base: strings.TrimRight(baseURL, "/"), hc: http.DefaultClient, maxURL: DefaultMaxURLLength}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// BaseURL returns the admin server's base URL.
func (a *Admin) BaseURL() string { return a.base }

// HTTPError is a non-2xx answer that did not carry a Mooncake error code.
type HTTPError struct {
	URL        string
	StatusCode int
	Body       string // at most 512 bytes
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("mooncake admin: %s: HTTP %d: %s", e.URL, e.StatusCode, e.Body)
}

type adminErr struct {
	Success      *bool   `json:"success"`
	ErrorCode    *int32  `json:"error_code"`
	ErrorMessage string  `json:"error_message"`
	Error        *string `json:"error"`
}

func (a *Admin) get(ctx context.Context, pathAndQuery string) (*http.Response, error) {
	return a.do(ctx, http.MethodGet, pathAndQuery)
}

func (a *Admin) do(ctx context.Context, method, pathAndQuery string) (*http.Response, error) {
	u := a.base + pathAndQuery
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("mooncake admin: %w", err)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mooncake admin: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		var ae adminErr
		if json.Unmarshal(body, &ae) == nil && ae.ErrorCode != nil {
			return nil, NewMasterError(strings.SplitN(pathAndQuery, "?", 2)[0], ErrorCode(*ae.ErrorCode))
		}
		msg := strings.TrimSpace(string(body))
		if ae.Error != nil {
			msg = *ae.Error
		}
		return nil, &HTTPError{URL: u, StatusCode: resp.StatusCode, Body: msg}
	}
	return resp, nil
}

func (a *Admin) getJSON(ctx context.Context, pathAndQuery string, v any) error {
	resp, err := a.get(ctx, pathAndQuery)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("mooncake admin: %s: decoding reply: %w", pathAndQuery, err)
	}
	return nil
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
	err := a.getJSON(ctx, "/health", &h)
	return h, err
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
	var l Leader
	err := a.getJSON(ctx, "/leader", &l)
	return l, err
}

// MetricsSummary returns the one-line text of GET /metrics/summary.
func (a *Admin) MetricsSummary(ctx context.Context) (string, error) {
	resp, err := a.get(ctx, "/metrics/summary")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("mooncake admin: /metrics/summary: %w", err)
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
	var out struct {
		Success bool               `json:"success"`
		Data    []BufferDescriptor `json:"data"`
	}
	if err := a.getJSON(ctx, "/query_key?key="+key, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
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
	LocalDiskValues []struct {
		ClientID          json.RawMessage `json:"client_id"`
		ObjectSize        uint64          `json:"object_size"`
		TransportEndpoint string          `json:"transport_endpoint"`
	} `json:"local_disk_values"`
	NoFValues []BufferDescriptor `json:"nof_values"`
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
	var b strings.Builder
	b.Grow(len(s))
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
	for _, r := range splitBatch(len(a.base)+len(path), a.maxURL, escaped) {
		var reply struct {
			Success bool                    `json:"success"`
			Data    map[string]jsonKeyQuery `json:"data"`
		}
		if err := a.getJSON(ctx, path+strings.Join(escaped[r[0]:r[1]], ","), &reply); err != nil {
			return nil, err
		}
		for i := r[0]; i < r[1]; i++ {
			q := KeyQuery{Key: keys[i]}
			jq, ok := reply.Data[keys[i]]
			if !ok {
				q.Error = "missing from the master's reply"
				q.Code = CodeInternalError
				out[i] = q
				continue
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
	}
	return out, nil
}

// GetAllKeys streams GET /get_all_keys (default tenant, keys with a readable
// replica) and calls fn once per key without holding the whole listing in
// memory. It stops at the first error fn returns and returns it.
func (a *Admin) GetAllKeys(ctx context.Context, fn func(key string) error) error {
	resp, err := a.get(ctx, "/get_all_keys")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		k := strings.TrimSuffix(sc.Text(), "\r")
		if k == "" {
			continue
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
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
