package pyobj

import (
	"encoding/binary"

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
// wrote).
func (c *CBOR) Uint32s(toks []uint32) {
	c.buf = Grow(c.buf, 5*len(toks))
	b := c.buf
	for _, t := range toks {
		switch {
		case t < 24:
			b = append(b, byte(t))
		case t <= 0xff:
			b = append(b, 0x18, byte(t))
		case t <= 0xffff:
			b = append(b, 0x19, byte(t>>8), byte(t))
		default:
			b = append(b, 0x1a, byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
		}
	}
	c.buf = b
}

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
