package sandboxcontroller

// Request validation the way the recorded controller does it: FastAPI 0.95
// on pydantic v1 (see the spec, Part II §11-§12). Error entries have the v1
// shape {"loc":[...],"msg":"...","type":"...","ctx":{...}}.

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"lmc/internal/pyjson"
)

type fieldKind int

const (
	kindStr fieldKind = iota
	kindInt
	kindIntList
	kindStrPair
	kindBool
)

type modelField struct {
	name     string
	kind     fieldKind
	required bool // no default
	nullable bool // Optional[...]
	def      any  // default when absent or null-and-optional
}

type model struct {
	name   string
	fields []modelField
}

type valErr struct {
	loc []any
	msg string
	typ string
	ctx pyjson.Object
}

func (e valErr) json() pyjson.Object {
	o := pyjson.Object{{"loc", e.loc}, {"msg", e.msg}, {"type", e.typ}}
	if e.ctx != nil {
		o = append(o, pyjson.Member{"ctx", e.ctx})
	}
	return o
}

func withLoc(base []any, more ...any) []any {
	out := make([]any, 0, len(base)+len(more))
	out = append(out, base...)
	return append(out, more...)
}

var (
	errMissing = func(loc []any) valErr { return valErr{loc: loc, msg: "field required", typ: "value_error.missing"} }
	errNone    = func(loc []any) valErr {
		return valErr{loc: loc, msg: "none is not an allowed value", typ: "type_error.none.not_allowed"}
	}
	errInt = func(loc []any) valErr {
		return valErr{loc: loc, msg: "value is not a valid integer", typ: "type_error.integer"}
	}
	errStr  = func(loc []any) valErr { return valErr{loc: loc, msg: "str type expected", typ: "type_error.str"} }
	errList = func(loc []any) valErr {
		return valErr{loc: loc, msg: "value is not a valid list", typ: "type_error.list"}
	}
	errTuple = func(loc []any) valErr {
		return valErr{loc: loc, msg: "value is not a valid tuple", typ: "type_error.tuple"}
	}
	errBool = func(loc []any) valErr {
		return valErr{loc: loc, msg: "value could not be parsed to a boolean", typ: "type_error.bool"}
	}
	errDict = func(loc []any) valErr {
		return valErr{loc: loc, msg: "value is not a valid dict", typ: "type_error.dict"}
	}
)

// rawBody is a request body FastAPI did not parse as JSON (wrong content
// type); pydantic then sees bytes.
type rawBody []byte

// validateBody validates a FastAPI single-model body. body is nil when the
// request had no body (or JSON null).
func validateBody(m model, body any) (map[string]any, []valErr) {
	loc := []any{"body"}
	if body == nil {
		return nil, []valErr{errMissing(loc)}
	}
	obj, ok := coerceDict(body)
	if !ok {
		return nil, []valErr{errDict(loc)}
	}
	vals := map[string]any{}
	var errs []valErr
	for _, f := range m.fields {
		floc := withLoc(loc, f.name)
		v, present := obj.Get(f.name)
		if !present {
			if f.required {
				errs = append(errs, errMissing(floc))
			} else {
				vals[f.name] = f.def
			}
			continue
		}
		if v == nil {
			if f.nullable {
				vals[f.name] = nil
			} else {
				errs = append(errs, errNone(floc))
			}
			continue
		}
		out, ferrs := validateValue(f.kind, v, floc)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		vals[f.name] = out
	}
	return vals, errs
}

// coerceDict is pydantic v1 Model.validate's dict(value) fallback.
func coerceDict(v any) (*pyjson.Dict, bool) {
	switch x := v.(type) {
	case *pyjson.Dict:
		return x, true
	case string:
		// dict("") == {}; any other str fails (elements have length 1).
		if x == "" {
			return &pyjson.Dict{}, true
		}
		return nil, false
	case []any:
		obj := &pyjson.Dict{}
		for _, e := range x {
			switch p := e.(type) {
			case []any:
				if len(p) != 2 {
					return nil, false
				}
				switch k := p[0].(type) {
				case string:
					obj.Set(k, p[1])
				case pyjson.Int, pyjson.Float, bool, nil:
					// hashable, but can never name a field
				default:
					return nil, false
				}
			case string:
				if utf8.RuneCountInString(p) != 2 {
					return nil, false
				}
				r := []rune(p)
				obj.Set(string(r[0]), string(r[1]))
			default:
				return nil, false
			}
		}
		return obj, true
	}
	return nil, false
}

func validateValue(kind fieldKind, v any, loc []any) (any, []valErr) {
	switch kind {
	case kindStr:
		s, ok := coerceStr(v)
		if !ok {
			return nil, []valErr{errStr(loc)}
		}
		return s, nil
	case kindInt:
		i, ok := coerceInt(v)
		if !ok {
			return nil, []valErr{errInt(loc)}
		}
		return i, nil
	case kindBool:
		b, ok := pyjson.LaxBool(v)
		if !ok {
			return nil, []valErr{errBool(loc)}
		}
		return b, nil
	case kindIntList:
		arr, ok := v.([]any)
		if !ok {
			return nil, []valErr{errList(loc)}
		}
		out, errs := items(arr, loc, coerceInt, errInt)
		if errs != nil {
			return nil, errs
		}
		return out, nil
	case kindStrPair:
		arr, ok := v.([]any)
		if !ok {
			return nil, []valErr{errTuple(loc)}
		}
		if len(arr) != 2 {
			return nil, []valErr{{
				loc: loc,
				msg: "wrong tuple length " + strconv.Itoa(len(arr)) + ", expected 2",
				typ: "value_error.tuple.length",
				ctx: pyjson.Object{{"actual_length", len(arr)}, {"expected_length", 2}},
			}}
		}
		out, errs := items(arr, loc, coerceStr, errStr)
		if errs != nil {
			return nil, errs
		}
		return [2]string(out), nil
	}
	return nil, nil
}

// items validates every element of a list (none may be null), reporting
// the errors of all of them.
func items[T any](arr []any, loc []any, coerce func(any) (T, bool), typeErr func([]any) valErr) ([]T, []valErr) {
	out := make([]T, len(arr))
	var errs []valErr
	for i, e := range arr {
		eloc := withLoc(loc, i)
		if e == nil {
			errs = append(errs, errNone(eloc))
			continue
		}
		x, ok := coerce(e)
		if !ok {
			errs = append(errs, typeErr(eloc))
			continue
		}
		out[i] = x
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func coerceStr(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case pyjson.Int, pyjson.Float, bool:
		return pyjson.Str(x), true
	}
	return "", false
}

// coerceInt is pydantic v1 int_validator: int(v) for anything Python can
// convert (bools, truncated floats, numeric strings).
func coerceInt(v any) (pyjson.Int, bool) {
	switch x := v.(type) {
	case pyjson.Int:
		return x, true
	case bool:
		if x {
			return pyjson.Int{V: 1}, true
		}
		return pyjson.Int{V: 0}, true
	case pyjson.Float:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return pyjson.Int{}, false
		}
		f = math.Trunc(f)
		if f >= -9.2e18 && f <= 9.2e18 {
			return pyjson.Int{V: int64(f)}, true
		}
		b, _ := new(big.Float).SetFloat64(f).Int(nil)
		return pyjson.Int{Big: b}, true
	case string:
		return parsePyIntString(x)
	}
	return pyjson.Int{}, false
}

// parsePyIntString is int(str) for ASCII input: surrounding whitespace,
// an optional sign, digits with single underscores between them.
func parsePyIntString(s string) (pyjson.Int, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return pyjson.Int{}, false
	}
	digits := strings.ReplaceAll(s, "_", "")
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return pyjson.Int{}, false
		}
	}
	if len(digits) > pyjson.IntMaxDigits {
		return pyjson.Int{}, false
	}
	if neg {
		digits = "-" + digits
	}
	b, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return pyjson.Int{}, false
	}
	if b.IsInt64() {
		return pyjson.Int{V: b.Int64()}, true
	}
	return pyjson.Int{Big: b}, true
}

// The request models of the controller (field order matters: it is the
// order of the error entries).
var (
	lookupModel = model{"LookupRequest", []modelField{
		{name: "tokens", kind: kindIntList, required: true},
	}}
	clearModel = model{"ClearRequest", []modelField{
		{name: "instance_id", kind: kindStr, required: true},
		{name: "location", kind: kindStr, required: true},
	}}
	pinModel = model{"PinRequest", []modelField{
		{name: "instance_id", kind: kindStr, required: true},
		{name: "location", kind: kindStr, required: true},
		{name: "tokens", kind: kindIntList, required: true},
	}}
	compressModel = model{"CompressRequest", []modelField{
		{name: "instance_id", kind: kindStr, required: true},
		{name: "method", kind: kindStr, required: true},
		{name: "location", kind: kindStr, required: true},
		{name: "tokens", kind: kindIntList, nullable: true, def: []pyjson.Int{}},
	}}
	decompressModel = model{"DecompressRequest", compressModel.fields}
	moveModel       = model{"MoveRequest", []modelField{
		{name: "old_position", kind: kindStrPair, required: true},
		{name: "new_position", kind: kindStrPair, required: true},
		{name: "tokens", kind: kindIntList, nullable: true, def: []pyjson.Int{}},
		{name: "should_copy", kind: kindBool, nullable: true, def: false},
	}}
	healthModel = model{"HealthRequest", []modelField{
		{name: "instance_id", kind: kindStr, required: true},
	}}
	checkFinishModel = model{"CheckFinishRequest", []modelField{
		{name: "event_id", kind: kindStr, required: true},
	}}
	queryWorkerInfoModel = model{"QueryWorkerInfoRequest", []modelField{
		{name: "instance_id", kind: kindStr, required: true},
		{name: "worker_ids", kind: kindIntList, nullable: true, def: nil},
	}}
	queryInstModel = model{"QueryInstRequest", []modelField{
		{name: "event_id", kind: kindStr, required: true},
		{name: "ip", kind: kindStr, required: true},
	}}
)
