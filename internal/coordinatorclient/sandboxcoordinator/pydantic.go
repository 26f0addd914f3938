package sandboxcoordinator

// Request validation the way the coordinator's FastAPI on pydantic v2
// does it (spec §2): lax typing ("12" for an int, 1.0 for an int, no
// number for a string), 422 bodies {"detail": [{"type", "loc", "msg",
// "input", "ctx"}]} with every field error of a model reported together,
// and whole-model validators only once every field is valid.

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"lmc/internal/pyjson"
)

type valErr struct {
	typ   string
	loc   []any
	msg   string
	input any
	ctx   pyjson.Object // nil: no ctx
}

func (e valErr) json() pyjson.Object {
	o := pyjson.Object{{"type", e.typ}, {"loc", e.loc}, {"msg", e.msg}, {"input", inputJSON(e.input)}}
	if e.ctx != nil {
		o = append(o, pyjson.Member{"ctx", e.ctx})
	}
	return o
}

// inputJSON renders a validated or raw value for an error's input.
func inputJSON(v any) any {
	switch x := v.(type) {
	case nil, bool, string, pyjson.Int, pyjson.Float, *pyjson.Dict, pyjson.Object, pyjson.Raw:
		return x
	case []any:
		return x
	case int64:
		return pyjson.Int{V: x}
	case int:
		return pyjson.Int{V: int64(x)}
	case float64:
		return pyjson.Float(x)
	}
	return nil
}

func at(base []any, more ...any) []any {
	out := make([]any, 0, len(base)+len(more))
	out = append(out, base...)
	return append(out, more...)
}

// v collects the errors of one request.
type v struct{ errs []valErr }

func (c *v) add(typ string, loc []any, msg string, input any, ctx pyjson.Object) {
	c.errs = append(c.errs, valErr{typ: typ, loc: loc, msg: msg, input: input, ctx: ctx})
}

func (c *v) ok() bool { return len(c.errs) == 0 }

func (c *v) missing(o *pyjson.Dict, loc []any) {
	c.add("missing", loc, "Field required", o, nil)
}

// object checks that a value is a dict (model_attributes_type otherwise).
func (c *v) object(val any, loc []any) (*pyjson.Dict, bool) {
	o, ok := val.(*pyjson.Dict)
	if !ok {
		c.add("model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields from", val, nil)
		return nil, false
	}
	return o, true
}

// field returns a present value (null counts as present: pydantic then
// rejects it by type).
func field(o *pyjson.Dict, name string) (any, bool) { return o.Get(name) }

func (c *v) str(o *pyjson.Dict, loc []any, name string, required bool, def string) (string, bool) {
	val, ok := field(o, name)
	if !ok {
		if required {
			c.missing(o, at(loc, name))
			return "", false
		}
		return def, true
	}
	return c.strValue(val, at(loc, name))
}

func (c *v) strValue(val any, loc []any) (string, bool) {
	s, ok := val.(string)
	if !ok {
		c.add("string_type", loc, "Input should be a valid string", val, nil)
		return "", false
	}
	return s, true
}

func (c *v) strStripped(o *pyjson.Dict, loc []any, name string, required bool, minLen int) (string, bool) {
	s, ok := c.str(o, loc, name, required, "")
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	if len([]rune(s)) < minLen {
		c.add("string_too_short", at(loc, name), "String should have at least "+plural(minLen, "character"), s, pyjson.Object{{"min_length", pyjson.Int{V: int64(minLen)}}})
		return "", false
	}
	return s, true
}

func plural(n int, w string) string {
	if n == 1 {
		return "1 " + w
	}
	return strconv.Itoa(n) + " " + w + "s"
}

type bound struct {
	ge, le *int64
}

func ge(n int64) bound        { return bound{ge: &n} }
func geLe(lo, hi int64) bound { return bound{ge: &lo, le: &hi} }
func (b bound) check(n int64) (string, string, int64) {
	if b.ge != nil && n < *b.ge {
		return "greater_than_equal", "Input should be greater than or equal to " + strconv.FormatInt(*b.ge, 10), *b.ge
	}
	if b.le != nil && n > *b.le {
		return "less_than_equal", "Input should be less than or equal to " + strconv.FormatInt(*b.le, 10), *b.le
	}
	return "", "", 0
}

func (c *v) int(o *pyjson.Dict, loc []any, name string, required bool, def int64, b bound) (int64, bool) {
	val, ok := field(o, name)
	if !ok {
		if required {
			c.missing(o, at(loc, name))
			return 0, false
		}
		return def, true
	}
	return c.intValue(val, at(loc, name), b)
}

// intValue is pydantic v2's lax int.
func (c *v) intValue(val any, loc []any, b bound) (int64, bool) {
	var n int64
	switch x := val.(type) {
	case bool:
		if x {
			n = 1
		}
	case pyjson.Int:
		if x.Big != nil {
			// Python ints are unbounded; the fake's state is int64.
			c.add("int_parsing_size", loc, "Unable to parse input string as an integer, exceeded maximum size", val, nil)
			return 0, false
		}
		n = x.V
	case pyjson.Float:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			c.add("finite_number", loc, "Input should be a finite number", val, nil)
			return 0, false
		}
		if f != math.Trunc(f) {
			c.add("int_from_float", loc, "Input should be a valid integer, got a number with a fractional part", val, nil)
			return 0, false
		}
		if math.Abs(f) > 1<<62 {
			c.add("int_parsing_size", loc, "Unable to parse input string as an integer, exceeded maximum size", val, nil)
			return 0, false
		}
		n = int64(f)
	case string:
		t := strings.TrimSpace(x)
		i, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64)
		if err != nil || t == "" || strings.HasPrefix(t, "_") {
			if bi, ok := new(big.Int).SetString(t, 10); ok && bi != nil {
				c.add("int_parsing_size", loc, "Unable to parse input string as an integer, exceeded maximum size", val, nil)
				return 0, false
			}
			if f, ferr := strconv.ParseFloat(t, 64); ferr == nil && f == math.Trunc(f) && !strings.ContainsAny(t, "eEnN") {
				i = int64(f)
			} else {
				c.add("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer", val, nil)
				return 0, false
			}
		}
		n = i
	default:
		c.add("int_type", loc, "Input should be a valid integer", val, nil)
		return 0, false
	}
	if typ, msg, lim := b.check(n); typ != "" {
		key := "ge"
		if typ == "less_than_equal" {
			key = "le"
		}
		c.add(typ, loc, msg, val, pyjson.Object{{key, pyjson.Int{V: lim}}})
		return 0, false
	}
	return n, true
}

// floatValue is pydantic v2's lax float, with an optional ge 0.
func (c *v) floatValue(val any, loc []any, geZero bool) (float64, bool) {
	var f float64
	switch x := val.(type) {
	case bool:
		if x {
			f = 1
		}
	case pyjson.Int:
		if x.Big != nil {
			bf, _ := new(big.Float).SetInt(x.Big).Float64()
			f = bf
		} else {
			f = float64(x.V)
		}
	case pyjson.Float:
		f = float64(x)
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			c.add("float_parsing", loc, "Input should be a valid number, unable to parse string as a number", val, nil)
			return 0, false
		}
		f = p
	default:
		c.add("float_type", loc, "Input should be a valid number", val, nil)
		return 0, false
	}
	if geZero && !(f >= 0) { // NaN fails too
		c.add("greater_than_equal", loc, "Input should be greater than or equal to 0", val, pyjson.Object{{"ge", pyjson.Int{V: 0}}})
		return 0, false
	}
	return f, true
}

func (c *v) boolean(o *pyjson.Dict, loc []any, name string, def bool) (bool, bool) {
	val, ok := field(o, name)
	if !ok {
		return def, true
	}
	l := at(loc, name)
	in := val
	if s, ok := val.(string); ok {
		in = strings.TrimSpace(s)
	}
	if b, ok := pyjson.LaxBool(in); ok {
		return b, true
	}
	switch val.(type) {
	case pyjson.Int, pyjson.Float, string:
	default:
		c.add("bool_type", l, "Input should be a valid boolean", val, nil)
		return false, false
	}
	c.add("bool_parsing", l, "Input should be a valid boolean, unable to interpret input", val, nil)
	return false, false
}

// list returns the items of a list field ([] when absent).
func (c *v) list(o *pyjson.Dict, loc []any, name string, required bool) ([]any, bool) {
	val, ok := field(o, name)
	if !ok {
		if required {
			c.missing(o, at(loc, name))
			return nil, false
		}
		return []any{}, true
	}
	l, ok := val.([]any)
	if !ok {
		c.add("list_type", at(loc, name), "Input should be a valid list", val, nil)
		return nil, false
	}
	return l, true
}

// intList is list[int].
func (c *v) intList(o *pyjson.Dict, loc []any, name string, required bool) ([]int64, bool) {
	l, ok := c.list(o, loc, name, required)
	if !ok {
		return nil, false
	}
	out := make([]int64, len(l))
	good := true
	for i, e := range l {
		n, ok := c.intValue(e, at(loc, name, i), bound{})
		good = good && ok
		out[i] = n
	}
	return out, good
}

// enum validates a str enum.
func (c *v) enum(o *pyjson.Dict, loc []any, name string, def string, allowed ...string) (string, bool) {
	val, ok := field(o, name)
	if !ok {
		return def, true
	}
	return c.enumValue(val, at(loc, name), allowed...)
}

func (c *v) enumValue(val any, loc []any, allowed ...string) (string, bool) {
	s, _ := val.(string)
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	exp := enumText(allowed)
	c.add("enum", loc, "Input should be "+exp, val, pyjson.Object{{"expected", exp}})
	return "", false
}

func enumText(allowed []string) string {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = "'" + a + "'"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// strDict is dict[str, str].
func (c *v) strDict(o *pyjson.Dict, loc []any, name string) (*pyjson.Dict, bool) {
	val, ok := field(o, name)
	if !ok {
		return &pyjson.Dict{Vals: map[string]any{}}, true
	}
	d, ok := val.(*pyjson.Dict)
	if !ok {
		c.add("dict_type", at(loc, name), "Input should be a valid dictionary", val, nil)
		return nil, false
	}
	good := true
	for _, k := range d.Keys {
		if _, ok := d.Vals[k].(string); !ok {
			c.add("string_type", at(loc, name, k), "Input should be a valid string", d.Vals[k], nil)
			good = false
		}
	}
	return d, good
}

// forbidExtra reports fields a model does not declare (extra="forbid").
func (c *v) forbidExtra(o *pyjson.Dict, loc []any, declared ...string) {
	set := map[string]bool{}
	for _, d := range declared {
		set[d] = true
	}
	for _, k := range o.Keys {
		if !set[k] {
			c.add("extra_forbidden", at(loc, k), "Extra inputs are not permitted", o.Vals[k], nil)
		}
	}
}

// valueError is a validator's ValueError.
func (c *v) valueError(loc []any, msg string, input any) {
	c.add("value_error", loc, "Value error, "+msg, input, pyjson.Object{{"error", pyjson.Object{}}})
}
