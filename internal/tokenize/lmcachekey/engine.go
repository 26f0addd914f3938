package lmcachekey

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Params is everything that determines LMCache's chunk keys for a prompt.
type Params struct {
	Algorithm       Algorithm
	Legacy64Bit     bool // vLLM 0.10.0/0.10.1 int digests: sha256_cbor_64bit as a uint64, sha256 as a 256-bit int
	ChunkSize       int
	SaveUnfullChunk bool
	Schema          KeySchema
	PythonMinor     int // CPython 3.<minor> of the engine; 0 means 3.12

	// NoneHash is the chain's starting value; NoneHashSource says where it
	// came from (for explain and JSON output).
	NoneHash       Value
	NoneHashSource string

	Model     string
	WorldSize int
	WorkerID  int
	DType     string // as rendered in keys (see ParseDType)
	Tags      []Tag
	MLA       bool
	CacheSalt string // MP mode only
	// Layerwise renders LayerCacheEngineKey keys for Layer (use_layerwise:
	// one object per layer, "@<layer>" after the dtype).
	Layerwise bool
	Layer     int
}

// DefaultParams are LMCache's defaults (NONE_HASH still to be resolved).
func DefaultParams() Params {
	return Params{Algorithm: Builtin, ChunkSize: 256, Schema: SchemaCurrent, WorldSize: 1, DType: "bfloat16", PythonMinor: 12}
}

// ErrNoSeed is returned when nothing says what NONE_HASH is.
// It leads with the fix and fits 80 columns.
var ErrNoSeed = errors.New("no hash seed: pass the engine's PYTHONHASHSEED as --hash-seed N\n" +
	"  (or LMC_HASH_SEED), or --none-hash 0 for LMCache running without vLLM.\n" +
	"  Keys start from NONE_HASH = H(PYTHONHASHSEED) of the serving engine; an engine\n" +
	"  without a fixed PYTHONHASHSEED has random keys that cannot be reproduced")

// ParseSeed validates a PYTHONHASHSEED value: CPython accepts "random" or an
// integer in [0, 4294967295]. It returns the integer that keys SipHash.
func ParseSeed(s string) (uint32, error) {
	if s == "random" {
		return 0, fmt.Errorf("PYTHONHASHSEED=random: NONE_HASH is random in every engine process, so its keys cannot be reproduced; set a fixed PYTHONHASHSEED on the engines")
	}
	if !isDecimal(s) {
		return 0, fmt.Errorf("hash seed %q: expected an integer in 0..4294967295 (the PYTHONHASHSEED value of the serving engine)", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("hash seed %q: expected an integer in 0..4294967295 (CPython refuses larger PYTHONHASHSEED values)", s)
	}
	return uint32(n), nil
}

// NoneHashFromSeed computes vLLM's init_none_hash: H(seed string), with H the
// configured algorithm and, for builtin, CPython's str hash keyed by the same
// seed.
func (p *Params) NoneHashFromSeed(seed string) (Value, error) {
	n, err := ParseSeed(seed)
	if err != nil {
		return Value{}, err
	}
	s, err := p.schema()
	if err != nil {
		return Value{}, err
	}
	if s.legacy {
		return BytesValue(nil), nil
	}
	return newHasher(p.Algorithm, p.Legacy64Bit, p.siphash24()).seed(seed, n)
}

func (p *Params) siphash24() bool { return p.PythonMinor > 0 && p.PythonMinor <= 10 }

func (p *Params) schema() (SchemaInfo, error) {
	if p.Schema == "" {
		return LookupSchema(string(SchemaCurrent))
	}
	return LookupSchema(string(p.Schema))
}

// Validate checks the combination; errors say what to change.
func (p *Params) Validate() error {
	s, err := p.schema()
	if err != nil {
		return err
	}
	if _, err := ParseAlgorithm(string(p.Algorithm)); err != nil {
		return err
	}
	if p.ChunkSize <= 0 {
		return fmt.Errorf("chunk size %d: must be a positive number of tokens (LMCache default 256)", p.ChunkSize)
	}
	if p.WorldSize <= 0 {
		return fmt.Errorf("world size %d: must be at least 1", p.WorldSize)
	}
	if p.WorkerID < 0 || p.WorkerID >= p.WorldSize && !p.MLA {
		return fmt.Errorf("worker id %d: must be in 0..%d for world size %d", p.WorkerID, p.WorldSize-1, p.WorldSize)
	}
	if strings.Contains(p.Model, "@") {
		return fmt.Errorf("model %q contains '@', which LMCache does not escape in keys", p.Model)
	}
	if p.Model == "" {
		return fmt.Errorf("no model name: pass --model exactly as the engine's --model (HF repo id or path)")
	}
	if s.mp {
		if p.WorldSize > 255 || p.WorkerID > 255 {
			return fmt.Errorf("MP-mode kv_rank packs world size and rank into 8 bits each")
		}
	}
	if s.legacy {
		return nil
	}
	if p.Layerwise && (p.Layer < 0 || !s.dtype) {
		if p.Layer < 0 {
			return fmt.Errorf("layer %d: layers are numbered from 0", p.Layer)
		}
		return fmt.Errorf("layer-wise keys put the layer after the dtype; key schema %s has no dtype", s.Name)
	}
	if s.mp && p.Legacy64Bit {
		return fmt.Errorf("--legacy-64bit does not apply to the multi-process key format")
	}
	if p.Algorithm == Blake3 && !s.mp {
		return fmt.Errorf("blake3 is the multi-process mode's algorithm: use --key-schema mp")
	}
	digest := p.Algorithm.IsDigest(p.Legacy64Bit)
	if digest && !s.bytesOK {
		return fmt.Errorf("key schema %s (%s) cannot hold the %s digest: LMCache of that era crashed rendering bytes hashes (to_string used format 'x'), so nothing was stored under such keys; "+
			"use --legacy-64bit with sha256_cbor_64bit, or builtin", s.Name, s.Period, p.Algorithm)
	}
	if p.Algorithm == Builtin && s.extra == ExtraNone && p.PythonMinor > 0 && p.PythonMinor < 12 {
		return fmt.Errorf("builtin hashing of (prefix, chunk, None) on CPython 3.%d: hash(None) is the object's address there, different in every process, so these keys cannot be reproduced (CPython >= 3.12 makes it constant)", p.PythonMinor)
	}
	if p.NoneHash.IsBytes() && p.Algorithm == Builtin {
		return fmt.Errorf("NONE_HASH %s is a digest, but builtin hashing starts from an int (hash(seed) or 0)", p.NoneHash.Hex())
	}
	return nil
}

// Chunk is one chunk's key.
type Chunk struct {
	Index int
	Start int
	End   int
	Prev  Value // the prefix hash going in
	Hash  Value // the chunk's prefix hash
	Key   string
	// EncodedLen is the length of the serialised object that was digested
	// (0 for builtin, which hashes the tuple directly).
	EncodedLen int
}

// NumChunks is how many keys a prompt of n tokens yields.
func (p *Params) NumChunks(n int) int {
	if p.ChunkSize <= 0 {
		return 0
	}
	if p.SaveUnfullChunk && !p.isMP() {
		return (n + p.ChunkSize - 1) / p.ChunkSize
	}
	return n / p.ChunkSize
}

func (p *Params) isMP() bool { return p.Schema == SchemaMP }

// Engine computes keys for many prompts with the same parameters, reusing
// its buffers. It is not safe for concurrent use; make one per goroutine.
type Engine struct {
	p      Params
	schema SchemaInfo
	h      *hasher
	r      *keyRenderer
	legBuf []byte
}

// NewEngine validates p and prepares an engine.
func NewEngine(p Params) (*Engine, error) {
	if p.Schema == "" {
		p.Schema = SchemaCurrent
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	s, _ := p.schema()
	return &Engine{p: p, schema: s, h: newHasher(p.Algorithm, p.Legacy64Bit, p.siphash24()), r: newKeyRenderer(&p, s)}, nil
}

// Params returns the engine's parameters.
func (e *Engine) Params() Params { return e.p }

// Schema returns the engine's key schema.
func (e *Engine) Schema() SchemaInfo { return e.schema }

// Each calls fn for every chunk of tokens, in order. The Chunk is only valid
// during the call (its fields are values, so copying it is fine).
func (e *Engine) Each(tokens []uint32, fn func(Chunk) error) error {
	cs := e.p.ChunkSize
	n := e.p.NumChunks(len(tokens))
	prev := e.p.NoneHash
	prevHex := ""
	for i := 0; i < n; i++ {
		start := i * cs
		end := min(start+cs, len(tokens))
		c := Chunk{Index: i, Start: start, End: end, Prev: prev}
		var err error
		if e.schema.legacy {
			c.Hash, e.legBuf = legacySHA256(prevHex, tokens[start:end], e.legBuf)
			c.EncodedLen = len(e.legBuf)
			prevHex = c.Hash.Hex()
		} else {
			c.Hash, err = e.h.chunk(prev, tokens[start:end], e.schema.extra)
			if err != nil {
				return err
			}
			c.EncodedLen = e.h.lastLen
		}
		c.Key = e.r.render(c.Hash)
		if err := fn(c); err != nil {
			return err
		}
		prev = c.Hash
	}
	return nil
}

// Chunks returns every chunk's key.
func (e *Engine) Chunks(tokens []uint32) ([]Chunk, error) {
	out := make([]Chunk, 0, e.p.NumChunks(len(tokens)))
	err := e.Each(tokens, func(c Chunk) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// Keys returns only the key strings.
func (e *Engine) Keys(tokens []uint32) ([]string, error) {
	out := make([]string, 0, e.p.NumChunks(len(tokens)))
	err := e.Each(tokens, func(c Chunk) error {
		out = append(out, c.Key)
		return nil
	})
	return out, err
}

// HashText is how the chunk's hash appears in its key.
func (e *Engine) HashText(v Value) string { return e.r.hashText(v) }

// Encode returns the bytes that are digested for one chunk (nil for builtin
// and the legacy chain), for explain output and tests.
func (e *Engine) Encode(prev Value, tokens []uint32) []byte {
	switch e.p.Algorithm {
	case SHA256, XXHash:
		var pk pickler
		return append([]byte(nil), pk.chunkObject(prev, tokens, e.schema.extra)...)
	case SHA256CBOR, SHA256CBOR64Bit, XXHashCBOR:
		var cb cborWriter
		return append([]byte(nil), cb.chunkObject(prev, tokens, e.schema.extra)...)
	}
	return nil
}

// Encoding names what the algorithm digests.
func (e *Engine) Encoding() string {
	if e.schema.legacy {
		return "raw bytes: previous hex digest (ASCII) + tokens as uint32 little-endian"
	}
	return e.p.Algorithm.encoding()
}
