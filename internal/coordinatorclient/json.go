package coordinatorclient

// Lenient decoding (spec §11.3 rule 1): unknown fields are allowed and
// reported once per shape as a warning naming them; missing optional
// fields default to zero; a field of the wrong type, a document that is
// not exactly one JSON value, or a missing required field is an error.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// decoder collects the warnings of one answer.
type decoder struct {
	what     string // "lookup answer", for warnings
	warnings []string
	seen     map[string]bool
}

func newDecoder(what string) *decoder { return &decoder{what: what, seen: map[string]bool{}} }

func (d *decoder) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !d.seen[w] {
		d.seen[w] = true
		d.warnings = append(d.warnings, w)
	}
}

// document checks that body is exactly one JSON value and returns it.
func document(body []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty answer")
		}
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("more than one JSON document (data after offset %d)", dec.InputOffset())
	}
	return raw, nil
}

// obj is one JSON object being read.
type obj struct {
	d    *decoder
	path string
	m    map[string]json.RawMessage
	used map[string]bool
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// object reads raw as a JSON object at path ("" for the document).
func (d *decoder) object(raw json.RawMessage, path string) (*obj, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("%s: %s, not a JSON object", orTop(path), kindOf(raw))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", orTop(path), err)
	}
	return &obj{d: d, path: path, m: m, used: map[string]bool{}}, nil
}

func orTop(path string) string {
	if path == "" {
		return "answer"
	}
	return path
}

func kindOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func (o *obj) field(k string) string {
	if o.path == "" {
		return k
	}
	return o.path + "." + k
}

// get returns a present, non-null field and marks it known.
func (o *obj) get(k string) (json.RawMessage, bool) {
	o.used[k] = true
	v, ok := o.m[k]
	if !ok || isNull(v) {
		return nil, false
	}
	return v, true
}

// has reports a present key (even null) and marks it known.
func (o *obj) has(k string) bool {
	o.used[k] = true
	_, ok := o.m[k]
	return ok
}

// known marks fields that are allowed but not read.
func (o *obj) known(ks ...string) {
	for _, k := range ks {
		o.used[k] = true
	}
}

// done reports the unknown fields of this object's shape.
func (o *obj) done() {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return
	}
	sort.Strings(unknown)
	where := "the " + o.d.what
	if o.path != "" {
		where = o.d.what + " " + shapePath(o.path)
	}
	noun := "field"
	if len(unknown) > 1 {
		noun = "fields"
	}
	o.d.warn("%s has unknown %s %s (a newer coordinator? lmc ignores them)", where, noun, strings.Join(quoteAll(unknown), ", "))
}

// shapePath turns results[3].key into results[].key: warnings name shapes,
// not elements.
func shapePath(p string) string {
	var b strings.Builder
	skip := false
	for _, r := range p {
		switch {
		case r == '[':
			skip = true
			b.WriteString("[]")
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func (o *obj) missing(k string) error { return fmt.Errorf("%s is missing", o.field(k)) }

func (o *obj) str(k string, required bool) (string, error) {
	v, ok := o.get(k)
	if !ok {
		if required {
			return "", o.missing(k)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%s: %s, not a string", o.field(k), kindOf(v))
	}
	return s, nil
}

func (o *obj) boolean(k string, required bool) (bool, error) {
	v, ok := o.get(k)
	if !ok {
		if required {
			return false, o.missing(k)
		}
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, fmt.Errorf("%s: %s, not a boolean", o.field(k), kindOf(v))
	}
	return b, nil
}

// integer reads an integer (512 or 512.0) within int64.
func (o *obj) integer(k string, required bool) (int64, bool, error) {
	v, ok := o.get(k)
	if !ok {
		if required {
			return 0, false, o.missing(k)
		}
		return 0, false, nil
	}
	n, err := parseInteger(v)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %v", o.field(k), err)
	}
	return n, true, nil
}

// count reads a non-negative integer that fits an int.
func (o *obj) count(k string, required bool) (int, bool, error) {
	n, ok, err := o.integer(k, required)
	if err != nil {
		return 0, false, err
	}
	if n < 0 || int64(int(n)) != n {
		return 0, false, fmt.Errorf("%s: %d is not a count", o.field(k), n)
	}
	return int(n), ok, nil
}

func (o *obj) optInt(k string) (*int64, error) {
	n, ok, err := o.integer(k, false)
	if err != nil || !ok {
		return nil, err
	}
	return &n, nil
}

func (o *obj) number(k string, required bool) (float64, bool, error) {
	v, ok := o.get(k)
	if !ok {
		if required {
			return 0, false, o.missing(k)
		}
		return 0, false, nil
	}
	f, err := parseNumber(v)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %v", o.field(k), err)
	}
	return f, true, nil
}

func (o *obj) optNumber(k string) (*float64, error) {
	f, ok, err := o.number(k, false)
	if err != nil || !ok {
		return nil, err
	}
	return &f, nil
}

// list reads a JSON list; absent or null gives (nil, false).
func (o *obj) list(k string, required bool) ([]json.RawMessage, bool, error) {
	v, ok := o.get(k)
	if !ok {
		if required {
			return nil, false, o.missing(k)
		}
		return nil, false, nil
	}
	var l []json.RawMessage
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, false, fmt.Errorf("%s: %s, not a list", o.field(k), kindOf(v))
	}
	return l, true, nil
}

func (o *obj) child(k string, required bool) (*obj, error) {
	v, ok := o.get(k)
	if !ok {
		if required {
			return nil, o.missing(k)
		}
		return nil, nil
	}
	return o.d.object(v, o.field(k))
}

func parseInteger(v json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, fmt.Errorf("%s, not a number", kindOf(v))
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s is not an integer", n)
	}
	return int64(f), nil
}

func parseNumber(v json.RawMessage) (float64, error) {
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, fmt.Errorf("%s, not a number", kindOf(v))
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, fmt.Errorf("%s is not a number", n)
	}
	return f, nil
}

// tokenList reads a list of uint32 token ids.
func tokenList(v json.RawMessage, path string) ([]uint32, error) {
	var l []json.Number
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, fmt.Errorf("%s: %s, not a list of token ids", path, kindOf(v))
	}
	out := make([]uint32, len(l))
	for i, n := range l {
		t, err := strconv.ParseUint(string(n), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %s is not a token id (0..4294967295)", path, i, n)
		}
		out[i] = uint32(t)
	}
	return out, nil
}

// stringMap reads {"k": "v"}.
func stringMap(v json.RawMessage, path string) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("%s: %s, not an object", path, kindOf(v))
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s[%q]: %s, not a string", path, k, kindOf(raw))
		}
		out[k] = s
	}
	return out, nil
}

// countMap reads {"k": n}.
func countMap(v json.RawMessage, path string) (map[string]int64, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("%s: %s, not an object", path, kindOf(v))
	}
	out := make(map[string]int64, len(m))
	for k, raw := range m {
		n, err := parseInteger(raw)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s[%q]: not a count", path, k)
		}
		out[k] = n
	}
	return out, nil
}
