package lmcachekey

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The vectors come from ../shared/vectors/lmcache-keys.json (generated from
// real CPython/LMCache, see the spec). A copy is kept in testdata so the
// package tests run anywhere; when the shared file is present, the copy must
// match it.
const sharedVectors = "../../../../shared/vectors/lmcache-keys.json"

func loadVectors(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	local, err := os.ReadFile("testdata/lmcache-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	if shared, err := os.ReadFile(sharedVectors); err == nil && !bytes.Equal(shared, local) {
		t.Fatalf("testdata/lmcache-keys.json differs from %s: copy the shared vectors in", sharedVectors)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(local, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func section(t *testing.T, m map[string]json.RawMessage, prefix string, v any) {
	t.Helper()
	for k, raw := range m {
		if strings.HasPrefix(k, prefix) {
			if err := json.Unmarshal(raw, v); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			return
		}
	}
	t.Fatalf("no vector section %q", prefix)
}

// unmarshal decodes one vector field, failing the test if it cannot.
func unmarshal(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("vector field %s: %v", raw, err)
	}
}

// seeded returns p's NONE_HASH for PYTHONHASHSEED=seed.
func seeded(t *testing.T, p Params, seed string) Value {
	t.Helper()
	v, err := p.NoneHashFromSeed(seed)
	if err != nil {
		t.Fatalf("NoneHashFromSeed(%q): %v", seed, err)
	}
	return v
}

// mustChunks returns the chunks of tokens under p.
func mustChunks(t *testing.T, p Params, tokens []uint32) []Chunk {
	t.Helper()
	c, err := mustEngine(t, p).Chunks(tokens)
	if err != nil {
		t.Fatalf("Chunks: %v", err)
	}
	return c
}

func mustDType(t *testing.T, s string) string {
	t.Helper()
	d, err := ParseDType(s)
	if err != nil {
		t.Fatalf("ParseDType(%q): %v", s, err)
	}
	return d
}

func seq(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i)
	}
	return out
}

func mustEngine(t *testing.T, p Params) *Engine {
	t.Helper()
	e, err := NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const vecModel = "meta-llama/Llama-3.1-8B-Instruct"

func vecParams(alg Algorithm) Params {
	p := DefaultParams()
	p.Algorithm = alg
	p.Model = vecModel
	p.SaveUnfullChunk = true
	return p
}

// noneHashFor resolves a set's NONE_HASH the way the CLI does, and checks it
// against the vector's stated value.
func noneHashFor(t *testing.T, p *Params, nh map[string]string, fromSeed bool) {
	t.Helper()
	var want Value
	var err error
	switch {
	case nh["bytes_hex"] != "":
		want, err = ParseValue(nh["bytes_hex"])
	default:
		want, err = ParseValue(nh["int_dec"])
	}
	if err != nil {
		t.Fatal(err)
	}
	if fromSeed {
		got, err := p.NoneHashFromSeed("0")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Fatalf("NONE_HASH from seed 0 = %s, want %s", got, want)
		}
		if h := nh["hex"]; h != "" && got.Hex() != h {
			t.Fatalf("NONE_HASH hex %s, want %s", got.Hex(), h)
		}
	}
	p.NoneHash = want
}

func TestVectorsChunkSets(t *testing.T) {
	t.Parallel()
	var sec struct {
		Sets []map[string]json.RawMessage `json:"sets"`
	}
	section(t, loadVectors(t), "7.1 ", &sec)
	if len(sec.Sets) != 11 {
		t.Fatalf("section 7.1 has %d sets, want 11", len(sec.Sets))
	}
	tokens := seq(600)
	for i, raw := range sec.Sets {
		var set struct {
			Algorithm string              `json:"algorithm"`
			Scenario  string              `json:"scenario"`
			Extra     string              `json:"extra_keys_element"`
			NoneHash  map[string]string   `json:"none_hash"`
			Chunks    [][]json.RawMessage `json:"chunks"`
		}
		b, err := json.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &set); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
		var older [][]string
		for k, v := range raw {
			if strings.HasPrefix(k, "same_chunks_in_older_key_formats") {
				if err := json.Unmarshal(v, &older); err != nil {
					t.Fatalf("set %d %s: %v", i, k, err)
				}
			}
		}
		t.Run(set.Algorithm+"/"+set.Scenario, func(t *testing.T) {
			t.Parallel()
			p := vecParams(Algorithm(set.Algorithm))
			if set.Extra == "None" {
				p.Schema = Schema202601 // same key string as current, None element
			}
			if strings.Contains(set.Scenario, "vLLM 0.10.0/0.10.1") {
				p.Legacy64Bit = true
			}
			fromSeed := strings.Contains(set.Scenario, "PYTHONHASHSEED=0")
			noneHashFor(t, &p, set.NoneHash, fromSeed)
			chunks := mustChunks(t, p, tokens)
			if len(chunks) != len(set.Chunks) {
				t.Fatalf("set %d: %d chunks, want %d", i, len(chunks), len(set.Chunks))
			}
			for j, want := range set.Chunks {
				var start, end int
				var hashText, key string
				unmarshal(t, want[0], &start)
				unmarshal(t, want[1], &end)
				unmarshal(t, want[2], &hashText)
				unmarshal(t, want[3], &key)
				c := chunks[j]
				if c.Start != start || c.End != end || c.Hash.Hex() != hashText || c.Key != key {
					t.Errorf("chunk %d: got (%d,%d,%s,%s), want (%d,%d,%s,%s)", j, c.Start, c.End, c.Hash.Hex(), c.Key, start, end, hashText, key)
				}
				if len(want) > 4 {
					var dec string
					unmarshal(t, want[4], &dec)
					if c.Hash.Decimal() != dec {
						t.Errorf("chunk %d decimal %s, want %s", j, c.Hash.Decimal(), dec)
					}
				}
			}
			// save_unfull_chunk false: the same hashes, without the partial chunk.
			p.SaveUnfullChunk = false
			full := mustChunks(t, p, tokens)
			if len(full) != 2 || full[1].Key != chunks[1].Key {
				t.Errorf("save_unfull_chunk=false: got %d chunks %v, want 2 ending with key %s", len(full), full, chunks[1].Key)
			}
			for j, pair := range older {
				for k, schema := range []KeySchema{Schema202509, Schema202511} {
					q := p
					q.Schema = schema
					q.SaveUnfullChunk = true
					oc := mustChunks(t, q, tokens)
					if oc[j].Key != pair[k] {
						t.Errorf("schema %s chunk %d: %s, want %s", schema, j, oc[j].Key, pair[k])
					}
				}
			}
		})
	}
}

func TestVectorsOtherTokenLists(t *testing.T) {
	t.Parallel()
	var sec map[string]map[string]json.RawMessage
	section(t, loadVectors(t), "7.2 ", &sec)
	if len(sec) != 2 {
		t.Fatalf("section 7.2 has %d token lists, want 2", len(sec))
	}
	for name, v := range sec {
		var tokens []uint32
		if err := json.Unmarshal(v["tokens"], &tokens); err != nil {
			t.Fatalf("%s tokens: %v", name, err)
		}
		check := func(field string, p Params) {
			t.Helper()
			var want string
			if err := json.Unmarshal(v[field], &want); err != nil {
				t.Fatalf("%s %s: %v", name, field, err)
			}
			chunks := mustChunks(t, p, tokens)
			if len(chunks) != 1 || chunks[0].Hash.String() != want {
				t.Errorf("%s %s: got %v, want one chunk hashed %s", name, field, chunks, want)
			}
			p.SaveUnfullChunk = false
			if n := len(mustChunks(t, p, tokens)); n != 0 {
				t.Errorf("%s: save_unfull_chunk=false gave %d keys, want 0", name, n)
			}
		}
		p := vecParams(Builtin)
		check("builtin NONE_HASH=0", p)
		p.NoneHash = seeded(t, p, "0")
		check("builtin NONE_HASH=hash('0')", p)
		for _, alg := range []Algorithm{SHA256, SHA256CBOR, XXHash, XXHashCBOR} {
			p := vecParams(alg)
			p.NoneHash = seeded(t, p, "0")
			check(string(alg), p)
		}
	}
}

func TestVectorsSeeds(t *testing.T) {
	t.Parallel()
	var sec map[string]map[string]string
	section(t, loadVectors(t), "7.3 ", &sec)
	for seed, want := range sec {
		for _, alg := range []Algorithm{Builtin, SHA256, SHA256CBOR, XXHash, XXHashCBOR} {
			got := seeded(t, vecParams(alg), seed)
			if got.String() != want[string(alg)] {
				t.Errorf("seed %s %s: %s, want %s", seed, alg, got, want[string(alg)])
			}
		}
		var pk pickler
		if got := hex.EncodeToString(pk.string(seed)); got != want["pickle5(seed)"] {
			t.Errorf("pickle5(%q) = %s, want %s", seed, got, want["pickle5(seed)"])
		}
		var cb cborWriter
		if got := hex.EncodeToString(cb.string(seed)); got != want["cbor(seed)"] {
			t.Errorf("cbor(%q) = %s, want %s", seed, got, want["cbor(seed)"])
		}
	}
}

func TestVectorsEncoders(t *testing.T) {
	t.Parallel()
	var sec map[string]map[string]any
	section(t, loadVectors(t), "7.4 ", &sec)
	check := func(name string, alg Algorithm) {
		t.Helper()
		v := sec[name]
		p := vecParams(alg)
		p.NoneHash = seeded(t, p, "0")
		e := mustEngine(t, p)
		enc := e.Encode(p.NoneHash, seq(256))
		if float64(len(enc)) != v["total_len"].(float64) {
			t.Errorf("%s: len %d, want %v", name, len(enc), v["total_len"])
		}
		for k, want := range v {
			w, _ := want.(string)
			switch {
			case strings.HasPrefix(k, "first_"):
				if got := hex.EncodeToString(enc[:len(w)/2]); got != w {
					t.Errorf("%s %s: %s, want %s", name, k, got, w)
				}
			case strings.HasPrefix(k, "last_"):
				if got := hex.EncodeToString(enc[len(enc)-len(w)/2:]); got != w {
					t.Errorf("%s %s: %s, want %s", name, k, got, w)
				}
			}
		}
	}
	check("cbor_of_chunk0_input (sha256_cbor, seed 0, tokens 0..255, ())", SHA256CBOR)
	check("pickle5_of_chunk0_input (sha256, seed 0, tokens 0..255, ())", SHA256)
	c := sec["constants"]
	if c["hash(())"] != "5740354900026072187" || HashEmptyTuple != 5740354900026072187 {
		t.Errorf("hash(()): vector %v, HashEmptyTuple %d; want both 5740354900026072187", c["hash(())"], HashEmptyTuple)
	}
	if c["hash(None) CPython>=3.12"] != "4238894112" || HashNone != 4238894112 {
		t.Errorf("hash(None): vector %v, HashNone %d; want both 4238894112", c["hash(None) CPython>=3.12"], HashNone)
	}
	if th := newTupleHasher(); th.sum() != HashEmptyTuple {
		t.Errorf("computed hash(()) = %d, want HashEmptyTuple %d", th.sum(), HashEmptyTuple)
	}
}

func TestVectorsKeyVariants(t *testing.T) {
	t.Parallel()
	var sec map[string]json.RawMessage
	section(t, loadVectors(t), "7.5 ", &sec)
	base := vecParams(Builtin)
	base.NoneHash = seeded(t, base, "0")
	first := func(p Params) string {
		t.Helper()
		return mustChunks(t, p, seq(300))[0].Key
	}
	want := func(k string) string {
		t.Helper()
		var s string
		if err := json.Unmarshal(sec[k], &s); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return s
	}
	p := base
	p.Tags = []Tag{{"user", "alice"}, {"v", "2"}}
	if got, w := first(p), want("tags {lmcache.tag.user: alice, lmcache.foo: x, lmcache.tag.v: 2}"); got != w {
		t.Errorf("tags: %s, want %s", got, w)
	}
	p = base
	p.WorldSize, p.WorkerID = 2, 1
	if got, w := first(p), want("TP2 rank1 (world_size 2, worker_id 1)"); got != w {
		t.Errorf("tp2: %s, want %s", got, w)
	}
	p = base
	p.WorldSize, p.WorkerID, p.MLA = 4, 2, true
	if got, w := first(p), want("MLA world_size 4 worker_id 2 (computed; rank 2 never stores)"); got != w {
		t.Errorf("mla: %s, want %s", got, w)
	}
	p = base
	p.DType = mustDType(t, "float16")
	if got, w := first(p), want("kv dtype float16"); got != w {
		t.Errorf("fp16: %s, want %s", got, w)
	}
	p = base
	p.DType = mustDType(t, "fp8")
	if got, w := first(p), want("kv-cache-dtype fp8 (torch.uint8)"); got != w {
		t.Errorf("fp8: %s, want %s", got, w)
	}
	var masked [][]json.RawMessage
	unmarshal(t, sec["mask: first 256 tokens False, tokens 0..599, save_unfull false"], &masked)
	p = base
	p.SaveUnfullChunk = false
	c := mustChunks(t, p, seq(600))
	var key string
	unmarshal(t, masked[0][2], &key)
	if len(masked) != 1 || len(c) != 2 || c[1].Key != key {
		t.Errorf("masked: %d vector chunks, %d chunks, chunk 1 key %s; want 1, 2, %s", len(masked), len(c), c[1].Key, key)
	}
}

func TestVectorsMP(t *testing.T) {
	t.Parallel()
	var sec map[string]json.RawMessage
	section(t, loadVectors(t), "7.6 ", &sec)
	var none string
	unmarshal(t, sec["none_hash"], &none)
	if Blake3Initial().Hex() != none {
		t.Fatalf("blake3 initial %s, want %s", Blake3Initial().Hex(), none)
	}
	p := DefaultParams()
	p.Model = vecModel
	p.Algorithm = Blake3
	p.Schema = SchemaMP
	p.SaveUnfullChunk = true // ignored: MP mode hashes full chunks only
	p.NoneHash = Blake3Initial()
	chunks := mustChunks(t, p, seq(600))
	var want [][]json.RawMessage
	unmarshal(t, sec["chunks"], &want)
	if len(chunks) != len(want) {
		t.Fatalf("%d chunks, want %d", len(chunks), len(want))
	}
	for i, w := range want {
		var key string
		unmarshal(t, w[2], &key)
		if chunks[i].Key != key {
			t.Errorf("chunk %d: %s, want %s", i, chunks[i].Key, key)
		}
	}
	var s string
	q := p
	q.WorldSize, q.WorkerID = 2, 1
	unmarshal(t, sec["same chunk 0, world_size 2 rank 1"], &s)
	if c := mustChunks(t, q, seq(256)); c[0].Key != s {
		t.Errorf("rank: %s, want %s", c[0].Key, s)
	}
	q = p
	q.CacheSalt = "tenantA"
	unmarshal(t, sec["same chunk 0 with cache_salt tenantA"], &s)
	if c := mustChunks(t, q, seq(256)); c[0].Key != s {
		t.Errorf("salt: %s, want %s", c[0].Key, s)
	}
}

// LayerCacheEngineKey (use_layerwise): "@<layer>" after the dtype, before
// tags (spec §3.4).
func TestLayerwiseKeys(t *testing.T) {
	t.Parallel()
	p := vecParams(Builtin)
	p.NoneHash = seeded(t, p, "0")
	p.Layerwise, p.Layer = true, 31
	p.Tags = []Tag{{"user", "alice"}}
	c := mustChunks(t, p, seq(256))
	if want := vecModel + "@1@0@5f05dec65811b7cc@bfloat16@31@user%alice"; c[0].Key != want {
		t.Fatalf("layerwise key %s, want %s", c[0].Key, want)
	}
	p.Schema = Schema202509
	if _, err := NewEngine(p); err == nil {
		t.Fatalf("NewEngine(schema %s, layer %d) error = nil, want an error (a schema without dtype has no layer)", p.Schema, p.Layer)
	}
}
