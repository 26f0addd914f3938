package doctor

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/tokenize/lmcachekey"
)

// Prober answers whether keys exist in the store, in the order given. One
// Exist call is one probe; implementations may split it into several
// transport requests (the admin API's URL limit).
type Prober interface {
	Exist(ctx context.Context, keys []string) ([]bool, error)
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context, keys []string) ([]bool, error)

// Exist calls f.
func (f ProberFunc) Exist(ctx context.Context, keys []string) ([]bool, error) { return f(ctx, keys) }

// Defaults for Options.
const (
	DefaultMaxProbes       = 8
	DefaultMaxKeysPerProbe = 1024
	DefaultSampleLimit     = 10000
	// maxLocalVariants bounds the work when a complete listing answers the
	// search without requests.
	maxLocalVariants = 20000
	maxFindings      = 3
	maxGroups        = 4
	maxModels        = 8
)

// Options bound and steer the search.
type Options struct {
	// Seeds are PYTHONHASHSEED candidates besides the configured one;
	// NONE_HASH=0 (LMCache without vLLM) is always tried.
	Seeds []string
	// MaxProbes caps Exist calls, the baseline and confirmation included.
	MaxProbes int
	// MaxKeysPerProbe caps the keys of one search probe (the baseline and
	// the confirmation send every chunk × rank key of the prompt).
	MaxKeysPerProbe int
	ChunkSizes      []int
	WorldSizes      []int
	// Inventory, when set, adds the models, tags and formats seen in the
	// store to the search; when complete, it answers the search itself.
	Inventory *Inventory
}

// Outcome is the doctor's verdict.
type Outcome string

const (
	FullHit    Outcome = "full-hit"
	CauseFound Outcome = "cause-found"
	NoCause    Outcome = "no-cause"
)

// Finding kinds.
const (
	KindMismatch     = "config-mismatch"
	KindMissingRanks = "missing-ranks"
	KindUnfullTail   = "unfull-tail"
	KindAbsent       = "absent-chunks"
	KindTooShort     = "prompt-too-short"
)

// Finding is one explanation.
type Finding struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	Diffs   []Diff `json:"diffs,omitempty"`
	// Flags are lmc key flags that reproduce the store's keys.
	Flags  string                 `json:"flags,omitempty"`
	Params *lmcachekey.ParamsView `json:"params,omitempty"`
	// Confirmed is true when every chunk of every rank was probed under
	// these settings (Evidence); otherwise only the leading chunks were.
	Confirmed bool       `json:"confirmed"`
	Evidence  *RankTable `json:"evidence,omitempty"`
	// EngineParams and EngineEvidence are set for a finding of kind
	// other-engine: the SGLang or vLLM configuration under which the
	// store holds the prompt, and that engine's lookup of it.
	EngineParams   any `json:"engine_params,omitempty"`
	EngineEvidence any `json:"engine_evidence,omitempty"`
	// ProbedKeys/ProbedHits are the search probe's leading-chunk keys.
	ProbedKeys int `json:"probed_keys,omitempty"`
	ProbedHits int `json:"probed_hits,omitempty"`

	variant Variant
	order   int
}

// Variant returns the settings a mismatch finding found.
func (f *Finding) Variant() Variant { return f.variant }

// Search says what the search did and what it cost.
type Search struct {
	Ran bool `json:"ran"`
	// Variants is how many key configurations were tried, Keys how many
	// distinct keys they produced.
	Variants int `json:"variants"`
	Keys     int `json:"keys"`
	// Probes counts Exist calls to the store (baseline and confirmation
	// included); MaxProbes is the bound.
	Probes          int `json:"probes"`
	MaxProbes       int `json:"max_probes"`
	MaxKeysPerProbe int `json:"max_keys_per_probe"`
	// Exhausted is true when every planned variant was tried.
	Exhausted bool `json:"exhausted"`
	// FromListing is true when a complete /get_all_keys listing answered
	// the search (no probes).
	FromListing bool     `json:"from_listing"`
	Stages      []string `json:"stages"`
}

// Report is the doctor's result.
type Report struct {
	Outcome    Outcome               `json:"outcome"`
	Summary    string                `json:"summary"`
	Configured lmcachekey.ParamsView `json:"configured"`
	// LookupRank is the worker id LMCache's lookup asks about.
	LookupRank int `json:"lookup_rank"`
	// Lookup is the configured lookup's hit (LookupRank only), Baseline
	// every rank's.
	LookupHitTokens int        `json:"lookup_hit_tokens"`
	Baseline        *RankTable `json:"baseline"`
	Findings        []Finding  `json:"findings"`
	Search          Search     `json:"search"`
	Notes           []string   `json:"notes,omitempty"`
}

// View renders a variant for JSON (the one params view of lmc, with the
// seed and doctor's wording of where NONE_HASH comes from).
func (v Variant) View() lmcachekey.ParamsView {
	pv := v.Params.View(nil)
	pv.NoneHashFrom = v.noneHashText()
	if pv.NoneHashSource == "" {
		pv.NoneHashSource = pv.NoneHashFrom
	}
	if v.NoneHashKind == NoneHashSeed {
		pv.HashSeed = v.Seed
	}
	return pv
}

type doctor struct {
	pr     Prober
	o      Options
	cfg    Variant
	tokens []uint32
	rep    *Report
	seen   map[string]bool
}

func (d *doctor) exist(ctx context.Context, keys []string) ([]bool, error) {
	d.rep.Search.Probes++
	ex, err := d.pr.Exist(ctx, keys)
	if err == nil && len(ex) != len(keys) {
		err = fmt.Errorf("doctor: %d answers for %d keys", len(ex), len(keys))
	}
	return ex, err
}

func (d *doctor) probesLeft() int { return d.o.MaxProbes - d.rep.Search.Probes }

// Diagnose runs the configured lookup for tokens on every rank and, when
// its first chunk misses everywhere, searches the key-configuration space
// for settings under which the prompt's keys exist. Probes never exceed
// o.MaxProbes: one for the baseline, then search rounds of at most
// o.MaxKeysPerProbe keys, then one to confirm the best candidates on every
// chunk and rank (skipped when the budget is spent).
func Diagnose(ctx context.Context, pr Prober, cfg Variant, tokens []uint32, o Options) (*Report, error) {
	if o.MaxProbes <= 0 {
		o.MaxProbes = DefaultMaxProbes
	}
	if o.MaxKeysPerProbe <= 0 {
		o.MaxKeysPerProbe = DefaultMaxKeysPerProbe
	}
	if len(o.ChunkSizes) == 0 {
		o.ChunkSizes = DefaultChunkSizes
	}
	if len(o.WorldSizes) == 0 {
		o.WorldSizes = DefaultWorldSizes
	}
	if cfg.Params.Schema == "" {
		cfg.Params.Schema = lmcachekey.SchemaCurrent
	}
	d := &doctor{pr: pr, o: o, cfg: cfg, tokens: tokens, seen: map[string]bool{},
		rep: &Report{Configured: cfg.View(), Findings: []Finding{}, Search: Search{MaxProbes: o.MaxProbes, MaxKeysPerProbe: o.MaxKeysPerProbe, Stages: []string{}}}}
	if err := d.baseline(ctx); err != nil {
		return nil, err
	}
	if d.rep.Outcome == "" {
		if err := d.search(ctx); err != nil {
			return nil, err
		}
	}
	d.summarize()
	return d.rep, nil
}

func (d *doctor) baseline(ctx context.Context) error {
	p := d.cfg.Params
	t, err := NewRankTable(p, d.tokens)
	if err != nil {
		return err
	}
	d.rep.Baseline = t
	d.rep.LookupRank = p.WorkerID
	if p.MLA {
		d.rep.LookupRank = 0
	}
	keys := t.Keys()
	// The trailing partial chunk under the other save_unfull_chunk setting
	// (its full chunks have the same keys).
	tailKey := ""
	if n := len(d.tokens); !p.SaveUnfullChunk && n%p.ChunkSize != 0 {
		q := p
		q.SaveUnfullChunk, q.WorkerID = true, d.rep.LookupRank
		if e, err := lmcachekey.NewEngine(q); err == nil {
			if ks, err := e.Keys(d.tokens); err == nil && len(ks) > 0 {
				tailKey = ks[len(ks)-1]
				keys = append(keys, tailKey)
			}
		}
	}
	for _, k := range keys {
		d.seen[k] = true
	}
	ex, err := d.exist(ctx, keys)
	if err != nil {
		return err
	}
	tailHit := false
	if tailKey != "" {
		tailHit = ex[len(ex)-1]
		ex = ex[:len(ex)-1]
	}
	if err := t.Fill(ex); err != nil {
		return err
	}
	li := max(t.rankIndex(d.rep.LookupRank), 0)
	if len(t.Ranks) > 0 {
		d.rep.LookupHitTokens = t.RankHitTokens[li]
	}
	n := t.NumChunks()
	if n == 0 {
		f := Finding{Kind: KindTooShort, Summary: fmt.Sprintf("the prompt (%s) is shorter than one chunk (%d tokens): LMCache stores and looks up nothing for it unless save_unfull_chunk is true", plural(len(d.tokens), "token"), p.ChunkSize)}
		if tailHit {
			f.Summary += "; the store does hold it as an unfull chunk: look up with --save-unfull-chunk"
			f.Flags = "--save-unfull-chunk"
		}
		d.rep.Findings = append(d.rep.Findings, f)
		d.rep.Outcome = CauseFound
		return nil
	}
	if tailHit && t.Full() {
		d.rep.Notes = append(d.rep.Notes, fmt.Sprintf("the store also holds the trailing partial chunk (tokens %d-%d): the storing engine saves unfull chunks; look up with --save-unfull-chunk to count it", t.Chunks[n-1].End, len(d.tokens)))
	}
	if t.Full() {
		d.rep.Outcome = FullHit
		return nil
	}
	first := t.Chunks[0]
	anyFirst := slices.Contains(first.Hit, true)
	if !anyFirst {
		return nil // search
	}
	// The configuration matches: explain the holes.
	d.rep.Outcome = CauseFound
	if f, ok := rankFinding(t, d.rep.LookupRank); ok {
		d.rep.Findings = append(d.rep.Findings, f)
	}
	k := t.HitChunks
	rest := t.Chunks[k:]
	if len(rest) > 0 && !slices.Contains(rest[0].Hit, true) {
		last := t.Chunks[n-1]
		if p.SaveUnfullChunk && len(rest) == 1 && last.End-last.Start < p.ChunkSize {
			d.rep.Findings = append(d.rep.Findings, Finding{Kind: KindUnfullTail, Flags: "--save-unfull-chunk=false",
				Summary: fmt.Sprintf("the trailing partial chunk (tokens %d-%d) is not stored: the storing engine runs with save_unfull_chunk false (LMCache's default since 2025-12-11), and its lookups never ask for it; look up with --save-unfull-chunk=false", last.Start, last.End)})
		} else {
			var absent []int
			for _, c := range rest {
				if !slices.Contains(c.Hit, true) {
					absent = append(absent, c.Index)
				}
			}
			d.rep.Findings = append(d.rep.Findings, Finding{Kind: KindAbsent,
				Summary: fmt.Sprintf("%s (from token %d) not in the store on any rank, while the configuration matches (%s hit): they were evicted, or are not stored yet (engines store asynchronously)", chunksText(absent), rest[0].Start, chunksText(seq(0, k)))})
		}
	}
	return nil
}

// rankFinding reports ranks that lack chunks other ranks hold.
func rankFinding(t *RankTable, lookupRank int) (Finding, bool) {
	miss := t.MissingByRank()
	if len(t.Ranks) < 2 || len(miss) == 0 {
		return Finding{}, false
	}
	var parts []string
	for _, r := range t.Ranks {
		if cs, ok := miss[r]; ok {
			parts = append(parts, fmt.Sprintf("rank %d lacks %s", r, chunksText(cs)))
		}
	}
	li := max(t.rankIndex(lookupRank), 0)
	s := fmt.Sprintf("%s of world size %d: a chunk is usable only when every rank has its key, so the effective hit is %s, while LMCache's lookup (rank %d only) reports %s",
		joinAnd(parts), t.WorldSize, tokensText(t.HitTokens, t.TotalTokens), lookupRank, tokensText(t.RankHitTokens[li], t.TotalTokens))
	return Finding{Kind: KindMissingRanks, Summary: s, Confirmed: true, Evidence: t}, true
}

type candidate struct {
	v     Variant
	keys  []string
	hits  int
	order int
}

type stage struct {
	name  string
	depth int
	flush bool
	seq   iter.Seq[[]change]
}

func (d *doctor) stages() []stage {
	c := d.cfg
	seeds := slices.Clone(d.o.Seeds)
	inv := d.o.Inventory
	var models []string
	var tagSets [][]lmcachekey.Tag
	if inv != nil {
		models = inv.Models()
		if len(models) > maxModels {
			models = models[:maxModels]
		}
		seenTags := map[string]bool{}
		for _, g := range inv.Groups {
			if g.Model != c.Params.Model || len(g.Tags) == 0 {
				continue
			}
			ts := parseTags(g.Tags)
			if !seenTags[tagsText(ts)] {
				seenTags[tagsText(ts)] = true
				tagSets = append(tagSets, ts)
			}
		}
	}
	ntok := len(d.tokens)
	algs := []algSpec{{c.Params.Algorithm, c.Params.Legacy64Bit}}
	for _, a := range append(slices.Clone(searchAlgorithms), algSpec{lmcachekey.Blake3, false}) {
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	hashing := hashingAxis(c, seeds, algs)
	schema := schemaAxis(c)
	schemaMP := schema
	if c.Params.Algorithm != lmcachekey.Blake3 {
		schemaMP.changes = append(slices.Clone(schema.changes), mpChange())
	}
	dtypeAll := dtypeAxis(c, false)
	dtype := dtypeAxis(c, true)
	ranks := ranksAxis(c, d.o.WorldSizes)
	chunk := chunkAxis(c, d.o.ChunkSizes, ntok)
	unfull := unfullAxis(c)
	model := modelAxis(c, models)
	tags := tagsAxis(c, tagSets)

	out := []stage{{name: "single settings", depth: 2, flush: true, seq: singles([]axis{hashing, schemaMP, dtypeAll, ranks, chunk, unfull, model, tags})}}
	if inv != nil {
		out = append(out, stage{name: "store sample", depth: 1, flush: true, seq: d.guided(seeds)})
	}
	pairs := [][2]axis{{hashing, schema}, {hashing, chunk}, {hashing, dtype}, {hashing, ranks},
		{schema, dtype}, {schema, chunk}, {schema, ranks}, {dtype, chunk}, {dtype, ranks}, {chunk, ranks},
		{model, hashing}, {model, schema}, {model, dtype}, {model, ranks}, {model, chunk},
		{tags, hashing}, {tags, schema}, {tags, chunk}}
	var ps []iter.Seq[[]change]
	for _, p := range pairs {
		ps = append(ps, product(p[0], p[1]))
	}
	out = append(out, stage{name: "pairs of settings", depth: 1, seq: concat(ps...)})
	triples := [][3]axis{{hashing, schema, chunk}, {hashing, dtype, chunk}, {hashing, schema, dtype}, {hashing, ranks, chunk},
		{hashing, ranks, dtype}, {schema, dtype, ranks}, {schema, chunk, ranks}, {dtype, chunk, ranks}, {hashing, schema, ranks}}
	var ts []iter.Seq[[]change]
	for _, t := range triples {
		ts = append(ts, product(t[0], t[1], t[2]))
	}
	out = append(out, stage{name: "triples of settings", depth: 1, seq: concat(ts...)})
	return out
}

func parseTags(ss []string) []lmcachekey.Tag {
	var out []lmcachekey.Tag
	for _, s := range ss {
		n, v, _ := strings.Cut(s, "%")
		out = append(out, lmcachekey.Tag{Name: n, Value: v})
	}
	return out
}

var identity = change{axis: "", label: "", apply: func(*Variant) {}}

// guided yields the configurations the store sample points at: each group
// of the configured model (or, if none, the largest groups) fixes model,
// format, world size, dtype and tags; the algorithm family comes from the
// hash length; seeds, the hashed object and the chunk size still vary.
func (d *doctor) guided(seeds []string) iter.Seq[[]change] {
	c := d.cfg
	var groups []Group
	for _, g := range d.o.Inventory.Groups {
		if g.Model == c.Params.Model {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		groups = d.o.Inventory.Groups
	}
	if len(groups) > maxGroups {
		groups = groups[:maxGroups]
	}
	var seqs []iter.Seq[[]change]
	for _, g := range groups {
		g := g
		fixed := change{axis: "store sample", label: g.Model, apply: func(v *Variant) {
			v.Params.Model = g.Model
			if v.Params.KeyWorldSize() != g.WorldSize {
				v.Params.WorldSize, v.Params.MLA = g.WorldSize, false
			}
			v.Params.WorkerID = 0
			if g.DType != "" {
				v.Params.DType = g.DType
			}
			v.Params.Tags = parseTags(g.Tags)
		}}
		hashing := hashingAxis(c, seeds, g.algorithms())
		if slices.Contains(g.algorithms(), algSpec{c.Params.Algorithm, c.Params.Legacy64Bit}) {
			hashing.changes = append([]change{identity}, hashing.changes...)
		}
		schemas := axis{name: "key_schema"}
		for _, s := range g.schemas() {
			if s == c.Params.Schema {
				schemas.changes = append(schemas.changes, identity)
				continue
			}
			s := s
			schemas.changes = append(schemas.changes, change{axis: "key_schema", label: string(s), apply: func(v *Variant) { v.Params.Schema = s }})
		}
		chunks := chunkAxis(c, d.o.ChunkSizes, len(d.tokens))
		chunks.changes = append([]change{identity}, chunks.changes...)
		seqs = append(seqs, product(axis{changes: []change{fixed}}, hashing, schemas, chunks))
	}
	return concat(seqs...)
}

// build applies changes to the configured variant; ok is false for
// combinations that are not valid LMCache configurations.
func (d *doctor) build(cs []change) (Variant, *lmcachekey.Engine, bool) {
	v := d.cfg
	v.Params.Tags = slices.Clone(v.Params.Tags)
	for _, ch := range cs {
		ch.apply(&v)
	}
	if v.Params.Algorithm != lmcachekey.Blake3 && v.NoneHashKind == NoneHashFixed {
		return v, nil, false
	}
	if err := v.finalize(); err != nil {
		return v, nil, false
	}
	e, err := lmcachekey.NewEngine(v.Params)
	if err != nil {
		return v, nil, false
	}
	return v, e, true
}

func (d *doctor) search(ctx context.Context) error {
	s := &d.rep.Search
	s.Ran = true
	local := d.o.Inventory != nil && d.o.Inventory.Complete
	s.FromListing = local
	var cands []*candidate
	order := 0
	found := false
	rounds := 0
	limitRounds := func() bool {
		if local {
			return s.Variants >= maxLocalVariants
		}
		// keep one probe to confirm, unless only one is left
		left := d.probesLeft()
		return left <= 0 || left == 1 && rounds > 0
	}
	var batch []*candidate
	var batchKeys []string
	flush := func() error {
		if len(batchKeys) == 0 {
			return nil
		}
		var ex []bool
		if local {
			ex = make([]bool, len(batchKeys))
			for i, k := range batchKeys {
				ex[i] = d.o.Inventory.Has(k)
			}
		} else {
			var err error
			if ex, err = d.exist(ctx, batchKeys); err != nil {
				return err
			}
		}
		rounds++
		i := 0
		for _, c := range batch {
			for range c.keys {
				if ex[i] {
					c.hits++
					found = true
				}
				i++
			}
		}
		batch, batchKeys = nil, nil
		return nil
	}
	exhausted := true
stages:
	for _, st := range d.stages() {
		if found || limitRounds() {
			exhausted = false
			break
		}
		s.Stages = append(s.Stages, st.name)
		for cs := range st.seq {
			if limitRounds() {
				exhausted = false
				break stages
			}
			v, e, ok := d.build(cs)
			if !ok {
				continue
			}
			cs := v.Params.ChunkSize
			toks := d.tokens[:min(len(d.tokens), st.depth*cs)]
			keys, err := e.Keys(toks)
			if err != nil || len(keys) == 0 {
				continue
			}
			s.Variants++
			var own []string
			for _, k := range keys {
				if !d.seen[k] {
					d.seen[k] = true
					own = append(own, k)
				}
			}
			if len(own) == 0 {
				continue
			}
			if !local && len(batchKeys)+len(own) > d.o.MaxKeysPerProbe && len(batchKeys) > 0 {
				if err := flush(); err != nil {
					return err
				}
				if found || limitRounds() {
					// this candidate is not probed
					for _, k := range own {
						delete(d.seen, k)
					}
					s.Variants--
					exhausted = false
					break stages
				}
			}
			c := &candidate{v: v, keys: own, order: order}
			order++
			cands = append(cands, c)
			batch = append(batch, c)
			batchKeys = append(batchKeys, own...)
			s.Keys += len(own)
		}
		// the targeted stages are probed on their own: a single setting
		// (or the store sample) explains most mismatches in one small probe
		if st.flush {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	s.Exhausted = exhausted && !found
	var winners []*candidate
	for _, c := range cands {
		if c.hits > 0 {
			winners = append(winners, c)
		}
	}
	if len(winners) == 0 {
		d.rep.Outcome = NoCause
		return nil
	}
	slices.SortStableFunc(winners, func(a, b *candidate) int {
		return cmp.Or(cmp.Compare(b.hits, a.hits), cmp.Compare(len(Diffs(d.cfg, a.v)), len(Diffs(d.cfg, b.v))), cmp.Compare(a.order, b.order))
	})
	if len(winners) > maxFindings {
		winners = winners[:maxFindings]
	}
	return d.confirm(ctx, winners, local)
}

// confirm probes every chunk and rank of the best candidates in one call.
func (d *doctor) confirm(ctx context.Context, winners []*candidate, local bool) error {
	var tables []*RankTable
	var all []string
	for _, w := range winners {
		t, err := NewRankTable(w.v.Params, d.tokens)
		if err != nil {
			return err
		}
		tables = append(tables, t)
		all = append(all, t.Keys()...)
	}
	confirmed := true
	switch {
	case d.probesLeft() > 0:
		ex, err := d.exist(ctx, all)
		if err != nil {
			return err
		}
		i := 0
		for _, t := range tables {
			n := len(t.Chunks) * len(t.Ranks)
			if err := t.Fill(ex[i : i+n]); err != nil {
				return err
			}
			i += n
		}
	case local:
		for _, t := range tables {
			t.FillFrom(d.o.Inventory.Has)
		}
	default:
		confirmed = false
	}
	var fs []Finding
	for i, w := range winners {
		ds := Diffs(d.cfg, w.v)
		pv := w.v.View()
		f := Finding{Kind: KindMismatch, Diffs: ds, Flags: Flags(ds), Params: &pv, Confirmed: confirmed,
			ProbedKeys: len(w.keys), ProbedHits: w.hits, variant: w.v, order: i}
		if confirmed {
			f.Evidence = tables[i]
		}
		f.Summary = Sentence(ds)
		fs = append(fs, f)
	}
	if confirmed {
		slices.SortStableFunc(fs, func(a, b Finding) int {
			return cmp.Or(cmp.Compare(b.Evidence.HitTokens, a.Evidence.HitTokens), cmp.Compare(len(a.Diffs), len(b.Diffs)), cmp.Compare(a.order, b.order))
		})
		// a rank hole under the found settings
		if rf, ok := rankFinding(fs[0].Evidence, 0); ok {
			fs[0].Summary += "; also, " + rf.Summary
		}
	}
	d.rep.Findings = append(d.rep.Findings, fs...)
	d.rep.Outcome = CauseFound
	return nil
}

func (d *doctor) summarize() {
	r := d.rep
	t := r.Baseline
	switch r.Outcome {
	case FullHit:
		r.Summary = fmt.Sprintf("full hit: all %s present on every rank (%s)", plural(t.NumChunks(), "chunk"), tokensText(t.HitTokens, t.TotalTokens))
	case NoCause:
		r.Summary = fmt.Sprintf("the prompt's first chunk is in the store under none of %s tried", plural(r.Search.Variants, "key configuration"))
		if !r.Search.Exhausted {
			r.Summary += fmt.Sprintf(" (the search stopped at its bound of %s; raise --max-probes to go on)", plural(r.Search.MaxProbes, "probe"))
		}
		r.Summary += "; it was never stored, was evicted, or was stored under settings outside the search (another model name, seed or chunk size: add --seed-candidates)"
	case CauseFound:
		r.Summary = r.Findings[0].Summary
	}
}

func seq(a, b int) []int {
	var out []int
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}

// chunksText renders chunk indexes as "chunk 3" / "chunks 0-2, 5".
func chunksText(idx []int) string { return RangesText("chunk", idx) }

// RangesText renders indexes as "<word> 3" / "<word>s 0-2, 5" ("no
// <word>s" for none).
func RangesText(word string, idx []int) string {
	if len(idx) == 0 {
		return "no " + word + "s"
	}
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i])+"-"+strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	if len(idx) > 1 {
		word += "s"
	}
	return word + " " + strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// TokensText renders "32 of 64 tokens".
func TokensText(hit, total int) string { return tokensText(hit, total) }

func tokensText(hit, total int) string {
	if total == 0 {
		return "0 of 0 tokens"
	}
	return fmt.Sprintf("%d of %d tokens", hit, total)
}
