package lmcachekey

import "lmc/internal/tokenize/pyobj"

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

// pickler writes pickle.dumps(obj, protocol=5) for the objects LMCache
// hashes, on pyobj's pickler (which owns the opcodes and CPython's framing).
type pickler struct{ pyobj.Pickler }

// value saves a prefix hash: bytes as SHORT_BINBYTES + MEMOIZE, ints by the
// save_long rules.
func (p *pickler) value(v Value) {
	switch v.kind {
	case kindBytes:
		p.Bytes(v.b[:v.n])
	case kindUint:
		p.Uint(v.u)
	case kindBig:
		p.BigUint(v.b[:v.n])
	default:
		p.Int(v.i)
	}
}

// chunkObject pickles (p, tuple(tokens), extra) or (p, tuple(tokens)).
func (p *pickler) chunkObject(prev Value, tokens []uint32, extra Extra) []byte {
	p.Begin()
	n := 3
	if extra == ExtraPair {
		n = 2
	}
	p.TupleStart(n)
	p.value(prev)
	p.TupleStart(len(tokens))
	p.Uint32s(tokens)
	p.TupleEnd(len(tokens))
	switch extra {
	case ExtraEmptyTuple:
		p.TupleStart(0)
	case ExtraNone:
		p.None()
	}
	p.TupleEnd(n)
	return p.End()
}

func (p *pickler) string(s string) []byte {
	p.Begin()
	p.Str(s)
	return p.End()
}

// cborWriter writes canonical CBOR (cbor2.dumps(obj, canonical=True)) for
// the same objects, on pyobj's CBOR writer.
type cborWriter struct{ pyobj.CBOR }

func (c *cborWriter) value(v Value) {
	switch v.kind {
	case kindBytes:
		c.ByteString(v.b[:v.n])
	case kindUint:
		c.Uint(v.u)
	case kindBig:
		// cbor2 writes ints of 2^64 and more as tag 2 (bignum).
		c.BigUint(v.b[:v.n])
	default:
		c.Int(v.i)
	}
}

func (c *cborWriter) chunkObject(prev Value, tokens []uint32, extra Extra) []byte {
	c.Reset()
	if extra == ExtraPair {
		c.Array(2)
	} else {
		c.Array(3)
	}
	c.value(prev)
	c.Array(len(tokens))
	c.Uint32s(tokens)
	switch extra {
	case ExtraEmptyTuple:
		c.Array(0)
	case ExtraNone:
		c.Null()
	}
	return c.Bytes()
}

func (c *cborWriter) string(s string) []byte {
	c.Reset()
	c.Text(s)
	return c.Bytes()
}
