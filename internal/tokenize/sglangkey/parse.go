package sglangkey

import (
	"strings"

	"lmc/internal/tokenize/keytext"
)

// Kind classifies a stored SGLang object key.
type Kind string

const (
	KindMHA Kind = "mha" // one of a page's K/V objects of an MHA/GQA model
	KindMLA Kind = "mla" // a page's single MLA object
	// KindMHAOrMLA: "<hash>_<n>_k" is an MHA K object of TP rank n without
	// PP, or (S2+) the MLA object of PP stage n; its "_v" sibling decides.
	KindMHAOrMLA Kind = "mha-or-mla"
	// KindHybrid: an object of a hybrid pool (Mamba state, SWA, DSA
	// indexer, DeepSeek-V4 side pools, draft KV): out of scope.
	KindHybrid Kind = "hybrid"
	// KindWarmup: the object SGLang's MooncakeStore puts at start-up; not KV.
	KindWarmup Kind = "warmup"
)

// KeyInfo is what a stored key says about the SGLang instance that wrote it.
type KeyInfo struct {
	Kind Kind
	// Prefix is config_prefix: the extra backend tag and/or (S3+) the
	// served model name with "/" -> "-", joined by "_" ("" when the key has
	// none). The two parts cannot be told apart from one key.
	Prefix string
	// HasPrefix: the key has a prefix part, possibly empty (an empty
	// extra_backend_tag gives "_<hash>…").
	HasPrefix bool
	Hash      string // the 64-hex-digit page hash
	Suffix    string // everything after the hash ("_1_0_k")
	Object    string // "k" or "v" for KV objects; the pool object name for hybrid ones
	// TP and PP are the ranks in the suffix, -1 where the key has none (an
	// MLA key has no TP rank; without PP there is no PP rank). For
	// KindMHAOrMLA, TP holds the number (PP when it is MLA). With split
	// heads TP is the head-slice rank tp*f+j.
	TP, PP int
	// Eras that write this suffix.
	Eras []Era
}

const warmupPrefix = "sglang_mooncake_store_warmup_key"

// Parse reads a Mooncake object key written by SGLang HiCache. ok is false
// for keys of any other shape.
func Parse(key string) (KeyInfo, bool) {
	if rest, ok := strings.CutPrefix(key, warmupPrefix); ok && len(rest) == 32 && keytext.LowerHex(rest) {
		return KeyInfo{Kind: KindWarmup, TP: -1, PP: -1}, true
	}
	// The rightmost 64-hex run that starts the key or follows "_" and is
	// followed by a known suffix; suffixes are short, so only the tail is
	// searched.
	lo := max(0, len(key)-66-maxSuffix)
	for i := len(key) - 66; i >= lo; i-- {
		if i > 0 && key[i-1] != '_' {
			continue
		}
		if key[i+64] != '_' || !keytext.LowerHex(key[i:i+64]) {
			continue
		}
		k, ok := parseSuffix(key[i+64:])
		if !ok {
			continue
		}
		k.Hash = key[i : i+64]
		if i > 0 {
			k.Prefix, k.HasPrefix = key[:i-1], true
		}
		return k, true
	}
	return KeyInfo{}, false
}

const maxSuffix = 64

var (
	erasAll = []Era{S1, S2, S3, S4}
	erasS2  = []Era{S2, S3, S4}
	erasS1  = []Era{S1}
)

// parseSuffix reads "_…" after the page hash.
func parseSuffix(s string) (KeyInfo, bool) {
	k := KeyInfo{Suffix: s, TP: -1, PP: -1}
	if len(s) > maxSuffix || len(s) < 2 || s[0] != '_' {
		return k, false
	}
	fields := strings.Split(s[1:], "_")
	// KV objects: [k], ["", k], [n, k|v], [n, m, k|v].
	last := fields[len(fields)-1]
	nums := fields[:len(fields)-1]
	kv := last == "k" || last == "v"
	switch {
	case kv && len(nums) == 0 && last == "k":
		k.Kind, k.Object, k.Eras = KindMLA, "k", erasS1
		return k, true
	case kv && len(nums) == 1 && nums[0] == "" && last == "k":
		k.Kind, k.Object, k.Eras = KindMLA, "k", erasS2
		return k, true
	case kv && len(nums) == 1 && keytext.Number(nums[0], 6):
		k.Object, k.TP = last, keytext.Atoi(nums[0])
		if last == "v" {
			k.Kind, k.Eras = KindMHA, erasAll
		} else {
			k.Kind, k.Eras = KindMHAOrMLA, erasAll
		}
		return k, true
	case kv && len(nums) == 2 && keytext.Number(nums[0], 6) && keytext.Number(nums[1], 6):
		k.Kind, k.Object, k.TP, k.PP, k.Eras = KindMHA, last, keytext.Atoi(nums[0]), keytext.Atoi(nums[1]), erasS2
		return k, true
	}
	// Hybrid pools: "_<mha>_<name>" or "_<mla>_<name>", mha = tp[_pp], mla =
	// "" or pp, name lowercase words joined by "_".
	i := 0
	var rank []string
	for i < len(fields) && (keytext.Number(fields[i], 6) || fields[i] == "" && i == 0) && i < 2 {
		rank = append(rank, fields[i])
		i++
	}
	name := fields[i:]
	if len(rank) == 0 || len(name) == 0 || name[0] == "" {
		return k, false
	}
	for _, w := range name {
		if w == "" || !isLowerWord(w) {
			return k, false
		}
	}
	k.Kind, k.Object, k.Eras = KindHybrid, strings.Join(name, "_"), erasS2
	switch {
	case len(rank) == 1 && rank[0] != "":
		k.TP = keytext.Atoi(rank[0]) // MHA rank, or the PP stage of an MLA pool
	case len(rank) == 2 && rank[0] != "":
		k.TP, k.PP = keytext.Atoi(rank[0]), keytext.Atoi(rank[1])
	case len(rank) == 2:
		k.PP = keytext.Atoi(rank[1])
	}
	return k, true
}

func isLowerWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s[0] >= 'a' && s[0] <= 'z' || keytext.Number(s, 6)
}

// Head is the key text before the page hash ("" or Prefix + "_"), as
// Engine.KeyHead renders it.
func (k KeyInfo) Head() string {
	if !k.HasPrefix {
		return ""
	}
	return k.Prefix + "_"
}
