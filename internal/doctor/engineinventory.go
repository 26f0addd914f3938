package doctor

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// EngineGroup is a set of sampled keys written by SGLang HiCache or vLLM's
// (or vllm-ascend's) own store connector that share everything but the
// page/block hash and the rank. JSON field names are a contract.
type EngineGroup struct {
	Engine string `json:"engine"` // sglang | vllm
	// Writer names the connector and the eras whose keys look like these.
	Writer     string   `json:"writer"`
	KeySchemas []string `json:"key_schemas"`
	// Prefix is SGLang's key prefix before the page hash (extra_backend_tag
	// and/or the served model name with "/" -> "-", which one key cannot
	// tell apart), or vLLM's cache_prefix.
	Prefix string `json:"prefix,omitempty"`
	// Model is the model as vLLM keys carry it (the last path component of
	// --model; vllm-ascend A0/A1: all of it).
	Model string `json:"model,omitempty"`
	// Layout: SGLang mha (K and V per TP rank), mla (one object for all TP
	// ranks), mha-or-mla ("_<n>_k" objects only: MLA with PP, or MHA whose
	// V objects were not sampled), hybrid:<pool>, warmup; vLLM kv.
	Layout       string `json:"layout"`
	HashBytes    int    `json:"hash_bytes"`
	KVCacheGroup int    `json:"kv_cache_group,omitempty"`
	// Algorithms are vLLM's hash algorithms with digests of this size.
	Algorithms []string `json:"algorithms,omitempty"`
	// TPRanks and PPRanks are the distinct ranks seen in the keys (vLLM:
	// the key's TP rank, tp_rank // replication factor).
	TPRanks []int `json:"tp_ranks"`
	PPRanks []int `json:"pp_ranks"`
	// RankKeys counts keys per rank label ("tp1_pp0", "pp1", "all" for an
	// SGLang MLA page object; the namespace for vLLM).
	RankKeys map[string]int `json:"rank_keys"`
	Keys     int            `json:"keys"`
	Hybrid   bool           `json:"hybrid,omitempty"`
	Example  string         `json:"example"`

	hasPrefix bool
	eras      []string // the eras every key fits
	anyEras   []string // the eras some key fits
	kinds     map[sglangkey.Kind]int
	pcp, dcp  []int
	mhaOrMLA  map[string]bool // "_<n>" of "_<n>_k" objects
	vObjects  map[string]bool // "_<n>" of "_<n>_v" objects
	// pages counts objects per rank label and page hash.
	pages map[string]map[string]int
}

// HasPrefix reports an SGLang group whose keys carry a prefix (possibly
// empty: an empty extra_backend_tag gives "_<hash>…").
func (g *EngineGroup) HasPrefix() bool { return g.hasPrefix }

// MaxRank is one more than the largest rank seen (at least 1).
func MaxRank(rs []int) int {
	if len(rs) == 0 {
		return 1
	}
	return slices.Max(rs) + 1
}

func addInt(s []int, v int) []int {
	if v < 0 || slices.Contains(s, v) {
		return s
	}
	s = append(s, v)
	slices.Sort(s)
	return s
}

func intersectEras(have, next []string) []string {
	if have == nil {
		return slices.Clone(next)
	}
	var out []string
	for _, e := range have {
		if slices.Contains(next, e) {
			out = append(out, e)
		}
	}
	if out == nil {
		return []string{}
	}
	return out
}

func erasText[E ~string](es []E) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e)
	}
	return out
}

// addEngineKey records a key recognised as SGLang's or vLLM's.
func (inv *Inventory) addEngineKey(key string, r enginekey.Recognition, idx map[string]int) {
	var id string
	var g EngineGroup
	switch {
	case r.SGLang != nil:
		k := r.SGLang
		family := "kv"
		switch k.Kind {
		case sglangkey.KindHybrid:
			family = "hybrid:" + k.Object
		case sglangkey.KindWarmup:
			family = "warmup"
		case sglangkey.KindMLA:
			family = "kv-mla" // a separate deployment from MHA keys
		}
		id = strings.Join([]string{"sglang", k.Prefix, strconv.FormatBool(k.HasPrefix), family}, "\x00")
		g = EngineGroup{Engine: string(enginekey.SGLang), Prefix: k.Prefix, hasPrefix: k.HasPrefix, Layout: family, HashBytes: 32}
		if k.Kind == sglangkey.KindWarmup {
			g.HashBytes = 0
		}
	case r.VLLM != nil:
		k := r.VLLM
		id = strings.Join([]string{"vllm", r.Writer, k.CachePrefix, k.Model, strconv.Itoa(k.HashBytes), strconv.Itoa(k.Group), k.CacheRole, k.CacheFamily}, "\x00")
		g = EngineGroup{Engine: string(enginekey.VLLM), Prefix: k.CachePrefix, Model: k.Model, Layout: "kv", HashBytes: k.HashBytes, KVCacheGroup: max(k.Group, 0)}
		for _, a := range k.Algorithms {
			g.Algorithms = append(g.Algorithms, string(a))
		}
		if k.CacheRole != "" && k.CacheRole != "kv" {
			g.Layout = k.CacheRole
		}
	default:
		return
	}
	i, ok := idx[id]
	if !ok {
		i = len(inv.EngineGroups)
		idx[id] = i
		g.Writer, g.Hybrid, g.Example = r.Writer, r.Hybrid, key
		g.RankKeys = map[string]int{}
		g.TPRanks, g.PPRanks = []int{}, []int{}
		g.kinds, g.mhaOrMLA, g.vObjects, g.pages = map[sglangkey.Kind]int{}, map[string]bool{}, map[string]bool{}, map[string]map[string]int{}
		inv.EngineGroups = append(inv.EngineGroups, g)
	}
	eg := &inv.EngineGroups[i]
	eg.Keys++
	switch {
	case r.SGLang != nil:
		k := r.SGLang
		eg.kinds[k.Kind]++
		eg.eras = intersectEras(eg.eras, erasText(k.Eras))
		eg.anyEras = unionEras(eg.anyEras, erasText(k.Eras))
		switch k.Kind {
		case sglangkey.KindMHA:
			eg.TPRanks = addInt(eg.TPRanks, k.TP)
			eg.PPRanks = addInt(eg.PPRanks, k.PP)
			if k.PP < 0 {
				eg.vObjects["_"+strconv.Itoa(k.TP)] = eg.vObjects["_"+strconv.Itoa(k.TP)] || k.Object == "v"
			}
			eg.addPage(rankLabel(k.TP, k.PP), k.Hash)
		case sglangkey.KindMHAOrMLA:
			eg.mhaOrMLA["_"+strconv.Itoa(k.TP)] = true
			eg.addPage("?"+strconv.Itoa(k.TP), k.Hash)
		case sglangkey.KindMLA:
			eg.addPage("all", k.Hash)
		case sglangkey.KindHybrid:
			eg.PPRanks = addInt(eg.PPRanks, k.PP)
		}
	case r.VLLM != nil:
		k := r.VLLM
		eg.eras = intersectEras(eg.eras, erasText(k.Eras))
		eg.anyEras = unionEras(eg.anyEras, erasText(k.Eras))
		eg.TPRanks = addInt(eg.TPRanks, k.TPRank)
		eg.PPRanks = addInt(eg.PPRanks, k.PPRank)
		eg.pcp = addInt(eg.pcp, k.PCPRank)
		eg.dcp = addInt(eg.dcp, k.DCPRank)
		label := "tp_rank:" + strconv.Itoa(k.TPRank) + "@pcp" + strconv.Itoa(max(k.PCPRank, 0)) + "@dcp" + strconv.Itoa(max(k.DCPRank, 0)) + "@pp_rank:" + strconv.Itoa(max(k.PPRank, 0))
		if k.Eras[0] == vllmkey.V0 || k.Eras[0] == vllmkey.A0 {
			label = "rank:" + strconv.Itoa(max(k.TPRank, k.Rank))
		}
		eg.addPage(label, k.Hash)
	}
}

func (g *EngineGroup) addPage(label, hash string) {
	m := g.pages[label]
	if m == nil {
		m = map[string]int{}
		g.pages[label] = m
	}
	m[hash]++
}

func unionEras(have, next []string) []string {
	for _, e := range next {
		if !slices.Contains(have, e) {
			have = append(have, e)
		}
	}
	slices.Sort(have)
	return have
}

func rankLabel(tp, pp int) string {
	if pp < 0 {
		return "tp" + strconv.Itoa(tp)
	}
	return "tp" + strconv.Itoa(tp) + "_pp" + strconv.Itoa(pp)
}

// finishEngineGroups settles each group's layout, eras and ranks, and
// sorts the groups by size.
func (inv *Inventory) finishEngineGroups() {
	for i := range inv.EngineGroups {
		g := &inv.EngineGroups[i]
		g.KeySchemas = g.eras
		if len(g.KeySchemas) == 0 {
			g.KeySchemas = g.anyEras // keys of several eras
		}
		if g.KeySchemas == nil {
			g.KeySchemas = []string{}
		}
		if g.Engine == string(enginekey.SGLang) && g.Layout != "warmup" {
			g.Writer = "SGLang HiCache (" + strings.Join(g.KeySchemas, "/") + ")"
			if g.Hybrid {
				g.Writer = "SGLang HiCache hybrid pool " + strings.TrimPrefix(g.Layout, "hybrid:") + " (" + strings.Join(g.KeySchemas, "/") + ")"
			}
		}
		if g.Engine == string(enginekey.SGLang) {
			switch g.Layout {
			case "kv-mla":
				g.Layout = "mla"
			case "kv":
				// "_<n>_k" objects are MHA K objects of TP rank n when V
				// objects exist, else (S2+) MLA objects of PP stage n.
				g.Layout = "mha-or-mla"
				if g.kinds[sglangkey.KindMHA] > 0 {
					g.Layout = "mha"
				}
				for n := range g.mhaOrMLA {
					r, _ := strconv.Atoi(n[1:])
					label := "pp" + n[1:]
					if g.Layout == "mha" {
						g.TPRanks = addInt(g.TPRanks, r)
						label = "tp" + n[1:]
					} else {
						g.PPRanks = addInt(g.PPRanks, r)
					}
					for h, c := range g.pages["?"+n[1:]] {
						g.addPage(label, h)
						g.pages[label][h] += c - 1
					}
					delete(g.pages, "?"+n[1:])
				}
			}
		}
		// pages per rank: those with all the objects a page has
		most := 0
		for _, m := range g.pages {
			for _, c := range m {
				most = max(most, c)
			}
		}
		for l, m := range g.pages {
			n := 0
			for _, c := range m {
				if c == most {
					n++
				}
			}
			g.RankKeys[l] = n
		}
		g.pages = nil
	}
	slices.SortStableFunc(inv.EngineGroups, func(a, b EngineGroup) int { return cmp.Compare(b.Keys, a.Keys) })
}

// engineNotes adds, for a complete listing, the ranks of an engine group
// that hold fewer pages or blocks than another rank.
func (inv *Inventory) engineNotes() {
	for _, g := range inv.EngineGroups {
		if len(g.RankKeys) < 2 {
			continue
		}
		most, mostLabel := 0, ""
		labels := make([]string, 0, len(g.RankKeys))
		for l, n := range g.RankKeys {
			labels = append(labels, l)
			if n > most || n == most && l < mostLabel {
				most, mostLabel = n, l
			}
		}
		slices.Sort(labels)
		for _, l := range labels {
			if n := g.RankKeys[l]; n < most {
				inv.Notes = append(inv.Notes, fmt.Sprintf("%s (%s): rank %s has %d where %s has %d: it lacks pages the others hold, and the engine's hit is the minimum over ranks", g.Writer, EngineGroupName(&g), l, n, mostLabel, most))
			}
		}
	}
}

// EngineGroupName names a group for tables: the vLLM model (with its cache
// prefix), or SGLang's key prefix.
func EngineGroupName(g *EngineGroup) string {
	switch {
	case g.Model != "" && g.Prefix != "":
		return g.Prefix + "@" + g.Model
	case g.Model != "":
		return g.Model
	case g.hasPrefix:
		return "prefix " + strconv.Quote(g.Prefix)
	}
	return "no prefix"
}
