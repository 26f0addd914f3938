package commands

import (
	"encoding/json"
	"strings"
	"testing"

	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// sglKeysOf is every rank's keys of tokens, page by page, minus the
// pages drop says.
func sglKeysOf(t *testing.T, p sglangkey.Params, tokens []uint32, drop func(page int) bool) []string {
	t.Helper()
	e, err := sglangkey.NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	return keysOfEach(t, e.Each, tokens, drop, func(c sglangkey.Chunk) (int, []string) { return c.Index, c.Keys })
}

// vllmKeysOf is sglKeysOf for vLLM's blocks.
func vllmKeysOf(t *testing.T, p vllmkey.Params, tokens []uint32, drop func(block int) bool) []string {
	t.Helper()
	e, err := vllmkey.NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	return keysOfEach(t, e.Each, tokens, drop, func(c vllmkey.Chunk) (int, []string) { return c.Index, c.Keys })
}

// keysOfEach gathers the keys an engine's Each gives for every rank,
// minus the chunks drop says (nil: none).
func keysOfEach[C any](t *testing.T, each func([]uint32, rankhit.Select, func(C) error) error, tokens []uint32, drop func(int) bool, chunk func(C) (int, []string)) []string {
	t.Helper()
	var keys []string
	if err := each(tokens, rankhit.AllRanks, func(c C) error {
		if i, k := chunk(c); drop == nil || !drop(i) {
			keys = append(keys, k...)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

type engineDoctorJSON struct {
	Outcome  string `json:"outcome"`
	Summary  string `json:"summary"`
	Engine   string `json:"engine"`
	Baseline struct {
		HitTokens int `json:"hit_tokens"`
		RankHits  []struct {
			Rank      string `json:"rank"`
			HitTokens int    `json:"hit_tokens"`
		} `json:"rank_hits"`
		Missing []struct{ Rank, Chunks string } `json:"missing"`
	} `json:"baseline"`
	Findings []struct {
		Kind     string `json:"kind"`
		Summary  string `json:"summary"`
		Flags    string `json:"flags"`
		Evidence *struct {
			HitTokens       int `json:"hit_tokens"`
			EngineHitTokens int `json:"engine_hit_tokens"`
		} `json:"evidence"`
	} `json:"findings"`
	Search struct {
		Probes, Variants int
		FromListing      bool `json:"from_listing"`
	} `json:"search"`
	Notes []string `json:"notes"`
	Store *struct {
		Foreign      int `json:"foreign_keys"`
		EngineGroups []struct {
			Engine     string         `json:"engine"`
			Writer     string         `json:"writer"`
			Prefix     string         `json:"prefix"`
			Model      string         `json:"model"`
			Layout     string         `json:"layout"`
			TPRanks    []int          `json:"tp_ranks"`
			PPRanks    []int          `json:"pp_ranks"`
			RankKeys   map[string]int `json:"rank_keys"`
			KeySchemas []string       `json:"key_schemas"`
			Keys       int            `json:"keys"`
		} `json:"engine_groups"`
	} `json:"store"`
}

func runEngineDoctorJSON(t *testing.T, tokens []uint32, args ...string) (engineDoctorJSON, result) {
	t.Helper()
	r := runLMC(t, runOpts{stdin: tokensJSON(tokens)}, append(append([]string{"doctor"}, args...), "-o", "json", "-")...)
	var v engineDoctorJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	return v, r
}

func TestEngineDoctorFindsVLLMHashing(t *testing.T) {
	s := startMaster(t)
	p := vllmkey.DefaultParams()
	p.Model, p.Hash, p.HashSeed, p.TPSize, p.NumKVHeads = model, vllmkey.SHA256CBOR, vllmkey.Str("0"), 2, 8
	tokens := seqU32(100, 64)
	if err := s.Populate(t.Context(), vllmKeysOf(t, p, tokens, func(b int) bool { return b == 2 })); err != nil {
		t.Fatal(err)
	}
	for _, backend := range [][]string{{"--admin", s.AdminURL()}, {"--admin", s.AdminURL(), "--sample", "0"}, {"--master", s.Addr()}} {
		v, r := runEngineDoctorJSON(t, tokens, append([]string{"--engine", "vllm", "--model", model}, backend...)...)
		if r.code != 0 || v.Outcome != "cause-found" || len(v.Findings) == 0 {
			t.Fatalf("%v: exit %d %+v %s", backend, r.code, v, r.stderr)
		}
		f := v.Findings[0]
		if f.Kind != "config-mismatch" || f.Flags != "--hash sha256_cbor --hash-seed 0" || f.Evidence == nil || f.Evidence.HitTokens != 32 {
			t.Fatalf("%v: %+v", backend, f)
		}
	}
}

func TestEngineDoctorSGLang(t *testing.T) {
	s := startMaster(t)
	p := sglangkey.DefaultParams()
	p.PageSize, p.TPSize, p.ModelName = 16, 2, "Qwen/Qwen3-8B"
	tokens := seqU32(100, 64)
	// rank tp1 lacks page 2; page 3 is not stored at all
	keys := sglKeysOf(t, p, tokens, func(pg int) bool { return pg == 3 })
	var put []string
	for _, k := range keys {
		if !strings.HasSuffix(k, "_1_k") || !strings.Contains(k, sglPageHash(t, p, tokens, 2)) {
			put = append(put, k)
		}
	}
	if err := s.Populate(t.Context(), put); err != nil {
		t.Fatal(err)
	}
	// the configured settings match: the holes are named per rank
	v, r := runEngineDoctorJSON(t, tokens, "--engine", "sglang", "--page-size", "16", "--tp-size", "2", "--model", "Qwen/Qwen3-8B", "--admin", s.AdminURL())
	if r.code != 0 || v.Outcome != "cause-found" || v.Findings[0].Kind != "missing-ranks" || v.Baseline.HitTokens != 32 {
		t.Fatalf("exit %d: %+v", r.code, v)
	}
	if len(v.Baseline.Missing) != 2 || v.Baseline.Missing[0].Chunks != "page 3" || v.Baseline.Missing[1].Rank != "tp1_pp0" || v.Baseline.Missing[1].Chunks != "pages 2-3" {
		t.Fatalf("missing %+v", v.Baseline.Missing)
	}
	if !strings.Contains(strings.Join(v.Notes, "\n"), "below prefetch_threshold 256") {
		t.Errorf("notes %q", v.Notes)
	}
	// page size and served-model-name form wrong: the listing answers
	v, r = runEngineDoctorJSON(t, tokens, "--engine", "sglang", "--tp-size", "2", "--admin", s.AdminURL())
	if r.code != 0 || v.Outcome != "cause-found" || v.Findings[0].Flags != "--model Qwen-Qwen3-8B --page-size 16" || !v.Search.FromListing {
		t.Fatalf("exit %d: %+v", r.code, v)
	}
	g := v.Store.EngineGroups
	if len(g) != 1 || g[0].Engine != "sglang" || g[0].Prefix != "Qwen-Qwen3-8B" || g[0].Layout != "mha" || len(g[0].TPRanks) != 2 || g[0].RankKeys["tp0"] != 3 || g[0].RankKeys["tp1"] != 2 {
		t.Fatalf("inventory %+v", g)
	}
	// over the master RPC (no listing): the single settings find the page size
	v, r = runEngineDoctorJSON(t, tokens, "--engine", "sglang", "--tp-size", "2", "--model", "Qwen/Qwen3-8B", "--master", s.Addr())
	if r.code != 0 || v.Findings[0].Flags != "--page-size 16" || v.Findings[0].Evidence == nil || v.Findings[0].Evidence.HitTokens != 32 || v.Search.FromListing {
		t.Fatalf("exit %d: %+v", r.code, v)
	}
	// nothing matches: exit 1
	v, r = runEngineDoctorJSON(t, seqU32(5000, 64), "--engine", "sglang", "--master", s.Addr(), "--max-probes", "3")
	if r.code != 1 || v.Outcome != "no-cause" {
		t.Fatalf("exit %d: %+v", r.code, v)
	}
	// human output
	r = runLMC(t, runOpts{stdin: tokensJSON(tokens)}, "doctor", "--engine", "sglang", "--tp-size", "2", "--admin", s.AdminURL(), "-")
	for _, want := range []string{"CAUSE  the store holds keys with key_prefix", "look up with: --model Qwen-Qwen3-8B --page-size 16", "RANK     HIT TOKENS  HOLES  MISSING", "tp1_pp0  32          0      pages 2-3", "SGLang  prefix \"Qwen-Qwen3-8B\"  mha"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func sglPageHash(t *testing.T, p sglangkey.Params, tokens []uint32, page int) string {
	e, err := sglangkey.NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e.Chunks(tokens, rankhit.OneRank)
	if err != nil {
		t.Fatal(err)
	}
	return cs[page].Hash
}

// LMCache's doctor, finding no LMCache cause, searches the engines whose
// keys the store holds.
func TestDoctorFindsAnotherEnginesKeys(t *testing.T) {
	s := startMaster(t)
	p := vllmkey.DefaultParams()
	p.Model, p.Hash, p.HashSeed, p.BlockSize = model, vllmkey.SHA256CBOR, vllmkey.Str("0"), 32
	tokens := seqU32(1, 300)
	if err := s.Populate(t.Context(), vllmKeysOf(t, p, tokens, nil)); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{stdin: tokensJSON(tokens)}, "doctor", "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "-o", "json", "-")
	var v struct {
		Outcome  string `json:"outcome"`
		Findings []struct {
			Kind           string `json:"kind"`
			Flags          string `json:"flags"`
			Confirmed      bool   `json:"confirmed"`
			EngineEvidence *struct {
				HitTokens       int `json:"hit_tokens"`
				EngineHitTokens int `json:"engine_hit_tokens"`
			} `json:"engine_evidence"`
		} `json:"findings"`
		Store struct {
			Foreign      int `json:"foreign_keys"`
			EngineGroups []struct {
				Writer string `json:"writer"`
			} `json:"engine_groups"`
		} `json:"store"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
		t.Fatalf("exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if v.Outcome != "cause-found" || len(v.Findings) != 1 || v.Findings[0].Kind != "other-engine" || !v.Findings[0].Confirmed {
		t.Fatalf("%+v", v)
	}
	if f := v.Findings[0]; !strings.HasPrefix(f.Flags, "--engine vllm ") || !strings.Contains(f.Flags, "--hash sha256_cbor --hash-seed 0") || !strings.Contains(f.Flags, "--block-size 32") ||
		f.EngineEvidence.HitTokens != 288 || f.EngineEvidence.EngineHitTokens != 288 {
		t.Fatalf("%+v %+v", f, f.EngineEvidence)
	}
	if v.Store.Foreign != 0 || len(v.Store.EngineGroups) != 1 || v.Store.EngineGroups[0].Writer != "vLLM MooncakeStoreConnector (V2/V3)" {
		t.Fatalf("store %+v", v.Store)
	}
}

// The store inventory names every engine's keys of the vectors: SGLang
// (MHA, MLA, PP, tags), vLLM V1/V3, vllm-ascend A0..A3 and the removed V0
// connector; nothing of theirs is foreign.
func TestInventoryNamesEngineKeys(t *testing.T) {
	sgl, vllm, other := loadEngineVectors(t)
	var keys []string
	for _, c := range sgl {
		for _, e := range c.Eras {
			for _, pg := range e.Pages {
				for _, ks := range pg.Keys {
					keys = append(keys, ks...)
				}
			}
		}
	}
	for _, c := range append(vllm, other...) {
		for _, bs := range c.Formats {
			for _, b := range bs {
				for _, k := range b.ByRank {
					keys = append(keys, k)
				}
			}
		}
		for _, b := range c.Blocks {
			for _, k := range b.Keys {
				keys = append(keys, k)
			}
		}
		for _, ch := range c.Chunks {
			keys = append(keys, ch.Key)
		}
		for _, k := range c.KeysByTP {
			keys = append(keys, k.KV, k.Hidden)
		}
	}
	keys = append(keys, "sglang_mooncake_store_warmup_key0123456789abcdef0123456789abcdef", "something-else")
	s := startMaster(t)
	if err := s.Populate(t.Context(), dedup(keys)); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "doctor", "--admin", s.AdminURL(), "--sample", "100000", "-o", "json")
	var v struct {
		Store struct {
			Complete     bool `json:"complete"`
			Foreign      int  `json:"foreign_keys"`
			EngineGroups []struct {
				Engine, Writer, Layout string
				Keys                   int
			} `json:"engine_groups"`
		} `json:"store"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
		t.Fatalf("exit %d %v %s", r.code, err, r.stderr)
	}
	if !v.Store.Complete || v.Store.Foreign != 1 {
		t.Fatalf("foreign %d (want 1: something-else)", v.Store.Foreign)
	}
	writers := map[string]int{}
	total := 0
	for _, g := range v.Store.EngineGroups {
		writers[g.Writer] += g.Keys
		total += g.Keys
	}
	for _, w := range []string{"SGLang HiCache (S1/S2/S3/S4)", "SGLang HiCache (S2/S3/S4)", "SGLang HiCache (warm-up object)",
		"vLLM MooncakeStoreConnector (V1)", "vLLM MooncakeStoreConnector (V2/V3)", "vllm-ascend store connector (A0)", "vllm-ascend store connector (A1)",
		"vllm-ascend store connector (A2)", "vllm-ascend store connector (A3)", "vLLM v0 MooncakeStoreConnector (removed)"} {
		if writers[w] == 0 {
			t.Errorf("no group written by %s (have %v)", w, writers)
		}
	}
	if total+1 != len(dedup(keys)) {
		t.Errorf("%d engine keys of %d", total, len(dedup(keys))-1)
	}
	// the table names them too
	r = runLMC(t, runOpts{}, "doctor", "--admin", s.AdminURL(), "--sample", "100000")
	if !strings.Contains(r.stdout, "ENGINE  MODEL/PREFIX") || !strings.Contains(r.stdout, "1 key in no format lmc knows (e.g. something-else)") {
		t.Errorf("table:\n%s", r.stdout)
	}
}
