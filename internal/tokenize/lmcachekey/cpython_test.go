package lmcachekey

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
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
	t.Parallel()
	v := loadCPython(t)
	if len(v.StrHash) < 8 {
		t.Fatalf("cpython-vectors.json has %d seeds, want at least 8", len(v.StrHash))
	}
	for seed, want := range v.StrHash {
		n, err := ParseSeed(seed)
		if err != nil {
			t.Fatalf("ParseSeed(%q): %v", seed, err)
		}
		if got := strconv.FormatInt(pyStrHash(seed, n, false), 10); got != want {
			t.Errorf("PYTHONHASHSEED=%s hash(%q) = %s, want %s", seed, seed, got, want)
		}
	}
}

func TestCPythonBuiltinChains(t *testing.T) {
	t.Parallel()
	v := loadCPython(t)
	for i, c := range v.Builtins {
		nh, err := ParseValue(c.NoneHash)
		if err != nil {
			t.Fatalf("chain %d: ParseValue(%q): %v", i, c.NoneHash, err)
		}
		p := DefaultParams()
		p.Model = "m"
		p.ChunkSize = c.ChunkSize
		p.SaveUnfullChunk = true
		p.NoneHash = nh
		chunks, err := mustEngine(t, p).Chunks(c.Tokens)
		if err != nil {
			t.Fatalf("chain %d: Chunks: %v", i, err)
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
			if g := strconv.FormatInt(got[0], 10); g != c.Hashes[0] {
				t.Errorf("BuiltinChain (chain %d)[0] = %s, want %s", i, g, c.Hashes[0])
			}
		}
	}
}

func TestCPythonPickles(t *testing.T) {
	t.Parallel()
	v := loadCPython(t)
	var pk pickler
	for _, c := range v.Pickles {
		var prefix Value
		var err error
		if h := c.Prefix["bytes_hex"]; h != "" {
			b, err := hex.DecodeString(h)
			if err != nil {
				t.Fatalf("prefix %v: bytes_hex: %v", c.Prefix, err)
			}
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
	t.Parallel()
	v := loadCPython(t)
	if len(v.Frames) == 0 {
		t.Fatal("cpython-vectors.json has no multi_frame_pickles, want some")
	}
	var pk pickler
	for _, f := range v.Frames {
		toks := make([]uint32, f.Rng.N)
		for i := range toks {
			toks[i] = uint32(f.Rng.Lo + (uint64(i)*2654435761)%(f.Rng.Hi-f.Rng.Lo+1))
		}
		pb, err := hex.DecodeString(f.Prefix)
		if err != nil {
			t.Fatalf("prefix_hex %q: %v", f.Prefix, err)
		}
		b := pk.chunkObject(BytesValue(pb), toks, ExtraEmptyTuple)
		sum := sha256.Sum256(b)
		if len(b) != f.Len || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%d tokens in [%d,%d]: len %d (want %d), sha256 %x (want %s)\nhead %x\ntail %x\nwant head %s tail %s",
				f.Rng.N, f.Rng.Lo, f.Rng.Hi, len(b), f.Len, sum, f.SHA256, b[:40], b[len(b)-24:], f.HeadHex, f.TailHex)
		}
	}
}

func TestXXH3128CanonicalBytes(t *testing.T) {
	t.Parallel()
	h := newHasher(XXHash, false, false)
	if got, want := h.digest(nil).Hex(), "99aa06d3014798d86001c324468d497f"; got != want {
		t.Errorf("xxh3_128(b'') = %s, want %s", got, want)
	}
	if got, want := h.digest([]byte("abc")).Hex(), "06b05ab6733a618578af5f94892f3950"; got != want {
		t.Errorf("xxh3_128(b'abc') = %s, want %s", got, want)
	}
}

func TestValueRendering(t *testing.T) {
	t.Parallel()
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
			t.Errorf("%v: Hex() %q, Decimal() %q; want %q, %q", c.v, c.v.Hex(), c.v.Decimal(), c.hex, c.dec)
		}
	}
	for _, s := range []string{"0", "-9223372036854775808", "18446744073709551615", "0xff", "4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e", "6fb31cc38bba6066183f7f2104b9c051"} {
		if _, err := ParseValue(s); err != nil {
			t.Errorf("ParseValue(%s) error = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"", "x", "-9223372036854775809", "115792089237316195423570985008687907853269984665640564039457584007913129639936"} {
		if _, err := ParseValue(s); err == nil {
			t.Errorf("ParseValue(%q) error = nil, want an error", s)
		}
	}
}

// LMCache <= v0.3.2 chained hex strings: sha256(prev_hex.encode("ascii") +
// array("I", chunk).tobytes()).hexdigest(), from "" (values from CPython's
// hashlib and array, as in LMCache's ChunkedTokenDatabase._hash of that era).
func TestLegacyV032Chain(t *testing.T) {
	t.Parallel()
	p := DefaultParams()
	p.Model = "meta-llama/Llama-3.1-8B-Instruct"
	p.Schema = SchemaV032
	p.SaveUnfullChunk = true
	chunks := mustChunks(t, p, seq(600))
	want := []string{
		"8808405eec6fbe306fe3369f88daed79dd5613ddbb5e801f632b01d6218c5f08",
		"dbae33ee1bee4f1e12ac7a0dd1197e46648b8d9d9d908577a53fd38741bcf119",
		"41e49e3071f70d88ca65fe84ea1b70bb9365bffc1dd0f71f698a839f6b7c2676",
	}
	for i, w := range want {
		if wantKey := "vllm@meta-llama/Llama-3.1-8B-Instruct@1@0@" + w; chunks[i].Hash.Hex() != w || chunks[i].Key != wantKey {
			t.Errorf("chunk %d: hash %s key %s, want %s %s", i, chunks[i].Hash.Hex(), chunks[i].Key, w, wantKey)
		}
	}
}

// vLLM 0.10.0/0.10.1 returned sha256 digests as 256-bit ints
// (int.from_bytes(digest, "big")); values from CPython's hashlib/pickle.
func TestLegacySHA256IntChain(t *testing.T) {
	t.Parallel()
	p := DefaultParams()
	p.Model = "m"
	p.Algorithm = SHA256
	p.Legacy64Bit = true
	p.Schema = Schema202509
	p.SaveUnfullChunk = true
	nh, err := p.NoneHashFromSeed("0")
	if err != nil {
		t.Fatal(err)
	}
	if want := "11512569939066563460446379600789296176438808911994074490255290397072634980988"; nh.Decimal() != want {
		t.Fatalf("NONE_HASH = %s, want %s", nh.Decimal(), want)
	}
	p.NoneHash = nh
	chunks := mustChunks(t, p, seq(600))
	want := [][2]string{
		{"eae1f57e86a723df7288d84659e69a2e953d90ed8583fdf058e04e1b94d57f67", "106240441497048319646911069487721182827792996229381689666185674560122886913895"},
		{"81eeb7ed4cdcf4bdd33366e369f1cd9dfc35cd6536649793c8f53659d513ee34", "58770136485842072560371041339782730892991677768662952864628201337635162287668"},
		{"7fa36d9da2d8f31241d86726b9acda7b54c5ebbce3ee320f25b98731a57957e4", "57732484381846973980186242176595985954290006074736947869646622981039731595236"},
	}
	for i, w := range want {
		if wantKey := "vllm@m@1@0@" + w[0]; chunks[i].Hash.Hex() != w[0] || chunks[i].Hash.Decimal() != w[1] || chunks[i].Key != wantKey {
			t.Errorf("chunk %d: hash %s (%s) key %s, want %s (%s) %s", i, chunks[i].Hash.Hex(), chunks[i].Hash.Decimal(), chunks[i].Key, w[0], w[1], wantKey)
		}
	}
	p.Schema = Schema202508 // decimal rendering
	chunks = mustChunks(t, p, seq(600))
	if wantKey := "vllm@m@1@0@" + want[0][1]; chunks[0].Key != wantKey {
		t.Errorf("decimal era: key %s, want %s", chunks[0].Key, wantKey)
	}
}

func TestBigIntPickleAndHash(t *testing.T) {
	t.Parallel()
	two255 := new(big.Int).Lsh(big.NewInt(1), 255)
	cases := []struct {
		v      *big.Int
		pickle string
		hash   int64
	}{
		{new(big.Int).Add(two255, big.NewInt(5)), "8005952b000000000000008a210500000000000000000000000000000000000000000000000000000000000080004b0185944e87942e", 2053},
		{new(big.Int).Lsh(big.NewInt(1), 200), "80059524000000000000008a1a00000000000000000000000000000000000000000000000000014b0185944e87942e", 131072},
	}
	var pk pickler
	for _, c := range cases {
		v := BigValue(c.v.Bytes())
		if got := hex.EncodeToString(pk.chunkObject(v, []uint32{1}, ExtraNone)); got != c.pickle {
			t.Errorf("pickle %s:\n got %s\nwant %s", c.v, got, c.pickle)
		}
		if got := pyBigHash(v.b[:v.n]); got != c.hash {
			t.Errorf("hash(%s) = %d, want %d", c.v, got, c.hash)
		}
		if v.Decimal() != c.v.String() || v.Hex() != c.v.Text(16) {
			t.Errorf("render %s: Decimal() %s, Hex() %s; want %s, %s", c.v, v.Decimal(), v.Hex(), c.v.String(), c.v.Text(16))
		}
	}
}
