package coordinatorclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	sc "lmc/internal/coordinatorclient/sandboxcoordinator"
	"lmc/internal/transport"
)

var tokens600 = TokensRequest{ModelName: model, WorldSize: 1, TokenIDs: seq(0, 599), ChunkSize: 256}

// Every lie is an error that quotes the peer, never a miss or a success.
func TestLies(t *testing.T) {
	cases := []struct {
		path   string
		lie    sc.Lie
		call   func(*Client) error
		reason string
	}{
		{"/directory/lookup", sc.LieCount, lookup, "resolved 3 chunks from 600 tokens"},
		{"/directory/lookup", sc.LieDropItem, lookup, "1 results for 2 chunks"},
		{"/directory/lookup", sc.LieWrongKey, lookup, "not chunk 0 rank 0"},
		{"/directory/lookup", sc.LieTokens, lookup, "not the request's tokens"},
		{"/directory/lookup", sc.LieTrailing, lookup, "more than one JSON document"},
		{"/directory/lookup", sc.LieTruncate, lookup, "not JSON"},
		{"/directory/keys", sc.LieForeignPlacement, func(c *Client) error { _, err := c.Keys(ctx(), KeysQuery{Tier: TierL2}); return err }, "outside the filter tier=l2"},
		{"/instances/usage", sc.LieRatio, func(c *Client) error { _, err := c.FleetUsage(ctx()); return err }, "usage_ratio"},
		{"/quota", sc.LieDropItem, func(c *Client) error { _, err := c.Quotas(ctx(), TierL1); return err }, "adds up to"},
		{"/cache/pins", sc.LieStatus, func(c *Client) error { _, err := c.Pin(ctx(), tokens600); return err }, `status "unpinned", not pinned`},
		{"/cache/pins", sc.LieCount, func(c *Client) error { _, err := c.Pin(ctx(), tokens600); return err }, "resolved 3 chunks"},
		{"/quota/a", sc.LieStatus, func(c *Client) error { _, err := c.SetQuota(ctx(), "a", 1); return err }, `status "error"`},
		{"/events", sc.LieCount, func(c *Client) error {
			_, err := c.PostEvents(ctx(), CacheEventsRequest{Batches: []CacheEventBatch{{InstanceID: "x", Seq: 1, EventType: "access", Tier: "l1"}}})
			return err
		}, "for 1 batches sent"},
		{"/instances", sc.LieTrailing, func(c *Client) error { _, err := c.Instances(ctx()); return err }, "more than one JSON document"},
	}
	for _, tc := range cases {
		t.Run(tc.path+"/"+string(tc.lie), func(t *testing.T) {
			s, c := coordinator(t)
			s.InjectFault(tc.path, sc.Lying(tc.lie))
			err := tc.call(c)
			be := as[*BadAnswerError](t, err)
			if !strings.Contains(be.Reason, tc.reason) || be.Excerpt == "" || be.Status != 200 {
				t.Errorf("%v", be)
			}
		})
	}
	// Stats whose tier totals contradict the placement count.
	s0, c0 := coordinator(t)
	s0.InjectFault("/directory/stats", sc.ErrorAnswer(200, `{"num_keys":2,"num_placements":3,"l1_keys_by_instance":{"server-1":2},"l1_count":5,"l1_size_bytes":1,"l2_count":1,"l2_size_bytes":1}`))
	if _, err := c0.DirectoryStats(ctx()); err == nil || !strings.Contains(err.Error(), "l1_count 5 + l2_count 1 != num_placements 3") {
		t.Errorf("%v", err)
	}
	// An HTML page where JSON belongs.
	s, c := coordinator(t)
	s.InjectFault("/directory/lookup", sc.Garbage())
	if be := as[*BadAnswerError](t, lookup(c)); !strings.Contains(be.Hint, "HTML") || !strings.Contains(be.Error(), "<html>") {
		t.Errorf("%v", be)
	}
	// A prefetch status the client does not know.
	s.InjectFault("/cache/prefetches", sc.ErrorAnswer(200, `{"instance_id":"server-1","request_id":"x","chunks":2,"status":"queued"}`))
	_, err := c.Prefetch(ctx(), PrefetchRequest{InstanceID: "server-1", TokensRequest: tokens600})
	if be := as[*BadAnswerError](t, err); !strings.Contains(be.Reason, `"queued"`) {
		t.Errorf("%v", be)
	}
	s.InjectFault("/cache/prefetches", sc.ErrorAnswer(200, `{"instance_id":"server-2","request_id":"x","chunks":2,"status":"submitted"}`))
	_, err = c.Prefetch(ctx(), PrefetchRequest{InstanceID: "server-1", TokensRequest: tokens600})
	if be := as[*BadAnswerError](t, err); !strings.Contains(be.Reason, `"server-2"`) {
		t.Errorf("%v", be)
	}
}

func lookup(c *Client) error {
	_, err := c.Lookup(ctx(), LookupRequest{TokensRequest: tokens600})
	return err
}

// The spec's error bodies (§8.8, §6) become typed errors with hints.
func TestErrorEnvelopes(t *testing.T) {
	cases := []struct {
		status   int
		body     string
		kind     ErrorKind
		detail   string
		field    string
		envelope string
		hint     string
	}{
		{422, `{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, supply exactly one of 'keys' or 'token_ids'","input":{},"ctx":{"error":{}}}]}`,
			KindValidation, "", "body", "detail", "either keys or token_ids"},
		{422, `{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, 'model_name' is required with 'token_ids'","input":{"token_ids":[1,2,3]},"ctx":{"error":{}}}]}`,
			KindValidation, "", "body", "detail", "model name"},
		{422, `{"detail":[{"type":"value_error","loc":["body","keys"],"msg":"Value error, non-hexadecimal number found in fromhex() arg at position 0","input":[],"ctx":{"error":{}}}]}`,
			KindValidation, "", "keys", "detail", "another generation"},
		{422, `{"detail":[{"type":"json_invalid","loc":["body",14],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}`,
			KindValidation, "", "body (char 14)", "detail", ""},
		{400, `{"detail":"model_name must not contain '@' (got 'a@b')"}`, KindBadRequest, "model_name must not contain '@' (got 'a@b')", "", "detail", "'@'"},
		{400, `{"detail":"cache_salt must not contain {'/'} (got 'x/y')"}`, KindBadRequest, "cache_salt must not contain {'/'} (got 'x/y')", "", "detail", "128 characters"},
		{400, `{"detail":"too many token_ids in a single request (limit=1000000, got=1000001)"}`, KindBadRequest, "", "", "detail", "1,000,000"},
		{404, `{"detail":"Not Found"}`, KindRouteMissing, "Not Found", "", "detail", "key directory"},
		{404, `{"error":"unknown instance ghost; re-register"}`, KindUnknownInstance, "unknown instance ghost; re-register", "", "error", "re-registers"},
		{405, `{"detail":"Method Not Allowed"}`, KindMethodNotAllowed, "Method Not Allowed", "", "detail", "other methods"},
		{502, `{"detail":"prefetch submit to 'server-1' failed: All connection attempts failed"}`, KindUpstream, "", "", "detail", "unreachable"},
		{502, `<html>bad gateway</html>`, KindUnavailable, "<html>bad gateway</html>", "", "", "retry later"},
		{503, `{"status":"unhealthy","reason":"engine not initialized"}`, KindUnavailable, "engine not initialized", "", "reason", "not initialized"},
		{500, `Internal Server Error`, KindServer, "Internal Server Error", "", "", "0..2^32-1"},
		{401, `{"detail":"Unauthorized"}`, KindAuth, "Unauthorized", "", "detail", "-H"},
		{409, `{"detail":"chunk size already bound to 256"}`, KindConflict, "chunk size already bound to 256", "", "detail", ""},
	}
	for _, tc := range cases {
		t.Run(tc.body, func(t *testing.T) {
			s, c := coordinator(t)
			s.InjectFault("/directory/lookup", sc.ErrorAnswer(tc.status, tc.body))
			c.cfg.retries = 0
			err := lookup(c)
			if errors.Is(err, ErrUnsupported) && tc.kind == KindRouteMissing {
				err = errors.Unwrap(err)
			}
			ae := as[*APIError](t, err)
			if ae.Status != tc.status || ae.Kind != tc.kind || tc.detail != "" && ae.Detail != tc.detail || ae.Envelope != tc.envelope ||
				!strings.Contains(ae.Hint, tc.hint) || ae.Route != "/directory/lookup" || ae.Method != "POST" {
				t.Errorf("%+v", ae)
			}
			if tc.field != "" && (len(ae.FieldErrors) != 1 || ae.FieldErrors[0].Field != tc.field) {
				t.Errorf("fields %+v", ae.FieldErrors)
			}
		})
	}
}

func TestDeadlinesRetriesLimits(t *testing.T) {
	s, c := coordinator(t)
	// A stalled coordinator: the per-attempt timeout ends it.
	s.InjectFault("/healthz", sc.Stall())
	cs := client(t, s.URL(), WithTimeout(50*time.Millisecond), WithRetries(0, 0, 0))
	start := time.Now()
	_, err := cs.Healthz(ctx())
	te := as[*TransportError](t, err)
	if transport.Classify(err) != transport.ClassUnreachable || !IsUnavailable(err) || time.Since(start) > 3*time.Second || te.Attempts != 1 {
		t.Errorf("%v (%s)", err, time.Since(start))
	}
	// And the caller's deadline, whatever the client's timeout.
	cctx, cancel := context.WithTimeout(ctx(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Healthz(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v", err)
	}
	s.ClearFaults()

	// Reads are retried after a 503 or a dropped connection...
	s.ResetRequests()
	s.InjectFault("/instances", sc.Fault{Times: 1, Status: 503, Body: `{"detail":"busy"}`})
	if _, err := c.Instances(ctx()); err != nil || s.Count("/instances") != 2 {
		t.Errorf("%v, %d requests", err, s.Count("/instances"))
	}
	s.InjectFault("/directory/stats", sc.Fault{Drop: true})
	_, err = c.DirectoryStats(ctx())
	// (net/http itself may resend a GET once when a reused connection
	// drops before any answer.)
	if te := as[*TransportError](t, err); te.Attempts != 3 || s.Count("/directory/stats") < 3 {
		t.Errorf("%v, %d requests", te, s.Count("/directory/stats"))
	}
	// ...pins never.
	s.InjectFault("/cache/pins", sc.Fault{Times: 1, Status: 503, Body: `{"detail":"busy"}`})
	if _, err := c.Pin(ctx(), tokens600); err == nil || s.Count("/cache/pins") != 1 {
		t.Errorf("%v, %d requests", err, s.Count("/cache/pins"))
	}

	// An answer larger than its request can produce.
	s.InjectFault("/healthz", sc.ErrorAnswer(200, `{"status":"healthy","pad":"`+strings.Repeat("x", 100<<10)+`"}`))
	_, err = c.Healthz(ctx())
	var bt *transport.BodyTooLargeError
	if !errors.As(err, &bt) || bt.Limit != 64<<10 {
		t.Errorf("%v", err)
	}
	// The same bound holds on an *http.Client that is not transport's.
	plain, _ := New(http.DefaultClient, s.URL())
	if _, err = plain.Healthz(ctx()); !errors.As(err, &bt) {
		t.Errorf("plain client: %v", err)
	}
}

func TestUnknownShapesWarn(t *testing.T) {
	s, c := coordinator(t)
	body := `{"chunks":1,"shard":7,"results":[{"key":` + keyJSON(h0) + `,"placements":[{"instance_id":"server-1","incarnation":1,"tier":"l3","backend":"cxl","size_bytes":1,"shared":false,"region":"eu"}],` +
		`"token_ids":[` + ints(0, 255) + `],"access_count":0,"heat":0.5}]}`
	s.InjectFault("/directory/lookup", sc.ErrorAnswer(200, body))
	res, err := c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 299), ChunkSize: 256}})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(res.Warnings, "\n")
	for _, want := range []string{`the lookup answer has unknown field "shard"`, `lookup answer results[] has unknown field "heat"`,
		`lookup answer results[].placements[] has unknown field "region"`, `results[].placements[] has tier "l3"`} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
}

func TestParseErrorBody(t *testing.T) {
	for body, want := range map[string]ErrorEnvelope{
		`{"detail":"x","error":"y"}`:   {Detail: "x", Envelope: "detail", JSON: true},
		`{"error":"y","reason":"z"}`:   {Detail: "y", Envelope: "error", JSON: true},
		`{"status":"u","reason":"z"}`:  {Detail: "z", Envelope: "reason", JSON: true},
		`{"detail":null,"error":"y"}`:  {Detail: "y", Envelope: "error", JSON: true},
		`Internal Server Error`:        {Detail: "Internal Server Error"},
		`{"detail":"x"}{"detail":"y"}`: {Detail: `{"detail":"x"}{"detail":"y"}`},
	} {
		got := ParseErrorBody([]byte(body))
		if got.Detail != want.Detail || got.Envelope != want.Envelope || got.JSON != want.JSON {
			t.Errorf("%s: %+v", body, got)
		}
	}
}
