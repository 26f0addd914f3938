package commands

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"lmc/internal/tokenize/hf"
)

const spTokenizer = "../tokenize/hf/testdata/sp/tokenizer.json"

// fakeEngine answers vLLM's POST /tokenize: one token per byte, BOS 1 when
// add_special_tokens (the default for a prompt), a template for chats.
func fakeEngine(t *testing.T, seen *[]map[string]any) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		*seen = append(*seen, body)
		var toks []uint32
		if p, ok := body["prompt"].(string); ok {
			if add, ok := body["add_special_tokens"].(bool); !ok || add {
				toks = append(toks, 1)
			}
			for _, b := range []byte(p) {
				toks = append(toks, uint32(b))
			}
		} else {
			toks = []uint32{9, 9, 9, 9}
		}
		json.NewEncoder(w).Encode(map[string]any{"count": len(toks), "max_model_len": 4096, "tokens": toks})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func totalTokens(t *testing.T, r result) int {
	t.Helper()
	var v struct {
		TotalTokens int `json:"total_tokens"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v: %s %s", err, r.stdout, r.stderr)
	}
	return v.TotalTokens
}

func TestTextThroughEngine(t *testing.T) {
	var seen []map[string]any
	url := fakeEngine(t, &seen)
	base := []string{"keys", "--model", "m", "--hash-seed", "0", "--tokenize-url", url, "-o", "json"}
	r := runLMC(t, runOpts{}, append(base, "--text", "hello")...)
	if r.code != 0 || totalTokens(t, r) != 6 || seen[0]["model"] != "m" || seen[0]["prompt"] != "hello" {
		t.Fatalf("%d %s %v", r.code, r.stderr, seen)
	}
	r = runLMC(t, runOpts{}, append(base, "--text", "hello", "--add-special-tokens=false", "--tokenize-model", "served")...)
	if totalTokens(t, r) != 5 || seen[1]["model"] != "served" {
		t.Fatalf("%v", seen[1])
	}
	msgs := writeFile(t, "chat.json", `{"messages": [{"role": "user", "content": "hi"}]}`)
	r = runLMC(t, runOpts{}, append(base, "--messages", msgs)...)
	if r.code != 0 || totalTokens(t, r) != 4 || seen[2]["add_generation_prompt"] != true || seen[2]["messages"] == nil {
		t.Fatalf("%d %s %v", r.code, r.stderr, seen[2])
	}
	// JSON Lines batches may carry prompt or messages
	in := `{"id": "a", "prompt": "abc"}` + "\n" + `{"id": "b", "messages": [{"role": "user", "content": "x"}]}` + "\n[5, 6]\n"
	r = runLMC(t, runOpts{stdin: in}, "keys", "--model", "m", "--hash-seed", "0", "--tokenize-url", url, "-o", "jsonl", "--chunk-size", "1", "-")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.Contains(lines[0], `"total_tokens":4`) || !strings.Contains(lines[1], `"total_tokens":4`) || !strings.Contains(lines[2], `"total_tokens":2`) {
		t.Fatalf("%d %q %s", r.code, r.stdout, r.stderr)
	}
	// an unreachable engine is exit 3
	r = runLMC(t, runOpts{}, "keys", "--model", "m", "--hash-seed", "0", "--tokenize-url", "http://127.0.0.1:1", "--text", "x")
	if r.code != ExitUnavailable || !strings.Contains(r.stderr, "tokenize endpoint http://127.0.0.1:1/tokenize") {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
}

func TestTextWithLocalTokenizer(t *testing.T) {
	tok, err := hf.Load(spTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	text := "The quick brown fox jumps over the lazy dog. 日本語も。"
	want, err := tok.Encode(text, true)
	if err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "keys", "--model", "m", "--hash-seed", "0", "--tokenizer", spTokenizer, "--text", text, "-o", "json")
	if r.code != 0 || totalTokens(t, r) != len(want) {
		t.Fatalf("%d %s (want %d tokens)", r.code, r.stderr, len(want))
	}
	pf := writeFile(t, "p.txt", text)
	r = runLMC(t, runOpts{}, "explain", "--model", "m", "--hash-seed", "0", "--tokenizer", spTokenizer, "--prompt-file", pf, "--chunk-size", "4", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"total_tokens": `+strconv.Itoa(len(want))) {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	msgs := writeFile(t, "chat.json", `[{"role": "user", "content": "hi"}]`)
	r = runLMC(t, runOpts{}, "keys", "--model", "m", "--hash-seed", "0", "--tokenizer", spTokenizer, "--messages", msgs)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "is a chat: its token IDs depend on the engine's chat template; use --tokenize-url") {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
}

// Text that is not UTF-8 would be altered before hashing: refused with its
// byte offset, from --text and --prompt-file alike.
func TestTextMustBeUTF8(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "latin1.txt", "line one\ncaf\xe9\n")
	for _, args := range [][]string{{"--text", "caf\xe9"}, {"--prompt-file", file}} {
		r := runLMC(t, runOpts{}, append([]string{"keys", "--model", "m", "--hash-seed", "0", "--tokenizer", "/nonexistent.json"}, args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "found invalid UTF-8 (e9) at byte offset") {
			t.Fatalf("%v: exit %d, stderr %q; want exit 2 naming the byte", args, r.code, r.stderr)
		}
	}
	r := runLMC(t, runOpts{}, "keys", "--model", "m", "--hash-seed", "0", "--tokenizer", "/nonexistent.json", "--prompt-file", file)
	if !strings.Contains(r.stderr, ":2:4: found invalid UTF-8 (e9) at byte offset 12") {
		t.Fatalf("stderr %q, want line 2, column 4, byte 12", r.stderr)
	}
}
