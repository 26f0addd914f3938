// Package sglangkey computes the Mooncake object keys that SGLang's HiCache
// writes and checks with --hicache-storage-backend mooncake: the page-hash
// chain (SHA-256 over the previous digest and the page's tokens as u32
// little-endian, or token bigrams under EAGLE), the key prefix (extra
// backend tag, served model name), the per-rank object suffixes (TP/PP, MLA,
// split heads), the S4 namespace seed of requests with extra_key or
// cache_salt, and the engine's hit rule (per-rank leading pages, minimum over
// ranks, prefetch_threshold). Parse reads a stored key back.
//
// It is a pure library: no store access, no CLI. It is not LMCache's key
// engine (lmcachekey), it does not model SGLang's hybrid pools (Mamba, SWA,
// DSA indexer, DeepSeek-V4 side pools, draft models: refused by name), the
// prototype S0 hash, the context-parallel suffix proposal, or the separate
// KV-event hashes. Eras follow the engine-keys spec (S1–S4).
package sglangkey

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Era names a generation of SGLang's Mooncake key format.
type Era string

const (
	S1 Era = "S1"
	S2 Era = "S2"
	S3 Era = "S3"
	S4 Era = "S4"
)

// DefaultEra is the newest.
const DefaultEra = S4

// EraInfo documents one era.
type EraInfo struct {
	Name   Era
	Period string
	Format string
}

// Eras lists every era, newest first.
var Eras = []EraInfo{
	{S4, "PR #38577 (2026-09) on", "as S3; a request with extra_key or cache_salt chains its pages from a namespace seed"},
	{S3, "PR #31920 (v0.5.17, 2026-07/08) on", "[<tag>_]<served model name, / -> ->_<hash>_<tp>[_<pp>]_k/_v; MLA …_<hash>__k or _<pp>_k"},
	{S2, "PR #15175 (2025-12-15) .. v0.5.16", "[<tag>_]<hash>_<tp>[_<pp>]_k/_v; MLA <hash>__k or <hash>_<pp>_k; split heads"},
	{S1, "~2025-08 .. 2025-12-14", "[<tag>_]<hash>_<tp>_k/_v (no PP rank); MLA <hash>_k"},
}

// ParseEra accepts S1..S4 (case-insensitive).
func ParseEra(s string) (Era, error) {
	u := Era(strings.ToUpper(strings.TrimSpace(s)))
	for _, e := range Eras {
		if e.Name == u {
			return u, nil
		}
	}
	return "", fmt.Errorf("key schema %q: SGLang eras are S4 (newest, default), S3, S2, S1 (see the engine-keys spec)", s)
}

func (e Era) rank() int {
	switch e {
	case S1:
		return 1
	case S2:
		return 2
	case S3:
		return 3
	case S4:
		return 4
	}
	return 0
}

// DefaultPrefetchThreshold is HiCacheController's prefetch_threshold.
const DefaultPrefetchThreshold = 256

// Params is everything that decides SGLang's keys and hit for a prompt.
type Params struct {
	Era      Era // "" means DefaultEra
	PageSize int // --page-size (SGLang default 1)
	TPSize   int // attention TP size (--tp, or the attention TP of DP attention)
	PPSize   int
	MLA      bool // an MLA model (also DeepSeek-V4 compressed pools): one object per page, shared by the TP ranks

	// ModelName is the served model name (--served-model-name, which
	// defaults to --model-path); S3+ put it in the key with "/" -> "-".
	// Empty: no model part.
	ModelName string
	// ExtraBackendTag is extra_backend_tag of
	// --hicache-storage-backend-extra-config; nil when absent. An empty
	// tag still adds "_".
	ExtraBackendTag *string
	// Eagle: EAGLE/EAGLE3 speculative decoding, whose radix keys are token
	// bigrams (t0,t1),(t1,t2)…; a page is PageSize bigrams.
	Eagle bool
	// ExtraKey and CacheSalt are the request's fields (nil when None). In
	// S4 either one seeds the page chain; earlier eras ignore them.
	ExtraKey  *string
	CacheSalt *string
	// TPLCMSize is tp_lcm_size of the extra config (0: unset). With
	// SplitHeads (the page_head host layout) and TPLCMSize > TPSize, each
	// TP rank writes TPLCMSize/TPSize head slices per page (S2+, MHA only).
	TPLCMSize  int
	SplitHeads bool

	TPRank, PPRank int // the rank OneRank selects

	// PrefetchThreshold is the engine's prefetch_threshold in tokens (0:
	// the default 256); SGLang raises it to at least PageSize.
	PrefetchThreshold int

	// Hybrid names a hybrid-pool feature the model uses (mamba, swa,
	// indexer, deepseek-v4, draft). Such models store per-pool objects with
	// their own hit policies, which this package does not model: Validate
	// refuses any value. See DetectHybrid.
	Hybrid string
}

// DefaultParams are SGLang's defaults: era S4, page size 1, TP 1, PP 1.
func DefaultParams() Params {
	return Params{Era: DefaultEra, PageSize: 1, TPSize: 1, PPSize: 1}
}

// Str returns a pointer to s, for the optional string fields.
func Str(s string) *string { return &s }

func (p *Params) era() Era {
	if p.Era == "" {
		return DefaultEra
	}
	return p.Era
}

// Threshold is the effective prefetch threshold in tokens.
func (p *Params) Threshold() int {
	t := p.PrefetchThreshold
	if t == 0 {
		t = DefaultPrefetchThreshold
	}
	return max(t, p.PageSize)
}

// splitFactor is the number of head slices per rank (1 without split heads).
func (p *Params) splitFactor() int {
	if p.SplitHeads && !p.MLA && p.TPLCMSize > p.TPSize && p.era().rank() >= 2 {
		return p.TPLCMSize / p.TPSize
	}
	return 1
}

// Seeded reports whether the page chain starts from the S4 namespace seed.
func (p *Params) Seeded() bool {
	return p.era() == S4 && (p.ExtraKey != nil || p.CacheSalt != nil)
}

// Validate checks the combination; errors name the field and the fix.
func (p *Params) Validate() error {
	if p.Hybrid != "" {
		return fmt.Errorf("hybrid model (%s): SGLang stores extra per-pool objects (Mamba state, SWA, DSA indexer, DeepSeek-V4 side pools, draft KV) with their own hit policies next to the KV pages; lmc models full-attention KV pages only, so it cannot compute these keys or hits", p.Hybrid)
	}
	if _, err := ParseEra(string(p.era())); err != nil {
		return err
	}
	if p.PageSize <= 0 {
		return fmt.Errorf("page size %d: must be a positive number of tokens (the engine's --page-size; SGLang's default is 1)", p.PageSize)
	}
	if p.TPSize <= 0 {
		return fmt.Errorf("tp size %d: must be at least 1 (the engine's --tp, or its attention TP size with DP attention)", p.TPSize)
	}
	if p.PPSize <= 0 {
		return fmt.Errorf("pp size %d: must be at least 1 (the engine's --pp)", p.PPSize)
	}
	if p.TPRank < 0 || p.TPRank >= p.TPSize {
		return fmt.Errorf("tp rank %d: must be in 0..%d for tp size %d (or select all ranks)", p.TPRank, p.TPSize-1, p.TPSize)
	}
	if p.PPRank < 0 || p.PPRank >= p.PPSize {
		return fmt.Errorf("pp rank %d: must be in 0..%d for pp size %d (or select all ranks)", p.PPRank, p.PPSize-1, p.PPSize)
	}
	if p.TPLCMSize < 0 {
		return fmt.Errorf("tp lcm size %d: must be positive (tp_lcm_size of the extra config), or 0 for none", p.TPLCMSize)
	}
	if p.TPLCMSize > 0 && p.TPLCMSize%p.TPSize != 0 {
		return fmt.Errorf("tp lcm size %d: must be a multiple of tp size %d (SGLang asserts tp_lcm_size %% tp_size == 0)", p.TPLCMSize, p.TPSize)
	}
	if p.SplitHeads && p.TPLCMSize == 0 {
		return fmt.Errorf("split heads needs the tp lcm size (tp_lcm_size of --hicache-storage-backend-extra-config)")
	}
	if p.SplitHeads && p.era() == S1 && !p.MLA && p.TPLCMSize > p.TPSize {
		return fmt.Errorf("split heads with key schema S1: head-split keys came with S2 (PR #15175 and later); use --key-schema S2, S3 or S4")
	}
	if p.PrefetchThreshold < 0 {
		return fmt.Errorf("prefetch threshold %d: must be a number of tokens >= 0 (0 means SGLang's default 256)", p.PrefetchThreshold)
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"served model name", &p.ModelName}, {"extra backend tag", p.ExtraBackendTag}, {"extra key", p.ExtraKey}, {"cache salt", p.CacheSalt}} {
		if f.v != nil && !utf8.ValidString(*f.v) {
			return fmt.Errorf("%s %q is not valid UTF-8: SGLang keys and namespace seeds hash the UTF-8 of a Python str", f.name, *f.v)
		}
	}
	return nil
}

// Warnings lists combinations that are valid but probably not what was
// meant (knobs the era ignores, keys that collide).
func (p *Params) Warnings() []string {
	var w []string
	e := p.era()
	if e != S4 && (p.ExtraKey != nil || p.CacheSalt != nil) {
		w = append(w, fmt.Sprintf("extra key / cache salt do not change keys before S4 (PR #38577); key schema %s ignores them", e))
	}
	if e.rank() < 3 && p.ModelName != "" {
		w = append(w, fmt.Sprintf("the served model name is not in %s keys (it came with S3, PR #31920 / v0.5.17); key schema %s ignores it", e, e))
	}
	if e == S1 && p.PPSize > 1 {
		w = append(w, "S1 keys carry no PP rank: the PP stages of one TP rank wrote the same object keys")
	}
	if p.SplitHeads && p.MLA {
		w = append(w, "split heads applies to MHA models only: MLA pages are rank-replicated, SGLang ignores tp_lcm_size")
	}
	if p.SplitHeads && !p.MLA && p.TPLCMSize > 0 && p.TPLCMSize <= p.TPSize {
		w = append(w, fmt.Sprintf("tp lcm size %d is not above tp size %d: SGLang does not split heads", p.TPLCMSize, p.TPSize))
	}
	if p.TPLCMSize > p.TPSize && !p.SplitHeads && !p.MLA {
		w = append(w, "tp lcm size without split heads: SGLang splits heads only with the page_head host layout (--hicache-mem-layout page_head); keys are the unsplit ones")
	}
	if p.Seeded() {
		w = append(w, "the page chain starts from the S4 namespace seed of extra_key/cache_salt: the strings must be exactly the request's")
	}
	return w
}

// hybridNames are model families whose SGLang HiCache pools are hybrid
// (Mamba or linear-attention state, sliding-window pools, DSA indexers,
// DeepSeek-V4 compressed side pools).
var hybridNames = []struct{ substr, feature string }{
	{"jamba", "mamba"}, {"mamba", "mamba"}, {"nemotron-h", "mamba"}, {"nemotronh", "mamba"},
	{"falcon-h1", "mamba"}, {"granite-4.0-h", "mamba"}, {"qwen3-next", "mamba"}, {"qwen3.5", "mamba"},
	{"kimi-linear", "mamba"}, {"minimax-m1", "mamba"}, {"lfm2", "mamba"},
	{"gpt-oss", "swa"}, {"gemma-2", "swa"}, {"gemma-3", "swa"}, {"gemma2", "swa"}, {"gemma3", "swa"},
	{"mimo-v2", "swa"}, {"llama-4", "swa"},
	{"deepseek-v3.2", "indexer"}, {"deepseek-v4", "deepseek-v4"},
}

// DetectHybrid names the hybrid-pool feature of well-known hybrid model
// families from a model name or path ("" when none is known). It is a
// heuristic for refusing early; Params.Hybrid is what Validate checks.
func DetectHybrid(model string) string {
	m := strings.ToLower(model)
	for _, h := range hybridNames {
		if strings.Contains(m, h.substr) {
			return h.feature
		}
	}
	return ""
}
