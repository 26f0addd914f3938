package mooncake

import (
	"encoding/json"
	"strconv"
	"strings"

	"lmc/internal/jsonscan"
)

// Fast decoding of the /batch_query_keys answers of the usual shape. Each
// function reads JSON that encoding/json accepted (json.Valid on the whole
// answer first) and reports whether the input had the usual shape; when
// it had not, the caller decodes with encoding/json, which decides and
// words the errors as always. Whenever a function takes an input, its
// result is what encoding/json would have decoded (TestEntryDecode...,
// TestAnswerDecode... and their fuzz targets compare them).

// decodeCommon decodes the entry at the start of rest — the fields the
// master writes, with booleans, null, plain ASCII strings, unsigned
// integers and memory replicas — as json.Unmarshal would into a zero
// jsonKeyQuery, without reflection. It returns the entry's length; common
// is false for any other shape (jq is then to be decoded again), isObject
// false when the value is not an object. The entry's keys are added to
// keys, for checkKeys' rules, which the caller applies first.
func (jq *jsonKeyQuery) decodeCommon(rest []byte, keys *keyList) (n int, common, isObject bool) {
	common = true
	n, isObject, _ = jsonObject(rest, func(k jsonKeyLit, keyEnd int, v []byte) (int, error) {
		keys.add(k, keyEnd)
		if !common {
			return -1, nil
		}
		switch {
		case k.is("ok"):
			switch {
			case hasLiteral(v, "true"):
				jq.OK = true
				return 4, nil
			case hasLiteral(v, "false"):
				jq.OK = false
				return 5, nil
			}
		case k.is("error"):
			if hasLiteral(v, "null") {
				jq.Error = nil
				return 4, nil
			}
			if s, m, ok := plainJSONString(v); ok {
				jq.Error = &s
				return m, nil
			}
		case k.is("values"):
			var m int
			if jq.Values, m, common = decodeBuffers(v); common {
				return m, nil
			}
		case k.is("nof_values"):
			var m int
			if jq.NoFValues, m, common = decodeBuffers(v); common {
				return m, nil
			}
		case k.is("disk_values"):
			switch e, m := emptyJSONArray(v); e {
			case 0:
				jq.DiskValues = nil
				return m, nil
			case 1:
				jq.DiskValues = []DiskDescriptor{}
				return m, nil
			}
		case k.is("local_disk_values"):
			switch e, m := emptyJSONArray(v); e {
			case 0:
				jq.LocalDiskValues = nil
				return m, nil
			case 1:
				jq.LocalDiskValues = []jsonLocalDisk{}
				return m, nil
			}
		}
		// Another shape, or a field encoding/json would ignore (or match
		// case-insensitively): leave the entry to it.
		common = false
		return -1, nil
	})
	return n, common && isObject, isObject
}

// hasLiteral reports whether v starts with the literal lit (true, false,
// null) followed by the end of the value.
func hasLiteral(v []byte, lit string) bool {
	return len(v) >= len(lit) && string(v[:len(lit)]) == lit && jsonValueEnd(v, 0) == len(lit)
}

// emptyJSONArray reads null (0) or [] (1) at the start of v, with its
// length; -1 for anything else.
func emptyJSONArray(v []byte) (int, int) {
	if hasLiteral(v, "null") {
		return 0, 4
	}
	if len(v) > 0 && v[0] == '[' {
		if i := jsonscan.Space(v, 1); i < len(v) && v[i] == ']' {
			return 1, i + 1
		}
	}
	return -1, 0
}

// decodeBuffers decodes null, [] or an array of BufferDescriptor objects
// with plain fields at the start of v, with its length; ok is false for
// anything else.
func decodeBuffers(v []byte) (out []BufferDescriptor, n int, ok bool) {
	switch e, m := emptyJSONArray(v); e {
	case 0:
		return nil, m, true
	case 1:
		return []BufferDescriptor{}, m, true
	}
	if len(v) == 0 || v[0] != '[' {
		return nil, 0, false
	}
	i := jsonscan.Space(v, 1)
	for i < len(v) {
		b, m, ok := decodeBuffer(v[i:])
		if !ok {
			return nil, 0, false
		}
		out = append(out, b)
		i = jsonscan.Space(v, i+m)
		if i < len(v) && v[i] == ',' {
			i = jsonscan.Space(v, i+1)
			continue
		}
		if i < len(v) && v[i] == ']' {
			return out, i + 1, true
		}
		break
	}
	return nil, 0, false
}

// decodeBuffer decodes one BufferDescriptor object of plain fields, each
// at most once (encoding/json would keep the last of a repeated one).
func decodeBuffer(v []byte) (b BufferDescriptor, n int, ok bool) {
	ok = true
	var seen [4]bool
	field := func(f int) {
		if seen[f] {
			ok = false
		}
		seen[f] = true
	}
	n, isObject, _ := jsonObject(v, func(k jsonKeyLit, _ int, fv []byte) (int, error) {
		if !ok {
			return -1, nil
		}
		var m int
		switch {
		case k.is("size_"):
			field(0)
			b.Size, m, ok = plainJSONUint(fv, ok)
		case k.is("buffer_address_"):
			field(1)
			b.BufferAddress, m, ok = plainJSONUint(fv, ok)
		case k.is("protocol_"):
			field(2)
			var sok bool
			b.Protocol, m, sok = plainJSONString(fv)
			ok = ok && sok
		case k.is("transport_endpoint_"):
			field(3)
			var sok bool
			b.TransportEndpoint, m, sok = plainJSONString(fv)
			ok = ok && sok
		default:
			ok = false
		}
		if !ok {
			return -1, nil
		}
		return m, nil
	})
	return b, n, ok && isObject
}

// plainJSONString decodes a string literal of printable ASCII without
// escapes at the start of v (what json.Unmarshal returns for it), with its
// length; ok is false for any other value.
func plainJSONString(v []byte) (s string, n int, ok bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", 0, false
	}
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			return string(v[1:i]), i + 1, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// plainJSONUint decodes a JSON integer at the start of v into a uint64 as
// json.Unmarshal would, with its length; ok is false (and stays false) for
// anything else: a sign, a fraction, an exponent, null, overflow.
func plainJSONUint(v []byte, ok bool) (uint64, int, bool) {
	if !ok {
		return 0, 0, false
	}
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 || jsonValueEnd(v, 0) != i {
		return 0, 0, false
	}
	u, err := strconv.ParseUint(string(v[:i]), 10, 64)
	return u, i, err == nil
}

// decodeAnswer is decodeJSONOnce(path, body, &an) for an answer envelope.
// A valid document whose envelope fields are of the usual shape (the
// exact field names, once each; booleans, null, plain strings, an int32
// code) is read without encoding/json's decoder, which copies the whole
// answer into its own buffer and scans it twice more; anything else goes
// through decodeJSONOnce, which decides and words the error as always.
//
// The fast way also returns the envelope's keys, which checkKeys would
// otherwise walk the answer again to find (nil the other way).
func decodeAnswer(path string, body []byte) (answer, *keyList, error) {
	keys := new(keyList)
	if an, ok := decodeCommonAnswer(body, keys); ok {
		return an, keys, nil
	}
	var an answer
	err := decodeJSONOnce(path, body, &an)
	return an, nil, err
}

func decodeCommonAnswer(body []byte, keys *keyList) (an answer, ok bool) {
	if !json.Valid(body) {
		return answer{}, false
	}
	ok = true
	var seen [5]bool
	field := func(f int) {
		if seen[f] {
			ok = false // repeated: encoding/json keeps the last
		}
		seen[f] = true
	}
	optString := func(v []byte) (*string, int) {
		if hasLiteral(v, "null") {
			return nil, 4
		}
		s, m, sok := plainJSONString(v)
		if !sok {
			ok = false
			return nil, -1
		}
		return &s, m
	}
	_, isObject, _ := jsonObject(body, func(k jsonKeyLit, keyEnd int, v []byte) (int, error) {
		keys.add(k, keyEnd)
		if !ok {
			return -1, nil
		}
		switch {
		case k.is("success"):
			field(0)
			switch {
			case hasLiteral(v, "true"), hasLiteral(v, "false"):
				b := v[0] == 't'
				an.Success = &b
				return jsonValueEnd(v, 0), nil
			case hasLiteral(v, "null"):
				an.Success = nil
				return 4, nil
			}
		case k.is("error_code"):
			field(1)
			if hasLiteral(v, "null") {
				an.ErrorCode = nil
				return 4, nil
			}
			m := jsonValueEnd(v, 0)
			if c, err := strconv.ParseInt(string(v[:m]), 10, 32); err == nil && plainJSONInt(v[:m]) {
				c32 := int32(c)
				an.ErrorCode = &c32
				return m, nil
			}
		case k.is("error_message"):
			field(2)
			var m int
			if an.ErrorMessage, m = optString(v); ok {
				return m, nil
			}
		case k.is("error"):
			field(3)
			var m int
			if an.Error, m = optString(v); ok {
				return m, nil
			}
		case k.is("data"):
			field(4)
			m := jsonValueEnd(v, 0)
			an.Data = json.RawMessage(v[:m])
			return m, nil
		default:
			ks := k.String()
			for _, n := range answerKeys {
				if ks != n && strings.EqualFold(ks, n) {
					ok = false // encoding/json would fill the field anyway
				}
			}
			return -1, nil
		}
		ok = false
		return -1, nil
	})
	return an, ok && isObject
}

// plainJSONInt reports an integer literal: an optional '-' and digits.
func plainJSONInt(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
