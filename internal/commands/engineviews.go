// keys and explain for --engine sglang|vllm: their JSON views (field names
// are a contract: add, never rename) and printers.
package commands

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/rankhit"
)

// engineSetup resolves the engine's key configuration and opens the token
// input: the common start of keys, explain, lookup and doctor.
func (f *Factory) engineSetup(ctx context.Context, k *KeyFlags, e *EngineFlags, eng enginekey.Engine, sel rankhit.Select, args []string, in *InputFlags) (*engineSpec, *tokenSource, error) {
	spec, err := f.resolveEngine(k, e, eng, sel)
	if err != nil {
		return nil, nil, err
	}
	src, err := f.openTokens(ctx, args, in, k.Model)
	if err != nil {
		return nil, nil, err
	}
	return spec, src, nil
}

// keysSelection is --all-ranks or the one rank.
func keysSelection(e *EngineFlags) rankhit.Select {
	if e.AllRanks {
		return rankhit.AllRanks
	}
	return rankhit.OneRank
}

type engineKeyChunkView struct {
	Index int      `json:"index"`
	Start int      `json:"start"`
	End   int      `json:"end"`
	Hash  string   `json:"hash"`
	Key   string   `json:"key"`
	Keys  []string `json:"keys"`
}

type engineKeysPromptView struct {
	Index       int                  `json:"index"`
	ID          string               `json:"id,omitempty"`
	TotalTokens int                  `json:"total_tokens"`
	Chunks      []engineKeyChunkView `json:"chunks"`
}

type engineKeysView struct {
	Engine      string               `json:"engine"`
	Params      any                  `json:"params"`
	TotalTokens int                  `json:"total_tokens"`
	Chunks      []engineKeyChunkView `json:"chunks"`
}

type engineKeysBatchView struct {
	Engine  string                 `json:"engine"`
	Params  any                    `json:"params"`
	Prompts []engineKeysPromptView `json:"prompts"`
}

// engineKeysRun is lmc keys --engine sglang|vllm.
func (f *Factory) engineKeysRun(ctx context.Context, k *KeyFlags, e *EngineFlags, eng enginekey.Engine, args []string, in *InputFlags, format printers.Format) error {
	spec, src, err := f.engineSetup(ctx, k, e, eng, keysSelection(e), args, in)
	if err != nil {
		return err
	}
	warn(f.IOStreams, spec.Warnings)
	keyer, err := spec.keyer()
	if err != nil {
		return err
	}
	out := f.Out()
	var prompts []engineKeysPromptView
	err = src.eachPrompt(func(p *tokenize.Prompt) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		pv := engineKeysPromptView{Index: p.Index, ID: p.ID, TotalTokens: len(p.Tokens), Chunks: []engineKeyChunkView{}}
		var plain []byte
		if err := keyer.each(p.Tokens, spec.Sel, func(c engineChunk) error {
			if format == printers.Plain {
				for _, key := range c.Keys {
					plain = append(append(plain, key...), '\n')
				}
				if len(plain) >= 64<<10 {
					_, err := out.Write(plain)
					plain = plain[:0]
					return err
				}
				return nil
			}
			pv.Chunks = append(pv.Chunks, engineKeyChunkView{Index: c.Index, Start: c.Start, End: c.End, Hash: c.Hash, Key: c.Keys[0], Keys: c.Keys})
			return nil
		}); err != nil {
			return err
		}
		if keyer.numChunks(len(p.Tokens)) == 0 && f.IOStreams.ShowHints() {
			fmt.Fprintf(f.IOStreams.ErrOut, "%s has %s, fewer than one %s (%d): no keys\n", promptName(src.name, p), iostreams.Plural(len(p.Tokens), "token"), spec.chunkWord(), spec.chunkSize())
		}
		return printers.Stream(out, format, pv, func() error {
			_, err := out.Write(plain)
			return err
		}, &prompts)
	})
	if err != nil {
		return err
	}
	return printers.WriteKept(out, format, prompts,
		func(pv engineKeysPromptView) any {
			return engineKeysView{Engine: string(eng), Params: spec.view(), TotalTokens: pv.TotalTokens, Chunks: pv.Chunks}
		},
		func(pvs []engineKeysPromptView) any {
			return engineKeysBatchView{Engine: string(eng), Params: spec.view(), Prompts: pvs}
		},
		func() error { return writeEngineKeysTable(f.IOStreams, spec, format == printers.Wide, prompts) })
}

func writeEngineKeysTable(ios *iostreams.IOStreams, spec *engineSpec, wide bool, prompts []engineKeysPromptView) error {
	batch := len(prompts) > 1
	header := []string{strings.ToUpper(spec.chunkWord()), "TOKENS", "HASH", "KEY"}
	multi := false
	for _, p := range prompts {
		for _, c := range p.Chunks {
			multi = multi || len(c.Keys) > 1
		}
	}
	if multi {
		header = append(header, "KEYS")
	}
	if batch {
		header = append([]string{"PROMPT"}, header...)
	}
	var rows [][]string
	for _, p := range prompts {
		for _, c := range p.Chunks {
			keys := c.Keys
			if !wide {
				keys = keys[:1]
			}
			for i, key := range keys {
				hash := c.Hash
				if !wide {
					hash = iostreams.Truncate(hash, 13)
					key = iostreams.ElideMiddle(key, max(ios.TerminalWidth()-40, 24))
				}
				row := []string{strconv.Itoa(c.Index), fmt.Sprintf("%d-%d", c.Start, c.End), hash, key}
				if i > 0 {
					row = []string{"", "", "", key}
				}
				if multi {
					n := ""
					if i == 0 {
						n = strconv.Itoa(len(c.Keys))
					}
					row = append(row, n)
				}
				if batch {
					name := p.ID
					if name == "" {
						name = strconv.Itoa(p.Index + 1)
					}
					if i > 0 {
						name = ""
					}
					row = append([]string{name}, row...)
				}
				rows = append(rows, row)
			}
		}
	}
	st := ios.Styles()
	if err := printers.WriteTable(ios.Out, styledHeader(st, header), rows); err != nil {
		return err
	}
	if ios.IsStdoutTTY() {
		total, chunks := 0, 0
		for _, p := range prompts {
			chunks += len(p.Chunks)
			for _, c := range p.Chunks {
				total += len(c.Keys)
			}
		}
		note := ""
		if multi && !wide {
			note = " (-o wide lists them all)"
		}
		fmt.Fprintln(ios.Out, st.Muted.Render(iostreams.Plural(total, "key")+" in "+iostreams.Plural(chunks, spec.chunkWord())+" of "+iostreams.Plural(len(prompts), "prompt")+note))
	}
	return nil
}

type engineExplainChunkView struct {
	Index       int        `json:"index"`
	Start       int        `json:"start"`
	End         int        `json:"end"`
	Unit        string     `json:"unit"`
	TokenCount  int        `json:"token_count"`
	FirstTokens []uint32   `json:"first_tokens"`
	FirstTexts  []string   `json:"first_token_texts,omitempty"`
	LastTokens  []uint32   `json:"last_tokens"`
	Bigrams     [][]uint32 `json:"first_bigrams,omitempty"`
	PrefixIn    string     `json:"prefix_in"`
	Object      string     `json:"object"`
	Extra       string     `json:"extra"`
	Encoding    string     `json:"encoding"`
	EncodedLen  int        `json:"encoded_len"`
	EncodedHead string     `json:"encoded_head"`
	Hash        string     `json:"hash"`
	Key         string     `json:"key"`
	Keys        []string   `json:"keys"`
}

type engineExplainView struct {
	Engine      string                   `json:"engine"`
	Params      any                      `json:"params"`
	Tokenizer   string                   `json:"tokenizer,omitempty"`
	TotalTokens int                      `json:"total_tokens"`
	NumChunks   int                      `json:"num_chunks"`
	Warnings    []string                 `json:"warnings"`
	Traps       []string                 `json:"traps"`
	Chunks      []engineExplainChunkView `json:"chunks"`
}

// engineExplainRun is lmc explain --engine sglang|vllm.
func (f *Factory) engineExplainRun(ctx context.Context, k *KeyFlags, e *EngineFlags, eng enginekey.Engine, args []string, in *InputFlags, promptIdx, chunk int, format printers.Format) error {
	spec, src, err := f.engineSetup(ctx, k, e, eng, keysSelection(e), args, in)
	if err != nil {
		return err
	}
	prompt, err := src.promptAt(ctx, promptIdx)
	if err != nil {
		return err
	}
	keyer, err := spec.keyer()
	if err != nil {
		return err
	}
	tokens := prompt.Tokens
	n := keyer.numChunks(len(tokens))
	if chunk >= n || chunk < -1 {
		return &UsageError{Err: fmt.Errorf("--chunk %d: the prompt has %s (0..%d)", chunk, iostreams.Plural(n, spec.chunkWord()), n-1)}
	}
	v := engineExplainView{Engine: string(eng), Params: spec.view(), Tokenizer: src.tt.Info, TotalTokens: len(tokens), NumChunks: n,
		Warnings: append([]string{}, spec.Warnings...), Traps: []string{}, Chunks: []engineExplainChunkView{}}
	for _, t := range keyer.traps() {
		if !slices.Contains(spec.Warnings, t) {
			v.Traps = append(v.Traps, t)
		}
	}
	var vk vllmKeyer
	isVLLM := spec.VLLM != nil
	if isVLLM {
		vk = keyer.(vllmKeyer)
	}
	bigrams := spec.SGLang != nil && spec.SGLang.Eagle
	err = keyer.each(tokens, spec.Sel, func(c engineChunk) error {
		if chunk >= 0 && c.Index != chunk {
			return nil
		}
		cv := engineExplainChunkView{Index: c.Index, Start: c.Start, End: c.End, Unit: "token", TokenCount: c.End - c.Start,
			PrefixIn: c.Parent, Hash: c.Hash, Key: c.Keys[0], Keys: c.Keys}
		toks := tokens[c.Start:c.End]
		if bigrams {
			cv.Unit = "bigram"
			toks = tokens[c.Start : c.End+1] // bigram i is (tokens[i], tokens[i+1])
			for i := c.Start; i < min(c.End, c.Start+4); i++ {
				cv.Bigrams = append(cv.Bigrams, []uint32{tokens[i], tokens[i+1]})
			}
		}
		cv.FirstTokens = append([]uint32{}, toks[:min(4, len(toks))]...)
		cv.LastTokens = append([]uint32{}, toks[max(0, len(toks)-4):]...)
		if src.tt.local != nil {
			for _, id := range cv.FirstTokens {
				txt, _ := src.tt.local.Token(id)
				cv.FirstTexts = append(cv.FirstTexts, txt)
			}
		}
		parent, _ := hex.DecodeString(c.Parent)
		var enc []byte
		if isVLLM {
			p := vk.e.Params()
			cv.Extra = c.Extra.Repr()
			cv.Object = "(parent, tuple(block tokens), extra_keys)"
			cv.Encoding = string(p.Hash) + " of " + p.Hash.Encoding()
			if cv.PrefixIn == "" {
				cv.PrefixIn = "(none)"
			}
			enc = vk.e.Encode(parent, tokens[c.Start:c.End], c.Extra)
			cv.EncodedLen = c.EncodedLen
		} else {
			cv.Extra = "none (SGLang hashes no model, seed or salt; S4 seeds page 0 from extra_key/cache_salt)"
			unit := "token as u32 little-endian"
			if bigrams {
				unit = "bigram (a, b) as u32 little-endian a ‖ b"
			}
			cv.Object = "parent digest (32 bytes; none for page 0) ‖ each " + unit
			cv.Encoding = "sha256 (get_hash_str)"
			enc = append(enc, parent...)
			for i := c.Start; i < c.End; i++ {
				enc = binary.LittleEndian.AppendUint32(enc, tokens[i])
				if bigrams {
					enc = binary.LittleEndian.AppendUint32(enc, tokens[i+1])
				}
			}
			cv.EncodedLen = len(enc)
			if cv.PrefixIn == "" {
				cv.PrefixIn = "(none: page 0)"
			}
		}
		cv.EncodedHead = hex.EncodeToString(enc[:min(24, len(enc))])
		v.Chunks = append(v.Chunks, cv)
		return nil
	})
	if err != nil {
		return err
	}
	if format == printers.JSON {
		return printers.WriteJSON(f.Out(), v)
	}
	return writeEngineExplainText(f.IOStreams, spec, &v, format == printers.Wide)
}

func writeEngineExplainText(ios *iostreams.IOStreams, spec *engineSpec, v *engineExplainView, wide bool) error {
	st := ios.Styles()
	var b strings.Builder
	kv := func(k, val string) { fmt.Fprintf(&b, "  %-16s %s\n", k, val) }
	from := func(param string) string {
		if s, ok := spec.Sources[param]; ok {
			return st.Muted.Render("  (" + s + ")")
		}
		return ""
	}
	b.WriteString(st.Header.Render("Parameters") + "\n")
	kv("engine", engineTitle(spec.Engine))
	switch p := v.Params.(type) {
	case sglangParamsView:
		kv("key schema", p.KeySchema+from("key_schema"))
		kv("page size", strconv.Itoa(p.PageSize)+from("page_size"))
		kv("tp × pp", fmt.Sprintf("%d × %d%s", p.TPSize, p.PPSize, from("tp_size")))
		kv("mla", strconv.FormatBool(p.MLA)+from("mla"))
		kv("eagle", strconv.FormatBool(p.Eagle)+from("eagle"))
		model := p.Model
		if model == "" {
			model = "(none)"
		}
		kv("served model", model+from("model"))
		kv("key prefix", strconv.Quote(p.KeyPrefix))
		if p.ExtraKey != nil {
			kv("extra key", strconv.Quote(*p.ExtraKey))
		}
		if p.CacheSalt != nil {
			kv("cache salt", strconv.Quote(*p.CacheSalt))
		}
		if p.NamespaceSeed != "" {
			kv("namespace seed", p.NamespaceSeed)
		}
		if p.SplitHeads {
			kv("split heads", fmt.Sprintf("tp_lcm_size %d", p.TPLCMSize))
		}
		kv("keys", fmt.Sprintf("%d per page (%s)", p.KeysPerPage, p.Selection))
	case vllmParamsView:
		kv("key schema", p.KeySchema+from("key_schema"))
		kv("block size", strconv.Itoa(p.BlockSize)+from("block_size"))
		kv("hash algorithm", p.HashAlgorithm+from("hash_algorithm"))
		kv("NONE_HASH", p.NoneHash)
		kv("  from", p.NoneHashSource)
		kv("model in key", p.ModelInKey+st.Muted.Render("  (--model "+p.Model+")"))
		kv("parallel", fmt.Sprintf("tp %d, pp %d, pcp %d, dcp %d; kv heads %d, mla %v: replication %d", p.TPSize, p.PPSize, p.PCPSize, p.DCPSize, p.NumKVHeads, p.MLA, p.ReplicationFactor))
		if p.CachePrefix != "" {
			kv("cache prefix", strconv.Quote(p.CachePrefix))
		}
		if p.LoRA != "" {
			kv("lora", strconv.Quote(p.LoRA))
		}
		if p.CacheSalt != "" {
			kv("cache salt", strconv.Quote(p.CacheSalt))
		}
		for _, m := range p.MM {
			kv("multimodal", m)
		}
		kv("rules", p.Rules)
		kv("keys", fmt.Sprintf("%d per block (%s)", p.KeysPerBlock, p.Selection))
	}
	kv("prompt", fmt.Sprintf("%s, %s", iostreams.Plural(v.TotalTokens, "token"), iostreams.Plural(v.NumChunks, spec.chunkWord())))
	if v.Tokenizer != "" {
		kv("tokenizer", v.Tokenizer)
	}
	if len(v.Warnings) > 0 {
		writeBangSection(&b, st, "Warnings", v.Warnings)
	}
	writeBangSection(&b, st, "Traps", v.Traps)
	word := strings.ToUpper(spec.chunkWord()[:1]) + spec.chunkWord()[1:]
	for _, c := range v.Chunks {
		units := c.Unit + "s"
		fmt.Fprintf(&b, "\n%s  %s %d-%d (%d", st.Header.Render(word+" "+strconv.Itoa(c.Index)), units, c.Start, c.End, c.TokenCount)
		if c.Unit == "bigram" {
			var bg []string
			for _, p := range c.Bigrams {
				bg = append(bg, fmt.Sprintf("(%d,%d)", p[0], p[1]))
			}
			if c.TokenCount > len(c.Bigrams) {
				bg = append(bg, "…")
			}
			fmt.Fprintf(&b, ": %s)\n", strings.Join(bg, " "))
		} else {
			fmt.Fprintf(&b, ": %s)\n", unitPreview(c.FirstTokens, c.LastTokens, c.TokenCount))
		}
		if len(c.FirstTexts) > 0 {
			kv("first tokens", strings.Join(quoteAll(c.FirstTexts), " "))
		}
		kv("parent", c.PrefixIn)
		kv("hashed object", c.Object)
		if spec.VLLM != nil {
			kv("extra keys", c.Extra)
		}
		head := c.EncodedHead
		if !wide {
			head = iostreams.Truncate(head, 24)
		}
		kv("encoding", fmt.Sprintf("%s, %d bytes: %s", c.Encoding, c.EncodedLen, head))
		kv("hash", c.Hash)
		for i, key := range c.Keys {
			label := "key"
			if len(c.Keys) > 1 {
				label = "key " + strconv.Itoa(i+1)
			}
			kv(label, key)
		}
	}
	_, err := io.WriteString(ios.Out, b.String())
	return err
}

// unitPreview renders a chunk's first and last tokens: "1 2 3 4 … 13 14 15
// 16", or all of them for a short chunk.
func unitPreview(first, last []uint32, n int) string {
	join := func(ts []uint32) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = strconv.FormatUint(uint64(t), 10)
		}
		return strings.Join(s, " ")
	}
	if n <= len(first) {
		return join(first)
	}
	if n <= len(first)+len(last) {
		return join(first) + " " + join(last[len(first)+len(last)-n:])
	}
	return join(first) + " … " + join(last)
}
