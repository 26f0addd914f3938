package mooncake

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"lmc/internal/jsonscan"
)

// A small walker over JSON that encoding/json has already accepted (every
// admin answer is validated first: decodeJSONOnce or json.Valid): it finds
// an object's members without decoding them, so that checkKeys and
// queryPage do not step encoding/json's scanner and token machinery
// through the answer once per check. It never validates: given JSON that
// encoding/json rejected its results are meaningless, and callers never
// give it such input.

// jsonObject walks the object at the start of raw (after any space). For
// each member fn gets the key's literal, the offset just after it (where
// json.Decoder's InputOffset stands after returning the key token), and
// raw from the member's value on; fn returns the value's length, or -1 to
// have it skipped. jsonObject returns the offset after the object, and
// false when raw does not start with an object.
func jsonObject(raw []byte, fn func(key jsonKeyLit, keyEnd int, rest []byte) (int, error)) (int, bool, error) {
	i := jsonscan.Space(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return 0, false, nil
	}
	i = jsonscan.Space(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return i + 1, true, nil
	}
	for i < len(raw) {
		ks := i
		i = jsonStringEnd(raw, i)
		key := jsonKeyLit(raw[ks:i])
		keyEnd := i
		i = jsonscan.Space(raw, jsonscan.Space(raw, i)+1) // past ':'
		n, err := fn(key, keyEnd, raw[i:])
		if err != nil {
			return i, true, err
		}
		if n < 0 {
			n = jsonValueEnd(raw[i:], 0)
		}
		i = jsonscan.Space(raw, i+n)
		if i >= len(raw) || raw[i] != ',' {
			return i + 1, true, nil // '}'
		}
		i = jsonscan.Space(raw, i+1)
	}
	return i, true, nil
}

// jsonMembers is jsonObject for callers that want each key decoded and
// each value whole.
func jsonMembers(raw []byte, fn func(key string, keyEnd int, val []byte) error) (bool, error) {
	_, ok, err := jsonObject(raw, func(k jsonKeyLit, keyEnd int, rest []byte) (int, error) {
		n := jsonValueEnd(rest, 0)
		return n, fn(k.String(), keyEnd, rest[:n])
	})
	return ok, err
}

// jsonKeyLit is a key's string literal, quotes included.
type jsonKeyLit []byte

// plain is the key's text when the literal has no escape (nil otherwise).
func (k jsonKeyLit) plain() []byte {
	body := k[1 : len(k)-1]
	if bytes.IndexByte(body, '\\') >= 0 {
		return nil
	}
	return body
}

// is reports whether the key is name (the decoded key, exactly).
func (k jsonKeyLit) is(name string) bool {
	if p := k.plain(); p != nil {
		return string(p) == name
	}
	return k.String() == name
}

// String decodes the key (through encoding/json when it holds an escape,
// so that the result is exactly the token's).
func (k jsonKeyLit) String() string {
	if p := k.plain(); p != nil {
		return string(p)
	}
	var s string
	_ = json.Unmarshal(k, &s)
	return s
}

// jsonStringEnd and jsonValueEnd are jsonscan's on JSON decoded before,
// where every end is found.
func jsonStringEnd(raw []byte, i int) int { e, _ := jsonscan.StringEnd(raw, i); return e }

func jsonValueEnd(raw []byte, i int) int { e, _ := jsonscan.ValueEnd(raw, i); return e }

// keyList is an object's keys in order, with the offset after each, for
// checkKeys' rules (also applied to keys another walk collected).
type keyList struct {
	keys  []jsonKeyLit
	ascii [][]byte // the key's text when plain ASCII, else nil
	ends  []int
	fix   [8]jsonKeyLit
	fixA  [8][]byte
	fixE  [8]int
}

func (l *keyList) add(k jsonKeyLit, end int) {
	if l.keys == nil {
		l.keys, l.ascii, l.ends = l.fix[:0], l.fixA[:0], l.fixE[:0]
	}
	l.keys = append(l.keys, k)
	l.ascii = append(l.ascii, k.asciiKey())
	l.ends = append(l.ends, end)
}

// check refuses a key that appears twice (compared by strings.ToLower) or
// that differs only in case (strings.EqualFold) from one of known: the
// first such key, in order. ASCII keys, the usual ones, are compared in
// place; others through their decoded strings.
func (l *keyList) check(path string, known ...string) error {
	var seen map[string]bool
	if len(l.keys) > 16 {
		seen = make(map[string]bool, len(l.keys))
	}
	for i, k := range l.keys {
		dup := false
		if seen != nil {
			lk := strings.ToLower(k.String())
			dup = seen[lk]
			seen[lk] = true
		} else {
			for j := range i {
				if l.sameLower(j, i) {
					dup = true
					break
				}
			}
		}
		if dup {
			return &ProtocolError{Method: path, Offset: l.ends[i], Err: ErrContradiction, Msg: "field " + strconv.Quote(k.String()) + " appears twice"}
		}
		for _, n := range known {
			if l.foldNotEqual(i, n) {
				return &ProtocolError{Method: path, Offset: l.ends[i], Msg: "field " + strconv.Quote(k.String()) + " is not " + strconv.Quote(n)}
			}
		}
	}
	return nil
}

// sameLower is strings.ToLower(key i) == strings.ToLower(key j).
func (l *keyList) sameLower(i, j int) bool {
	x, y := l.ascii[i], l.ascii[j]
	if x == nil || y == nil {
		return strings.ToLower(l.keys[i].String()) == strings.ToLower(l.keys[j].String())
	}
	if len(x) != len(y) {
		return false
	}
	for b := range x {
		if lowerASCII(x[b]) != lowerASCII(y[b]) {
			return false
		}
	}
	return true
}

// foldNotEqual is k != n && strings.EqualFold(k, n) for key i.
func (l *keyList) foldNotEqual(i int, n string) bool {
	x := l.ascii[i]
	if x == nil || !isASCII(n) {
		ks := l.keys[i].String()
		return ks != n && strings.EqualFold(ks, n)
	}
	if len(x) != len(n) || string(x) == n {
		return false
	}
	for b := range x {
		if lowerASCII(x[b]) != lowerASCII(n[b]) {
			return false
		}
	}
	return true
}

// asciiKey is the key's text when it is plain ASCII (nil otherwise).
func (k jsonKeyLit) asciiKey() []byte {
	p := k.plain()
	for _, c := range p {
		if c >= 0x80 {
			return nil
		}
	}
	return p
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
