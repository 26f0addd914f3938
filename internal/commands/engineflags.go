// The --engine flag and the flags of the engines that write to Mooncake
// without LMCache (SGLang HiCache, vLLM's own store connector): which
// commands carry them, which engine each belongs to, and the check that a
// flag of another engine than the selected one is a usage error.
package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/lmcachekey"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// EngineFlags are --engine and the engine-specific key flags. The flags the
// engines share with LMCache (--model, --hash, --hash-seed, --none-hash,
// --mla, --cache-salt, --key-schema) stay in KeyFlags.
type EngineFlags struct {
	Engine string

	// SGLang HiCache.
	PageSize          int
	ExtraBackendTag   string
	ExtraKey          string
	TPLCMSize         int
	SplitHeads        bool
	PrefetchThreshold int

	// vLLM MooncakeStoreConnector.
	BlockSize    int
	PCPSize      int
	DCPSize      int
	NumKVHeads   int
	CachePrefix  string
	KVCacheGroup int
	LoRA         string
	MM           []string
	Rules        string

	// Both.
	TPSize, PPSize          int
	Eagle                   bool
	TPRank, PPRank, PCPRank int
	AllRanks                bool
	Holes                   bool
}

// engineScope says which of the engine flags a command carries.
type engineScope int

const (
	// scopeKeys: keys and explain: one rank (--tp-rank...) or --all-ranks.
	scopeKeys engineScope = iota
	// scopeLookup: lookup (its own --all-ranks), with --holes and
	// --prefetch-threshold.
	scopeLookup
	// scopeDoctor: doctor (every rank), with --prefetch-threshold.
	scopeDoctor
	// scopeStore: sandbox --populate (every rank's objects) and config
	// set-context (every flag, for contexts).
	scopeStore
	scopeContext
	// scopeMaster: clear and move --master: one rank (--tp-rank...) or
	// the store flags' own --all-ranks.
	scopeMaster
)

// DefaultEngineFlags are the defaults: LMCache; SGLang's page size 1 and
// vLLM's block size 16; one rank.
func DefaultEngineFlags() EngineFlags {
	return EngineFlags{Engine: string(enginekey.LMCache), PageSize: 1, BlockSize: 16, TPSize: 1, PPSize: 1, PCPSize: 1, DCPSize: 1}
}

// addEngineFlags registers --engine and the engine flags a command of this
// scope carries. Help lines stay within 80 columns; 'lmc help engines'
// has the details.
func addEngineFlags(cmd *cobra.Command, e *EngineFlags, scope engineScope) {
	inGroup(cmd, groupKey, func() { defineEngineFlags(cmd, e, scope) })
}

func defineEngineFlags(cmd *cobra.Command, e *EngineFlags, scope engineScope) {
	d := DefaultEngineFlags()
	fl := cmd.Flags()
	fl.StringVar(&e.Engine, "engine", d.Engine, "lmcache|sglang|vllm")
	// SGLang
	fl.IntVar(&e.PageSize, "page-size", d.PageSize, "SGLang: tokens per page")
	fl.StringVar(&e.ExtraBackendTag, "extra-backend-tag", "", "SGLang: extra_backend_tag key prefix `T`")
	fl.StringVar(&e.ExtraKey, "extra-key", "", "SGLang: the request's extra_key `K` (S4)")
	fl.IntVar(&e.TPLCMSize, "tp-lcm-size", 0, "SGLang: tp_lcm_size (with --split-heads)")
	fl.BoolVar(&e.SplitHeads, "split-heads", false, "SGLang: page_head layout, head-split keys")
	// vLLM
	fl.IntVar(&e.BlockSize, "block-size", d.BlockSize, "vLLM: tokens per block")
	fl.IntVar(&e.PCPSize, "pcp-size", d.PCPSize, "vLLM: prefill CP size")
	fl.IntVar(&e.DCPSize, "dcp-size", d.DCPSize, "vLLM: decode CP size")
	fl.IntVar(&e.NumKVHeads, "num-kv-heads", 0, "vLLM: the model's num_key_value_heads")
	fl.StringVar(&e.CachePrefix, "cache-prefix", "", "vLLM: cache_prefix `P` of the connector (V3)")
	fl.IntVar(&e.KVCacheGroup, "kv-cache-group", 0, "vLLM: KV-cache group `G`")
	fl.StringVar(&e.LoRA, "lora", "", "vLLM: the request's LoRA adapter `NAME`")
	fl.StringArrayVar(&e.MM, "mm", nil, "vLLM: mm item `ID:OFFSET:LENGTH`, repeatable")
	fl.StringVar(&e.Rules, "rules", "", "vLLM: current|pr40900 (default: era)")
	// both
	fl.IntVar(&e.TPSize, "tp-size", d.TPSize, "SGLang/vLLM: TP size")
	fl.IntVar(&e.PPSize, "pp-size", d.PPSize, "SGLang/vLLM: PP size")
	fl.BoolVar(&e.Eagle, "eagle", false, "SGLang/vLLM: EAGLE speculative decoding")
	switch scope {
	case scopeKeys, scopeContext, scopeMaster:
		what := "whose keys to show"
		if scope == scopeMaster {
			what = "whose keys to act on"
		}
		fl.IntVar(&e.TPRank, "tp-rank", 0, "SGLang/vLLM: the TP rank "+what)
		fl.IntVar(&e.PPRank, "pp-rank", 0, "SGLang/vLLM: the PP rank "+what)
		fl.IntVar(&e.PCPRank, "pcp-rank", 0, "vLLM: the PCP rank "+what)
		if scope == scopeKeys {
			fl.BoolVar(&e.AllRanks, "all-ranks", false, "SGLang/vLLM: every rank's keys, deduplicated")
		}
	}
	switch scope {
	case scopeLookup, scopeDoctor, scopeContext:
		fl.IntVar(&e.PrefetchThreshold, "prefetch-threshold", sglangkey.DefaultPrefetchThreshold, "SGLang: prefetch_threshold")
	}
	if scope == scopeLookup {
		fl.BoolVar(&e.Holes, "holes", false, "SGLang/vLLM: check past every rank's miss")
	}
	_ = cmd.RegisterFlagCompletionFunc("engine", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{
			"lmcache\tLMCache (default)",
			"sglang\tSGLang HiCache with the Mooncake backend",
			"vllm\tvLLM's own MooncakeStoreConnector",
		}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("rules", cobra.FixedCompletions([]string{
		"current\tevery rank namespace; a full hit ends a block early",
		"pr40900\tthe first release (V1): rank-0 keys rewritten; a full hit less one token",
	}, cobra.ShellCompDirectiveNoFileComp))
}

// engineOf reads the selected engine from a command's --engine flag, for
// completions (which run before flags are validated).
func engineOf(cmd *cobra.Command) enginekey.Engine {
	if fl := cmd.Flags().Lookup("engine"); fl != nil {
		if e, err := enginekey.ParseEngine(fl.Value.String()); err == nil {
			return e
		}
	}
	return enginekey.LMCache
}

// completeKeySchema completes --key-schema with the selected engine's eras.
func completeKeySchema(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	switch engineOf(cmd) {
	case enginekey.SGLang:
		for _, e := range sglangkey.Eras {
			out = append(out, string(e.Name)+"\t"+e.Period)
		}
	case enginekey.VLLM:
		for _, e := range vllmkey.Eras {
			out = append(out, string(e.Name)+"\t"+e.Period)
		}
	default:
		for _, s := range lmcachekey.Schemas {
			out = append(out, string(s.Name)+"\t"+s.Period)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeHash completes --hash with the selected engine's algorithms.
func completeHash(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if engineOf(cmd) == enginekey.VLLM {
		for _, a := range vllmkey.HashAlgos {
			out = append(out, string(a)+"\t"+a.Encoding())
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	for _, a := range lmcachekey.Algorithms {
		out = append(out, string(a)+"\t"+lmcachekey.AlgorithmHelp[a])
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

var (
	onlyLMCache = []enginekey.Engine{enginekey.LMCache}
	onlySGLang  = []enginekey.Engine{enginekey.SGLang}
	onlyVLLM    = []enginekey.Engine{enginekey.VLLM}
	lmcacheVLLM = []enginekey.Engine{enginekey.LMCache, enginekey.VLLM}
	bothEngines = []enginekey.Engine{enginekey.SGLang, enginekey.VLLM}
)

// engineOfFlag names the engines a flag applies to; flags not listed apply
// to every engine (--model, --mla, --cache-salt, --key-schema, input,
// backends, output).
func engineOfFlag(cmd *cobra.Command, name string) []enginekey.Engine {
	switch name {
	case "chunk-size", "save-unfull-chunk", "world-size", "worker-id", "dtype", "tag", "legacy-64bit",
		"python-version", "lmcache-config", "layer", "controller":
		return onlyLMCache
	case "hash", "hash-seed", "none-hash", "seed-candidates":
		return lmcacheVLLM
	case "page-size", "extra-backend-tag", "extra-key", "tp-lcm-size", "split-heads", "prefetch-threshold":
		return onlySGLang
	case "block-size", "pcp-size", "dcp-size", "num-kv-heads", "cache-prefix", "kv-cache-group", "lora", "mm", "rules", "pcp-rank":
		return onlyVLLM
	case "tp-size", "pp-size", "eagle", "tp-rank", "pp-rank", "holes":
		return bothEngines
	case "all-ranks":
		if cmd.Name() == "lookup" || cmd.Name() == "clear" || cmd.Name() == "move" {
			return nil // LMCache's lookup, clear and move take every worker id's keys with it too
		}
		return bothEngines
	}
	return nil
}

// engineNames renders engines for messages: "SGLang", "SGLang and vLLM".
func engineNames(es []enginekey.Engine) string {
	var s []string
	for _, e := range es {
		s = append(s, engineTitle(e))
	}
	return strings.Join(s, " and ")
}

func engineTitle(e enginekey.Engine) string {
	switch e {
	case enginekey.SGLang:
		return "SGLang"
	case enginekey.VLLM:
		return "vLLM"
	}
	return "LMCache"
}

// selectEngine validates --engine and refuses the flags, given by any
// layer, that belong to another engine than the selected one.
func (f *Factory) selectEngine(cmd *cobra.Command, e *EngineFlags) (enginekey.Engine, error) {
	eng, err := enginekey.ParseEngine(e.Engine)
	if err != nil {
		return "", &UsageError{Err: fmt.Errorf("--engine%s: %v", fromWhere(f.Given, "engine"), strings.TrimPrefix(err.Error(), fmt.Sprintf("engine %q: ", e.Engine)))}
	}
	var bad error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if bad != nil {
			return
		}
		owners := engineOfFlag(cmd, fl.Name)
		if owners == nil || containsEngine(owners, eng) {
			return
		}
		how := "use --engine " + string(owners[0])
		if len(owners) > 1 {
			how = "use --engine " + string(owners[0]) + " or " + string(owners[1])
		}
		if src := fromWhere(f.Given, fl.Name); src != "" {
			how = "unset it, or " + how
		}
		bad = &UsageError{Err: fmt.Errorf("--%s%s is %s flag and this is --engine %s%s: %s", fl.Name, fromWhere(f.Given, fl.Name), article(engineNames(owners)), eng, fromWhere(f.Given, "engine"), how)}
	})
	if bad == nil && eng != enginekey.LMCache {
		bad = refuseMPFlagsForEngine(f, cmd, eng)
	}
	return eng, bad
}

// mpOnlyFlags are the LMCache MP mode's flags of the read commands: an
// SGLang or vLLM prompt is looked up in the Mooncake store alone, so
// they would change nothing there.
var mpOnlyFlags = []string{"coordinator", "server", "by-keys", "tier", "instance", "backend"}

// refuseMPFlagsForEngine refuses, for keys, explain, lookup and doctor
// with --engine sglang|vllm, the MP-mode flags given on the command line
// or in LMC_* ('lookup --engine vllm --admin A --coordinator C --tier l1'
// answered the store's hit with exit 0); a context's values, which serve
// its LMCache commands, are left alone.
func refuseMPFlagsForEngine(f *Factory, cmd *cobra.Command, eng enginekey.Engine) error {
	switch cmd.Name() {
	case "keys", "explain", "lookup", "doctor":
	default:
		return nil
	}
	for _, name := range mpOnlyFlags {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		if f.gave(name, notContext) {
			return &UsageError{Err: fmt.Errorf("--%s%s is an LMCache MP-mode flag and this is --engine %s%s: %s writes its keys to the Mooncake store only (--master or --admin), so it would be ignored; use --engine lmcache", name, fromWhere(f.Given, name), eng, fromWhere(f.Given, "engine"), engineTitle(eng))}
		}
	}
	return nil
}

func containsEngine(es []enginekey.Engine, e enginekey.Engine) bool {
	for _, x := range es {
		if x == e {
			return true
		}
	}
	return false
}

func article(name string) string {
	if name == "vLLM" {
		return "a vLLM"
	}
	return "an " + strings.ReplaceAll(name, " and ", "/")
}

// fromWhere is " (from env LMC_X)" for a flag set by the environment or a
// context, "" for one on the command line or not given.
func fromWhere(given FlagSources, name string) string {
	if src := given.Source(name); src != "" && src != "flag --"+name {
		return " (from " + src + ")"
	}
	return ""
}

// engineFlagNames are the engine flags contexts may hold.
var engineFlagNames = []string{"engine", "page-size", "extra-backend-tag", "extra-key", "tp-lcm-size", "split-heads", "prefetch-threshold",
	"block-size", "pcp-size", "dcp-size", "num-kv-heads", "cache-prefix", "kv-cache-group", "lora", "mm", "rules",
	"tp-size", "pp-size", "eagle", "tp-rank", "pp-rank", "pcp-rank"}

// Help paragraphs of the commands that take --engine.
const (
	engineKeysHelp = `--engine sglang|vllm computes the keys SGLang HiCache or vLLM's own
MooncakeStoreConnector writes ('lmc help engines'; another engine's flags, and
LMCache MP mode's --server, are refused): one page (SGLang) or block (vLLM) per chunk, with every object key
of the rank --tp-rank/--pp-rank/--pcp-rank selects, or with --all-ranks of
every rank (deduplicated, in rank order). JSON: {"engine", "params",
"total_tokens", "chunks": [{"index","start","end","hash","key","keys"}]};
-o plain prints every key, one per line.`

	engineLookupHelp = `--engine sglang|vllm looks the prompt up as that engine does: every rank's
objects of every page or block (SGLang: each TP/PP rank's K and V objects, MLA
one per PP stage; vLLM: every lookup namespace), in batches of at most 4096
keys pipelined on the one connection, stopping once every rank has missed
(--holes checks on). hit_tokens is the raw prefix hit (the pages every rank
holds, the minimum over ranks); engine_hit_tokens applies the engine's rule
(SGLang drops a hit below --prefetch-threshold, default 256; vLLM recomputes
the end of a fully cached prompt: a block now, a token in the first release;
--rules). JSON adds "engine", "engine_hit_tokens", "checked_chunks",
"rank_hits": [{"rank","hit_tokens","holes"}] and "rank_hit_tokens", and per
chunk "missing_ranks". --timeout bounds each batch; --min-hit compares
hit_tokens. LMCache MP mode's --coordinator, --server, --by-keys, --tier,
--instance and --backend are refused (exit 2).`

	engineDoctorHelp = `--engine sglang|vllm diagnoses with that engine's keys: its lookup on every
rank (holes named per rank, the engine's rule), then a search of its knobs
(page or block size, era, hash and seed, served-model-name form, MLA, EAGLE,
TP and PP fan-out) guided by the store sample, within --max-probes (each
engine lookup counts one). The store sample names SGLang's and vLLM's key
groups ("engine_groups"), and LMCache's doctor searches them when it finds no
LMCache cause (a finding of kind "other-engine").`
)

// enginesHelp is 'lmc help engines'.
func enginesHelp() string {
	var b strings.Builder
	b.WriteString(`Besides LMCache, two engines store KV cache in Mooncake under their own keys;
--engine selects whose keys keys, explain, lookup, doctor, sandbox --populate
and clear and move|copy --master compute (default lmcache; also LMC_ENGINE and
contexts). Flags of another engine than the selected one are a usage error.

SGLang HiCache (--hicache-storage-backend mooncake): --engine sglang
  --page-size N (default 1), --tp-size, --pp-size, --mla, --model (the served
  model name; "/" becomes "-" in S3+ keys), --extra-backend-tag T, --eagle
  (bigram hashing), --extra-key K and --cache-salt S (the S4 namespace seed),
  --tp-lcm-size N with --split-heads, --prefetch-threshold (lookup, doctor).
  Eras (--key-schema):
`)
	for _, e := range sglangkey.Eras {
		fmt.Fprintf(&b, "    %s  %s\n%s\n", e.Name, e.Period, formatLines(e.Format, "        ", 80))
	}
	b.WriteString(`
vLLM MooncakeStoreConnector: --engine vllm
  --block-size N (default 16), --hash sha256|sha256_cbor|xxhash|xxhash_cbor
  (default sha256), --hash-seed SEED (the engines' PYTHONHASHSEED; unset, V3
  assumes vLLM's "vllm-none-hash", and older formats or xxhash* cannot be
  reproduced, so it is required), --none-hash HEX, --model (as the engine's
  --model; keys carry its last path component), --tp-size, --pp-size,
  --pcp-size, --dcp-size, --num-kv-heads, --mla, --cache-prefix P,
  --kv-cache-group G, --lora NAME, --cache-salt S, --mm ID:OFFSET:LENGTH
  (repeatable), --eagle, --rules current|pr40900 (default: by format).
  Formats (--key-schema; vllm-ascend's A1..A3 too):
`)
	for _, e := range vllmkey.Eras {
		fmt.Fprintf(&b, "    %s  %s\n%s\n", e.Name, e.Period, formatLines(e.Format, "        ", 80))
	}
	b.WriteString(`
Ranks: keys and explain show, and clear and move --master act on,
--tp-rank/--pp-rank/--pcp-rank's keys (default 0) or --all-ranks; lookup,
doctor and sandbox --populate always use every rank. Hybrid models (Mamba, sliding-window, DSA indexer, DeepSeek-V4 side
pools) are refused by name: their per-pool keys and hit rules are not
modelled. 'lmc explain --engine …' lists the traps of a configuration.`)
	return b.String()
}

// formatLines prints a key format template indented, broken after an '@'
// where it would pass width (the continuation is indented two more).
func formatLines(format, indent string, width int) string {
	var lines []string
	line := indent
	for i, part := range strings.SplitAfter(format, "@") {
		if i > 0 && len(line)+len(part) > width {
			lines = append(lines, line)
			line = indent + "  "
		}
		line += part
	}
	return strings.Join(append(lines, line), "\n")
}
