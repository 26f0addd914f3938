package commands

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/safetext"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/lmcachekey"
)

// ExplainOptions are lmc explain's inputs.
type ExplainOptions struct {
	f      *Factory
	Keys   KeyFlags
	Engine EngineFlags
	Input  InputFlags
	Args   []string
	Chunk  int
	Prompt int
	Format printers.Format
}

var explainFormats = []printers.Format{printers.Table, printers.Wide, printers.Plain, printers.JSON}

// NewCmdExplain builds `lmc explain`.
func NewCmdExplain(f *Factory) *cobra.Command {
	opts := &ExplainOptions{f: f}
	cmd := &cobra.Command{
		Use:   "explain [FILE|-]",
		Short: shortFor("explain"),
		Long: `Show, for every chunk (or --chunk N), everything that goes into its key: the
algorithm, NONE_HASH and where it came from, the prefix hash in, the tokens,
the extra tuple element, the serialised length, the resulting hash and key.
Then warn about the known traps: an unset or borrowed seed, builtin hashing
with TP > 1, the save_unfull_chunk default change, sha256_cbor_64bit now
meaning full sha256_cbor, and tags that lookups never carry.

` + inputHelp + `

Key flags are the same as for 'lmc keys'. -o json gives {"params", "warnings",
"chunks": [...]} with every field shown.

With --engine sglang|vllm it shows each page's or block's parent, tokens (or
bigrams under --eagle), vLLM's extra keys (LoRA, multimodal offsets, salt),
the serialised bytes and every key, then the traps of the configuration
(pickle object identity, seeds that cannot be reproduced, what is not
modelled). JSON: {"engine", "params", "warnings", "traps", "chunks": [...]}.`,
		Example: `  lmc explain --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json
  lmc explain --model m --hash sha256_cbor --hash-seed 0 --chunk 1 prompt.json
  lmc explain --model m --none-hash 0 --tokens 1,2,3 --save-unfull-chunk -o json
  lmc explain --engine vllm --model m --hash sha256_cbor --hash-seed 0 --lora my-lora --chunk 0 prompt.json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			var err error
			if opts.Format, err = f.outputFormat(explainFormats); err != nil {
				return err
			}
			eng, err := f.selectEngine(cmd, &opts.Engine)
			if err != nil {
				return err
			}
			if eng != enginekey.LMCache {
				return f.engineExplainRun(cmd.Context(), &opts.Keys, &opts.Engine, eng, args, &opts.Input, opts.Prompt, opts.Chunk, opts.Format)
			}
			return explainRun(cmd.Context(), opts)
		},
	}
	addPromptFlags(cmd, &opts.Keys, &opts.Engine, scopeKeys, &opts.Input)
	cmd.Flags().IntVar(&opts.Chunk, "chunk", -1, "explain only chunk N (0-based)")
	cmd.Flags().IntVar(&opts.Prompt, "prompt", 0, "which prompt of a JSON Lines input (0-based)")
	return cmd
}

type explainChunkView struct {
	Index        int      `json:"index"`
	Start        int      `json:"start"`
	End          int      `json:"end"`
	TokenCount   int      `json:"token_count"`
	FirstTokens  []uint32 `json:"first_tokens"`
	FirstTexts   []string `json:"first_token_texts,omitempty"`
	LastTokens   []uint32 `json:"last_tokens"`
	PrefixIn     string   `json:"prefix_in"`
	PrefixInType string   `json:"prefix_in_type"`
	Object       string   `json:"object"`
	Extra        string   `json:"extra"`
	Encoding     string   `json:"encoding"`
	EncodedLen   int      `json:"encoded_len"`
	EncodedHead  string   `json:"encoded_head,omitempty"`
	Hash         string   `json:"hash"`
	HashDecimal  string   `json:"hash_decimal,omitempty"`
	Key          string   `json:"key"`
}

type explainView struct {
	Params      lmcachekey.ParamsView `json:"params"`
	Tokenizer   string                `json:"tokenizer,omitempty"`
	TotalTokens int                   `json:"total_tokens"`
	NumChunks   int                   `json:"num_chunks"`
	Warnings    []string              `json:"warnings"`
	Chunks      []explainChunkView    `json:"chunks"`
}

func explainRun(ctx context.Context, o *ExplainOptions) error {
	f := o.f
	res, err := f.resolveKeys(ctx, &o.Keys, f.Given)
	if err != nil {
		return err
	}
	src, prompt, err := f.openPrompt(ctx, o.Args, &o.Input, o.Keys.Model, o.Prompt)
	if err != nil {
		return err
	}
	tokens := prompt.Tokens
	eng, err := lmcachekey.NewEngine(res.Params)
	if err != nil {
		return usageErrorf(err)
	}
	nchunks := res.Params.NumChunks(len(tokens))
	if o.Chunk >= nchunks || o.Chunk < -1 {
		return &UsageError{Err: fmt.Errorf("--chunk %d: the prompt has %s (0..%d)", o.Chunk, iostreams.Plural(nchunks, "chunk"), nchunks-1)}
	}
	v := explainView{Params: res.View(), Tokenizer: src.tt.Info, TotalTokens: len(tokens), NumChunks: nchunks, Warnings: keyWarnings(res, len(tokens)), Chunks: []explainChunkView{}}
	object := "(prefix, tuple(chunk), " + eng.Schema().Extra().String() + ")"
	if eng.Schema().Extra() == lmcachekey.ExtraPair {
		object = "(prefix, tuple(chunk))"
	}
	if eng.Schema().IsLegacySHA() || res.Params.Algorithm == lmcachekey.Blake3 {
		object = "prefix bytes ‖ tokens (no tuple)"
	}
	err = eng.Each(tokens, func(c lmcachekey.Chunk) error {
		if o.Chunk >= 0 && c.Index != o.Chunk {
			return nil
		}
		toks := tokens[c.Start:c.End]
		cv := explainChunkView{
			Index: c.Index, Start: c.Start, End: c.End, TokenCount: len(toks),
			FirstTokens: append([]uint32(nil), toks[:min(4, len(toks))]...),
			LastTokens:  append([]uint32(nil), toks[max(0, len(toks)-4):]...),
			PrefixIn:    prefixText(eng, c), PrefixInType: c.Prev.TypeName(),
			Object: object, Extra: eng.Schema().Extra().String(), Encoding: eng.Encoding(), EncodedLen: c.EncodedLen,
			Hash: eng.HashText(c.Hash), HashDecimal: c.Hash.Decimal(), Key: c.Key,
		}
		if src.tt.local != nil {
			for _, id := range cv.FirstTokens {
				txt, _ := src.tt.local.Token(id)
				cv.FirstTexts = append(cv.FirstTexts, txt)
			}
		}
		if enc := eng.Encode(c.Prev, toks); enc != nil {
			cv.EncodedHead = hex.EncodeToString(enc[:min(24, len(enc))])
		}
		v.Chunks = append(v.Chunks, cv)
		return nil
	})
	if err != nil {
		return err
	}
	if o.Format == printers.JSON {
		return printers.WriteJSON(f.Out(), v)
	}
	return writeExplainText(f.IOStreams, v, o.Format == printers.Wide)
}

func prefixText(eng *lmcachekey.Engine, c lmcachekey.Chunk) string {
	if c.Index == 0 && eng.Schema().IsLegacySHA() {
		return `"" (empty string)`
	}
	return c.Prev.Hex()
}

// keyWarnings lists the known traps that apply to these parameters.
func keyWarnings(r *Resolved, totalTokens int) []string {
	p := r.Params
	ws := append([]string{}, r.Warnings...)
	if p.Algorithm == lmcachekey.Builtin && p.WorldSize > 1 && !p.MLA {
		ws = append(ws, fmt.Sprintf("builtin hashing with world size %d: every rank process computes NONE_HASH = hash(seed) on its own; unless all of them run with the same PYTHONHASHSEED the ranks' chains differ and lookups miss (prefer sha256_cbor with a fixed PYTHONHASHSEED everywhere)", p.WorldSize))
	}
	if rem := totalTokens % p.ChunkSize; rem != 0 && totalTokens > 0 {
		if !p.SaveUnfullChunk {
			ws = append(ws, fmt.Sprintf("the last %s form a partial chunk with no key: LMCache drops it since 2025-12-11 (save_unfull_chunk default false; it was true before, so older engines stored it)", iostreams.Plural(rem, "token")))
		} else {
			ws = append(ws, "save_unfull_chunk is on: the partial last chunk has a key, but LMCache's default is false since 2025-12-11, so the engine must set it for that chunk to be stored")
		}
	}
	if p.Algorithm == lmcachekey.SHA256CBOR64Bit && !p.Legacy64Bit {
		ws = append(ws, "sha256_cbor_64bit now means the full 32-byte sha256_cbor digest (vLLM >= 0.10.2); only vLLM 0.10.0/0.10.1 produced the 64-bit value (--legacy-64bit)")
	}
	if len(p.Tags) > 0 {
		ws = append(ws, "tags are in store-side keys only: LMCache's Mooncake lookup client never adds them, so tagged chunks are never found by its lookups")
	}
	if p.Algorithm == lmcachekey.Builtin && p.Schema != lmcachekey.SchemaCurrent && p.Schema != lmcachekey.SchemaMP && p.Schema != lmcachekey.SchemaV032 && p.Schema != lmcachekey.SchemaV033 {
		ws = append(ws, "this key schema hashes None: hash(None) is constant only on CPython >= 3.12 (earlier it is the object's address, different in every process)")
	}
	if !p.NoneHash.IsBytes() && p.NoneHash.Decimal() == "0" && p.Algorithm != lmcachekey.Blake3 && strings.HasPrefix(p.NoneHashSource, "flag") {
		ws = append(ws, "NONE_HASH 0 is what LMCache uses only when vLLM cannot be imported; engines running inside vLLM start from H(PYTHONHASHSEED)")
	}
	if p.Layerwise {
		ws = append(ws, "layer-wise keys (use_layerwise): LMCache's Mooncake lookup client checks the non-layer keys, so it never hits layer-wise data")
	}
	if p.WorkerID != 0 {
		ws = append(ws, fmt.Sprintf("worker id %d: LMCache's Mooncake lookup client only checks worker 0's keys", p.WorkerID))
	}
	return ws
}

func writeExplainText(ios *iostreams.IOStreams, v explainView, wide bool) error {
	st := ios.Styles()
	var b strings.Builder
	kv := func(k, val string) { fmt.Fprintf(&b, "  %-16s %s\n", k, val) }
	src := func(k string) string {
		if s, ok := v.Params.Sources[k]; ok {
			return st.Muted.Render("  (" + s + ")")
		}
		return ""
	}
	p := v.Params
	b.WriteString(st.Header.Render("Parameters") + "\n")
	kv("model", p.Model)
	kws := strconv.Itoa(p.KeyWorldSize)
	if p.MLA {
		kws += " (MLA: world size " + strconv.Itoa(p.WorldSize) + " saved as 1)"
	}
	kv("world size", kws)
	kv("worker id", strconv.Itoa(p.WorkerID))
	kv("dtype", p.DType)
	alg := p.HashAlgorithm
	if p.Legacy64Bit {
		alg += " (legacy uint64)"
	}
	kv("hash algorithm", alg+src("hash_algorithm"))
	kv("chunk size", strconv.Itoa(p.ChunkSize)+src("chunk_size"))
	kv("save unfull", strconv.FormatBool(p.SaveUnfullChunk)+src("save_unfull_chunk"))
	kv("key schema", p.KeySchema+src("key_schema"))
	kv("NONE_HASH", p.NoneHash)
	kv("  from", p.NoneHashSource)
	if len(p.Tags) > 0 {
		var t []string
		for _, tg := range p.Tags {
			t = append(t, tg.Name+"%"+tg.Value)
		}
		kv("tags", strings.Join(t, ", "))
	}
	kv("prompt", fmt.Sprintf("%s, %s", iostreams.Plural(v.TotalTokens, "token"), iostreams.Plural(v.NumChunks, "chunk")))
	if v.Tokenizer != "" {
		kv("tokenizer", v.Tokenizer)
	}
	if len(v.Warnings) > 0 {
		writeBangSection(&b, st, "Warnings", v.Warnings)
	}
	for _, c := range v.Chunks {
		fmt.Fprintf(&b, "\n%s  tokens %d-%d (%d: %s)\n", st.Header.Render("Chunk "+strconv.Itoa(c.Index)), c.Start, c.End, c.TokenCount, tokenPreview(c.FirstTokens, c.LastTokens, c.TokenCount))
		if len(c.FirstTexts) > 0 {
			kv("first tokens", strings.Join(quoteAll(c.FirstTexts), " "))
		}
		kv("prefix in", c.PrefixIn+" "+st.Muted.Render("("+c.PrefixInType+")"))
		kv("hashed object", c.Object)
		enc := c.Encoding
		if c.EncodedLen > 0 {
			enc += fmt.Sprintf(", %d bytes", c.EncodedLen)
			if c.EncodedHead != "" {
				head := c.EncodedHead
				if !wide {
					head = iostreams.Truncate(head, 24)
				}
				enc += ": " + head
			}
		}
		kv("encoding", enc)
		h := c.Hash
		if c.HashDecimal != "" {
			h += st.Muted.Render(" (int " + c.HashDecimal + ")")
		}
		kv("hash", h)
		kv("key", c.Key)
	}
	_, err := io.WriteString(ios.Out, safetext.EscapeText(b.String()))
	return err
}

func tokenPreview(first, last []uint32, n int) string { return unitPreview(first, last, n) }
