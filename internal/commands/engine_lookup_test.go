package commands

import (
	"net"
	"strings"
	"testing"
	"time"

	"lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

func sglTP2Page1() sglangkey.Params {
	p := sglangkey.DefaultParams()
	p.TPSize, p.ModelName = 2, "Qwen/Qwen3-8B"
	return p
}

var sglTP2Args = []string{"--engine", "sglang", "--tp-size", "2", "--model", "Qwen/Qwen3-8B"}

// A lookup stops once every rank has missed (the engine never uses what
// follows); --holes checks on and counts what is stored past the gap.
func TestEngineLookupStopsAtTheCompleteMissAndCountsHoles(t *testing.T) {
	s := startMaster(t)
	tokens := seqU32(7, 64)
	keys := sglKeysOf(t, sglTP2Page1(), tokens, func(pg int) bool { return pg >= 3 && pg != 10 })
	if err := s.Populate(t.Context(), keys); err != nil {
		t.Fatal(err)
	}
	v, r := runLookupJSON(t, tokens, append(sglTP2Args, "--master", s.Addr())...)
	if r.code != 0 || v.HitTokens != 3 || *v.CheckedChunks != 4 || v.NumChunks != 64 || len(v.Chunks) != 4 || v.Unusable != 0 {
		t.Fatalf("exit %d: %+v %s", r.code, v, r.stderr)
	}
	if c := v.Chunks[3]; c.Status != "miss" || strings.Join(c.MissingRanks, ",") != "tp0_pp0,tp1_pp0" || c.Usable {
		t.Fatalf("page 3: %+v", c)
	}
	if *v.EngineHitTokens != 0 {
		t.Fatalf("3 tokens are below prefetch_threshold: engine hit %d", *v.EngineHitTokens)
	}
	v, r = runLookupJSON(t, tokens, append(sglTP2Args, "--master", s.Addr(), "--holes", "--prefetch-threshold", "1")...)
	if r.code != 0 || v.HitTokens != 3 || *v.CheckedChunks != 64 || v.Unusable != 1 || *v.EngineHitTokens != 3 {
		t.Fatalf("--holes: exit %d: %+v", r.code, v)
	}
	for _, rh := range v.RankHits {
		if rh.HitTokens != 3 || rh.Holes != 1 {
			t.Fatalf("rank %+v", rh)
		}
	}
	if !strings.Contains(r.stderr, "1 chunk exists after the first miss (chunk 3)") {
		t.Errorf("no holes warning: %q", r.stderr)
	}
	// the table says where it stopped and what the engine uses
	r = runLMC(t, runOpts{stdin: tokensJSON(tokens)}, append(append([]string{"lookup"}, sglTP2Args...), "--master", s.Addr(), "-o", "table", "-")...)
	for _, want := range []string{"PAGE  TOKENS  HASH", "2/2", "0/2 (missing tp0_pp0,tp1_pp0)", "hit 3 of 64 tokens (4.7 %), 3 of 64 pages",
		"SGLang uses 0 of 64 tokens (0.0 %) (below prefetch_threshold: the prefetch is revoked); checked 4 of 64 pages: every rank had missed by page 3"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
}

// SGLang at page size 1 and TP 8: 16 objects per token. The lookup sends
// bounded batches and still answers every rank.
func TestEngineLookupBatchesLongPrompts(t *testing.T) {
	s := startMaster(t)
	p := sglangkey.DefaultParams()
	p.TPSize, p.ModelName = 8, "m"
	tokens := seqU32(1, 2048) // 32,768 objects
	keys := sglKeysOf(t, p, tokens, func(pg int) bool { return pg >= 2000 })
	if err := s.Populate(t.Context(), keys); err != nil {
		t.Fatal(err)
	}
	before := s.Calls()["BatchExistKey"]
	v, r := runLookupJSON(t, tokens, "--engine", "sglang", "--tp-size", "8", "--model", "m", "--master", s.Addr())
	if r.code != 0 || v.HitTokens != 2000 || *v.EngineHitTokens != 2000 || *v.CheckedChunks != 2001 || len(v.RankHits) != 8 {
		t.Fatalf("exit %d: hit %d checked %v ranks %d: %s", r.code, v.HitTokens, v.CheckedChunks, len(v.RankHits), r.stderr)
	}
	calls := s.Calls()["BatchExistKey"] - before
	if want := (2001*16 + engineBatchKeys - 1) / engineBatchKeys; calls < want || calls > want+engineBatchesAhead {
		t.Fatalf("%d BatchExistKey calls for 2,001 pages × 16 objects (batches of %d keys)", calls, engineBatchKeys)
	}
	// the admin API (URL-sized requests) agrees, and grants no lease
	v, r = runLookupJSON(t, tokens, "--engine", "sglang", "--tp-size", "8", "--model", "m", "--admin", s.AdminURL())
	if r.code != 0 || v.HitTokens != 2000 {
		t.Fatalf("admin: exit %d hit %d: %s", r.code, v.HitTokens, r.stderr)
	}
}

// A store answering an error for objects is exit 1: neither hit nor miss.
func TestEngineLookupKeyErrorsFail(t *testing.T) {
	s := startMaster(t)
	tokens := seqU32(1, 32)
	if err := s.Populate(t.Context(), sglKeysOf(t, sglTP2Page1(), tokens, nil)); err != nil {
		t.Fatal(err)
	}
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Code: mooncake.CodeInternalError})
	v, r := runLookupJSON(t, tokens, append(sglTP2Args, "--master", s.Addr())...)
	if r.code != 1 || !strings.Contains(r.stderr, "answered an error for 4 of 4 keys") || !strings.Contains(r.stderr, "page 0 key Qwen-Qwen3-8B_") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_ = v
}

// A master that accepts and never answers: the lookup ends at --timeout
// with exit 3, whatever the batches in flight.
func TestEngineLookupTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, r := runLookupJSON(t, seqU32(1, 4096), "--engine", "sglang", "--tp-size", "8", "--master", ln.Addr().String(), "--timeout", "300ms")
	if r.code != 3 || time.Since(start) > 5*time.Second || !strings.Contains(r.stderr, "deadline exceeded") {
		t.Fatalf("exit %d after %s: %s", r.code, time.Since(start), r.stderr)
	}
}

// Placement: where each page's first object lives, from the admin API or
// the master's replica lists.
func TestEngineLookupPlacementAndMinHit(t *testing.T) {
	s := startMaster(t)
	p := vllmkey.DefaultParams()
	p.Model = model
	tokens := seqU32(1, 48)
	if err := s.Populate(t.Context(), vllmKeysOf(t, p, tokens, func(b int) bool { return b == 2 }), sandboxmaster.Node{Name: "n1", Endpoint: "10.9.0.1:1234"}); err != nil {
		t.Fatal(err)
	}
	base := []string{"lookup", "--engine", "vllm", "--model", model, "-o", "json", "-"}
	for _, backend := range [][]string{{"--admin", s.AdminURL()}, {"--master", s.Addr(), "--placement"}, {"--master", s.Addr(), "--admin", s.AdminURL(), "--placement"}} {
		r := runLMC(t, runOpts{stdin: tokensJSON(tokens)}, append(base, backend...)...)
		if r.code != 0 || !strings.Contains(r.stdout, `"endpoint": "10.9.0.1:1234"`) || !strings.Contains(r.stdout, `"engine_hit_tokens": 32`) || !strings.Contains(r.stdout, `"hit_tokens": 32`) {
			t.Fatalf("%v: exit %d\n%s\n%s", backend, r.code, r.stdout, r.stderr)
		}
	}
	r := runLMC(t, runOpts{stdin: tokensJSON(tokens)}, "lookup", "--engine", "vllm", "--model", model, "--master", s.Addr(), "--min-hit", "0.9", "-o", "plain", "-")
	if r.code != 4 || !strings.Contains(r.stderr, "below --min-hit 0.9") || !strings.HasPrefix(r.stdout, "0\t0\t16\t") {
		t.Fatalf("min-hit: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// A batch of prompts (JSON Lines) shares the connection; -o jsonl prints
// one object per prompt.
func TestEngineLookupBatchJSONL(t *testing.T) {
	s := startMaster(t)
	p := vllmkey.DefaultParams()
	p.Model, p.BlockSize = model, 4
	if err := s.Populate(t.Context(), vllmKeysOf(t, p, seqU32(1, 16), nil)); err != nil {
		t.Fatal(err)
	}
	in := `{"id":"a","tokens":` + tokensJSON(seqU32(1, 16)) + "}\n" + `{"id":"b","tokens":` + tokensJSON(seqU32(1, 8)) + "}\n" + `{"id":"c","tokens":[9,9,9,9]}` + "\n"
	r := runLMC(t, runOpts{stdin: in}, "lookup", "--engine", "vllm", "--model", model, "--block-size", "4", "--master", s.Addr(), "-o", "jsonl", "-")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.Contains(lines[0], `"engine_hit_tokens":12`) || !strings.Contains(lines[1], `"engine_hit_tokens":4`) || !strings.Contains(lines[2], `"hit_tokens":0`) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// The LMCache MP flags do nothing for an SGLang or vLLM prompt: 'lookup
// --engine vllm --admin A --coordinator C --tier l1' answered the store's
// hit with exit 0, and 'keys --engine sglang --server S' printed the
// engine's keys.
func TestEngineCommandsRefuseMPFlags(t *testing.T) {
	m := startMaster(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lookup", "--engine", "vllm", "--admin", m.AdminURL(), "--coordinator", "http://127.0.0.1:1"}, "--coordinator is an LMCache MP-mode flag and this is --engine vllm"},
		{[]string{"lookup", "--engine", "vllm", "--admin", m.AdminURL(), "--tier", "l1"}, "--tier is an LMCache MP-mode flag"},
		{[]string{"lookup", "--engine", "sglang", "--master", m.Addr(), "--by-keys"}, "--by-keys is an LMCache MP-mode flag"},
		{[]string{"lookup", "--engine", "sglang", "--master", m.Addr(), "--instance", "server-1"}, "--instance is an LMCache MP-mode flag"},
		{[]string{"keys", "--engine", "sglang", "--server", "http://127.0.0.1:1"}, "--server is an LMCache MP-mode flag and this is --engine sglang"},
		{[]string{"doctor", "--engine", "vllm", "--admin", m.AdminURL(), "--coordinator", "http://127.0.0.1:1"}, "--coordinator is an LMCache MP-mode flag"},
	} {
		r := runLMC(t, runOpts{}, append(tc.args, "--model", model, "--tokens", seqTokens(64))...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
