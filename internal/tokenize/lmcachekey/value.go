package lmcachekey

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

type valueKind uint8

const (
	kindInt   valueKind = iota // a Python int in the int64 range (builtin hashes)
	kindUint                   // a Python int in 2^63..2^64-1 (legacy uint64 digests)
	kindBytes                  // a bytes digest (sha256*, xxhash*, blake3)
	kindBig                    // a non-negative Python int of up to 256 bits, big-endian in b[:n] (vLLM 0.10.0/0.10.1 sha256)
)

// Value is one prefix hash as LMCache holds it in Python: an int for the
// builtin and legacy 64-bit algorithms, a bytes digest for vLLM's digest
// functions. The zero Value is the int 0.
type Value struct {
	kind valueKind
	i    int64
	u    uint64
	n    uint8
	b    [32]byte
}

// IntValue is the Python int v.
func IntValue(v int64) Value { return Value{kind: kindInt, i: v} }

// UintValue is the Python int v (non-negative, up to 2^64-1).
func UintValue(v uint64) Value {
	if v <= 1<<63-1 {
		return Value{kind: kindInt, i: int64(v)}
	}
	return Value{kind: kindUint, u: v}
}

// BytesValue is a bytes digest of at most 32 bytes.
func BytesValue(b []byte) Value {
	if len(b) > 32 {
		panic("tokenize: digest longer than 32 bytes")
	}
	v := Value{kind: kindBytes, n: uint8(len(b))}
	copy(v.b[:], b)
	return v
}

// BigValue is the non-negative Python int int.from_bytes(be, "big") for up
// to 32 bytes (vLLM 0.10.0/0.10.1 returned sha256 digests this way).
func BigValue(be []byte) Value {
	for len(be) > 0 && be[0] == 0 {
		be = be[1:]
	}
	if len(be) <= 8 {
		var u uint64
		for _, c := range be {
			u = u<<8 | uint64(c)
		}
		return UintValue(u)
	}
	v := Value{kind: kindBig, n: uint8(len(be))}
	copy(v.b[:], be)
	return v
}

// IsBytes reports whether v is a bytes digest.
func (v Value) IsBytes() bool { return v.kind == kindBytes }

// Bytes returns the digest bytes (nil for an int).
func (v Value) Bytes() []byte {
	if v.kind != kindBytes {
		return nil
	}
	return append([]byte(nil), v.b[:v.n]...)
}

// Equal reports whether two values are the same Python object value.
func (v Value) Equal(o Value) bool {
	if v.kind != o.kind {
		return false
	}
	switch v.kind {
	case kindInt:
		return v.i == o.i
	case kindUint:
		return v.u == o.u
	}
	return v.n == o.n && v.b == o.b // bytes and big ints
}

func (v Value) appendHex(b []byte) []byte {
	switch v.kind {
	case kindInt:
		if v.i < 0 {
			return strconv.AppendUint(append(b, '-'), uint64(-(v.i+1))+1, 16)
		}
		return strconv.AppendInt(b, v.i, 16)
	case kindUint:
		return strconv.AppendUint(b, v.u, 16)
	case kindBig:
		h := hex.EncodeToString(v.b[:v.n])
		return append(b, strings.TrimLeft(h, "0")...)
	}
	return hex.AppendEncode(b, v.b[:v.n])
}

func (v Value) appendDecimal(b []byte) []byte {
	switch v.kind {
	case kindInt:
		return strconv.AppendInt(b, v.i, 10)
	case kindUint:
		return strconv.AppendUint(b, v.u, 10)
	case kindBig:
		return new(big.Int).SetBytes(v.b[:v.n]).Append(b, 10)
	}
	return b
}

// Hex renders v the way LMCache's CacheEngineKey.to_string does: bytes with
// .hex() (two lowercase digits per byte), ints with format(h, "x") (no
// padding, "-" prefix when negative).
func (v Value) Hex() string {
	switch v.kind {
	case kindInt:
		if v.i < 0 {
			// -(int64 min) overflows; go through uint64.
			return "-" + strconv.FormatUint(uint64(-(v.i+1))+1, 16)
		}
		return strconv.FormatInt(v.i, 16)
	case kindUint:
		return strconv.FormatUint(v.u, 16)
	case kindBig:
		return string(v.appendHex(nil))
	}
	return hex.EncodeToString(v.b[:v.n])
}

// Decimal renders an int value as Python's str(int); for bytes it returns "".
func (v Value) Decimal() string {
	switch v.kind {
	case kindInt:
		return strconv.FormatInt(v.i, 10)
	case kindUint:
		return strconv.FormatUint(v.u, 10)
	case kindBig:
		return string(v.appendDecimal(nil))
	}
	return ""
}

// String is Hex for digests and the decimal form for ints (as Python's repr).
func (v Value) String() string {
	if v.kind == kindBytes {
		return v.Hex()
	}
	return v.Decimal()
}

// TypeName is "int" or "bytes", as Python would call it.
func (v Value) TypeName() string {
	if v.kind == kindBytes {
		return fmt.Sprintf("bytes[%d]", v.n)
	}
	return "int"
}

// be8 is the int as 8 bytes big-endian two's complement (the MP-mode
// rendering of int hashes); ok is false for bytes.
func (v Value) be8() (out [8]byte, ok bool) {
	switch v.kind {
	case kindInt:
		binary.BigEndian.PutUint64(out[:], uint64(v.i))
		return out, true
	case kindUint:
		binary.BigEndian.PutUint64(out[:], v.u)
		return out, true
	}
	return out, false
}

// ParseValue parses a NONE_HASH given on the command line: a decimal int
// ("0", "-8725679818400927698", "17921330210090130494"), a 0x-prefixed hex
// int, or a hex digest of 16 or 32 bytes (32 or 64 hex digits, the form
// keys show).
func ParseValue(s string) (Value, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Value{}, fmt.Errorf("empty value")
	}
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, ok := new(big.Int).SetString(h, 16)
		if !ok || n.Sign() < 0 || n.BitLen() > 256 {
			return Value{}, fmt.Errorf("%q is not a hex int below 2^256", s)
		}
		return BigValue(n.Bytes()), nil
	}
	if (len(s) == 32 || len(s) == 64) && isHex(s) && !isDecimal(s) {
		b, _ := hex.DecodeString(s)
		return BytesValue(b), nil
	}
	if (len(s) == 32 || len(s) == 64) && isDecimal(s) {
		// 32+ decimal digits cannot be an int64/uint64: read as a digest.
		b, _ := hex.DecodeString(s)
		return BytesValue(b), nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return IntValue(i), nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return UintValue(u), nil
	}
	if n, ok := new(big.Int).SetString(s, 10); ok {
		if n.Sign() >= 0 && n.BitLen() <= 256 {
			return BigValue(n.Bytes()), nil
		}
		return Value{}, fmt.Errorf("%s is outside 0..2^256-1 and the int64 range", n)
	}
	return Value{}, fmt.Errorf("%q is neither a decimal int, a 0x hex int, nor a 32/64-digit hex digest", s)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
