package lmcachekey

import "encoding/binary"

// Extra is the third element of the tuple LMCache hashes per chunk.
type Extra uint8

const (
	// ExtraEmptyTuple hashes (p, tuple(chunk), ()) — LMCache since 2026-03-04.
	ExtraEmptyTuple Extra = iota
	// ExtraNone hashes (p, tuple(chunk), None) — LMCache 2025-08-19..2026-03-03
	// and 2025-07-15..2025-07-29.
	ExtraNone
	// ExtraPair hashes the 2-tuple (p, tuple(chunk)) — LMCache v0.3.3.
	ExtraPair
)

// String renders the element as Python source.
func (e Extra) String() string {
	switch e {
	case ExtraNone:
		return "None"
	case ExtraPair:
		return "(absent: 2-tuple)"
	}
	return "()"
}

// Pickle opcodes used by CPython's C pickler for these objects.
const (
	opMark          = '('
	opStop          = '.'
	opBinInt        = 'J'
	opBinInt1       = 'K'
	opBinInt2       = 'M'
	opNone          = 'N'
	opShortBinBytes = 'C'
	opTuple         = 't'
	opEmptyTuple    = ')'
	opProto         = 0x80
	opTuple1        = 0x85
	opLong1         = 0x8a
	opShortBinUni   = 0x8c
	opMemoize       = 0x94
	opFrame         = 0x95

	frameHeaderSize = 9
	frameSizeMin    = 4
	frameSizeTarget = 64 * 1024
)

// pickler writes what pickle.dumps(obj, protocol=5) writes for the objects
// LMCache hashes, including CPython's framing: the C pickler checks, before
// saving each object, whether the open frame holds >= 64 KiB and if so closes
// it; the next write opens a new frame.
type pickler struct {
	buf        []byte
	frameStart int
}

func (p *pickler) begin() {
	p.buf = append(p.buf[:0], opProto, 5)
	p.frameStart = -1
}

// boundary is _Pickler_OpcodeBoundary, called at the start of every save().
func (p *pickler) boundary() {
	if p.frameStart >= 0 && len(p.buf)-p.frameStart-frameHeaderSize >= frameSizeTarget {
		p.commit()
	}
}

func (p *pickler) commit() {
	if p.frameStart < 0 {
		return
	}
	n := len(p.buf) - p.frameStart - frameHeaderSize
	if n >= frameSizeMin {
		p.buf[p.frameStart] = opFrame
		binary.LittleEndian.PutUint64(p.buf[p.frameStart+1:], uint64(n))
	} else {
		copy(p.buf[p.frameStart:], p.buf[p.frameStart+frameHeaderSize:])
		p.buf = p.buf[:len(p.buf)-frameHeaderSize]
	}
	p.frameStart = -1
}

// open starts a frame if none is open (every write goes through it).
func (p *pickler) open() {
	if p.frameStart < 0 {
		p.frameStart = len(p.buf)
		p.buf = append(p.buf, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
}

func (p *pickler) end() []byte {
	p.open()
	p.buf = append(p.buf, opStop)
	p.commit()
	return p.buf
}

// token saves a token ID (0..2^32-1) as save_long does.
func (p *pickler) token(t uint32) {
	p.boundary()
	p.open()
	switch {
	case t <= 0xff:
		p.buf = append(p.buf, opBinInt1, byte(t))
	case t <= 0xffff:
		p.buf = append(p.buf, opBinInt2, byte(t), byte(t>>8))
	case t <= 0x7fffffff:
		p.buf = append(p.buf, opBinInt, byte(t), byte(t>>8), byte(t>>16), byte(t>>24))
	default:
		// Beyond int32: LONG1 with the minimal two's-complement bytes; a
		// uint32 with the top bit set needs a fifth (zero) byte.
		p.buf = append(p.buf, opLong1, 5, byte(t), byte(t>>8), byte(t>>16), byte(t>>24), 0)
	}
}

// tokens saves many token IDs. While the open frame cannot reach the 64 KiB
// boundary within the batch, no boundary checks are needed: each token takes
// at most 7 bytes, so batches are sized to stay below the target.
func (p *pickler) tokens(toks []uint32) {
	for len(toks) > 0 {
		p.open()
		room := frameSizeTarget - (len(p.buf) - p.frameStart - frameHeaderSize)
		if room <= 7 {
			p.token(toks[0])
			toks = toks[1:]
			continue
		}
		n := min(len(toks), room/7)
		p.buf = slicesGrow(p.buf, n*7)
		b := p.buf
		for _, t := range toks[:n] {
			switch {
			case t <= 0xff:
				b = append(b, opBinInt1, byte(t))
			case t <= 0xffff:
				b = append(b, opBinInt2, byte(t), byte(t>>8))
			case t <= 0x7fffffff:
				b = append(b, opBinInt, byte(t), byte(t>>8), byte(t>>16), byte(t>>24))
			default:
				b = append(b, opLong1, 5, byte(t), byte(t>>8), byte(t>>16), byte(t>>24), 0)
			}
		}
		p.buf = b
		toks = toks[n:]
	}
}

func slicesGrow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		return nb
	}
	return b
}

// value saves a prefix hash: bytes as SHORT_BINBYTES + MEMOIZE, ints by the
// save_long rules.
func (p *pickler) value(v Value) {
	p.boundary()
	p.open()
	switch v.kind {
	case kindBytes:
		p.buf = append(p.buf, opShortBinBytes, v.n)
		p.buf = append(p.buf, v.b[:v.n]...)
		p.buf = append(p.buf, opMemoize)
	case kindUint:
		p.long(v.u, false)
	case kindBig:
		// LONG1: the magnitude little-endian, plus a zero byte when the
		// top bit is set (nbytes = bit_length/8 + 1).
		n := int(v.n)
		if v.b[0]&0x80 != 0 {
			n++
		}
		p.buf = append(p.buf, opLong1, byte(n))
		for i := int(v.n) - 1; i >= 0; i-- {
			p.buf = append(p.buf, v.b[i])
		}
		if n > int(v.n) {
			p.buf = append(p.buf, 0)
		}
	default:
		x := v.i
		switch {
		case x >= 0 && x <= 0xff:
			p.buf = append(p.buf, opBinInt1, byte(x))
		case x >= 0 && x <= 0xffff:
			p.buf = append(p.buf, opBinInt2, byte(x), byte(x>>8))
		case x >= -0x80000000 && x <= 0x7fffffff:
			u := uint32(int32(x))
			p.buf = append(p.buf, opBinInt, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		case x < 0:
			p.long(uint64(x), true)
		default:
			p.long(uint64(x), false)
		}
	}
}

// long writes LONG1 for a 64-bit two's-complement value the way save_long
// does: nbytes = bit_length(|x|)/8 + 1, minus one redundant sign byte.
func (p *pickler) long(bitsLE uint64, negative bool) {
	mag := bitsLE
	if negative {
		mag = -bitsLE // |x| as uint64 (2^63 for int64 min)
	}
	nbits := 0
	for m := mag; m != 0; m >>= 1 {
		nbits++
	}
	nbytes := nbits>>3 + 1
	var le [9]byte
	binary.LittleEndian.PutUint64(le[:8], bitsLE)
	if negative {
		le[8] = 0xff
	}
	if negative && nbytes > 1 && le[nbytes-1] == 0xff && le[nbytes-2]&0x80 != 0 {
		nbytes--
	}
	p.buf = append(p.buf, opLong1, byte(nbytes))
	p.buf = append(p.buf, le[:nbytes]...)
}

// str saves a short ASCII/UTF-8 str (the PYTHONHASHSEED string).
func (p *pickler) str(s string) {
	p.boundary()
	p.open()
	p.buf = append(p.buf, opShortBinUni, byte(len(s)))
	p.buf = append(p.buf, s...)
	p.buf = append(p.buf, opMemoize)
}

// chunkObject pickles (p, tuple(tokens), extra) or (p, tuple(tokens)).
func (p *pickler) chunkObject(prev Value, tokens []uint32, extra Extra) []byte {
	p.begin()
	p.boundary() // save(outer tuple)
	p.value(prev)
	p.boundary() // save(token tuple)
	p.open()
	switch n := len(tokens); {
	case n == 0:
		p.buf = append(p.buf, opEmptyTuple)
	case n <= 3:
		for _, t := range tokens {
			p.token(t)
		}
		p.open()
		p.buf = append(p.buf, opTuple1+byte(n-1), opMemoize)
	default:
		p.buf = append(p.buf, opMark)
		p.tokens(tokens)
		p.open()
		p.buf = append(p.buf, opTuple, opMemoize)
	}
	switch extra {
	case ExtraEmptyTuple:
		p.boundary()
		p.open()
		p.buf = append(p.buf, opEmptyTuple)
	case ExtraNone:
		p.boundary()
		p.open()
		p.buf = append(p.buf, opNone)
	}
	p.open()
	if extra == ExtraPair {
		p.buf = append(p.buf, opTuple1+1, opMemoize)
	} else {
		p.buf = append(p.buf, opTuple1+2, opMemoize)
	}
	return p.end()
}

func (p *pickler) string(s string) []byte {
	p.begin()
	p.str(s)
	return p.end()
}

// cbor appends canonical CBOR (cbor2.dumps(obj, canonical=True)) for the
// same objects. Canonical mode changes nothing for ints, bytes and arrays.
type cborWriter struct{ buf []byte }

func (c *cborWriter) head(major byte, n uint64) {
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

func (c *cborWriter) value(v Value) {
	switch v.kind {
	case kindBytes:
		c.head(2, uint64(v.n))
		c.buf = append(c.buf, v.b[:v.n]...)
	case kindUint:
		c.head(0, v.u)
	case kindBig:
		// cbor2 writes ints of 2^64 and more as tag 2 (bignum).
		c.buf = append(c.buf, 0xc2)
		c.head(2, uint64(v.n))
		c.buf = append(c.buf, v.b[:v.n]...)
	default:
		if v.i >= 0 {
			c.head(0, uint64(v.i))
		} else {
			c.head(1, uint64(-(v.i + 1)))
		}
	}
}

func (c *cborWriter) chunkObject(prev Value, tokens []uint32, extra Extra) []byte {
	c.buf = c.buf[:0]
	if extra == ExtraPair {
		c.buf = append(c.buf, 0x82)
	} else {
		c.buf = append(c.buf, 0x83)
	}
	c.value(prev)
	c.head(4, uint64(len(tokens)))
	c.buf = slicesGrow(c.buf, 5*len(tokens)+1)
	for _, t := range tokens {
		switch {
		case t < 24:
			c.buf = append(c.buf, byte(t))
		case t <= 0xff:
			c.buf = append(c.buf, 0x18, byte(t))
		case t <= 0xffff:
			c.buf = append(c.buf, 0x19, byte(t>>8), byte(t))
		default:
			c.buf = append(c.buf, 0x1a, byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
		}
	}
	switch extra {
	case ExtraEmptyTuple:
		c.buf = append(c.buf, 0x80)
	case ExtraNone:
		c.buf = append(c.buf, 0xf6)
	}
	return c.buf
}

func (c *cborWriter) string(s string) []byte {
	c.buf = c.buf[:0]
	c.head(3, uint64(len(s)))
	c.buf = append(c.buf, s...)
	return c.buf
}
