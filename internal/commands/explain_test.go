package commands

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestExplainJSON(t *testing.T) {
	r := runLMC(t, runOpts{}, "explain", "--model", model, "--hash", "sha256_cbor", "--hash-seed", "0", "--tokens", seqTokens(600), "-o", "json", "--world-size", "2", "--tag", "user=alice")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	var v struct {
		Warnings []string
		Chunks   []struct {
			Index      int    `json:"index"`
			EncodedLen int    `json:"encoded_len"`
			Encoded    string `json:"encoded_head"`
			PrefixIn   string `json:"prefix_in"`
			Extra      string `json:"extra"`
			Hash       string `json:"hash"`
			TokenCount int    `json:"token_count"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	c := v.Chunks[0]
	// spec 7.4: CBOR of chunk 0 is 527 bytes starting 8358204e1195df…
	if len(v.Chunks) != 2 || c.EncodedLen != 527 || !strings.HasPrefix(c.Encoded, "8358204e1195df020de59e0d") || c.PrefixIn != "4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e" || c.Extra != "()" || c.TokenCount != 256 {
		t.Fatalf("%+v", v.Chunks)
	}
	joined := strings.Join(v.Warnings, "\n")
	for _, w := range []string{"partial chunk with no key", "tags are in store-side keys only"} {
		if !strings.Contains(joined, w) {
			t.Errorf("missing warning %q in %s", w, joined)
		}
	}
	if strings.Contains(joined, "builtin hashing with world size") {
		t.Error("builtin TP warning for sha256_cbor")
	}
	golden(t, "explain/json", r.stdout)
}

func TestExplainText(t *testing.T) {
	r := runLMC(t, runOpts{tty: true}, "explain", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(300), "--world-size", "2", "--chunk", "0")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	for _, w := range []string{"builtin hashing with world size 2", "5f05dec65811b7cc", "the last 44 tokens form a partial chunk"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("missing %q", w)
		}
	}
	golden(t, "explain/text", r.stdout)
	r = runLMC(t, runOpts{}, "explain", "--model", model, "--hash", "sha256_cbor_64bit", "--hash-seed", "0", "--tokens", seqTokens(256))
	if !strings.Contains(r.stdout, "sha256_cbor_64bit now means the full 32-byte") {
		t.Error("no sha256_cbor_64bit warning")
	}
	r = runLMC(t, runOpts{}, "explain", "--model", model, "--none-hash", "0", "--tokens", seqTokens(256), "--chunk", "3")
	if r.code != 2 || !strings.Contains(r.stderr, "--chunk 3: the prompt has 1 chunk") {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
}
