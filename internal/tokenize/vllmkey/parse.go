package vllmkey

import (
	"strings"

	"lmc/internal/tokenize/keytext"
)

// KeyInfo is what a stored key says about the vLLM (or vllm-ascend)
// instance that wrote it. Absent numeric fields are -1.
type KeyInfo struct {
	// Eras that render such a key: V1; V2 and V3 (identical without a
	// cache prefix); V3; A0..A3; V0.
	Eras        []Era
	CachePrefix string // V3
	Model       string // as in the key: --model's last path component (A0, A1: all of it)
	TPRank      int    // the key's TP rank (tp_rank // F; head_or_tp_rank in A*)
	PCPRank     int
	DCPRank     int
	PPRank      int
	Group       int
	CacheRole   string // A3: kv or state
	CacheFamily string // A3: default, c1, c4, …, mixed
	Layer       int    // A3 layer-wise keys
	// Hash is the block hash as rendered (hex; V0: the decimal prompt
	// hash); HashBytes its digest size (16 or 32; 8 for V0).
	Hash      string
	HashBytes int
	// Algorithms are the --prefix-caching-hash-algo values giving digests
	// of this size (vLLM eras and A1-A3).
	Algorithms []HashAlgo
	Hidden     bool // V0: the hidden-states object of a prompt
	WorldSize  int  // A0
	Rank       int  // A0: the worker rank
}

// Parse reads a Mooncake key written by vLLM's MooncakeStoreConnector
// (V1-V3), vllm-ascend's store connectors (A0-A3) or the removed V0
// connector. ok is false for other keys.
func Parse(key string) (KeyInfo, bool) {
	k := KeyInfo{TPRank: -1, PCPRank: -1, DCPRank: -1, PPRank: -1, Group: -1, Layer: -1, WorldSize: -1, Rank: -1}
	if strings.IndexByte(key, '@') < 0 {
		return parseV0(key, k)
	}
	f := strings.Split(key, "@")
	last := f[len(f)-1]
	if (len(last) != 32 && len(last) != 64) || !keytext.LowerHex(last) {
		return k, false
	}
	k.Hash, k.HashBytes = last, len(last)/2
	if k.HashBytes == 32 {
		k.Algorithms = []HashAlgo{SHA256, SHA256CBOR}
	} else {
		k.Algorithms = []HashAlgo{XXHash, XXHashCBOR}
	}
	f = f[:len(f)-1]
	for i, fld := range f {
		if v, ok := strings.CutPrefix(fld, "tp_rank:"); ok && i > 0 {
			return parseV(f, i, v, k)
		}
		if v, ok := strings.CutPrefix(fld, "head_or_tp_rank:"); ok && i > 0 {
			return parseA(f, i, v, k)
		}
	}
	// A0: <model>@<world_size>@<rank>@<sha256 hex chain>.
	if len(f) >= 3 && k.HashBytes == 32 && keytext.Number(f[len(f)-2], 9) && keytext.Number(f[len(f)-1], 9) {
		k.Model = strings.Join(f[:len(f)-2], "@")
		k.WorldSize, k.Rank = keytext.Atoi(f[len(f)-2]), keytext.Atoi(f[len(f)-1])
		if k.Model == "" || k.Rank >= k.WorldSize {
			return k, false
		}
		k.Eras, k.Algorithms = []Era{A0}, nil
		return k, true
	}
	return k, false
}

// parseV reads <prefix…>@<model>@tp_rank:r@pcp<p>@dcp<d>@pp_rank:<q>[@group:<g>].
func parseV(f []string, i int, r string, k KeyInfo) (KeyInfo, bool) {
	rest := f[i+1:]
	if !keytext.Number(r, 9) || len(rest) < 3 || len(rest) > 4 {
		return k, false
	}
	p, ok1 := strings.CutPrefix(rest[0], "pcp")
	d, ok2 := strings.CutPrefix(rest[1], "dcp")
	q, ok3 := strings.CutPrefix(rest[2], "pp_rank:")
	if !ok1 || !ok2 || !ok3 || !keytext.Number(p, 9) || !keytext.Number(d, 9) || !keytext.Number(q, 9) {
		return k, false
	}
	k.TPRank, k.PCPRank, k.DCPRank, k.PPRank = keytext.Atoi(r), keytext.Atoi(p), keytext.Atoi(d), keytext.Atoi(q)
	k.Model = f[i-1]
	prefix := strings.Join(f[:i-1], "@")
	if k.Model == "" {
		return k, false
	}
	if len(rest) == 3 {
		if i > 1 {
			// V1 has no cache prefix: the model itself holds '@'.
			k.Model = strings.Join(f[:i], "@")
		}
		k.Eras = []Era{V1}
		return k, true
	}
	g, ok := strings.CutPrefix(rest[3], "group:")
	if !ok || !keytext.Number(g, 9) {
		return k, false
	}
	if i > 1 && prefix == "" {
		return k, false // V3 writes no "@" for an empty cache prefix
	}
	k.Group = keytext.Atoi(g)
	k.CachePrefix = prefix
	if prefix == "" {
		k.Eras = []Era{V2, V3}
	} else {
		k.Eras = []Era{V3}
	}
	return k, true
}

// parseA reads vllm-ascend's A1 <model>@head_or_tp_rank:<r>, A2
// <model>@pcp<p>@dcp<d>@head_or_tp_rank:<r>@pp_rank:<q> and A3 (A2 then
// group, cache_role, cache_family; layer-wise keys have layer_id for
// pp_rank).
func parseA(f []string, i int, r string, k KeyInfo) (KeyInfo, bool) {
	if !keytext.Number(r, 9) {
		return k, false
	}
	k.TPRank = keytext.Atoi(r)
	rest := f[i+1:]
	if len(rest) == 0 {
		k.Model = strings.Join(f[:i], "@")
		k.Eras = []Era{A1}
		return k, k.Model != ""
	}
	if i < 3 {
		return k, false
	}
	p, ok1 := strings.CutPrefix(f[i-2], "pcp")
	d, ok2 := strings.CutPrefix(f[i-1], "dcp")
	if !ok1 || !ok2 || !keytext.Number(p, 9) || !keytext.Number(d, 9) {
		return k, false
	}
	k.PCPRank, k.DCPRank = keytext.Atoi(p), keytext.Atoi(d)
	k.Model = strings.Join(f[:i-2], "@")
	if k.Model == "" {
		return k, false
	}
	if q, ok := strings.CutPrefix(rest[0], "pp_rank:"); ok && keytext.Number(q, 9) {
		k.PPRank = keytext.Atoi(q)
	} else if l, ok := strings.CutPrefix(rest[0], "layer_id:"); ok && keytext.Number(l, 9) {
		k.Layer = keytext.Atoi(l)
	} else {
		return k, false
	}
	if len(rest) == 1 {
		if k.Layer >= 0 {
			return k, false
		}
		k.Eras = []Era{A2}
		return k, true
	}
	if len(rest) != 4 {
		return k, false
	}
	g, ok1 := strings.CutPrefix(rest[1], "group:")
	role, ok2 := strings.CutPrefix(rest[2], "cache_role:")
	fam, ok3 := strings.CutPrefix(rest[3], "cache_family:")
	if !ok1 || !ok2 || !ok3 || !keytext.Number(g, 9) || role == "" || fam == "" {
		return k, false
	}
	k.Group, k.CacheRole, k.CacheFamily = keytext.Atoi(g), role, fam
	k.Eras = []Era{A3}
	return k, true
}

// parseV0 reads <int>_<tp> and <int>_hidden_<tp>: the removed V0 connector's
// whole-prompt objects (int(blake2b(tokens)[:16 hex], 16) in decimal).
func parseV0(key string, k KeyInfo) (KeyInfo, bool) {
	h, tp, ok := strings.Cut(key, "_")
	if !ok || !keytext.Number(h, 20) {
		return k, false
	}
	if rest, ok := strings.CutPrefix(tp, "hidden_"); ok {
		tp, k.Hidden = rest, true
	}
	if !keytext.Number(tp, 9) {
		return k, false
	}
	k.Hash, k.HashBytes, k.TPRank, k.Eras = h, 8, keytext.Atoi(tp), []Era{V0}
	return k, true
}
