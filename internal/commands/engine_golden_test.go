package commands

import (
	"strings"
	"testing"
)

func TestEngineOutputGoldens(t *testing.T) {
	keys := []string{"keys", "--engine", "sglang", "--page-size", "4", "--tp-size", "2", "--model", "Qwen/Qwen3-8B", "--tokens", "1,2,3,4,5,6,7,8,9", "--all-ranks"}
	golden(t, "engines/keys-sglang-table-tty", runLMC(t, runOpts{tty: true, width: 100}, append(keys, "-o", "table")...).stdout)
	golden(t, "engines/keys-sglang-wide", runLMC(t, runOpts{}, append(keys, "-o", "wide")...).stdout)
	golden(t, "engines/keys-sglang-plain", runLMC(t, runOpts{}, keys...).stdout)
	r := runLMC(t, runOpts{}, "explain", "--engine", "sglang", "--page-size", "2", "--eagle", "--key-schema", "S2", "--tokens", "10,11,12,13,14", "-o", "table")
	golden(t, "engines/explain-sglang-eagle", r.stdout)
	r = runLMC(t, runOpts{}, "explain", "--engine", "vllm", "--model", model, "--hash", "sha256_cbor", "--hash-seed", "0", "--lora", "my-lora", "--cache-salt", "salt-1",
		"--mm", "img-0a1b2c:5:20", "--tokens", seqTokens(40), "-o", "table")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	golden(t, "engines/explain-vllm-extra", r.stdout)
	for _, want := range []string{"('my-lora', ('img-0a1b2c', 5), 'salt-1')", "('my-lora', ('img-0a1b2c', -11))"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "pickle object identity") {
		t.Error("sha256_cbor has no pickle identity trap")
	}
	r = runLMC(t, runOpts{}, "explain", "--engine", "vllm", "--model", model, "--lora", "x", "--cache-salt", "x", "--tokens", seqTokens(16), "-o", "json")
	if !strings.Contains(r.stdout, "pickle object identity") || !strings.Contains(r.stdout, `the extra keys repeat the string \"x\"`) {
		t.Errorf("the pickle memo trap is not explained:\n%s", r.stdout)
	}
}

func TestEngineLookupTableGolden(t *testing.T) {
	s := startMaster(t)
	tokens := seqU32(7, 8)
	if err := s.Populate(t.Context(), sglKeysOf(t, sglTP2Page1(), tokens, func(pg int) bool { return pg == 5 })); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"lookup"}, sglTP2Args...), "--master", s.Addr(), "--tokens", strings.Trim(tokensJSON(tokens), "[]"))
	r := runLMC(t, runOpts{}, append(args, "-o", "table", "--holes")...)
	golden(t, "engines/lookup-sglang-table", r.stdout)
	r = runLMC(t, runOpts{}, append(args, "-o", "plain", "--holes")...)
	golden(t, "engines/lookup-sglang-plain", r.stdout)
}

func TestEngineKeysBatchAndShortPrompts(t *testing.T) {
	in := `{"id":"a","tokens":[1,2,3,4,5]}` + "\n" + `{"id":"b","tokens":[1,2]}` + "\n"
	args := []string{"keys", "--engine", "sglang", "--page-size", "2", "--model", "m", "-"}
	r := runLMC(t, runOpts{stdin: in}, append(args, "-o", "jsonl")...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 || !strings.Contains(lines[0], `"id":"a"`) || strings.Count(lines[0], `"index"`) != 3 || !strings.Contains(lines[1], `"total_tokens":2`) {
		t.Fatalf("jsonl: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{stdin: in}, append(args, "-o", "json")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"engine": "sglang"`) || !strings.Contains(r.stdout, `"prompts": [`) || !strings.Contains(r.stdout, `"page_size": 2`) {
		t.Fatalf("json batch: %d %s", r.code, r.stdout)
	}
	// shorter than a block: no keys, exit 0, a hint on a terminal
	r = runLMC(t, runOpts{tty: true}, "keys", "--engine", "vllm", "--model", model, "--tokens", "1,2,3", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"chunks": []`) || !strings.Contains(r.stderr, "fewer than one block (16): no keys") {
		t.Fatalf("short: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{}, "explain", "--engine", "vllm", "--model", model, "--tokens", seqTokens(32), "--chunk", "2")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "lmc: --chunk 2: the prompt has 2 blocks (0..1)") {
		t.Fatalf("explain --chunk: %d %s", r.code, r.stderr)
	}
}
