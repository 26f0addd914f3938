package doctor

import (
	"cmp"
	"context"
	"slices"
)

// The search for the engines that write to Mooncake without LMCache
// (SGLang HiCache, vLLM's store connector): the same bounded strategy as
// Diagnose — single settings, then what the store sample points at, then
// pairs — over an engine's own knobs (page or block size, era, seed and
// hash, served-model-name form, MLA, EAGLE, PP fan-out), for any parameter
// type P. The caller builds the axes and says how a candidate's leading
// keys are made; like Diagnose it does no I/O of its own.

// EngineChange moves one knob of P away from the configured value.
type EngineChange[P any] struct {
	Setting string // the knob, as in Diff ("page_size")
	Value   string // the value tried, for Diff.Store ("16")
	Flag    string // the lmc flag reproducing it ("--page-size 16")
	Apply   func(*P)
}

// EngineAxis is the alternatives of one knob.
type EngineAxis[P any] struct {
	Name    string
	Changes []EngineChange[P]
}

// EngineSearch is what to search for one engine.
type EngineSearch[P any] struct {
	Configured P
	// ConfiguredText renders the configured value of each Setting.
	ConfiguredText map[string]string
	// Axes are searched one at a time, then in pairs (at most Depth
	// settings changed at once).
	Axes []EngineAxis[P]
	// Guided are whole candidates the store sample points at (each a set
	// of changes), tried after the single settings.
	Guided [][]EngineChange[P]
	// LeadingKeys returns a candidate's first pages' keys of one rank; an
	// error or no keys drops the candidate (an invalid combination, a
	// prompt shorter than its page).
	LeadingKeys func(P) ([]string, error)
	// Pairs, when false, skips the pairs stage.
	Pairs bool
}

// EngineCandidate is a configuration whose leading keys the store holds.
type EngineCandidate[P any] struct {
	Params  P
	Changes []EngineChange[P]
	Keys    int // leading keys probed
	Hits    int // of them in the store
	order   int
}

// Diffs renders the candidate's changes against the configuration.
func (c *EngineCandidate[P]) Diffs(s *EngineSearch[P]) []Diff {
	var out []Diff
	seen := map[string]bool{}
	for _, ch := range c.Changes {
		if ch.Setting == "" || seen[ch.Setting] {
			continue
		}
		seen[ch.Setting] = true
		out = append(out, Diff{Setting: ch.Setting, Configured: s.ConfiguredText[ch.Setting], Store: ch.Value, Flag: ch.Flag})
	}
	return out
}

// EngineDiffText explains diffs in one line: "the store holds keys with
// page_size 16 and key_schema S2; you looked up page_size 1 and key_schema
// S4".
func EngineDiffText(ds []Diff) string {
	if len(ds) == 0 {
		return "the store holds keys made with the configured settings"
	}
	var store, conf []string
	for _, d := range ds {
		store = append(store, d.Setting+" "+orNone(d.Store))
		conf = append(conf, d.Setting+" "+orNone(d.Configured))
	}
	return "the store holds keys with " + joinAnd(store) + "; you looked up " + joinAnd(conf)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// EngineSearchResult is the search's winners (best first, at most
// maxFindings) and what it cost.
type EngineSearchResult[P any] struct {
	Winners []EngineCandidate[P]
	Search  Search
}

// SearchEngine probes candidates' leading keys in batches of at most
// maxKeys keys, at most maxProbes Exist calls, stopping at the first probe
// that finds keys. seen holds keys already probed (the baseline's), which
// are not asked again.
func SearchEngine[P any](ctx context.Context, pr Prober, s *EngineSearch[P], maxProbes, maxKeys int, seen map[string]bool) (*EngineSearchResult[P], error) {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeysPerProbe
	}
	res := &EngineSearchResult[P]{Search: Search{Ran: true, MaxProbes: maxProbes, MaxKeysPerProbe: maxKeys, Stages: []string{}}}
	st := &res.Search
	var cands []*EngineCandidate[P]
	var batch []*EngineCandidate[P]
	var batchKeys [][]string
	nkeys := 0
	found := false
	flush := func() error {
		if nkeys == 0 {
			return nil
		}
		var all []string
		for _, ks := range batchKeys {
			all = append(all, ks...)
		}
		st.Probes++
		ex, err := pr.Exist(ctx, all)
		if err != nil {
			return err
		}
		i := 0
		for bi, c := range batch {
			for range batchKeys[bi] {
				if i < len(ex) && ex[i] {
					c.Hits++
					found = true
				}
				i++
			}
		}
		batch, batchKeys, nkeys = nil, nil, 0
		return nil
	}
	order := 0
	try := func(cs []EngineChange[P]) (bool, error) {
		p := s.Configured
		for _, ch := range cs {
			ch.Apply(&p)
		}
		keys, err := s.LeadingKeys(p)
		if err != nil || len(keys) == 0 {
			return true, nil
		}
		var own []string
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				own = append(own, k)
			}
		}
		if len(own) == 0 {
			return true, nil
		}
		if nkeys+len(own) > maxKeys && nkeys > 0 {
			if err := flush(); err != nil {
				return false, err
			}
			if found || st.Probes >= maxProbes {
				for _, k := range own {
					delete(seen, k)
				}
				return false, nil
			}
		}
		st.Variants++
		st.Keys += len(own)
		c := &EngineCandidate[P]{Params: p, Changes: cs, Keys: len(own), order: order}
		order++
		cands = append(cands, c)
		batch = append(batch, c)
		batchKeys = append(batchKeys, own)
		nkeys += len(own)
		return true, nil
	}
	type stage struct {
		name string
		seq  func(yield func([]EngineChange[P]) bool)
	}
	stages := []stage{{"single settings", func(yield func([]EngineChange[P]) bool) {
		for _, ax := range s.Axes {
			for _, ch := range ax.Changes {
				if !yield([]EngineChange[P]{ch}) {
					return
				}
			}
		}
	}}}
	if len(s.Guided) > 0 {
		stages = append(stages, stage{"store sample", func(yield func([]EngineChange[P]) bool) {
			for _, cs := range s.Guided {
				if !yield(cs) {
					return
				}
			}
		}})
	}
	if s.Pairs {
		stages = append(stages, stage{"pairs of settings", func(yield func([]EngineChange[P]) bool) {
			for i := range s.Axes {
				for j := i + 1; j < len(s.Axes); j++ {
					for _, a := range s.Axes[i].Changes {
						for _, b := range s.Axes[j].Changes {
							if !yield([]EngineChange[P]{a, b}) {
								return
							}
						}
					}
				}
			}
		}})
	}
	exhausted := true
stages:
	for _, sg := range stages {
		if found || st.Probes >= maxProbes {
			exhausted = false
			break
		}
		st.Stages = append(st.Stages, sg.name)
		var err error
		sg.seq(func(cs []EngineChange[P]) bool {
			var more bool
			more, err = try(cs)
			return more && err == nil
		})
		if err != nil {
			return nil, err
		}
		if found || st.Probes >= maxProbes {
			exhausted = false
			break stages
		}
		// each stage is probed on its own: the most likely first
		if err := flush(); err != nil {
			return nil, err
		}
	}
	st.Exhausted = exhausted && !found
	for _, c := range cands {
		if c.Hits > 0 {
			res.Winners = append(res.Winners, *c)
		}
	}
	slices.SortStableFunc(res.Winners, func(a, b EngineCandidate[P]) int {
		return cmp.Or(cmp.Compare(b.Hits, a.Hits), cmp.Compare(len(a.Changes), len(b.Changes)), cmp.Compare(a.order, b.order))
	})
	if len(res.Winners) > maxFindings {
		res.Winners = res.Winners[:maxFindings]
	}
	return res, nil
}

// EngineAxisOf builds an axis from values, leaving out the configured one.
func EngineAxisOf[P any, V comparable](setting string, configured V, values []V, text func(V) string, flag func(V) string, apply func(*P, V)) EngineAxis[P] {
	ax := EngineAxis[P]{Name: setting}
	seen := map[V]bool{configured: true}
	for _, v := range values {
		if seen[v] {
			continue
		}
		seen[v] = true
		v := v
		ax.Changes = append(ax.Changes, EngineChange[P]{Setting: setting, Value: text(v), Flag: flag(v), Apply: func(p *P) { apply(p, v) }})
	}
	return ax
}

// ShellQuote quotes a flag value for a POSIX shell when it needs it.
func ShellQuote(s string) string { return shellQuote(s) }
