package vllmkey

import (
	"crypto/sha256"
	"strconv"
	"strings"

	"lmc/internal/tokenize/pyobj"
)

// MMKey is one multimodal extra key of a block: (identifier, offset of the
// item's start relative to the block start; negative when the block starts
// inside the item).
type MMKey struct {
	ID     string
	Offset int
}

// ExtraKeys is a block's extra_keys tuple, in vLLM's order: the LoRA name,
// the multimodal pairs, the cache salt (block 0 only). It is None when all
// are absent.
type ExtraKeys struct {
	LoRA    string
	HasLoRA bool
	MM      []MMKey
	Salt    string
	HasSalt bool
}

// None reports extra_keys = None.
func (x *ExtraKeys) None() bool { return !x.HasLoRA && len(x.MM) == 0 && !x.HasSalt }

// Len is the tuple's length.
func (x *ExtraKeys) Len() int {
	n := len(x.MM)
	if x.HasLoRA {
		n++
	}
	if x.HasSalt {
		n++
	}
	return n
}

// Repr renders the tuple as Python's repr does ("None", "('my-lora',)",
// "(('img-0a1b2c', -11),)").
func (x *ExtraKeys) Repr() string {
	if x.None() {
		return "None"
	}
	var parts []string
	if x.HasLoRA {
		parts = append(parts, PyRepr(x.LoRA))
	}
	for _, m := range x.MM {
		parts = append(parts, "("+PyRepr(m.ID)+", "+strconv.Itoa(m.Offset)+")")
	}
	if x.HasSalt {
		parts = append(parts, PyRepr(x.Salt))
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// PyRepr is Python's repr of a str: single quotes unless the string holds a
// single quote and no double quote; backslash escapes for the quote, \\,
// \t \n \r and other non-printable characters.
func PyRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// hasher computes vLLM's H with reused buffers.
type hasher struct {
	alg HashAlgo
	pk  pyobj.Pickler
	cb  pyobj.CBOR
	// memo of strings for SameStringObjects: value -> memo index.
	strs []strMemo
	last int // length of the last serialised object
	out  [32]byte
}

type strMemo struct {
	s   string
	idx uint32
}

func newHasher(a HashAlgo) *hasher { return &hasher{alg: a} }

// digest returns H's digest of b in the hasher's own array (valid until the
// next digest).
func (h *hasher) digest(b []byte) []byte {
	h.last = len(b)
	if h.alg == XXHash || h.alg == XXHashCBOR {
		d := pyobj.XXH3Digest(b)
		copy(h.out[:], d[:])
		return h.out[:16]
	}
	h.out = sha256.Sum256(b)
	return h.out[:]
}

// seed is init_none_hash: H(seed string).
func (h *hasher) seed(s string) []byte {
	if h.alg.cbor() {
		h.cb.Reset()
		h.cb.Text(s)
		return h.digest(h.cb.Bytes())
	}
	h.pk.Begin()
	h.pk.Str(s)
	return h.digest(h.pk.End())
}

// encode serialises (parent, tuple(tokens), extra_keys).
func (h *hasher) encode(parent []byte, tokens []uint32, x *ExtraKeys, shared bool) []byte {
	if h.alg.cbor() {
		c := &h.cb
		c.Reset()
		c.Array(3)
		c.ByteString(parent)
		c.Array(len(tokens))
		c.Uint32s(tokens)
		if x.None() {
			c.Null()
		} else {
			c.Array(x.Len())
			if x.HasLoRA {
				c.Text(x.LoRA)
			}
			for _, m := range x.MM {
				c.Array(2)
				c.Text(m.ID)
				c.Int(int64(m.Offset))
			}
			if x.HasSalt {
				c.Text(x.Salt)
			}
		}
		return c.Bytes()
	}
	p := &h.pk
	p.Begin()
	p.TupleStart(3)
	p.Bytes(parent)
	p.TupleStart(len(tokens))
	p.Uint32s(tokens)
	p.TupleEnd(len(tokens))
	if x.None() {
		p.None()
	} else {
		h.strs = h.strs[:0]
		n := x.Len()
		p.TupleStart(n)
		if x.HasLoRA {
			h.str(x.LoRA, shared)
		}
		for _, m := range x.MM {
			p.TupleStart(2)
			h.str(m.ID, shared)
			p.Int(int64(m.Offset))
			p.TupleEnd(2)
		}
		if x.HasSalt {
			h.str(x.Salt, shared)
		}
		p.TupleEnd(n)
	}
	p.TupleEnd(3)
	return p.End()
}

// str pickles s, as a memo reference when shared and s was pickled before in
// this object.
func (h *hasher) str(s string, shared bool) {
	if shared {
		for _, m := range h.strs {
			if m.s == s {
				h.pk.Get(m.idx)
				return
			}
		}
		h.strs = append(h.strs, strMemo{s, h.pk.Memo()})
	}
	h.pk.Str(s)
}

// block is hash_block_tokens.
func (h *hasher) block(parent []byte, tokens []uint32, x *ExtraKeys, shared bool) []byte {
	return h.digest(h.encode(parent, tokens, x, shared))
}
