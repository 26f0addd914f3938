package mooncake

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Admin HTTP routes for store operations (mooncake-ops.md §5.2, §7): the
// only place that lists segments with their owner, address range, status,
// usage and capacity, and the lease-free way to plan removals. None of
// these routes grants a lease. Every reply is read through a size cap, and
// listings are streamed so memory does not grow with the store.

// Size caps of admin replies.
const (
	// MaxSegmentsReply bounds /get_segments_detail (about 400 bytes per
	// segment: 160000 segments).
	MaxSegmentsReply = 64 << 20
	maxSmallReply    = 64 << 10
	maxLine          = 64 << 10
)

// WithMaxSegmentsReply changes the cap of the /get_segments_detail reply
// (default MaxSegmentsReply).
func WithMaxSegmentsReply(n int64) AdminOption { return func(a *Admin) { a.maxSeg = n } }

func (a *Admin) segmentsCap() int64 {
	if a.maxSeg > 0 {
		return a.maxSeg
	}
	return MaxSegmentsReply
}

// ErrReplyTooLarge: an admin reply exceeded its size cap.
var ErrReplyTooLarge = errors.New("mooncake admin: reply exceeds its size cap")

// capReader fails with ErrReplyTooLarge instead of silently truncating.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, ErrReplyTooLarge
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// SegmentInfo is one segment of GET /get_segments_detail.
type SegmentInfo struct {
	Name       string // what copy/move targets and preferred_segment name
	ID         UUID
	ClientID   UUID // the storage client that mounted it (and executes its tasks)
	Base       uint64
	Size       uint64
	SizeHuman  string
	TEEndpoint string // replicas on this segment report it as transport_endpoint_
	Protocol   string
	Status     SegmentStatus
	// UsedBytes includes replicas moved away but not yet released
	// (--put_start_release_timeout_sec, §4.6): to tell whether a drained
	// segment is empty, look at key placement, not usage.
	UsedBytes     uint64
	CapacityBytes uint64
	UsagePercent  float64
}

// FreeBytes is capacity minus used.
func (s SegmentInfo) FreeBytes() uint64 {
	if s.UsedBytes >= s.CapacityBytes {
		return 0
	}
	return s.CapacityBytes - s.UsedBytes
}

// Holds reports whether a memory replica at addr reached through endpoint
// lives on this segment: same te_endpoint and addr in [Base, Base+Size).
func (s SegmentInfo) Holds(endpoint string, addr uint64) bool {
	return endpoint == s.TEEndpoint && addr >= s.Base && addr-s.Base < s.Size
}

type jsonSegment struct {
	Name         *string  `json:"segment_name"`
	ID           string   `json:"segment_id"`
	ClientID     string   `json:"client_id"`
	Base         string   `json:"base_address"`
	Size         uint64   `json:"size_bytes"`
	SizeHuman    string   `json:"size_human"`
	TEEndpoint   string   `json:"te_endpoint"`
	Protocol     string   `json:"protocol"`
	Status       string   `json:"status"`
	Used         uint64   `json:"allocator_used_bytes"`
	Capacity     uint64   `json:"allocator_capacity_bytes"`
	UsagePercent *float64 `json:"allocator_usage_percent"`
}

func (j *jsonSegment) info() (SegmentInfo, error) {
	if j.Name == nil {
		return SegmentInfo{}, errors.New("a segment without segment_name")
	}
	s := SegmentInfo{Name: *j.Name, Size: j.Size, SizeHuman: j.SizeHuman, TEEndpoint: j.TEEndpoint,
		Protocol: j.Protocol, UsedBytes: j.Used, CapacityBytes: j.Capacity}
	var err error
	if s.ID, err = ParseUUID(j.ID); err != nil {
		return s, fmt.Errorf("segment %q: segment_id: %w", s.Name, err)
	}
	if s.ClientID, err = ParseUUID(j.ClientID); err != nil {
		return s, fmt.Errorf("segment %q: client_id: %w", s.Name, err)
	}
	hexBase, ok := strings.CutPrefix(j.Base, "0x")
	if !ok {
		return s, fmt.Errorf("segment %q: base_address %q is not 0x-prefixed hex", s.Name, j.Base)
	}
	if s.Base, err = strconv.ParseUint(hexBase, 16, 64); err != nil {
		return s, fmt.Errorf("segment %q: base_address %q is not 0x-prefixed hex", s.Name, j.Base)
	}
	if s.Status, ok = ParseSegmentStatus(j.Status); !ok {
		return s, fmt.Errorf("segment %q: unknown status %q", s.Name, j.Status)
	}
	if s.UsedBytes > s.CapacityBytes {
		return s, fmt.Errorf("segment %q: %d bytes used of a capacity of %d", s.Name, s.UsedBytes, s.CapacityBytes)
	}
	if j.UsagePercent != nil {
		s.UsagePercent = *j.UsagePercent
	}
	return s, nil
}

// Segments streams GET /get_segments_detail, calling fn once per segment
// in the master's order; it stops at the first error fn returns.
func (a *Admin) Segments(ctx context.Context, fn func(SegmentInfo) error) error {
	const path = "/get_segments_detail"
	resp, err := a.get(ctx, path, a.segmentsCap()+1) // capReader names the cap
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	limit := a.segmentsCap()
	dec := json.NewDecoder(&capReader{r: resp.Body, left: limit})
	fail := func(err error) error {
		if errors.Is(err, ErrReplyTooLarge) {
			return fmt.Errorf("mooncake admin: %s: reply exceeds %d bytes: %w", path, limit, ErrReplyTooLarge)
		}
		return fmt.Errorf("mooncake admin: %s: %w", path, err)
	}
	delim := func(want json.Delim) error {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); !ok || d != want {
			return fmt.Errorf("expected %q, got %v", want, t)
		}
		return nil
	}
	if err := delim('{'); err != nil {
		return fail(err)
	}
	total, seen, listed := int64(-1), int64(0), false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		switch t {
		case "total_segments":
			if err := dec.Decode(&total); err != nil {
				return fail(fmt.Errorf("total_segments: %w", err))
			}
		case "segments":
			if listed {
				return fail(errors.New(`two "segments" lists`))
			}
			listed = true
			if err := delim('['); err != nil {
				return fail(err)
			}
			for dec.More() {
				var js jsonSegment
				if err := dec.Decode(&js); err != nil {
					return fail(err)
				}
				s, err := js.info()
				if err != nil {
					return fail(err)
				}
				seen++
				if err := fn(s); err != nil {
					return err
				}
			}
			if err := delim(']'); err != nil {
				return fail(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
		}
	}
	if err := delim('}'); err != nil {
		return fail(err)
	}
	if !listed {
		return fail(errors.New(`no "segments" list`))
	}
	if total >= 0 && total != seen {
		return fail(fmt.Errorf("total_segments says %d, the list has %d", total, seen))
	}
	return nil
}

// SegmentList returns every segment of /get_segments_detail.
func (a *Admin) SegmentList(ctx context.Context) ([]SegmentInfo, error) {
	var out []SegmentInfo
	err := a.Segments(ctx, func(s SegmentInfo) error { out = append(out, s); return nil })
	return out, err
}

// SegmentNames streams GET /get_all_segments (one name per line).
func (a *Admin) SegmentNames(ctx context.Context, fn func(name string) error) error {
	return a.lines(ctx, "/get_all_segments", fn)
}

func (a *Admin) lines(ctx context.Context, path string, fn func(string) error) error {
	// A streamed listing: each line is bounded (maxLine), the whole by the
	// context's deadline.
	resp, err := a.get(ctx, path, math.MaxInt64)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4<<10), maxLine)
	for sc.Scan() {
		l := strings.TrimSuffix(sc.Text(), "\r")
		if l == "" {
			continue
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("mooncake admin: %s: %w", path, err)
	}
	return nil
}

// rawQuerySafe reports whether s can be sent in a query parameter the
// master does not URL-decode.
func rawQuerySafe(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '&' || c == '#' || c == '%' || c == '+' {
			return fmt.Errorf("byte 0x%02x would need escaping, which the master does not undo for this route", c)
		}
	}
	return nil
}

// readSmall reads a small reply body under maxSmallReply and closes it.
func readSmall(path string, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(&capReader{r: resp.Body, left: maxSmallReply})
	if err != nil {
		return nil, fmt.Errorf("mooncake admin: %s: %w", path, err)
	}
	return b, nil
}

// readSmallJSON is readSmall decoding the reply into v; it returns the
// body, to quote.
func readSmallJSON(path string, resp *http.Response, v any) ([]byte, error) {
	b, err := readSmall(path, resp)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("mooncake admin: %s: decoding reply: %w", path, err)
	}
	return b, nil
}

// SegmentUsage is the answer of GET /query_segment.
type SegmentUsage struct {
	Name          string
	UsedBytes     uint64
	CapacityBytes uint64
}

// QuerySegment returns the usage and capacity of one segment from GET
// /query_segment. An unknown segment (the master answers HTTP 500 "Failed to
// query segment") is an *OpError with SEGMENT_NOT_FOUND. The master does not
// URL-decode the name, so names needing escapes are refused.
func (a *Admin) QuerySegment(ctx context.Context, name string) (SegmentUsage, error) {
	const path = "/query_segment"
	if name == "" {
		return SegmentUsage{}, errors.New("mooncake admin: /query_segment: empty segment name")
	}
	if err := rawQuerySafe(name); err != nil {
		return SegmentUsage{}, fmt.Errorf("mooncake admin: /query_segment cannot carry segment %q: %w", name, err)
	}
	resp, err := a.get(ctx, path+"?segment="+name, maxSmallReply)
	var he *HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusInternalServerError && strings.Contains(he.Body, "Failed to query segment") {
		return SegmentUsage{}, newOpError(path, name, CodeSegmentNotFound)
	}
	if err != nil {
		return SegmentUsage{}, err
	}
	b, err := readSmall(path, resp)
	if err != nil {
		return SegmentUsage{}, err
	}
	u, perr := parseSegmentUsage(string(b))
	if perr != nil {
		return SegmentUsage{}, fmt.Errorf("mooncake admin: %s: %w in %q", path, perr, clip(b, 200))
	}
	if u.Name != name {
		return SegmentUsage{}, fmt.Errorf("mooncake admin: %s: asked for segment %q, the master answered for %q", path, name, u.Name)
	}
	return u, nil
}

// parseSegmentUsage parses "NAME\nUsed(bytes): U\nCapacity(bytes) : C\n".
func parseSegmentUsage(s string) (SegmentUsage, error) {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	if len(lines) != 3 {
		return SegmentUsage{}, fmt.Errorf("%d lines, want 3", len(lines))
	}
	u := SegmentUsage{Name: strings.TrimSuffix(lines[0], "\r")}
	field := func(line, label string) (uint64, error) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), label)
		if !ok {
			return 0, fmt.Errorf("line %q does not start with %q", line, label)
		}
		rest, ok = strings.CutPrefix(strings.TrimSpace(rest), ":")
		if !ok {
			return 0, fmt.Errorf("line %q has no ':'", line)
		}
		return strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
	}
	var err error
	if u.UsedBytes, err = field(lines[1], "Used(bytes)"); err != nil {
		return u, err
	}
	if u.CapacityBytes, err = field(lines[2], "Capacity(bytes)"); err != nil {
		return u, err
	}
	if u.UsedBytes > u.CapacityBytes {
		return u, fmt.Errorf("%d bytes used of a capacity of %d", u.UsedBytes, u.CapacityBytes)
	}
	return u, nil
}

// SegmentStatus returns a segment's status from GET /api/v1/segments/status
// (the same answer as the RPC QuerySegmentStatus). An unknown segment is an
// *OpError with SEGMENT_NOT_FOUND.
func (a *Admin) SegmentStatus(ctx context.Context, name string) (SegmentStatus, error) {
	const path = "/api/v1/segments/status"
	if name == "" {
		return 0, errors.New("mooncake admin: " + path + ": empty segment name")
	}
	resp, err := a.get(ctx, path+"?segment="+queryEscape(name), maxSmallReply)
	var me *MasterError
	if errors.As(err, &me) {
		return 0, newOpError(path, name, me.Code)
	}
	if err != nil {
		return 0, err
	}
	var r struct {
		Success    bool    `json:"success"`
		Segment    string  `json:"segment"`
		Status     *int32  `json:"status"`
		StatusName string  `json:"status_name"`
		ErrorCode  int32   `json:"error_code"`
		ErrorMsg   *string `json:"error_message"`
	}
	b, err := readSmallJSON(path, resp, &r)
	if err != nil {
		return 0, err
	}
	switch {
	case !r.Success || r.ErrorCode != 0:
		return 0, fmt.Errorf("mooncake admin: %s: the master answered success=%v error_code=%d: %q", path, r.Success, r.ErrorCode, clip(b, 200))
	case r.Segment != name:
		return 0, fmt.Errorf("mooncake admin: %s: asked for segment %q, the master answered for %q", path, name, r.Segment)
	case r.Status == nil || !SegmentStatus(*r.Status).Known():
		return 0, fmt.Errorf("mooncake admin: %s: unknown status in %q", path, clip(b, 200))
	case SegmentStatus(*r.Status).String() != r.StatusName:
		return 0, fmt.Errorf("mooncake admin: %s: status %d is not %q", path, *r.Status, r.StatusName)
	}
	return SegmentStatus(*r.Status), nil
}

// RemoveAll is POST /api/v1/remove_all, the HTTP twin of the RemoveAll RPC
// (§7.1): it removes every removable object and returns the count. tenant
// "" means every tenant; without multi-tenancy the master ignores it. The
// master does not URL-decode tenant_id, so tenants needing escapes are
// refused.
func (a *Admin) RemoveAll(ctx context.Context, force bool, tenant string) (int64, error) {
	const path = "/api/v1/remove_all"
	if err := rawQuerySafe(tenant); err != nil {
		return 0, fmt.Errorf("mooncake admin: %s cannot carry tenant %q: %w", path, tenant, err)
	}
	q := "?force=false"
	if force {
		q = "?force=true"
	}
	if tenant != "" {
		q += "&tenant_id=" + tenant
	}
	resp, err := a.do(ctx, http.MethodPost, path+q, maxSmallReply)
	if err != nil {
		return 0, err
	}
	var r struct {
		Success bool   `json:"success"`
		Removed *int64 `json:"removed_count"`
	}
	b, err := readSmallJSON(path, resp, &r)
	if err != nil {
		return 0, err
	}
	if !r.Success || r.Removed == nil || *r.Removed < 0 {
		return 0, fmt.Errorf("mooncake admin: %s: unexpected reply %q", path, clip(b, 200))
	}
	return *r.Removed, nil
}

// DefaultScanBatch is ScanKeys' default number of keys per
// /batch_query_keys request.
const DefaultScanBatch = 512

// ScanKeys walks the whole store without leases: it streams GET
// /get_all_keys and looks the keys up through /batch_query_keys, batch at a
// time (DefaultScanBatch when batch <= 0), calling fn once per key with its
// replicas. Memory stays bounded by the batch, whatever the store size. The
// listing is not a snapshot: a key removed or evicted between the two
// requests comes back with OBJECT_NOT_FOUND, and a key containing ',' (which
// /batch_query_keys cannot carry) with INVALID_PARAMS and no replicas.
// Default tenant only, like the routes it uses.
func (a *Admin) ScanKeys(ctx context.Context, batch int, fn func(KeyQuery) error) error {
	if batch <= 0 {
		batch = DefaultScanBatch
	}
	pending := make([]string, 0, batch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		qs, err := a.BatchQueryKeys(ctx, pending)
		if err != nil {
			return err
		}
		pending = pending[:0]
		for _, q := range qs {
			if err := fn(q); err != nil {
				return err
			}
		}
		return nil
	}
	err := a.GetAllKeys(ctx, func(k string) error {
		if strings.ContainsRune(k, ',') {
			return fn(KeyQuery{Key: k, Error: "cannot be looked up through /batch_query_keys (the key contains ',')", Code: CodeInvalidParams})
		}
		pending = append(pending, k)
		if len(pending) == batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// SegmentIndex finds the segment a memory replica lives on (§5.4): the
// segment whose te_endpoint is the replica's transport endpoint and whose
// address range contains its buffer address (one client may mount several
// segments behind one endpoint).
type SegmentIndex struct {
	byEndpoint map[string][]SegmentInfo // sorted by Base
	byName     map[string]SegmentInfo
}

// NewSegmentIndex indexes segments (from SegmentList).
func NewSegmentIndex(segs []SegmentInfo) *SegmentIndex {
	x := &SegmentIndex{byEndpoint: map[string][]SegmentInfo{}, byName: map[string]SegmentInfo{}}
	for _, s := range segs {
		x.byEndpoint[s.TEEndpoint] = append(x.byEndpoint[s.TEEndpoint], s)
		x.byName[s.Name] = s
	}
	for _, l := range x.byEndpoint {
		sort.Slice(l, func(i, j int) bool { return l[i].Base < l[j].Base })
	}
	return x
}

// Segment returns the segment of that name.
func (x *SegmentIndex) Segment(name string) (SegmentInfo, bool) {
	s, ok := x.byName[name]
	return s, ok
}

// Locate returns the segment holding a memory (or NoF) replica. CXL
// replicas, which carry the segment name as endpoint and an offset as
// address, are located by name (from reading the master, not run).
func (x *SegmentIndex) Locate(b BufferDescriptor) (SegmentInfo, bool) {
	l := x.byEndpoint[b.TransportEndpoint]
	i := sort.Search(len(l), func(i int) bool { return l[i].Base > b.BufferAddress }) - 1
	if i >= 0 && l[i].Holds(b.TransportEndpoint, b.BufferAddress) {
		return l[i], true
	}
	if b.Protocol == "cxl" {
		if s, ok := x.byName[b.TransportEndpoint]; ok && b.BufferAddress < s.Size {
			return s, true
		}
	}
	return SegmentInfo{}, false
}
