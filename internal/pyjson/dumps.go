package pyjson

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Member is one member of an Object. It is an alias of an unnamed struct
// so that literals list key and value the way a Python dict literal does:
// Object{{"status", "ok"}, {"chunks", int64(3)}}.
type Member = struct {
	Key   string
	Value any
}

// Object is a JSON object whose members keep their order (a dict built in
// that order on the Python side).
type Object []Member

// Raw is JSON text written as it is.
type Raw string

// Dumps is json.dumps(v, ensure_ascii=False, separators=(",", ":")). It
// panics on a type it does not know (a bug of the caller).
func Dumps(v any) []byte {
	var b strings.Builder
	write(&b, v)
	return []byte(b.String())
}

func write(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(FloatRepr(x))
	case Float:
		b.WriteString(FloatRepr(float64(x)))
	case string:
		writeString(b, x)
	case *string:
		if x == nil {
			b.WriteString("null")
		} else {
			writeString(b, *x)
		}
	case Raw:
		b.WriteString(string(x))
	case []any:
		writeList(b, x, write)
	case []string:
		writeList(b, x, writeString)
	case []int64:
		writeList(b, x, func(b *strings.Builder, n int64) { b.WriteString(strconv.FormatInt(n, 10)) })
	case []Object:
		writeList(b, x, func(b *strings.Builder, o Object) { write(b, o) })
	case Object:
		writeMembers(b, len(x), func(i int) (string, any) { return x[i].Key, x[i].Value })
	case *Dict:
		writeMembers(b, len(x.Keys), func(i int) (string, any) { return x.Keys[i], x.Vals[x.Keys[i]] })
	default:
		panic(fmt.Sprintf("pyjson: cannot encode %T", v))
	}
}

func writeList[T any](b *strings.Builder, xs []T, each func(*strings.Builder, T)) {
	b.WriteByte('[')
	for i, e := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		each(b, e)
	}
	b.WriteByte(']')
}

func writeMembers(b *strings.Builder, n int, member func(int) (string, any)) {
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		k, v := member(i)
		writeString(b, k)
		b.WriteByte(':')
		write(b, v)
	}
	b.WriteByte('}')
}

func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[r>>4])
				b.WriteByte("0123456789abcdef"[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// FloatRepr is a float as json.dumps writes it: repr(float) on CPython 3,
// with NaN, Infinity and -Infinity for the values JSON has no number for.
func FloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// Str is str(v) for the JSON scalars (bool, Int, Float) pydantic v1
// coerces to str; "" for any other value.
func Str(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "True"
		}
		return "False"
	case Int:
		return x.String()
	case Float:
		f := float64(x)
		switch {
		case math.IsNaN(f):
			return "nan"
		case math.IsInf(f, 1):
			return "inf"
		case math.IsInf(f, -1):
			return "-inf"
		}
		return FloatRepr(f)
	}
	return ""
}

// Repr is repr(s) for a str, for the simple cases servers' messages
// contain: single quotes unless the text has one and no double quote.
func Repr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case string(r) == q:
			b.WriteString(`\` + q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}
