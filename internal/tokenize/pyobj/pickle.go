// Package pyobj writes the bytes that inference engines digest when they hash
// Python objects: pickle protocol 5 exactly as CPython's C pickler frames it
// (pickle.dumps(obj, protocol=5)), canonical CBOR as cbor2.dumps(obj,
// canonical=True) writes it, and the digest byte order of python-xxhash.
//
// It covers the object shapes prefix-cache hashes are made of — ints, bytes,
// str, None and tuples of them — and nothing else: it is not a general
// serialiser and it has no decoder. The engines' key packages (lmcachekey,
// vllmkey) build their hashed tuples from these primitives, so every engine
// shares one encoder per format.
package pyobj

import (
	"encoding/binary"
	"unicode/utf8"
)

// Pickle opcodes the C pickler writes for these objects.
const (
	opMark          = '('
	opStop          = '.'
	opBinInt        = 'J'
	opBinInt1       = 'K'
	opBinInt2       = 'M'
	opNone          = 'N'
	opBinBytes      = 'B'
	opShortBinBytes = 'C'
	opBinUnicode    = 'X'
	opBinGet        = 'h'
	opLongBinGet    = 'j'
	opTuple         = 't'
	opEmptyTuple    = ')'
	opProto         = 0x80
	opTuple1        = 0x85
	opLong1         = 0x8a
	opShortBinUni   = 0x8c
	opBinUnicode8   = 0x8d
	opBinBytes8     = 0x8e
	opMemoize       = 0x94
	opFrame         = 0x95

	frameHeaderSize = 9
	frameSizeMin    = 4
	// FrameSizeTarget is CPython's _FRAME_SIZE_TARGET: a frame is closed
	// before the next object once it holds this many bytes, and a bytes or
	// str payload this large is written outside any frame.
	FrameSizeTarget = 64 * 1024
)

// Pickler writes what pickle.dumps(obj, protocol=5) writes, including
// CPython's framing: before saving each object the C pickler closes the open
// frame if it holds >= 64 KiB (_Pickler_OpcodeBoundary); the next write opens
// a new one; a frame of fewer than 4 bytes loses its header.
//
// Objects are saved in the order pickle visits them: a tuple is TupleStart,
// its elements, TupleEnd. The zero Pickler is ready after Begin. Its buffer
// is reused by the next Begin.
type Pickler struct {
	buf        []byte
	frameStart int
	memo       uint32
}

// Begin starts a new pickle (PROTO 5), forgetting the memo.
func (p *Pickler) Begin() {
	p.buf = append(p.buf[:0], opProto, 5)
	p.frameStart = -1
	p.memo = 0
}

// End writes STOP, closes the last frame and returns the pickle. The slice is
// valid until the next Begin.
func (p *Pickler) End() []byte {
	p.open()
	p.buf = append(p.buf, opStop)
	p.commit()
	return p.buf
}

// Memo is the number of objects memoized so far: the memo index the next
// memoized object gets.
func (p *Pickler) Memo() uint32 { return p.memo }

// boundary is _Pickler_OpcodeBoundary, called at the start of every save().
func (p *Pickler) boundary() {
	if p.frameStart >= 0 && len(p.buf)-p.frameStart-frameHeaderSize >= FrameSizeTarget {
		p.commit()
	}
}

func (p *Pickler) commit() {
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

// open starts a frame if none is open (every framed write goes through it).
func (p *Pickler) open() {
	if p.frameStart < 0 {
		p.frameStart = len(p.buf)
		p.buf = append(p.buf, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
}

func (p *Pickler) memoize() {
	p.open()
	p.buf = append(p.buf, opMemoize)
	p.memo++
}

// Uint32 saves a Python int in 0..2^32-1 (a token ID) as save_long does.
func (p *Pickler) Uint32(t uint32) {
	p.boundary()
	p.open()
	p.buf = appendPickleUint32(p.buf, t)
}

func appendPickleUint32(b []byte, t uint32) []byte {
	switch {
	case t <= 0xff:
		return append(b, opBinInt1, byte(t))
	case t <= 0xffff:
		return append(b, opBinInt2, byte(t), byte(t>>8))
	case t <= 0x7fffffff:
		return append(b, opBinInt, byte(t), byte(t>>8), byte(t>>16), byte(t>>24))
	}
	// Beyond int32: LONG1 with the minimal two's-complement bytes; a uint32
	// with the top bit set needs a fifth (zero) byte.
	return append(b, opLong1, 5, byte(t), byte(t>>8), byte(t>>16), byte(t>>24), 0)
}

// Uint32s saves many token IDs, as the elements of a tuple. While the open
// frame cannot reach the 64 KiB boundary within a batch no boundary checks
// are needed: each ID takes at most 7 bytes, so batches are sized to stay
// below the target.
func (p *Pickler) Uint32s(toks []uint32) {
	for len(toks) > 0 {
		p.open()
		room := FrameSizeTarget - (len(p.buf) - p.frameStart - frameHeaderSize)
		if room <= 7 {
			p.Uint32(toks[0])
			toks = toks[1:]
			continue
		}
		n := min(len(toks), room/7)
		p.buf = Grow(p.buf, n*7+8)
		b := p.buf[:cap(p.buf)]
		pos := len(p.buf)
		for _, t := range toks[:n] {
			// appendPickleUint32 as one 8-byte store: the opcode and the
			// ID little-endian, by size class (see pickleOp).
			u := uint64(t)
			k := (0xff-u)>>63 + (0xffff-u)>>63 + (0x7fffffff-u)>>63
			long := k >> 1 & k // 1 for LONG1
			binary.LittleEndian.PutUint64(word(b, pos), pickleOp[k&3]|u<<(8+8*long))
			pos += int(2 + k + k>>1 + long) // 2, 3, 5, 7 bytes
		}
		p.buf = b[:pos]
		toks = toks[n:]
	}
}

// The opcodes of appendPickleUint32 by size class: BININT1 + 1 byte,
// BININT2 + 2, BININT + 4, LONG1 5 + 4 bytes and a zero byte (the ID
// follows one opcode byte, or two for LONG1).
var pickleOp = [4]uint64{opBinInt1, opBinInt2, opBinInt, opLong1 | 5<<8}

// Int saves a Python int in the int64 range.
func (p *Pickler) Int(x int64) {
	p.boundary()
	p.open()
	switch {
	case x >= 0 && x <= 0xff:
		p.buf = append(p.buf, opBinInt1, byte(x))
	case x >= 0 && x <= 0xffff:
		p.buf = append(p.buf, opBinInt2, byte(x), byte(x>>8))
	case x >= -0x80000000 && x <= 0x7fffffff:
		u := uint32(int32(x))
		p.buf = append(p.buf, opBinInt, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	default:
		p.long(uint64(x), x < 0)
	}
}

// Uint saves a non-negative Python int below 2^64.
func (p *Pickler) Uint(x uint64) {
	if x <= 1<<63-1 {
		p.Int(int64(x))
		return
	}
	p.boundary()
	p.open()
	p.long(x, false)
}

// long writes LONG1 for a 64-bit two's-complement value the way save_long
// does: nbytes = bit_length(|x|)/8 + 1, minus one redundant sign byte.
func (p *Pickler) long(bitsLE uint64, negative bool) {
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

// BigUint saves the non-negative Python int int.from_bytes(be, "big") of up
// to 255 bytes (LONG1: the magnitude little-endian, plus a zero byte when the
// top bit is set). Leading zero bytes of be must already be trimmed; an
// empty be is 0.
func (p *Pickler) BigUint(be []byte) {
	if len(be) <= 8 {
		var u uint64
		for _, c := range be {
			u = u<<8 | uint64(c)
		}
		p.Uint(u)
		return
	}
	p.boundary()
	p.open()
	n := len(be)
	if be[0]&0x80 != 0 {
		n++
	}
	p.buf = append(p.buf, opLong1, byte(n))
	for i := len(be) - 1; i >= 0; i-- {
		p.buf = append(p.buf, be[i])
	}
	if n > len(be) {
		p.buf = append(p.buf, 0)
	}
}

// payload writes an opcode header and its data as _Pickler_write_bytes does:
// data of 64 KiB or more goes outside any frame (the open frame is closed
// first, the next write opens a new one).
func payload[T ~string | ~[]byte](p *Pickler, header []byte, data T) {
	if len(data) >= FrameSizeTarget {
		p.commit()
		p.buf = append(p.buf, header...)
		p.buf = append(p.buf, data...)
		return
	}
	p.open()
	p.buf = append(p.buf, header...)
	p.buf = append(p.buf, data...)
}

// Bytes saves a bytes object (SHORT_BINBYTES, BINBYTES or BINBYTES8) and
// memoizes it.
func (p *Pickler) Bytes(b []byte) { sized(p, b, opShortBinBytes, opBinBytes, opBinBytes8) }

// Str saves a str (SHORT_BINUNICODE, BINUNICODE or BINUNICODE8 of its UTF-8)
// and memoizes it. Each call is a distinct str object; for a repeat of the
// same object use Get with the memo index the first save took.
func (p *Pickler) Str(s string) { sized(p, s, opShortBinUni, opBinUnicode, opBinUnicode8) }

// sized saves data with the opcode of its length's width (one byte, four
// or eight) and memoizes it.
func sized[T ~string | ~[]byte](p *Pickler, data T, op1, op4, op8 byte) {
	p.boundary()
	var h [9]byte
	switch n := len(data); {
	case n <= 0xff:
		h[0], h[1] = op1, byte(n)
		payload(p, h[:2], data)
	case n <= 0xffffffff:
		h[0] = op4
		binary.LittleEndian.PutUint32(h[1:], uint32(n))
		payload(p, h[:5], data)
	default:
		h[0] = op8
		binary.LittleEndian.PutUint64(h[1:], uint64(n))
		payload(p, h[:9], data)
	}
	p.memoize()
}

// Get saves a reference to the already-memoized object with memo index i
// (BINGET, or LONG_BINGET from index 256): what pickle writes when the same
// object appears twice.
func (p *Pickler) Get(i uint32) {
	p.boundary()
	p.open()
	if i < 256 {
		p.buf = append(p.buf, opBinGet, byte(i))
		return
	}
	p.buf = append(p.buf, opLongBinGet, byte(i), byte(i>>8), byte(i>>16), byte(i>>24))
}

// None saves None.
func (p *Pickler) None() {
	p.boundary()
	p.open()
	p.buf = append(p.buf, opNone)
}

// TupleStart begins saving a tuple of n elements (MARK for n >= 4; for n = 0
// the whole empty tuple is written and TupleEnd(0) adds nothing).
func (p *Pickler) TupleStart(n int) {
	p.boundary()
	p.open()
	switch {
	case n == 0:
		p.buf = append(p.buf, opEmptyTuple)
	case n >= 4:
		p.buf = append(p.buf, opMark)
	}
}

// TupleEnd finishes a tuple of n elements: TUPLE1..3 or TUPLE, then MEMOIZE.
func (p *Pickler) TupleEnd(n int) {
	switch {
	case n == 0:
		return
	case n <= 3:
		p.open()
		p.buf = append(p.buf, opTuple1+byte(n-1))
	default:
		p.open()
		p.buf = append(p.buf, opTuple)
	}
	p.memoize()
}

// Grow makes room for n more bytes in b, amortised (like slices.Grow, but
// doubling from the current capacity).
func Grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		return nb
	}
	return b
}

// ValidStr reports whether s can be a Python str as pickle and CBOR write it:
// valid UTF-8 (Go strings may hold any bytes).
func ValidStr(s string) bool { return utf8.ValidString(s) }
