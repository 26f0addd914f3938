package vllmkey

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"lmc/internal/tokenize/keyslab"
	"lmc/internal/tokenize/rankhit"
)

// Rank is one physical worker: a TP rank of a PCP group of a PP stage.
type Rank struct{ TP, PP, PCP int }

// String is the rank's label, as in the vectors: "tp1_pp0_pcp0".
func (r Rank) String() string {
	return "tp" + strconv.Itoa(r.TP) + "_pp" + strconv.Itoa(r.PP) + "_pcp" + strconv.Itoa(r.PCP)
}

// Namespace is the rank part of a key: the key's TP rank (tp_rank // F),
// PCP, DCP and PP ranks.
type Namespace struct{ TP, PCP, DCP, PP int }

// String renders it as vLLM's keys do: "tp_rank:0@pcp0@dcp0@pp_rank:0".
func (n Namespace) String() string {
	return "tp_rank:" + strconv.Itoa(n.TP) + "@pcp" + strconv.Itoa(n.PCP) + "@dcp" + strconv.Itoa(n.DCP) + "@pp_rank:" + strconv.Itoa(n.PP)
}

// Chunk is one block's key(s).
type Chunk struct {
	Index, Start, End int
	// Parent is the hex of the hash the block chains from (NONE_HASH for
	// block 0); Hash is the block hash as block_hash.hex() renders it.
	Parent, Hash string
	// Extra is the block's extra_keys.
	Extra ExtraKeys
	// EncodedLen is the length of the serialised tuple that was digested.
	EncodedLen int
	// Keys are the block's Mooncake keys for the selection.
	Keys []string
}

// Engine computes keys for many prompts with the same parameters. It is not
// safe for concurrent use; make one per goroutine.
type Engine struct {
	p        Params
	noneHash []byte
	noneHex  string
	noneSrc  string
	rules    Rules

	ranks    []Rank
	rankNS   []int       // per rank: index into allNS
	allNS    []Namespace // the namespaces ranks write, deduplicated, rank order
	lookupNS []Namespace // the namespaces the engine's lookup checks, its order

	h     *hasher
	slab  keyslab.Slab
	offs  []int
	mmBuf []MMKey
}

// NewEngine validates p, resolves NONE_HASH and prepares an engine.
func NewEngine(p Params) (*Engine, error) {
	if p.Era == "" {
		p.Era = DefaultEra
	}
	if p.Hash == "" {
		p.Hash = SHA256
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	nh, src, err := p.ResolveNoneHash()
	if err != nil {
		return nil, err
	}
	e := &Engine{p: p, noneHash: nh, noneHex: hex.EncodeToString(nh), noneSrc: src, rules: p.EffectiveRules(), h: newHasher(p.Hash)}
	F := p.ReplicationFactor()
	index := map[Namespace]int{}
	for pp := 0; pp < p.PPSize; pp++ {
		for pcp := 0; pcp < p.PCPSize; pcp++ {
			for tp := 0; tp < p.TPSize; tp++ {
				r := Rank{TP: tp, PP: pp, PCP: pcp}
				ns := Namespace{TP: tp / F, PCP: pcp, PP: pp}
				if p.DCPSize > 1 {
					ns.DCP = tp % p.DCPSize
				}
				i, ok := index[ns]
				if !ok {
					i = len(e.allNS)
					index[ns] = i
					e.allNS = append(e.allNS, ns)
				}
				e.ranks = append(e.ranks, r)
				e.rankNS = append(e.rankNS, i)
			}
		}
	}
	e.lookupNS = p.lookupNamespaces()
	return e, nil
}

// lookupNamespaces is what the engine's lookup checks, in its order.
func (p *Params) lookupNamespaces() []Namespace {
	var out []Namespace
	if p.EffectiveRules() == RulesPR40900 {
		// The rank-0 key rewritten to @tp_rank:i and @pp_rank:j.
		n := p.TPSize
		if p.MLA {
			n = 1
		} else if p.NumKVHeads > 0 {
			n = min(n, p.NumKVHeads)
		}
		for pp := 0; pp < p.PPSize; pp++ {
			for i := 0; i < n; i++ {
				out = append(out, Namespace{TP: i, PP: pp})
			}
		}
		return out
	}
	if p.DCPSize > 1 {
		for pcp := 0; pcp < p.PCPSize; pcp++ {
			for tp := 0; tp < p.TPSize; tp++ {
				for pp := 0; pp < p.PPSize; pp++ {
					out = append(out, Namespace{TP: tp, PCP: pcp, DCP: tp % p.DCPSize, PP: pp})
				}
			}
		}
		return out
	}
	shards := p.TPSize / p.ReplicationFactor()
	for pcp := 0; pcp < p.PCPSize; pcp++ {
		for s := 0; s < shards; s++ {
			for pp := 0; pp < p.PPSize; pp++ {
				out = append(out, Namespace{TP: s, PCP: pcp, PP: pp})
			}
		}
	}
	return out
}

// Params returns the engine's parameters.
func (e *Engine) Params() Params { return e.p }

// Rules is the rank/lookup/hit generation in force.
func (e *Engine) Rules() Rules { return e.rules }

// NoneHash is NONE_HASH in hex, and where it came from.
func (e *Engine) NoneHash() (hexDigest, source string) { return e.noneHex, e.noneSrc }

// Ranks lists every physical rank in rank order (PP outer, then PCP, TP
// inner).
func (e *Engine) Ranks() []Rank { return append([]Rank(nil), e.ranks...) }

// RankNamespace is the namespace rank r writes its keys under.
func (e *Engine) RankNamespace(r Rank) Namespace {
	return e.allNS[e.rankNS[(r.PP*e.p.PCPSize+r.PCP)*e.p.TPSize+r.TP]]
}

// LookupNamespaces are the namespaces the engine's own lookup checks.
func (e *Engine) LookupNamespaces() []Namespace { return append([]Namespace(nil), e.lookupNS...) }

// KeyHead is the key up to the block hash for a namespace.
func (e *Engine) KeyHead(ns Namespace) string {
	p := &e.p
	var b strings.Builder
	model := p.ModelName()
	g := strconv.Itoa(p.KVCacheGroup)
	switch p.era() {
	case V1, V2, V3:
		if p.era() == V3 && p.CachePrefix != "" {
			b.WriteString(p.CachePrefix + "@")
		}
		b.WriteString(model + "@" + ns.String() + "@")
		if p.era() != V1 {
			b.WriteString("group:" + g + "@")
		}
	case A1:
		b.WriteString(model + "@head_or_tp_rank:" + strconv.Itoa(ns.TP) + "@")
	case A2, A3:
		b.WriteString(model + "@pcp" + strconv.Itoa(ns.PCP) + "@dcp" + strconv.Itoa(ns.DCP) + "@head_or_tp_rank:" + strconv.Itoa(ns.TP) + "@pp_rank:" + strconv.Itoa(ns.PP) + "@")
		if p.era() == A3 {
			b.WriteString("group:" + g + "@cache_role:kv@cache_family:default@")
		}
	}
	return b.String()
}

// selection lists the namespaces whose keys a chunk carries for sel.
func (e *Engine) selection(sel rankhit.Select) []Namespace {
	switch sel {
	case rankhit.AllRanks:
		return e.allNS
	case rankhit.Lookup:
		return e.lookupNS
	}
	return []Namespace{e.RankNamespace(Rank{TP: e.p.TPRank, PP: e.p.PPRank, PCP: e.p.PCPRank})}
}

// Layout says which keys of a chunk (for sel) each owner needs: the one
// rank (OneRank), every physical rank (AllRanks: ranks sharing a namespace
// share its key), or every lookup namespace (Lookup).
func (e *Engine) Layout(sel rankhit.Select) rankhit.Layout {
	switch sel {
	case rankhit.AllRanks:
		l := rankhit.Layout{KeysPerChunk: len(e.allNS)}
		for i, r := range e.ranks {
			l.Owners = append(l.Owners, r.String())
			l.Needs = append(l.Needs, []int{e.rankNS[i]})
		}
		return l
	case rankhit.Lookup:
		l := rankhit.Layout{KeysPerChunk: len(e.lookupNS)}
		for i, ns := range e.lookupNS {
			l.Owners = append(l.Owners, ns.String())
			l.Needs = append(l.Needs, []int{i})
		}
		return l
	}
	r := Rank{TP: e.p.TPRank, PP: e.p.PPRank, PCP: e.p.PCPRank}
	return rankhit.Layout{Owners: []string{r.String()}, KeysPerChunk: 1, Needs: [][]int{{0}}}
}

// NumBlocks is how many keys a prompt of n tokens has per namespace: full
// blocks only.
func (p *Params) NumBlocks(n int) int {
	if p.BlockSize <= 0 || n <= 0 {
		return 0
	}
	return n / p.BlockSize
}

// Each calls fn for every block of tokens, in order, with the keys of sel.
// Strings and slices in the Chunk stay valid after fn returns.
func (e *Engine) Each(tokens []uint32, sel rankhit.Select, fn func(Chunk) error) error {
	for _, m := range e.p.MM {
		if m.Offset+m.Length > len(tokens) {
			return fmt.Errorf("multimodal item %s: its placeholders end at token %d, beyond the prompt's %d tokens", m, m.Offset+m.Length, len(tokens))
		}
	}
	B := e.p.BlockSize
	n := e.p.NumBlocks(len(tokens))
	nss := e.selection(sel)
	heads := make([]string, len(nss))
	dl := e.p.Hash.DigestLen()
	textLen := 2 * dl
	for i, ns := range nss {
		heads[i] = e.KeyHead(ns)
		textLen += len(heads[i]) + 2*dl
	}
	var prev [32]byte
	parent := prev[:copy(prev[:], e.noneHash)]
	parentHex := e.noneHex
	mmIdx := 0
	shared := e.p.SameStringObjects && (e.p.Hash == SHA256 || e.p.Hash == XXHash)
	for i := 0; i < n; i++ {
		start, end := i*B, (i+1)*B
		var x ExtraKeys
		if e.p.LoRAName != "" {
			x.LoRA, x.HasLoRA = e.p.LoRAName, true
		}
		x.MM, mmIdx = e.mmKeys(start, end, mmIdx)
		if i == 0 && e.p.CacheSalt != "" {
			x.Salt, x.HasSalt = e.p.CacheSalt, true
		}
		d := e.h.block(parent, tokens[start:end], &x, shared)
		text := e.slab.Begin(textLen)
		text = hex.AppendEncode(text, d)
		hl := len(text)
		offs := e.offsets(len(nss))
		for k := range nss {
			offs[k] = len(text)
			text = append(text, heads[k]...)
			text = append(text, text[:hl]...)
		}
		s := e.slab.Commit(text)
		keys := e.slab.Strings(len(nss))
		for k := range nss {
			stop := len(s)
			if k+1 < len(nss) {
				stop = offs[k+1]
			}
			keys[k] = s[offs[k]:stop]
		}
		c := Chunk{Index: i, Start: start, End: end, Parent: parentHex, Hash: s[:hl], Extra: x, EncodedLen: e.h.last, Keys: keys}
		if err := fn(c); err != nil {
			return err
		}
		parent = prev[:copy(prev[:], d)]
		parentHex = c.Hash
	}
	return nil
}

func (e *Engine) offsets(n int) []int {
	if cap(e.offs) < n {
		e.offs = make([]int, n)
	}
	return e.offs[:n]
}

// mmKeys is mmKeysInto with the result carved from the engine's block of
// MMKeys (the slices stay valid, and cost no allocation per block).
func (e *Engine) mmKeys(start, end, idx int) ([]MMKey, int) {
	if len(e.p.MM) == 0 {
		return nil, idx
	}
	if cap(e.mmBuf)-len(e.mmBuf) < len(e.p.MM) {
		e.mmBuf = make([]MMKey, 0, max(1024, len(e.p.MM)))
	}
	n := len(e.mmBuf)
	out, idx := mmKeysInto(e.mmBuf, e.p.MM, start, end, idx)
	e.mmBuf = out
	if len(out) == n {
		return nil, idx
	}
	return out[n:len(out):len(out)], idx
}

// mmKeysInto is vLLM's _gen_mm_extra_hash_keys for block [start, end): it
// appends the (identifier, offset - start) of every item overlapping the
// block to out, walking the sorted items from idx, and returns the index to
// continue from.
func mmKeysInto(out []MMKey, items []MMItem, start, end, idx int) ([]MMKey, int) {
	for idx < len(items) {
		m := items[idx]
		if end <= m.Offset {
			break // the block has not reached the item
		}
		if start >= m.Offset+m.Length {
			idx++ // the block is past the item
			continue
		}
		out = append(out, MMKey{ID: m.ID, Offset: m.Offset - start})
		if end >= m.Offset+m.Length {
			idx++ // the item ends in this block; the next may start here too
			continue
		}
		break // the item goes on past this block
	}
	return out, idx
}

// Chunks returns every block with the keys of sel.
func (e *Engine) Chunks(tokens []uint32, sel rankhit.Select) ([]Chunk, error) {
	out := make([]Chunk, 0, e.p.NumBlocks(len(tokens)))
	err := e.Each(tokens, sel, func(c Chunk) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// Encode returns the bytes digested for one block (for explain and tests).
func (e *Engine) Encode(parent []byte, tokens []uint32, x *ExtraKeys) []byte {
	h := newHasher(e.p.Hash)
	shared := e.p.SameStringObjects && (e.p.Hash == SHA256 || e.p.Hash == XXHash)
	return append([]byte(nil), h.encode(parent, tokens, x, shared)...)
}

// Hit is the result of a vLLM lookup.
type Hit struct {
	Owners   []string // as in the Layout
	PerOwner []int    // tokens: each owner's leading blocks with its keys present × block size
	// Prefix is the leading blocks present for every owner × block size:
	// the raw prefix hit.
	Prefix int
	// Engine is what the connector reports under Rules (the full-prompt
	// rule, and EAGLE's dropped block under RulesCurrent).
	Engine int
	Rules  Rules
}

// Hit turns a tracker fed with this engine's chunks into token counts, for
// a prompt of numTokens tokens. For the engine's own view feed it the
// Lookup selection.
func (e *Engine) Hit(numTokens int, l *rankhit.Layout, t *rankhit.Tracker) Hit {
	h := Hit{Owners: l.Owners, Rules: e.rules}
	for _, b := range t.Pages() {
		h.PerOwner = append(h.PerOwner, b*e.p.BlockSize)
	}
	h.Prefix = t.Min() * e.p.BlockSize
	h.Engine = EngineHit(e.rules, e.p.Eagle, numTokens, e.p.BlockSize, h.Prefix)
	return h
}

// EngineHit is the number of tokens the connector reports for a prompt of
// numTokens tokens whose leading prefixTokens (a multiple of blockSize) are
// present in every namespace.
//
// RulesCurrent (worker.lookup over the coordinator): the hit is limited to
// floor(n/B)·B; with EAGLE the last hit block is dropped; a hit reaching n
// is re-derived within floor((n-1)/B)·B. RulesPR40900: a hit equal to n
// loses one token (the scheduler's -1).
func EngineHit(r Rules, eagle bool, numTokens, blockSize, prefixTokens int) int {
	if blockSize <= 0 || numTokens <= 0 {
		return 0
	}
	present := prefixTokens / blockSize
	if r == RulesPR40900 {
		hit := min(present, numTokens/blockSize) * blockSize
		if hit == numTokens {
			hit--
		}
		return max(hit, 0)
	}
	find := func(maxLen int) int {
		b := min(present, maxLen/blockSize)
		if eagle && b > 0 {
			b--
		}
		return b * blockSize
	}
	tokenLen := numTokens / blockSize * blockSize
	if tokenLen <= 0 {
		return 0
	}
	hit := find(tokenLen)
	if hit >= numTokens {
		usable := (numTokens - 1) / blockSize * blockSize
		if usable <= 0 {
			return 0
		}
		hit = find(usable)
	}
	return hit
}

// Traps lists, for explain, what can make these keys differ from the
// engine's although every input above is right: the parameters' warnings
// first, then the standing traps of vLLM's hashing.
func (e *Engine) Traps() []string {
	out := e.p.Warnings()
	if e.p.Hash == SHA256 || e.p.Hash == XXHash {
		assume := "distinct objects"
		if e.p.SameStringObjects {
			assume = "one object per distinct value (same_string_objects)"
		}
		out = append(out, "pickle object identity: "+string(e.p.Hash)+" digests a CPython pickle, which writes a str object seen before in the same block as a memo reference; lmc assumes the extra keys' strings are "+assume+"; sha256_cbor has no such trap")
	}
	_, src := e.NoneHash()
	out = append(out, "NONE_HASH = "+src+": unreproducible when the engines ran without PYTHONHASHSEED before vLLM PR #51875 (2026-08-11), or with xxhash/xxhash_cbor at any version")
	out = append(out, "not modelled: prompt embeddings (a per-block digest extra key), hybrid models (several KV-cache groups, Mamba state, sliding windows: refused), hash_block_size != block_size")
	return out
}
