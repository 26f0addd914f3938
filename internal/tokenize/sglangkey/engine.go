package sglangkey

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"lmc/internal/tokenize/keyslab"
	"lmc/internal/tokenize/rankhit"
)

// Rank is one SGLang scheduler process: an attention-TP rank of a PP stage.
type Rank struct{ TP, PP int }

// String is the rank's label, as in the vectors: "tp1_pp0".
func (r Rank) String() string { return "tp" + strconv.Itoa(r.TP) + "_pp" + strconv.Itoa(r.PP) }

// Chunk is one page's keys. Start and End count tokens, or bigrams in EAGLE
// mode (bigram i is (tokens[i], tokens[i+1])).
type Chunk struct {
	Index, Start, End int
	// Parent is the hex digest the page chains from: the previous page's
	// hash, the S4 namespace seed for page 0 of a seeded request, or "" for
	// page 0 (no prior bytes).
	Parent string
	// Hash is the page hash as SGLang renders it: 64 lowercase hex digits.
	Hash string
	// Keys are the page's Mooncake objects for the selection, in the order
	// the engine checks them.
	Keys []string
}

// Engine computes keys for many prompts with the same parameters. It is not
// safe for concurrent use; make one per goroutine.
type Engine struct {
	p     Params
	head  string   // key prefix up to the hash: "<tag>_<model>_" or ""
	ranks []Rank   // rank order: PP outer, TP inner
	tails []string // the distinct object suffixes of all ranks, in rank order
	needs [][]int  // needs[r] = indices into tails rank r checks, in its order
	seed  string   // S4 namespace seed (hex), "" when unseeded
	seedB [32]byte

	in   []byte // hash input
	offs []int  // key offsets within a chunk's text
	slab keyslab.Slab
}

// NewEngine validates p and prepares an engine.
func NewEngine(p Params) (*Engine, error) {
	if p.Era == "" {
		p.Era = DefaultEra
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{p: p, head: keyHead(&p)}
	index := map[string]int{}
	for pp := 0; pp < p.PPSize; pp++ {
		for tp := 0; tp < p.TPSize; tp++ {
			e.ranks = append(e.ranks, Rank{tp, pp})
			var need []int
			for _, s := range p.suffixes(tp, pp) {
				i, ok := index[s]
				if !ok {
					i = len(e.tails)
					index[s] = i
					e.tails = append(e.tails, s)
				}
				need = append(need, i)
			}
			e.needs = append(e.needs, need)
		}
	}
	if p.Seeded() {
		e.seedB = NamespaceSeed(p.ExtraKey, p.CacheSalt)
		e.seed = hex.EncodeToString(e.seedB[:])
	}
	return e, nil
}

// keyHead is config_prefix + "_": the tag (when not None) and, from S3, the
// served model name with "/" -> "-", joined by "_".
func keyHead(p *Params) string {
	var parts []string
	if p.ExtraBackendTag != nil {
		parts = append(parts, *p.ExtraBackendTag)
	}
	if p.era().rank() >= 3 && p.ModelName != "" {
		parts = append(parts, ModelPart(p.ModelName))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "_") + "_"
}

// ModelPart is how S3+ keys render a served model name: "/" becomes "-"
// ("Qwen/Qwen3-8B" -> "Qwen-Qwen3-8B", "/models/Qwen3-8B" ->
// "-models-Qwen3-8B").
func ModelPart(name string) string { return strings.ReplaceAll(name, "/", "-") }

// suffixes are the objects rank (tp, pp) writes and checks per page, in the
// order of its batch_is_exist call.
func (p *Params) suffixes(tp, pp int) []string {
	pps := ""
	if p.era().rank() >= 2 && p.PPSize > 1 {
		pps = "_" + strconv.Itoa(pp)
	}
	if p.MLA {
		if p.era() == S1 {
			return []string{"_k"}
		}
		if pps == "" {
			return []string{"__k"}
		}
		return []string{pps + "_k"}
	}
	f := p.splitFactor()
	out := make([]string, 0, 2*f)
	for j := 0; j < f; j++ {
		r := "_" + strconv.Itoa(tp*f+j) + pps
		out = append(out, r+"_k", r+"_v")
	}
	return out
}

// Params returns the engine's parameters.
func (e *Engine) Params() Params { return e.p }

// Ranks lists every rank in rank order (PP outer, TP inner).
func (e *Engine) Ranks() []Rank { return append([]Rank(nil), e.ranks...) }

// KeyHead is the key prefix before the page hash ("" or "<prefix>_").
func (e *Engine) KeyHead() string { return e.head }

// Suffixes are the object suffixes (after the page hash) rank r checks.
func (e *Engine) Suffixes(r Rank) []string { return e.p.suffixes(r.TP, r.PP) }

// Seed is the S4 namespace seed the chain starts from ("" when unseeded).
func (e *Engine) Seed() string { return e.seed }

// Bigrams reports EAGLE mode: units are token bigrams.
func (e *Engine) Bigrams() bool { return e.p.Eagle }

// NumPages is how many pages a prompt of n tokens has: whole pages only
// (of n-1 bigrams in EAGLE mode).
func (p *Params) NumPages(n int) int {
	if p.PageSize <= 0 {
		return 0
	}
	if p.Eagle {
		n--
	}
	if n <= 0 {
		return 0
	}
	return n / p.PageSize
}

// selection returns the tail indices of one chunk's keys for sel.
func (e *Engine) selection(sel rankhit.Select) []int {
	if sel == rankhit.OneRank {
		return e.needs[e.p.PPRank*e.p.TPSize+e.p.TPRank]
	}
	all := make([]int, len(e.tails))
	for i := range all {
		all[i] = i
	}
	return all
}

// Layout says which keys of a chunk (for sel) each rank checks. For
// OneRank it has the one rank.
func (e *Engine) Layout(sel rankhit.Select) rankhit.Layout {
	if sel == rankhit.OneRank {
		r := e.ranks[e.p.PPRank*e.p.TPSize+e.p.TPRank]
		need := make([]int, len(e.needs[e.p.PPRank*e.p.TPSize+e.p.TPRank]))
		for i := range need {
			need[i] = i
		}
		return rankhit.Layout{Owners: []string{r.String()}, KeysPerChunk: len(need), Needs: [][]int{need}}
	}
	l := rankhit.Layout{KeysPerChunk: len(e.tails)}
	for i, r := range e.ranks {
		l.Owners = append(l.Owners, r.String())
		l.Needs = append(l.Needs, append([]int(nil), e.needs[i]...))
	}
	return l
}

// Each calls fn for every page of tokens, in order, with the keys of sel
// (Lookup is the same as AllRanks: every rank checks its own objects). The
// strings and the Keys slice stay valid after fn returns.
func (e *Engine) Each(tokens []uint32, sel rankhit.Select, fn func(Chunk) error) error {
	P := e.p.PageSize
	n := e.p.NumPages(len(tokens))
	tails := e.selection(sel)
	unit := 4
	if e.p.Eagle {
		unit = 8
	}
	e.in = growTo(e.in, 32+unit*P)
	textLen := 64
	for _, t := range tails {
		textLen += len(e.head) + 64 + len(e.tails[t])
	}
	var prev [32]byte
	havePrev := false
	parent := ""
	if e.seed != "" {
		prev, havePrev, parent = e.seedB, true, e.seed
	}
	for i := 0; i < n; i++ {
		start := i * P
		b := e.in[:0]
		if havePrev {
			b = append(b, prev[:]...)
		}
		if e.p.Eagle {
			for j := start; j < start+P; j++ {
				b = binary.LittleEndian.AppendUint32(b, tokens[j])
				b = binary.LittleEndian.AppendUint32(b, tokens[j+1])
			}
		} else {
			for _, t := range tokens[start : start+P] {
				b = binary.LittleEndian.AppendUint32(b, t)
			}
		}
		sum := sha256.Sum256(b)
		text := e.slab.Begin(textLen)
		text = hex.AppendEncode(text, sum[:])
		marks := e.slab.Strings(len(tails))
		offs := e.scratchOffsets(len(tails))
		for k, t := range tails {
			offs[k] = len(text)
			text = append(text, e.head...)
			text = append(text, text[:64]...)
			text = append(text, e.tails[t]...)
		}
		s := e.slab.Commit(text)
		for k := range tails {
			end := len(s)
			if k+1 < len(tails) {
				end = offs[k+1]
			}
			marks[k] = s[offs[k]:end]
		}
		c := Chunk{Index: i, Start: start, End: start + P, Parent: parent, Hash: s[:64], Keys: marks}
		if err := fn(c); err != nil {
			return err
		}
		prev, havePrev, parent = sum, true, c.Hash
	}
	return nil
}

func (e *Engine) scratchOffsets(n int) []int {
	if cap(e.offs) < n {
		e.offs = make([]int, n)
	}
	return e.offs[:n]
}

func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, 0, n)
	}
	return b[:0]
}

// Chunks returns every page with the keys of sel.
func (e *Engine) Chunks(tokens []uint32, sel rankhit.Select) ([]Chunk, error) {
	out := make([]Chunk, 0, e.p.NumPages(len(tokens)))
	err := e.Each(tokens, sel, func(c Chunk) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// NamespaceSeed is S4's storage_namespace_seed: SHA-256 of
// "sglang-cache-namespace-v1", then for extra_key and cache_salt in turn
// 0x00 when None, else 0x01 ‖ u64_le(len(utf8)) ‖ utf8. The chain of a
// request with either field starts from this digest.
func NamespaceSeed(extraKey, cacheSalt *string) [32]byte {
	h := sha256.New()
	h.Write([]byte("sglang-cache-namespace-v1"))
	for _, part := range []*string{extraKey, cacheSalt} {
		if part == nil {
			h.Write([]byte{0})
			continue
		}
		var n [9]byte
		n[0] = 1
		binary.LittleEndian.PutUint64(n[1:], uint64(len(*part)))
		h.Write(n[:])
		h.Write([]byte(*part))
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// PageHash is get_hash_str for one page: SHA-256 of the prior digest (none
// when prior is nil) and the units as u32 little-endian.
func PageHash(prior []byte, units []uint32) [32]byte {
	b := make([]byte, 0, len(prior)+4*len(units))
	b = append(b, prior...)
	for _, t := range units {
		b = binary.LittleEndian.AppendUint32(b, t)
	}
	return sha256.Sum256(b)
}

// Hit is the result of an SGLang lookup.
type Hit struct {
	Owners  []string // ranks, as in the Layout
	PerRank []int    // tokens: each rank's leading pages with every object present × page size
	// Prefix is the minimum over ranks (all_reduce MIN): the raw prefix hit.
	Prefix int
	// Engine is what SGLang uses: Prefix, or 0 when Prefix is below the
	// prefetch threshold (the prefetch is revoked).
	Engine    int
	Threshold int
}

// Hit turns a tracker fed with this engine's chunks (same selection) into
// token counts.
func (e *Engine) Hit(l *rankhit.Layout, t *rankhit.Tracker) Hit {
	h := Hit{Owners: l.Owners, Threshold: e.p.Threshold()}
	for _, pg := range t.Pages() {
		h.PerRank = append(h.PerRank, pg*e.p.PageSize)
	}
	h.Prefix = t.Min() * e.p.PageSize
	h.Engine = e.p.EngineHit(h.Prefix)
	return h
}

// EngineHit applies prefetch_threshold to the minimum over ranks: SGLang
// revokes a prefetch of fewer tokens than the threshold (at least one page).
func (p *Params) EngineHit(minTokens int) int {
	if minTokens < p.Threshold() {
		return 0
	}
	return minTokens
}

// String describes the engine for explain output.
func (e *Engine) String() string {
	return fmt.Sprintf("sglang %s page=%d tp=%d pp=%d mla=%v eagle=%v", e.p.era(), e.p.PageSize, e.p.TPSize, e.p.PPSize, e.p.MLA, e.p.Eagle)
}

// Traps lists, for explain, what can make these keys differ from the
// engine's although every input above is right: the parameters' warnings
// first, then the standing traps of SGLang's keys.
func (e *Engine) Traps() []string {
	out := e.p.Warnings()
	out = append(out,
		"the served model name (S3+) is --served-model-name, which defaults to --model-path: a local path gives '-models-…'",
		"EAGLE/EAGLE3 servers hash token bigrams: the speculative algorithm must be known",
		"requests with extra_key or cache_salt (LoRA, salts) chain from the S4 namespace seed; lmc reproduces them only from the exact strings",
		"a Mooncake tenant_id scopes objects on the master but is not in the key: look up in the engine's tenant",
		"not modelled: hybrid pools (Mamba, SWA, DSA indexer, DeepSeek-V4, draft KV: refused), the context-parallel suffix proposal (PR #37234), the prototype S0 keys")
	return out
}
