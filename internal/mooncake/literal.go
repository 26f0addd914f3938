package mooncake

import (
	"crypto/md5"
	"encoding/binary"
)

// Literal is a struct_pack type literal: the byte string that struct_pack
// derives from a C++ type at compile time and hashes into the 4-byte head of
// every message body (spec §3.3). Literals are built with the helpers below,
// exactly following the grammar, and never written down as magic numbers.
type Literal []byte

// Scalar literals (spec §3.3).
var (
	LitI32    = Literal{0x01} // int32_t, int, enums on int
	LitU32    = Literal{0x02}
	LitI64    = Literal{0x03} // int64_t, long (LP64)
	LitU64    = Literal{0x04} // uint64_t, size_t, uintptr_t
	LitI8     = Literal{0x05}
	LitU8     = Literal{0x06} // uint8_t, enums on uint8_t
	LitI16    = Literal{0x07}
	LitU16    = Literal{0x08}
	LitBool   = Literal{0x0B}
	LitChar   = Literal{0x0C}
	LitFloat  = Literal{0x11}
	LitDouble = Literal{0x12}
	LitVoid   = Literal{0xFA} // void and std::monostate
	// LitString is std::string: string_t (0x80) followed by its char type.
	LitString = Literal{0x80, 0x0C}
)

const (
	litTagString   = 0x80
	litTagArray    = 0x81
	litTagMap      = 0x82
	litTagSet      = 0x83
	litTagVector   = 0x84
	litTagOptional = 0x85
	litTagVariant  = 0x86
	litTagExpected = 0x87
	litTagStruct   = 0xFD
	litTagEnd      = 0xFF
)

func join(prefix byte, parts []Literal, suffix ...byte) Literal {
	n := 1 + len(suffix)
	for _, p := range parts {
		n += len(p)
	}
	out := make(Literal, 0, n)
	out = append(out, prefix)
	for _, p := range parts {
		out = append(out, p...)
	}
	return append(out, suffix...)
}

// Vec is the literal of a sequence container (std::vector<T>).
func Vec(elem Literal) Literal { return join(litTagVector, []Literal{elem}) }

// Set is the literal of a set container.
func Set(elem Literal) Literal { return join(litTagSet, []Literal{elem}) }

// Opt is the literal of std::optional<T>.
func Opt(elem Literal) Literal { return join(litTagOptional, []Literal{elem}) }

// Map is the literal of a map container <K,V>.
func Map(k, v Literal) Literal { return join(litTagMap, []Literal{k, v}) }

// Expected is the literal of tl::expected<T,E>; use LitVoid for a void T.
func Expected(v, e Literal) Literal { return join(litTagExpected, []Literal{v, e}) }

// Variant is the literal of std::variant<A...>.
func Variant(alts ...Literal) Literal { return join(litTagVariant, alts, litTagEnd) }

// Struct is the literal of a struct, std::pair or std::tuple that is not
// trivially serializable (has containers, or is declared with YLT_REFL).
func Struct(fields ...Literal) Literal { return join(litTagStruct, fields, litTagEnd) }

// TrivialStruct is the literal of a trivially serializable aggregate: the
// field literals followed by size(pack alignment) and size(alignment).
func TrivialStruct(packAlign, align uint64, fields ...Literal) Literal {
	suffix := appendLitSize(nil, packAlign)
	suffix = appendLitSize(suffix, align)
	return join(litTagStruct, fields, append(suffix, litTagEnd)...)
}

// Array is the literal of std::array<T,N>.
func Array(elem Literal, n uint64) Literal {
	return join(litTagArray, []Literal{elem}, appendLitSize(nil, n)...)
}

// Args is the literal of an RPC argument list: a single argument is not
// wrapped, two or more are a std::tuple (a struct). Zero arguments have no
// body at all and therefore no literal (nil).
func Args(args ...Literal) Literal {
	switch len(args) {
	case 0:
		return nil
	case 1:
		return args[0]
	}
	return Struct(args...)
}

// appendLitSize writes n in little-endian base-127 digits: every digit but
// the last is d+1, the last is d+129 (spec §3.3).
func appendLitSize(dst []byte, n uint64) []byte {
	for {
		d := n % 127
		n /= 127
		if n == 0 {
			return append(dst, byte(d+129))
		}
		dst = append(dst, byte(d+1))
	}
}

// Code returns struct_pack's type code: the first four bytes of MD5(literal)
// read big-endian, with bit 0 cleared.
func (l Literal) Code() uint32 {
	sum := md5.Sum(l)
	return binary.BigEndian.Uint32(sum[:4]) &^ 1
}

// FunctionPrefix is the qualified class name that prefixes every Mooncake RPC
// method name before hashing (spec §2).
const FunctionPrefix = "mooncake::WrappedMasterService::"

// FunctionID returns the coro_rpc function id of a WrappedMasterService
// method: MD5 of the qualified name, first four digest bytes big-endian.
func FunctionID(method string) uint32 {
	sum := md5.Sum([]byte(FunctionPrefix + method))
	return binary.BigEndian.Uint32(sum[:4])
}
