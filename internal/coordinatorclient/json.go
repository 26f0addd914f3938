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
	"unicode/utf8"

	"lmc/internal/jsonscan"
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
	if t := bytes.TrimSpace(body); len(t) > 0 && json.Valid(t) {
		return json.RawMessage(t), nil
	}
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
	m, err := splitObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", orTop(path), err)
	}
	return &obj{d: d, path: path, m: m, used: map[string]bool{}}, nil
}

// The splitters walk JSON that document() already validated, without
// validating it again (encoding/json would rescan every nested value at
// every level: a 128k-token lookup of world size 8 is 8 MB).

// skipValue returns the end of the value starting at b[i] (after
// whitespace).
func skipValue(b []byte, i int) (int, error) {
	i = jsonscan.Space(b, i)
	e, ok := jsonscan.ValueEnd(b, i)
	if !ok {
		if i < len(b) && b[i] == '"' {
			return 0, errors.New("unterminated string")
		}
		return 0, errors.New("unexpected end of JSON")
	}
	return e, nil
}

func skipString(b []byte, i int) (int, error) {
	e, ok := jsonscan.StringEnd(b, i)
	if !ok {
		return 0, errors.New("unterminated string")
	}
	return e, nil
}

// splitObject splits a valid JSON object into its members (the last of
// duplicate keys wins, as in Python).
func splitObject(b []byte) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	err := split(b, '{', '}', "not an object", func(ks int) (int, error) {
		ke, err := skipString(b, ks)
		if err != nil || b[ks] != '"' {
			return 0, errors.New("bad member name")
		}
		var key string
		if bytes.IndexByte(b[ks:ke], '\\') >= 0 || !utf8.Valid(b[ks:ke]) {
			if err := json.Unmarshal(b[ks:ke], &key); err != nil {
				return 0, err
			}
		} else {
			key = string(b[ks+1 : ke-1])
		}
		i := jsonscan.Space(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, errors.New("expected ':'")
		}
		vs := jsonscan.Space(b, i+1)
		ve, err := skipValue(b, vs)
		if err != nil {
			return 0, err
		}
		m[key] = json.RawMessage(b[vs:ve])
		return ve, nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// splitArray splits a valid JSON array into its elements.
func splitArray(b []byte) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	err := split(b, '[', ']', "not a list", func(vs int) (int, error) {
		ve, err := skipValue(b, vs)
		if err != nil {
			return 0, err
		}
		out = append(out, json.RawMessage(b[vs:ve]))
		return ve, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// split walks a valid JSON object or array from open to close: member
// reads the member that starts at i and returns where it ends; commas
// separate members. notA is the error when b does not start with open.
func split(b []byte, open, close byte, notA string, member func(i int) (int, error)) error {
	i := jsonscan.Space(b, 0)
	if i >= len(b) || b[i] != open {
		return errors.New(notA)
	}
	i = jsonscan.Space(b, i+1)
	if i < len(b) && b[i] == close {
		return nil
	}
	for i < len(b) {
		end, err := member(jsonscan.Space(b, i))
		if err != nil {
			return err
		}
		i = jsonscan.Space(b, end)
		if i < len(b) && b[i] == close {
			return nil
		}
		if i >= len(b) || b[i] != ',' {
			return errors.New("expected ','")
		}
		i++
	}
	return errors.New("unexpected end of JSON")
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

// value reads member k with parse. Absent or null is the zero value (ok
// false), or an error when required; what parse rejects is an error naming
// the field.
func value[T any](o *obj, k string, required bool, parse func(json.RawMessage) (T, error)) (x T, ok bool, err error) {
	v, ok := o.get(k)
	if !ok {
		if required {
			err = o.missing(k)
		}
		return x, false, err
	}
	if x, err = parse(v); err != nil {
		var zero T
		return zero, false, fmt.Errorf("%s: %v", o.field(k), err)
	}
	return x, true, nil
}

// unmarshal parses a JSON value of Go type T, which JSON calls what.
func unmarshal[T any](what string) func(json.RawMessage) (T, error) {
	return func(v json.RawMessage) (T, error) {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return x, fmt.Errorf("%s, not %s", kindOf(v), what)
		}
		return x, nil
	}
}

func (o *obj) str(k string, required bool) (string, error) {
	s, _, err := value(o, k, required, unmarshal[string]("a string"))
	return s, err
}

func (o *obj) boolean(k string, required bool) (bool, error) {
	b, _, err := value(o, k, required, unmarshal[bool]("a boolean"))
	return b, err
}

// integer reads an integer (512 or 512.0) within int64.
func (o *obj) integer(k string, required bool) (int64, bool, error) {
	return value(o, k, required, parseInteger)
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
	return value(o, k, required, parseNumber)
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
	return value(o, k, required, func(v json.RawMessage) ([]json.RawMessage, error) {
		l, err := splitArray(v)
		if err != nil {
			return nil, fmt.Errorf("%s, not a list", kindOf(v))
		}
		return l, nil
	})
}

func (o *obj) child(k string, required bool) (*obj, error) {
	v, ok, err := value(o, k, required, func(v json.RawMessage) (json.RawMessage, error) { return v, nil })
	if !ok {
		return nil, err
	}
	return o.d.object(v, o.field(k))
}

// number returns a JSON number's text (encoding/json would also take a
// string holding a number).
func number(v json.RawMessage) (json.Number, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return "", fmt.Errorf("%s, not a number", kindOf(v))
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", fmt.Errorf("%s, not a number", kindOf(v))
	}
	return n, nil
}

func parseInteger(v json.RawMessage) (int64, error) {
	n, err := number(v)
	if err != nil {
		return 0, err
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
	n, err := number(v)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, fmt.Errorf("%s is not a number", n)
	}
	return f, nil
}

// tokenList reads a list of uint32 token ids: decimal integers only (a
// lookup can carry millions, so this is a scanner, not encoding/json).
func tokenList(v json.RawMessage, path string) ([]uint32, error) {
	b := bytes.TrimSpace(v)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, fmt.Errorf("%s: %s, not a list of token ids", path, kindOf(b))
	}
	out := make([]uint32, 0, len(b)/4)
	i, n := 1, len(b)-1
	skip := func() {
		for i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	skip()
	if i == n {
		return out, nil
	}
	for {
		skip()
		start := i
		var t uint64
		for i < n && b[i] >= '0' && b[i] <= '9' {
			t = t*10 + uint64(b[i]-'0')
			i++
			if t > 1<<32-1 {
				break
			}
		}
		end := i
		for end < n && b[end] != ',' && b[end] != ' ' && b[end] != '\n' && b[end] != '\t' && b[end] != '\r' {
			end++
		}
		if end != i || i == start || t > 1<<32-1 || (i-start > 1 && b[start] == '0') {
			return nil, fmt.Errorf("%s[%d]: %s is not a token id (0..4294967295)", path, len(out), truncate(string(b[start:end]), 32))
		}
		out = append(out, uint32(t))
		skip()
		if i == n {
			return out, nil
		}
		if b[i] != ',' {
			return nil, fmt.Errorf("%s[%d]: expected ',' in the list of token ids", path, len(out))
		}
		i++
	}
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

// decodeAnswer decodes body, one JSON object, into res: read fills res from the
// object (calling done where the object's unknown fields are to be
// reported), then *warnings gets the warnings of the answer called what.
// On an error it returns nil.
func decodeAnswer[T any](body []byte, what string, res *T, warnings *[]string, read func(d *decoder, o *obj) error) (*T, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	d := newDecoder(what)
	o, err := d.object(raw, "")
	if err != nil {
		return nil, err
	}
	if err := read(d, o); err != nil {
		return nil, err
	}
	*warnings = d.warnings
	return res, nil
}

// A field reads one member of an object into a Go value.
type field func(o *obj) error

// read reads fields in order and stops at the first error.
func (o *obj) read(fields ...field) error {
	for _, f := range fields {
		if err := f(o); err != nil {
			return err
		}
	}
	return nil
}

// finish reads the object's last fields, then reports its unknown ones
// (done).
func (o *obj) finish(fields ...field) error {
	if err := o.read(fields...); err != nil {
		return err
	}
	o.done()
	return nil
}

func strField(k string, required bool, p *string) field {
	return func(o *obj) (err error) { *p, err = o.str(k, required); return err }
}

func boolField(k string, required bool, p *bool) field {
	return func(o *obj) (err error) { *p, err = o.boolean(k, required); return err }
}

func intField(k string, required bool, p *int64) field {
	return func(o *obj) (err error) { *p, _, err = o.integer(k, required); return err }
}

func countField(k string, required bool, p *int) field {
	return func(o *obj) (err error) { *p, _, err = o.count(k, required); return err }
}

func numField(k string, required bool, p *float64) field {
	return func(o *obj) (err error) { *p, _, err = o.number(k, required); return err }
}

func optIntField(k string, p **int64) field {
	return func(o *obj) (err error) { *p, err = o.optInt(k); return err }
}

func optNumField(k string, p **float64) field {
	return func(o *obj) (err error) { *p, err = o.optNumber(k); return err }
}

// optBoolField reads a bool that may be absent (nil) but not null.
func optBoolField(k string, p **bool) field {
	return func(o *obj) error {
		if !o.has(k) {
			return nil
		}
		b, err := o.boolean(k, false)
		if err != nil {
			return err
		}
		*p = &b
		return nil
	}
}

// objects reads the list k into *out, one T for each element: an object
// that fn reads into x (path names the element, k[3]).
func objects[T any](o *obj, k string, required bool, out *[]T, fn func(path string, e *obj, x *T) error) error {
	l, _, err := o.list(k, required)
	if err != nil {
		return err
	}
	*out = make([]T, len(l))
	for i, raw := range l {
		path := o.field(k) + "[" + strconv.Itoa(i) + "]"
		e, err := o.d.object(raw, path)
		if err != nil {
			return err
		}
		if err := fn(path, e, &(*out)[i]); err != nil {
			return err
		}
	}
	return nil
}
