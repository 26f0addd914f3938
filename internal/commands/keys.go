package commands

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/phasetime"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/lmcachekey"
)

// KeysOptions are lmc keys' inputs.
type KeysOptions struct {
	f      *Factory
	Keys   KeyFlags
	Engine EngineFlags
	Input  InputFlags
	Args   []string
	Format printers.Format
}

var keysFormats = []printers.Format{printers.Table, printers.Wide, printers.JSON, printers.JSONL, printers.Plain}

// NewCmdKeys builds `lmc keys`.
func NewCmdKeys(f *Factory) *cobra.Command {
	opts := &KeysOptions{f: f}
	cmd := &cobra.Command{
		Use:   "keys [FILE|-]",
		Short: shortFor("keys"),
		Long: `Compute, offline, the key of every chunk of a prompt exactly as LMCache does:
chunking, the prefix-hash chain from NONE_HASH, the hash algorithm and the key
format.

` + inputHelp + `

NONE_HASH: under vLLM it is H(PYTHONHASHSEED) of the serving engine. Pass the
engine's seed with --hash-seed (or LMC_HASH_SEED; PYTHONHASHSEED of this shell
is used last, with a warning), or --none-hash 0 for LMCache without vLLM. With
neither, lmc stops (exit 2): it will not guess.

Output: -o table (default on a terminal), wide (full hashes and keys), plain
(exactly one key per line, nothing else: the default when piped), json
({"params": {...}, "chunks": [{"index","start","end","hash","key"}]}; a batch
gives {"params", "prompts": [{"index","id","total_tokens","chunks"}]}) or jsonl
(one object per prompt).

A prompt shorter than one chunk has no keys (exit 0) unless
--save-unfull-chunk.

` + engineKeysHelp,
		Example: `  lmc keys --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json
  lmc keys --model m --none-hash 0 --tokens 1,2,3 --chunk-size 2 --save-unfull-chunk
  lmc keys --model m --hash sha256_cbor --hash-seed 42 -o plain prompt.json | head -1
  lmc keys --model m --hash-seed 0 --world-size 2 --worker-id 1 -o json prompts.jsonl
  lmc keys --engine sglang --page-size 16 --tp-size 2 --model Qwen/Qwen3-8B --all-ranks prompt.json
  lmc keys --engine vllm --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 -o json prompt.json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			var err error
			if opts.Format, err = f.outputFormat(keysFormats); err != nil {
				return err
			}
			eng, err := f.selectEngine(cmd, &opts.Engine)
			if err != nil {
				return err
			}
			if eng != enginekey.LMCache {
				return f.engineKeysRun(cmd.Context(), &opts.Keys, &opts.Engine, eng, args, &opts.Input, opts.Format)
			}
			return keysRun(cmd.Context(), opts)
		},
	}
	addPromptFlags(cmd, &opts.Keys, &opts.Engine, scopeKeys, &opts.Input)
	return cmd
}

type keyChunkView struct {
	Index int    `json:"index"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Hash  string `json:"hash"`
	Key   string `json:"key"`
}

type keysPromptView struct {
	Index       int            `json:"index"`
	ID          string         `json:"id,omitempty"`
	TotalTokens int            `json:"total_tokens"`
	Chunks      []keyChunkView `json:"chunks"`
}

type keysView struct {
	Params      lmcachekey.ParamsView `json:"params"`
	TotalTokens int                   `json:"total_tokens"`
	Chunks      []keyChunkView        `json:"chunks"`
}

type keysBatchView struct {
	Params  lmcachekey.ParamsView `json:"params"`
	Prompts []keysPromptView      `json:"prompts"`
}

func keysRun(ctx context.Context, o *KeysOptions) error {
	f := o.f
	res, err := f.resolveKeys(ctx, &o.Keys, f.Given)
	if err != nil {
		return err
	}
	src, err := f.openTokens(ctx, o.Args, &o.Input, o.Keys.Model)
	if err != nil {
		return err
	}
	warn(f.IOStreams, res.Warnings)
	eng, err := lmcachekey.NewEngine(res.Params)
	if err != nil {
		return usageErrorf(err)
	}
	out := f.Out()
	var prompts []keysPromptView
	err = src.eachPrompt(func(p *tokenize.Prompt) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		pv := keysPromptView{Index: p.Index, ID: p.ID, TotalTokens: len(p.Tokens), Chunks: []keyChunkView{}}
		t := time.Now()
		if err := eng.Each(p.Tokens, func(c lmcachekey.Chunk) error {
			pv.Chunks = append(pv.Chunks, keyChunkView{Index: c.Index, Start: c.Start, End: c.End, Hash: eng.HashText(c.Hash), Key: c.Key})
			return nil
		}); err != nil {
			return err
		}
		f.Times.Since(phasetime.Keys, t)
		defer f.Times.Since(phasetime.Print, time.Now())
		if len(pv.Chunks) == 0 && f.IOStreams.ShowHints() {
			fmt.Fprintf(f.IOStreams.ErrOut, "%s has %s, fewer than one chunk (%d): no keys%s\n", promptName(src.name, p), iostreams.Plural(len(p.Tokens), "token"), res.Params.ChunkSize, unfullHint(res.Params))
		}
		return printers.Stream(out, o.Format, pv, func() error {
			var b []byte
			for _, c := range pv.Chunks {
				b = append(append(b, c.Key...), '\n')
			}
			_, err := out.Write(b)
			return err
		}, &prompts)
	})
	if err != nil {
		return err
	}
	defer f.Times.Since(phasetime.Print, time.Now())
	return printers.WriteKept(out, o.Format, prompts,
		func(pv keysPromptView) any {
			return keysView{Params: res.View(), TotalTokens: pv.TotalTokens, Chunks: pv.Chunks}
		},
		func(pvs []keysPromptView) any { return keysBatchView{Params: res.View(), Prompts: pvs} },
		func() error { return writeKeysTable(f.IOStreams, o.Format == printers.Wide, prompts) })
}

func unfullHint(p lmcachekey.Params) string {
	if p.SaveUnfullChunk {
		return ""
	}
	return "; LMCache drops the partial chunk unless save_unfull_chunk (--save-unfull-chunk)"
}

// writeKeysTable prints the keys. -o wide, and any table written to a
// file or pipe, shows full hashes and keys. On a terminal too narrow for
// the keys, the HASH column goes first (the key holds the hash), and only
// then are keys shortened in the middle.
func writeKeysTable(ios *iostreams.IOStreams, wide bool, prompts []keysPromptView) error {
	batch := len(prompts) > 1
	full := wide || !ios.IsStdoutTTY()
	rangeW, hashW, nameW, keyMax := len("TOKENS"), len("HASH"), len("PROMPT"), len("KEY")
	for _, p := range prompts {
		nameW = max(nameW, len(p.ID), len(strconv.Itoa(p.Index)))
		for _, c := range p.Chunks {
			rangeW = max(rangeW, len(fmt.Sprintf("%d-%d", c.Start, c.End)))
			hashW = max(hashW, min(13, len([]rune(c.Hash))))
			keyMax = max(keyMax, len([]rune(c.Key)))
		}
	}
	// Width left for the key column: the terminal minus the other columns
	// (each followed by two spaces).
	rest := len("CHUNK") + 2 + rangeW + 2
	if batch {
		rest += nameW + 2
	}
	showHash, keyW := true, 0
	if !full {
		switch w := ios.TerminalWidth(); {
		case keyMax <= w-rest-hashW-2:
		case keyMax <= w-rest:
			showHash = false
		default:
			showHash, keyW = false, max(w-rest, 24)
		}
	}
	header := []string{"CHUNK", "TOKENS"}
	if showHash {
		header = append(header, "HASH")
	}
	header = append(header, "KEY")
	if batch {
		header = append([]string{"PROMPT"}, header...)
	}
	var rows [][]string
	for _, p := range prompts {
		for _, c := range p.Chunks {
			hash, key := c.Hash, c.Key
			if !full {
				hash = iostreams.Truncate(hash, 13)
			}
			if keyW > 0 {
				key = iostreams.ElideMiddle(key, keyW)
			}
			row := []string{strconv.Itoa(c.Index), fmt.Sprintf("%d-%d", c.Start, c.End)}
			if showHash {
				row = append(row, hash)
			}
			row = append(row, key)
			if batch {
				name := p.ID
				if name == "" {
					name = strconv.Itoa(p.Index)
				}
				row = append([]string{name}, row...)
			}
			rows = append(rows, row)
		}
	}
	st := ios.Styles()
	for i := range header {
		header[i] = st.Header.Render(header[i])
	}
	if err := printers.WriteTable(ios.Out, header, rows); err != nil {
		return err
	}
	total := 0
	for _, p := range prompts {
		total += len(p.Chunks)
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out, st.Muted.Render(iostreams.Plural(total, "key")+" for "+iostreams.Plural(len(prompts), "prompt")))
	}
	return nil
}
