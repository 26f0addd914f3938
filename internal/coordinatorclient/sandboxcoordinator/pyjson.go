package sandboxcoordinator

// This file reproduces, in Go, the parts of CPython's json module and of
// FastAPI's JSON response rendering that are visible on the wire: the
// messages and character offsets of json.JSONDecodeError (which FastAPI
// returns inside a 422 json_invalid entry), and json.dumps(ensure_ascii=False,
// separators=(",", ":")) for response bodies. It is the same code as the
// controller fake's (sandboxcontroller/pyjson.go); both fakes keep their
// own copy so that neither ships the other.

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyInt is a Python int decoded from JSON. Small values live in v; values
// outside the int64 range keep their decimal text in big.
type pyInt struct {
	v   int64
	big *big.Int
}

// pyFloat is a Python float decoded from JSON (may be ±Inf or NaN).
type pyFloat float64

// pyObj is a Python dict decoded from JSON: insertion-ordered, later
// duplicates overwrite the value but keep the first position.
type pyObj struct {
	keys []string
	vals map[string]any
}

func (o *pyObj) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[k]
	return v, ok
}

func (o *pyObj) set(k string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// pyDecodeError mirrors json.JSONDecodeError.
type pyDecodeError struct {
	msg    string
	doc    string
	pos    int // in characters (code points), like Python
	lineno int
	colno  int
}

func (e *pyDecodeError) Error() string {
	return e.msg + ": line " + strconv.Itoa(e.lineno) + " column " + strconv.Itoa(e.colno) +
		" (char " + strconv.Itoa(e.pos) + ")"
}

// errNotJSONDecode marks failures that CPython raises as something other
// than JSONDecodeError (FastAPI turns those into 400).
type errNotJSONDecode struct{ reason string }

func (e *errNotJSONDecode) Error() string { return e.reason }

// pyIntMaxDigits is CPython's default int max_str_digits (3.11+).
const pyIntMaxDigits = 4300

type pyParser struct {
	s   []rune
	doc string
}

// pyLoads parses body the way json.loads(bytes) does. It returns a
// *pyDecodeError for JSON syntax errors and *errNotJSONDecode for
// encoding problems and oversized integers.
func pyLoads(body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, &errNotJSONDecode{"invalid utf-8"}
	}
	str := string(body)
	// json.loads on bytes decodes with utf-8-sig when a BOM is present.
	str = strings.TrimPrefix(str, "\ufeff")
	p := &pyParser{s: []rune(str), doc: str}
	idx := p.ws(0)
	v, end, err := p.scanOnce(idx)
	if err != nil {
		return nil, err
	}
	end = p.ws(end)
	if end != len(p.s) {
		return nil, p.errAt("Extra data", end)
	}
	return v, nil
}

func (p *pyParser) errAt(msg string, pos int) *pyDecodeError {
	lineno := 1
	last := -1
	for i := 0; i < pos && i < len(p.s); i++ {
		if p.s[i] == '\n' {
			lineno++
			last = i
		}
	}
	return &pyDecodeError{msg: msg, doc: p.doc, pos: pos, lineno: lineno, colno: pos - last}
}

func (p *pyParser) ws(i int) int {
	for i < len(p.s) {
		switch p.s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *pyParser) hasPrefix(i int, lit string) bool {
	r := []rune(lit)
	if i+len(r) > len(p.s) {
		return false
	}
	for k := range r {
		if p.s[i+k] != r[k] {
			return false
		}
	}
	return true
}

// stopIteration is the scanner's "no value here" signal; callers turn it
// into "Expecting value" at the given index.
type stopIteration struct{ idx int }

func (stopIteration) Error() string { return "stop" }

func (p *pyParser) scanOnce(idx int) (any, int, error) {
	v, end, err := p.scan(idx)
	if si, ok := err.(stopIteration); ok {
		return nil, 0, p.errAt("Expecting value", si.idx)
	}
	return v, end, err
}

func (p *pyParser) scan(idx int) (any, int, error) {
	if idx >= len(p.s) {
		return nil, 0, stopIteration{idx}
	}
	switch c := p.s[idx]; {
	case c == '"':
		return p.scanString(idx + 1)
	case c == '{':
		return p.parseObject(idx + 1)
	case c == '[':
		return p.parseArray(idx + 1)
	case c == 'n' && p.hasPrefix(idx, "null"):
		return nil, idx + 4, nil
	case c == 't' && p.hasPrefix(idx, "true"):
		return true, idx + 4, nil
	case c == 'f' && p.hasPrefix(idx, "false"):
		return false, idx + 5, nil
	}
	if v, end, ok, err := p.matchNumber(idx); ok || err != nil {
		return v, end, err
	}
	switch {
	case p.hasPrefix(idx, "NaN"):
		return pyFloat(math.NaN()), idx + 3, nil
	case p.hasPrefix(idx, "Infinity"):
		return pyFloat(math.Inf(1)), idx + 8, nil
	case p.hasPrefix(idx, "-Infinity"):
		return pyFloat(math.Inf(-1)), idx + 9, nil
	}
	return nil, 0, stopIteration{idx}
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// matchNumber implements NUMBER_RE = (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?
func (p *pyParser) matchNumber(idx int) (any, int, bool, error) {
	i := idx
	if i < len(p.s) && p.s[i] == '-' {
		i++
	}
	if i >= len(p.s) || !isDigit(p.s[i]) {
		return nil, 0, false, nil
	}
	if p.s[i] == '0' {
		i++
	} else {
		for i < len(p.s) && isDigit(p.s[i]) {
			i++
		}
	}
	intEnd := i
	isFloat := false
	if i+1 < len(p.s) && p.s[i] == '.' && isDigit(p.s[i+1]) {
		i += 2
		for i < len(p.s) && isDigit(p.s[i]) {
			i++
		}
		isFloat = true
	}
	if i < len(p.s) && (p.s[i] == 'e' || p.s[i] == 'E') {
		j := i + 1
		if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
			j++
		}
		if j < len(p.s) && isDigit(p.s[j]) {
			for j < len(p.s) && isDigit(p.s[j]) {
				j++
			}
			i = j
			isFloat = true
		}
	}
	text := string(p.s[idx:i])
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			// Overflow: Python yields ±inf, underflow 0.0.
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return pyFloat(f), i, true, nil
			}
			return nil, 0, true, &errNotJSONDecode{"bad float"}
		}
		return pyFloat(f), i, true, nil
	}
	digits := intEnd - idx
	if p.s[idx] == '-' {
		digits--
	}
	if digits > pyIntMaxDigits {
		return nil, 0, true, &errNotJSONDecode{"int too long"}
	}
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return pyInt{v: v}, i, true, nil
	}
	b, _ := new(big.Int).SetString(text, 10)
	return pyInt{big: b}, i, true, nil
}

func (p *pyParser) parseObject(idx int) (any, int, error) {
	obj := &pyObj{vals: map[string]any{}}
	idx = p.ws(idx)
	if idx < len(p.s) && p.s[idx] == '}' {
		return obj, idx + 1, nil
	}
	for {
		if idx >= len(p.s) || p.s[idx] != '"' {
			return nil, 0, p.errAt("Expecting property name enclosed in double quotes", idx)
		}
		k, end, err := p.scanString(idx + 1)
		if err != nil {
			return nil, 0, err
		}
		idx = p.ws(end)
		if idx >= len(p.s) || p.s[idx] != ':' {
			return nil, 0, p.errAt("Expecting ':' delimiter", idx)
		}
		idx = p.ws(idx + 1)
		v, end, err := p.scanOnce(idx)
		if err != nil {
			return nil, 0, err
		}
		obj.set(k.(string), v)
		idx = p.ws(end)
		if idx < len(p.s) && p.s[idx] == '}' {
			return obj, idx + 1, nil
		}
		if idx >= len(p.s) || p.s[idx] != ',' {
			return nil, 0, p.errAt("Expecting ',' delimiter", idx)
		}
		idx = p.ws(idx + 1)
	}
}

func (p *pyParser) parseArray(idx int) (any, int, error) {
	arr := []any{}
	idx = p.ws(idx)
	if idx < len(p.s) && p.s[idx] == ']' {
		return arr, idx + 1, nil
	}
	for {
		v, end, err := p.scanOnce(idx)
		if err != nil {
			return nil, 0, err
		}
		arr = append(arr, v)
		idx = p.ws(end)
		if idx < len(p.s) && p.s[idx] == ']' {
			return arr, idx + 1, nil
		}
		if idx >= len(p.s) || p.s[idx] != ',' {
			return nil, 0, p.errAt("Expecting ',' delimiter", idx)
		}
		idx = p.ws(idx + 1)
	}
}

func hexVal(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'F':
		return int(r-'A') + 10
	}
	return -1
}

func (p *pyParser) hex4(i int) (rune, bool) {
	if i+4 > len(p.s) {
		return 0, false
	}
	var v rune
	for k := 0; k < 4; k++ {
		h := hexVal(p.s[i+k])
		if h < 0 {
			return 0, false
		}
		v = v<<4 | rune(h)
	}
	return v, true
}

// scanString follows _json.c scanstring_unicode with strict=True; end is
// the index just after the opening quote.
func (p *pyParser) scanString(end int) (any, int, error) {
	begin := end - 1
	var b strings.Builder
	for {
		if end >= len(p.s) {
			return nil, 0, p.errAt("Unterminated string starting at", begin)
		}
		c := p.s[end]
		if c == '"' {
			return b.String(), end + 1, nil
		}
		if c != '\\' {
			if c <= 0x1f {
				return nil, 0, p.errAt("Invalid control character at", end)
			}
			b.WriteRune(c)
			end++
			continue
		}
		// backslash
		if end+1 >= len(p.s) {
			return nil, 0, p.errAt("Unterminated string starting at", begin)
		}
		esc := p.s[end+1]
		if esc != 'u' {
			var r rune
			switch esc {
			case '"':
				r = '"'
			case '\\':
				r = '\\'
			case '/':
				r = '/'
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			default:
				return nil, 0, p.errAt("Invalid \\escape", end)
			}
			b.WriteRune(r)
			end += 2
			continue
		}
		u, ok := p.hex4(end + 2)
		if !ok {
			return nil, 0, p.errAt("Invalid \\uXXXX escape", end+1)
		}
		end += 6
		if u >= 0xd800 && u <= 0xdbff && end+1 < len(p.s) && p.s[end] == '\\' && p.s[end+1] == 'u' {
			if lo, ok := p.hex4(end + 2); ok && lo >= 0xdc00 && lo <= 0xdfff {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)
				end += 6
			}
		}
		if u >= 0xd800 && u <= 0xdfff {
			// A lone surrogate; Go strings cannot carry it.
			u = utf8.RuneError
		}
		b.WriteRune(u)
	}
}

// ---------------------------------------------------------------------------
// Output: json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

// ordered is a JSON object whose keys keep their order.
type ordered []kv

type kv struct {
	k string
	v any
}

type rawJSON string

func pyDumps(v any) []byte {
	var b strings.Builder
	writePy(&b, v)
	return []byte(b.String())
}

func writePy(b *strings.Builder, v any) {
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
	case pyInt:
		b.WriteString(x.String())
	case float64:
		b.WriteString(pyFloatRepr(x))
	case pyFloat:
		b.WriteString(pyFloatRepr(float64(x)))
	case string:
		writePyString(b, x)
	case *string:
		if x == nil {
			b.WriteString("null")
		} else {
			writePyString(b, *x)
		}
	case rawJSON:
		b.WriteString(string(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writePy(b, e)
		}
		b.WriteByte(']')
	case []int64:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(e, 10))
		}
		b.WriteByte(']')
	case []ordered:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writePy(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writePyString(b, e)
		}
		b.WriteByte(']')
	case ordered:
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writePyString(b, e.k)
			b.WriteByte(':')
			writePy(b, e.v)
		}
		b.WriteByte('}')
	case *pyObj:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writePyString(b, k)
			b.WriteByte(':')
			writePy(b, x.vals[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("sandboxcoordinator: cannot encode %T", v))
	}
}

func writePyString(b *strings.Builder, s string) {
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

func (i pyInt) String() string {
	if i.big != nil {
		return i.big.String()
	}
	return strconv.FormatInt(i.v, 10)
}

// pyFloatRepr is repr(float) on CPython 3.
func pyFloatRepr(f float64) string {
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
