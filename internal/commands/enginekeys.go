// Engine key resolution: the key flags of --engine sglang|vllm turned into
// an SGLang or vLLM key configuration (sglangkey, vllmkey), its JSON view,
// and one interface over both engines for keys, explain, lookup, doctor and
// the sandbox.
package commands

import (
	"errors"
	"fmt"
	"strings"

	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// maxEngineRanks bounds TP × PP (× PCP): like --world-size, no flag value
// may make lmc fan out without bound.
const maxEngineRanks = 4096

// engineSpec is a resolved SGLang or vLLM key configuration.
type engineSpec struct {
	Engine enginekey.Engine
	SGLang *sglangkey.Params // --engine sglang
	VLLM   *vllmkey.Params   // --engine vllm
	Sel    rankhit.Select
	// Sources says where each parameter came from (JSON field name →
	// "flag --page-size", "env LMC_PAGE_SIZE", "context prod").
	Sources  map[string]string
	Warnings []string
}

// engineChunk is one page (SGLang) or block (vLLM) of a prompt with its
// object keys for the selection.
type engineChunk struct {
	Index, Start, End int
	Parent, Hash      string
	Keys              []string
	// vLLM only: the block's extra keys and the serialised length.
	Extra      *vllmkey.ExtraKeys
	EncodedLen int
}

// engineHit is a lookup's result in tokens.
type engineHit struct {
	Owners   []string // ranks (SGLang) or lookup namespaces (vLLM)
	PerOwner []int
	Prefix   int // raw prefix hit: chunks every owner holds × chunk size
	Engine   int // what the engine uses
}

// engineKeyer computes one engine's keys. Not safe for concurrent use: make
// one per goroutine (engineSpec.keyer).
type engineKeyer interface {
	each(tokens []uint32, sel rankhit.Select, fn func(engineChunk) error) error
	layout(sel rankhit.Select) rankhit.Layout
	numChunks(tokens int) int
	hit(numTokens int, l *rankhit.Layout, t *rankhit.Tracker) engineHit
	traps() []string
}

// resolveEngine turns the key flags into an SGLang or vLLM configuration
// for the selection sel; errors are usage errors naming the flag.
func (f *Factory) resolveEngine(k *KeyFlags, e *EngineFlags, eng enginekey.Engine, sel rankhit.Select) (*engineSpec, error) {
	return f.resolveEngineWith(f.Given, k, e, eng, sel)
}

// resolveEngineWith resolves with given saying which flags were set.
func (f *Factory) resolveEngineWith(given FlagSources, k *KeyFlags, e *EngineFlags, eng enginekey.Engine, sel rankhit.Select) (*engineSpec, error) {
	s := &engineSpec{Engine: eng, Sel: sel, Sources: map[string]string{}}
	src := func(param, flag string) bool {
		if v := given.Source(flag); v != "" {
			s.Sources[param] = v
			return true
		}
		return false
	}
	ranks := e.TPSize * e.PPSize
	if eng == enginekey.VLLM {
		ranks *= e.PCPSize
	}
	if ranks > maxEngineRanks {
		return nil, &UsageError{Err: fmt.Errorf("--tp-size %d × --pp-size %d%s: %d ranks, more than lmc handles (%d)", e.TPSize, e.PPSize, pcpText(eng, e), ranks, maxEngineRanks)}
	}
	switch eng {
	case enginekey.SGLang:
		p := sglangkey.DefaultParams()
		if src("key_schema", "key-schema") {
			era, err := sglangkey.ParseEra(k.KeySchema)
			if err != nil {
				return nil, flagUsage("key-schema", k.KeySchema, given, err)
			}
			p.Era = era
		}
		p.PageSize, p.TPSize, p.PPSize, p.MLA = e.PageSize, e.TPSize, e.PPSize, k.MLA
		p.ModelName, p.Eagle, p.TPLCMSize, p.SplitHeads = k.Model, e.Eagle, e.TPLCMSize, e.SplitHeads
		p.TPRank, p.PPRank, p.PrefetchThreshold = e.TPRank, e.PPRank, e.PrefetchThreshold
		if src("extra_backend_tag", "extra-backend-tag") {
			p.ExtraBackendTag = sglangkey.Str(e.ExtraBackendTag)
		}
		if src("extra_key", "extra-key") {
			p.ExtraKey = sglangkey.Str(e.ExtraKey)
		}
		if src("cache_salt", "cache-salt") {
			p.CacheSalt = sglangkey.Str(k.CacheSalt)
		}
		for param, flag := range map[string]string{"page_size": "page-size", "tp_size": "tp-size", "pp_size": "pp-size", "mla": "mla", "model": "model",
			"eagle": "eagle", "tp_lcm_size": "tp-lcm-size", "split_heads": "split-heads", "tp_rank": "tp-rank", "pp_rank": "pp-rank", "prefetch_threshold": "prefetch-threshold"} {
			src(param, flag)
		}
		p.Hybrid = sglangkey.DetectHybrid(k.Model)
		if err := p.Validate(); err != nil {
			if p.Hybrid != "" {
				return nil, hybridUsage(k.Model, given, err)
			}
			return nil, engineUsage(given, err)
		}
		if k.Model == "" && p.Era != sglangkey.S1 && p.Era != sglangkey.S2 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("no --model: the keys carry no served model name, but SGLang %s (v0.5.17 and later) puts it in every key; pass --model as the engine's --served-model-name (its --model-path by default)", p.Era))
		}
		s.Warnings = append(s.Warnings, p.Warnings()...)
		s.SGLang = &p
	case enginekey.VLLM:
		p := vllmkey.DefaultParams()
		if src("key_schema", "key-schema") {
			era, err := vllmkey.ParseEra(k.KeySchema)
			if err != nil {
				return nil, flagUsage("key-schema", k.KeySchema, given, err)
			}
			p.Era = era
		}
		if src("hash_algorithm", "hash") {
			a, err := vllmkey.ParseHashAlgo(k.Hash)
			if err != nil {
				return nil, flagUsage("hash", k.Hash, given, err)
			}
			p.Hash = a
		}
		if given.Has("hash-seed") && given.Has("none-hash") {
			return nil, &UsageError{Err: fmt.Errorf("--none-hash and --hash-seed%s exclude each other: NONE_HASH is either given or H(seed)", fromWhere(given, "hash-seed"))}
		}
		if src("hash_seed", "hash-seed") {
			p.HashSeed = vllmkey.Str(k.HashSeed)
		}
		if src("none_hash", "none-hash") {
			p.NoneHash = k.NoneHash
		}
		if !given.Has("hash-seed") && !given.Has("none-hash") {
			if shell := f.Getenv("PYTHONHASHSEED"); shell != "" {
				s.Warnings = append(s.Warnings, fmt.Sprintf("this shell's PYTHONHASHSEED (%q) is not used for vLLM keys: if the engines run with it, pass --hash-seed %s", shell, shell))
			}
		}
		p.BlockSize, p.Model = e.BlockSize, k.Model
		p.TPSize, p.PPSize, p.PCPSize, p.DCPSize = e.TPSize, e.PPSize, e.PCPSize, e.DCPSize
		p.NumKVHeads, p.MLA, p.CachePrefix, p.KVCacheGroup = e.NumKVHeads, k.MLA, e.CachePrefix, e.KVCacheGroup
		p.LoRAName, p.CacheSalt, p.Eagle = e.LoRA, k.CacheSalt, e.Eagle
		p.TPRank, p.PPRank, p.PCPRank = e.TPRank, e.PPRank, e.PCPRank
		if src("rules", "rules") {
			switch r := vllmkey.Rules(strings.ToLower(strings.TrimSpace(e.Rules))); r {
			case vllmkey.RulesCurrent, vllmkey.RulesPR40900:
				p.Rules = r
			default:
				return nil, &UsageError{Err: fmt.Errorf("--rules %q%s: use current (vLLM's worker lookup since PR #46855) or pr40900 (the first release, PR #40900); the default follows --key-schema", e.Rules, fromWhere(given, "rules"))}
			}
		}
		for _, m := range e.MM {
			it, err := vllmkey.ParseMM(m)
			if err != nil {
				return nil, flagUsage("mm", m, given, err)
			}
			p.MM = append(p.MM, it)
		}
		src("mm", "mm")
		for param, flag := range map[string]string{"block_size": "block-size", "model": "model", "tp_size": "tp-size", "pp_size": "pp-size", "pcp_size": "pcp-size",
			"dcp_size": "dcp-size", "num_kv_heads": "num-kv-heads", "mla": "mla", "cache_prefix": "cache-prefix", "kv_cache_group": "kv-cache-group",
			"lora": "lora", "cache_salt": "cache-salt", "eagle": "eagle", "tp_rank": "tp-rank", "pp_rank": "pp-rank", "pcp_rank": "pcp-rank"} {
			src(param, flag)
		}
		p.Hybrid = vllmkey.DetectHybrid(k.Model)
		if err := p.Validate(); err != nil {
			if p.Hybrid != "" {
				return nil, hybridUsage(k.Model, given, err)
			}
			return nil, engineUsage(given, err)
		}
		s.Warnings = append(s.Warnings, p.Warnings()...)
		s.VLLM = &p
	default:
		return nil, fmt.Errorf("resolveEngine: engine %q has no engine keys", eng)
	}
	return s, nil
}

func pcpText(eng enginekey.Engine, e *EngineFlags) string {
	if eng == enginekey.VLLM && e.PCPSize > 1 {
		return fmt.Sprintf(" × --pcp-size %d", e.PCPSize)
	}
	return ""
}

// flagUsage is a usage error for a flag value the engine package refused:
// "--key-schema V9: SGLang eras are …".
func flagUsage(flag, value string, given FlagSources, err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return &UsageError{Err: fmt.Errorf("--%s %s%s: %s", flag, value, fromWhere(given, flag), msg)}
}

// hybridUsage refuses a hybrid model by name.
func hybridUsage(model string, given FlagSources, err error) error {
	return &UsageError{Err: fmt.Errorf("--model %q%s is a %s", model, fromWhere(given, "model"), err)}
}

// paramFlags maps the parameter names the engine packages' errors start
// with to the flags that set them (longest first).
var paramFlags = [][2]string{
	{"served model name", "model"}, {"extra backend tag", "extra-backend-tag"}, {"prefetch threshold", "prefetch-threshold"},
	{"multimodal item", "mm"}, {"kv cache group", "kv-cache-group"}, {"num kv heads", "num-kv-heads"}, {"tp lcm size", "tp-lcm-size"},
	{"split heads", "split-heads"}, {"cache prefix", "cache-prefix"}, {"cache salt", "cache-salt"}, {"extra key", "extra-key"},
	{"block size", "block-size"}, {"page size", "page-size"}, {"lora name", "lora"}, {"hash seed", "hash-seed"}, {"none hash", "none-hash"},
	{"pcp rank", "pcp-rank"}, {"tp rank", "tp-rank"}, {"pp rank", "pp-rank"}, {"pcp size", "pcp-size"}, {"dcp size", "dcp-size"},
	{"tp size", "tp-size"}, {"pp size", "pp-size"}, {"key schema", "key-schema"}, {"model", "model"}, {"hash", "hash"},
}

// engineUsage turns an engine package's validation error into a usage
// error naming the flag: "tp rank 3: must be in 0..1" → "--tp-rank 3: …".
func engineUsage(given FlagSources, err error) error {
	var ns *vllmkey.ErrNoSeed
	if errors.As(err, &ns) {
		return &UsageError{Err: err}
	}
	msg := err.Error()
	for _, pf := range paramFlags {
		rest, ok := strings.CutPrefix(msg, pf[0])
		if ok && (rest == "" || rest[0] == ' ' || rest[0] == ':') {
			msg = "--" + pf[1] + fromWhere(given, pf[1]) + rest
			break
		}
	}
	msg = strings.ReplaceAll(msg, "(or select all ranks)", "(or --all-ranks)")
	return &UsageError{Err: errors.New(msg)}
}

// keyer makes an engine for one goroutine (the parameters were validated).
func (s *engineSpec) keyer() (engineKeyer, error) {
	switch {
	case s.SGLang != nil:
		e, err := sglangkey.NewEngine(*s.SGLang)
		if err != nil {
			return nil, engineUsage(nil, err)
		}
		return sglangKeyer{e}, nil
	case s.VLLM != nil:
		e, err := vllmkey.NewEngine(*s.VLLM)
		if err != nil {
			return nil, engineUsage(nil, err)
		}
		return vllmKeyer{e}, nil
	}
	return nil, errors.New("engineSpec: no engine")
}

// chunkWord is what the engine calls a chunk.
func (s *engineSpec) chunkWord() string {
	if s.SGLang != nil {
		return "page"
	}
	return "block"
}

// chunkSize is the page or block size in tokens.
func (s *engineSpec) chunkSize() int {
	if s.SGLang != nil {
		return s.SGLang.PageSize
	}
	return s.VLLM.BlockSize
}

type sglangKeyer struct{ e *sglangkey.Engine }

func (k sglangKeyer) each(tokens []uint32, sel rankhit.Select, fn func(engineChunk) error) error {
	return k.e.Each(tokens, sel, func(c sglangkey.Chunk) error {
		return fn(engineChunk{Index: c.Index, Start: c.Start, End: c.End, Parent: c.Parent, Hash: c.Hash, Keys: c.Keys})
	})
}
func (k sglangKeyer) layout(sel rankhit.Select) rankhit.Layout { return k.e.Layout(sel) }
func (k sglangKeyer) numChunks(n int) int                      { p := k.e.Params(); return p.NumPages(n) }
func (k sglangKeyer) traps() []string                          { return k.e.Traps() }
func (k sglangKeyer) hit(_ int, l *rankhit.Layout, t *rankhit.Tracker) engineHit {
	h := k.e.Hit(l, t)
	return engineHit{Owners: h.Owners, PerOwner: h.PerRank, Prefix: h.Prefix, Engine: h.Engine}
}

type vllmKeyer struct{ e *vllmkey.Engine }

func (k vllmKeyer) each(tokens []uint32, sel rankhit.Select, fn func(engineChunk) error) error {
	return k.e.Each(tokens, sel, func(c vllmkey.Chunk) error {
		x := c.Extra
		return fn(engineChunk{Index: c.Index, Start: c.Start, End: c.End, Parent: c.Parent, Hash: c.Hash, Keys: c.Keys, Extra: &x, EncodedLen: c.EncodedLen})
	})
}
func (k vllmKeyer) layout(sel rankhit.Select) rankhit.Layout { return k.e.Layout(sel) }
func (k vllmKeyer) numChunks(n int) int                      { p := k.e.Params(); return p.NumBlocks(n) }
func (k vllmKeyer) traps() []string                          { return k.e.Traps() }
func (k vllmKeyer) hit(n int, l *rankhit.Layout, t *rankhit.Tracker) engineHit {
	h := k.e.Hit(n, l, t)
	return engineHit{Owners: h.Owners, PerOwner: h.PerOwner, Prefix: h.Prefix, Engine: h.Engine}
}

// sglangParamsView is the JSON form of an SGLang key configuration. Field
// names are a contract: add, never rename.
type sglangParamsView struct {
	Engine            string            `json:"engine"`
	KeySchema         string            `json:"key_schema"`
	PageSize          int               `json:"page_size"`
	TPSize            int               `json:"tp_size"`
	PPSize            int               `json:"pp_size"`
	MLA               bool              `json:"mla"`
	Model             string            `json:"model"`
	ModelInKey        string            `json:"model_in_key"`
	KeyPrefix         string            `json:"key_prefix"`
	ExtraBackendTag   *string           `json:"extra_backend_tag,omitempty"`
	Eagle             bool              `json:"eagle"`
	ExtraKey          *string           `json:"extra_key,omitempty"`
	CacheSalt         *string           `json:"cache_salt,omitempty"`
	NamespaceSeed     string            `json:"namespace_seed,omitempty"`
	TPLCMSize         int               `json:"tp_lcm_size"`
	SplitHeads        bool              `json:"split_heads"`
	PrefetchThreshold int               `json:"prefetch_threshold"`
	Selection         string            `json:"selection"`
	TPRank            int               `json:"tp_rank"`
	PPRank            int               `json:"pp_rank"`
	Ranks             []string          `json:"ranks"`
	KeysPerPage       int               `json:"keys_per_page"`
	Sources           map[string]string `json:"sources"`
}

// vllmParamsView is the JSON form of a vLLM key configuration.
type vllmParamsView struct {
	Engine            string            `json:"engine"`
	KeySchema         string            `json:"key_schema"`
	BlockSize         int               `json:"block_size"`
	HashAlgorithm     string            `json:"hash_algorithm"`
	HashSeed          *string           `json:"hash_seed,omitempty"`
	NoneHash          string            `json:"none_hash"`
	NoneHashSource    string            `json:"none_hash_source"`
	Model             string            `json:"model"`
	ModelInKey        string            `json:"model_in_key"`
	TPSize            int               `json:"tp_size"`
	PPSize            int               `json:"pp_size"`
	PCPSize           int               `json:"pcp_size"`
	DCPSize           int               `json:"dcp_size"`
	NumKVHeads        int               `json:"num_kv_heads"`
	MLA               bool              `json:"mla"`
	ReplicationFactor int               `json:"replication_factor"`
	CachePrefix       string            `json:"cache_prefix"`
	KVCacheGroup      int               `json:"kv_cache_group"`
	LoRA              string            `json:"lora"`
	CacheSalt         string            `json:"cache_salt"`
	MM                []string          `json:"mm"`
	Eagle             bool              `json:"eagle"`
	Rules             string            `json:"rules"`
	Selection         string            `json:"selection"`
	TPRank            int               `json:"tp_rank"`
	PPRank            int               `json:"pp_rank"`
	PCPRank           int               `json:"pcp_rank"`
	Ranks             []string          `json:"ranks"`
	LookupNamespaces  []string          `json:"lookup_namespaces"`
	KeysPerBlock      int               `json:"keys_per_block"`
	Sources           map[string]string `json:"sources"`
}

// view renders the configuration for JSON (a sglangParamsView or a
// vllmParamsView).
func (s *engineSpec) view() any {
	k, err := s.keyer()
	if err != nil {
		return nil
	}
	l := k.layout(s.Sel)
	switch kk := k.(type) {
	case sglangKeyer:
		p := kk.e.Params()
		v := sglangParamsView{Engine: string(s.Engine), KeySchema: string(p.Era), PageSize: p.PageSize, TPSize: p.TPSize, PPSize: p.PPSize, MLA: p.MLA,
			Model: p.ModelName, KeyPrefix: kk.e.KeyHead(), ExtraBackendTag: p.ExtraBackendTag, Eagle: p.Eagle, ExtraKey: p.ExtraKey, CacheSalt: p.CacheSalt,
			NamespaceSeed: kk.e.Seed(), TPLCMSize: p.TPLCMSize, SplitHeads: p.SplitHeads, PrefetchThreshold: p.Threshold(), Selection: s.Sel.String(),
			TPRank: p.TPRank, PPRank: p.PPRank, Ranks: []string{}, KeysPerPage: l.KeysPerChunk, Sources: s.Sources}
		if p.Era != sglangkey.S1 && p.Era != sglangkey.S2 && p.ModelName != "" {
			v.ModelInKey = sglangkey.ModelPart(p.ModelName)
		}
		for _, r := range kk.e.Ranks() {
			v.Ranks = append(v.Ranks, r.String())
		}
		return v
	case vllmKeyer:
		p := kk.e.Params()
		nh, nhSrc := kk.e.NoneHash()
		v := vllmParamsView{Engine: string(s.Engine), KeySchema: string(p.Era), BlockSize: p.BlockSize, HashAlgorithm: string(p.Hash), HashSeed: p.HashSeed,
			NoneHash: nh, NoneHashSource: nhSrc, Model: p.Model, ModelInKey: p.ModelName(), TPSize: p.TPSize, PPSize: p.PPSize, PCPSize: p.PCPSize, DCPSize: p.DCPSize,
			NumKVHeads: p.NumKVHeads, MLA: p.MLA, ReplicationFactor: p.ReplicationFactor(), CachePrefix: p.CachePrefix, KVCacheGroup: p.KVCacheGroup,
			LoRA: p.LoRAName, CacheSalt: p.CacheSalt, MM: []string{}, Eagle: p.Eagle, Rules: string(kk.e.Rules()), Selection: s.Sel.String(),
			TPRank: p.TPRank, PPRank: p.PPRank, PCPRank: p.PCPRank, Ranks: []string{}, LookupNamespaces: []string{}, KeysPerBlock: l.KeysPerChunk, Sources: s.Sources}
		for _, m := range p.MM {
			v.MM = append(v.MM, m.String())
		}
		for _, r := range kk.e.Ranks() {
			v.Ranks = append(v.Ranks, r.String())
		}
		for _, ns := range kk.e.LookupNamespaces() {
			v.LookupNamespaces = append(v.LookupNamespaces, ns.String())
		}
		return v
	}
	return nil
}
