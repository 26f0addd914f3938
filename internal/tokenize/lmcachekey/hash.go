package lmcachekey

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"lmc/internal/tokenize/digest"
	"lmc/internal/tokenize/pyobj"
)

// Algorithm is a value of LMCache's pre_caching_hash_algorithm (plus the
// MP-mode blake3 scheme).
type Algorithm string

const (
	Builtin         Algorithm = "builtin"
	SHA256          Algorithm = "sha256"
	SHA256CBOR      Algorithm = "sha256_cbor"
	SHA256CBOR64Bit Algorithm = "sha256_cbor_64bit"
	XXHash          Algorithm = "xxhash"
	XXHashCBOR      Algorithm = "xxhash_cbor"
	Blake3          Algorithm = "blake3"
)

// Algorithms lists every supported algorithm, in documentation order.
var Algorithms = []Algorithm{Builtin, SHA256, SHA256CBOR, SHA256CBOR64Bit, XXHash, XXHashCBOR, Blake3}

// AlgorithmHelp describes each algorithm for help texts and completion.
var AlgorithmHelp = map[Algorithm]string{
	Builtin:         "CPython hash() of the tuple (LMCache default); int, rendered signed hex",
	SHA256:          "SHA-256 of pickle protocol 5; 32-byte digest (with --legacy-64bit the 256-bit int of vLLM 0.10.0/0.10.1)",
	SHA256CBOR:      "SHA-256 of canonical CBOR; 32-byte digest",
	SHA256CBOR64Bit: "alias of sha256_cbor on vLLM >= 0.10.2; with --legacy-64bit the uint64 of vLLM 0.10.0/0.10.1",
	XXHash:          "XXH3-128 of pickle protocol 5; 16-byte digest",
	XXHashCBOR:      "XXH3-128 of canonical CBOR; 16-byte digest",
	Blake3:          "BLAKE3 of prefix bytes + tokens as uint32 big-endian (LMCache multi-process mode)",
}

// ParseAlgorithm validates a name (case-insensitive; '-' accepted for '_').
func ParseAlgorithm(s string) (Algorithm, error) {
	n := Algorithm(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	for _, a := range Algorithms {
		if a == n {
			return a, nil
		}
	}
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return "", fmt.Errorf("unknown hash algorithm %q: use one of %s", s, strings.Join(names, ", "))
}

// IsDigest reports whether the algorithm's values are bytes digests. With
// legacy (vLLM 0.10.0/0.10.1) sha256 gives a 256-bit int and
// sha256_cbor_64bit a uint64.
func (a Algorithm) IsDigest(legacy bool) bool {
	switch a {
	case Builtin:
		return false
	case SHA256CBOR64Bit, SHA256:
		return !legacy
	}
	return true
}

// usesPickle/usesCBOR name the serialisation the algorithm digests.
func (a Algorithm) encoding() string {
	switch a {
	case SHA256, XXHash:
		return "pickle protocol 5"
	case SHA256CBOR, SHA256CBOR64Bit, XXHashCBOR:
		return "canonical CBOR"
	case Blake3:
		return "raw bytes: prefix (32 bytes, or int as 8-byte big-endian) + tokens as uint32 big-endian"
	}
	return "none (CPython hash of the tuple)"
}

// hasher computes H for one algorithm, reusing its buffers between chunks so
// that hashing allocates nothing per token.
type hasher struct {
	alg       Algorithm
	legacy64  bool
	siphash24 bool
	pk        pickler
	cb        cborWriter
	raw       []byte
	lastLen   int // length of the last serialised input (0 for builtin)
}

func newHasher(alg Algorithm, legacy64, siphash24 bool) *hasher {
	return &hasher{alg: alg, legacy64: legacy64, siphash24: siphash24}
}

// chunk returns H((prev, tuple(tokens), extra)).
func (h *hasher) chunk(prev Value, tokens []uint32, extra Extra) (Value, error) {
	switch h.alg {
	case Builtin:
		h.lastLen = 0
		t := newTupleHasher()
		switch prev.kind {
		case kindInt:
			t.add(pyIntHash(prev.i))
		case kindUint:
			t.add(pyUintHash(prev.u))
		case kindBig:
			t.add(pyBigHash(prev.b[:prev.n]))
		default:
			return Value{}, fmt.Errorf("builtin hashing needs an int prefix hash, got a %d-byte digest (NONE_HASH for builtin is an int)", prev.n)
		}
		t.add(hashTokenTuple(tokens))
		switch extra {
		case ExtraEmptyTuple:
			t.add(HashEmptyTuple)
		case ExtraNone:
			t.add(HashNone)
		}
		return IntValue(t.sum()), nil
	case SHA256, XXHash:
		return h.digest(h.pk.chunkObject(prev, tokens, extra)), nil
	case SHA256CBOR, SHA256CBOR64Bit, XXHashCBOR:
		return h.digest(h.cb.chunkObject(prev, tokens, extra)), nil
	case Blake3:
		h.raw = h.raw[:0]
		if prev.kind == kindBytes {
			h.raw = append(h.raw, prev.b[:prev.n]...)
		} else {
			b, _ := prev.be8()
			h.raw = append(h.raw, b[:]...)
		}
		n := len(h.raw)
		h.raw = pyobj.Grow(h.raw, 4*len(tokens))[:n+4*len(tokens)]
		for i, t := range tokens {
			binary.BigEndian.PutUint32(h.raw[n+4*i:], t)
		}
		return h.digest(h.raw), nil
	}
	return Value{}, fmt.Errorf("unknown hash algorithm %q", h.alg)
}

// seed returns H(s) for the PYTHONHASHSEED string s, as vLLM's
// init_none_hash does.
func (h *hasher) seed(s string, seed uint32) (Value, error) {
	switch h.alg {
	case Builtin:
		return IntValue(pyStrHash(s, seed, h.siphash24)), nil
	case SHA256, XXHash:
		return h.digest(h.pk.string(s)), nil
	case SHA256CBOR, SHA256CBOR64Bit, XXHashCBOR:
		return h.digest(h.cb.string(s)), nil
	case Blake3:
		// LMCache's MP TokenHasher: init_none_hash raises for a seed string
		// and it falls back to H((0, (0,), None)) = BLAKE3 of 12 zero bytes.
		return Blake3Initial(), nil
	}
	return Value{}, fmt.Errorf("unknown hash algorithm %q", h.alg)
}

func (h *hasher) digest(b []byte) Value {
	h.lastLen = len(b)
	switch h.alg {
	case SHA256:
		s := sha256.Sum256(b)
		if h.legacy64 {
			// vLLM 0.10.0/0.10.1: int.from_bytes(digest, "big")
			return BigValue(s[:])
		}
		return BytesValue(s[:])
	case SHA256CBOR:
		s := sha256.Sum256(b)
		return BytesValue(s[:])
	case SHA256CBOR64Bit:
		s := sha256.Sum256(b)
		if h.legacy64 {
			return UintValue(binary.BigEndian.Uint64(s[24:]))
		}
		return BytesValue(s[:])
	case XXHash, XXHashCBOR:
		d := pyobj.XXH3Digest(b)
		return BytesValue(d[:])
	case Blake3:
		d := digest.BLAKE3(b)
		return BytesValue(d[:])
	}
	panic("unreachable")
}

// Blake3Initial is the MP-mode starting value: BLAKE3 of 12 zero bytes, i.e.
// H((0, (0,), None)) in LMCache's TokenHasher.
func Blake3Initial() Value {
	var zero [12]byte
	d := digest.BLAKE3(zero[:])
	return BytesValue(d[:])
}

// legacySHA256Chain is LMCache <= v0.3.2: sha256(prev_hex + tokens as uint32
// little-endian).hexdigest(), starting from prev_hex = "".
func legacySHA256(prevHex string, tokens []uint32, buf []byte) (Value, []byte) {
	buf = append(buf[:0], prevHex...)
	for _, t := range tokens {
		buf = binary.LittleEndian.AppendUint32(buf, t)
	}
	s := sha256.Sum256(buf)
	return BytesValue(s[:]), buf
}
