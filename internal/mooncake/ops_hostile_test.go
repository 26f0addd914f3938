package mooncake_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"lmc/internal/transport"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

func body(lit mc.Literal, pack func(*mc.Encoder)) []byte {
	return mc.AppendBody(nil, lit, mc.BodyFormat{Tagged: true}, pack)
}

func okTask(id mc.UUID, typ mc.TaskType, st mc.TaskStatus, msg string) func(*mc.Encoder) {
	return func(e *mc.Encoder) {
		e.Bool(true)
		e.Task(mc.Task{ID: id, Type: typ, Status: st, AssignedClient: mc.UUID{First: 1, Second: 1}, Message: msg})
	}
}

// Well-framed replies that contradict their request must be refused with a
// *ProtocolError quoting the peer, and the connection must stay usable.
func TestHostileOpReplies(t *testing.T) {
	s := startFake(t)
	if err := s.Populate(ctxT(t), []string{"k"}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	id := mc.UUID{First: 7, Second: 8}
	keys := []string{"a", "b", "c"}
	voids := func(codes ...int32) func(*mc.Encoder) {
		return func(e *mc.Encoder) {
			e.Len(len(codes))
			for _, c := range codes {
				if c == 0 {
					e.Bool(true)
				} else {
					e.Bool(false)
					e.I32(c)
				}
			}
		}
	}
	br, rx, ra := mc.MethodBatchRemove.Result, mc.MethodRemoveByRegex.Result, mc.MethodRemoveAll.Result
	ct, qt, qs, ip := mc.MethodCreateMoveTask.Result, mc.MethodQueryTask.Result, mc.MethodQuerySegmentStatus.Result, mc.MethodBatchQueryIP.Result
	for _, tc := range []struct {
		name, method string
		body         []byte
		call         func() error
		want         string
	}{
		{"two results for three keys", "BatchRemove", body(br, voids(0, 0)), nil, "2 results for 3 keys"},
		{"four results for three keys", "BatchRemove", body(br, voids(0, 0, 0, 0)), nil, "4 results for 3 keys"},
		{"a count beyond the body", "BatchRemove", append(body(br, nil), 0xff), nil, "exceeds"},
		{"has_value 2", "BatchRemove", body(br, func(e *mc.Encoder) { e.Len(3); e.U8(1); e.U8(2); e.U8(1) }), nil, "bool byte"},
		{"a positive error code", "BatchRemove", body(br, voids(0, 704, 0)), nil, "non-negative code"},
		{"trailing bytes", "BatchRemove", append(body(br, voids(0, 0, 0)), 0), nil, "after its result"},
		{"a body larger than three results", "BatchRemove", append(body(br, voids(0, 0, 0)), make([]byte, 4096)...), nil, "refused unread"},
		{"another type", "BatchRemove", body(qt, okTask(id, 0, 0, "")), nil, "refused unread"}, // larger than a BatchRemove reply can be
		{"a negative regex count", "RemoveByRegex", body(rx, func(e *mc.Encoder) { e.Bool(true); e.I64(-1) }), func() error { _, err := c.RemoveByRegex(ctxT(t), "x", false); return err }, "removed count -1 is negative"},
		{"a negative RemoveAll count", "RemoveAll", body(ra, func(e *mc.Encoder) { e.I64(-3) }), func() error { _, err := c.RemoveAll(ctxT(t), false, ""); return err }, "removed count -3 is negative"},
		{"the zero task id", "CreateMoveTask", body(ct, func(e *mc.Encoder) { e.Bool(true); e.UUID(mc.UUID{}) }), func() error { _, err := c.CreateMoveTask(ctxT(t), "k", "a", "b"); return err }, "zero task id"},
		{"a short task id", "CreateMoveTask", body(ct, func(e *mc.Encoder) { e.Bool(true); e.U64(1) }), func() error { _, err := c.CreateMoveTask(ctxT(t), "k", "a", "b"); return err }, "need 8 bytes"},
		{"an unknown task status", "QueryTask", body(qt, okTask(id, mc.TaskReplicaCopy, 7, "")), nil, "unknown task status 7"},
		{"an unknown task type", "QueryTask", body(qt, okTask(id, 5, mc.TaskPending, "")), nil, "unknown task type 5"},
		{"another task", "QueryTask", body(qt, okTask(mc.UUID{First: 9}, 0, 0, "")), nil, "asked for 7-8"},
		{"a huge message", "QueryTask", body(qt, okTask(id, 0, mc.TaskFailed, strings.Repeat("x", mc.MaxTaskMessage+100))), nil, "refused unread"},
		{"an unknown segment status", "QuerySegmentStatus", body(qs, func(e *mc.Encoder) { e.Bool(true); e.I32(9) }), func() error { _, err := c.QuerySegmentStatus(ctxT(t), "n"); return err }, "unknown segment status 9"},
		{"an unasked client", "BatchQueryIp", body(ip, func(e *mc.Encoder) { e.Bool(true); e.Len(1); e.UUID(mc.UUID{First: 3}); e.Strings(nil) }), nil, "was not asked"},
		{"a client twice", "BatchQueryIp", body(ip, func(e *mc.Encoder) {
			e.Bool(true)
			e.Len(2)
			e.UUID(id)
			e.Strings([]string{"h"})
			e.UUID(id)
			e.Strings([]string{"h"})
		}), nil, "2 clients for 1 asked"},
	} {
		call := tc.call
		if call == nil {
			switch tc.method {
			case "BatchRemove":
				call = func() error { _, err := c.BatchRemove(ctxT(t), keys, false); return err }
			case "QueryTask":
				call = func() error { _, err := c.QueryTask(ctxT(t), id); return err }
			case "BatchQueryIp":
				call = func() error { _, err := c.BatchQueryIP(ctxT(t), []mc.UUID{id}); return err }
			}
		}
		s.InjectFault(sandboxmaster.Fault{Method: tc.method, Times: 1, Body: tc.body})
		err := call()
		var pe *mc.ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a protocol error about %q", tc.name, err, tc.want)
		}
		if st, err := c.BatchExistKey(ctxT(t), []string{"k"}); err != nil || !st[0].Exists() {
			t.Fatalf("%s: connection unusable afterwards: %v", tc.name, err)
		}
	}
	// Garbage instead of a frame, and forced codes through the same path.
	s.InjectFault(sandboxmaster.Fault{Method: "QueryTask", Times: 1, RawReply: []byte("HTTP/1.1 400 Bad Request\r\n\r\n")})
	if _, err := c.QueryTask(ctxT(t), id); !errors.Is(err, mc.ErrBadMagic) {
		t.Fatalf("garbage: %v", err)
	}
	s.InjectFault(sandboxmaster.Fault{Method: "BatchRemove", Times: 1, Code: mc.CodeInvalidParams})
	res, err := c.BatchRemove(ctxT(t), keys, false)
	if err != nil || len(res) != 3 || res[2].Code != mc.CodeInvalidParams || !strings.Contains(res[2].Reason(), "tenant") {
		t.Fatalf("forced per-key code: %+v %v", res, err)
	}
	s.InjectFault(sandboxmaster.Fault{Method: "CreateCopyTask", Times: 1, Code: mc.CodeTaskNotFound})
	_, err = c.CreateCopyTask(ctxT(t), "k", []string{"x"})
	var oe *mc.OpError
	if !errors.As(err, &oe) || !strings.Contains(oe.Reason, "not known to answer") {
		t.Fatalf("an unexpected code: %v", err)
	}
}

// endless yields a prefix, then spaces forever.
type endless struct{ prefix string }

func (e *endless) Read(p []byte) (int, error) {
	if e.prefix != "" {
		n := copy(p, e.prefix)
		e.prefix = e.prefix[n:]
		return n, nil
	}
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

type readerRT struct {
	status int
	body   func() io.Reader
}

func (r readerRT) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: r.status, Body: io.NopCloser(r.body()), Header: http.Header{}, Request: req}, nil
}

func adminReplying(t *testing.T, status int, text string) *mc.Admin {
	t.Helper()
	a, err := mc.NewAdmin(&transport.Peer{Base: "http://hostile.invalid", Display: "http://hostile.invalid", HTTP: &http.Client{Transport: readerRT{status, func() io.Reader { return strings.NewReader(text) }}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const goodSegment = `{"segment_name":"n0","segment_id":"1-2","client_id":"3-4","base_address":"0x110000000000","size_bytes":1024,"size_human":"1 KiB","te_endpoint":"h:1","protocol":"tcp","status":"OK","allocator_used_bytes":10,"allocator_capacity_bytes":1024,"allocator_usage_percent":9.765625E-1}`

func TestHostileAdminReplies(t *testing.T) {
	ctx := context.Background()
	seg := func(mod func(string) string) string {
		return `{"total_segments":1,"segments":[` + mod(goodSegment) + `]}`
	}
	same := func(s string) string { return s }
	a := adminReplying(t, 200, seg(same))
	segs, err := a.SegmentList(ctx)
	if err != nil || len(segs) != 1 || segs[0].Base != 0x110000000000 || segs[0].ID != (mc.UUID{First: 1, Second: 2}) || segs[0].ClientID != (mc.UUID{First: 3, Second: 4}) || segs[0].UsagePercent != 0.9765625 {
		t.Fatalf("%+v %v", segs, err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"unknown status", seg(func(s string) string { return strings.Replace(s, `"OK"`, `"WEIRD"`, 1) }), `unknown status "WEIRD"`},
		{"used beyond capacity", seg(func(s string) string {
			return strings.Replace(s, `"allocator_used_bytes":10`, `"allocator_used_bytes":4096`, 1)
		}), "4096 bytes used"},
		{"bad id", seg(func(s string) string { return strings.Replace(s, `"1-2"`, `"1:2"`, 1) }), "segment_id"},
		{"bad base", seg(func(s string) string { return strings.Replace(s, `"0x110000000000"`, `"110000000000"`, 1) }), "base_address"},
		{"no name", seg(func(s string) string { return strings.Replace(s, `"segment_name":"n0",`, ``, 1) }), "without segment_name"},
		{"total mismatch", strings.Replace(seg(same), `"total_segments":1`, `"total_segments":2`, 1), "total_segments says 2"},
		{"no list", `{"total_segments":0}`, `no "segments" list`},
		{"not json", `<html>`, "invalid character"},
		{"a negative size", seg(func(s string) string { return strings.Replace(s, `1024,"size_human"`, `-1,"size_human"`, 1) }), "cannot unmarshal"},
	} {
		if _, err := adminReplying(t, 200, tc.body).SegmentList(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// An endless reply stops at the cap.
	big, _ := mc.NewAdmin(&transport.Peer{Base: "http://hostile.invalid", Display: "http://hostile.invalid",
		HTTP: &http.Client{Transport: readerRT{200, func() io.Reader { return &endless{prefix: `{"segments":[`} }}}}, mc.WithMaxSegmentsReply(1<<20))
	if _, err := big.SegmentList(ctx); !errors.Is(err, mc.ErrReplyTooLarge) {
		t.Fatalf("endless reply: %v", err)
	}
	if _, err := (&endlessAdmin{t}).get().QuerySegment(ctx, "n0"); !errors.Is(err, mc.ErrReplyTooLarge) {
		t.Fatalf("endless /query_segment: %v", err)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"another segment", "n1\nUsed(bytes): 1\nCapacity(bytes) : 2\n", `answered for "n1"`},
		{"two lines", "n0\nUsed(bytes): 1\n", "2 lines"},
		{"used beyond capacity", "n0\nUsed(bytes): 3\nCapacity(bytes) : 2\n", "3 bytes used"},
		{"not a number", "n0\nUsed(bytes): x\nCapacity(bytes) : 2\n", "invalid syntax"},
	} {
		if _, err := adminReplying(t, 200, tc.body).QuerySegment(ctx, "n0"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("query_segment %s: %v", tc.name, err)
		}
	}
	if u, err := adminReplying(t, 200, "n0\nUsed(bytes): 16384\nCapacity(bytes) : 1073741824\n").QuerySegment(ctx, "n0"); err != nil || u.UsedBytes != 16384 || u.CapacityBytes != 1<<30 {
		t.Fatalf("§5.2 /query_segment %+v %v", u, err)
	}

	const okStatus = `{"success":true,"segment":"n0","status":1,"status_name":"OK","error_code":0,"error_message":""}`
	if st, err := adminReplying(t, 200, okStatus).SegmentStatus(ctx, "n0"); err != nil || st != mc.SegmentOK {
		t.Fatalf("§5.2 status %v %v", st, err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"another segment", strings.Replace(okStatus, `"n0"`, `"n1"`, 1), `answered for "n1"`},
		{"name and number disagree", strings.Replace(okStatus, `"status":1`, `"status":2`, 1), `status 2 is not "OK"`},
		{"unknown status", strings.Replace(okStatus, `"status":1`, `"status":17`, 1), "unknown status"},
		{"not a success", strings.Replace(okStatus, `true`, `false`, 1), "success=false"},
	} {
		if _, err := adminReplying(t, 200, tc.body).SegmentStatus(ctx, "n0"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("segments/status %s: %v", tc.name, err)
		}
	}
	var oe *mc.OpError
	if _, err := adminReplying(t, 400, `{"success":false,"error_code":-600,"error_message":"Missing segment query parameter"}`).SegmentStatus(ctx, "n0"); !errors.As(err, &oe) || oe.Code != mc.CodeInvalidParams {
		t.Fatalf("§5.2 400: %v", err)
	}

	if n, err := adminReplying(t, 200, `{"success":true,"removed_count":2}`).RemoveAll(ctx, true, ""); err != nil || n != 2 {
		t.Fatalf("§7.1 %d %v", n, err)
	}
	for _, b := range []string{`{"success":true,"removed_count":-2}`, `{"success":false}`, `{"success":true}`, `nope`} {
		if _, err := adminReplying(t, 200, b).RemoveAll(ctx, false, ""); err == nil {
			t.Errorf("remove_all %q accepted", b)
		}
	}
}

type endlessAdmin struct{ t *testing.T }

func (e *endlessAdmin) get() *mc.Admin {
	a, err := mc.NewAdmin(&transport.Peer{Base: "http://hostile.invalid", Display: "http://hostile.invalid", HTTP: &http.Client{Transport: readerRT{200, func() io.Reader { return &endless{prefix: "n0\n"} }}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// The captured /get_segments_detail of mooncake-ops.md §5.2 (its second
// segment is elided there; this one shows struct_json's "0E0").
func TestAdminCapturedSegmentsDetail(t *testing.T) {
	const captured = `{"total_segments":2,"segments":[
 {"segment_name":"127.0.0.1:17778","segment_id":"7882248709339116908-7022348964861404977",
  "client_id":"7882248709339116908-7022348964593430133","base_address":"0x110000000000",
  "size_bytes":1073741824,"size_human":"1 GiB","te_endpoint":"127.0.0.1:17778","protocol":"tcp",
  "status":"OK","allocator_used_bytes":12288,"allocator_capacity_bytes":1073741824,
  "allocator_usage_percent":0.0011444091796875},
 {"segment_name":"127.0.0.1:17777","segment_id":"1-2","client_id":"3-4","base_address":"0x100000000000",
  "size_bytes":1073741824,"size_human":"1 GiB","te_endpoint":"127.0.0.1:17777","protocol":"tcp",
  "status":"DRAINING","allocator_used_bytes":0,"allocator_capacity_bytes":1073741824,"allocator_usage_percent":0E0}]}`
	segs, err := adminReplying(t, 200, captured).SegmentList(context.Background())
	if err != nil || len(segs) != 2 {
		t.Fatalf("%+v %v", segs, err)
	}
	s := segs[0]
	if s.Name != "127.0.0.1:17778" || s.ID != (mc.UUID{First: 7882248709339116908, Second: 7022348964861404977}) ||
		s.ClientID != (mc.UUID{First: 7882248709339116908, Second: 7022348964593430133}) || s.Base != 0x110000000000 ||
		s.Size != 1<<30 || s.UsedBytes != 12288 || s.FreeBytes() != 1<<30-12288 || s.UsagePercent != 0.0011444091796875 || s.Status != mc.SegmentOK {
		t.Fatalf("%+v", s)
	}
	if segs[1].Status != mc.SegmentDraining || segs[1].UsagePercent != 0 || segs[1].Status.Allocatable() {
		t.Fatalf("%+v", segs[1])
	}
	idx := mc.NewSegmentIndex(segs)
	if got, ok := idx.Locate(mc.BufferDescriptor{TransportEndpoint: "127.0.0.1:17778", BufferAddress: 0x110000000000 + 4096}); !ok || got.Name != "127.0.0.1:17778" {
		t.Fatalf("%+v %v", got, ok)
	}
}
