package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestValueEnd(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		end  int
		ok   bool
		name string
	}{
		{`"a\"b",1`, 6, true, "escaped quote"},
		{`"a\\",1`, 5, true, "escaped backslash"},
		{`{"k":"}"},`, 9, true, "bracket in a string"},
		{`[1,[2,{"x":[]}]] `, 16, true, "nesting"},
		{`123,`, 3, true, "number"},
		{`true}`, 4, true, "literal"},
		{`null`, 4, true, "literal at the end"},
		{`"open`, 5, false, "unterminated string"},
		{`{"a":1`, 6, false, "unclosed object"},
		{`[1, "x]`, 7, false, "string unclosed in an array"},
		{``, 0, false, "empty"},
	} {
		end, ok := ValueEnd([]byte(c.in), 0)
		if end != c.end || ok != c.ok {
			t.Errorf("%s: ValueEnd(%q) = %d, %v; want %d, %v", c.name, c.in, end, ok, c.end, c.ok)
		}
	}
	if got := Space([]byte(" \t\r\nx"), 0); got != 4 {
		t.Errorf("Space = %d, want 4", got)
	}
}

// FuzzValueEnd: on valid JSON, the value at the start ends exactly where
// encoding/json's decoder says; on anything, the end stays within bounds.
func FuzzValueEnd(f *testing.F) {
	for _, s := range []string{`{"a":[1,"]",{"b":"\\\""}]}`, `"x\\\\"`, `[]`, `-1.5e3`, `{"k":"\u00e9"}`, `"unterminated`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		i := Space(b, 0)
		end, ok := ValueEnd(b, i)
		if end < i || end > len(b) {
			t.Fatalf("ValueEnd(%q, %d) = %d, out of bounds", b, i, end)
		}
		if !json.Valid(b) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("valid JSON %q did not decode: %v", b, err)
		}
		if want := int(dec.InputOffset()); !ok || end != want {
			t.Fatalf("ValueEnd(%q) = %d, %v; encoding/json ends it at %d", b, end, ok, want)
		}
	})
}
