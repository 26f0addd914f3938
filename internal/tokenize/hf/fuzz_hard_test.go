package hf

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseSyntax checks the scanner's validation against encoding/json:
// a *SyntaxError has an offset within the file, and a file that
// encoding/json finds valid, that is valid UTF-8, holds no surrogate
// escape and nests at most MaxNesting levels is never a *SyntaxError (it
// may be of the wrong shape: that is another error).
func FuzzParseSyntax(f *testing.F) {
	for _, s := range []string{
		string(minimal(`"normalizer":{"type":"NFC"}`)),
		`{"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		`{"x":"\ud800"}`, `{"x":"\ud83d\ude00"}`, "{\"x\":\"\xff\"}", `{"x":01}`, `{"x":1.5e+3}`, `{"x":-0}`,
		`{"x":[1,]}`, `{"x":{"a":1,}}`, `{"x":tru}`, "{}\x00", `{"added_tokens":[{"id":1,"content":"\udc00"}]}`,
		`{"model":{"type":"BPE","vocab":{"a":01},"merges":[]}}`, `{"model":{"type":"BPE","vocab":{},"merges":[["a"]]}}`,
		`0`, `{"model":5}`, `{"model":{"vocab":{"a":"b"},"merges":5}}`, `{"model":{"vocab":{"a":0},"merges":[["a",1]]}}`, `{"model":{"vocab":{"a":0},"merges":[1]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse(data)
		var se *SyntaxError
		isSyntax := errors.As(err, &se)
		if isSyntax && (se.Offset < 0 || se.Offset > len(data)) {
			t.Fatalf("offset %d outside the %d bytes: %v", se.Offset, len(data), err)
		}
		if isSyntax && json.Valid(data) && utf8.Valid(data) && !hasSurrogateEscape(data) && nesting(data) <= MaxNesting {
			t.Fatalf("valid JSON refused: %v", err)
		}
	})
}

// hasSurrogateEscape reports a \uD800-\uDFFF escape (paired or not).
func hasSurrogateEscape(data []byte) bool {
	s := strings.ToLower(string(data))
	for i := 0; i+3 < len(s); i++ {
		if s[i] == '\\' && s[i+1] == 'u' && s[i+2] == 'd' && s[i+3] >= '8' && s[i+3] <= 'f' && !(s[i+3] >= '0' && s[i+3] <= '7') {
			return true
		}
		if s[i] == '\\' {
			i++ // an escaped backslash is not the start of an escape
		}
	}
	return false
}

// nesting is the deepest nesting of arrays and objects of valid JSON.
func nesting(data []byte) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// FuzzEncodeErrors: invalid UTF-8 is reported at the offset of the first
// invalid byte, and EncodeContext with a live context encodes exactly as
// Encode does.
func FuzzEncodeErrors(f *testing.F) {
	for _, s := range []string{"ok\xffnot", "\xed\xa0\x80", "abc\xf0\x9f\x98", "é\xc3(", "fine", "<|im_start|>\xfe<|im_end|>"} {
		f.Add(s)
	}
	tok := qwen3(f)
	f.Fuzz(func(t *testing.T, text string) {
		ids, err := tok.EncodeContext(context.Background(), text, true)
		if utf8.ValidString(text) {
			want, werr := tok.Encode(text, true)
			if err != nil || werr != nil || !slicesEqual(ids, want) {
				t.Fatalf("EncodeContext %v %v, Encode %v %v", ids, err, want, werr)
			}
			return
		}
		var ue *InvalidUTF8Error
		if !errors.As(err, &ue) || !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("invalid UTF-8: %v", err)
		}
		r, sz := utf8.DecodeRuneInString(text[ue.Offset:])
		if !utf8.ValidString(text[:ue.Offset]) || r != utf8.RuneError || sz != 1 || !strings.HasPrefix(text[ue.Offset:], string(ue.Bytes)) {
			t.Fatalf("%q: offset %d (% x) is not the first invalid byte", text, ue.Offset, ue.Bytes)
		}
	})
}
