package vllmkey

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"lmc/internal/tokenize/keytext"
	"lmc/internal/tokenize/lmcachekey"
	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/tokentest"
)

type vecBlock = tokentest.VLLMBlock[Era]

// vecCase is a vLLM or vllm-ascend case of the engine-keys vectors.
type vecCase tokentest.VLLMCase[Era]

func loadCases(t testing.TB) (byEngine map[string][]vecCase, total int) {
	t.Helper()
	cases, err := tokentest.EngineKeyCases()
	if err != nil {
		t.Fatal(err)
	}
	byEngine = map[string][]vecCase{}
	for _, raw := range cases {
		var c vecCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		byEngine[c.Engine] = append(byEngine[c.Engine], c)
	}
	return byEngine, len(cases)
}

func (c *vecCase) params(t *testing.T, era Era) Params {
	p := DefaultParams()
	p.Era = era
	p.BlockSize = c.Params.BlockSize
	var err error
	if p.Hash, err = ParseHashAlgo(c.Params.HashAlgo); err != nil {
		t.Fatal(err)
	}
	// "vllm-none-hash" is the default of PYTHONHASHSEED unset (V3 only);
	// other eras need the seed given.
	if c.Params.Seed != nil && (*c.Params.Seed != DefaultSeed || era != V3) {
		p.HashSeed = c.Params.Seed
	}
	p.Model = c.Params.Model
	p.TPSize, p.PPSize, p.PCPSize, p.DCPSize = max(1, c.Params.TPSize), max(1, c.Params.PPSize), max(1, c.Params.PCPSize), max(1, c.Params.DCPSize)
	p.NumKVHeads, p.MLA = c.Params.NumKVHeads, c.Params.MLA
	p.CachePrefix, p.KVCacheGroup = c.Params.CachePrefix, c.Params.Group
	if c.Params.LoRA != nil {
		p.LoRAName = *c.Params.LoRA
	}
	if c.Params.Salt != nil {
		p.CacheSalt = *c.Params.Salt
	}
	for _, m := range c.Params.MM {
		p.MM = append(p.MM, MMItem{ID: m[0].(string), Offset: int(m[1].(float64)), Length: int(m[2].(float64))})
	}
	return p
}

func parseRank(t *testing.T, label string) Rank {
	var r Rank
	f := strings.Split(label, "_")
	if len(f) != 3 || !strings.HasPrefix(f[0], "tp") || !strings.HasPrefix(f[1], "pp") || !strings.HasPrefix(f[2], "pcp") {
		t.Fatalf("rank label %q", label)
	}
	r.TP, r.PP, r.PCP = keytext.Atoi(f[0][2:]), keytext.Atoi(f[1][2:]), keytext.Atoi(f[2][3:])
	return r
}

func mustEngine(t testing.TB, p Params) *Engine {
	t.Helper()
	e, err := NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestVectors checks every vLLM connector case: NONE_HASH, each format's
// block hashes, extra keys and every rank's key (one rank at a time and all
// ranks deduplicated), the lookup namespaces and keys of both rule
// generations, the recogniser on every key, and every hit scenario.
func TestVectors(t *testing.T) {
	byEngine, total := loadCases(t)
	cases := byEngine["vllm-mooncake-store-connector"]
	if total != 33 || len(cases) != 14 {
		t.Fatalf("vectors: %d cases, %d vLLM; the spec lists 33 and 14", total, len(cases))
	}
	var nKeys, nBlocks, nHits int
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			if len(c.Tokens) != c.NumTokens {
				t.Fatalf("%d tokens, num_tokens %d", len(c.Tokens), c.NumTokens)
			}
			if len(c.Formats) != 3 {
				t.Fatalf("%d formats", len(c.Formats))
			}
			for era, blocks := range c.Formats {
				p := c.params(t, era)
				e := mustEngine(t, p)
				if nh, _ := e.NoneHash(); nh != c.NoneHash {
					t.Fatalf("%s: NONE_HASH %s, want %s", era, nh, c.NoneHash)
				}
				if p.ModelName() != c.Params.ModelInKey {
					t.Errorf("model in key %q, want %q", p.ModelName(), c.Params.ModelInKey)
				}
				if p.NumBlocks(len(c.Tokens)) != len(blocks) {
					t.Fatalf("%s: %d blocks, want %d", era, p.NumBlocks(len(c.Tokens)), len(blocks))
				}
				labels := map[string]bool{}
				for _, b := range blocks {
					for l := range b.ByRank {
						labels[l] = true
					}
				}
				for l := range labels {
					r := parseRank(t, l)
					q := p
					q.TPRank, q.PPRank, q.PCPRank = r.TP, r.PP, r.PCP
					chunks, err := mustEngine(t, q).Chunks(c.Tokens, rankhit.OneRank)
					if err != nil {
						t.Fatal(err)
					}
					for i, b := range blocks {
						ch := chunks[i]
						if ch.Index != b.Index || ch.Start != b.Start || ch.End != b.End || ch.Hash != b.Hash || ch.Extra.Repr() != b.ExtraKeys {
							t.Errorf("%s %s block %d: got %d [%d,%d) %s %s, want %d [%d,%d) %s %s", era, l, i, ch.Index, ch.Start, ch.End, ch.Hash, ch.Extra.Repr(), b.Index, b.Start, b.End, b.Hash, b.ExtraKeys)
						}
						if len(ch.Keys) != 1 || ch.Keys[0] != b.ByRank[l] {
							t.Errorf("%s %s block %d: keys %q, want %q", era, l, i, ch.Keys, b.ByRank[l])
						}
						nKeys++
					}
				}
				if len(blocks) > 0 && len(labels) != p.TPSize*p.PPSize*p.PCPSize {
					t.Errorf("%s: %d rank labels, want %d", era, len(labels), p.TPSize*p.PPSize*p.PCPSize)
				}
				all, err := e.Chunks(c.Tokens, rankhit.AllRanks)
				if err != nil {
					t.Fatal(err)
				}
				for i, b := range blocks {
					var want []string
					for _, r := range e.Ranks() {
						if k := b.ByRank[r.String()]; !slices.Contains(want, k) {
							want = append(want, k)
						}
					}
					if !slices.Equal(all[i].Keys, want) {
						t.Errorf("%s block %d all ranks:\n got %q\nwant %q", era, i, all[i].Keys, want)
					}
					wantParent := c.NoneHash
					if i > 0 {
						wantParent = blocks[i-1].Hash
					}
					if all[i].Parent != wantParent {
						t.Errorf("%s block %d parent %s, want %s", era, i, all[i].Parent, wantParent)
					}
					for _, k := range want {
						checkParse(t, &p, k, b.Hash)
					}
					nBlocks++
				}
			}
			// Lookup keys and namespaces of both generations.
			cur := mustEngine(t, c.params(t, V3))
			var ns []string
			for _, n := range cur.LookupNamespaces() {
				ns = append(ns, n.String())
			}
			if !slices.Equal(ns, c.LookupNS) {
				t.Errorf("lookup namespaces %q, want %q", ns, c.LookupNS)
			}
			pr := mustEngine(t, c.params(t, V1))
			for _, g := range []struct {
				e    *Engine
				want [][]string
			}{{cur, c.LookupCur}, {pr, c.LookupPR}} {
				if g.want == nil {
					continue
				}
				got, err := g.e.Chunks(c.Tokens, rankhit.Lookup)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(g.want) {
					t.Fatalf("%s lookup: %d blocks, want %d", g.e.Rules(), len(got), len(g.want))
				}
				for i := range got {
					if !slices.Equal(got[i].Keys, g.want[i]) {
						t.Errorf("%s lookup block %d:\n got %q\nwant %q", g.e.Rules(), i, got[i].Keys, g.want[i])
					}
				}
			}
			for _, h := range c.HitScenarios {
				for _, g := range []struct {
					e       *Engine
					missing []string
					want    int
				}{{cur, h.MissingCur, h.Current}, {pr, h.MissingPR, h.PR40900}} {
					hit := lookupHit(t, g.e, c.Tokens, g.missing)
					if hit.Prefix != h.Prefix || hit.Engine != g.want {
						t.Errorf("%s (%s): prefix %d engine %d, want %d and %d", h.Description, g.e.Rules(), hit.Prefix, hit.Engine, h.Prefix, g.want)
					}
					nHits++
				}
			}
		})
	}
	t.Logf("%d vLLM cases: %d blocks (V1-V3), %d per-rank keys, %d hit checks", len(cases), nBlocks, nKeys, nHits)
}

func lookupHit(t *testing.T, e *Engine, tokens []uint32, missing []string) Hit {
	t.Helper()
	l := e.Layout(rankhit.Lookup)
	tr := tokentest.TrackAbsent(t, &l, missing, func(add func([]string)) error {
		return e.Each(tokens, rankhit.Lookup, func(c Chunk) error { add(c.Keys); return nil })
	})
	return e.Hit(len(tokens), &l, tr)
}

func checkParse(t *testing.T, p *Params, key, hash string) {
	t.Helper()
	k, ok := Parse(key)
	if !ok {
		t.Errorf("Parse(%q) failed", key)
		return
	}
	if k.Hash != hash || k.Model != p.ModelName() || !slices.Contains(k.Eras, p.era()) || k.HashBytes != p.Hash.DigestLen() {
		t.Errorf("Parse(%q) = %+v", key, k)
	}
	if p.era() == V3 && k.CachePrefix != p.CachePrefix {
		t.Errorf("Parse(%q): cache prefix %q", key, k.CachePrefix)
	}
}

// TestVectorsAscend checks vllm-ascend's AscendStore case (formats A1-A3 on
// vLLM block hashes) and its 2025-09 Mooncake store case (A0: LMCache's
// v0.3.2 chain, which lmcachekey computes), and the removed V0 connector's
// keys (recognised only).
func TestVectorsAscend(t *testing.T) {
	byEngine, _ := loadCases(t)
	asc := byEngine["vllm-ascend-ascendstore"]
	a0 := byEngine["vllm-ascend-mooncake-store-2025-09"]
	v0 := byEngine["vllm-v0-mooncake-store-connector"]
	if len(asc) != 1 || len(a0) != 1 || len(v0) != 1 {
		t.Fatalf("ascend %d, A0 %d, V0 %d cases", len(asc), len(a0), len(v0))
	}
	n := 0
	for _, c := range asc {
		for _, era := range []Era{A1, A2, A3} {
			p := c.params(t, era)
			p.TPRank, p.PPRank = c.Params.TPRank, c.Params.PPRank
			chunks, err := mustEngine(t, p).Chunks(c.Tokens, rankhit.OneRank)
			if err != nil {
				t.Fatal(err)
			}
			if len(chunks) != len(c.Blocks) {
				t.Fatalf("%s: %d blocks, want %d", era, len(chunks), len(c.Blocks))
			}
			for i, b := range c.Blocks {
				if chunks[i].Hash != b.Hash || chunks[i].Keys[0] != b.Keys[era] || chunks[i].Extra.Repr() != b.ExtraKeys {
					t.Errorf("%s block %d: %s %s, want %s %s", era, i, chunks[i].Hash, chunks[i].Keys[0], b.Hash, b.Keys[era])
				}
				if k, ok := Parse(b.Keys[era]); !ok || !slices.Contains(k.Eras, era) || k.TPRank != c.Params.HeadOrTP || k.Hash != b.Hash {
					t.Errorf("Parse(%q) = %+v, %v", b.Keys[era], k, ok)
				}
				n++
			}
		}
	}
	for _, c := range a0 {
		lp := lmcachekey.DefaultParams()
		lp.Schema = lmcachekey.SchemaV032
		lp.Model, lp.WorldSize, lp.WorkerID = c.Params.Model, c.Params.WorldSize, c.Params.WorkerID
		lp.ChunkSize, lp.SaveUnfullChunk = c.Params.BlockSize, true
		e, err := lmcachekey.NewEngine(lp)
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := e.Chunks(c.Tokens)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) != len(c.Chunks) {
			t.Fatalf("A0: %d chunks, want %d", len(chunks), len(c.Chunks))
		}
		for i, w := range c.Chunks {
			key := strings.TrimPrefix(chunks[i].Key, "vllm@")
			if chunks[i].Hash.Hex() != w.Hash || key != w.Key || chunks[i].Start != w.Start || chunks[i].End != w.End {
				t.Errorf("A0 chunk %d: %s %s, want %s %s", i, chunks[i].Hash.Hex(), key, w.Hash, w.Key)
			}
			if k, ok := Parse(w.Key); !ok || !slices.Equal(k.Eras, []Era{A0}) || k.WorldSize != 2 || k.Rank != 1 || k.Model != c.Params.Model {
				t.Errorf("Parse(%q) = %+v, %v", w.Key, k, ok)
			}
			n++
		}
	}
	for _, c := range v0 {
		for tp, keys := range c.KeysByTP {
			for _, key := range []string{keys.KV, keys.Hidden} {
				k, ok := Parse(key)
				if !ok || !slices.Equal(k.Eras, []Era{V0}) || k.Hash != keys.PrefixInt || k.TPRank != keytext.Atoi(tp) || k.Hidden != (key == keys.Hidden) {
					t.Errorf("Parse(%q) = %+v, %v", key, k, ok)
				}
				n++
			}
		}
	}
	t.Logf("vllm-ascend and V0: %d keys", n)
}

var _ = hex.EncodeToString
