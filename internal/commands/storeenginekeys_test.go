package commands

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// engineObjects computes every rank's objects of a prompt of n tokens
// (0, 1, …) as SGLang (page 16, TP 2, --model Qwen/Qwen3-8B, S4) or vLLM
// (block 16, TP 2 of 8 KV heads, --model model, seed 0) writes them, per
// page or block.
func engineObjects(t *testing.T, engine string, n int) [][]string {
	t.Helper()
	tok := make([]uint32, n)
	for i := range tok {
		tok[i] = uint32(i)
	}
	var out [][]string
	switch engine {
	case "sglang":
		p := sglangkey.DefaultParams()
		p.PageSize, p.TPSize, p.ModelName = 16, 2, "Qwen/Qwen3-8B"
		e, err := sglangkey.NewEngine(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Each(tok, rankhit.AllRanks, func(c sglangkey.Chunk) error { out = append(out, slices.Clone(c.Keys)); return nil }); err != nil {
			t.Fatal(err)
		}
	default:
		p := vllmkey.DefaultParams()
		p.Model, p.TPSize, p.NumKVHeads, p.HashSeed = model, 2, 8, vllmkey.Str("0")
		e, err := vllmkey.NewEngine(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Each(tok, rankhit.AllRanks, func(c vllmkey.Chunk) error { out = append(out, slices.Clone(c.Keys)); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func flatten(kss [][]string) []string {
	var out []string
	for _, ks := range kss {
		out = append(out, ks...)
	}
	return out
}

// A store holding LMCache's, SGLang's and vLLM's keys of one prompt, and an
// SGLang rank that lacks a page: the summary groups each engine's keys with
// its layout, prefix or model, eras and per-rank counts; ls --model finds
// each engine's keys of the model, and names their ranks (an SGLang K
// object alone is "?N": TP rank N of MHA or PP stage N of MLA, which only
// its V sibling decides).
func TestStoreSummaryEngineKeys(t *testing.T) {
	s := opsMaster(t)
	sg := engineObjects(t, "sglang", 48) // 3 pages × (K, V) × 2 ranks
	vl := engineObjects(t, "vllm", 64)   // 4 blocks × 2 ranks
	lm := keysFor(t, 512, "builtin")     // 2 chunks
	stored := append(append(append(flatten(sg), flatten(vl)...), lm...), "sglang_mooncake_store_warmup_key"+strings.Repeat("0", 32), "zz-other")
	// rank 1 lacks page 2 (its K and V objects are the last two)
	drop := sg[2][2:]
	stored = slices.DeleteFunc(stored, func(k string) bool { return slices.Contains(drop, k) })
	if err := s.Populate(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "store", "summary", "--admin", s.AdminURL(), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	v := decodeJSON[summaryJSON](t, r.stdout)
	if len(v.Schemas) != 4 || v.Unrecognised.Keys != 1 {
		t.Fatalf("groups: %s", r.stdout)
	}
	byEngine := map[string]int{}
	for i, g := range v.Schemas {
		byEngine[g.Engine+"/"+g.Layout] = i
		if g.Workers == nil || (g.Engine != "lmcache" && (len(g.Workers) != 0 || g.WorldSize != 0)) {
			t.Errorf("group %+v", g)
		}
	}
	g := v.Schemas[byEngine["sglang/mha"]]
	if g.Keys != 10 || g.Format != "hicache" || g.Prefix != "Qwen-Qwen3-8B" || g.Model != "" || g.HashBytes != 32 || !slices.Contains(g.KeySchemas, "S4") ||
		!slices.Equal(g.Ranks, []rankKeysView{{"tp0", 6}, {"tp1", 4}}) || !strings.HasPrefix(g.Writer, "SGLang HiCache (") {
		t.Errorf("sglang group %+v", g)
	}
	g = v.Schemas[byEngine["vllm/kv"]]
	if g.Keys != 8 || g.Format != "store-connector" || g.Model != "Llama-3.1-8B-Instruct" || g.HashBytes != 32 || !slices.Contains(g.KeySchemas, "V3") || !slices.Contains(g.Algorithms, "sha256") ||
		!slices.Equal(g.Ranks, []rankKeysView{{"tp_rank:0@pcp0@dcp0@pp_rank:0", 4}, {"tp_rank:1@pcp0@dcp0@pp_rank:0", 4}}) {
		t.Errorf("vllm group %+v", g)
	}
	if g := v.Schemas[byEngine["sglang/warmup"]]; g.Keys != 1 || g.Writer != "SGLang HiCache (warm-up object)" {
		t.Errorf("warm-up group %+v", g)
	}
	if g := v.Schemas[byEngine["lmcache/"]]; g.Keys != 2 || g.Model != model || len(g.Workers) != 1 || g.Ranks != nil {
		t.Errorf("lmcache group %+v", g)
	}

	r = runLMC(t, runOpts{tty: true}, "store", "summary", "--admin", s.AdminURL())
	for _, want := range []string{"RANK:KEYS", "hicache          mha     S1,S2,S3,S4", "prefix Qwen-Qwen3-8B", "tp0:6 tp1:4", "Llama-3.1-8B-Instruct", "warmup"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}

	ls := func(args ...string) []string {
		t.Helper()
		r := runLMC(t, runOpts{}, append([]string{"store", "ls", "--admin", s.AdminURL(), "--sort"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: %d %s", args, r.code, r.stderr)
		}
		return strings.Fields(r.stdout)
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	wantSG := slices.DeleteFunc(flatten(sg), func(k string) bool { return slices.Contains(drop, k) })
	if got := ls("-o", "plain", "--model", "Qwen/Qwen3-8B"); !slices.Equal(got, sorted(wantSG)) {
		t.Errorf("--model Qwen/Qwen3-8B: %v", got)
	}
	if got := ls("-o", "plain", "--model", model); !slices.Equal(got, sorted(append(flatten(vl), lm...))) {
		t.Errorf("--model %s: %v", model, got)
	}
	r = runLMC(t, runOpts{}, "store", "ls", "--admin", s.AdminURL(), "--sort", "-o", "jsonl", "--model", "Qwen/Qwen3-8B")
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		e := decodeJSON[lsEntry](t, l)
		if e.Engine != "sglang" || e.Format != "hicache" || e.Prefix != "Qwen-Qwen3-8B" || e.Layout != "kv" || e.WorkerID != nil || !slices.Contains([]string{"tp0", "tp1", "?0", "?1"}, e.Rank) || strings.HasSuffix(e.Key, "_v") != strings.HasPrefix(e.Rank, "tp") {
			t.Errorf("entry %s", l)
		}
	}
}

// Hostile rank numbers cannot make a group hold unbounded counters: past
// the bound they are counted under "(other)", and the counts add up.
func TestStoreSummaryEngineRanksBounded(t *testing.T) {
	s := newSummarizer(nil, segmentsView{})
	h := strings.Repeat("ab", 32)
	n := maxGroupRanks + 100
	for i := 0; i < n; i++ {
		s.addKey("p_" + h + "_" + strconv.Itoa(i) + "_0_k")
	}
	v := s.finish()
	if len(v.Schemas) != 1 {
		t.Fatalf("%+v", v.Schemas)
	}
	g := v.Schemas[0]
	var sum int64
	for _, r := range g.Ranks {
		sum += r.Keys
	}
	last := g.Ranks[len(g.Ranks)-1]
	if g.Keys != int64(n) || sum != g.Keys || len(g.Ranks) != maxGroupRanks+1 || last.Rank != otherRanks || last.Keys != 100 || g.Ranks[2].Rank != "tp2_pp0" {
		t.Errorf("%d keys, %d ranks, sum %d, last %+v, third %+v", g.Keys, len(g.Ranks), sum, last, g.Ranks[2])
	}
}
