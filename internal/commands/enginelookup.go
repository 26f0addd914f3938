// The store lookup of --engine sglang|vllm: every rank's objects of every
// page or block, asked in bounded BatchExistKey batches pipelined on the
// one connection (or admin /batch_query_keys requests), fed in prompt
// order to a rank tracker, stopping once every rank has missed (the
// engines use nothing after a rank's first miss); then the raw prefix hit
// and the engine's own hit rule.
package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lmc/internal/tokenize"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/rankhit"
)

// Engine lookup batching: SGLang at page size 1 and TP 8 has 16 objects
// per token, so a 32k-token prompt is 524k keys. Memory stays bounded by
// the batches in flight (keys are made as they are sent) plus one small
// view per page.
const (
	engineBatchKeys    = 4096 // keys per BatchExistKey (or admin batch)
	engineBatchesAhead = 4    // batches in flight on the one connection
)

// engineLookupFields are the lookup view's fields of an engine lookup
// (absent for LMCache lookups). JSON field names are a contract.
type engineLookupFields struct {
	Engine string `json:"engine,omitempty"`
	// EngineHitTokens is what the engine uses: SGLang's prefetch_threshold
	// applied to the minimum over ranks, vLLM's end-of-prompt rule.
	// hit_tokens stays the raw prefix hit.
	EngineHitTokens *int `json:"engine_hit_tokens,omitempty"`
	// CheckedChunks is how many pages/blocks were asked: the lookup stops
	// once every rank has missed (--holes checks them all).
	CheckedChunks *int          `json:"checked_chunks,omitempty"`
	RankHits      []rankHitView `json:"rank_hits,omitempty"`

	keys, keyErrors int    // objects asked, and answered with an error
	firstKeyError   string // the first error, for the exit message
}

// rankHitView is one rank's (SGLang) or lookup namespace's (vLLM) hit.
type rankHitView struct {
	Rank      string `json:"rank"`
	HitTokens int    `json:"hit_tokens"`
	// Holes counts pages/blocks complete again after the rank's first
	// miss: stored, but never used (no engine skips a gap).
	Holes int `json:"holes"`
}

// engineBatch is one BatchExistKey's worth of chunks.
type engineBatch struct {
	chunks []lookupChunkView
	keys   []string
	st     []keyStatus
	reps   [][]replicaView // per chunk, its first object's replicas (placement)
	err    error
	done   chan struct{}
}

var errEngineStop = errors.New("every rank missed")

// openEngineLookup resolves an engine lookup: the key configuration, the
// store backends and the token input.
func (f *Factory) openEngineLookup(ctx context.Context, k *KeyFlags, e *EngineFlags, eng enginekey.Engine, b BackendFlags, args []string, in *InputFlags, placement bool) (*engineSpec, *storeLookup, *tokenSource, error) {
	if b.Master == "" && b.Admin == "" {
		return nil, nil, nil, &UsageError{Err: fmt.Errorf("no backend: pass --master HOST:PORT or --admin URL (the Mooncake master %s writes to)", engineTitle(eng))}
	}
	spec, err := f.resolveEngine(k, e, eng, rankhit.Lookup)
	if err != nil {
		return nil, nil, nil, err
	}
	src, err := f.openTokens(ctx, args, in, k.Model)
	if err != nil {
		return nil, nil, nil, err
	}
	warn(f.IOStreams, spec.Warnings)
	sl, err := f.openStore(ctx, b, placement, false)
	if err != nil {
		return nil, nil, nil, err
	}
	return spec, sl, src, nil
}

// engineLookup checks one prompt. Each batch request has its own
// --timeout (a long prompt at page size 1 sends hundreds); the whole lookup
// ends with ctx (Ctrl-C).
func (s *storeLookup) engineLookup(ctx context.Context, spec *engineSpec, k engineKeyer, p *tokenize.Prompt, holes bool) (lookupPromptView, error) {
	src, backend := s.source()
	v := lookupPromptView{Source: src, Backend: backend, Index: p.Index, ID: p.ID, TotalTokens: len(p.Tokens), Chunks: []lookupChunkView{}}
	v.Engine = string(spec.Engine)
	if err := s.ensureMaster(ctx); err != nil { // see lookup
		return v, err
	}
	l := k.layout(rankhit.Lookup)
	if err := l.Validate(); err != nil {
		return v, err
	}
	tr := rankhit.NewTracker(&l)
	kpc := l.KeysPerChunk
	v.NumChunks = k.numChunks(len(p.Tokens))
	// room for the common case without reserving a million views for a
	// long prompt that misses early
	v.Chunks = make([]lookupChunkView, 0, min(v.NumChunks, 1<<15))
	perBatch := max(1, engineBatchKeys/kpc)
	// Batches are reused once applied: a lookup allocates at most
	// engineBatchesAhead+1 of them whatever the prompt's length.
	var free []*engineBatch
	newBatch := func() *engineBatch {
		if n := len(free); n > 0 {
			b := free[n-1]
			free = free[:n-1]
			b.chunks, b.keys, b.st, b.reps, b.err = b.chunks[:0], b.keys[:0], nil, nil, nil
			return b
		}
		return &engineBatch{chunks: make([]lookupChunkView, 0, perBatch), keys: make([]string, 0, perBatch*kpc)}
	}

	bctx, bcancel := context.WithCancel(ctx)
	defer bcancel()
	var pending []*engineBatch
	stopped := false
	present := make([]bool, kpc)
	missing := make([]bool, len(l.Owners))
	// apply feeds a finished batch to the tracker, in prompt order.
	apply := func(b *engineBatch) error {
		<-b.done
		if stopped {
			return nil // past the stop: asked ahead, not used
		}
		if b.err != nil {
			return b.err
		}
		for ci := range b.chunks {
			c := b.chunks[ci]
			c.Status = statusHit
			for j := 0; j < kpc; j++ {
				st := b.st[ci*kpc+j]
				present[j] = st.Status == statusHit
				v.keys++
				switch st.Status {
				case statusError:
					v.keyErrors++
					if v.firstKeyError == "" {
						v.firstKeyError = fmt.Sprintf("%s %d key %s: %s", spec.chunkWord(), c.Index, b.keys[ci*kpc+j], st.Error)
					}
					if c.Status != statusError {
						c.Status, c.Error = statusError, st.Error
					}
				case statusMiss:
					if c.Status == statusHit {
						c.Status = statusMiss
					}
				}
			}
			c.MissingRanks = missingOwners(&l, present, missing)
			if b.reps != nil {
				c.Replicas = b.reps[ci]
			}
			v.Chunks = append(v.Chunks, c)
			if tr.Add(present) && !holes {
				stopped = true
				return nil
			}
		}
		return nil
	}
	send := func(b *engineBatch) error {
		b.done = make(chan struct{})
		go func() {
			defer close(b.done)
			rctx, rcancel := context.WithTimeout(bctx, s.f.Timeout)
			defer rcancel()
			b.st, b.reps, b.err = s.engineBatch(rctx, b.keys, kpc)
		}()
		pending = append(pending, b)
		for len(pending) >= engineBatchesAhead && !stopped {
			if err := apply(pending[0]); err != nil {
				return err
			}
			free = append(free, pending[0])
			pending = pending[1:]
		}
		if stopped {
			return errEngineStop
		}
		return nil
	}
	cur := newBatch()
	err := k.each(p.Tokens, rankhit.Lookup, func(c engineChunk) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The view keeps copies: the key text of all ranks stays in the
		// batch, which is dropped once applied.
		cur.chunks = append(cur.chunks, lookupChunkView{Index: c.Index, Start: c.Start, End: c.End, Hash: strings.Clone(c.Hash), Key: strings.Clone(c.Keys[0])})
		cur.keys = append(cur.keys, c.Keys...)
		if len(cur.chunks) >= perBatch {
			b := cur
			if err := send(b); err != nil {
				return err
			}
			cur = newBatch()
		}
		return nil
	})
	if err == nil && len(cur.chunks) > 0 {
		err = send(cur)
	}
	if errors.Is(err, errEngineStop) {
		err = nil
	}
	for _, b := range pending {
		if err != nil || stopped {
			bcancel()
			<-b.done
			continue
		}
		err = apply(b)
	}
	if err != nil {
		return v, err
	}
	h := k.hit(len(p.Tokens), &l, tr)
	chunk := spec.chunkSize()
	v.HitTokens, v.HitChunks = h.Prefix, h.Prefix/chunk
	eh, checked := h.Engine, len(v.Chunks)
	v.EngineHitTokens, v.CheckedChunks = &eh, &checked
	v.RankHitTokens = append([]int{}, h.PerOwner...)
	rec := tr.Recovered()
	for o, owner := range h.Owners {
		v.RankHits = append(v.RankHits, rankHitView{Rank: owner, HitTokens: h.PerOwner[o], Holes: rec[o]})
	}
	for i := range v.Chunks {
		c := &v.Chunks[i]
		switch {
		case i < v.HitChunks:
			c.Usable = true
		case c.Status == statusHit:
			v.Unusable++
		}
	}
	return v, nil
}

// missingOwners lists the owners lacking a key of the chunk (nil when
// none; the layout's own Owners when all do, so a page every rank misses
// costs no allocation).
func missingOwners(l *rankhit.Layout, present, scratch []bool) []string {
	n := 0
	for o, need := range l.Needs {
		scratch[o] = false
		for _, j := range need {
			if !present[j] {
				scratch[o] = true
				n++
				break
			}
		}
	}
	switch n {
	case 0:
		return nil
	case len(l.Owners):
		return l.Owners
	}
	out := make([]string, 0, n)
	for o, m := range scratch {
		if m {
			out = append(out, l.Owners[o])
		}
	}
	return out
}

// engineBatch asks for one batch of keys (kpc per chunk) and, for
// placement, where each chunk's first object lives.
func (s *storeLookup) engineBatch(ctx context.Context, keys []string, kpc int) ([]keyStatus, [][]replicaView, error) {
	st, qs, err := s.existence(ctx, keys, s.placement && s.masterAddr == "")
	if err != nil || !s.placement {
		return st, nil, err
	}
	n := len(keys) / kpc
	reps := make([][]replicaView, n)
	if qs != nil {
		for i := range reps {
			reps[i] = queryReplicas(qs[i*kpc])
		}
		return st, reps, nil
	}
	first := make([]string, n)
	for i := range first {
		first[i] = keys[i*kpc]
	}
	if s.admin != nil {
		qs, err := s.admin.BatchQueryKeys(ctx, first)
		if err != nil {
			return nil, nil, s.f.withLeaderHint(ctx, s.admin, s.f.adminErr(s.adminURL, err))
		}
		for i, q := range qs {
			reps[i] = queryReplicas(q)
		}
		return st, reps, nil
	}
	rls, err := s.replicaLists(ctx, first)
	if err != nil {
		return nil, nil, err
	}
	for i, r := range rls {
		reps[i] = replicaViews(r)
	}
	return st, reps, nil
}

// checkEngineErrors counts an engine lookup's per-object errors.
func (g *hitGate) checkEngineErrors(name string, v *lookupPromptView) {
	g.keys += v.keys
	g.keyErrors += v.keyErrors
	if g.firstError == "" && v.firstKeyError != "" {
		g.firstError = name + " " + v.firstKeyError
	}
}

// chunkWordOf is what an engine lookup calls a chunk.
func chunkWordOf(engine string) string {
	switch enginekey.Engine(engine) {
	case enginekey.SGLang:
		return "page"
	case enginekey.VLLM:
		return "block"
	}
	return "chunk"
}

// engineRanksText is an engine chunk's RANKS cell: "8/8" or
// "7/8 (missing tp3_pp0)".
func engineRanksText(c lookupChunkView, owners int) string {
	s := strconv.Itoa(owners-len(c.MissingRanks)) + "/" + strconv.Itoa(owners)
	if len(c.MissingRanks) > 0 {
		s += " (missing " + strings.Join(c.MissingRanks, ",") + ")"
	}
	return s
}

// engineSummary is the table's line under an engine lookup: the engine's
// own hit, the ranks with holes, and where the lookup stopped.
func engineSummary(p lookupPromptView) string {
	if p.Engine == "" || p.EngineHitTokens == nil {
		return ""
	}
	word := chunkWordOf(p.Engine)
	var b strings.Builder
	fmt.Fprintf(&b, "%s uses %s", engineTitle(enginekey.Engine(p.Engine)), percent(*p.EngineHitTokens, p.TotalTokens))
	switch {
	case *p.EngineHitTokens < p.HitTokens && p.Engine == string(enginekey.SGLang):
		b.WriteString(" (below prefetch_threshold: the prefetch is revoked)")
	case *p.EngineHitTokens < p.HitTokens:
		b.WriteString(" (the end of the prompt is always recomputed)")
	}
	if len(p.RankHits) > 1 {
		var fewest []string
		for _, r := range p.RankHits {
			if r.HitTokens == p.HitTokens {
				fewest = append(fewest, r.Rank)
			}
		}
		if len(fewest) < len(p.RankHits) {
			fmt.Fprintf(&b, "; the hit is the minimum over ranks, held back by %s", strings.Join(fewest, ", "))
		}
	}
	if p.CheckedChunks != nil && *p.CheckedChunks < p.NumChunks {
		fmt.Fprintf(&b, "; checked %d of %d %ss: every rank had missed by %s %d, where the engine stops too (--holes checks the rest)", *p.CheckedChunks, p.NumChunks, word, word, *p.CheckedChunks-1)
	}
	return b.String()
}
