package vllmkey

import (
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"lmc/internal/tokenize/rankhit"
)

func TestEngineHit(t *testing.T) {
	cases := []struct {
		r         Rules
		eagle     bool
		n, b, hit int
		want      int
		why       string
	}{
		{RulesCurrent, false, 48, 16, 48, 32, "full hit re-derived below the last token"},
		{RulesPR40900, false, 48, 16, 48, 47, "full hit minus one token"},
		{RulesCurrent, false, 49, 16, 48, 48, "49 tokens: 3 blocks < 49"},
		{RulesPR40900, false, 49, 16, 48, 48, ""},
		{RulesCurrent, false, 15, 1, 15, 14, ""},
		{RulesCurrent, false, 15, 16, 0, 0, "no full block"},
		{RulesPR40900, false, 15, 16, 0, 0, ""},
		{RulesCurrent, false, 16, 16, 16, 0, "one block, full: usable length 0"},
		{RulesPR40900, false, 16, 16, 16, 15, ""},
		{RulesCurrent, false, 600, 16, 592, 592, ""},
		{RulesCurrent, false, 64, 16, 32, 32, "partial hit unchanged"},
		{RulesCurrent, true, 64, 16, 32, 16, "EAGLE drops the last hit block"},
		{RulesCurrent, true, 48, 16, 48, 32, "EAGLE: 3 blocks -> 2 < 48"},
		{RulesCurrent, true, 49, 16, 48, 32, ""},
		{RulesCurrent, true, 64, 16, 0, 0, ""},
		{RulesCurrent, false, 0, 16, 0, 0, ""},
	}
	for _, c := range cases {
		if got := EngineHit(c.r, c.eagle, c.n, c.b, c.hit); got != c.want {
			t.Errorf("%s eagle=%v n=%d B=%d hit=%d: %d, want %d (%s)", c.r, c.eagle, c.n, c.b, c.hit, got, c.want, c.why)
		}
	}
}

// NONE_HASH values of the spec's table (§2.1).
func TestNoneHash(t *testing.T) {
	want := map[HashAlgo]map[string]string{
		SHA256:     {"0": "1973e238", DefaultSeed: "066b1e8987e027138e98701c46128929378935f9b6cd1549105ae6b4f0d71198"},
		SHA256CBOR: {"0": "4e1195df", DefaultSeed: "9bd96a485ad84efdafb72ee48a1d7a69bcead0f8f0433173941b276b9581eef0"},
		XXHash:     {"0": "6fb31cc3"},
		XXHashCBOR: {"0": "1ebe3657"},
	}
	suffix := map[HashAlgo]string{SHA256: "aa7c", SHA256CBOR: "1c3e", XXHash: "c051", XXHashCBOR: "aeca"}
	for alg, seeds := range want {
		for seed, w := range seeds {
			p := DefaultParams()
			p.Model, p.Hash, p.HashSeed = "m", alg, Str(seed)
			nh, src, err := p.ResolveNoneHash()
			if err != nil {
				t.Fatal(err)
			}
			got := hex.EncodeToString(nh)
			if !strings.HasPrefix(got, w) || seed == "0" && !strings.HasSuffix(got, suffix[alg]) {
				t.Errorf("%s(%q) = %s, want %s…", alg, seed, got, w)
			}
			if !strings.Contains(src, "PYTHONHASHSEED") {
				t.Errorf("source %q", src)
			}
		}
	}
	// Unset seed: the default for sha256* in V3 (with a warning) ...
	p := DefaultParams()
	p.Model = "m"
	nh, _, err := p.ResolveNoneHash()
	if err != nil || hex.EncodeToString(nh) != want[SHA256][DefaultSeed] {
		t.Fatalf("default: %x %v", nh, err)
	}
	if w := p.Warnings(); len(w) == 0 || !strings.Contains(w[0], "51875") {
		t.Errorf("no default-seed warning: %q", w)
	}
	// ... unknowable for xxhash* and for V1/V2 (and A1/A2).
	for _, c := range []struct {
		era  Era
		alg  HashAlgo
		want string
	}{{V3, XXHash, "random per process"}, {V3, XXHashCBOR, "random per process"}, {V1, SHA256, "predates PR #51875"}, {V2, SHA256CBOR, "predates"}, {A2, SHA256, "predates"}} {
		q := DefaultParams()
		q.Model, q.Era, q.Hash = "m", c.era, c.alg
		err := q.Validate()
		var ns *ErrNoSeed
		if !errors.As(err, &ns) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--hash-seed") {
			t.Errorf("%s %s: %v", c.era, c.alg, err)
		}
	}
	// --none-hash wins.
	q := DefaultParams()
	q.Model, q.Era, q.Hash, q.NoneHash = "m", V1, XXHash, "6fb31cc38bba6066183f7f2104b9c051"
	if nh, _, err := q.ResolveNoneHash(); err != nil || hex.EncodeToString(nh) != q.NoneHash {
		t.Errorf("none hash: %x %v", nh, err)
	}
	q.NoneHash = "abc"
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "none hash") {
		t.Errorf("bad none hash: %v", err)
	}
}

func TestSeedCheck(t *testing.T) {
	for _, s := range []string{"0", "4294967295", "random", "", " 12", "+7", "-0", "012", DefaultSeed} {
		if err := ParseSeedCheck(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"4294967296", "-1", "12 ", "x", "0x10", "+", " ", "1.5", "++1"} {
		if err := ParseSeedCheck(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestValidateNamesField(t *testing.T) {
	base := func() Params {
		p := DefaultParams()
		p.Model, p.HashSeed = "meta-llama/Llama-3.1-8B-Instruct", Str("0")
		return p
	}
	cases := []struct {
		mod  func(*Params)
		want string
	}{
		{func(p *Params) { p.Model = "" }, "--model"},
		{func(p *Params) { p.Model = "/" }, "--model"},
		{func(p *Params) { p.BlockSize = 0 }, "block size"},
		{func(p *Params) { p.Hash = "md5" }, "sha256_cbor"},
		{func(p *Params) { p.Era = "V9" }, "V3"},
		{func(p *Params) { p.TPSize = 4 }, "num kv heads"},
		{func(p *Params) { p.TPSize, p.NumKVHeads, p.TPRank = 2, 8, 2 }, "tp rank"},
		{func(p *Params) { p.PPRank = 1 }, "pp rank"},
		{func(p *Params) { p.PCPRank = -1 }, "pcp rank"},
		{func(p *Params) { p.TPSize, p.DCPSize, p.NumKVHeads = 4, 3, 8 }, "dcp size"},
		{func(p *Params) { p.KVCacheGroup = -1 }, "kv cache group"},
		{func(p *Params) { p.MM = []MMItem{{"a", 10, 5}, {"b", 12, 5}} }, "sorted"},
		{func(p *Params) { p.MM = []MMItem{{"", 1, 5}} }, "identifier"},
		{func(p *Params) { p.Hybrid = "mamba" }, "hybrid model (mamba)"},
		{func(p *Params) { p.Rules = "v0" }, "rules"},
		{func(p *Params) { p.HashSeed = Str("seven") }, "PYTHONHASHSEED"},
		{func(p *Params) { p.LoRAName = "\xff" }, "lora name"},
	}
	for _, c := range cases {
		p := base()
		c.mod(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %q, got %v", c.want, err)
		}
	}
	// MLA and DCP (current rules) need no KV heads.
	for _, mod := range []func(*Params){func(p *Params) { p.TPSize, p.MLA = 8, true }, func(p *Params) { p.TPSize, p.DCPSize = 8, 8 }} {
		p := base()
		mod(&p)
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
	}
	if got := DetectHybrid("ai21labs/Jamba-v0.1"); got != "mamba" {
		t.Errorf("DetectHybrid: %q", got)
	}
}

func TestMMKeys(t *testing.T) {
	items := []MMItem{{"a", 0, 16}, {"b", 16, 4}, {"c", 20, 30}, {"d", 60, 1}}
	want := [][]MMKey{
		{{"a", 0}},           // [0,16): a ends exactly at the block end
		{{"b", 0}, {"c", 4}}, // [16,32): b whole, c starts
		{{"c", -12}},         // [32,48): inside c
		{{"c", -28}},         // [48,64) c ends at 50 ...
		nil,                  // [64,80)
	}
	want[3] = append(want[3], MMKey{"d", 12}) // ... and d at 60
	idx := 0
	for i, w := range want {
		var got []MMKey
		got, idx = mmKeysInto(nil, items, i*16, (i+1)*16, idx)
		if !slices.Equal(got, w) {
			t.Errorf("block %d: %v, want %v", i, got, w)
		}
	}
	m, err := ParseMM("img:0a:1b:5:20")
	if err != nil || m != (MMItem{"img:0a:1b", 5, 20}) || m.String() != "img:0a:1b:5:20" {
		t.Errorf("ParseMM: %+v %v", m, err)
	}
	for _, s := range []string{"", "img", "img:5", ":5:20", "img:-1:5", "img:5:0", "img:x:5", "img:5:y"} {
		if _, err := ParseMM(s); err == nil {
			t.Errorf("ParseMM(%q) accepted", s)
		}
	}
	// Items must lie within the prompt.
	p := DefaultParams()
	p.Model, p.MM = "m", []MMItem{{"x", 10, 100}}
	if _, err := mustEngine(t, p).Chunks(make([]uint32, 64), rankhit.OneRank); err == nil || !strings.Contains(err.Error(), "beyond the prompt") {
		t.Errorf("item beyond the prompt: %v", err)
	}
}

// The pickle object-identity trap, against CPython 3.11: the same str
// object three times is one SHORT_BINUNICODE and two BINGETs; equal but
// distinct strings are written out each time.
func TestPickleIdentityTrap(t *testing.T) {
	nh, _ := hex.DecodeString("1973e23848344dc43a988a9b478663803cfffe1243480253f9a3cf004b14aa7c")
	x := ExtraKeys{LoRA: "same", HasLoRA: true, MM: []MMKey{{"same", -3}}, Salt: "same", HasSalt: true}
	p := DefaultParams()
	p.Model, p.HashSeed = "m", Str("0")
	p.LoRAName, p.CacheSalt, p.MM = "same", "same", []MMItem{{"same", 0, 4}}
	if w := strings.Join(p.Warnings(), "\n"); !strings.Contains(w, "memo reference") {
		t.Errorf("no identity-trap warning: %s", w)
	}
	distinct := mustEngine(t, p).Encode(nh, []uint32{1, 2, 3, 4}, &x)
	p.SameStringObjects = true
	shared := mustEngine(t, p).Encode(nh, []uint32{1, 2, 3, 4}, &x)
	if got := hex.EncodeToString(shared); got != "800595450000000000000043201973e23848344dc43a988a9b478663803cfffe1243480253f9a3cf004b14aa7c94284b014b024b034b0474948c0473616d659468024afdffffff86946802879487942e" {
		t.Errorf("shared: %s", got)
	}
	if got := hex.EncodeToString(distinct); got != "8005954f0000000000000043201973e23848344dc43a988a9b478663803cfffe1243480253f9a3cf004b14aa7c94284b014b024b034b0474948c0473616d65948c0473616d65944afdffffff86948c0473616d6594879487942e" {
		t.Errorf("distinct: %s", got)
	}
}

func TestPyRepr(t *testing.T) {
	for in, want := range map[string]string{"it's": `"it's"`, `a"b`: `'a"b'`, `both'"`: `'both\'"'`, "tab\there\x01\x7fé": `'tab\there\x01\x7fé'`, `back\slash`: `'back\\slash'`} {
		if got := PyRepr(in); got != want {
			t.Errorf("PyRepr(%q) = %s, want %s", in, got, want)
		}
	}
}

// Ranks sharing KV heads write one key; the layouts map them.
func TestLayouts(t *testing.T) {
	p := DefaultParams()
	p.Model, p.HashSeed, p.TPSize, p.NumKVHeads, p.PPSize = "m", Str("0"), 4, 2, 2
	e := mustEngine(t, p)
	all := e.Layout(rankhit.AllRanks)
	if err := all.Validate(); err != nil || all.KeysPerChunk != 4 || len(all.Owners) != 8 {
		t.Fatalf("all ranks: %+v %v", all, err)
	}
	if !slices.Equal(all.Needs[1], []int{0}) || !slices.Equal(all.Needs[2], []int{1}) || !slices.Equal(all.Needs[4], []int{2}) {
		t.Errorf("needs %v", all.Needs)
	}
	lk := e.Layout(rankhit.Lookup)
	if lk.KeysPerChunk != 4 || lk.Owners[1] != "tp_rank:0@pcp0@dcp0@pp_rank:1" {
		t.Errorf("lookup %v", lk.Owners)
	}
	if e.RankNamespace(Rank{TP: 3, PP: 1}) != (Namespace{TP: 1, PP: 1}) {
		t.Errorf("namespace of tp3 pp1: %v", e.RankNamespace(Rank{TP: 3, PP: 1}))
	}
}
