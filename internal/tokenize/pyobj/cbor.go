package pyobj

import (
	"encoding/binary"
	"unsafe"

	"lmc/internal/tokenize/digest"
)

// CBOR writes what cbor2.dumps(obj, canonical=True) writes for ints, bytes,
// str, None and tuples (arrays). Canonical mode changes nothing for these
// types: cbor2 always uses the shortest head. Reset starts a new value; the
// buffer is reused.
type CBOR struct{ buf []byte }

// Reset empties the buffer.
func (c *CBOR) Reset() { c.buf = c.buf[:0] }

// Bytes returns what was written, valid until the next Reset.
func (c *CBOR) Bytes() []byte { return c.buf }

// Head writes a major type with its argument in the shortest form.
func (c *CBOR) Head(major byte, n uint64) {
	m := major << 5
	switch {
	case n < 24:
		c.buf = append(c.buf, m|byte(n))
	case n <= 0xff:
		c.buf = append(c.buf, m|24, byte(n))
	case n <= 0xffff:
		c.buf = append(c.buf, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		c.buf = append(c.buf, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		c.buf = append(c.buf, m|27)
		c.buf = binary.BigEndian.AppendUint64(c.buf, n)
	}
}

// Uint writes a non-negative int below 2^64.
func (c *CBOR) Uint(u uint64) { c.Head(0, u) }

// Int writes an int in the int64 range (major type 1 for negatives).
func (c *CBOR) Int(x int64) {
	if x >= 0 {
		c.Head(0, uint64(x))
		return
	}
	c.Head(1, uint64(-(x + 1)))
}

// BigUint writes a non-negative int of 2^64 or more, given big-endian without
// leading zeros, as cbor2 does: tag 2 (bignum) over its bytes.
func (c *CBOR) BigUint(be []byte) {
	c.buf = append(c.buf, 0xc2)
	c.ByteString(be)
}

// Uint32s writes token IDs (the elements of an array whose head the caller
// wrote). Each ID is one 8-byte store, without a branch: its size class k
// (1, 2, 3 or 5 bytes) is counted from three comparisons, and the head and
// the ID, big-endian, are placed at the top of the word (the bytes below
// are overwritten by the next ID, or lie past the end).
func (c *CBOR) Uint32s(toks []uint32) {
	c.buf = Grow(c.buf, 5*len(toks)+8)
	b := c.buf[:cap(c.buf)]
	pos := len(c.buf)
	// Each ID takes at most 5 bytes and the last store writes 8 from its
	// start: Grow left room for all of them.
	for _, t := range toks {
		u := uint64(t)
		k := (23-u)>>63 + (0xff-u)>>63 + (0xffff-u)>>63
		binary.BigEndian.PutUint64(word(b, pos), (cborHead[k&3]|u)*cborTop[k&3])
		pos += int(1 + k + k>>1&k) // 1, 2, 3, 5 bytes
	}
	c.buf = b[:pos]
}

// word is b[pos:pos+8] without a bounds check: the caller has made room
// (Uint32s Grow b before their loops).
func word(b []byte, pos int) []byte {
	return (*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), pos))[:]
}

// The token forms of Uint32s by size class: an ID below 24 is its own
// head; then 0x18 + 1 byte, 0x19 + 2 bytes, 0x1a + 4 bytes. cborTop moves
// the form (1, 2, 3 or 5 bytes) to the top of the word: a multiplication
// by 2^(64-8*size) rather than a variable shift.
var (
	cborHead = [4]uint64{0, 0x18 << 8, 0x19 << 16, 0x1a << 32}
	cborTop  = [4]uint64{1 << 56, 1 << 48, 1 << 40, 1 << 24}
)

// ByteString writes a bytes object.
func (c *CBOR) ByteString(b []byte) {
	c.Head(2, uint64(len(b)))
	c.buf = append(c.buf, b...)
}

// Text writes a str (its UTF-8).
func (c *CBOR) Text(s string) {
	c.Head(3, uint64(len(s)))
	c.buf = append(c.buf, s...)
}

// Array writes the head of a tuple or list of n elements.
func (c *CBOR) Array(n int) { c.Head(4, uint64(n)) }

// Null writes None.
func (c *CBOR) Null() { c.buf = append(c.buf, 0xf6) }

// XXH3Digest is python-xxhash's xxh3_128_digest(b) (seed 0): the 128-bit
// hash big-endian, high half first.
func XXH3Digest(b []byte) [16]byte {
	hi, lo := digest.XXH3(b)
	var d [16]byte
	binary.BigEndian.PutUint64(d[:8], hi)
	binary.BigEndian.PutUint64(d[8:], lo)
	return d
}
