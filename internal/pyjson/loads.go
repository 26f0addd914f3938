package pyjson

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Int is a Python int decoded from JSON. Values within int64 live in V;
// larger ones in Big (V is then 0).
type Int struct {
	V   int64
	Big *big.Int
}

func (i Int) String() string {
	if i.Big != nil {
		return i.Big.String()
	}
	return strconv.FormatInt(i.V, 10)
}

// Float is a Python float decoded from JSON (may be ±Inf or NaN).
type Float float64

// Dict is a Python dict decoded from JSON: Keys in insertion order, a
// later duplicate overwriting the value but keeping the first position.
type Dict struct {
	Keys []string
	Vals map[string]any
}

// Get returns the value of k (a nil *Dict has none).
func (o *Dict) Get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.Vals[k]
	return v, ok
}

// Set sets k, appending it to Keys when it is new.
func (o *Dict) Set(k string, v any) {
	if o.Vals == nil {
		o.Vals = map[string]any{}
	}
	if _, ok := o.Vals[k]; !ok {
		o.Keys = append(o.Keys, k)
	}
	o.Vals[k] = v
}

// DecodeError mirrors json.JSONDecodeError: Msg, the document, and the
// position in characters (code points, like Python), with its line and
// column.
type DecodeError struct {
	Msg    string
	Doc    string
	Pos    int
	Lineno int
	Colno  int
}

func (e *DecodeError) Error() string {
	return e.Msg + ": line " + strconv.Itoa(e.Lineno) + " column " + strconv.Itoa(e.Colno) +
		" (char " + strconv.Itoa(e.Pos) + ")"
}

// NotJSONDecodeError is a failure CPython raises as something other than
// JSONDecodeError — invalid UTF-8, an int longer than IntMaxDigits — which
// FastAPI answers with 400, not 422.
type NotJSONDecodeError struct{ Reason string }

func (e *NotJSONDecodeError) Error() string { return e.Reason }

// IntMaxDigits is CPython's default int max_str_digits (3.11+).
const IntMaxDigits = 4300

type parser struct {
	s   []rune
	doc string
}

// Loads parses body the way json.loads(bytes) does. It returns a
// *DecodeError for JSON syntax errors and a *NotJSONDecodeError for
// encoding problems and oversized integers.
func Loads(body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, &NotJSONDecodeError{"invalid utf-8"}
	}
	str := string(body)
	// json.loads on bytes decodes with utf-8-sig when a BOM is present.
	str = strings.TrimPrefix(str, "\ufeff")
	p := &parser{s: []rune(str), doc: str}
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

func (p *parser) errAt(msg string, pos int) *DecodeError {
	lineno := 1
	last := -1
	for i := 0; i < pos && i < len(p.s); i++ {
		if p.s[i] == '\n' {
			lineno++
			last = i
		}
	}
	return &DecodeError{Msg: msg, Doc: p.doc, Pos: pos, Lineno: lineno, Colno: pos - last}
}

func (p *parser) ws(i int) int {
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

func (p *parser) hasPrefix(i int, lit string) bool {
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

func (p *parser) scanOnce(idx int) (any, int, error) {
	v, end, err := p.scan(idx)
	if si, ok := err.(stopIteration); ok {
		return nil, 0, p.errAt("Expecting value", si.idx)
	}
	return v, end, err
}

func (p *parser) scan(idx int) (any, int, error) {
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
		return Float(math.NaN()), idx + 3, nil
	case p.hasPrefix(idx, "Infinity"):
		return Float(math.Inf(1)), idx + 8, nil
	case p.hasPrefix(idx, "-Infinity"):
		return Float(math.Inf(-1)), idx + 9, nil
	}
	return nil, 0, stopIteration{idx}
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// matchNumber implements NUMBER_RE = (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?
func (p *parser) matchNumber(idx int) (any, int, bool, error) {
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
				return Float(f), i, true, nil
			}
			return nil, 0, true, &NotJSONDecodeError{"bad float"}
		}
		return Float(f), i, true, nil
	}
	digits := intEnd - idx
	if p.s[idx] == '-' {
		digits--
	}
	if digits > IntMaxDigits {
		return nil, 0, true, &NotJSONDecodeError{"int too long"}
	}
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return Int{V: v}, i, true, nil
	}
	b, _ := new(big.Int).SetString(text, 10)
	return Int{Big: b}, i, true, nil
}

func (p *parser) parseObject(idx int) (any, int, error) {
	obj := &Dict{Vals: map[string]any{}}
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
		obj.Set(k.(string), v)
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

func (p *parser) parseArray(idx int) (any, int, error) {
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

// HexVal is the value of a hex digit, -1 for any other rune.
func HexVal(r rune) int {
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

func (p *parser) hex4(i int) (rune, bool) {
	if i+4 > len(p.s) {
		return 0, false
	}
	var v rune
	for k := 0; k < 4; k++ {
		h := HexVal(p.s[i+k])
		if h < 0 {
			return 0, false
		}
		v = v<<4 | rune(h)
	}
	return v, true
}

// scanString follows _json.c scanstring_unicode with strict=True; end is
// the index just after the opening quote.
func (p *parser) scanString(end int) (any, int, error) {
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
