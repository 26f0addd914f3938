package lmcachekey

import (
	"encoding/binary"
	"math/bits"
)

// This file reproduces CPython's builtin hash() for the objects LMCache
// hashes with pre_caching_hash_algorithm "builtin": ints, tuples of ints and
// hashes, None, and (for NONE_HASH) short ASCII strings.

const (
	pyHashModulus = (1 << 61) - 1 // sys.hash_info.modulus on 64-bit builds

	xxPrime1 = 11400714785074694791
	xxPrime2 = 14029467366897019727
	xxPrime5 = 2870177450012600261

	// HashEmptyTuple is CPython's hash(()).
	HashEmptyTuple int64 = 5740354900026072187
	// HashNone is hash(None) on CPython >= 3.12. Earlier versions hash the
	// object's address, which differs in every process.
	HashNone int64 = 4238894112
)

// pyIntHash is hash(x) for a Python int x in the int64 range.
func pyIntHash(x int64) int64 {
	var h int64
	if x >= 0 {
		h = int64(uint64(x) % pyHashModulus)
	} else {
		// |x| may be 2^63, which does not fit an int64; do it in uint64.
		h = -int64((uint64(-(x + 1)) + 1) % pyHashModulus)
	}
	if h == -1 {
		h = -2
	}
	return h
}

// pyUintHash is hash(x) for a non-negative Python int x < 2^64.
func pyUintHash(x uint64) int64 {
	return int64(x % pyHashModulus) // never -1
}

// pyBigHash is hash(x) for a non-negative int given big-endian: x mod
// (2^61 - 1).
func pyBigHash(be []byte) int64 {
	var r uint64
	for _, c := range be {
		// r*256 + c < 2^69: reduce through 128-bit arithmetic.
		hi, lo := bits.Mul64(r, 256)
		lo, carry := bits.Add64(lo, uint64(c), 0)
		hi += carry
		_, r = bits.Div64(hi, lo, pyHashModulus)
	}
	return int64(r)
}

// tupleHasher accumulates CPython's xxHash-based tuple hash (3.8+).
type tupleHasher struct {
	acc uint64
	n   uint64
}

func newTupleHasher() tupleHasher { return tupleHasher{acc: xxPrime5} }

func (t *tupleHasher) add(h int64) {
	t.acc += uint64(h) * xxPrime2
	t.acc = bits.RotateLeft64(t.acc, 31)
	t.acc *= xxPrime1
	t.n++
}

func (t *tupleHasher) sum() int64 {
	acc := t.acc + (t.n ^ (xxPrime5 ^ 3527539))
	if acc == ^uint64(0) {
		return 1546275796
	}
	return int64(acc)
}

// hashTokenTuple is hash(tuple(tokens)) for token IDs (all < 2^61, so each
// int hashes to itself).
func hashTokenTuple(tokens []uint32) int64 {
	acc := uint64(xxPrime5)
	for _, t := range tokens {
		acc += uint64(t) * xxPrime2
		acc = bits.RotateLeft64(acc, 31)
		acc *= xxPrime1
	}
	acc += uint64(len(tokens)) ^ (xxPrime5 ^ 3527539)
	if acc == ^uint64(0) {
		return 1546275796
	}
	return int64(acc)
}

// pyHashSecret derives CPython's _Py_HashSecret (k0, k1 of SipHash) from a
// PYTHONHASHSEED value: 0 disables randomisation (all-zero key); any other
// value seeds CPython's LCG, which fills the 24-byte secret.
func pyHashSecret(seed uint32) (k0, k1 uint64) {
	if seed == 0 {
		return 0, 0
	}
	var buf [24]byte
	x := seed
	for i := range buf {
		x = x*214013 + 2531011
		buf[i] = byte(x >> 16)
	}
	return binary.LittleEndian.Uint64(buf[0:8]), binary.LittleEndian.Uint64(buf[8:16])
}

// pyStrHash is hash(s) for an ASCII str s under the given PYTHONHASHSEED:
// SipHash-1-3 on CPython >= 3.11, SipHash-2-4 on CPython <= 3.10.
func pyStrHash(s string, seed uint32, siphash24 bool) int64 {
	if len(s) == 0 {
		return 0
	}
	k0, k1 := pyHashSecret(seed)
	c, d := 1, 3
	if siphash24 {
		c, d = 2, 4
	}
	h := int64(sipHash(k0, k1, []byte(s), c, d))
	if h == -1 {
		h = -2
	}
	return h
}

// sipHash is SipHash-c-d with a 64-bit output, as in CPython's pyhash.c.
func sipHash(k0, k1 uint64, msg []byte, cRounds, dRounds int) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	b := uint64(len(msg)) << 56
	for len(msg) >= 8 {
		m := binary.LittleEndian.Uint64(msg)
		v3 ^= m
		for i := 0; i < cRounds; i++ {
			round()
		}
		v0 ^= m
		msg = msg[8:]
	}
	var last [8]byte
	copy(last[:], msg)
	b |= binary.LittleEndian.Uint64(last[:])
	v3 ^= b
	for i := 0; i < cRounds; i++ {
		round()
	}
	v0 ^= b
	v2 ^= 0xff
	for i := 0; i < dRounds; i++ {
		round()
	}
	return v0 ^ v1 ^ v2 ^ v3
}

// BuiltinChain returns the prefix-hash chain LMCache computes with
// pre_caching_hash_algorithm "builtin" and the current hashed object
// (p, tuple(chunk), ()): one int64 per chunk, in order. Only full chunks are
// hashed unless saveUnfull is set. It is the hashing the LMCache cache
// controller does for /lookup (chunk size 256, its own NONE_HASH).
func BuiltinChain(tokens []uint32, chunkSize int, noneHash int64, saveUnfull bool) []int64 {
	if chunkSize <= 0 {
		return nil
	}
	limit := len(tokens)
	if !saveUnfull {
		limit -= limit % chunkSize
	}
	out := make([]int64, 0, (limit+chunkSize-1)/chunkSize)
	p := noneHash
	for start := 0; start < limit; start += chunkSize {
		end := min(start+chunkSize, len(tokens))
		t := newTupleHasher()
		t.add(pyIntHash(p))
		t.add(hashTokenTuple(tokens[start:end]))
		t.add(HashEmptyTuple)
		p = t.sum()
		out = append(out, p)
	}
	return out
}
