package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/tokenize/lmcacheconfig"
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
}

func addKeyFlags(cmd *cobra.Command, k *KeyFlags) {
	fl := cmd.Flags()
	fl.StringVar(&k.Model, "model", "", "model name exactly as the engine's --model (HF repo id or path)")
	fl.StringVar(&k.Hash, "hash", "builtin", "hash algorithm (pre_caching_hash_algorithm): "+algorithmNames())
	fl.StringVar(&k.HashSeed, "hash-seed", "", "the serving engine's PYTHONHASHSEED; NONE_HASH = H(seed) as vLLM computes it (also LMC_HASH_SEED, then PYTHONHASHSEED)")
	fl.StringVar(&k.NoneHash, "none-hash", "", "NONE_HASH given directly: decimal or 0x int, or hex digest (0 for LMCache without vLLM)")
	fl.IntVar(&k.ChunkSize, "chunk-size", 256, "tokens per chunk (LMCache chunk_size)")
	fl.BoolVar(&k.SaveUnfull, "save-unfull-chunk", false, "also key the trailing partial chunk (LMCache default false since 2025-12-11)")
	fl.StringVar(&k.KeySchema, "key-schema", "current", "key format era: "+schemaNames()+" (see 'lmc help key-schemas')")
	fl.IntVar(&k.WorldSize, "world-size", 1, "engine world size (TP x PP)")
	fl.IntVar(&k.WorkerID, "worker-id", 0, "worker rank whose keys to compute (lookups use 0)")
	fl.StringVar(&k.DType, "dtype", "bfloat16", "KV cache dtype: torch name or vLLM --kv-cache-dtype (fp8 renders as uint8)")
	fl.StringArrayVar(&k.Tags, "tag", nil, "request tag name=value (lmcache.tag.*), repeatable; store-side keys only")
	fl.BoolVar(&k.MLA, "mla", false, "MLA model: keys carry world size 1 (save_only_first_rank)")
	fl.BoolVar(&k.Legacy64Bit, "legacy-64bit", false, "int digests of vLLM 0.10.0/0.10.1: sha256_cbor_64bit as a uint64, sha256 as a 256-bit int (today both are bytes)")
	fl.StringVar(&k.PythonVersion, "python-version", "3.12", "CPython version of the engine (3.10 and older hash str with SipHash-2-4)")
	fl.StringVar(&k.CacheSalt, "cache-salt", "", "MP-mode cache_salt appended to keys (--key-schema mp)")
	fl.IntVar(&k.Layer, "layer", -1, "layer-wise keys (use_layerwise): the key of this layer, \"@<layer>\" after the dtype")
	fl.StringVar(&k.LMCacheConfig, "lmcache-config", "", "LMCache engine config YAML (also LMCACHE_CONFIG_FILE); LMCACHE_* variables override it; flags win")
	_ = cmd.RegisterFlagCompletionFunc("hash", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, a := range lmcachekey.Algorithms {
			out = append(out, string(a)+"\t"+lmcachekey.AlgorithmHelp[a])
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("key-schema", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, s := range lmcachekey.Schemas {
			out = append(out, string(s.Name)+"\t"+s.Period)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("dtype", cobra.FixedCompletions(lmcachekey.DTypeValues, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("lmcache-config", "yaml", "yml")
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

// Resolved is the key parameters plus where each came from.
type Resolved struct {
	Params   lmcachekey.Params
	Source   map[string]string // param → "flag --x", "env LMC_X", "<file>", "env LMCACHE_X", "default"
	Seed     string            // the PYTHONHASHSEED used, if any
	Config   *lmcacheconfig.Config
	Warnings []string
	// NoneHashText is NONE_HASH as keys show it.
	NoneHashText string
}

// resolveKeys applies flags > LMC_* environment > context > LMCache config >
// defaults and works out NONE_HASH.
func (f *Factory) resolveKeys(cmd *cobra.Command, k *KeyFlags) (*Resolved, error) {
	return f.resolveKeysOpt(cmd, k, false)
}

// resolveKeysLenient resolves what it can without a model or a seed (for
// 'lmc config view --resolved').
func (f *Factory) resolveKeysLenient(cmd *cobra.Command, k *KeyFlags) (*Resolved, error) {
	return f.resolveKeysOpt(cmd, k, true)
}

func (f *Factory) resolveKeysOpt(cmd *cobra.Command, k *KeyFlags, lenient bool) (*Resolved, error) {
	r := &Resolved{Params: lmcachekey.DefaultParams(), Source: map[string]string{}}
	p := &r.Params
	src := func(flag string) string {
		if s := f.source(cmd, flag); s != "" {
			return s
		}
		return ""
	}
	set := func(param, flag string) bool {
		if s := src(flag); s != "" {
			r.Source[param] = s
			return true
		}
		return false
	}

	// LMCache's own configuration (file, then LMCACHE_* overrides).
	cfgPath := k.LMCacheConfig
	if cfgPath == "" {
		cfgPath = f.Getenv("LMCACHE_CONFIG_FILE")
	}
	cfg, err := lmcacheconfig.Load(cfgPath, f.Getenv)
	if err != nil {
		return nil, usageErrorf(err)
	}
	r.Config = cfg
	r.Warnings = append(r.Warnings, cfg.Warnings...)

	// chunk size
	p.ChunkSize = k.ChunkSize
	r.Source["chunk_size"] = "default"
	if !set("chunk_size", "chunk-size") && cfg.ChunkSize != nil {
		p.ChunkSize = *cfg.ChunkSize
		r.Source["chunk_size"] = cfg.Source["chunk_size"]
	}
	// save_unfull_chunk
	p.SaveUnfullChunk = k.SaveUnfull
	r.Source["save_unfull_chunk"] = "default"
	if !set("save_unfull_chunk", "save-unfull-chunk") {
		if v, ok, why := cfg.EffectiveSaveUnfullChunk(); ok {
			p.SaveUnfullChunk = v
			r.Source["save_unfull_chunk"] = cfg.Source["save_unfull_chunk"]
			if why != "" {
				r.Source["save_unfull_chunk"] = why
			}
		}
	}
	// schema (before the algorithm: blake3 and mp imply each other)
	schema, err := lmcachekey.LookupSchema(k.KeySchema)
	if err != nil {
		return nil, usageErrorf(err)
	}
	p.Schema = schema.Name
	r.Source["key_schema"] = "default"
	schemaSet := set("key_schema", "key-schema")
	// algorithm
	hashName := k.Hash
	r.Source["hash_algorithm"] = "default"
	if !set("hash_algorithm", "hash") && cfg.HashAlgorithm != nil {
		hashName = *cfg.HashAlgorithm
		r.Source["hash_algorithm"] = cfg.Source["pre_caching_hash_algorithm"]
	}
	alg, err := lmcachekey.ParseAlgorithm(hashName)
	if err != nil {
		if r.Source["hash_algorithm"] != "default" && !strings.HasPrefix(r.Source["hash_algorithm"], "flag") && !strings.HasPrefix(r.Source["hash_algorithm"], "env LMC_") {
			// LMCache silently falls back to builtin for names vLLM does not know.
			r.Warnings = append(r.Warnings, fmt.Sprintf("pre_caching_hash_algorithm %q is not a name vLLM knows: LMCache silently falls back to builtin", hashName))
			alg = lmcachekey.Builtin
		} else {
			return nil, usageErrorf(err)
		}
	}
	p.Algorithm = alg
	if alg == lmcachekey.Blake3 && !schemaSet {
		p.Schema = lmcachekey.SchemaMP
		r.Source["key_schema"] = "implied by --hash blake3"
	}
	if p.Schema == lmcachekey.SchemaMP && r.Source["hash_algorithm"] == "default" {
		p.Algorithm = lmcachekey.Blake3
		r.Source["hash_algorithm"] = "implied by --key-schema mp"
	}
	p.Legacy64Bit = k.Legacy64Bit
	// metadata
	p.Model = k.Model
	r.Source["model"] = src("model")
	if fl := cmd.Flags().Lookup("layer"); fl != nil && fl.Changed {
		p.Layerwise, p.Layer = true, k.Layer
	}
	p.WorldSize, p.WorkerID, p.MLA = k.WorldSize, k.WorkerID, k.MLA
	if p.DType, err = lmcachekey.ParseDType(k.DType); err != nil {
		return nil, usageErrorf(err)
	}
	for _, t := range k.Tags {
		tg, err := lmcachekey.ParseTag(t)
		if err != nil {
			return nil, usageErrorf(err)
		}
		p.Tags = append(p.Tags, tg)
	}
	p.CacheSalt = k.CacheSalt
	if p.CacheSalt != "" && p.Schema != lmcachekey.SchemaMP {
		return nil, usageErrorf(fmt.Errorf("--cache-salt only applies to --key-schema mp"))
	}
	minor, err := parsePythonVersion(k.PythonVersion)
	if err != nil {
		return nil, usageErrorf(err)
	}
	p.PythonMinor = minor

	if p.Model == "" && !lenient {
		return nil, usageErrorf(fmt.Errorf("no model name: pass --model exactly as the serving engine's --model (e.g. meta-llama/Llama-3.1-8B-Instruct); keys start with it"))
	}

	if k.NoneHash != "" && k.HashSeed != "" {
		return nil, usageErrorf(fmt.Errorf("--none-hash and --hash-seed (%s) exclude each other: NONE_HASH is either given or H(seed)", src("hash-seed")))
	}
	// NONE_HASH: --none-hash, else H(seed) with the seed from --hash-seed /
	// LMC_HASH_SEED / PYTHONHASHSEED.
	switch {
	case k.NoneHash != "":
		v, err := lmcachekey.ParseValue(k.NoneHash)
		if err != nil {
			return nil, usageErrorf(fmt.Errorf("--none-hash: %v", err))
		}
		p.NoneHash = v
		p.NoneHashSource = src("none-hash")
	case k.HashSeed != "":
		r.Seed = k.HashSeed
		p.NoneHashSource = "H(\"" + k.HashSeed + "\"), seed from " + src("hash-seed")
	case f.Getenv("PYTHONHASHSEED") != "":
		r.Seed = f.Getenv("PYTHONHASHSEED")
		p.NoneHashSource = "H(\"" + r.Seed + "\"), seed from env PYTHONHASHSEED of this shell"
		r.Warnings = append(r.Warnings, "the hash seed comes from this shell's PYTHONHASHSEED: it must equal the serving engine's, or every key differs")
	case p.Schema == lmcachekey.SchemaV032:
		p.NoneHashSource = "none: LMCache <= v0.3.2 chains from an empty string"
	case p.Algorithm == lmcachekey.Blake3:
		p.NoneHash = lmcachekey.Blake3Initial()
		p.NoneHashSource = "MP-mode fallback H((0, (0,), None)) = BLAKE3 of 12 zero bytes"
	default:
		if lenient {
			r.NoneHashText = "(unknown)"
			p.NoneHashSource = "no seed given: keys cannot be computed"
			return r, nil
		}
		return nil, usageErrorf(lmcachekey.ErrNoSeed)
	}
	if r.Seed != "" {
		v, err := p.NoneHashFromSeed(r.Seed)
		if err != nil {
			return nil, usageErrorf(err)
		}
		p.NoneHash = v
		if p.Algorithm == lmcachekey.Blake3 {
			p.NoneHashSource = "MP-mode: vLLM's init_none_hash fails for a seed string, LMCache falls back to BLAKE3 of 12 zero bytes"
			if len(r.Seed) == 3 {
				r.Warnings = append(r.Warnings, "a 3-character PYTHONHASHSEED makes LMCache's MP-mode blake3 start-up raise TypeError")
			}
		}
	}
	r.NoneHashText = p.NoneHash.Hex()
	if lenient {
		return r, nil
	}
	if err := p.Validate(); err != nil {
		return nil, usageErrorf(err)
	}
	return r, nil
}

func parsePythonVersion(s string) (int, error) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	n, err := strconv.Atoi(min)
	if !ok || maj != "3" || err != nil || n < 8 {
		return 0, fmt.Errorf("--python-version %q: expected 3.8 or later, e.g. 3.12", s)
	}
	return n, nil
}

// paramsView is the JSON form of the key parameters (stable field names).
type paramsView struct {
	Model           string     `json:"model"`
	WorldSize       int        `json:"world_size"`
	KeyWorldSize    int        `json:"key_world_size"`
	WorkerID        int        `json:"worker_id"`
	DType           string     `json:"dtype"`
	HashAlgorithm   string     `json:"hash_algorithm"`
	Legacy64Bit     bool       `json:"legacy_64bit,omitempty"`
	ChunkSize       int        `json:"chunk_size"`
	SaveUnfullChunk bool       `json:"save_unfull_chunk"`
	KeySchema       string     `json:"key_schema"`
	NoneHash        string     `json:"none_hash"`
	NoneHashSource  string     `json:"none_hash_source"`
	Tags            []tagView  `json:"tags"`
	MLA             bool       `json:"mla"`
	CacheSalt       string     `json:"cache_salt,omitempty"`
	Layer           *int       `json:"layer,omitempty"`
	PythonVersion   string     `json:"python_version"`
	Sources         sourceView `json:"sources"`
}

type tagView struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type sourceView map[string]string

func newParamsView(r *Resolved) paramsView {
	p := r.Params
	kws := p.WorldSize
	if p.MLA {
		kws = 1
	}
	v := paramsView{
		Model: p.Model, WorldSize: p.WorldSize, KeyWorldSize: kws, WorkerID: p.WorkerID, DType: p.DType,
		HashAlgorithm: string(p.Algorithm), Legacy64Bit: p.Legacy64Bit, ChunkSize: p.ChunkSize,
		SaveUnfullChunk: p.SaveUnfullChunk, KeySchema: string(p.Schema), NoneHash: p.NoneHash.Hex(),
		NoneHashSource: p.NoneHashSource, Tags: []tagView{}, MLA: p.MLA, CacheSalt: p.CacheSalt,
		PythonVersion: "3." + strconv.Itoa(p.PythonMinor), Sources: sourceView{},
	}
	for _, t := range p.Tags {
		v.Tags = append(v.Tags, tagView{t.Name, t.Value})
	}
	if p.Layerwise {
		l := p.Layer
		v.Layer = &l
	}
	for k, s := range r.Source {
		if s != "" && s != "default" {
			v.Sources[k] = s
		}
	}
	return v
}
