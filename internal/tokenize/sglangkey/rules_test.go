package sglangkey

import (
	"slices"
	"strings"
	"testing"

	"lmc/internal/tokenize/rankhit"
)

func TestValidateNamesField(t *testing.T) {
	cases := []struct {
		mod  func(*Params)
		want string
	}{
		{func(p *Params) { p.PageSize = 0 }, "page size"},
		{func(p *Params) { p.TPSize = 0 }, "tp size"},
		{func(p *Params) { p.PPSize = -1 }, "pp size"},
		{func(p *Params) { p.TPRank = 1 }, "tp rank"},
		{func(p *Params) { p.PPSize, p.PPRank = 2, 2 }, "pp rank"},
		{func(p *Params) { p.TPSize, p.TPLCMSize = 2, 3 }, "multiple of tp size"},
		{func(p *Params) { p.SplitHeads = true }, "tp lcm size"},
		{func(p *Params) { p.Era, p.TPLCMSize, p.SplitHeads = S1, 2, true }, "S2"},
		{func(p *Params) { p.Era = "S9" }, "S4"},
		{func(p *Params) { p.PrefetchThreshold = -1 }, "prefetch threshold"},
		{func(p *Params) { p.CacheSalt = Str("\xfe") }, "cache salt"},
		{func(p *Params) { p.Hybrid = "swa" }, "hybrid model (swa)"},
	}
	for _, c := range cases {
		p := DefaultParams()
		c.mod(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %q, got %v", c.want, err)
		}
	}
	if DetectHybrid("Qwen/Qwen3-Next-80B-A3B-Instruct") != "mamba" || DetectHybrid("Qwen/Qwen3-8B") != "" {
		t.Error("DetectHybrid")
	}
}

func TestWarnings(t *testing.T) {
	p := DefaultParams()
	p.Era, p.ModelName, p.CacheSalt, p.PPSize = S1, "m", Str("s"), 2
	w := strings.Join(p.Warnings(), "\n")
	for _, want := range []string{"before S4", "served model name is not in S1", "no PP rank"} {
		if !strings.Contains(w, want) {
			t.Errorf("no warning %q in\n%s", want, w)
		}
	}
	p = DefaultParams()
	p.MLA, p.TPSize, p.TPLCMSize, p.SplitHeads = true, 2, 4, true
	if w := strings.Join(p.Warnings(), "\n"); !strings.Contains(w, "MHA models only") {
		t.Errorf("MLA split heads: %s", w)
	}
}

func TestThreshold(t *testing.T) {
	p := DefaultParams()
	if p.Threshold() != 256 || p.EngineHit(255) != 0 || p.EngineHit(256) != 256 {
		t.Errorf("default threshold: %d", p.Threshold())
	}
	p.PageSize, p.PrefetchThreshold = 512, 100
	if p.Threshold() != 512 || p.EngineHit(511) != 0 {
		t.Errorf("threshold raised to the page size: %d", p.Threshold())
	}
}

// Empty strings are present parts: an empty extra_key or cache_salt seeds
// the chain (01 ‖ 8 zero bytes), unlike None.
func TestNamespaceSeedPresence(t *testing.T) {
	none := NamespaceSeed(nil, nil)
	empty := NamespaceSeed(Str(""), nil)
	salt := NamespaceSeed(nil, Str(""))
	if none == empty || empty == salt || none == salt {
		t.Error("None and empty parts must differ")
	}
	p := DefaultParams()
	if p.Seeded() {
		t.Error("seeded without extra key or salt")
	}
	p.CacheSalt = Str("")
	if !p.Seeded() {
		t.Error("an empty salt seeds")
	}
	p.Era = S3
	if p.Seeded() {
		t.Error("S3 never seeds")
	}
}

func TestParseKinds(t *testing.T) {
	h := "cf97adeedb59e05bfd73a2b4c2a8885708c4f4f70c84c64b27120e72ab733b72"
	cases := []struct {
		key    string
		kind   Kind
		object string
		tp, pp int
		prefix string
		hasPfx bool
	}{
		{h + "_0_k", KindMHAOrMLA, "k", 0, -1, "", false},
		{h + "_3_v", KindMHA, "v", 3, -1, "", false},
		{"a_b_" + h + "_3_1_v", KindMHA, "v", 3, 1, "a_b", true},
		{"_" + h + "__k", KindMLA, "k", -1, -1, "", true},
		{h + "_1_conv_0", KindHybrid, "conv_0", 1, -1, "", false},
		{h + "_2_1_swa_k", KindHybrid, "swa_k", 2, 1, "", false},
		{h + "__deepseek_v4_c4", KindHybrid, "deepseek_v4_c4", -1, -1, "", false},
		{h + "_1_draft_k", KindHybrid, "draft_k", 1, -1, "", false},
	}
	for _, c := range cases {
		k, ok := Parse(c.key)
		if !ok || k.Kind != c.kind || k.Object != c.object || k.TP != c.tp || k.PP != c.pp || k.Prefix != c.prefix || k.HasPrefix != c.hasPfx || k.Hash != h {
			t.Errorf("Parse(%q) = %+v, %v", c.key, k, ok)
		}
	}
	if k, ok := Parse("sglang_mooncake_store_warmup_key0123456789abcdef0123456789abcdef"); !ok || k.Kind != KindWarmup {
		t.Errorf("warmup: %+v %v", k, ok)
	}
	for _, bad := range []string{"", h, h + "_", h + "_x_k", h + "_01_k", "x" + h + "_0_k", h[:63] + "_0_k", "vllm@m@1@0@" + h} {
		if k, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted: %+v", bad, k)
		}
	}
}

// Split heads: each TP rank writes f = tp_lcm/tp head slices, k then v.
func TestSplitHeadsLayout(t *testing.T) {
	p := DefaultParams()
	p.Era, p.TPSize, p.PPSize, p.TPLCMSize, p.SplitHeads = S3, 2, 2, 6, true
	e := mustEngine(t, p)
	if got := e.Suffixes(Rank{TP: 1, PP: 1}); !slices.Equal(got, []string{"_3_1_k", "_3_1_v", "_4_1_k", "_4_1_v", "_5_1_k", "_5_1_v"}) {
		t.Errorf("suffixes %q", got)
	}
	l := e.Layout(rankhit.AllRanks)
	if err := l.Validate(); err != nil || l.KeysPerChunk != 24 || len(l.Owners) != 4 {
		t.Errorf("layout %+v %v", l, err)
	}
	// MLA: every TP rank of a stage checks the one object.
	p = DefaultParams()
	p.TPSize, p.PPSize, p.MLA = 4, 2, true
	l = mustEngine(t, p).Layout(rankhit.AllRanks)
	if l.KeysPerChunk != 2 || !slices.Equal(l.Needs[3], []int{0}) || !slices.Equal(l.Needs[4], []int{1}) {
		t.Errorf("MLA layout %+v", l)
	}
}

func TestEagleUnits(t *testing.T) {
	p := DefaultParams()
	p.Eagle, p.PageSize = true, 2
	for n, want := range map[int]int{0: 0, 1: 0, 2: 0, 3: 1, 5: 2} {
		if got := p.NumPages(n); got != want {
			t.Errorf("%d tokens: %d pages, want %d", n, got, want)
		}
	}
	// Page hashes equal PageHash over the interleaved bigrams.
	toks := []uint32{10, 11, 12, 13, 14}
	c, err := mustEngine(t, p).Chunks(toks, rankhit.OneRank)
	if err != nil {
		t.Fatal(err)
	}
	h0 := PageHash(nil, []uint32{10, 11, 11, 12})
	if c[0].Hash != hexs(h0[:]) {
		t.Errorf("bigram page 0: %s", c[0].Hash)
	}
	h1 := PageHash(h0[:], []uint32{12, 13, 13, 14})
	if c[1].Hash != hexs(h1[:]) || c[1].Parent != c[0].Hash {
		t.Errorf("bigram page 1: %s", c[1].Hash)
	}
}

func hexs(b []byte) string {
	const d = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, d[c>>4], d[c&15])
	}
	return string(out)
}
