package commands

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"lmc/internal/doctor"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/lmcachekey"
)

// storeKeys renders every rank's keys of seqTokens(n) under the default
// lookup settings changed by mod, with NONE_HASH from seed ("" for 0).
func storeKeys(t *testing.T, n int, seed string, mod func(p *lmcachekey.Params), skip func(rank, chunk int) bool) []string {
	t.Helper()
	p := lmcachekey.DefaultParams()
	p.Model = model
	if mod != nil {
		mod(&p)
	}
	var err error
	if seed != "" {
		if p.NoneHash, err = p.NoneHashFromSeed(seed); err != nil {
			t.Fatal(err)
		}
	}
	tok := make([]uint32, n)
	for i := range tok {
		tok[i] = uint32(i)
	}
	tb, err := doctor.NewRankTable(p, tok)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range tb.Chunks {
		for ri, k := range c.Keys {
			if skip == nil || !skip(tb.Ranks[ri], c.Index) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

type doctorJSON struct {
	Outcome         string `json:"outcome"`
	Summary         string `json:"summary"`
	LookupHitTokens int    `json:"lookup_hit_tokens"`
	Backend         struct {
		Source       string `json:"source"`
		GrantsLeases bool   `json:"grants_leases"`
		Requests     int    `json:"requests"`
	} `json:"backend"`
	Baseline struct {
		Ranks     []int `json:"ranks"`
		HitTokens int   `json:"hit_tokens"`
		Chunks    []struct {
			Hit []bool `json:"hit"`
		} `json:"chunks"`
		RankHitTokens []int `json:"rank_hit_tokens"`
	} `json:"baseline"`
	Findings []struct {
		Kind  string `json:"kind"`
		Diffs []struct {
			Setting    string `json:"setting"`
			Configured string `json:"configured"`
			Store      string `json:"store"`
		} `json:"diffs"`
		Flags     string `json:"flags"`
		Confirmed bool   `json:"confirmed"`
		Evidence  *struct {
			HitTokens int `json:"hit_tokens"`
		} `json:"evidence"`
	} `json:"findings"`
	Search struct {
		Probes    int  `json:"probes"`
		MaxProbes int  `json:"max_probes"`
		Variants  int  `json:"variants"`
		Ran       bool `json:"ran"`
	} `json:"search"`
	Store *struct {
		Sampled int `json:"sampled"`
	} `json:"store"`
	Warnings []string `json:"warnings"`
}

func runDoctorJSON(t *testing.T, args ...string) (doctorJSON, result) {
	t.Helper()
	r := runLMC(t, runOpts{}, append([]string{"doctor", "-o", "json"}, args...)...)
	var v doctorJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\nstdout %s\nstderr %s", err, r.stdout, r.stderr)
	}
	return v, r
}

// Each case stores the prompt's keys under one differing setting; doctor,
// asked with the defaults (builtin, seed 0, chunk 256, bfloat16, current
// format, world size 1), names that setting, over the master RPC (whose
// BatchExistKey calls the fake counts) and over the admin API with the
// listing off (so the store answers every probe).
func TestDoctorNamesTheDifferingSetting(t *testing.T) {
	const n = 700
	cases := []struct {
		name  string
		seed  string
		mod   func(p *lmcachekey.Params)
		skip  func(rank, chunk int) bool
		extra []string
		want  string // setting=store, ...
		kind  string
	}{
		{name: "seed", seed: "42", extra: []string{"--seed-candidates", "7,42"}, want: "hash_seed=42"},
		{name: "algorithm", seed: "0", mod: func(p *lmcachekey.Params) { p.Algorithm = lmcachekey.SHA256CBOR }, want: "hash_algorithm=sha256_cbor"},
		{name: "chunk size", seed: "0", mod: func(p *lmcachekey.Params) { p.ChunkSize = 128 }, want: "chunk_size=128"},
		{name: "dtype", seed: "0", mod: func(p *lmcachekey.Params) { p.DType = "half" }, want: "dtype=half"},
		{name: "key format", seed: "0", mod: func(p *lmcachekey.Params) { p.Schema = lmcachekey.Schema202511 }, want: "key_schema=2025-11"},
		{name: "rank missing", seed: "0", mod: func(p *lmcachekey.Params) { p.WorldSize = 2 }, skip: func(rank, _ int) bool { return rank == 1 },
			extra: []string{"--world-size", "2"}, kind: doctor.KindMissingRanks},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startMaster(t)
			if err := s.Populate(context.Background(), storeKeys(t, n, tc.seed, tc.mod, tc.skip)); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--model", model, "--hash-seed", "0", "--tokens", seqTokens(n), "--max-probes", "6"}, tc.extra...)
			for _, backend := range [][]string{{"--master", s.Addr()}, {"--admin", s.AdminURL(), "--sample", "0"}} {
				before := s.Calls()["BatchExistKey"]
				v, r := runDoctorJSON(t, append(args, backend...)...)
				if r.code != 0 || v.Outcome != "cause-found" || len(v.Findings) == 0 {
					t.Fatalf("%v: exit %d, %s: %s\n%s", backend, r.code, v.Outcome, v.Summary, r.stderr)
				}
				f := v.Findings[0]
				if tc.kind != "" {
					if f.Kind != tc.kind {
						t.Errorf("%v: kind %s (%s)", backend, f.Kind, v.Summary)
					}
				} else {
					var got []string
					for _, d := range f.Diffs {
						got = append(got, d.Setting+"="+d.Store)
					}
					if strings.Join(got, ", ") != tc.want || f.Kind != doctor.KindMismatch || !f.Confirmed || f.Evidence == nil || f.Evidence.HitTokens == 0 {
						t.Errorf("%v: diffs %v, kind %s, confirmed %v (%s)", backend, got, f.Kind, f.Confirmed, v.Summary)
					}
				}
				rpcs := s.Calls()["BatchExistKey"] - before
				if v.Search.Probes > 6 || v.Search.MaxProbes != 6 {
					t.Errorf("%v: %d probes, bound %d", backend, v.Search.Probes, v.Search.MaxProbes)
				}
				if backend[0] == "--master" {
					if rpcs != v.Search.Probes || v.Backend.Requests != rpcs || !v.Backend.GrantsLeases {
						t.Errorf("master: %d RPCs, %d probes, %d requests reported", rpcs, v.Search.Probes, v.Backend.Requests)
					}
				} else if rpcs != 0 || v.Backend.GrantsLeases || v.Backend.Requests < v.Search.Probes {
					t.Errorf("admin: %d RPCs, %d requests for %d probes", rpcs, v.Backend.Requests, v.Search.Probes)
				}
			}
		})
	}
}

func TestDoctorHumanOutput(t *testing.T) {
	s := startMaster(t)
	keys := storeKeys(t, 600, "42", func(p *lmcachekey.Params) { p.Algorithm = lmcachekey.SHA256CBOR }, nil)
	if err := s.Populate(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "doctor", "--master", s.Addr(), "--model", model, "--hash-seed", "0", "--seed-candidates", "42", "--tokens", seqTokens(600))
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "CAUSE  the store holds keys hashed with sha256_cbor and PYTHONHASHSEED=42; you looked up builtin with seed 0\n") {
		t.Errorf("first line: %q", strings.SplitN(r.stdout, "\n", 2)[0])
	}
	if !strings.Contains(r.stderr, "grants a read lease") {
		t.Errorf("no lease warning: %q", r.stderr)
	}
	golden(t, "doctor/mismatch-plain", strings.ReplaceAll(r.stdout, s.Addr(), "MASTER"))
}

func TestDoctorRanksGolden(t *testing.T) {
	s := startMaster(t)
	keys := storeKeys(t, 1024, "0", func(p *lmcachekey.Params) { p.WorldSize = 2 }, func(rank, chunk int) bool { return rank == 1 && chunk >= 2 })
	if err := s.Populate(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "doctor", "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "--world-size", "2", "--tokens", seqTokens(1024))
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	golden(t, "doctor/ranks-plain", strings.ReplaceAll(r.stdout, s.AdminURL(), "ADMIN"))
	v, _ := runDoctorJSON(t, "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "--world-size", "2", "--tokens", seqTokens(1024))
	if v.Outcome != "cause-found" || v.LookupHitTokens != 1024 || v.Baseline.HitTokens != 512 ||
		len(v.Baseline.Ranks) != 2 || v.Baseline.RankHitTokens[1] != 512 || v.Baseline.Chunks[2].Hit[1] || !v.Baseline.Chunks[2].Hit[0] {
		t.Errorf("%+v", v)
	}
	if v.Search.Ran || v.Search.Probes != 1 || v.Backend.Requests != 2 || v.Store == nil || v.Store.Sampled != 6 {
		t.Errorf("search %+v backend %+v store %+v", v.Search, v.Backend, v.Store)
	}
	if s.HasLease(keys[0]) {
		t.Error("the admin path granted a lease")
	}
}

func TestDoctorFullHitNoCauseAndStoreOnly(t *testing.T) {
	s := startMaster(t)
	if err := s.Populate(context.Background(), storeKeys(t, 512, "0", nil, nil)); err != nil {
		t.Fatal(err)
	}
	v, r := runDoctorJSON(t, "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(512))
	if r.code != 0 || v.Outcome != "full-hit" || v.Search.Ran {
		t.Fatalf("%d %+v", r.code, v)
	}
	// another prompt: nothing anywhere, exit 1
	other := strings.Replace(seqTokens(512), "0,1,2", "9,9,9", 1)
	before := s.Calls()["BatchExistKey"]
	v, r = runDoctorJSON(t, "--master", s.Addr(), "--model", model, "--hash-seed", "0", "--tokens", other, "--max-probes", "3")
	if r.code != 1 || v.Outcome != "no-cause" || !strings.Contains(v.Summary, "raise --max-probes") {
		t.Fatalf("%d %s %q", r.code, v.Outcome, v.Summary)
	}
	if got := s.Calls()["BatchExistKey"] - before; got > 3 || got != v.Search.Probes {
		t.Errorf("%d RPCs, %d probes", got, v.Search.Probes)
	}
	// no token input: what the store holds
	r = runLMC(t, runOpts{}, "doctor", "--admin", s.AdminURL())
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	golden(t, "doctor/store-plain", r.stdout)
	r = runLMC(t, runOpts{}, "doctor", "--admin", s.AdminURL(), "-o", "json")
	var st struct {
		Outcome string `json:"outcome"`
		Store   struct {
			Complete bool `json:"complete"`
			Groups   []struct {
				Model      string   `json:"model"`
				Format     string   `json:"format"`
				WorldSize  int      `json:"world_size"`
				DType      string   `json:"dtype"`
				HashKind   string   `json:"hash_kind"`
				Algorithms []string `json:"algorithms"`
				Keys       int      `json:"keys"`
			} `json:"groups"`
		} `json:"store"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err, r.stdout)
	}
	if st.Outcome != "store-only" || !st.Store.Complete || len(st.Store.Groups) != 1 {
		t.Fatalf("%+v", st)
	}
	if g := st.Store.Groups[0]; g.Model != model || g.Format != "current" || g.WorldSize != 1 || g.DType != "bfloat16" || g.HashKind != "int" || g.Keys != 2 {
		t.Errorf("%+v", g)
	}
	// no input and no admin: usage
	if r := runLMC(t, runOpts{}, "doctor", "--master", s.Addr(), "--model", model); r.code != 2 {
		t.Errorf("exit %d", r.code)
	}
}

func TestDoctorFindsSeedAndModelFromTheStore(t *testing.T) {
	// no --hash-seed and no --model: the store sample names the model, the
	// search finds the seed (the listing is complete, so it answers).
	s := startMaster(t)
	if err := s.Populate(context.Background(), storeKeys(t, 800, "123", nil, nil)); err != nil {
		t.Fatal(err)
	}
	v, r := runDoctorJSON(t, "--admin", s.AdminURL(), "--tokens", seqTokens(800), "--seed-candidates", "1,123")
	if r.code != 0 || v.Outcome != "cause-found" {
		t.Fatalf("%d %+v %s", r.code, v, r.stderr)
	}
	if d := v.Findings[0].Diffs; len(d) != 1 || d[0].Setting != "hash_seed" || d[0].Store != "123" {
		t.Errorf("%+v", d)
	}
	if len(v.Warnings) < 2 || !strings.Contains(v.Warnings[0], "the only model in the store sample") {
		t.Errorf("warnings %q", v.Warnings)
	}
	// baseline + confirmation; the listing answered the search
	if v.Search.Probes != 2 {
		t.Errorf("%d probes", v.Search.Probes)
	}
}

func TestLookupAllRanks(t *testing.T) {
	s := startMaster(t)
	keys := storeKeys(t, 768, "0", func(p *lmcachekey.Params) { p.WorldSize = 2 }, func(rank, chunk int) bool { return rank == 1 && chunk == 1 })
	if err := s.Populate(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	base := []string{"lookup", "--model", model, "--hash-seed", "0", "--world-size", "2", "--tokens", seqTokens(768), "-o", "json"}
	for _, backend := range [][]string{{"--master", s.Addr()}, {"--admin", s.AdminURL()}} {
		r := runLMC(t, runOpts{}, append(append(base, backend...), "--all-ranks")...)
		if r.code != 0 {
			t.Fatalf("%v: %d %s", backend, r.code, r.stderr)
		}
		var v struct {
			HitTokens     int   `json:"hit_tokens"`
			HitChunks     int   `json:"hit_chunks"`
			RankHitTokens []int `json:"rank_hit_tokens"`
			Chunks        []struct {
				Status string `json:"status"`
				Usable bool   `json:"usable"`
				Ranks  []struct {
					Rank   int    `json:"rank"`
					Key    string `json:"key"`
					Status string `json:"status"`
				} `json:"ranks"`
			} `json:"chunks"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatal(err)
		}
		if v.HitTokens != 256 || v.HitChunks != 1 || len(v.RankHitTokens) != 2 || v.RankHitTokens[0] != 768 || v.RankHitTokens[1] != 256 {
			t.Fatalf("%v: %+v", backend, v)
		}
		c := v.Chunks[1]
		if c.Status != "hit" || c.Usable || len(c.Ranks) != 2 || c.Ranks[0].Status != "hit" || c.Ranks[1].Status != "miss" || !strings.Contains(c.Ranks[1].Key, "@2@1@") {
			t.Errorf("%v: chunk 1 %+v", backend, c)
		}
		if !strings.Contains(r.stderr, "after the first miss") {
			t.Errorf("%v: %q", backend, r.stderr)
		}
		// without --all-ranks: unchanged (rank 0 only)
		r = runLMC(t, runOpts{}, append(base, backend...)...)
		if !strings.Contains(r.stdout, `"hit_tokens": 768`) || strings.Contains(r.stdout, `"ranks"`) {
			t.Errorf("%v: %s", backend, r.stdout)
		}
	}
	r := runLMC(t, runOpts{}, "lookup", "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "--world-size", "2", "--tokens", seqTokens(768), "--all-ranks")
	golden(t, "doctor/lookup-all-ranks-plain", r.stdout)
	r = runLMC(t, runOpts{}, "lookup", "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "--world-size", "2", "--tokens", seqTokens(768), "--all-ranks", "-o", "table")
	golden(t, "doctor/lookup-all-ranks-table", r.stdout)
}

var _ = sandboxmaster.DefaultNode

// With --admin, doctor asks only the admin API, which lists the default
// tenant: 'doctor --admin A --tenant t' (even with --master) diagnosed the
// default tenant's keys with exit 0.
func TestDoctorAdminRefusesTenant(t *testing.T) {
	m := startMaster(t)
	for _, args := range [][]string{
		{"--admin", m.AdminURL(), "--hash-seed", "0"},
		{"--master", m.Addr(), "--admin", m.AdminURL(), "--hash-seed", "0"},
		{"--engine", "vllm", "--admin", m.AdminURL()},
	} {
		r := runLMC(t, runOpts{}, append([]string{"doctor", "--model", model, "--tenant", "t", "--tokens", seqTokens(600)}, args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, `--tenant "t" is a Mooncake master RPC tenant, and doctor with --admin asks only the admin API`) {
			t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
		}
	}
}
