// doctor for the engines that write to Mooncake without LMCache: the
// configured SGLang or vLLM lookup on every rank, and, when a prompt's
// first page is missing everywhere, a bounded search of the engine's own
// knobs (page or block size, era, seed and hash, served-model-name form,
// MLA, EAGLE, TP/PP fan-out), guided by what the store's keys say. The
// search machinery is doctor.SearchEngine; this file builds the axes.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/doctor"
	"lmc/internal/mooncake"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// Alternatives the engine search tries.
var (
	searchPageSizes  = []int{1, 16, 32, 64, 128, 256, 8, 4, 2}
	searchBlockSizes = []int{16, 32, 64, 128, 256, 8, 1}
	searchPPSizes    = []int{1, 2, 4}
	maxEngineGroups  = 4
)

// Engine doctor finding kinds (with doctor's own).
const kindOtherEngine = "other-engine"

type engineBackendView struct {
	Source       string `json:"source"`
	Address      string `json:"address"`
	GrantsLeases bool   `json:"grants_leases"`
	Requests     int    `json:"requests"`
}

// engineEvidenceView is one engine lookup of the prompt on every rank.
type engineEvidenceView struct {
	TotalTokens     int               `json:"total_tokens"`
	NumChunks       int               `json:"num_chunks"`
	HitChunks       int               `json:"hit_chunks"`
	HitTokens       int               `json:"hit_tokens"`
	EngineHitTokens int               `json:"engine_hit_tokens"`
	RankHits        []rankHitView     `json:"rank_hits"`
	Missing         []rankMissingView `json:"missing"`
	Unusable        int               `json:"unusable_hits"`
}

// rankMissingView names the pages/blocks a rank lacks.
type rankMissingView struct {
	Rank   string `json:"rank"`
	Chunks string `json:"chunks"`
	Count  int    `json:"count"`
}

type engineFindingView struct {
	Kind       string              `json:"kind"`
	Summary    string              `json:"summary"`
	Diffs      []doctor.Diff       `json:"diffs,omitempty"`
	Flags      string              `json:"flags,omitempty"`
	Params     any                 `json:"params,omitempty"`
	Confirmed  bool                `json:"confirmed"`
	Evidence   *engineEvidenceView `json:"evidence,omitempty"`
	ProbedKeys int                 `json:"probed_keys,omitempty"`
	ProbedHits int                 `json:"probed_hits,omitempty"`
}

type engineDoctorView struct {
	Outcome    doctor.Outcome      `json:"outcome"`
	Summary    string              `json:"summary"`
	Engine     string              `json:"engine"`
	Configured any                 `json:"configured"`
	Backend    engineBackendView   `json:"backend"`
	Baseline   *engineEvidenceView `json:"baseline"`
	Findings   []engineFindingView `json:"findings"`
	Search     doctor.Search       `json:"search"`
	Notes      []string            `json:"notes,omitempty"`
	Store      *doctor.Inventory   `json:"store,omitempty"`
	Warnings   []string            `json:"warnings"`

	best *engineSpec // the best mismatch's configuration
}

// engineDoctorInput is what doctor hands over for --engine sglang|vllm.
type engineDoctorInput struct {
	Keys      KeyFlags
	Engine    EngineFlags
	Input     InputFlags
	Backend   BackendFlags
	Args      []string
	Seeds     []string
	MaxProbes int
	Sample    int
	Prompt    int
	Format    printers.Format
}

// evidence turns an engine lookup into doctor's evidence.
func evidence(v *lookupPromptView, word string) *engineEvidenceView {
	e := &engineEvidenceView{TotalTokens: v.TotalTokens, NumChunks: v.NumChunks, HitChunks: v.HitChunks, HitTokens: v.HitTokens,
		RankHits: v.RankHits, Missing: []rankMissingView{}, Unusable: v.Unusable}
	if v.EngineHitTokens != nil {
		e.EngineHitTokens = *v.EngineHitTokens
	}
	if e.RankHits == nil {
		e.RankHits = []rankHitView{}
	}
	miss := map[string][]int{}
	for _, c := range v.Chunks {
		for _, r := range c.MissingRanks {
			miss[r] = append(miss[r], c.Index)
		}
	}
	for _, r := range v.RankHits {
		if idx := miss[r.Rank]; len(idx) > 0 {
			e.Missing = append(e.Missing, rankMissingView{Rank: r.Rank, Chunks: doctor.RangesText(word, idx), Count: len(idx)})
		}
	}
	return e
}

// inventoryProber answers from a complete /get_all_keys listing.
type inventoryProber struct{ inv *doctor.Inventory }

func (p inventoryProber) Exist(_ context.Context, keys []string) ([]bool, error) {
	out := make([]bool, len(keys))
	for i, k := range keys {
		out[i] = p.inv.Has(k)
	}
	return out, nil
}

// engineCandidate is a search winner as an engine configuration.
type engineCandidate struct {
	spec       *engineSpec
	diffs      []doctor.Diff
	keys, hits int
}

// searchEngineKnobs searches spec's engine's knobs for the prompt.
// With guidedOnly, only the store sample's candidates are tried (for
// another engine than the configured one: its settings are all unknown).
func searchEngineKnobs(ctx context.Context, pr doctor.Prober, spec *engineSpec, tokens []uint32, inv *doctor.Inventory, seeds []string, maxProbes int, seen map[string]bool, guidedOnly bool) ([]engineCandidate, doctor.Search, error) {
	switch {
	case spec.SGLang != nil:
		return runEngineSearch(ctx, pr, sglangSearch(*spec.SGLang, tokens, inv), guidedOnly, maxProbes, seen, func(p *sglangkey.Params) *engineSpec {
			return &engineSpec{Engine: enginekey.SGLang, SGLang: p, Sel: rankhit.Lookup, Sources: map[string]string{}}
		})
	case spec.VLLM != nil:
		return runEngineSearch(ctx, pr, vllmSearch(*spec.VLLM, tokens, inv, seeds), guidedOnly, maxProbes, seen, func(p *vllmkey.Params) *engineSpec {
			return &engineSpec{Engine: enginekey.VLLM, VLLM: p, Sel: rankhit.Lookup, Sources: map[string]string{}}
		})
	}
	return nil, doctor.Search{}, errors.New("searchEngineKnobs: no engine")
}

func runEngineSearch[P any](ctx context.Context, pr doctor.Prober, s *doctor.EngineSearch[P], guidedOnly bool, maxProbes int, seen map[string]bool, wrap func(*P) *engineSpec) ([]engineCandidate, doctor.Search, error) {
	if guidedOnly {
		s.Axes, s.Pairs = nil, false
	}
	res, err := doctor.SearchEngine(ctx, pr, s, maxProbes, doctor.DefaultMaxKeysPerProbe, seen)
	if err != nil {
		return nil, doctor.Search{}, err
	}
	var out []engineCandidate
	for _, w := range res.Winners {
		p := w.Params
		out = append(out, engineCandidate{spec: wrap(&p), diffs: w.Diffs(s), keys: w.Keys, hits: w.Hits})
	}
	return out, res.Search, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func strPtrText(s *string) string {
	if s == nil {
		return ""
	}
	return strconv.Quote(*s)
}

// sglangSearch builds the SGLang search: one rank's (tp0, pp0) objects of
// the first two pages per candidate.
func sglangSearch(c sglangkey.Params, tokens []uint32, inv *doctor.Inventory) *doctor.EngineSearch[sglangkey.Params] {
	c.TPRank, c.PPRank = 0, 0
	type P = sglangkey.Params
	type Ch = doctor.EngineChange[P]
	s := &doctor.EngineSearch[P]{Configured: c, Pairs: true, ConfiguredText: map[string]string{
		"key_schema": string(c.Era), "page_size": itoa(c.PageSize), "model": c.ModelName, "extra_backend_tag": strPtrText(c.ExtraBackendTag),
		"mla": strconv.FormatBool(c.MLA), "eagle": strconv.FormatBool(c.Eagle), "pp_size": itoa(c.PPSize), "tp_size": itoa(c.TPSize),
		"extra_key": strPtrText(c.ExtraKey), "cache_salt": strPtrText(c.CacheSalt), "key_prefix": strconv.Quote(sglangHead(c))}}
	s.LeadingKeys = func(p P) ([]string, error) {
		p.TPRank, p.PPRank = 0, 0
		e, err := sglangkey.NewEngine(p)
		if err != nil {
			return nil, err
		}
		n := min(len(tokens), 2*p.PageSize)
		if p.Eagle {
			n = min(len(tokens), 2*p.PageSize+1)
		}
		var keys []string
		err = e.Each(tokens[:n], rankhit.OneRank, func(ch sglangkey.Chunk) error {
			keys = append(keys, ch.Keys...)
			return nil
		})
		return keys, err
	}
	eras := []sglangkey.Era{sglangkey.S4, sglangkey.S3, sglangkey.S2, sglangkey.S1}
	era := doctor.EngineAxisOf("key_schema", c.Era, eras, func(e sglangkey.Era) string { return string(e) }, func(e sglangkey.Era) string { return "--key-schema " + string(e) }, func(p *P, e sglangkey.Era) { p.Era = e })
	page := doctor.EngineAxisOf("page_size", c.PageSize, searchPageSizes, itoa, func(n int) string { return "--page-size " + itoa(n) }, func(p *P, n int) { p.PageSize = n })
	mla := doctor.EngineAxisOf("mla", c.MLA, []bool{!c.MLA}, strconv.FormatBool, func(b bool) string { return "--mla=" + strconv.FormatBool(b) }, func(p *P, b bool) { p.MLA = b })
	eagle := doctor.EngineAxisOf("eagle", c.Eagle, []bool{!c.Eagle}, strconv.FormatBool, func(b bool) string { return "--eagle=" + strconv.FormatBool(b) }, func(p *P, b bool) { p.Eagle = b })
	pp := doctor.EngineAxisOf("pp_size", c.PPSize, searchPPSizes, itoa, func(n int) string { return "--pp-size " + itoa(n) }, func(p *P, n int) { p.PPSize = n })
	model := doctor.EngineAxis[P]{Name: "model"}
	names := []string{}
	if c.ModelName != "" {
		names = append(names, "")
		if i := strings.LastIndexByte(strings.TrimRight(c.ModelName, "/"), '/'); i >= 0 {
			names = append(names, strings.TrimRight(c.ModelName, "/")[i+1:])
		}
	}
	for _, n := range names {
		model.Changes = append(model.Changes, Ch{Setting: "model", Value: n, Flag: "--model " + orEmptyQuote(n), Apply: func(p *P) { p.ModelName = n }})
	}
	var request doctor.EngineAxis[P]
	if c.ExtraKey != nil || c.CacheSalt != nil {
		request = doctor.EngineAxis[P]{Name: "request", Changes: []Ch{{Setting: "extra_key", Value: "", Flag: "(no --extra-key, no --cache-salt)", Apply: func(p *P) { p.ExtraKey, p.CacheSalt = nil, nil }}}}
	}
	s.Axes = []doctor.EngineAxis[P]{page, era, model, mla, eagle, pp}
	if len(request.Changes) > 0 {
		s.Axes = append(s.Axes, request)
	}
	if inv == nil {
		return s
	}
	n := 0
	for _, g := range inv.EngineGroups {
		if g.Engine != string(enginekey.SGLang) || g.Layout == "warmup" || strings.HasPrefix(g.Layout, "hybrid") || n >= maxEngineGroups {
			continue
		}
		n++
		g := g
		// The key prefix exactly as stored. One key cannot tell the extra
		// backend tag from the served model name; either reproduces it: the
		// model (S3+, "/" already "-") when it has no "_", else the tag.
		s1 := slices.Contains(g.KeySchemas, "S1") && !slices.Contains(g.KeySchemas, "S2")
		asModel := !strings.Contains(g.Prefix, "_") && !s1 && c.Era != sglangkey.S1 && c.Era != sglangkey.S2
		prefix := Ch{Setting: "key_prefix", Value: strconv.Quote(g.Prefix), Flag: "--extra-backend-tag " + orEmptyQuote(g.Prefix), Apply: func(p *P) {
			p.ModelName, p.ExtraBackendTag = "", sglangkey.Str(g.Prefix)
		}}
		if asModel {
			prefix = Ch{Setting: "key_prefix", Value: strconv.Quote(g.Prefix), Flag: "--model " + orEmptyQuote(g.Prefix), Apply: func(p *P) {
				p.ModelName, p.ExtraBackendTag = g.Prefix, nil
			}}
		}
		if !g.HasPrefix() {
			prefix = Ch{Setting: "key_prefix", Value: `""`, Flag: "(no --model, no --extra-backend-tag)", Apply: func(p *P) { p.ModelName, p.ExtraBackendTag = "", nil }}
		}
		layout := []Ch{}
		isMLA := g.Layout == "mla" || g.Layout == "mha-or-mla"
		if isMLA != c.MLA {
			layout = append(layout, Ch{Setting: "mla", Value: strconv.FormatBool(isMLA), Flag: "--mla=" + strconv.FormatBool(isMLA), Apply: func(p *P) { p.MLA = isMLA }})
		}
		if pps := doctor.MaxRank(g.PPRanks); len(g.PPRanks) > 0 && pps != c.PPSize {
			layout = append(layout, Ch{Setting: "pp_size", Value: itoa(pps), Flag: "--pp-size " + itoa(pps), Apply: func(p *P) { p.PPSize = pps }})
		}
		if tps := doctor.MaxRank(g.TPRanks); !isMLA && tps > c.TPSize {
			layout = append(layout, Ch{Setting: "tp_size", Value: itoa(tps), Flag: "--tp-size " + itoa(tps), Apply: func(p *P) { p.TPSize = tps }})
		}
		var gEra []Ch
		if slices.Contains(g.KeySchemas, "S1") && !slices.Contains(g.KeySchemas, "S2") && c.Era != sglangkey.S1 {
			gEra = append(gEra, Ch{Setting: "key_schema", Value: "S1", Flag: "--key-schema S1", Apply: func(p *P) { p.Era = sglangkey.S1 }})
		}
		for _, pg := range append([]int{c.PageSize}, searchPageSizes...) {
			for _, eg := range []bool{c.Eagle, !c.Eagle} {
				cs := append(append([]Ch{prefix}, layout...), gEra...)
				if pg != c.PageSize {
					pg := pg
					cs = append(cs, Ch{Setting: "page_size", Value: itoa(pg), Flag: "--page-size " + itoa(pg), Apply: func(p *P) { p.PageSize = pg }})
				}
				if eg != c.Eagle {
					eg := eg
					cs = append(cs, Ch{Setting: "eagle", Value: strconv.FormatBool(eg), Flag: "--eagle=" + strconv.FormatBool(eg), Apply: func(p *P) { p.Eagle = eg }})
				}
				s.Guided = append(s.Guided, cs)
			}
		}
	}
	return s
}

// sglangHead is the configured key prefix ("" when none).
func sglangHead(p sglangkey.Params) string {
	e, err := sglangkey.NewEngine(p)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(e.KeyHead(), "_")
}

func orEmptyQuote(s string) string {
	if s == "" {
		return "''"
	}
	return doctor.ShellQuote(s)
}

// vllmSearch builds the vLLM search: rank 0's namespace keys of the first
// two blocks per candidate.
func vllmSearch(c vllmkey.Params, tokens []uint32, inv *doctor.Inventory, seeds []string) *doctor.EngineSearch[vllmkey.Params] {
	c.TPRank, c.PPRank, c.PCPRank = 0, 0, 0
	type P = vllmkey.Params
	type Ch = doctor.EngineChange[P]
	seedText := func(p *P) string {
		switch {
		case p.NoneHash != "":
			return "NONE_HASH " + p.NoneHash
		case p.HashSeed != nil:
			return "PYTHONHASHSEED=" + *p.HashSeed
		}
		return "PYTHONHASHSEED unset"
	}
	s := &doctor.EngineSearch[P]{Configured: c, Pairs: true, ConfiguredText: map[string]string{
		"key_schema": string(c.Era), "block_size": itoa(c.BlockSize), "hashing": string(c.Hash) + " + " + seedText(&c), "model": c.Model,
		"cache_prefix": c.CachePrefix, "kv_cache_group": itoa(c.KVCacheGroup), "request": "lora " + strconv.Quote(c.LoRAName) + ", cache_salt " + strconv.Quote(c.CacheSalt),
		"tp_size": itoa(c.TPSize), "pp_size": itoa(c.PPSize), "num_kv_heads": itoa(c.NumKVHeads)}}
	s.LeadingKeys = func(p P) ([]string, error) {
		p.TPRank, p.PPRank, p.PCPRank = 0, 0, 0
		e, err := vllmkey.NewEngine(p)
		if err != nil {
			return nil, err
		}
		var keys []string
		err = e.Each(tokens[:min(len(tokens), 2*p.BlockSize)], rankhit.OneRank, func(ch vllmkey.Chunk) error {
			keys = append(keys, ch.Keys...)
			return nil
		})
		return keys, err
	}
	// hashing: every algorithm × seed (the default seed where it applies)
	type hs struct {
		alg  vllmkey.HashAlgo
		seed string // "" = PYTHONHASHSEED unset
	}
	var hss []hs
	for _, a := range vllmkey.HashAlgos {
		for _, sd := range append([]string{""}, seeds...) {
			hss = append(hss, hs{a, sd})
		}
	}
	hashing := doctor.EngineAxis[P]{Name: "hashing"}
	cur := hs{c.Hash, ""}
	if c.HashSeed != nil {
		cur.seed = *c.HashSeed
	}
	for _, h := range hss {
		if h == cur && c.NoneHash == "" {
			continue
		}
		h := h
		val, flag := string(h.alg)+" + PYTHONHASHSEED unset", "--hash "+string(h.alg)
		if h.seed != "" {
			val, flag = string(h.alg)+" + PYTHONHASHSEED="+h.seed, flag+" --hash-seed "+doctor.ShellQuote(h.seed)
		}
		hashing.Changes = append(hashing.Changes, Ch{Setting: "hashing", Value: val, Flag: flag, Apply: func(p *P) {
			p.Hash, p.NoneHash, p.HashSeed = h.alg, "", nil
			if h.seed != "" {
				p.HashSeed = vllmkey.Str(h.seed)
			}
		}})
	}
	eras := []vllmkey.Era{vllmkey.V3, vllmkey.V1, vllmkey.A3, vllmkey.A2, vllmkey.A1}
	era := doctor.EngineAxisOf("key_schema", c.Era, eras, func(e vllmkey.Era) string { return string(e) }, func(e vllmkey.Era) string { return "--key-schema " + string(e) }, func(p *P, e vllmkey.Era) { p.Era = e })
	block := doctor.EngineAxisOf("block_size", c.BlockSize, searchBlockSizes, itoa, func(n int) string { return "--block-size " + itoa(n) }, func(p *P, n int) { p.BlockSize = n })
	s.Axes = []doctor.EngineAxis[P]{hashing, block, era}
	if c.CachePrefix != "" {
		s.Axes = append(s.Axes, doctor.EngineAxis[P]{Name: "cache_prefix", Changes: []Ch{{Setting: "cache_prefix", Value: "", Flag: "(no --cache-prefix)", Apply: func(p *P) { p.CachePrefix = "" }}}})
	}
	if c.LoRAName != "" || c.CacheSalt != "" || len(c.MM) > 0 {
		s.Axes = append(s.Axes, doctor.EngineAxis[P]{Name: "request", Changes: []Ch{{Setting: "request", Value: "no lora, no cache_salt", Flag: "(no --lora, --cache-salt, --mm)", Apply: func(p *P) { p.LoRAName, p.CacheSalt, p.MM = "", "", nil }}}})
	}
	if inv == nil {
		return s
	}
	n := 0
	for _, g := range inv.EngineGroups {
		if g.Engine != string(enginekey.VLLM) || g.Hybrid || g.HashBytes != 16 && g.HashBytes != 32 || n >= maxEngineGroups {
			continue
		}
		n++
		g := g
		base := []Ch{}
		if g.Model != c.ModelName() {
			base = append(base, Ch{Setting: "model", Value: g.Model, Flag: "--model " + doctor.ShellQuote(g.Model), Apply: func(p *P) { p.Model = g.Model }})
		}
		if g.Prefix != c.CachePrefix {
			base = append(base, Ch{Setting: "cache_prefix", Value: g.Prefix, Flag: "--cache-prefix " + orEmptyQuote(g.Prefix), Apply: func(p *P) { p.CachePrefix = g.Prefix }})
		}
		if g.KVCacheGroup != c.KVCacheGroup {
			base = append(base, Ch{Setting: "kv_cache_group", Value: itoa(g.KVCacheGroup), Flag: "--kv-cache-group " + itoa(g.KVCacheGroup), Apply: func(p *P) { p.KVCacheGroup = g.KVCacheGroup }})
		}
		if e := groupEra(&g); e != "" && e != c.Era && !(e == vllmkey.V3 && c.Era == vllmkey.V2) {
			base = append(base, Ch{Setting: "key_schema", Value: string(e), Flag: "--key-schema " + string(e), Apply: func(p *P) { p.Era = e }})
		}
		// TP fan-out: a key TP rank per KV-head shard; with as many KV
		// heads as TP ranks, each rank writes its own namespace.
		if tps := doctor.MaxRank(g.TPRanks); tps > 1 && (tps != c.TPSize || c.NumKVHeads != 0 && c.NumKVHeads < tps) {
			kv := max(c.NumKVHeads, tps)
			base = append(base, Ch{Setting: "tp_size", Value: itoa(tps), Flag: "--tp-size " + itoa(tps) + " --num-kv-heads " + itoa(kv), Apply: func(p *P) { p.TPSize, p.NumKVHeads, p.MLA = tps, kv, false }})
		}
		if pps := doctor.MaxRank(g.PPRanks); pps > 1 && pps != c.PPSize {
			base = append(base, Ch{Setting: "pp_size", Value: itoa(pps), Flag: "--pp-size " + itoa(pps), Apply: func(p *P) { p.PPSize = pps }})
		}
		var algs []vllmkey.HashAlgo
		for _, a := range g.Algorithms {
			algs = append(algs, vllmkey.HashAlgo(a))
		}
		for _, h := range append([]hs{cur}, hss...) {
			if !slices.Contains(algs, h.alg) {
				continue
			}
			for _, bs := range append([]int{c.BlockSize}, searchBlockSizes...) {
				cs := slices.Clone(base)
				if h != cur {
					h := h
					val, flag := string(h.alg)+" + PYTHONHASHSEED unset", "--hash "+string(h.alg)
					if h.seed != "" {
						val, flag = string(h.alg)+" + PYTHONHASHSEED="+h.seed, flag+" --hash-seed "+doctor.ShellQuote(h.seed)
					}
					cs = append(cs, Ch{Setting: "hashing", Value: val, Flag: flag, Apply: func(p *P) {
						p.Hash, p.NoneHash, p.HashSeed = h.alg, "", nil
						if h.seed != "" {
							p.HashSeed = vllmkey.Str(h.seed)
						}
					}})
				}
				if bs != c.BlockSize {
					bs := bs
					cs = append(cs, Ch{Setting: "block_size", Value: itoa(bs), Flag: "--block-size " + itoa(bs), Apply: func(p *P) { p.BlockSize = bs }})
				}
				s.Guided = append(s.Guided, cs)
			}
		}
	}
	return s
}

// groupEra picks the era to compute a group's keys with.
func groupEra(g *doctor.EngineGroup) vllmkey.Era {
	for _, e := range []vllmkey.Era{vllmkey.V3, vllmkey.V1, vllmkey.A3, vllmkey.A2, vllmkey.A1} {
		if slices.Contains(g.KeySchemas, string(e)) {
			return e
		}
	}
	return ""
}

// hasPromptInput reports a prompt given as FILE, -, --tokens or text.
func hasPromptInput(args []string, in *InputFlags) bool {
	t := &in.Text
	return len(args) > 0 || in.Tokens != "" || t.Text != "" || t.PromptFile != "" || t.Messages != ""
}

// engineDoctorRun is lmc doctor --engine sglang|vllm.
func (f *Factory) engineDoctorRun(ctx context.Context, in *engineDoctorInput, eng enginekey.Engine) error {
	var warnings []string
	b := in.Backend
	keys := in.Keys
	spec, err := f.resolveEngineWith(f.Given, &keys, &in.Engine, eng, rankhit.Lookup)
	var ns *vllmkey.ErrNoSeed
	if err != nil && errors.As(err, &ns) {
		// doctor is for when things do not match: look up with vLLM's
		// default seed and let the search try the others
		keys.HashSeed = vllmkey.DefaultSeed
		given := FlagSources{"hash-seed": "assumed (no --hash-seed)"}
		for k, v := range f.Given {
			given[k] = v
		}
		if spec, err = f.resolveEngineWith(given, &keys, &in.Engine, eng, rankhit.Lookup); err == nil {
			warnings = append(warnings, fmt.Sprintf("no hash seed given: looking up with %q and searching the seed candidates; pass --hash-seed with the engines' PYTHONHASHSEED", vllmkey.DefaultSeed))
		}
	}
	if err != nil {
		return err
	}
	warnings = append(warnings, spec.Warnings...)
	if b.Master == "" && b.Admin == "" {
		return &UsageError{Err: errors.New("no store: pass --admin URL (read-only, preferred) or --master HOST:PORT")}
	}
	if b.Admin != "" {
		// With --admin, existence is the admin API's (--master is not dialled).
		if b.Tenant != mooncake.DefaultTenant {
			if err := refuse(f, notContext, fmt.Sprintf("%q is a Mooncake master RPC tenant, and doctor with --admin asks only the admin API, which lists the default tenant only: diagnose it with --master ADDR alone", b.Tenant), "tenant"); err != nil {
				return err
			}
		}
	}
	// what the store holds (after the flags are known to be right)
	var admin *mooncake.Admin
	var inv *doctor.Inventory
	if b.Admin != "" {
		if admin, err = f.adminClient(b.Admin); err != nil {
			return err
		}
		if in.Sample > 0 {
			if inv, err = doctor.Sample(ctx, admin.GetAllKeys, in.Sample); err != nil {
				return f.adminErr(admin.BaseURL(), err)
			}
		}
	}
	_, prompt, err := f.openPrompt(ctx, in.Args, &in.Input, in.Keys.Model, in.Prompt)
	if err != nil {
		return err
	}
	// existence over the master RPC when there is no admin API
	sb := b
	if admin != nil {
		sb.Master = ""
	}
	sl, err := f.openStore(ctx, sb, false, false)
	if err != nil {
		return err
	}
	defer sl.close()
	bv := engineBackendView{Source: "admin"}
	if admin != nil {
		bv.Address = admin.BaseURL()
	} else {
		bv.Source, bv.Address, bv.GrantsLeases = "master", sl.masterAddr, true
		warnings = append(warnings, "the master RPC (BatchExistKey) grants a read lease on every key it finds, delaying its eviction; --admin is read-only")
	}
	v := &engineDoctorView{Engine: string(eng), Configured: spec.view(), Backend: bv, Findings: []engineFindingView{}, Store: inv,
		Search: doctor.Search{MaxProbes: in.MaxProbes, MaxKeysPerProbe: doctor.DefaultMaxKeysPerProbe, Stages: []string{}}}
	word := spec.chunkWord()
	prog := f.IOStreams.StartProgress("keys probed")
	defer prog.Stop()
	base, err := sl.doctorLookup(ctx, spec, prompt)
	if err != nil {
		return err
	}
	v.Search.Probes = 1
	v.Baseline = evidence(&base, word)
	v.diagnoseBaseline(spec, &base)
	if v.Outcome == "" {
		// the first page is missing everywhere: search the knobs
		seen := map[string]bool{}
		var pr doctor.Prober = progressProber{sl, prog}
		budget := in.MaxProbes - 2 // the baseline, and one to confirm
		if inv != nil && inv.Complete {
			pr, budget = inventoryProber{inv}, 1000
		}
		if budget > 0 {
			cands, st, err := searchEngineKnobs(ctx, pr, spec, prompt.Tokens, inv, f.engineSeeds(in.Seeds), budget, seen, false)
			if err != nil {
				return err
			}
			st.FromListing = inv != nil && inv.Complete
			if !st.FromListing {
				st.Probes++ // the baseline
			} else {
				st.Probes = 1
			}
			st.MaxProbes = in.MaxProbes
			v.Search = st
			if err := v.confirm(ctx, sl, prompt, cands, in.MaxProbes, word); err != nil {
				return err
			}
		}
		if v.Outcome == "" {
			v.Outcome = doctor.NoCause
			v.Summary = fmt.Sprintf("the prompt's first %s is in the store under none of %s tried", word, iostreams.Plural(v.Search.Variants, "key configuration"))
			if !v.Search.Exhausted {
				v.Summary += fmt.Sprintf(" (the search stopped at its bound of %s; raise --max-probes to go on)", iostreams.Plural(in.MaxProbes, "probe"))
			}
			v.Summary += fmt.Sprintf("; it was never stored, was evicted, or was stored under settings outside the search (another model name, seed or %s size)", word)
		}
	}
	v.Notes = append(v.Notes, fanoutNotes(inv, v.winner(spec))...)
	v.Notes = append(v.Notes, otherEngineNotes(inv, eng)...)
	v.Backend.Requests = sl.requests()
	if admin != nil {
		v.Backend.Requests += admin.Requests()
	}
	v.Warnings = warnings
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	prog.Stop()
	if in.Format == printers.JSON {
		if err := printers.WriteJSON(f.Out(), v); err != nil {
			return err
		}
	} else {
		warn(f.IOStreams, warnings)
		if err := writeEngineDoctor(f.IOStreams, v, word); err != nil {
			return err
		}
	}
	if v.Outcome == doctor.NoCause {
		return &ExitError{Code: ExitFailed, Silent: true}
	}
	return nil
}

// doctorLookup looks the prompt up with spec's keys on every rank, holes
// counted, as doctor's baseline and confirmations do; a store that
// answered errors fails it (keyErrors).
func (sl *storeLookup) doctorLookup(ctx context.Context, spec *engineSpec, prompt *tokenize.Prompt) (lookupPromptView, error) {
	k, err := spec.keyer()
	if err != nil {
		return lookupPromptView{}, err
	}
	lv, err := sl.engineLookup(ctx, spec, k, prompt, true)
	if err == nil {
		err = keyErrors(sl, &lv)
	}
	return lv, err
}

// keyErrors fails an engine lookup whose objects the store answered with
// an error: neither hit nor miss, nothing can be concluded.
func keyErrors(sl *storeLookup, v *lookupPromptView) error {
	if v.keyErrors == 0 {
		return nil
	}
	_, backend := sl.source()
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf("the store (%s) answered an error for %d of %d objects (%s): it cannot tell whether it holds them, so nothing can be concluded", backend, v.keyErrors, v.keys, v.firstKeyError)}
}

// progressProber counts probed keys for the progress line (a terminal
// only, after a second).
type progressProber struct {
	doctor.Prober
	p *iostreams.Progress
}

func (pp progressProber) Exist(ctx context.Context, keys []string) ([]bool, error) {
	r, err := pp.Prober.Exist(ctx, keys)
	pp.p.Add(len(keys))
	return r, err
}

// diagnoseBaseline explains a baseline whose first page some rank holds.
func (v *engineDoctorView) diagnoseBaseline(spec *engineSpec, base *lookupPromptView) {
	word := spec.chunkWord()
	e := v.Baseline
	title := engineTitle(spec.Engine)
	if e.NumChunks == 0 {
		v.Outcome = doctor.CauseFound
		f := engineFindingView{Kind: doctor.KindTooShort, Summary: fmt.Sprintf("the prompt (%s) is shorter than one %s (%d tokens): %s stores and looks up nothing for it", iostreams.Plural(e.TotalTokens, "token"), word, spec.chunkSize(), title)}
		v.Findings = append(v.Findings, f)
		v.Summary = f.Summary
		return
	}
	if e.HitChunks == e.NumChunks {
		v.Outcome = doctor.FullHit
		v.Summary = fmt.Sprintf("full hit: all %s present on every rank (%s); %s uses %s", iostreams.Plural(e.NumChunks, word), doctor.TokensText(e.HitTokens, e.TotalTokens), title, doctor.TokensText(e.EngineHitTokens, e.TotalTokens))
		v.engineRuleNote(spec, e)
		return
	}
	first := base.Chunks[0]
	if len(first.MissingRanks) == len(e.RankHits) && first.Status != statusError {
		return // missing everywhere: search
	}
	v.Outcome = doctor.CauseFound
	if len(e.Missing) > 0 && len(e.RankHits) > 1 {
		var parts []string
		best := 0
		for _, r := range e.RankHits {
			best = max(best, r.HitTokens)
		}
		for _, m := range e.Missing {
			parts = append(parts, m.Rank+" lacks "+m.Chunks)
		}
		absentAll := 0
		for _, c := range base.Chunks {
			if len(c.MissingRanks) == len(e.RankHits) {
				absentAll++
			}
		}
		if absentAll < len(base.Chunks)-e.HitChunks {
			s := fmt.Sprintf("%s: a %s is usable only when every rank holds all its objects, so the hit is the minimum over ranks, %s, while the best rank holds %s", doctor.JoinAnd(parts), word, doctor.TokensText(e.HitTokens, e.TotalTokens), doctor.TokensText(best, e.TotalTokens))
			v.Findings = append(v.Findings, engineFindingView{Kind: doctor.KindMissingRanks, Summary: s, Confirmed: true, Evidence: e})
		}
	}
	var absent []int
	for _, c := range base.Chunks[e.HitChunks:] {
		if len(c.MissingRanks) == len(e.RankHits) {
			absent = append(absent, c.Index)
		}
	}
	if len(absent) > 0 && len(v.Findings) == 0 {
		v.Findings = append(v.Findings, engineFindingView{Kind: doctor.KindAbsent, Confirmed: true, Evidence: e,
			Summary: fmt.Sprintf("%s (from token %d) not in the store on any rank, while the configuration matches (%s hit): they were evicted, or are not stored yet (engines store asynchronously)", doctor.RangesText(word, absent), base.Chunks[absent[0]].Start, doctor.TokensText(e.HitTokens, e.TotalTokens))})
	}
	if len(v.Findings) == 0 {
		v.Findings = append(v.Findings, engineFindingView{Kind: doctor.KindAbsent, Confirmed: true, Evidence: e, Summary: fmt.Sprintf("the configuration matches (%s hit); later %ss are missing on some ranks", doctor.TokensText(e.HitTokens, e.TotalTokens), word)})
	}
	v.Summary = v.Findings[0].Summary
	v.engineRuleNote(spec, e)
}

// engineRuleNote says why the engine's hit is below the raw hit.
func (v *engineDoctorView) engineRuleNote(spec *engineSpec, e *engineEvidenceView) {
	if e.EngineHitTokens >= e.HitTokens {
		return
	}
	if spec.SGLang != nil {
		v.Notes = append(v.Notes, fmt.Sprintf("the hit (%d tokens) is below prefetch_threshold %d: SGLang revokes the prefetch and uses none of it (--prefetch-threshold if the server sets another)", e.HitTokens, spec.SGLang.Threshold()))
		return
	}
	v.Notes = append(v.Notes, fmt.Sprintf("vLLM uses %d of the %d hit tokens: the end of a fully cached prompt is always recomputed (rules %s)", e.EngineHitTokens, e.HitTokens, rulesOf(spec)))
}

func rulesOf(spec *engineSpec) vllmkey.Rules {
	if spec.VLLM == nil {
		return ""
	}
	return spec.VLLM.EffectiveRules()
}

// confirm looks the best candidates up on every rank (one probe in all).
func (v *engineDoctorView) confirm(ctx context.Context, sl *storeLookup, prompt *tokenize.Prompt, cands []engineCandidate, maxProbes int, word string) error {
	if len(cands) == 0 {
		return nil
	}
	confirmed := v.Search.Probes < maxProbes || v.Search.FromListing
	var fs []engineFindingView
	for _, c := range cands {
		f := engineFindingView{Kind: doctor.KindMismatch, Diffs: c.diffs, Flags: doctor.Flags(c.diffs), Params: c.spec.view(), ProbedKeys: c.keys, ProbedHits: c.hits,
			Summary: doctor.EngineDiffText(c.diffs)}
		if confirmed {
			lv, err := sl.doctorLookup(ctx, c.spec, prompt)
			if err != nil {
				return err
			}
			f.Confirmed, f.Evidence = true, evidence(&lv, word)
		}
		fs = append(fs, f)
	}
	best := 0
	if confirmed {
		v.Search.Probes++
		for i := range fs {
			if fs[i].Evidence.HitTokens > fs[best].Evidence.HitTokens {
				best = i
			}
		}
		fs[0], fs[best] = fs[best], fs[0]
		cands[0], cands[best] = cands[best], cands[0]
	}
	v.best = cands[0].spec
	v.Findings = append(v.Findings, fs...)
	v.Outcome = doctor.CauseFound
	v.Summary = fs[0].Summary
	return nil
}

// winner is the configuration the findings settle on: the best
// mismatch's, else the configured one.
func (v *engineDoctorView) winner(spec *engineSpec) *engineSpec {
	if v.best != nil {
		return v.best
	}
	return spec
}

// fanoutNotes compares the ranks the store's keys carry with the ranks a
// configuration checks: keys of more TP or PP ranks mean a wider engine
// than configured, whose other ranks' objects the lookup does not check.
func fanoutNotes(inv *doctor.Inventory, spec *engineSpec) []string {
	if inv == nil {
		return nil
	}
	var out []string
	for _, g := range inv.EngineGroups {
		if g.Engine != string(spec.Engine) || g.Layout == "warmup" || g.Hybrid {
			continue
		}
		tp, pp := doctor.MaxRank(g.TPRanks), doctor.MaxRank(g.PPRanks)
		switch {
		case spec.SGLang != nil:
			p := spec.SGLang
			if h := sglangHead(*p); h != g.Prefix && g.HasPrefix() {
				continue
			}
			if g.Layout == "mha" && tp > p.TPSize*max(1, p.TPLCMSize/max(p.TPSize, 1)) {
				out = append(out, fmt.Sprintf("the store's SGLang keys carry TP ranks up to %d, and the lookup checks %s: the engine runs with a wider TP (--tp-size %d), so check every rank with that", tp-1, iostreams.Plural(p.TPSize, "TP rank"), tp))
			}
			if len(g.PPRanks) > 0 && pp > p.PPSize {
				out = append(out, fmt.Sprintf("the store's SGLang keys carry PP ranks up to %d: look up with --pp-size %d", pp-1, pp))
			}
		case spec.VLLM != nil:
			p := spec.VLLM
			if g.Model != p.ModelName() || g.Prefix != p.CachePrefix {
				continue
			}
			shards := 0
			e, err := vllmkey.NewEngine(*p)
			if err != nil {
				continue
			}
			seen := map[int]bool{}
			for _, ns := range e.LookupNamespaces() {
				seen[ns.TP] = true
			}
			shards = len(seen)
			if tp > shards {
				out = append(out, fmt.Sprintf("the store's vLLM keys carry key TP ranks up to %d, and the lookup checks %d: the engine runs with a wider TP; look up with its --tp-size and --num-kv-heads (the model's num_key_value_heads) to check every rank namespace", tp-1, shards))
			}
			if len(g.PPRanks) > 0 && pp > p.PPSize {
				out = append(out, fmt.Sprintf("the store's vLLM keys carry PP ranks up to %d: look up with --pp-size %d", pp-1, pp))
			}
		}
	}
	return out
}

// otherEngineNotes points at keys of other engines in the store sample.
func otherEngineNotes(inv *doctor.Inventory, eng enginekey.Engine) []string {
	if inv == nil {
		return nil
	}
	var out []string
	if eng != enginekey.LMCache && len(inv.Groups) > 0 {
		n := 0
		for _, g := range inv.Groups {
			n += g.Keys
		}
		out = append(out, fmt.Sprintf("the store also holds %s in LMCache's formats (e.g. model %q): 'lmc doctor --engine lmcache' diagnoses those", iostreams.Plural(n, "key"), inv.Groups[0].Model))
	}
	count := map[string]int{}
	for _, g := range inv.EngineGroups {
		if g.Engine != string(eng) && g.Layout != "warmup" {
			count[g.Engine] += g.Keys
		}
	}
	for _, e := range []enginekey.Engine{enginekey.SGLang, enginekey.VLLM} {
		if n := count[string(e)]; n > 0 {
			out = append(out, fmt.Sprintf("the store also holds %s written by %s: 'lmc doctor --engine %s' diagnoses those", iostreams.Plural(n, "key"), engineTitle(e), e))
		}
	}
	return out
}

func writeEngineDoctor(ios *iostreams.IOStreams, v *engineDoctorView, word string) error {
	st := ios.Styles()
	out := ios.Out
	var b strings.Builder
	label := map[doctor.Outcome]string{doctor.FullHit: st.Hit.Render("OK"), doctor.CauseFound: st.Partial.Render("CAUSE"), doctor.NoCause: st.Miss.Render("NO CAUSE FOUND")}[v.Outcome]
	fmt.Fprintf(&b, "%s  %s\n", label, v.Summary)
	ev := v.Baseline
	if len(v.Findings) > 0 {
		f := v.Findings[0]
		if f.Kind == doctor.KindMismatch && f.Evidence != nil {
			fmt.Fprintf(&b, "with the store's settings: hit %s (the engine uses %d); configured: hit %s\n", doctor.TokensText(f.Evidence.HitTokens, f.Evidence.TotalTokens), f.Evidence.EngineHitTokens, doctor.TokensText(ev.HitTokens, ev.TotalTokens))
			ev = f.Evidence
		}
		if f.Flags != "" {
			fmt.Fprintf(&b, "look up with: %s\n", f.Flags)
		}
		for _, o := range v.Findings[1:] {
			if o.Kind != doctor.KindMismatch {
				fmt.Fprintf(&b, "also: %s\n", o.Summary)
			}
		}
	}
	for _, n := range v.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	if len(v.Findings) > 0 && len(v.Findings[0].Diffs) > 0 {
		fmt.Fprintln(out)
		var rows [][]string
		for _, d := range v.Findings[0].Diffs {
			rows = append(rows, []string{d.Setting, d.Configured, d.Store})
		}
		if err := printers.WriteTable(out, styledHeader(st, []string{"SETTING", "CONFIGURED", "STORE"}), rows); err != nil {
			return err
		}
	}
	if ev != nil && len(ev.RankHits) > 0 {
		fmt.Fprintln(out)
		miss := map[string]string{}
		for _, m := range ev.Missing {
			miss[m.Rank] = m.Chunks
		}
		var rows [][]string
		for _, r := range ev.RankHits {
			m := miss[r.Rank]
			if m == "" {
				m = "-"
			}
			rows = append(rows, []string{r.Rank, strconv.Itoa(r.HitTokens), strconv.Itoa(r.Holes), m})
		}
		if err := printers.WriteTable(out, styledHeader(st, []string{"RANK", "HIT TOKENS", "HOLES", "MISSING"}), rows); err != nil {
			return err
		}
	}
	return writeStoreAndFooter(out, ios, v.Store, writeEngineInventory, searchFooter(v.Search, v.Backend.Requests, v.Backend.Address, v.Backend.GrantsLeases))
}

// writeStoreAndFooter ends doctor's text: the store's inventory, after a
// blank line, when the search read one (writeStore writes it), then the
// footer.
func writeStoreAndFooter(out io.Writer, ios *iostreams.IOStreams, store *doctor.Inventory, writeStore func(*iostreams.IOStreams, *doctor.Inventory) error, footer string) error {
	if store != nil {
		fmt.Fprintln(out)
		if err := writeStore(ios, store); err != nil {
			return err
		}
	}
	_, err := io.WriteString(out, footer)
	return err
}

// searchFooter is doctor's last line: what the search tried and what it
// cost.
func searchFooter(s doctor.Search, requests int, address string, grantsLeases bool) string {
	tail := ""
	if s.Ran {
		where := "the store"
		if s.FromListing {
			where = "the /get_all_keys listing"
		}
		tail = fmt.Sprintf("searched %s (%s) against %s; ", iostreams.Plural(s.Variants, "key configuration"), iostreams.Plural(s.Keys, "key"), where)
	}
	how := "admin API, read-only"
	if grantsLeases {
		how = "master RPC, grants read leases"
	}
	return fmt.Sprintf("\n%s%s of at most %d, %s to %s (%s)\n", tail, iostreams.Plural(s.Probes, "probe"), s.MaxProbes, iostreams.Plural(requests, "request"), address, how)
}

// writeEngineInventory prints the store sample's engine groups (the
// LMCache groups are doctor's own table).
func writeEngineInventory(ios *iostreams.IOStreams, inv *doctor.Inventory) error {
	if len(inv.EngineGroups) == 0 {
		return nil
	}
	var rows [][]string
	for i := range inv.EngineGroups {
		g := &inv.EngineGroups[i]
		ranks := make([]string, 0, len(g.RankKeys))
		for l := range g.RankKeys {
			ranks = append(ranks, l)
		}
		slices.Sort(ranks)
		rk := strings.Join(ranks, " ")
		if len(ranks) > 4 {
			rk = fmt.Sprintf("%d ranks", len(ranks))
		}
		algs := strings.Join(g.Algorithms, ", ")
		if algs == "" {
			algs = "-"
		}
		rows = append(rows, []string{engineTitle(enginekey.Engine(g.Engine)), doctor.EngineGroupName(g), g.Layout, strings.Join(g.KeySchemas, "/"), rk, algs, strconv.Itoa(g.Keys)})
	}
	st := ios.Styles()
	return printers.WriteTable(ios.Out, styledHeader(st, []string{"ENGINE", "MODEL/PREFIX", "LAYOUT", "ERAS", "RANKS", "ALGORITHMS", "KEYS"}), rows)
}

// commonSeeds are PYTHONHASHSEED values that LMCache's and vLLM's
// documentation and examples use (123 for the controller, 0 for Mooncake)
// and the usual 42.
var commonSeeds = []string{"123", "42"}

// engineSeeds are the seeds the vLLM search tries: --seed-candidates, or
// 0, this environment's PYTHONHASHSEED / LMC_HASH_SEED and the common ones.
func (f *Factory) engineSeeds(given []string) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) && vllmkey.ParseSeedCheck(s) == nil {
			out = append(out, s)
		}
	}
	if len(given) > 0 {
		for _, s := range given {
			add(s)
		}
		return out
	}
	add("0")
	add(f.Getenv("PYTHONHASHSEED"))
	add(f.Getenv("LMC_HASH_SEED"))
	for _, s := range commonSeeds {
		add(s)
	}
	return out
}

// otherEngineSearch runs, after LMCache's doctor found no cause, the
// engine searches of the engines whose keys the store sample holds, within
// what is left of --max-probes (a complete listing answers without
// probes). A match becomes a finding of kind other-engine.
func (f *Factory) otherEngineSearch(ctx context.Context, pr doctor.Prober, sl *storeLookup, rep *doctor.Report, inv *doctor.Inventory, prompt *tokenize.Prompt, seeds []string, maxProbes int) error {
	if inv == nil || rep.Outcome != doctor.NoCause {
		rep.Notes = append(rep.Notes, otherEngineNotes(inv, enginekey.LMCache)...)
		return nil
	}
	var engines []enginekey.Engine
	vllmModel := ""
	for _, g := range inv.EngineGroups {
		e := enginekey.Engine(g.Engine)
		if g.Layout == "warmup" || g.Hybrid || slices.Contains(engines, e) {
			continue
		}
		engines = append(engines, e)
		if e == enginekey.VLLM {
			vllmModel = g.Model
		}
	}
	local := inv.Complete
	for _, eng := range engines {
		budget := maxProbes - rep.Search.Probes - 1 // one to confirm
		if local {
			pr, budget = inventoryProber{inv}, 1000
		}
		if budget <= 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("the store holds keys %s wrote, and --max-probes is spent: run 'lmc doctor --engine %s' to search its settings", engineTitle(eng), eng))
			continue
		}
		var spec *engineSpec
		if eng == enginekey.SGLang {
			p := sglangkey.DefaultParams()
			spec = &engineSpec{Engine: eng, SGLang: &p, Sel: rankhit.Lookup, Sources: map[string]string{}}
		} else {
			p := vllmkey.DefaultParams()
			p.Model = vllmModel
			spec = &engineSpec{Engine: eng, VLLM: &p, Sel: rankhit.Lookup, Sources: map[string]string{}}
		}
		cands, st, err := searchEngineKnobs(ctx, pr, spec, prompt.Tokens, inv, f.engineSeeds(seeds), budget, map[string]bool{}, true)
		if err != nil {
			return err
		}
		if !local {
			rep.Search.Probes += st.Probes
		}
		rep.Search.Variants += st.Variants
		rep.Search.Keys += st.Keys
		rep.Search.Stages = append(rep.Search.Stages, engineTitle(eng)+" "+strings.Join(st.Stages, ", "))
		if len(cands) == 0 {
			continue
		}
		c := cands[0]
		diffs := append([]doctor.Diff{{Setting: "engine", Configured: string(enginekey.LMCache), Store: string(eng), Flag: "--engine " + string(eng)}}, c.diffs...)
		fd := doctor.Finding{Kind: kindOtherEngine, Diffs: diffs, Flags: doctor.Flags(diffs), EngineParams: c.spec.view(), ProbedKeys: c.keys, ProbedHits: c.hits}
		fd.Summary = fmt.Sprintf("the store holds this prompt's %ss as %s writes them, not LMCache's chunks", c.spec.chunkWord(), engineTitle(eng))
		if rep.Search.Probes < maxProbes || local {
			lv, err := sl.doctorLookup(ctx, c.spec, prompt)
			if err != nil {
				return err
			}
			if !local {
				rep.Search.Probes++
			}
			ev := evidence(&lv, c.spec.chunkWord())
			fd.Confirmed, fd.EngineEvidence = true, ev
			fd.Summary += fmt.Sprintf(" (hit %s, %s uses %d)", doctor.TokensText(ev.HitTokens, ev.TotalTokens), engineTitle(eng), ev.EngineHitTokens)
		}
		fd.Summary += "; look up with " + fd.Flags
		rep.Findings = append(rep.Findings, fd)
		rep.Outcome, rep.Summary = doctor.CauseFound, fd.Summary
		return nil
	}
	rep.Notes = append(rep.Notes, otherEngineNotes(inv, enginekey.LMCache)...)
	return nil
}
