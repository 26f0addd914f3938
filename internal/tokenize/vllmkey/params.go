// Package vllmkey computes the Mooncake object keys of vLLM's own
// MooncakeStoreConnector (formats V1–V3) and of vllm-ascend's store
// connector (A1–A3): vLLM's prefix-cache block hashes
// H((parent, tuple(tokens), extra_keys)) for H = sha256 | sha256_cbor |
// xxhash | xxhash_cbor from NONE_HASH = H(seed), the extra keys (LoRA name,
// multimodal (identifier, offset) pairs, cache salt), the key strings per
// rank namespace (replication factor, PCP/DCP, PP, KV-cache group, cache
// prefix), the engine's lookup namespaces and its hit rules per version.
// Parse reads stored keys back (also the removed V0 connector's and
// vllm-ascend's A0 keys, which it recognises but does not compute).
//
// It is a pure library: no store access, no CLI. It is not vLLM's local
// prefix cache, nor LMCache (lmcachekey), and it does not model hybrid
// models (several KV-cache groups of different kinds, Mamba state, sliding
// windows: refused by name), prompt embeddings, or hash_block_size !=
// block_size. The serialisations come from pyobj, shared with lmcachekey.
package vllmkey

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Era names a key format.
type Era string

const (
	V1 Era = "V1" // PR #40900 (2026-05): no group, no cache prefix
	V2 Era = "V2" // PR #42828 (HMA): @group:<g>
	V3 Era = "V3" // PR #45767 (2026-06): [<cache_prefix>@]
	A1 Era = "A1" // vllm-ascend 2025-11-28: <full --model>@head_or_tp_rank:<r>@<hex>
	A2 Era = "A2" // vllm-ascend 2025-11-29: <basename>@pcp@dcp@head_or_tp_rank@pp_rank@<hex>
	A3 Era = "A3" // vllm-ascend 2026-05-20: A2 + @group@cache_role@cache_family
	// Recognised by Parse only.
	A0 Era = "A0" // vllm-ascend 2025-09: <model>@<world_size>@<rank>@<sha256 chain>
	V0 Era = "V0" // vLLM v0 connector (removed): <blake2b int>_<tp> and _hidden_<tp>
)

// DefaultEra is the newest vLLM format.
const DefaultEra = V3

// EraInfo documents one format.
type EraInfo struct {
	Name   Era
	Period string
	Format string
}

// Eras lists the formats an Engine computes, newest vLLM first.
var Eras = []EraInfo{
	{V3, "vLLM PR #45767 (2026-06) on", "[<cache_prefix>@]<model>@tp_rank:<r>@pcp<p>@dcp<d>@pp_rank:<q>@group:<g>@<hex>"},
	{V2, "vLLM PR #42828 (HMA, 2026-05/06)", "<model>@tp_rank:<r>@pcp<p>@dcp<d>@pp_rank:<q>@group:<g>@<hex>"},
	{V1, "vLLM PR #40900 (2026-05, first release)", "<model>@tp_rank:<r>@pcp<p>@dcp<d>@pp_rank:<q>@<hex>"},
	{A3, "vllm-ascend 2026-05-20 on", "<model>@pcp<p>@dcp<d>@head_or_tp_rank:<r>@pp_rank:<q>@group:<g>@cache_role:kv@cache_family:default@<hex>"},
	{A2, "vllm-ascend 2025-11-29 .. 2026-05", "<model>@pcp<p>@dcp<d>@head_or_tp_rank:<r>@pp_rank:<q>@<hex>"},
	{A1, "vllm-ascend 2025-11-28", "<full --model>@head_or_tp_rank:<r>@<hex>"},
}

// ParseEra accepts V1..V3 and A1..A3 (case-insensitive).
func ParseEra(s string) (Era, error) {
	u := Era(strings.ToUpper(strings.TrimSpace(s)))
	for _, e := range Eras {
		if e.Name == u {
			return u, nil
		}
	}
	return "", fmt.Errorf("key schema %q: vLLM formats are V3 (newest, default), V2, V1; vllm-ascend's A3, A2, A1 (see the engine-keys spec)", s)
}

func (e Era) ascend() bool { return e == A1 || e == A2 || e == A3 }

// HashAlgo is vLLM's --prefix-caching-hash-algo.
type HashAlgo string

const (
	SHA256     HashAlgo = "sha256"      // SHA-256 of pickle protocol 5 (default)
	SHA256CBOR HashAlgo = "sha256_cbor" // SHA-256 of canonical CBOR
	XXHash     HashAlgo = "xxhash"      // XXH3-128 of pickle protocol 5
	XXHashCBOR HashAlgo = "xxhash_cbor" // XXH3-128 of canonical CBOR
)

// HashAlgos lists them, default first.
var HashAlgos = []HashAlgo{SHA256, SHA256CBOR, XXHash, XXHashCBOR}

// ParseHashAlgo validates a name (case-insensitive, '-' for '_').
func ParseHashAlgo(s string) (HashAlgo, error) {
	n := HashAlgo(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	for _, a := range HashAlgos {
		if a == n {
			return a, nil
		}
	}
	return "", fmt.Errorf("hash %q: use one of sha256 (vLLM's default), sha256_cbor, xxhash, xxhash_cbor (the engine's --prefix-caching-hash-algo)", s)
}

func (a HashAlgo) cbor() bool { return a == SHA256CBOR || a == XXHashCBOR }

// DigestLen is the digest size in bytes (32 for sha256*, 16 for xxhash*).
func (a HashAlgo) DigestLen() int {
	if a == XXHash || a == XXHashCBOR {
		return 16
	}
	return 32
}

// Encoding names what the algorithm digests.
func (a HashAlgo) Encoding() string {
	if a.cbor() {
		return "canonical CBOR (cbor2.dumps(obj, canonical=True))"
	}
	return "pickle protocol 5 (pickle.dumps(obj, protocol=5), CPython framing)"
}

// Rules names a generation of the connector's rank and lookup logic.
type Rules string

const (
	// RulesCurrent: replication factor F (1 with DCP, tp_size for MLA,
	// tp_size // num_kv_heads otherwise), every rank namespace checked, and
	// a full-prompt hit re-derived below the last token (one block less).
	RulesCurrent Rules = "current"
	// RulesPR40900: the first release: put_step for the key's TP rank, the
	// lookup rewrites the rank-0 key to @tp_rank:i (i < min(tp, kv heads))
	// and @pp_rank:j only (PCP/DCP ranks other than 0 unchecked), and the
	// scheduler subtracts one token from a full-prompt hit.
	RulesPR40900 Rules = "pr40900"
)

// DefaultSeed is the NONE_HASH seed of vLLM since PR #51875 (2026-08-11)
// for sha256 and sha256_cbor when PYTHONHASHSEED is unset.
const DefaultSeed = "vllm-none-hash"

// MMItem is one multimodal placeholder range of the prompt: tokens
// [Offset, Offset+Length) belong to the item whose identifier (mm hash) is
// ID.
type MMItem struct {
	ID     string
	Offset int
	Length int
}

// String renders the item as ParseMM reads it.
func (m MMItem) String() string {
	return m.ID + ":" + strconv.Itoa(m.Offset) + ":" + strconv.Itoa(m.Length)
}

// ParseMM reads "ID:OFFSET:LENGTH" (the ID may itself contain ':'; offset
// and length are the last two fields).
func ParseMM(s string) (MMItem, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return MMItem{}, fmt.Errorf("multimodal item %q: expected ID:OFFSET:LENGTH (the item's identifier, its first placeholder token, its number of tokens)", s)
	}
	j := strings.LastIndexByte(s[:i], ':')
	if j <= 0 {
		return MMItem{}, fmt.Errorf("multimodal item %q: expected ID:OFFSET:LENGTH with a non-empty ID", s)
	}
	off, err1 := strconv.Atoi(s[j+1 : i])
	n, err2 := strconv.Atoi(s[i+1:])
	if err1 != nil || err2 != nil || off < 0 || n <= 0 || off > 1<<40 || n > 1<<40 {
		return MMItem{}, fmt.Errorf("multimodal item %q: OFFSET must be a token index >= 0 and LENGTH a token count >= 1", s)
	}
	if !utf8.ValidString(s[:j]) {
		return MMItem{}, fmt.Errorf("multimodal item %q: the identifier is not valid UTF-8", s)
	}
	return MMItem{ID: s[:j], Offset: off, Length: n}, nil
}

// Params is everything that decides the connector's keys and hit.
type Params struct {
	Era       Era      // "" means DefaultEra
	BlockSize int      // --block-size (CUDA default 16)
	Hash      HashAlgo // "" means sha256
	// HashSeed is the engines' PYTHONHASHSEED (nil: unset). NONE_HASH =
	// H(seed string).
	HashSeed *string
	// NoneHash, when set, is NONE_HASH itself (hex of 16 or 32 bytes) and
	// overrides HashSeed.
	NoneHash string

	// Model is --model as the engine was started with (HF repo id or path);
	// keys carry its last path component (A1: all of it).
	Model string

	TPSize, PPSize, PCPSize, DCPSize int
	// NumKVHeads is the model's total KV heads (num_key_value_heads); it
	// decides which TP ranks write identical bytes. Needed for TP > 1
	// unless MLA.
	NumKVHeads int
	MLA        bool

	CachePrefix  string // kv_connector_extra_config.cache_prefix (V3)
	KVCacheGroup int    // the KV-cache group index, 0 for ordinary models

	LoRAName  string   // the request's LoRA adapter name ("" without LoRA)
	CacheSalt string   // the request's cache_salt ("" without)
	MM        []MMItem // multimodal placeholders, sorted by offset

	TPRank, PPRank, PCPRank int // the rank OneRank selects

	// Rules: "" means by era (RulesPR40900 for V1 and A*, RulesCurrent for
	// V2 and V3).
	Rules Rules
	// Eagle: EAGLE speculative decoding; the current rule drops the last
	// block of a hit (the drafter recomputes it). Keys do not change.
	Eagle bool
	// SameStringObjects: pickle equal strings of one block's extra keys as
	// one Python object (a memo reference). vLLM's strings are normally
	// distinct objects; this is the pickle identity trap (sha256, xxhash).
	SameStringObjects bool

	// Hybrid names a hybrid-model feature (mamba, swa, chunked-attention):
	// Validate refuses any value. See DetectHybrid.
	Hybrid string
}

// DefaultParams are vLLM's defaults: V3, block 16, sha256, one rank.
func DefaultParams() Params {
	return Params{Era: DefaultEra, BlockSize: 16, Hash: SHA256, TPSize: 1, PPSize: 1, PCPSize: 1, DCPSize: 1}
}

// Str returns a pointer to s (for HashSeed).
func Str(s string) *string { return &s }

func (p *Params) era() Era {
	if p.Era == "" {
		return DefaultEra
	}
	return p.Era
}

func (p *Params) hash() HashAlgo {
	if p.Hash == "" {
		return SHA256
	}
	return p.Hash
}

// EffectiveRules resolves Rules by era.
func (p *Params) EffectiveRules() Rules {
	if p.Rules != "" {
		return p.Rules
	}
	if e := p.era(); e == V1 || e.ascend() {
		return RulesPR40900
	}
	return RulesCurrent
}

// ModelName is the model as keys render it: the last path component of
// --model (model.rstrip("/").split("/")[-1]), or all of it in A1.
func (p *Params) ModelName() string {
	if p.era() == A1 {
		return p.Model
	}
	m := strings.TrimRight(p.Model, "/")
	return m[strings.LastIndexByte(m, '/')+1:]
}

// ParseSeedCheck reports whether s can be the NONE_HASH seed: vLLM's
// default seed "vllm-none-hash", or a PYTHONHASHSEED CPython starts with:
// "random", or what strtoul reads as an integer 0..4294967295 (leading
// space and a sign allowed) with nothing after it. vLLM hashes the string
// itself, so " 12" and "12" give different NONE_HASHes.
func ParseSeedCheck(s string) error {
	if s == "" || s == "random" || s == DefaultSeed {
		return nil // empty: CPython treats it as unset, vLLM hashes ""
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg, t = t[0] == '-', t[1:]
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || t == "" || t[0] == '+' || n > 4294967295 || neg && n != 0 {
		return fmt.Errorf("hash seed %q: not a PYTHONHASHSEED CPython accepts (\"random\" or an integer in 0..4294967295), so no engine ran with it; pass the engines' PYTHONHASHSEED exactly", s)
	}
	return nil
}

// ErrNoSeed wraps the errors of a NONE_HASH that cannot be known.
type ErrNoSeed struct{ Reason string }

func (e *ErrNoSeed) Error() string { return e.Reason }

// ResolveNoneHash returns NONE_HASH and where it comes from.
func (p *Params) ResolveNoneHash() (nh []byte, source string, err error) {
	if p.NoneHash != "" {
		b, err := hex.DecodeString(strings.TrimSpace(p.NoneHash))
		if err != nil || len(b) != 16 && len(b) != 32 {
			return nil, "", fmt.Errorf("none hash %q: expected the hex of NONE_HASH, 32 digits (16 bytes) or 64 digits (32 bytes)", p.NoneHash)
		}
		return b, "given (--none-hash)", nil
	}
	h := newHasher(p.hash())
	if p.HashSeed != nil {
		if err := ParseSeedCheck(*p.HashSeed); err != nil {
			return nil, "", err
		}
		if !utf8.ValidString(*p.HashSeed) {
			return nil, "", fmt.Errorf("hash seed %q is not valid UTF-8", *p.HashSeed)
		}
		d := append([]byte(nil), h.seed(*p.HashSeed)...)
		return d, fmt.Sprintf("%s(%q) (PYTHONHASHSEED)", p.hash(), *p.HashSeed), nil
	}
	e := p.era()
	switch {
	case e == V1 || e == V2 || e == A1 || e == A2:
		return nil, "", &ErrNoSeed{fmt.Sprintf("no hash seed: vLLM of key schema %s predates PR #51875 (2026-08-11), so with PYTHONHASHSEED unset its NONE_HASH was os.urandom(32), different in every engine process and not reproducible; "+
			"pass the engines' PYTHONHASHSEED with --hash-seed, or NONE_HASH itself with --none-hash", e)}
	case !p.hash().cryptographic():
		return nil, "", &ErrNoSeed{fmt.Sprintf("no hash seed: with %s vLLM keeps NONE_HASH random per process unless PYTHONHASHSEED is set (also after PR #51875), so these keys cannot be reproduced; "+
			"pass the engines' PYTHONHASHSEED with --hash-seed, or NONE_HASH with --none-hash", p.hash())}
	}
	return append([]byte(nil), h.seed(DefaultSeed)...), fmt.Sprintf("%s(%q) (vLLM >= PR #51875 default, PYTHONHASHSEED unset)", p.hash(), DefaultSeed), nil
}

func (a HashAlgo) cryptographic() bool { return a == SHA256 || a == SHA256CBOR }

// ReplicationFactor is F: how many TP ranks write byte-identical objects
// under one key TP rank (tp_rank // F).
func (p *Params) ReplicationFactor() int {
	if p.EffectiveRules() == RulesPR40900 {
		kv := p.NumKVHeads
		if p.MLA {
			kv = 1
		}
		if kv > 0 && kv < p.TPSize {
			return p.TPSize / kv
		}
		return 1
	}
	switch {
	case p.DCPSize > 1:
		return 1
	case p.MLA:
		return p.TPSize
	case p.NumKVHeads <= 0:
		return 1
	}
	return max(1, p.TPSize/p.NumKVHeads)
}

func (p *Params) needsKVHeads() bool {
	if p.MLA || p.TPSize <= 1 {
		return false
	}
	return !(p.EffectiveRules() == RulesCurrent && p.DCPSize > 1)
}

// Validate checks the combination; errors name the field and the fix.
func (p *Params) Validate() error {
	if p.Hybrid != "" {
		return fmt.Errorf("hybrid model (%s): vLLM gives such models several KV-cache groups with their own block sizes and hit rules (and Mamba state partial-tail keys); lmc models a single full-attention group only, so it cannot compute these keys or hits", p.Hybrid)
	}
	if _, err := ParseEra(string(p.era())); err != nil {
		return err
	}
	if _, err := ParseHashAlgo(string(p.hash())); err != nil {
		return err
	}
	switch r := p.Rules; r {
	case "", RulesCurrent, RulesPR40900:
	default:
		return fmt.Errorf("rules %q: use current or pr40900", r)
	}
	if p.BlockSize <= 0 {
		return fmt.Errorf("block size %d: must be a positive number of tokens (the engine's --block-size; 16 on CUDA)", p.BlockSize)
	}
	if strings.TrimRight(p.Model, "/") == "" {
		return fmt.Errorf("no model: pass --model exactly as the engine's --model (HF repo id or path); keys carry its last path component")
	}
	if p.ModelName() == "" {
		return fmt.Errorf("model %q: the key name (its last path component) is empty", p.Model)
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"tp size", p.TPSize}, {"pp size", p.PPSize}, {"pcp size", p.PCPSize}, {"dcp size", p.DCPSize}} {
		if f.n <= 0 {
			return fmt.Errorf("%s %d: must be at least 1", f.name, f.n)
		}
	}
	if p.TPSize%p.DCPSize != 0 {
		return fmt.Errorf("dcp size %d: must divide tp size %d (DCP subdivides TP: dcp_rank = tp_rank %% dcp_size)", p.DCPSize, p.TPSize)
	}
	for _, f := range []struct {
		name    string
		r, size int
	}{{"tp rank", p.TPRank, p.TPSize}, {"pp rank", p.PPRank, p.PPSize}, {"pcp rank", p.PCPRank, p.PCPSize}} {
		if f.r < 0 || f.r >= f.size {
			return fmt.Errorf("%s %d: must be in 0..%d (or select all ranks)", f.name, f.r, f.size-1)
		}
	}
	if p.NumKVHeads < 0 {
		return fmt.Errorf("num kv heads %d: must be positive", p.NumKVHeads)
	}
	if p.NumKVHeads == 0 && p.needsKVHeads() {
		return fmt.Errorf("num kv heads: needed with tp size %d (TP ranks that share KV heads write one key, tp_rank // (tp_size / num_kv_heads)); pass the model's num_key_value_heads from its config.json, e.g. 8 for Llama-3.1-8B", p.TPSize)
	}
	if p.KVCacheGroup < 0 {
		return fmt.Errorf("kv cache group %d: group indices start at 0", p.KVCacheGroup)
	}
	for _, f := range []struct{ name, v string }{{"model", p.Model}, {"cache prefix", p.CachePrefix}, {"lora name", p.LoRAName}, {"cache salt", p.CacheSalt}} {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%s %q is not valid UTF-8 (vLLM hashes and keys Python str)", f.name, f.v)
		}
	}
	end := 0
	for i, m := range p.MM {
		if m.ID == "" || m.Offset < 0 || m.Length <= 0 || !utf8.ValidString(m.ID) {
			return fmt.Errorf("multimodal item %d (%s): needs an identifier, an offset >= 0 and a length >= 1", i, m)
		}
		if i > 0 && m.Offset < end {
			return fmt.Errorf("multimodal item %s: starts before the previous item ends (token %d); give the items sorted by offset, without overlap, as vLLM's placeholders are", m, end)
		}
		end = m.Offset + m.Length
	}
	if _, _, err := p.ResolveNoneHash(); err != nil {
		return err
	}
	return nil
}

// Warnings lists valid but doubtful combinations.
func (p *Params) Warnings() []string {
	var w []string
	e := p.era()
	if p.NoneHash == "" && p.HashSeed == nil && p.hash().cryptographic() && (e == V3 || e == A3) {
		w = append(w, "NONE_HASH assumed H(\"vllm-none-hash\"): right for vLLM since PR #51875 (2026-08-11) with PYTHONHASHSEED unset; an older engine without PYTHONHASHSEED had a random NONE_HASH and unreproducible keys")
	}
	if p.CachePrefix != "" && e != V3 {
		w = append(w, fmt.Sprintf("the cache prefix is not in %s keys (it came with V3, PR #45767); ignored", e))
	}
	if p.KVCacheGroup != 0 {
		if e == V1 || e == A1 || e == A2 {
			w = append(w, fmt.Sprintf("%s keys carry no KV-cache group; group %d ignored", e, p.KVCacheGroup))
		} else {
			w = append(w, fmt.Sprintf("KV-cache group %d exists only in hybrid models: keys assume the group's block size equals the hash block size, and the engine hit of hybrid models is not modelled", p.KVCacheGroup))
		}
	}
	if strings.Contains(p.ModelName(), "@") || strings.Contains(p.CachePrefix, "@") {
		w = append(w, "the model name or cache prefix contains '@', which vLLM does not escape: stored keys parse ambiguously")
	}
	if p.hash() == SHA256 || p.hash() == XXHash {
		if s := p.repeatedExtraString(); s != "" && !p.SameStringObjects {
			w = append(w, fmt.Sprintf("the extra keys repeat the string %q: pickle writes a second reference to the same Python object as a memo reference, not a copy, so the hash depends on object identity, which lmc cannot see; "+
				"keys assume distinct objects (same_string_objects would assume one); sha256_cbor does not have this trap", s))
		}
	}
	if p.EffectiveRules() == RulesPR40900 && (p.PCPSize > 1 || p.DCPSize > 1) {
		w = append(w, "the first release's lookup (PR #40900) checks only PCP/DCP rank 0 namespaces (fixed by PR #46855): the engine hit ignores, and may miss, the other ranks' keys")
	}
	return w
}

// repeatedExtraString returns a string that appears twice in one block's
// extra keys for some block ("" when none can).
func (p *Params) repeatedExtraString() string {
	seen := map[string]bool{}
	add := func(s string) string {
		if seen[s] {
			return s
		}
		seen[s] = true
		return ""
	}
	if p.LoRAName != "" {
		add(p.LoRAName)
	}
	for _, m := range p.MM {
		if s := add(m.ID); s != "" {
			return s
		}
	}
	if p.CacheSalt != "" {
		if s := add(p.CacheSalt); s != "" {
			return s
		}
	}
	return ""
}

var hybridNames = []struct{ substr, feature string }{
	{"jamba", "mamba"}, {"mamba", "mamba"}, {"nemotron-h", "mamba"}, {"nemotronh", "mamba"},
	{"falcon-h1", "mamba"}, {"granite-4.0-h", "mamba"}, {"qwen3-next", "mamba"}, {"qwen3.5", "mamba"},
	{"kimi-linear", "mamba"}, {"minimax-m1", "mamba"}, {"lfm2", "mamba"}, {"bamba", "mamba"}, {"zamba", "mamba"},
	{"gpt-oss", "swa"}, {"gemma-2", "swa"}, {"gemma-3", "swa"}, {"gemma2", "swa"}, {"gemma3", "swa"},
	{"mimo-v2", "swa"}, {"llama-4", "chunked-attention"},
}

// DetectHybrid names the hybrid feature of well-known hybrid model families
// from a --model value ("" when none is known). It is a heuristic for
// refusing early; Params.Hybrid is what Validate checks.
func DetectHybrid(model string) string {
	m := strings.ToLower(model)
	for _, h := range hybridNames {
		if strings.Contains(m, h.substr) {
			return h.feature
		}
	}
	return ""
}
