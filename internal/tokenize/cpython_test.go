package tokenize

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// testdata/cpython-vectors.json is produced by scripts/gen-cpython-vectors.py
// under real CPython 3.11: str hashing under several seeds, builtin chains
// over edge values, and pickle.dumps(..., protocol=5) byte for byte,
// including chunks large enough for several pickle frames.
type cpythonVectors struct {
	Python   string            `json:"python"`
	StrHash  map[string]string `json:"str_hash_by_seed"`
	Builtins []struct {
		NoneHash  string   `json:"none_hash"`
		ChunkSize int      `json:"chunk_size"`
		Tokens    []uint32 `json:"tokens"`
		Hashes    []string `json:"hashes"`
	} `json:"builtin_chains"`
	Pickles []struct {
		Prefix map[string]string `json:"prefix"`
		Tokens []uint32          `json:"tokens"`
		Extra  string            `json:"extra"`
		Hex    string            `json:"pickle_hex"`
	} `json:"pickles"`
	Frames []struct {
		Rng     struct{ N, Lo, Hi uint64 } `json:"rng_tokens"`
		Prefix  string                     `json:"prefix_hex"`
		Len     int                        `json:"len"`
		SHA256  string                     `json:"sha256"`
		HeadHex string                     `json:"head_hex"`
		TailHex string                     `json:"tail_hex"`
	} `json:"multi_frame_pickles"`
}

func loadCPython(t *testing.T) cpythonVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/cpython-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v cpythonVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCPythonStrHashBySeed(t *testing.T) {
	v := loadCPython(t)
	if len(v.StrHash) < 8 {
		t.Fatalf("only %d seeds", len(v.StrHash))
	}
	for seed, want := range v.StrHash {
		n, err := ParseSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		if got := strconv.FormatInt(pyStrHash(seed, n, false), 10); got != want {
			t.Errorf("PYTHONHASHSEED=%s hash(%q) = %s, want %s", seed, seed, got, want)
		}
	}
}

func TestCPythonBuiltinChains(t *testing.T) {
	v := loadCPython(t)
	for i, c := range v.Builtins {
		nh, err := ParseValue(c.NoneHash)
		if err != nil {
			t.Fatal(err)
		}
		p := DefaultParams()
		p.Model = "m"
		p.ChunkSize = c.ChunkSize
		p.SaveUnfullChunk = true
		p.NoneHash = nh
		chunks, err := mustEngine(t, p).Chunks(c.Tokens)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) != len(c.Hashes) {
			t.Fatalf("chain %d: %d chunks, want %d", i, len(chunks), len(c.Hashes))
		}
		for j, w := range c.Hashes {
			if chunks[j].Hash.Decimal() != w {
				t.Errorf("chain %d (none %s, chunk %d) #%d: %s, want %s", i, c.NoneHash, c.ChunkSize, j, chunks[j].Hash.Decimal(), w)
			}
		}
		if nh.kind == kindInt && len(c.Tokens) >= c.ChunkSize && c.NoneHash != "" {
			got := BuiltinChain(c.Tokens, c.ChunkSize, nh.i, true)
			if strconv.FormatInt(got[0], 10) != c.Hashes[0] {
				t.Errorf("BuiltinChain %d differs", i)
			}
		}
	}
}

func TestCPythonPickles(t *testing.T) {
	v := loadCPython(t)
	var pk pickler
	for _, c := range v.Pickles {
		var prefix Value
		var err error
		if h := c.Prefix["bytes_hex"]; h != "" {
			b, _ := hex.DecodeString(h)
			prefix = BytesValue(b)
		} else {
			prefix, err = ParseValue(c.Prefix["int_dec"])
			if err != nil {
				// below int64: not a value LMCache chains produce
				t.Fatalf("prefix %v: %v", c.Prefix, err)
			}
		}
		extra := map[string]Extra{"()": ExtraEmptyTuple, "None": ExtraNone, "pair": ExtraPair}[c.Extra]
		got := hex.EncodeToString(pk.chunkObject(prefix, c.Tokens, extra))
		if got != c.Hex {
			t.Errorf("pickle(%v, %v, %s):\n got %s\nwant %s", c.Prefix, c.Tokens, c.Extra, got, c.Hex)
		}
	}
}

func TestCPythonMultiFramePickles(t *testing.T) {
	v := loadCPython(t)
	if len(v.Frames) == 0 {
		t.Fatal("no frame vectors")
	}
	var pk pickler
	for _, f := range v.Frames {
		toks := make([]uint32, f.Rng.N)
		for i := range toks {
			toks[i] = uint32(f.Rng.Lo + (uint64(i)*2654435761)%(f.Rng.Hi-f.Rng.Lo+1))
		}
		pb, _ := hex.DecodeString(f.Prefix)
		b := pk.chunkObject(BytesValue(pb), toks, ExtraEmptyTuple)
		sum := sha256.Sum256(b)
		if len(b) != f.Len || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%d tokens in [%d,%d]: len %d (want %d), sha256 %x (want %s)\nhead %x\ntail %x\nwant head %s tail %s",
				f.Rng.N, f.Rng.Lo, f.Rng.Hi, len(b), f.Len, sum, f.SHA256, b[:40], b[len(b)-24:], f.HeadHex, f.TailHex)
		}
	}
}

func TestXXH3128CanonicalBytes(t *testing.T) {
	h := newHasher(XXHash, false, false)
	if got := h.digest(nil).Hex(); got != "99aa06d3014798d86001c324468d497f" {
		t.Errorf("xxh3_128(b'') = %s", got)
	}
	if got := h.digest([]byte("abc")).Hex(); got != "06b05ab6733a618578af5f94892f3950" {
		t.Errorf("xxh3_128(b'abc') = %s", got)
	}
}

func TestValueRendering(t *testing.T) {
	cases := []struct {
		v        Value
		hex, dec string
	}{
		{IntValue(0), "0", "0"},
		{IntValue(-782556766413655621), "-adc333b9eaa0e45", "-782556766413655621"},
		{IntValue(-1 << 63), "-8000000000000000", "-9223372036854775808"},
		{UintValue(17921330210090130494), "f8b55adff2e61c3e", "17921330210090130494"},
		{BytesValue([]byte{0, 1, 0xab}), "0001ab", ""},
	}
	for _, c := range cases {
		if c.v.Hex() != c.hex || c.v.Decimal() != c.dec {
			t.Errorf("%v: hex %s dec %s", c.v, c.v.Hex(), c.v.Decimal())
		}
	}
	for _, s := range []string{"0", "-9223372036854775808", "18446744073709551615", "0xff", "4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e", "6fb31cc38bba6066183f7f2104b9c051"} {
		if _, err := ParseValue(s); err != nil {
			t.Errorf("ParseValue(%s): %v", s, err)
		}
	}
	for _, s := range []string{"", "x", "18446744073709551616", "-9223372036854775809"} {
		if _, err := ParseValue(s); err == nil {
			t.Errorf("ParseValue(%q) should fail", s)
		}
	}
}

// LMCache <= v0.3.2 chained hex strings: sha256(prev_hex.encode("ascii") +
// array("I", chunk).tobytes()).hexdigest(), from "" (values from CPython's
// hashlib and array, as in LMCache's ChunkedTokenDatabase._hash of that era).
func TestLegacyV032Chain(t *testing.T) {
	p := DefaultParams()
	p.Model = "meta-llama/Llama-3.1-8B-Instruct"
	p.Schema = SchemaV032
	p.SaveUnfullChunk = true
	chunks, err := mustEngine(t, p).Chunks(seq(600))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"8808405eec6fbe306fe3369f88daed79dd5613ddbb5e801f632b01d6218c5f08",
		"dbae33ee1bee4f1e12ac7a0dd1197e46648b8d9d9d908577a53fd38741bcf119",
		"41e49e3071f70d88ca65fe84ea1b70bb9365bffc1dd0f71f698a839f6b7c2676",
	}
	for i, w := range want {
		if chunks[i].Hash.Hex() != w || chunks[i].Key != "vllm@meta-llama/Llama-3.1-8B-Instruct@1@0@"+w {
			t.Errorf("chunk %d: %s %s", i, chunks[i].Hash.Hex(), chunks[i].Key)
		}
	}
}
