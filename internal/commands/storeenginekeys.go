// The keys of SGLang HiCache and of vLLM's (and vllm-ascend's) own store
// connectors in 'lmc store summary|ls': what one key says (prefix, model,
// layout, rank, eras) and how the summary groups them. Like LMCache's keys,
// they are counted while the listing streams: a group holds counters per
// rank label, never the keys.
package commands

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// Bounds of the rank counters: per group (as many as lmc's flags allow
// ranks) and over all groups; keys of further labels are counted under
// otherRanks.
const (
	maxGroupRanks = maxEngineRanks
	maxAllRanks   = 1 << 16
	otherRanks    = "(other)"
)

// engineKeyInfo is what an SGLang or vLLM key says, as 'lmc store' shows it.
type engineKeyInfo struct {
	// Group identifies the deployment the key belongs to: everything but
	// the page or block hash and the rank.
	Group string
	// Format names the writer: hicache (SGLang), store-connector (vLLM
	// V1-V3), ascend (vllm-ascend A0-A3) or v0 (vLLM v0's removed
	// connector).
	Format string
	// Family is SGLang's object family before the group is settled (kv,
	// kv-mla, hybrid:<pool>, warmup), vLLM's layout (kv, or vllm-ascend's
	// cache role).
	Family string
	Kind   sglangkey.Kind
	// Prefix: SGLang's key prefix (extra backend tag and/or served model
	// name with "/" -> "-"); vLLM's cache_prefix.
	Prefix    string
	HasPrefix bool
	// Rank labels the rank as lookup names it ("tp1_pp0", "all" for an
	// SGLang MLA object, "tp_rank:1@pcp0@dcp0@pp_rank:0" for vLLM); "?N"
	// is an SGLang "_N_k" object (TP rank N of MHA, or PP stage N of MLA:
	// the group decides).
	Rank         string
	Eras         []string
	HashBytes    int
	KVCacheGroup int
	Algorithms   []string
	Writer       string
	Hybrid       bool
}

// engineStoreKey reads an SGLang or vLLM key; ok is false for others. The
// model is vLLM's as the key carries it ("" for SGLang: its prefix cannot
// tell the model from the extra backend tag).
func engineStoreKey(key string) (storeKeyInfo, bool) {
	r, ok := enginekey.Recognize(key)
	if !ok {
		return storeKeyInfo{}, false
	}
	e := &engineKeyInfo{Writer: r.Writer, Hybrid: r.Hybrid}
	out := storeKeyInfo{Engine: string(r.Engine), Eng: e}
	switch {
	case r.SGLang != nil:
		k := r.SGLang
		e.Format, e.Kind, e.Prefix, e.HasPrefix, e.HashBytes = "hicache", k.Kind, k.Prefix, k.HasPrefix, 32
		e.Eras = erasOf(k.Eras)
		switch k.Kind {
		case sglangkey.KindHybrid:
			e.Family, e.Rank = "hybrid:"+k.Object, "all"
			if k.PP >= 0 {
				e.Rank = "pp" + strconv.Itoa(k.PP)
			}
		case sglangkey.KindWarmup:
			e.Family, e.Rank, e.HashBytes = "warmup", "all", 0
		case sglangkey.KindMLA:
			e.Family, e.Rank = "kv-mla", "all"
		case sglangkey.KindMHAOrMLA:
			e.Family, e.Rank = "kv", "?"+strconv.Itoa(k.TP)
		default:
			e.Family, e.Rank = "kv", "tp"+strconv.Itoa(k.TP)
			if k.PP >= 0 {
				e.Rank += "_pp" + strconv.Itoa(k.PP)
			}
		}
		e.Group = strings.Join([]string{"sglang", k.Prefix, strconv.FormatBool(k.HasPrefix), e.Family}, "\x00")
	case r.VLLM != nil:
		k := r.VLLM
		e.Format, e.Family, e.Prefix, e.HashBytes, e.KVCacheGroup = "store-connector", "kv", k.CachePrefix, k.HashBytes, max(k.Group, 0)
		e.Eras = erasOf(k.Eras)
		for _, a := range k.Algorithms {
			e.Algorithms = append(e.Algorithms, string(a))
		}
		switch k.Eras[0] {
		case vllmkey.V0:
			e.Format = "v0"
		case vllmkey.A0, vllmkey.A1, vllmkey.A2, vllmkey.A3:
			e.Format = "ascend"
		}
		if k.CacheRole != "" && k.CacheRole != "kv" {
			e.Family = k.CacheRole
		}
		e.Rank = "tp_rank:" + strconv.Itoa(k.TPRank) + "@pcp" + strconv.Itoa(max(k.PCPRank, 0)) + "@dcp" + strconv.Itoa(max(k.DCPRank, 0)) + "@pp_rank:" + strconv.Itoa(max(k.PPRank, 0))
		if k.Eras[0] == vllmkey.V0 || k.Eras[0] == vllmkey.A0 {
			e.Rank = "rank:" + strconv.Itoa(max(k.TPRank, k.Rank))
		}
		out.Model = k.Model
		e.Group = strings.Join([]string{"vllm", r.Writer, k.CachePrefix, k.Model, strconv.Itoa(k.HashBytes), strconv.Itoa(k.Group), k.CacheRole, k.CacheFamily}, "\x00")
	}
	return out, true
}

func erasOf[E ~string](es []E) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e)
	}
	return out
}

// modelMatches says whether a key carries --model: LMCache's keys the model
// as given; vLLM's its last path component (vllm-ascend's first formats all
// of it); SGLang's (S3 and later) the served model name with "/" -> "-",
// after the extra backend tag if any. Keys that carry no model never match.
func modelMatches(k storeKeyInfo, model string) bool {
	switch {
	case k.Eng == nil:
		return k.Model == model
	case k.Engine == string(enginekey.VLLM):
		return k.Model != "" && (k.Model == model || k.Model == model[strings.LastIndexByte(model, '/')+1:])
	}
	m := sglangkey.ModelPart(model)
	return k.Eng.HasPrefix && m != "" && (k.Eng.Prefix == m || strings.HasSuffix(k.Eng.Prefix, "_"+m))
}

// rankKeysView counts a group's keys of one rank.
type rankKeysView struct {
	Rank string `json:"rank"`
	Keys int64  `json:"keys"`
}

// engineGroup is what a summary group of SGLang or vLLM keys accumulates.
type engineGroup struct {
	info  engineKeyInfo // the first key's
	eras  []string      // the eras every key fits
	any   []string      // the eras some key fits
	ranks map[string]int64
	mha   bool // an SGLang "_v" or PP-ranked MHA object was seen
}

// addEngine counts one engine key into g; total bounds the rank labels of
// all groups.
func (g *keyGroup) addEngine(e *engineKeyInfo, total *int) {
	eg := g.eng
	if eg.ranks == nil {
		eg.ranks = map[string]int64{}
		eg.eras = slices.Clone(e.Eras)
	}
	if !slices.Equal(eg.eras, e.Eras) {
		eg.eras = slices.DeleteFunc(eg.eras, func(x string) bool { return !slices.Contains(e.Eras, x) })
	}
	for _, x := range e.Eras {
		if !slices.Contains(eg.any, x) {
			eg.any = append(eg.any, x)
		}
	}
	if e.Kind == sglangkey.KindMHA {
		eg.mha = true
	}
	label := e.Rank
	if _, ok := eg.ranks[label]; !ok {
		if len(eg.ranks) >= maxGroupRanks || *total >= maxAllRanks {
			label = otherRanks
		} else {
			*total++
		}
	}
	eg.ranks[label]++
}

// finishEngine settles a group of engine keys: its eras (every key's, or
// any key's when they disagree), its layout (an SGLang "_N_k" object is an
// MHA K object of TP rank N when the group has V objects, else the MLA
// object of PP stage N) and its rank counts.
func (g *keyGroup) finishEngine(gv *keyGroupView) {
	eg := g.eng
	gv.KeySchemas = eg.eras
	if len(gv.KeySchemas) == 0 {
		gv.KeySchemas = eg.any
	}
	slices.Sort(gv.KeySchemas)
	gv.Layout = eg.info.Family
	if gv.Engine == string(enginekey.SGLang) {
		switch eg.info.Family {
		case "kv-mla":
			gv.Layout = "mla"
		case "kv":
			gv.Layout = "mha-or-mla"
			if eg.mha {
				gv.Layout = "mha"
			}
		}
		if !strings.HasPrefix(gv.Layout, "warmup") {
			gv.Writer = "SGLang HiCache (" + strings.Join(gv.KeySchemas, "/") + ")"
			if eg.info.Hybrid {
				gv.Writer = "SGLang HiCache hybrid pool " + strings.TrimPrefix(gv.Layout, "hybrid:") + " (" + strings.Join(gv.KeySchemas, "/") + ")"
			}
		}
	}
	gv.Ranks = make([]rankKeysView, 0, len(eg.ranks))
	merged := map[string]int64{}
	for l, n := range eg.ranks {
		if n2, ok := strings.CutPrefix(l, "?"); ok {
			if gv.Layout == "mha" {
				l = "tp" + n2
			} else {
				l = "pp" + n2
			}
		}
		merged[l] += n
	}
	for l, n := range merged {
		gv.Ranks = append(gv.Ranks, rankKeysView{Rank: l, Keys: n})
	}
	slices.SortFunc(gv.Ranks, func(a, b rankKeysView) int { return cmp.Compare(rankOrder(a.Rank), rankOrder(b.Rank)) })
}

// rankOrder sorts rank labels with their numbers in numeric order
// ("tp2" before "tp10"); "(other)" last.
func rankOrder(l string) string {
	if l == otherRanks {
		return "\xff"
	}
	var b strings.Builder
	for i := 0; i < len(l); {
		j := i
		for j < len(l) && l[j] >= '0' && l[j] <= '9' {
			j++
		}
		if j > i {
			n := l[i:j]
			b.WriteString(strings.Repeat("0", max(0, 12-len(n))))
			b.WriteString(n)
			i = j
			continue
		}
		b.WriteByte(l[i])
		i++
	}
	return b.String()
}

// engineGroupName names an engine group in the summary's MODEL column:
// the vLLM model (after its cache prefix), or SGLang's key prefix.
func engineGroupName(g keyGroupView) string {
	switch {
	case g.Model != "" && g.Prefix != "":
		return g.Prefix + "@" + g.Model
	case g.Model != "":
		return g.Model
	case g.Engine == string(enginekey.SGLang) && g.Layout != "warmup" && g.Prefix != "":
		return "prefix " + g.Prefix
	}
	return ""
}
