package mooncake

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// walkNames reads an object's member names and their end offsets through
// json.Decoder tokens, as checkKeys did before memberNames.
func walkNames(raw []byte) ([]string, []int, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	var names []string
	var ends []int
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, _ := t.(string)
		names = append(names, k)
		ends = append(ends, int(dec.InputOffset()))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, nil, false
		}
	}
	return names, ends, true
}

// FuzzMemberNames: on every valid JSON object, the byte scan reads the same
// member names at the same offsets as the token walk (a differential
// target), and it never claims a name from anything else.
func FuzzMemberNames(f *testing.F) {
	for _, s := range []string{
		`{"success":true,"data":{"a":{"ok":true,"values":[{"x":"}"}]}}}`,
		`{"a\"b":1,"\u0041":[{"k":"v"}],"é":null}`,
		` { "ok" : false , "error" : "OBJECT_NOT_FOUND" , "Ok" : true } `,
		`{"a":"\\","b":"]}"}`, `{}`, `[1]`, `{"x":{"y":[]},"z":"\xff"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		names, ends, ok := memberNames(raw)
		if !json.Valid(raw) {
			return // memberNames is only ever given decoded JSON
		}
		wn, we, wok := walkNames(raw)
		if !wok {
			if ok {
				t.Fatalf("%q: the scan read names %q of what is not an object", raw, names)
			}
			return
		}
		if !ok {
			t.Fatalf("%q: the scan gave up on a valid object (walk: %q)", raw, wn)
		}
		if !slices.Equal(names, wn) || !slices.Equal(ends, we) {
			t.Fatalf("%q: scan %q %v, walk %q %v", raw, names, ends, wn, we)
		}
	})
}
