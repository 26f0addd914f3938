package sandboxcontroller

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestBody throws arbitrary bodies at every POST endpoint of the
// fake: it must never panic, must answer 200, 400, 422 or 500 with a JSON
// body that Go can parse, and 422 entries must have the pydantic v1 shape.
func FuzzRequestBody(f *testing.F) {
	for _, s := range []string{
		`{"tokens":[1,2`, `{"tokens":["1","x"]}`, `{"tokens":null}`, `{}`, `[["tokens",[1,2]]]`, `""`, `[]`,
		`{"tokens":[1e400, 1.5, true, "  7 ", "1_000"]}`, `{"old_position":["a","b","c"],"new_position":"x"}`,
		`{"instance_id":5,"location":1.0,"tokens":[]}`, `{"should_copy":"yes","old_position":["a","b"],"new_position":["c","d"]}`,
		"{\"a\":\"\\ud800\"}", `{"a":"\u0001"}`, "\ufeff{}", `NaN`, `{"worker_ids":[1,99999999999999999999999]}`,
		`{"tokens":[` + strings.Repeat("9", 5000) + `]}`, "{\"x\":\"\x01\"}", `{"tokens":[1,]}`, `{"a" 1}`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	s := New()
	s.AddInstance("a", 2)
	s.AddInstance("c", 1)
	_, _ = s.Admit("a", 0, DefaultLocation, make([]uint32, 600))
	paths := []string{"/lookup", "/clear", "/pin", "/compress", "/decompress", "/move", "/health",
		"/check_finish", "/query_worker_info", "/query_instance"}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, p := range paths {
			req := httptest.NewRequest(http.MethodPost, p, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			switch rec.Code {
			case 200, 400, 422, 500:
			default:
				t.Fatalf("%s: status %d", p, rec.Code)
			}
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s: answer is not JSON: %q", p, rec.Body.String())
			}
			if rec.Code == 422 {
				items, ok := v["detail"].([]any)
				if !ok || len(items) == 0 {
					t.Fatalf("%s: 422 without entries: %s", p, rec.Body.String())
				}
				for _, it := range items {
					m := it.(map[string]any)
					if _, ok := m["loc"].([]any); !ok || m["msg"] == "" || m["type"] == "" {
						t.Fatalf("%s: bad entry %v", p, m)
					}
				}
			}
		}
	})
}

func TestPydanticCoercion(t *testing.T) {
	s := New()
	s.AddInstance("5", 1)
	ts := httptest.NewServer(s)
	defer ts.Close()
	post := func(path, body string) (int, string) {
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	// instance_id 5 is coerced to "5"; tokens accept bools, floats, numeric strings.
	if code, body := post("/health", `{"instance_id":5}`); code != 200 || !strings.Contains(body, `"error_codes":{"0":0}`) {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ := post("/lookup", `{"tokens":[true, 1.9, " 3 ", "1_0"]}`); code != 200 {
		t.Fatalf("coercion: %d", code)
	}
	if code, body := post("/lookup", `{"tokens":"123"}`); code != 422 || !strings.Contains(body, `"type_error.list"`) {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := post("/move", `{"old_position":["a"],"new_position":["b",1],"should_copy":"maybe"}`); code != 422 ||
		body != `{"detail":[{"loc":["body","old_position"],"msg":"wrong tuple length 1, expected 2","type":"value_error.tuple.length","ctx":{"actual_length":1,"expected_length":2}},{"loc":["body","should_copy"],"msg":"value could not be parsed to a boolean","type":"type_error.bool"}]}` {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := post("/lookup", `[["tokens",[]]]`); code != 200 {
		t.Fatalf("dict(list of pairs): %d %s", code, body)
	}
	if code, body := post("/lookup", "\xff"); code != 400 || body != `{"detail":"There was an error parsing the body"}` {
		t.Fatalf("bad utf-8: %d %s", code, body)
	}
	resp, err := http.Get(ts.URL + "/lookup/")
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != 405 { // redirected to /lookup, which is POST-only
		t.Fatalf("trailing slash: %v %v", resp, err)
	}
}
