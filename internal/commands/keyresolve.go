package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"lmc/internal/tokenize/lmcacheconfig"
	"lmc/internal/tokenize/lmcachekey"
)

// Resolved is the key parameters plus where each came from.
type Resolved struct {
	Params   lmcachekey.Params
	Source   map[string]string // param → "flag --x", "env LMC_X", "<file>", "env LMCACHE_X", "default"
	Seed     string            // the PYTHONHASHSEED used, if any
	Config   *lmcacheconfig.Config
	Warnings []string
	// NoneHashText is NONE_HASH as keys show it.
	NoneHashText string
	// Server is what --server reported (nil without it).
	Server *serverParams
}

// resolveKeys turns the key flags into LMCache key parameters: flags >
// LMC_* environment > context (all three in given, which says where each
// flag value came from) > LMCache config > defaults; it works out
// NONE_HASH and validates. It needs no cobra command, so anything can
// resolve keys from a KeyFlags value (demo does, from DefaultKeyFlags).
func (f *Factory) resolveKeys(ctx context.Context, k *KeyFlags, given FlagSources) (*Resolved, error) {
	return f.resolveKeysOpt(ctx, k, given, false)
}

// resolveKeysLenient resolves what it can without a model or a seed (for
// 'lmc config view --resolved').
func (f *Factory) resolveKeysLenient(ctx context.Context, k *KeyFlags, given FlagSources) (*Resolved, error) {
	return f.resolveKeysOpt(ctx, k, given, true)
}

func (f *Factory) resolveKeysOpt(ctx context.Context, k *KeyFlags, given FlagSources, lenient bool) (*Resolved, error) {
	// --server: the MP servers' own parameters, below the flags
	// (coordserver.go).
	given, srv, err := f.applyServerParams(ctx, k, given)
	if err != nil {
		return nil, err
	}
	r := &Resolved{Params: lmcachekey.DefaultParams(), Source: map[string]string{}, Server: srv}
	r.Warnings = append(r.Warnings, srv.warnings()...)
	if s := given.Source("world-size"); strings.HasPrefix(s, "MP server") {
		r.Source["world_size"] = s
	}
	p := &r.Params
	src := given.Source
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
	cfg, err := lmcacheconfig.Load(ctx, cfgPath, f.Getenv)
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
		return nil, given.usageErr("key-schema", err)
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
		if hs := r.Source["hash_algorithm"]; hs != "default" && !strings.HasPrefix(hs, "flag") && !strings.HasPrefix(hs, "env LMC_") && !strings.HasPrefix(hs, "context ") {
			// LMCache silently falls back to builtin for names vLLM does not know.
			r.Warnings = append(r.Warnings, fmt.Sprintf("pre_caching_hash_algorithm %q is not a name vLLM knows: LMCache silently falls back to builtin", hashName))
			alg = lmcachekey.Builtin
		} else {
			return nil, given.usageErr("hash", err)
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
	if given.Has("layer") {
		p.Layerwise, p.Layer = true, k.Layer
	}
	p.WorldSize, p.WorkerID, p.MLA = k.WorldSize, k.WorkerID, k.MLA
	if p.DType, err = lmcachekey.ParseDType(k.DType); err != nil {
		return nil, given.usageErr("dtype", err)
	}
	for _, t := range k.Tags {
		tg, err := lmcachekey.ParseTag(t)
		if err != nil {
			return nil, given.usageErr("tag", err)
		}
		p.Tags = append(p.Tags, tg)
	}
	// MP-mode keys are <model>@<kv_rank>@<hash>[@cache_salt]: a dtype or
	// tag given on the command line would change no key (context and
	// LMC_* values, which serve the other schemas, are left alone).
	if p.Schema == lmcachekey.SchemaMP {
		for _, name := range []string{"dtype", "tag"} {
			if given.Source(name) == "flag --"+name {
				return nil, usageErrorf(fmt.Errorf("--%s is not part of LMCache MP-mode keys (<model>@<kv_rank>@<hash>[@cache_salt]): --key-schema mp (%s) would ignore it", name, r.Source["key_schema"]))
			}
		}
	}
	p.CacheSalt = k.CacheSalt
	if p.CacheSalt != "" && p.Schema != lmcachekey.SchemaMP {
		return nil, usageErrorf(fmt.Errorf("--cache-salt only applies to --key-schema mp"))
	}
	minor, err := parsePythonVersion(k.PythonVersion)
	if err != nil {
		return nil, given.usageErr("python-version", err)
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
			return nil, given.usageErr("hash-seed", err)
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

// View is the JSON form of the parameters with their sources.
func (r *Resolved) View() lmcachekey.ParamsView { return r.Params.View(r.Source) }
