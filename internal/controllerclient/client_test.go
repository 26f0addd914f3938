package controllerclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lmc/internal/controllerclient/sandboxcontroller"
	"lmc/internal/transport"
)

func u32(a, b int) []uint32 {
	out := make([]uint32, 0, b-a+1)
	for i := a; i <= b; i++ {
		out = append(out, uint32(i))
	}
	return out
}

var (
	tokA = u32(0, 599)
	tokB = u32(1000, 1511)
	tokC = u32(5000, 5767)
)

// topology mirrors the recorded run: inst1 (A, B), inst2 (empty), inst3
// with two workers (C).
func topology(t testing.TB, opts ...sandboxcontroller.Option) (*sandboxcontroller.Server, *httptest.Server) {
	t.Helper()
	s := sandboxcontroller.New(append([]sandboxcontroller.Option{sandboxcontroller.WithWorkerListCacheTTL(0)}, opts...)...)
	s.AddInstance("inst1", 1)
	s.AddInstance("inst2", 1)
	s.AddInstance("inst3", 2)
	for _, a := range []struct {
		inst string
		w    int
		toks []uint32
	}{{"inst1", 0, tokA}, {"inst1", 0, tokB}, {"inst3", 0, tokC}, {"inst3", 1, tokC}} {
		if _, err := s.Admit(a.inst, a.w, DefaultLocation, a.toks); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, ts
}

func newClient(t testing.TB, url string, opts ...Option) *Client {
	t.Helper()
	return newClientWith(t, url, transport.Options{UserAgent: testUserAgent}, opts...)
}

const testUserAgent = "lmc-test"

// newClientWith builds the client on a transport with o, as lmc does.
func newClientWith(t testing.TB, url string, o transport.Options, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithRetries(2, time.Millisecond, 5*time.Millisecond), WithTimeout(5 * time.Second)}
	c, err := New(peerFor(t, url, o), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func peerFor(t testing.TB, url string, o transport.Options) *transport.Peer {
	t.Helper()
	p, err := transport.NewPeerWith(o, url)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustAPIError(t *testing.T, err error) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want *APIError, got %T %v", err, err)
	}
	return ae
}

func TestHappyPaths(t *testing.T) {
	t.Parallel()
	s, ts := topology(t)
	c := newClient(t, ts.URL)
	ctx := context.Background()

	lk, err := c.Lookup(ctx, tokA)
	if err != nil {
		t.Fatalf("Lookup(A) error = %v, want nil", err)
	}
	if lk.MatchedTokens != 512 || len(lk.Instances) != 1 || lk.Instances[0] != (InstanceHit{"inst1", DefaultLocation, 512}) ||
		!strings.HasPrefix(lk.EventID, "Lookup") {
		t.Fatalf("lookup: %+v; want 512 tokens matched on inst1 only, a Lookup event id", lk)
	}
	if lk, err = c.Lookup(ctx, nil); err != nil || lk.MatchedTokens != 0 || len(lk.Instances) != 0 {
		t.Fatalf("empty lookup: %+v %v; want nothing matched, nil", lk, err)
	}

	h, err := c.Health(ctx, "inst3")
	if err != nil || !h.Found() || !h.Healthy() || len(h.Workers) != 2 || !strings.HasPrefix(h.EventID, "health") {
		t.Fatalf("health: %+v %v; want inst3 found and healthy with 2 workers, a health event id, nil", h, err)
	}
	if err := s.SetWorkerHealth("inst3", 1, -1); err != nil {
		t.Fatal(err)
	}
	if h, err = c.Health(ctx, "inst3"); err != nil {
		t.Fatalf("health after a worker turned unhealthy: error %v, want nil", err)
	}
	if want := (WorkerHealth{1, -1, HealthCodeMeaning(-1)}); h.Healthy() || h.Workers[1] != want {
		t.Fatalf("unhealthy: %+v; want not healthy, worker 1 %+v", h, want)
	}
	if h, err = c.Health(ctx, "nope"); err != nil || h.Found() || h.Healthy() {
		t.Fatalf("unknown instance health: %+v %v; want not found, not healthy, nil", h, err)
	}

	op, err := c.Pin(ctx, "inst1", "", u32(0, 299))
	if err != nil || op.NumTokens != 256 || !op.HasNumTokens || !strings.HasPrefix(op.EventID, "Pin") {
		t.Fatalf("pin: %+v %v; want 256 tokens, a Pin event id, nil", op, err)
	}
	if op, err = c.Compress(ctx, CompressRequest{InstanceID: "inst1", Tokens: tokA}); err != nil || op.NumTokens != 512 {
		t.Fatalf("compress: %+v %v; want 512 tokens, nil", op, err)
	}
	if op, err = c.Decompress(ctx, CompressRequest{InstanceID: "inst3", Tokens: tokC}); err != nil || op.NumTokens != 768 {
		t.Fatalf("decompress: %+v %v; want 768 tokens, nil", op, err)
	}
	if op, err = c.Move(ctx, MoveRequest{SrcInstance: "inst1", DstInstance: "inst2", Tokens: tokB}); err != nil || op.NumTokens != 512 {
		t.Fatalf("move: %+v %v; want 512 tokens, nil", op, err)
	}
	if lk, err = c.Lookup(ctx, tokB); err != nil {
		t.Fatalf("lookup after move: error %v, want nil", err)
	}
	if lk.Instances[0].InstanceID != "inst2" {
		t.Fatalf("after move: %+v; want B on inst2", lk)
	}
	if op, err = c.Move(ctx, MoveRequest{SrcInstance: "inst3", DstInstance: "inst1", Tokens: tokC, Copy: true}); err != nil || op.NumTokens != 768 {
		t.Fatalf("tp2->tp1 copy: %+v %v; want 768 tokens, nil", op, err)
	}
	// inst1 holds A0 (pinned), A1, C0..C2 → 256 + 768 cleared.
	if op, err = c.Clear(ctx, "inst1", DefaultLocation); err != nil || op.NumTokens != 1024 {
		t.Fatalf("clear: %+v %v; want 1024 tokens, nil", op, err)
	}
	if op, err = c.Clear(ctx, "inst1", "LocalDiskBackend"); err != nil || op.NumTokens != 0 {
		t.Fatalf("clear other location: %+v %v; want 0 tokens, nil", op, err)
	}

	wi, err := c.QueryWorkerInfo(ctx, "inst3", []int{1})
	if err != nil || len(wi.Workers) != 1 || wi.Workers[0].WorkerID != 1 || wi.Workers[0].PeerInitURL == nil {
		t.Fatalf("query_worker_info: %+v %v; want worker 1 only, with a peer_init_url, nil", wi, err)
	}
	if wi, err = c.QueryWorkerInfo(ctx, "all", nil); err != nil || len(wi.Workers) != 4 {
		t.Fatalf("query_worker_info all: %+v %v; want 4 workers, nil", wi, err)
	}
	qi, err := c.QueryInstance(ctx, "127.0.0.1")
	if err != nil || qi.InstanceID != "inst1" {
		t.Fatalf("query_instance: %+v %v; want inst1, nil", qi, err)
	}

	ws, err := c.Workers(ctx, WorkersFilter{})
	if err != nil || ws.TotalCount != 4 || ws.Workers[0].KeyCount == nil || *ws.Workers[0].KeyCount != 1 {
		t.Fatalf("workers: %+v %v; want 4 workers, the first with key_count 1, nil", ws, err)
	}
	one := 1
	if ws, err = c.Workers(ctx, WorkersFilter{InstanceID: "inst3", WorkerID: &one}); err != nil || ws.TotalCount != 1 || ws.Workers[0].WorkerID != 1 {
		t.Fatalf("single worker: %+v %v; want worker 1 only, nil", ws, err)
	}
	if ws, err = c.Workers(ctx, WorkersFilter{WorkerID: &one}); err != nil || ws.TotalCount != 1 || ws.Workers[0].InstanceID != "inst3" {
		t.Fatalf("worker filter without instance: %+v %v; want inst3's worker 1 only, nil", ws, err)
	}
	if ws, err = c.AllWorkers(ctx); err != nil || ws.TotalCount != 4 {
		t.Fatalf("all workers: %+v %v; want 4 workers, nil", ws, err)
	}
	ks, err := c.KeyStats(ctx)
	if err != nil || ks.TotalWorkerCount != 4 || ks.TotalInstanceCount != 3 || len(ks.Instances) != 3 {
		t.Fatalf("key stats: %+v %v; want 4 workers, 3 instances, nil", ks, err)
	}
	if ks.TotalKeyCount != 1+2+6 { // inst1: A0 pinned; inst2: B0,B1; inst3: 3+3
		t.Fatalf("key count: %+v; want total_key_count %d", ks, 1+2+6)
	}

	_, err = c.CheckFinish(ctx, op.EventID)
	if ae := mustAPIError(t, err); ae.Kind != KindNotImplemented || ae.Status != 500 || ae.Detail != "" {
		t.Fatalf("check_finish: %+v; want a %s error, status 500, no detail", ae, KindNotImplemented)
	}
}

// TestRecordedErrors turns the recorded error answers (spec §14) into typed
// errors: the fake reproduces them from state, the client classifies.
func TestRecordedErrors(t *testing.T) {
	t.Parallel()
	s, ts := topology(t)
	s.AddWorker("inst4", 0, sandboxcontroller.WorkerSpec{}) // no peer_init_url
	c := newClient(t, ts.URL)
	ctx := context.Background()
	seven := 7
	cases := []struct {
		name   string
		call   func() error
		status int
		kind   ErrorKind
		detail string
		hint   string
	}{
		{"67 clear unknown", func() error { _, err := c.Clear(ctx, "nope", ""); return err }, 500, KindCountMismatch,
			"The number of tokens cleared should be the same across all workers.", "unknown"},
		{"40 pin unknown", func() error { _, err := c.Pin(ctx, "nope", "", []uint32{1, 2}); return err }, 500, KindCountMismatch,
			"The number of tokens pinned should be the same across all workers.", "no registered workers"},
		{"45 compress unknown", func() error { _, err := c.Compress(ctx, CompressRequest{InstanceID: "nope"}); return err }, 500,
			KindCountMismatch, "The number of tokens compressed should be the same across all workers.", "unknown"},
		{"49 decompress unknown", func() error { _, err := c.Decompress(ctx, CompressRequest{InstanceID: "nope"}); return err }, 500,
			KindNoReason, "", "decompress reports every failure"},
		{"59 move unknown dst", func() error {
			_, err := c.Move(ctx, MoveRequest{SrcInstance: "inst1", DstInstance: "nope", Tokens: tokA})
			return err
		}, 500, KindCountMismatch, "The number of tokens moved should be the same across all workers.", "source or destination"},
		{"82 move without p2p", func() error {
			_, err := c.Move(ctx, MoveRequest{SrcInstance: "inst1", DstInstance: "inst4", Tokens: tokA})
			return err
		}, 500, KindP2PDisabled, "Src worker 0 not registered for instance inst1 or dst worker 0 not registered for instance inst4 or P2P is not enabled.", "peer_init_url"},
		{"69 check_finish", func() error { _, err := c.CheckFinish(ctx, "Move123"); return err }, 500, KindNotImplemented, "", "does not implement"},
		{"16 query_instance unknown ip", func() error { _, err := c.QueryInstance(ctx, "10.1.2.3"); return err }, 500, KindNotFound,
			"1 validation error for QueryInstResponse\nres\n  none is not an allowed value (type=type_error.none.not_allowed)", "IP"},
		{"05 workers unknown instance", func() error { _, err := c.Workers(ctx, WorkersFilter{InstanceID: "nope"}); return err }, 404,
			KindNotFound, "No workers found for instance nope", ""},
		{"06 workers unknown worker", func() error {
			_, err := c.Workers(ctx, WorkersFilter{InstanceID: "inst1", WorkerID: &seven})
			return err
		}, 404, KindNotFound, "Worker (inst1, 7) not found", ""},
	}
	// The subtests are not parallel: they share s, and the last two fail
	// and kill workers the cases before them rely on.
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ae := mustAPIError(t, tc.call())
			if ae.Status != tc.status || ae.Kind != tc.kind || ae.Detail != tc.detail || !strings.Contains(ae.Hint, tc.hint) {
				t.Fatalf("got %+v; want status %d, kind %s, detail %q, a hint containing %q", ae, tc.status, tc.kind, tc.detail, tc.hint)
			}
			if IsUnavailable(ae) {
				t.Fatal("IsUnavailable = true for an HTTP answer, want false")
			}
		})
	}

	t.Run("worker failure", func(t *testing.T) {
		fail := func(op string, on bool) {
			t.Helper()
			if err := s.FailWorker("inst1", 0, op, on); err != nil {
				t.Fatal(err)
			}
		}
		fail(sandboxcontroller.OpMove, true)
		defer fail(sandboxcontroller.OpMove, false)
		_, err := c.Move(ctx, MoveRequest{SrcInstance: "inst1", DstInstance: "inst2", Tokens: tokA})
		ae := mustAPIError(t, err)
		if want := "Operation 'move' is not supported."; ae.Kind != KindWorkerFailure || ae.Detail != want {
			t.Fatalf("got %+v; want a %s error with detail %q", ae, KindWorkerFailure, want)
		}
		fail(sandboxcontroller.OpHealth, true)
		h, err := c.Health(ctx, "inst1")
		if err != nil || h.Workers[0].Code != -1001 {
			t.Fatalf("health of a failing worker: %+v %v; want worker 0 with code -1001, nil", h, err)
		}
		fail(sandboxcontroller.OpHealth, false)
	})

	t.Run("84/85 dead worker hangs then EFSM", func(t *testing.T) {
		if err := s.KillWorker("inst4", 0); err != nil {
			t.Fatal(err)
		}
		hc := newClient(t, ts.URL, WithEndpointTimeout(EndpointHealth, 150*time.Millisecond))
		s.ResetRequests()
		start := time.Now()
		_, err := hc.Health(ctx, "inst4")
		var te *TransportError
		if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || !te.Timeout() || !IsUnavailable(err) {
			t.Fatalf("want a timeout, got %T %v", err, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("the timeout took %v, want at most 2s (the endpoint timeout is 150ms)", d)
		}
		if n := s.Requests("/health"); n != 1 { // a timed-out health is not retried
			t.Fatalf("%d /health requests, want 1 (a timed-out health is not retried)", n)
		}
		_, err = hc.Health(ctx, "inst4")
		if ae, want := mustAPIError(t, err), "Operation cannot be accomplished in current state"; ae.Kind != KindBusy || ae.Detail != want {
			t.Fatalf("got %+v; want a %s error with detail %q", ae, KindBusy, want)
		}
		// Lookups keep working meanwhile (86).
		if lk, err := hc.Lookup(ctx, tokA); err != nil || lk.MatchedTokens != 512 {
			t.Fatalf("lookup: %+v %v; want 512 tokens matched, nil", lk, err)
		}
	})
}

// TestValidationErrors feeds the recorded 422 bodies (pydantic v1) and a
// pydantic v2 body through the client.
func TestValidationErrors(t *testing.T) {
	t.Parallel()
	s, ts := topology(t)
	c := newClient(t, ts.URL)
	ctx := context.Background()
	cases := []struct {
		body string
		want []string
	}{
		{`{"detail":[{"loc":["body","tokens",1],"msg":"value is not a valid integer","type":"type_error.integer"}]}`,
			[]string{"tokens[1]: value is not a valid integer"}},
		{`{"detail":[{"loc":["body",14],"msg":"Expecting ',' delimiter: line 1 column 15 (char 14)","type":"value_error.jsondecode","ctx":{"msg":"Expecting ',' delimiter","doc":"{\"tokens\":[1,2","pos":14,"lineno":1,"colno":15}}]}`,
			[]string{"body (char 14): Expecting ',' delimiter: line 1 column 15 (char 14)"}},
		{`{"detail":[{"loc":["body","old_position"],"msg":"field required","type":"value_error.missing"},{"loc":["body","new_position"],"msg":"field required","type":"value_error.missing"}]}`,
			[]string{"old_position: field required", "new_position: field required"}},
		{`{"detail":[{"type":"int_parsing","loc":["body","tokens",0],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x","url":"https://errors.pydantic.dev/2.5/v/int_parsing"}]}`,
			[]string{"tokens[0]: Input should be a valid integer, unable to parse string as an integer"}},
		{`{"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}`,
			[]string{"body: value is not a valid dict"}},
	}
	for _, tc := range cases {
		s.InjectFault("/lookup", sandboxcontroller.Fault{Times: 1, Status: 422, Body: tc.body})
		_, err := c.Lookup(ctx, tokA)
		ae := mustAPIError(t, err)
		if ae.Kind != KindValidation || len(ae.FieldErrors) != len(tc.want) {
			t.Fatalf("got %+v; want a %s error with %d field errors", ae, KindValidation, len(tc.want))
		}
		for i, w := range tc.want {
			if ae.FieldErrors[i].String() != w {
				t.Errorf("field error %d: %q, want %q", i, ae.FieldErrors[i].String(), w)
			}
		}
		if !strings.Contains(ae.Error(), tc.want[0]) {
			t.Errorf("Error() = %q, want it to contain %q", ae.Error(), tc.want[0])
		}
	}
}

func TestRetriesReadsOnly(t *testing.T) {
	t.Parallel()
	s, ts := topology(t)
	c := newClient(t, ts.URL)
	ctx := context.Background()
	unavailable := sandboxcontroller.Fault{Status: 503, Body: `{"detail":"Controller manager not available"}`}

	reads := map[string]func() error{
		"/lookup":               func() error { _, err := c.Lookup(ctx, tokA); return err },
		"/health":               func() error { _, err := c.Health(ctx, "inst1"); return err },
		"/check_finish":         func() error { _, err := c.CheckFinish(ctx, "x"); return err },
		"/query_worker_info":    func() error { _, err := c.QueryWorkerInfo(ctx, "all", nil); return err },
		"/query_instance":       func() error { _, err := c.QueryInstance(ctx, "127.0.0.1"); return err },
		"/controller/workers":   func() error { _, err := c.Workers(ctx, WorkersFilter{}); return err },
		"/controller/key-stats": func() error { _, err := c.KeyStats(ctx); return err },
	}
	for path, call := range reads {
		s.ResetRequests()
		s.InjectFault(path, unavailable)
		err := call()
		ae := mustAPIError(t, err)
		if ae.Kind != KindUnavailable || !IsUnavailable(err) {
			t.Errorf("%s: %+v (IsUnavailable %v); want a %s error, IsUnavailable true", path, ae, IsUnavailable(err), KindUnavailable)
		}
		if n := s.Requests(path); n != 3 {
			t.Errorf("%s: %d attempts, want 3", path, n)
		}
		// A transient failure is hidden by the retry.
		s.InjectFault(path, sandboxcontroller.Fault{Times: 1, Status: 502, Body: "bad gateway", ContentType: "text/plain"})
		if err := call(); err != nil && path != "/check_finish" {
			t.Errorf("%s after one 502: error %v, want nil (retried)", path, err)
		}
		s.ClearFaults()
	}

	mutations := map[string]func() error{
		"/clear": func() error { _, err := c.Clear(ctx, "inst1", ""); return err },
		"/pin":   func() error { _, err := c.Pin(ctx, "inst1", "", tokA); return err },
		"/compress": func() error {
			_, err := c.Compress(ctx, CompressRequest{InstanceID: "inst1", Tokens: tokA})
			return err
		},
		"/decompress": func() error {
			_, err := c.Decompress(ctx, CompressRequest{InstanceID: "inst1", Tokens: tokA})
			return err
		},
		"/move": func() error {
			_, err := c.Move(ctx, MoveRequest{SrcInstance: "inst1", DstInstance: "inst2", Tokens: tokA, Copy: true})
			return err
		},
	}
	for path, call := range mutations {
		for _, f := range []sandboxcontroller.Fault{unavailable, {Drop: true}} {
			s.ResetRequests()
			s.InjectFault(path, f)
			err := call()
			if err == nil {
				t.Fatalf("%s (%+v): error nil, want the fault's error", path, f)
			}
			if n := s.Requests(path); n != 1 {
				t.Errorf("%s (%+v): %d attempts, want exactly 1", path, f, n)
			}
			s.ClearFaults()
		}
	}

	// Dropped connection on a read: retried, then succeeds.
	s.ResetRequests()
	s.InjectFault("/controller/key-stats", sandboxcontroller.Fault{Times: 1, Drop: true})
	if _, err := c.KeyStats(ctx); err != nil {
		t.Fatalf("key-stats after a dropped connection: error %v, want nil", err)
	}
	if n := s.Requests("/controller/key-stats"); n < 2 {
		t.Fatalf("key-stats attempts: %d, want at least 2", n)
	}

	// Registry lock timeout on lookup is retried too.
	s.ResetRequests()
	s.InjectFault("/lookup", sandboxcontroller.Fault{Times: 2, Status: 500, Body: `{"detail":"Failed to acquire read lock within timeout"}`})
	if lk, err := c.Lookup(ctx, tokA); err != nil || lk.MatchedTokens != 512 || s.Requests("/lookup") != 3 {
		t.Fatalf("lookup after lock timeouts: %+v %v (%d requests); want 512 tokens matched, nil, 3 requests", lk, err, s.Requests("/lookup"))
	}
	s.InjectFault("/lookup", sandboxcontroller.Fault{Status: 500, Body: `{"detail":"Failed to acquire read lock within timeout"}`})
	_, err := c.Lookup(ctx, tokA)
	if ae := mustAPIError(t, err); ae.Kind != KindLockTimeout {
		t.Fatalf("got %+v; want a %s error", ae, KindLockTimeout)
	}
	s.ClearFaults()

	// Connection refused: a transport error after all attempts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	dc := newClient(t, addr)
	_, err = dc.KeyStats(ctx)
	var te *TransportError
	var ne net.Error
	if !errors.As(err, &te) || te.Attempts != 3 || !errors.As(err, &ne) || !IsUnavailable(err) {
		t.Fatalf("refused: %T %v; want an unavailable *TransportError (a net.Error) after 3 attempts", err, err)
	}
	if _, err = dc.Clear(ctx, "inst1", ""); !errors.As(err, &te) || te.Attempts != 1 {
		t.Fatalf("refused clear: %v; want a *TransportError after 1 attempt", err)
	}
}

func TestTimeoutAndCancellation(t *testing.T) {
	t.Parallel()
	s, ts := topology(t)
	ctx := context.Background()

	s.InjectFault("/lookup", sandboxcontroller.Fault{Hang: true})
	c := newClient(t, ts.URL, WithTimeout(100*time.Millisecond), WithRetries(0, 0, 0))
	start := time.Now()
	res, err := c.Lookup(ctx, tokA)
	var ne net.Error
	if res != nil || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || !IsUnavailable(err) {
		t.Fatalf("hang: %v %T %v; want no result, an unavailable timeout net.Error wrapping context.DeadlineExceeded", res, err, err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("timeout after %v, want between 100ms and 2s", d)
	}

	// Each attempt gets its own timeout; reads retry after one.
	s.ResetRequests()
	rc := newClient(t, ts.URL, WithEndpointTimeout(EndpointLookup, 50*time.Millisecond))
	if _, err := rc.Lookup(ctx, tokA); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("retried hang: error %v, want context.DeadlineExceeded", err)
	}
	if n := s.Requests("/lookup"); n != 3 {
		t.Fatalf("lookup attempts %d, want 3", n)
	}
	s.ClearFaults()

	// Cancellation aborts an in-flight mutation at once and is not "unavailable".
	s.InjectFault("/clear", sandboxcontroller.Fault{Hang: true})
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	_, err = newClient(t, ts.URL).Clear(cctx, "inst1", "")
	if !errors.Is(err, context.Canceled) || IsUnavailable(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancel: %v after %v; want context.Canceled, not unavailable, within 2s", err, time.Since(start))
	}
	// A caller deadline is honoured too, also while waiting to retry.
	s.InjectFault("/controller/key-stats", sandboxcontroller.Fault{Status: 503})
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer dcancel()
	slow := newClient(t, ts.URL, WithRetries(5, time.Second, time.Second))
	if _, err := slow.KeyStats(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline during backoff: error %v, want context.DeadlineExceeded", err)
	}
}

// TestBusyWorker: a second operation while a slow one holds the worker's
// socket fails with the controller's "current state" error.
func TestBusyWorker(t *testing.T) {
	t.Parallel()
	s, ts := topology(t)
	c := newClient(t, ts.URL)
	if err := s.SetWorkerDelay("inst1", 0, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var clearErr error
	go func() {
		defer wg.Done()
		_, clearErr = c.Clear(context.Background(), "inst1", "")
	}()
	time.Sleep(100 * time.Millisecond)
	_, err := c.Pin(context.Background(), "inst1", "", tokA)
	if ae := mustAPIError(t, err); ae.Kind != KindBusy {
		t.Fatalf("pin during a slow clear: %+v; want a %s error", ae, KindBusy)
	}
	wg.Wait()
	if clearErr != nil {
		t.Fatalf("the slow clear: error %v, want nil", clearErr)
	}
}

type captured struct {
	mu      sync.Mutex
	headers []http.Header
	bodies  map[string]string
}

func capture(t *testing.T, next http.Handler) (*captured, http.Handler) {
	c := &captured{bodies: map[string]string{}}
	return c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("capture: reading the %s body: %v", r.URL.Path, err)
		}
		c.mu.Lock()
		c.headers = append(c.headers, r.Header.Clone())
		c.bodies[r.URL.Path] = string(body)
		c.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func TestRequestsSendBothSpellings(t *testing.T) {
	t.Parallel()
	s := sandboxcontroller.New()
	s.AddInstance("a", 1)
	s.AddInstance("b", 1)
	cap, h := capture(t, s)
	ts := httptest.NewServer(h)
	defer ts.Close()
	c := newClient(t, ts.URL)
	ctx := context.Background()
	for _, call := range []struct {
		name string
		do   func() error
	}{
		{"lookup", func() error { _, err := c.Lookup(ctx, nil); return err }},
		{"clear", func() error { _, err := c.Clear(ctx, "a", ""); return err }},
		{"pin", func() error { _, err := c.Pin(ctx, "a", "", []uint32{1, 2}); return err }},
		{"compress", func() error { _, err := c.Compress(ctx, CompressRequest{InstanceID: "a"}); return err }},
		{"move", func() error {
			_, err := c.Move(ctx, MoveRequest{SrcInstance: "a", DstInstance: "b", Copy: true})
			return err
		}},
		{"query_worker_info", func() error { _, err := c.QueryWorkerInfo(ctx, "a", nil); return err }},
		{"query_instance", func() error { _, err := c.QueryInstance(ctx, "127.0.0.1"); return err }},
	} {
		if err := call.do(); err != nil {
			t.Fatalf("%s: error %v, want nil", call.name, err)
		}
	}
	want := map[string][]string{
		"/lookup":            {`{"tokens":[]}`},
		"/clear":             {`"location":"LocalCPUBackend"`, `"locations":["LocalCPUBackend"]`},
		"/pin":               {`"locations":["LocalCPUBackend"]`, `"tokens":[1,2]`},
		"/compress":          {`"method":"cachegen"`, `"tokens":[]`, `"locations":["LocalCPUBackend"]`},
		"/move":              {`"should_copy":true`, `"copy":true`, `"old_position":["a","LocalCPUBackend"]`, `"tokens":[]`},
		"/query_worker_info": {`"worker_ids":null`},
		"/query_instance":    {`"event_id":"lmc-`, `"ip":"127.0.0.1"`},
	}
	for path, frags := range want {
		for _, f := range frags {
			if !strings.Contains(cap.bodies[path], f) {
				t.Errorf("%s body %s lacks %s, want it", path, cap.bodies[path], f)
			}
		}
	}
	for _, hd := range cap.headers {
		if hd.Get("Content-Type") != "application/json" || hd.Get("User-Agent") != testUserAgent {
			t.Fatalf("headers: %v; want Content-Type application/json, User-Agent %s", hd, testUserAgent)
		}
	}
}

func TestVerboseLogsBodies(t *testing.T) {
	t.Parallel()
	s := sandboxcontroller.New()
	cap, h := capture(t, s)
	ts := httptest.NewServer(h)
	defer ts.Close()
	var buf bytes.Buffer
	c := newClientWith(t, ts.URL, transport.Options{Verbose: &buf, UserAgent: "lmc-test",
		Headers: []transport.Header{{Name: "Authorization", Value: "Bearer s3cret-token"}, {Name: "X-Trace", Value: "t"}}})
	if _, err := c.KeyStats(context.Background()); err != nil {
		t.Fatalf("KeyStats error = %v, want nil", err)
	}
	if _, err := c.Lookup(context.Background(), []uint32{1, 2, 3}); err != nil {
		t.Fatalf("Lookup error = %v, want nil", err)
	}
	log := buf.String()
	if strings.Contains(log, "s3cret-token") {
		t.Fatalf("log leaks the token:\n%s", log)
	}
	for _, want := range []string{"> GET " + ts.URL + "/controller/key-stats", "Authorization: Bearer [REDACTED]",
		"X-Trace: [REDACTED]", "User-Agent: lmc-test", "< HTTP/1.1 200 OK", `> {"tokens":[1,2,3]}`, `"layout_info":{}`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// The real values still reach the server.
	if got := cap.headers[0].Get("Authorization"); got != "Bearer s3cret-token" {
		t.Fatalf("server saw Authorization %q, want %q", got, "Bearer s3cret-token")
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	if _, err := New(nil); err == nil {
		t.Error("New(nil) error = nil, want an error")
	}
	c := newClient(t, "127.0.0.1:9000/")
	if c.BaseURL() != "http://127.0.0.1:9000" {
		t.Fatalf("BaseURL = %s, want http://127.0.0.1:9000", c.BaseURL())
	}
	if _, err := New(peerFor(t, "http://x", transport.Options{}), WithTimeout(-1)); err == nil {
		t.Error("New(WithTimeout(-1)) error = nil, want an error")
	}
}

// TestPlainHTTPServer serves the fake with net/http's own server, as the
// sandbox will.
func TestPlainHTTPServer(t *testing.T) {
	t.Parallel()
	s := sandboxcontroller.New()
	s.AddInstance("x", 1)
	if _, err := s.Admit("x", 0, DefaultLocation, u32(0, 511)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		s.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	}()
	c := newClient(t, ln.Addr().String())
	lk, err := c.Lookup(context.Background(), u32(0, 599))
	if err != nil || lk.MatchedTokens != 512 {
		t.Fatalf("lookup: %+v %v; want 512 tokens matched, nil", lk, err)
	}
}

func newBenchServer(b *testing.B, s *sandboxcontroller.Server) string {
	ts := httptest.NewServer(s)
	b.Cleanup(func() { s.Close(); ts.Close() })
	return ts.URL
}

func TestAllWorkersFallback(t *testing.T) {
	t.Parallel()
	s, ts := topology(t)
	s.InjectFault("/controller/workers", sandboxcontroller.Fault{Status: 404, Body: `{"detail":"Not Found"}`})
	c := newClient(t, ts.URL)
	_, err := c.Workers(context.Background(), WorkersFilter{})
	if ae := mustAPIError(t, err); ae.Kind != KindEndpointMissing || !strings.Contains(ae.Hint, "query_worker_info") {
		t.Fatalf("%+v; want a %s error with a hint naming query_worker_info", ae, KindEndpointMissing)
	}
	ws, err := c.AllWorkers(context.Background())
	if err != nil || ws.TotalCount != 4 || ws.Workers[0].KeyCount != nil {
		t.Fatalf("fallback: %+v %v; want 4 workers without key_count, nil", ws, err)
	}
	if s.Requests("/controller/workers") != 2 || s.Requests("/query_worker_info") != 1 {
		t.Fatalf("requests: /controller/workers %d, /query_worker_info %d; want 2 and 1", s.Requests("/controller/workers"), s.Requests("/query_worker_info"))
	}
}
