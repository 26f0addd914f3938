package doctor

import (
	"context"
	"strings"
	"testing"

	"lmc/internal/tokenize/lmcachekey"
)

const testModel = "meta-llama/Llama-3.1-8B-Instruct"

// store is a counting in-memory Prober.
type store struct {
	keys    map[string]bool
	calls   int
	maxKeys []int // keys per call
}

func newStore() *store { return &store{keys: map[string]bool{}} }

func (s *store) Exist(_ context.Context, keys []string) ([]bool, error) {
	s.calls++
	s.maxKeys = append(s.maxKeys, len(keys))
	out := make([]bool, len(keys))
	for i, k := range keys {
		out[i] = s.keys[k]
	}
	return out, nil
}

func tokens(n int) []uint32 {
	t := make([]uint32, n)
	for i := range t {
		t[i] = uint32(i*7 + 3)
	}
	return t
}

// params is the default configuration the tests look up with: builtin,
// PYTHONHASHSEED=0, chunk 256, current schema, bfloat16, world size 1.
func params(t *testing.T, mod func(p *lmcachekey.Params)) (lmcachekey.Params, string) {
	t.Helper()
	p := lmcachekey.DefaultParams()
	p.Model = testModel
	seed := "0"
	if mod != nil {
		mod(&p)
	}
	return p, seed
}

func withSeed(t *testing.T, p lmcachekey.Params, seed string) Variant {
	t.Helper()
	var err error
	if p.NoneHash, err = p.NoneHashFromSeed(seed); err != nil {
		t.Fatal(err)
	}
	return Configured(p, seed)
}

// put stores every rank's keys of tokens under v.
func (s *store) put(t *testing.T, v Variant, toks []uint32, skip func(rank, chunk int) bool) {
	t.Helper()
	tb, err := NewRankTable(v.Params, toks)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tb.Chunks {
		for ri, k := range c.Keys {
			if skip == nil || !skip(tb.Ranks[ri], c.Index) {
				s.keys[k] = true
			}
		}
	}
}

func diag(t *testing.T, s Prober, cfg Variant, toks []uint32, o Options) *Report {
	t.Helper()
	r, err := Diagnose(context.Background(), s, cfg, toks, o)
	if err != nil {
		t.Fatalf("Diagnose error = %v, want nil", err)
	}
	return r
}

// firstKind is the kind of r's first finding, or "" when it has none.
func firstKind(r *Report) string {
	if len(r.Findings) == 0 {
		return ""
	}
	return r.Findings[0].Kind
}

func settings(f Finding) []string {
	var out []string
	for _, d := range f.Diffs {
		out = append(out, d.Setting+"="+d.Store)
	}
	return out
}

func TestDiagnoseNamesTheDifferingSetting(t *testing.T) {
	t.Parallel()
	toks := tokens(1000) // 3 full chunks of 256, 488 of 512
	cases := []struct {
		name  string
		store func(p *lmcachekey.Params)
		seed  string
		want  []string // settings=store values
		seeds []string
	}{
		{name: "seed", seed: "42", seeds: []string{"42"}, want: []string{"hash_seed=42"}},
		{name: "algorithm", store: func(p *lmcachekey.Params) { p.Algorithm = lmcachekey.SHA256CBOR }, want: []string{"hash_algorithm=sha256_cbor"}},
		{name: "algorithm and seed", store: func(p *lmcachekey.Params) { p.Algorithm = lmcachekey.SHA256CBOR }, seed: "42", seeds: []string{"42"}, want: []string{"hash_algorithm=sha256_cbor", "hash_seed=42"}},
		{name: "chunk size", store: func(p *lmcachekey.Params) { p.ChunkSize = 512 }, want: []string{"chunk_size=512"}},
		{name: "dtype", store: func(p *lmcachekey.Params) { p.DType = "half" }, want: []string{"dtype=half"}},
		{name: "key format", store: func(p *lmcachekey.Params) { p.Schema = lmcachekey.Schema202511 }, want: []string{"key_schema=2025-11"}},
		{name: "world size", store: func(p *lmcachekey.Params) { p.WorldSize = 4 }, want: []string{"world_size=4"}},
		{name: "no vLLM", seed: "none", want: []string{"none_hash=0"}},
		{name: "xxhash and chunk size", store: func(p *lmcachekey.Params) { p.Algorithm = lmcachekey.XXHash; p.ChunkSize = 128 }, want: []string{"hash_algorithm=xxhash", "chunk_size=128"}},
		{name: "dtype and world size", store: func(p *lmcachekey.Params) { p.DType = "half"; p.WorldSize = 2 }, want: []string{"world_size=2", "dtype=half"}},
		{name: "format, algorithm, chunk", store: func(p *lmcachekey.Params) {
			p.Schema, p.Algorithm, p.ChunkSize = lmcachekey.Schema202511, lmcachekey.SHA256CBOR, 512
		}, want: []string{"hash_algorithm=sha256_cbor", "key_schema=2025-11", "chunk_size=512"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cp, cseed := params(t, nil)
			cfg := withSeed(t, cp, cseed)
			sp, _ := params(t, tc.store)
			var sv Variant
			switch tc.seed {
			case "":
				sv = withSeed(t, sp, "0")
			case "none":
				sp.NoneHash = lmcachekey.IntValue(0)
				sv = Configured(sp, "")
			default:
				sv = withSeed(t, sp, tc.seed)
			}
			s := newStore()
			s.put(t, sv, toks, nil)
			o := Options{Seeds: tc.seeds, MaxProbes: 6}
			r := diag(t, s, cfg, toks, o)
			if r.Outcome != CauseFound || len(r.Findings) == 0 {
				t.Fatalf("outcome %s, findings %+v, search %+v; want %s with findings", r.Outcome, r.Findings, r.Search, CauseFound)
			}
			f := r.Findings[0]
			if got := strings.Join(settings(f), " "); got != strings.Join(tc.want, " ") {
				t.Errorf("diffs %q, want %q (%s)", got, strings.Join(tc.want, " "), f.Summary)
			}
			if !f.Confirmed || f.Evidence == nil || !f.Evidence.Full() {
				t.Errorf("finding confirmed %v, evidence %+v; want confirmed by a full hit", f.Confirmed, f.Evidence)
			}
			if s.calls > o.MaxProbes || r.Search.Probes != s.calls {
				t.Errorf("%d calls, %d counted; want the calls counted and at most %d", s.calls, r.Search.Probes, o.MaxProbes)
			}
			for i, n := range s.maxKeys[1 : len(s.maxKeys)-1] {
				if n > DefaultMaxKeysPerProbe {
					t.Errorf("search probe %d sent %d keys, want at most %d", i+1, n, DefaultMaxKeysPerProbe)
				}
			}
			t.Logf("%s: %d probes %v, %d variants: %s", tc.name, s.calls, s.maxKeys, r.Search.Variants, f.Summary)
		})
	}
}

func TestDiagnoseSentence(t *testing.T) {
	t.Parallel()
	toks := tokens(600)
	cp, _ := params(t, nil)
	cfg := withSeed(t, cp, "0")
	sp, _ := params(t, func(p *lmcachekey.Params) { p.Algorithm = lmcachekey.SHA256CBOR })
	s := newStore()
	s.put(t, withSeed(t, sp, "42"), toks, nil)
	r := diag(t, s, cfg, toks, Options{Seeds: []string{"42"}})
	want := "the store holds keys hashed with sha256_cbor and PYTHONHASHSEED=42; you looked up builtin with seed 0"
	if r.Summary != want {
		t.Errorf("summary\n got %q\nwant %q", r.Summary, want)
	}
	if f, want := r.Findings[0].Flags, "--hash sha256_cbor --hash-seed 42"; f != want {
		t.Errorf("flags %q, want %q", f, want)
	}
	if r.Findings[0].Evidence.HitTokens != 512 || r.LookupHitTokens != 0 {
		t.Errorf("hits %d / lookup %d, want 512 / 0", r.Findings[0].Evidence.HitTokens, r.LookupHitTokens)
	}
}

func TestDiagnoseMissingRank(t *testing.T) {
	t.Parallel()
	toks := tokens(1024)
	cp, _ := params(t, func(p *lmcachekey.Params) { p.WorldSize = 2 })
	cfg := withSeed(t, cp, "0")
	s := newStore()
	s.put(t, cfg, toks, func(rank, chunk int) bool { return rank == 1 && chunk >= 2 })
	r := diag(t, s, cfg, toks, Options{})
	if r.Outcome != CauseFound || r.Findings[0].Kind != KindMissingRanks {
		t.Fatalf("outcome %s, findings %+v; want %s, first finding %s", r.Outcome, r.Findings, CauseFound, KindMissingRanks)
	}
	if r.LookupHitTokens != 1024 || r.Baseline.HitTokens != 512 {
		t.Errorf("lookup %d effective %d, want 1024 and 512", r.LookupHitTokens, r.Baseline.HitTokens)
	}
	want := "rank 1 lacks chunks 2-3 of world size 2: a chunk is usable only when every rank has its key, so the effective hit is 512 of 1024 tokens, while LMCache's lookup (rank 0 only) reports 1024 of 1024 tokens"
	if r.Summary != want {
		t.Errorf("summary\n got %q\nwant %q", r.Summary, want)
	}
	if s.calls != 1 || r.Search.Ran {
		t.Errorf("%d calls, search ran %v; want 1 call, no search", s.calls, r.Search.Ran)
	}
	// rank 0 missing entirely: the lookup sees nothing, rank 1 has it all
	s = newStore()
	s.put(t, cfg, toks, func(rank, chunk int) bool { return rank == 0 })
	r = diag(t, s, cfg, toks, Options{})
	if r.Outcome != CauseFound || r.Findings[0].Kind != KindMissingRanks || !strings.HasPrefix(r.Summary, "rank 0 lacks chunks 0-3") {
		t.Fatalf("rank 0 missing: outcome %s, kind %s, summary %q; want %s, %s, a summary starting %q",
			r.Outcome, firstKind(r), r.Summary, CauseFound, KindMissingRanks, "rank 0 lacks chunks 0-3")
	}
}

func TestDiagnoseFullHitAbsentAndTail(t *testing.T) {
	t.Parallel()
	toks := tokens(600)
	cp, _ := params(t, nil)
	cfg := withSeed(t, cp, "0")
	s := newStore()
	s.put(t, cfg, toks, nil)
	r := diag(t, s, cfg, toks, Options{})
	if r.Outcome != FullHit || s.calls != 1 || len(r.Notes) != 0 {
		t.Fatalf("outcome %s after %d calls, notes %q; want %s after 1 call, no notes", r.Outcome, s.calls, r.Notes, FullHit)
	}
	// the store also has the unfull tail
	up := cp
	up.SaveUnfullChunk = true
	s.put(t, withSeed(t, up, "0"), toks, nil)
	r = diag(t, s, cfg, toks, Options{})
	if r.Outcome != FullHit || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "--save-unfull-chunk") {
		t.Fatalf("unfull tail stored: outcome %s, notes %q; want %s, one note naming --save-unfull-chunk", r.Outcome, r.Notes, FullHit)
	}
	// looked up with save_unfull_chunk, stored without
	s = newStore()
	s.put(t, cfg, toks, nil)
	r = diag(t, s, withSeed(t, up, "0"), toks, Options{})
	if r.Outcome != CauseFound || r.Findings[0].Kind != KindUnfullTail {
		t.Fatalf("outcome %s, findings %+v; want %s, first finding %s", r.Outcome, r.Findings, CauseFound, KindUnfullTail)
	}
	// a hole after chunk 0
	s = newStore()
	s.put(t, cfg, tokens(1024), func(_, chunk int) bool { return chunk >= 2 })
	r = diag(t, s, cfg, tokens(1024), Options{})
	if r.Outcome != CauseFound || r.Findings[0].Kind != KindAbsent || !strings.HasPrefix(r.Summary, "chunks 2-3 (from token 512) not in the store") {
		t.Fatalf("a hole: outcome %s, kind %s, summary %q; want %s, %s, a summary starting %q",
			r.Outcome, firstKind(r), r.Summary, CauseFound, KindAbsent, "chunks 2-3 (from token 512) not in the store")
	}
}

func TestDiagnoseNoCauseStaysWithinBound(t *testing.T) {
	t.Parallel()
	toks := tokens(2000)
	cp, _ := params(t, nil)
	for _, o := range []Options{{MaxProbes: 1}, {MaxProbes: 2}, {MaxProbes: 3, MaxKeysPerProbe: 100}, {}, {MaxProbes: 50, Seeds: []string{"1", "2"}}} {
		s := newStore()
		s.keys["unrelated"] = true
		r := diag(t, s, withSeed(t, cp, "0"), toks, o)
		bound := o.MaxProbes
		if bound == 0 {
			bound = DefaultMaxProbes
		}
		keyBound := o.MaxKeysPerProbe
		if keyBound == 0 {
			keyBound = DefaultMaxKeysPerProbe
		}
		if r.Outcome != NoCause || s.calls > bound || r.Search.Probes != s.calls {
			t.Errorf("%+v: %s after %d calls (%d counted); want %s after at most %d, all counted", o, r.Outcome, s.calls, r.Search.Probes, NoCause, bound)
		}
		for i, n := range s.maxKeys[1:] {
			if n > keyBound {
				t.Errorf("%+v: probe %d sent %d keys, want at most %d", o, i+1, n, keyBound)
			}
		}
		if bound > 1 && !r.Search.Ran {
			t.Errorf("%+v: search ran false, want true", o)
		}
		// the default bound covers the whole planned space for the
		// default seeds
		if o.MaxProbes == 0 && !r.Search.Exhausted {
			t.Errorf("default bound: search not exhausted after %d probes", s.calls)
		}
		t.Logf("%+v: %d calls %v, %d variants, %d keys, exhausted %v", o, s.calls, s.maxKeys, r.Search.Variants, r.Search.Keys, r.Search.Exhausted)
	}
}

func TestDiagnoseUnconfirmedWithTwoProbes(t *testing.T) {
	t.Parallel()
	toks := tokens(600)
	cp, _ := params(t, nil)
	sp, _ := params(t, func(p *lmcachekey.Params) { p.ChunkSize = 128 })
	s := newStore()
	s.put(t, withSeed(t, sp, "0"), toks, nil)
	r := diag(t, s, withSeed(t, cp, "0"), toks, Options{MaxProbes: 2})
	if r.Outcome != CauseFound || r.Findings[0].Confirmed || s.calls != 2 {
		t.Fatalf("outcome %s, findings %+v, %d calls; want %s, an unconfirmed first finding, 2 calls", r.Outcome, r.Findings, s.calls, CauseFound)
	}
}

func TestDiagnoseFromCompleteListing(t *testing.T) {
	t.Parallel()
	toks := tokens(700)
	cp, _ := params(t, nil)
	sp, _ := params(t, func(p *lmcachekey.Params) { p.DType = "float"; p.Schema = lmcachekey.Schema202601; p.WorldSize = 2 })
	s := newStore()
	s.put(t, withSeed(t, sp, "7"), toks, nil)
	var listing []string
	for k := range s.keys {
		listing = append(listing, k)
	}
	inv, err := Sample(context.Background(), func(_ context.Context, fn func(string) error) error {
		for _, k := range listing {
			if err := fn(k); err != nil {
				return err
			}
		}
		return nil
	}, 100)
	if err != nil || !inv.Complete {
		t.Fatalf("Sample = %+v, %v; want a complete inventory, nil", inv, err)
	}
	r := diag(t, s, withSeed(t, cp, "0"), toks, Options{Inventory: inv, Seeds: []string{"7"}})
	if r.Outcome != CauseFound || !r.Search.FromListing {
		t.Fatalf("outcome %s, search %+v; want %s from the listing", r.Outcome, r.Search, CauseFound)
	}
	// baseline and confirmation only
	if s.calls != 2 {
		t.Errorf("%d calls, want 2 (baseline and confirmation)", s.calls)
	}
	if got, want := strings.Join(settings(r.Findings[0]), " "), "hash_seed=7 key_schema=2026-01 world_size=2 dtype=float"; got != want {
		t.Errorf("diffs %q, want %q", got, want)
	}
}
