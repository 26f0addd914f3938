package commands

import (
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/tokenize/lmcachekey"
)

// KeyFlags are the flags that decide LMCache's keys, shared by every command
// that computes them.
type KeyFlags struct {
	Model         string
	Hash          string
	HashSeed      string
	NoneHash      string
	ChunkSize     int
	SaveUnfull    bool
	KeySchema     string
	WorldSize     int
	WorkerID      int
	DType         string
	Tags          []string
	MLA           bool
	Legacy64Bit   bool
	PythonVersion string
	CacheSalt     string
	LMCacheConfig string
	Layer         int
	// Servers are MP servers (--server) whose /status gives the chunk
	// size, hash algorithm, model and world size (coordserver.go).
	Servers []string
}

// DefaultKeyFlags are the flag defaults: LMCache's own defaults, no model
// and no seed.
func DefaultKeyFlags() KeyFlags {
	return KeyFlags{Hash: string(lmcachekey.Builtin), ChunkSize: 256, KeySchema: string(lmcachekey.SchemaCurrent), WorldSize: 1,
		DType: "bfloat16", PythonVersion: "3.12", Layer: -1}
}

func addKeyFlags(cmd *cobra.Command, k *KeyFlags) {
	inGroup(cmd, groupKey, func() { defineKeyFlags(cmd, k) })
}

// addPromptFlags registers what every command that turns prompts into keys
// takes (keys, explain, lookup, doctor): the key flags, the engine flags of
// scope and the token input.
func addPromptFlags(cmd *cobra.Command, k *KeyFlags, e *EngineFlags, scope engineScope, in *InputFlags) {
	addKeyFlags(cmd, k)
	addEngineFlags(cmd, e, scope)
	addInputFlags(cmd, in)
}

func defineKeyFlags(cmd *cobra.Command, k *KeyFlags) {
	d := DefaultKeyFlags()
	fl := cmd.Flags()
	fl.StringVar(&k.Model, "model", "", "model name exactly as the engine's --model (HF repo id or path; SGLang: the served model name)")
	fl.StringVar(&k.Hash, "hash", d.Hash, "hash algorithm (pre_caching_hash_algorithm): "+algorithmNames()+"; vLLM: its --prefix-caching-hash-algo (default sha256)")
	fl.StringVar(&k.HashSeed, "hash-seed", "", "the serving engine's PYTHONHASHSEED; NONE_HASH = H(seed) as vLLM computes it (also LMC_HASH_SEED, then PYTHONHASHSEED)")
	fl.StringVar(&k.NoneHash, "none-hash", "", "NONE_HASH given directly: decimal or 0x int, or hex digest (0 for LMCache without vLLM)")
	fl.IntVar(&k.ChunkSize, "chunk-size", d.ChunkSize, "tokens per chunk (LMCache chunk_size)")
	fl.BoolVar(&k.SaveUnfull, "save-unfull-chunk", false, "also key the trailing partial chunk (LMCache default false since 2025-12-11)")
	fl.StringVar(&k.KeySchema, "key-schema", d.KeySchema, "key format era: "+schemaNames()+" (see 'lmc help key-schemas'); SGLang S1..S4, vLLM V1..V3 (default: newest; 'lmc help engines')")
	fl.IntVar(&k.WorldSize, "world-size", d.WorldSize, "engine world size (TP x PP)")
	fl.IntVar(&k.WorkerID, "worker-id", 0, "worker rank whose keys to compute (lookups use 0)")
	fl.StringVar(&k.DType, "dtype", d.DType, "KV cache dtype: torch name or vLLM --kv-cache-dtype (fp8 renders as uint8); not in --key-schema mp keys (refused there)")
	fl.StringArrayVar(&k.Tags, "tag", nil, "request tag name=value (lmcache.tag.*), repeatable; store-side keys only, not in --key-schema mp keys (refused there)")
	fl.BoolVar(&k.MLA, "mla", false, "MLA model: keys carry world size 1 (save_only_first_rank); SGLang/vLLM: one object for all TP ranks")
	fl.BoolVar(&k.Legacy64Bit, "legacy-64bit", false, "int digests of vLLM 0.10.0/0.10.1: sha256_cbor_64bit as a uint64, sha256 as a 256-bit int (today both are bytes)")
	fl.StringVar(&k.PythonVersion, "python-version", d.PythonVersion, "CPython version of the engine (3.10 and older hash str with SipHash-2-4)")
	fl.StringVar(&k.CacheSalt, "cache-salt", "", "MP-mode cache_salt appended to keys (--key-schema mp); SGLang/vLLM: the request's cache_salt")
	fl.IntVar(&k.Layer, "layer", d.Layer, "layer-wise keys (use_layerwise): the key of this layer, \"@<layer>\" after the dtype")
	fl.StringVar(&k.LMCacheConfig, "lmcache-config", "", "LMCache engine config YAML (also LMCACHE_CONFIG_FILE); LMCACHE_* variables override it; flags win")
	_ = cmd.RegisterFlagCompletionFunc("hash", completeHash)
	_ = cmd.RegisterFlagCompletionFunc("key-schema", completeKeySchema)
	_ = cmd.RegisterFlagCompletionFunc("dtype", cobra.FixedCompletions(lmcachekey.DTypeValues, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("lmcache-config", "yaml", "yml")
	addServerFlag(cmd, &k.Servers)
}

func algorithmNames() string {
	var s []string
	for _, a := range lmcachekey.Algorithms {
		s = append(s, string(a))
	}
	return strings.Join(s, "|")
}

func schemaNames() string {
	var s []string
	for _, si := range lmcachekey.Schemas {
		s = append(s, string(si.Name))
	}
	return strings.Join(s, "|")
}
