package digest

import (
	"encoding/binary"
	"math/bits"
)

// BLAKE3 is the 32-byte BLAKE3 hash of b (unkeyed, default output length),
// as LMCache's multi-process mode computes it with the blake3 package.
//
// The tree is walked chunk by chunk with one compression at a time: the
// inputs lmc hashes are a chunk of token IDs (about 1 KiB), where the wide
// SIMD paths of a general BLAKE3 library do not apply. On amd64 the
// compression uses SSE4.1 when the CPU has it, detected on the first call
// rather than when the program starts.
func BLAKE3(b []byte) [32]byte {
	var stack [54][8]uint32 // 2^54 chunks of 1 KiB: any input
	sp := 0
	chunk := uint64(0)
	for len(b) > blake3ChunkLen {
		cv := blake3Chunk(b[:blake3ChunkLen], chunk, 0)
		chunk++
		for t := chunk; t&1 == 0; t >>= 1 {
			sp--
			cv = blake3Parent(&stack[sp], &cv, 0)
		}
		stack[sp] = cv
		sp++
		b = b[blake3ChunkLen:]
	}
	var cv [8]uint32
	if sp == 0 {
		cv = blake3Chunk(b, chunk, blake3Root)
	} else {
		cv = blake3Chunk(b, chunk, 0)
		for sp > 0 {
			sp--
			flags := uint32(0)
			if sp == 0 {
				flags = blake3Root
			}
			cv = blake3Parent(&stack[sp], &cv, flags)
		}
	}
	var out [32]byte
	for i, w := range cv {
		binary.LittleEndian.PutUint32(out[4*i:], w)
	}
	return out
}

const (
	blake3ChunkLen   = 1024
	blake3BlockLen   = 64
	blake3ChunkStart = 1 << 0
	blake3ChunkEnd   = 1 << 1
	blake3ParentNode = 1 << 2
	blake3Root       = 1 << 3
)

var blake3IV = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// blake3Chunk compresses one chunk (at most 1 KiB; an empty input is one
// empty block) and returns its chaining value, or the root hash's words
// when flags holds blake3Root.
func blake3Chunk(b []byte, counter uint64, flags uint32) [8]uint32 {
	// st[:8] is the chaining value; each compression overwrites st with
	// its output, whose first half is the next chaining value.
	var st [16]uint32
	copy(st[:8], blake3IV[:])
	start := uint32(blake3ChunkStart)
	for len(b) > blake3BlockLen {
		compress(&st, blockWords(b), counter, blake3BlockLen, start)
		start = 0
		b = b[blake3BlockLen:]
	}
	var last [blake3BlockLen]byte
	copy(last[:], b)
	compress(&st, blockWords(last[:]), counter, uint32(len(b)), start|blake3ChunkEnd|flags)
	return [8]uint32(st[:8])
}

func blake3Parent(left, right *[8]uint32, flags uint32) [8]uint32 {
	var block, st [16]uint32
	copy(block[:8], left[:])
	copy(block[8:], right[:])
	copy(st[:8], blake3IV[:])
	compress(&st, &block, 0, blake3BlockLen, blake3ParentNode|flags)
	return [8]uint32(st[:8])
}

// blake3Schedule is the message word each G reads in each round: round 0
// reads the words in order, and every round permutes the previous one's by
// (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8).
var blake3Schedule = [7][16]uint8{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
	{3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
	{10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
	{12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
	{9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
	{11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
}

// compressGo is BLAKE3's compression function over the chaining value
// st[:8], leaving the output in st: st[:8] the next chaining value, st[8:]
// the second half.
func compressGo(st *[16]uint32, m *[16]uint32, counter uint64, blen, flags uint32) {
	s0, s1, s2, s3, s4, s5, s6, s7 := st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7]
	s8, s9, sa, sb := blake3IV[0], blake3IV[1], blake3IV[2], blake3IV[3]
	sc, sd, se, sf := uint32(counter), uint32(counter>>32), blen, flags
	for r := range blake3Schedule {
		x := &blake3Schedule[r]
		s0, s4, s8, sc = g(s0, s4, s8, sc, m[x[0]], m[x[1]])
		s1, s5, s9, sd = g(s1, s5, s9, sd, m[x[2]], m[x[3]])
		s2, s6, sa, se = g(s2, s6, sa, se, m[x[4]], m[x[5]])
		s3, s7, sb, sf = g(s3, s7, sb, sf, m[x[6]], m[x[7]])
		s0, s5, sa, sf = g(s0, s5, sa, sf, m[x[8]], m[x[9]])
		s1, s6, sb, sc = g(s1, s6, sb, sc, m[x[10]], m[x[11]])
		s2, s7, s8, sd = g(s2, s7, s8, sd, m[x[12]], m[x[13]])
		s3, s4, s9, se = g(s3, s4, s9, se, m[x[14]], m[x[15]])
	}
	st[8], st[9], st[10], st[11] = s8^st[0], s9^st[1], sa^st[2], sb^st[3]
	st[12], st[13], st[14], st[15] = sc^st[4], sd^st[5], se^st[6], sf^st[7]
	st[0], st[1], st[2], st[3] = s0^s8, s1^s9, s2^sa, s3^sb
	st[4], st[5], st[6], st[7] = s4^sc, s5^sd, s6^se, s7^sf
}

// g is BLAKE3's quarter-round.
func g(a, b, c, d, x, y uint32) (uint32, uint32, uint32, uint32) {
	a += b + x
	d = bits.RotateLeft32(d^a, -16)
	c += d
	b = bits.RotateLeft32(b^c, -12)
	a += b + y
	d = bits.RotateLeft32(d^a, -8)
	c += d
	b = bits.RotateLeft32(b^c, -7)
	return a, b, c, d
}
