package mooncake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"lmc/internal/transport"

	mc "lmc/internal/mooncake"
)

// bodyRT answers every request with a fixed status and body, in memory.
type bodyRT struct {
	status int
	body   string
}

func (b bodyRT) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: b.status, Body: io.NopCloser(strings.NewReader(b.body)), Header: http.Header{"Content-Type": {"application/json"}}, Request: r}, nil
}

// fuzzAdmin is an admin client whose every request is answered with
// status (200 when it is not an HTTP status) and body.
func fuzzAdmin(t *testing.T, status int, body string) (*mc.Admin, int) {
	t.Helper()
	if status < 100 || status > 599 {
		status = 200
	}
	a, err := mc.NewAdmin(&transport.Peer{Base: "http://fuzz.invalid", Display: "http://fuzz.invalid", HTTP: &http.Client{Transport: bodyRT{status, body}}})
	if err != nil {
		t.Fatal(err)
	}
	return a, status
}

// FuzzAdminResponses feeds arbitrary answers to every admin decoder: no
// panic, and an answer is either an error or well-formed.
func FuzzAdminResponses(f *testing.F) {
	f.Add(200, `{"success":true,"data":{"a":{"ok":true,"error":null,"values":[{"size_":1,"buffer_address_":2,"protocol_":"tcp","transport_endpoint_":"h:1"}],"disk_values":null,"local_disk_values":[{"client_id":[1,2],"object_size":3,"transport_endpoint":"x"}],"nof_values":null},"b":{"ok":false,"error":"OBJECT_NOT_FOUND"}}}`)
	f.Add(200, `{"status":"ok","role":"leader","ha_state":"serving","service_ready":true,"leader_address":null,"view_version":null}`)
	f.Add(404, `{"success":false,"error_code":-704,"error_message":"OBJECT_NOT_FOUND"}`)
	f.Add(503, `{"success":false,"error_code":-1011,"error_message":"service plane is not active"}`)
	f.Add(200, "a\nb\n\nc")
	f.Add(400, `{"success":false,"error":"No keys provided. Use ?keys=key1,key2,..."}`)
	f.Add(200, `{"success":false,"error":"service plane is not active"}`)
	f.Add(200, `{"success":true,"data":{"a":{"ok":true,"error":"OBJECT_NOT_FOUND"},"b":{"ok":false,"error":"OBJECT_NOT_FOUND"}}}`)
	f.Add(200, `{"success":true,"data":{"a":{"ok":true},"a":{"ok":false,"error":"X"},"b":{"ok":true}}} {}`)
	f.Add(200, `{"present":true,"leader_address":"h:1","view_version":3}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		a, status := fuzzAdmin(t, status, body)
		ctx := context.Background()
		// An accepted JSON answer is one valid document with a 2xx status.
		var doc map[string]json.RawMessage
		oneDoc := json.Unmarshal([]byte(body), &doc) == nil && status/100 == 2
		if qs, err := a.BatchQueryKeys(ctx, []string{"a", "b"}); err == nil {
			if !oneDoc || string(doc["success"]) != "true" {
				t.Fatalf("accepted an answer that is not one document saying success=true: %q", body)
			}
			if len(qs) != 2 || qs[0].Key != "a" || qs[1].Key != "b" {
				t.Fatalf("results out of order: %+v", qs)
			}
			for _, q := range qs {
				if !q.OK && (q.Code == 0 || q.Error == "") {
					t.Fatalf("a miss with no reason: %+v", q)
				}
				if q.OK && q.Error != "" {
					t.Fatalf("ok and an error: %+v", q)
				}
			}
		}
		if _, err := a.Health(ctx); err == nil && !oneDoc {
			t.Fatalf("/health accepted %q", body)
		}
		if l, err := a.Leader(ctx); err == nil && (!oneDoc || l.Present != (l.LeaderAddress != nil && *l.LeaderAddress != "")) {
			t.Fatalf("/leader accepted %q as %+v", body, l)
		}
		if vals, err := a.QueryKey(ctx, "a"); err == nil && (!oneDoc || len(vals) > mc.MaxReplicasPerKey) {
			t.Fatalf("/query_key accepted %q", body)
		}
		_, _ = a.MetricsSummary(ctx)
		_ = a.GetAllKeys(ctx, func(k string) error {
			if k == "" || len(k) > mc.MaxKeyLineLength || strings.ContainsAny(k, "\n") {
				t.Fatalf("key %q", k)
			}
			return nil
		})
	})
}
