package mooncake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// struct_pack metainfo bits (spec §3.1).
const (
	metaCompatMask = 0x03 // compatible-length width: 0 none, 1 u16, 2 u32, 3 u64
	metaLiteral    = 0x04 // a NUL-terminated type literal follows
	metaWidthShift = 3    // bits 3-4: container length width (1, 2, 4, 8 bytes)
)

// BodyFormat selects how an Encoder lays out the envelope of a body.
type BodyFormat struct {
	// Tagged attaches the type literal after the metainfo byte, as builds
	// without NDEBUG do (the official mooncake_master always does, §6.6).
	Tagged bool
	// Width forces the container-length width (1, 2, 4 or 8 bytes) and
	// always writes a metainfo byte. Zero picks the narrowest width that
	// fits every length, writing metainfo only when it is needed.
	Width int
}

// Encoder writes a struct_pack payload. Pack functions are run twice: once
// in measuring mode to find the widest container length and the exact size,
// then again to write. The same pack function therefore drives both passes.
type Encoder struct {
	buf     []byte
	width   int
	measure bool
	maxLen  uint64
	fixed   int
	nlen    int
}

// U8 writes one byte.
func (e *Encoder) U8(v uint8) {
	if e.measure {
		e.fixed++
		return
	}
	e.buf = append(e.buf, v)
}

// Bool writes a bool as 0 or 1.
func (e *Encoder) Bool(v bool) {
	if v {
		e.U8(1)
	} else {
		e.U8(0)
	}
}

// U16 writes a little-endian uint16.
func (e *Encoder) U16(v uint16) {
	if e.measure {
		e.fixed += 2
		return
	}
	e.buf = binary.LittleEndian.AppendUint16(e.buf, v)
}

// U32 writes a little-endian uint32.
func (e *Encoder) U32(v uint32) {
	if e.measure {
		e.fixed += 4
		return
	}
	e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
}

// I32 writes a little-endian int32.
func (e *Encoder) I32(v int32) { e.U32(uint32(v)) }

// U64 writes a little-endian uint64.
func (e *Encoder) U64(v uint64) {
	if e.measure {
		e.fixed += 8
		return
	}
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
}

// I64 writes a little-endian int64.
func (e *Encoder) I64(v int64) { e.U64(uint64(v)) }

// Len writes a container length (string bytes or element count) at the
// message-wide width.
func (e *Encoder) Len(n int) {
	if e.measure {
		e.nlen++
		if uint64(n) > e.maxLen {
			e.maxLen = uint64(n)
		}
		return
	}
	switch e.width {
	case 1:
		e.buf = append(e.buf, byte(n))
	case 2:
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(n))
	case 4:
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(n))
	default:
		e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(n))
	}
}

// Str writes a std::string: length, then the raw bytes.
func (e *Encoder) Str(s string) {
	e.Len(len(s))
	if e.measure {
		e.fixed += len(s)
		return
	}
	e.buf = append(e.buf, s...)
}

// Strings writes a std::vector<std::string>.
func (e *Encoder) Strings(v []string) {
	e.Len(len(v))
	for _, s := range v {
		e.Str(s)
	}
}

// widthFor returns the narrowest length width for a maximum length.
func widthFor(max uint64) int {
	switch {
	case max < 1<<8:
		return 1
	case max < 1<<16:
		return 2
	case max < 1<<32:
		return 4
	}
	return 8
}

func widthBits(w int) byte {
	switch w {
	case 1:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	}
	return 3
}

// AppendBody appends a complete struct_pack body for a value of type lit,
// whose payload is written by pack, to dst. A nil lit means "no arguments":
// nothing is appended, as coro_rpc sends an empty body.
func AppendBody(dst []byte, lit Literal, f BodyFormat, pack func(*Encoder)) []byte {
	if lit == nil {
		return dst
	}
	m := Encoder{measure: true}
	if pack != nil {
		pack(&m)
	}
	width := widthFor(m.maxLen)
	meta := f.Tagged || width > 1
	if f.Width != 0 {
		if f.Width > width {
			width = f.Width
		}
		meta = true
	}
	size := 4 + m.fixed + m.nlen*width
	if meta {
		size++
		if f.Tagged {
			size += len(lit) + 1
		}
	}
	if cap(dst)-len(dst) < size {
		nd := make([]byte, len(dst), len(dst)+size)
		copy(nd, dst)
		dst = nd
	}
	head := lit.Code()
	if meta {
		head |= 1
	}
	dst = binary.LittleEndian.AppendUint32(dst, head)
	if meta {
		mb := widthBits(width) << metaWidthShift
		if f.Tagged {
			mb |= metaLiteral
		}
		dst = append(dst, mb)
		if f.Tagged {
			dst = append(dst, lit...)
			dst = append(dst, 0)
		}
	}
	e := Encoder{buf: dst, width: width}
	if pack != nil {
		pack(&e)
	}
	return e.buf
}

// Decoder reads a struct_pack payload. Errors are sticky: after the first
// failure every read returns a zero value and Err reports the failure. A
// Decoder never panics and never allocates more than the input can back:
// every length is checked against the bytes that remain.
type Decoder struct {
	b      []byte
	off    int
	base   int
	width  int
	err    error
	method string // named in errors
	compat bool   // metainfo declared a compatible section (may follow the payload)
	// alias makes Str return strings that share the body's bytes instead
	// of copies. Only for bodies nothing writes to afterwards (the Client's
	// replies, each read into its own buffer): a reply then costs its bytes
	// once, and its decoded strings keep the buffer alive.
	alias bool
	// replicasLeft, when budgeted, is how many more replicas the reply may
	// list (a batch's average budget, see limits.go).
	replicasLeft int
	budgeted     bool
}

// NewPayloadDecoder returns a Decoder over a bare payload (no envelope)
// using the given length width. base is added to error offsets.
func NewPayloadDecoder(payload []byte, width, base int) *Decoder {
	return &Decoder{b: payload, width: width, base: base}
}

// OpenBody parses the envelope of body (hash head, optional metainfo, compat
// length and type literal) and returns a Decoder positioned at the payload.
// The body must carry the type code of one of lits; the index of the matching
// literal is returned so callers can accept several schema versions. A body
// whose hash matches none of them yields a *ProtocolError wrapping
// ErrTypeMismatch. base is added to error offsets (use the header size when
// body came from a frame).
func OpenBody(body []byte, base int, lits ...Literal) (int, *Decoder, error) {
	d := &Decoder{b: body, base: base, width: 1}
	if len(body) < 4 {
		return -1, nil, d.errAt(0, fmt.Sprintf("body of %d bytes has no 4-byte hash head", len(body)), nil)
	}
	head := binary.LittleEndian.Uint32(body)
	idx := -1
	for i, l := range lits {
		if l.Code()>>1 == head>>1 {
			idx = i
			break
		}
	}
	if idx < 0 {
		return -1, nil, d.errAt(0, fmt.Sprintf("type hash 0x%08x, want %s", head&^1, codeList(lits)), ErrTypeMismatch)
	}
	d.off = 4
	if head&1 != 0 {
		meta := d.U8()
		if d.err != nil {
			return -1, nil, d.err
		}
		d.compat = meta&metaCompatMask != 0
		switch meta & metaCompatMask {
		case 1:
			d.skip(2)
		case 2:
			d.skip(4)
		case 3:
			d.skip(8)
		}
		if meta&metaLiteral != 0 {
			lit := lits[idx]
			at := d.off
			if !d.need(len(lit) + 1) {
				return -1, nil, d.err
			}
			got := d.b[d.off : d.off+len(lit)+1]
			if !bytes.Equal(got[:len(lit)], lit) || got[len(lit)] != 0 {
				return -1, nil, d.errAt(at, fmt.Sprintf("type literal % x does not match % x", clip(got, 64), []byte(lit)), ErrTypeMismatch)
			}
			d.off += len(lit) + 1
		}
		if meta&^(metaCompatMask|metaLiteral|3<<metaWidthShift) != 0 {
			return -1, nil, d.errAt(4, fmt.Sprintf("unknown metainfo bits 0x%02x", meta), nil)
		}
		d.width = 1 << ((meta >> metaWidthShift) & 3)
		if d.err != nil {
			return -1, nil, d.err
		}
	}
	return idx, d, nil
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func codeList(lits []Literal) string {
	var b bytes.Buffer
	for i, l := range lits {
		if i > 0 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "0x%08x", l.Code())
	}
	return b.String()
}

func (d *Decoder) errAt(off int, msg string, wrapped error) error {
	if d.err == nil {
		d.err = &ProtocolError{Method: d.method, Offset: d.base + off, Msg: msg, Err: wrapped}
	}
	return d.err
}

func (d *Decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b)-d.off < n {
		d.errAt(d.off, fmt.Sprintf("need %d bytes, %d left", n, len(d.b)-d.off), ErrShortBody)
		return false
	}
	return true
}

func (d *Decoder) skip(n int) {
	if d.need(n) {
		d.off += n
	}
}

// Err returns the first decoding error, if any.
func (d *Decoder) Err() error { return d.err }

// Finish ends the decoding of a reply: it returns the first decoding error,
// or a *ProtocolError wrapping ErrTrailingData when bytes follow the value
// (a complete answer is the whole body; only a body whose metainfo declares
// a struct_pack compatible section may carry more).
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if n := len(d.b) - d.off; n > 0 && !d.compat {
		return d.errAt(d.off, fmt.Sprintf("%d bytes follow the end of the reply's value", n), ErrTrailingData)
	}
	return nil
}

// contradiction records a semantic error at offset at.
func (d *Decoder) contradiction(at int, msg string) {
	d.errAt(at, msg, ErrContradiction)
}

// Offset returns the current position relative to the start of the body.
func (d *Decoder) Offset() int { return d.off }

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Width returns the container-length width in bytes declared by the body.
func (d *Decoder) Width() int { return d.width }

// Fail records a semantic decoding error at the current offset.
func (d *Decoder) Fail(msg string) { d.errAt(d.off, msg, nil) }

// U8 reads one byte.
func (d *Decoder) U8() uint8 {
	if d.err == nil && d.off < len(d.b) {
		v := d.b[d.off]
		d.off++
		return v
	}
	d.need(1)
	return 0
}

// Bool reads a bool; values other than 0 and 1 are a protocol error.
func (d *Decoder) Bool() bool {
	v := d.U8()
	if v > 1 {
		d.errAt(d.off-1, fmt.Sprintf("bool byte 0x%02x", v), nil)
		return false
	}
	return v == 1
}

// U16 reads a little-endian uint16.
func (d *Decoder) U16() uint16 {
	if !d.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b[d.off:])
	d.off += 2
	return v
}

// U32 reads a little-endian uint32.
func (d *Decoder) U32() uint32 {
	if d.err != nil || len(d.b)-d.off < 4 {
		d.need(4)
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

// I32 reads a little-endian int32.
func (d *Decoder) I32() int32 { return int32(d.U32()) }

// U64 reads a little-endian uint64.
func (d *Decoder) U64() uint64 {
	if d.err != nil || len(d.b)-d.off < 8 {
		d.need(8)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

// I64 reads a little-endian int64.
func (d *Decoder) I64() int64 { return int64(d.U64()) }

// Len reads a container length and checks that the remaining bytes can hold
// that many elements of at least minElem bytes each, so a hostile length can
// never make the caller allocate more than the input backs.
func (d *Decoder) Len(minElem int) int {
	at := d.off
	var n uint64
	switch d.width {
	case 1:
		n = uint64(d.U8())
	case 2:
		n = uint64(d.U16())
	case 4:
		n = uint64(d.U32())
	default:
		n = d.U64()
	}
	if d.err != nil {
		return 0
	}
	if minElem < 1 {
		minElem = 1
	}
	if n > math.MaxInt32 || n*uint64(minElem) > uint64(len(d.b)-d.off) {
		d.errAt(at, fmt.Sprintf("length %d exceeds the %d bytes left", n, len(d.b)-d.off), ErrShortBody)
		return 0
	}
	return int(n)
}

// Str reads a std::string.
func (d *Decoder) Str() string {
	n := d.Len(1)
	if d.err != nil || n == 0 {
		return ""
	}
	var s string
	if d.alias {
		s = unsafe.String(&d.b[d.off], n)
	} else {
		s = string(d.b[d.off : d.off+n])
	}
	d.off += n
	return s
}

// Strings reads a std::vector<std::string>.
func (d *Decoder) Strings() []string {
	n := d.Len(d.width)
	if d.err != nil {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.Str())
	}
	if d.err != nil {
		return nil
	}
	return out
}

// Option reads the has_value byte of a std::optional or tl::expected.
func (d *Decoder) Option() bool { return d.Bool() }
