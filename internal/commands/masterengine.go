// --engine sglang|vllm for the verbs on the Mooncake master (clear and
// move|copy --master): the engine flags they carry, the refusal of another
// engine than LMCache on the LMCache controller, coordinator or MP server
// paths, and the prompt's objects as SGLang HiCache or vLLM's own
// MooncakeStoreConnector stores them (several per page and rank for
// SGLang: K and V, or one MLA object).
package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/rankhit"
)

// addMasterEngineFlags registers --engine, the SGLang and vLLM key flags
// and the rank flags (--tp-rank, --pp-rank, --pcp-rank) of clear and move;
// --all-ranks is the store flags' own.
func addMasterEngineFlags(cmd *cobra.Command, so *storeOpFlags) {
	addEngineFlags(cmd, &so.Engine, scopeMaster)
}

// masterEngine validates --engine (refusing flags of another engine, from
// any layer) and, for SGLang and vLLM, makes sure the verb acts on a
// Mooncake store: their keys are the engine's own, which no LMCache
// controller, coordinator or MP server knows. A context naming both a
// store and a controller then asks the store.
func (f *Factory) masterEngine(cmd *cobra.Command, so *storeOpFlags, b *BackendFlags) error {
	// the backend first: --controller is also an LMCache-only flag, and
	// the refusal should say why
	if eng, err := enginekey.ParseEngine(so.Engine.Engine); err == nil && eng != enginekey.LMCache {
		if err := f.storeForEngine(eng, b); err != nil {
			return err
		}
	}
	eng, err := f.selectEngine(cmd, &so.Engine)
	if err != nil {
		return err
	}
	so.engine = eng
	return nil
}

// storeForEngine refuses a verb of SGLang's or vLLM's keys on anything but
// a Mooncake store.
func (f *Factory) storeForEngine(eng enginekey.Engine, b *BackendFlags) error {
	kind, err := f.backendSet(b, storeBackend, controllerBackend, coordinatorBackend, storeBackend)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("--engine %s%s: %s stores its KV cache in Mooncake under its own keys, which only the store knows", eng, fromWhere(f.Given, "engine"), engineTitle(eng))
	fix := "pass --master HOST:PORT (the store's master, with --admin URL for a lease-free plan), or --engine lmcache"
	switch {
	case kind.name == storeBackend.name:
		return nil
	case kind.name == controllerBackend.name:
		return &UsageError{Err: fmt.Errorf("%s; the LMCache controller (--controller%s) knows only LMCache's chunks: %s", what, fromWhere(f.Given, "controller"), fix)}
	case kind.name == coordinatorBackend.name:
		return &UsageError{Err: fmt.Errorf("%s; the LMCache coordinator (--coordinator%s) knows only LMCache's chunks: %s", what, fromWhere(f.Given, "coordinator"), fix)}
	case f.Given.Has("server"):
		return &UsageError{Err: fmt.Errorf("%s; an LMCache MP server (--server%s) knows only LMCache's chunks: %s", what, fromWhere(f.Given, "server"), fix)}
	}
	return &UsageError{Err: fmt.Errorf("%s: %s", what, fix)}
}

// enginePromptKeys computes the objects SGLang or vLLM stores for the one
// prompt of the token input: of the rank --tp-rank/--pp-rank/--pcp-rank
// select, or of every rank with --all-ranks (deduplicated, in rank order).
// Each key carries its page or block, the index of the first rank that
// reads it, and every rank that does.
func (f *Factory) enginePromptKeys(ctx context.Context, so *storeOpFlags, in *InputFlags, args []string) (*promptKeys, error) {
	sel := rankhit.OneRank
	if so.AllRanks {
		sel = rankhit.AllRanks
	}
	spec, err := f.resolveEngine(&so.Keys, &so.Engine, so.engine, sel)
	if err != nil {
		return nil, err
	}
	tokens, err := f.oneTokenPrompt(ctx, args, in, so.Keys.Model)
	if err != nil {
		return nil, err
	}
	warn(f.IOStreams, spec.Warnings)
	k, err := spec.keyer()
	if err != nil {
		return nil, err
	}
	all, l := k.layout(rankhit.AllRanks), k.layout(sel)
	index := make(map[string]int, len(all.Owners))
	for i, o := range all.Owners {
		index[o] = i
	}
	owners := make([][]string, l.KeysPerChunk)
	first := make([]int, l.KeysPerChunk)
	for o, need := range l.Needs {
		for _, ki := range need {
			if owners[ki] == nil {
				first[ki] = index[l.Owners[o]]
			}
			owners[ki] = append(owners[ki], l.Owners[o])
		}
	}
	pk := &promptKeys{Tokens: len(tokens), Engine: string(so.engine), Unit: spec.chunkWord(), Model: so.Keys.Model, Owners: l.Owners}
	for _, o := range l.Owners {
		pk.Ranks = append(pk.Ranks, index[o])
	}
	err = k.each(tokens, sel, func(c engineChunk) error {
		for i, key := range c.Keys {
			pk.Keys = append(pk.Keys, chunkKey{Chunk: c.Index, Start: c.Start, End: c.End, Rank: first[i], Key: key, Owners: owners[i]})
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	if sel == rankhit.OneRank && all.KeysPerChunk > l.KeysPerChunk {
		warn(f.IOStreams, []string{fmt.Sprintf("%s: acting on rank %s's objects only (%s per %s of %d); every rank stores its own objects of each %s: --all-ranks acts on all of them",
			rankFanOut(spec), l.Owners[0], iostreams.Plural(l.KeysPerChunk, "object"), spec.chunkWord(), all.KeysPerChunk, spec.chunkWord())})
	}
	return pk, nil
}

// rankFanOut says how many ranks write a prompt: "TP 2 × PP 1".
func rankFanOut(s *engineSpec) string {
	if s.SGLang != nil {
		return fmt.Sprintf("TP %d × PP %d", s.SGLang.TPSize, s.SGLang.PPSize)
	}
	return fmt.Sprintf("TP %d × PP %d × PCP %d", s.VLLM.TPSize, s.VLLM.PPSize, s.VLLM.PCPSize)
}

// engineDescribe says what the objects are, for plans: "12 objects of 3
// pages of a 48-token prompt (SGLang, model m, ranks tp0_pp0, tp1_pp0)".
func (p *promptKeys) engineDescribe() string {
	pages := map[int]bool{}
	for _, k := range p.Keys {
		pages[k.Chunk] = true
	}
	ranks := "rank " + strings.Join(p.Owners, "")
	if len(p.Owners) > 1 {
		ranks = "ranks " + strings.Join(limitList(p.Owners, 8), ", ")
	}
	model := p.Model
	if model == "" {
		model = "none"
	}
	return fmt.Sprintf("%s of %s of a %d-token prompt (%s, model %s, %s)", iostreams.Plural(len(p.Keys), "object"), iostreams.Plural(len(pages), p.Unit),
		p.Tokens, engineTitle(enginekey.Engine(p.Engine)), model, ranks)
}

// masterEngineHelp is what clear's and move's help say about --engine.
const masterEngineHelp = `--engine sglang|vllm acts on the objects SGLang HiCache or vLLM's own
MooncakeStoreConnector stores for the prompt ('lmc help engines'; the key flags
as for 'lmc keys --engine', another engine's flags refused): every object of
each page (SGLang: K and V per TP rank, or one MLA object per page) or block
(vLLM: one per lookup namespace) of the rank --tp-rank/--pp-rank/--pcp-rank
select (default 0; a warning says when other ranks hold objects too), or of
every rank with --all-ranks. Each key row names its page or block ("chunk"),
its first rank's index ("rank") and the ranks that read it ("owners"). Only
the store knows these keys: --engine sglang|vllm with --controller,
--coordinator or --server is refused (exit 2).`
