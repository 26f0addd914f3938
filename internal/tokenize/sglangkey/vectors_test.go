package sglangkey

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"lmc/internal/tokenize/keytext"
	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/tokentest"
)

// vecCase is an SGLang case of the engine-keys vectors.
type vecCase tokentest.SGLangCase[Era]

func loadCases(t testing.TB) (sglang []vecCase, total int) {
	t.Helper()
	cases, err := tokentest.EngineKeyCases()
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range cases {
		var c vecCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		if c.Engine == "sglang-hicache-mooncake" {
			sglang = append(sglang, c)
		}
	}
	return sglang, len(cases)
}

func (c *vecCase) params(era Era) Params {
	p := DefaultParams()
	p.Era = era
	p.PageSize = c.Params.PageSize
	p.TPSize, p.PPSize = c.Params.TPSize, c.Params.PPSize
	p.MLA = c.Params.MLA
	if c.Params.ModelName != nil {
		p.ModelName = *c.Params.ModelName
	}
	p.ExtraBackendTag = c.Params.ExtraBackendTag
	p.Eagle = c.Params.Eagle
	p.ExtraKey, p.CacheSalt = c.Params.ExtraKey, c.Params.CacheSalt
	if c.Params.TPLCMSize != nil {
		p.TPLCMSize = *c.Params.TPLCMSize
	}
	p.SplitHeads = c.Params.SplitHeads
	return p
}

func parseRank(t *testing.T, label string) Rank {
	rest, ok := strings.CutPrefix(label, "tp")
	a, b, ok2 := strings.Cut(rest, "_pp")
	if !ok || !ok2 || !keytext.Number(a, 6) || !keytext.Number(b, 6) {
		t.Fatalf("rank label %q", label)
	}
	return Rank{keytext.Atoi(a), keytext.Atoi(b)}
}

// TestVectors checks every SGLang case of the shared vectors: each era's
// page hashes and every rank's object keys (one rank at a time and all
// ranks deduplicated), the key prefix, the S4 namespace seed, the recogniser
// on every key, and every hit scenario.
func TestVectors(t *testing.T) {
	cases, total := loadCases(t)
	if total != 33 || len(cases) != 16 {
		t.Fatalf("vectors: %d cases, %d SGLang; the spec lists 33 and 16", total, len(cases))
	}
	var nKeys, nPages, nHits int
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			if len(c.Tokens) != c.NumTokens {
				t.Fatalf("%d tokens, num_tokens %d", len(c.Tokens), c.NumTokens)
			}
			if len(c.Eras) == 0 {
				t.Fatal("no eras")
			}
			for era, ev := range c.Eras {
				p := c.params(era)
				e, err := NewEngine(p)
				if err != nil {
					t.Fatalf("%s: %v", era, err)
				}
				wantHead := ""
				if ev.KeyPrefix != nil {
					wantHead = *ev.KeyPrefix + "_"
				}
				if e.KeyHead() != wantHead {
					t.Errorf("%s: key head %q, want %q", era, e.KeyHead(), wantHead)
				}
				if c.NamespaceSeed != "" && era == S4 && e.Seed() != c.NamespaceSeed {
					t.Errorf("namespace seed %s, want %s", e.Seed(), c.NamespaceSeed)
				}
				if n := p.NumPages(len(c.Tokens)); n != len(ev.Pages) {
					t.Fatalf("%s: %d pages, want %d", era, n, len(ev.Pages))
				}
				// One rank at a time.
				labels := map[string]bool{}
				for _, pg := range ev.Pages {
					for l := range pg.Keys {
						labels[l] = true
					}
				}
				if len(ev.Pages) > 0 && len(labels) != p.TPSize*p.PPSize {
					t.Fatalf("%s: vectors have %d ranks, want %d", era, len(labels), p.TPSize*p.PPSize)
				}
				for l := range labels {
					r := parseRank(t, l)
					q := p
					q.TPRank, q.PPRank = r.TP, r.PP
					chunks, err := mustEngine(t, q).Chunks(c.Tokens, rankhit.OneRank)
					if err != nil {
						t.Fatal(err)
					}
					for i, pg := range ev.Pages {
						ch := chunks[i]
						if ch.Index != pg.Index || ch.Start != pg.Start || ch.End != pg.End || ch.Hash != pg.Hash {
							t.Errorf("%s %s page %d: got %d [%d,%d) %s, want %d [%d,%d) %s", era, l, i, ch.Index, ch.Start, ch.End, ch.Hash, pg.Index, pg.Start, pg.End, pg.Hash)
						}
						if !slices.Equal(ch.Keys, pg.Keys[l]) {
							t.Errorf("%s %s page %d keys:\n got %q\nwant %q", era, l, i, ch.Keys, pg.Keys[l])
						}
						nKeys += len(ch.Keys)
					}
				}
				// All ranks: deduplicated, rank order (PP outer, TP inner).
				all, err := e.Chunks(c.Tokens, rankhit.AllRanks)
				if err != nil {
					t.Fatal(err)
				}
				for i, pg := range ev.Pages {
					var want []string
					for _, r := range e.Ranks() {
						for _, k := range pg.Keys[r.String()] {
							if !slices.Contains(want, k) {
								want = append(want, k)
							}
						}
					}
					if !slices.Equal(all[i].Keys, want) {
						t.Errorf("%s page %d all ranks:\n got %q\nwant %q", era, i, all[i].Keys, want)
					}
					if i > 0 && all[i].Parent != all[i-1].Hash {
						t.Errorf("page %d parent %s", i, all[i].Parent)
					}
					for _, k := range want {
						checkParse(t, e, k, pg.Hash)
					}
					nPages++
				}
			}
			for _, h := range c.HitScenarios {
				e := mustEngine(t, c.params(h.Era))
				l := e.Layout(rankhit.AllRanks)
				tr := tokentest.TrackAbsent(t, &l, h.Missing, func(add func([]string)) error {
					return e.Each(c.Tokens, rankhit.AllRanks, func(ch Chunk) error { add(ch.Keys); return nil })
				})
				hit := e.Hit(&l, tr)
				for o, owner := range hit.Owners {
					if want, ok := h.PerRank[owner]; !ok || hit.PerRank[o] != want {
						t.Errorf("%s: rank %s hit %d, want %d", h.Description, owner, hit.PerRank[o], want)
					}
				}
				if len(hit.Owners) != len(h.PerRank) || hit.Prefix != h.Min {
					t.Errorf("%s: min %d over %d ranks, want %d over %d", h.Description, hit.Prefix, len(hit.Owners), h.Min, len(h.PerRank))
				}
				wantEngine := h.Min
				if h.Min < max(DefaultPrefetchThreshold, c.Params.PageSize) {
					wantEngine = 0
				}
				if hit.Engine != wantEngine {
					t.Errorf("%s: engine hit %d, want %d (threshold %d)", h.Description, hit.Engine, wantEngine, hit.Threshold)
				}
				nHits++
			}
		})
	}
	t.Logf("%d SGLang cases: %d pages (all eras), %d per-rank keys, %d hit scenarios", len(cases), nPages, nKeys, nHits)
}

func checkParse(t *testing.T, e *Engine, key, hash string) {
	t.Helper()
	k, ok := Parse(key)
	if !ok {
		t.Errorf("Parse(%q) failed", key)
		return
	}
	if k.Hash != hash || k.Head() != e.KeyHead() || !slices.Contains(k.Eras, e.p.Era) {
		t.Errorf("Parse(%q) = %+v (engine head %q era %s)", key, k, e.KeyHead(), e.p.Era)
	}
	if e.p.MLA && k.Kind != KindMLA && k.Kind != KindMHAOrMLA || !e.p.MLA && k.Kind != KindMHA && k.Kind != KindMHAOrMLA {
		t.Errorf("Parse(%q) kind %s, mla %v", key, k.Kind, e.p.MLA)
	}
}

func mustEngine(t testing.TB, p Params) *Engine {
	t.Helper()
	e, err := NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
