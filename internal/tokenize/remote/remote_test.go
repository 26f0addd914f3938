package remote

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lmc/internal/transport"
)

// fakeVLLM answers /tokenize like vLLM's OpenAI server: prompt tokens by
// bytes (+BOS 1 with add_special_tokens, the default), messages with a
// template marker.
func fakeVLLM(t *testing.T, seen *map[string]any) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tokenize" || r.Method != http.MethodPost {
			w.WriteHeader(404)
			w.Write([]byte(`{"detail":"Not Found"}`))
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("fake vLLM: decoding the /tokenize body: %v", err)
		}
		*seen = body
		if body["model"] != nil && body["model"] != "m" {
			w.WriteHeader(404)
			w.Write([]byte(`{"object":"error","message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}`))
			return
		}
		var toks []uint32
		add := true
		if v, ok := body["add_special_tokens"].(bool); ok {
			add = v
		}
		if p, ok := body["prompt"].(string); ok {
			if add {
				toks = append(toks, 1)
			}
			for _, b := range []byte(p) {
				toks = append(toks, uint32(b))
			}
		} else {
			toks = []uint32{7, 7, 7}
		}
		json.NewEncoder(w).Encode(map[string]any{"count": len(toks), "max_model_len": 8192, "tokens": toks, "token_strs": nil})
	}))
}

// clientOf is a client of the /tokenize endpoint at url for model m.
func clientOf(t *testing.T, url string) *Client {
	t.Helper()
	peer, err := transport.NewPeer(url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(peer, "m")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenize(t *testing.T) {
	t.Parallel()
	var seen map[string]any
	srv := fakeVLLM(t, &seen)
	defer srv.Close()
	c := clientOf(t, srv.URL+"/")
	p := "hi"
	r, err := c.Tokenize(context.Background(), Request{Prompt: &p})
	if err != nil || len(r.Tokens) != 3 || r.Tokens[0] != 1 || seen["model"] != "m" || seen["prompt"] != "hi" {
		t.Fatalf("Tokenize(prompt hi) = %+v, %v (server saw %v); want 3 tokens starting with BOS 1, nil, with model m and prompt hi sent", r, err, seen)
	}
	no := false
	r, err = c.Tokenize(context.Background(), Request{Prompt: &p, AddSpecialTokens: &no})
	if err != nil {
		t.Fatalf("Tokenize(prompt hi, add_special_tokens false) error = %v, want nil", err)
	}
	if len(r.Tokens) != 2 || seen["add_special_tokens"] != false {
		t.Fatalf("Tokenize(prompt hi, add_special_tokens false) = %+v (server saw %v); want 2 tokens, add_special_tokens false sent", r, seen)
	}
	r, err = c.Tokenize(context.Background(), Request{Messages: json.RawMessage(`[{"role":"user","content":"hi"}]`)})
	if err != nil || len(r.Tokens) != 3 || seen["add_generation_prompt"] != true {
		t.Fatalf("Tokenize(messages) = %+v, %v (server saw %v); want 3 tokens, nil, with add_generation_prompt true sent", r, err, seen)
	}
	c.Model = "x"
	_, err = c.Tokenize(context.Background(), Request{Prompt: &p})
	if e, ok := err.(*Error); !ok || e.Status != 404 || !strings.Contains(e.Detail, "does not exist") {
		t.Fatalf("Tokenize with an unknown model: error %v, want a 404 *Error saying the model does not exist", err)
	}
}

// Answers a /tokenize endpoint cannot mean: each is an error, never "0
// tokens".
func TestTokenizeDistrustsTheAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"object":"error","message":"model not found","code":404}`, "model not found"},
		{`{"count":5,"max_model_len":8192,"tokens":[1,2,3]}`, "count 5 but holds 3 tokens"},
		{`{"count":3,"tokens":[1,2,3]}{"count":1,"tokens":[9]}`, "more than one JSON document"},
		{`{"count":3,"tokens":[1,2,3]} trailing`, "more than one JSON document"},
		{`{"count":0}`, `no "tokens"`},
		{`{"detail":"boom","tokens":[]}`, "boom"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) }))
		c := clientOf(t, srv.URL)
		p := "hi"
		_, err := c.Tokenize(context.Background(), Request{Prompt: &p})
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("answer %s: err = %v, want one mentioning %q", tc.body, err, tc.want)
		}
	}
}

// An answer far larger than the text can produce is refused.
func TestTokenizeBoundsTheAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"tokens":[`)
		for i := 0; i < 200000; i++ {
			io.WriteString(w, "1234567,")
		}
		io.WriteString(w, `1]}`)
	}))
	defer srv.Close()
	c := clientOf(t, srv.URL)
	p := "hi"
	_, err := c.Tokenize(context.Background(), Request{Prompt: &p})
	var bt *transport.BodyTooLargeError
	if !errors.As(err, &bt) {
		t.Fatalf("err = %v, want a BodyTooLargeError", err)
	}
}
