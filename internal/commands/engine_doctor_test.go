package commands

import (
	"encoding/json"
	"testing"

	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

func seqFrom(start, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(start + i)
	}
	return out
}

// engineKeysOf is every rank's keys of tokens, page by page, minus the
// pages drop says.
func sglKeysOf(t *testing.T, p sglangkey.Params, tokens []uint32, drop func(page int) bool) []string {
	t.Helper()
	e, err := sglangkey.NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := e.Each(tokens, rankhit.AllRanks, func(c sglangkey.Chunk) error {
		if drop == nil || !drop(c.Index) {
			keys = append(keys, c.Keys...)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func vllmKeysOf(t *testing.T, p vllmkey.Params, tokens []uint32, drop func(block int) bool) []string {
	t.Helper()
	e, err := vllmkey.NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := e.Each(tokens, rankhit.AllRanks, func(c vllmkey.Chunk) error {
		if drop == nil || !drop(c.Index) {
			keys = append(keys, c.Keys...)
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
	tokens := seqFrom(100, 64)
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
