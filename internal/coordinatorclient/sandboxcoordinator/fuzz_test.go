package sandboxcoordinator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandle sends arbitrary requests to the fake coordinator: it must
// never panic, and every answer must be JSON (or the plain-text 500,
// the 204, the metrics text) with one of the coordinator's statuses.
func FuzzHandle(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"POST", "/events", events81()},
		{"POST", "/directory/lookup", `{"token_ids":[` + ints(0, 599) + `],"model_name":"m","world_size":2,"cache_salt":""}`},
		{"POST", "/directory/lookup", `{"keys":[{"chunk_hash_hex":"zz","model_name":"m","kv_rank":0}]}`},
		{"POST", "/directory/lookup", `{}`},
		{"POST", "/directory/lookup", `{"token_ids":[1,"x",2.5,true,null],"world_size":"0"}`},
		{"POST", "/directory/lookup", `{"token_ids":[-1,` + ints(0, 300) + `],"model_name":"m"}`},
		{"GET", "/directory/keys?tier=l3&limit=abc&offset=-1", ""},
		{"POST", "/instances", `{"ip":"  ","http_port":70000,"metadata":{"a":1}}`},
		{"PUT", "/quota/_default", `{"limit_gb":NaN}`},
		{"PUT", "/quota/x", `{"limit_gb":Infinity}`},
		{"PUT", "/quota/config", `{}`},
		{"POST", "/cache/pins", `{"model_name":"m","world_size":1,"token_ids":[` + ints(0, 255) + `]}`},
		{"DELETE", "/cache/pins", `{"model_name":"m","world_size":1,"token_ids":[` + ints(0, 255) + `]}`},
		{"POST", "/cache/moves", `{"source_instance_id":"a","target_instance_id":"a","model_name":"m","world_size":1,"extra":1}`},
		{"GET", "/instances/x/usage", ""},
		{"POST", "/events", `{"batches":[{"instance_id":"","incarnation":-1,"seq":0,"event_type":"x","tier":"all","backend":"","entries":[{"key":5}]}]}`},
		{"POST", "/events", `{"batches":[{"instance_id":"a","incarnation":2,"seq":1,"event_type":"config","tier":"l1","backend":"dram","capacity_bytes":10,"capacity_revision":3}]}`},
		{"GET", "/openapi.json", ""},
		{"PATCH", "/healthz", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n#") {
			return
		}
		switch method {
		case "GET", "POST", "PUT", "DELETE", "PATCH":
		default:
			return
		}
		s := New(WithMPServerURL(func(string, string, int) string { return "http://127.0.0.1:1" }), WithGeneration(GenMoves))
		defer s.Close()
		// Some state first, so reads have something to walk.
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("POST", "/events", strings.NewReader(events81())))
		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Content-Type", "application/json")
		w = httptest.NewRecorder()
		s.ServeHTTP(w, req)
		switch w.Code {
		case 200, 204, 400, 404, 405, 422, 502:
		case 500:
			if w.Body.String() != "Internal Server Error" {
				t.Fatalf("500 %q", w.Body.String())
			}
			return
		default:
			t.Fatalf("status %d for %s %s", w.Code, method, path)
		}
		if w.Code == 204 || strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			return
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s %q: answer is not JSON: %q", method, path, body, w.Body.String())
		}
		if w.Code != http.StatusOK {
			var env map[string]any
			if json.Unmarshal(w.Body.Bytes(), &env) != nil || (env["detail"] == nil && env["error"] == nil) {
				t.Fatalf("error without an envelope: %s", w.Body.String())
			}
		}
	})
}
