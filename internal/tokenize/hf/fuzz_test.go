package hf

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncode: never panics, ids are in the vocabulary, encoding is
// deterministic, and the tokens spell the normalized text back.
func FuzzEncode(f *testing.F) {
	loadTestdata(f)
	for _, c := range vectors.Variants[0].Cases {
		f.Add(c.Text, false, false)
	}
	f.Add("x'S 'll", true, true)
	f.Add("\xff\xfe", true, false)
	qwen := qwen3(f)
	sp, err := Parse(spRaw)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, special, useSP bool) {
		tok := qwen
		if useSP {
			tok = sp
		}
		ids, err := tok.Encode(text, special)
		if !utf8.ValidString(text) {
			if !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("Encode(invalid UTF-8) error = %v, want ErrInvalidUTF8", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Encode(%q, %v) error = %v, want nil", text, special, err)
		}
		for _, id := range ids {
			if id > tok.MaxID() {
				t.Fatalf("id %d above MaxID() %d", id, tok.MaxID())
			}
			if _, ok := tok.Token(id); !ok {
				t.Fatalf("Token(%d) found nothing, want the token of an id Encode returned", id)
			}
		}
		again, err := tok.AppendEncode(make([]uint32, 0, 1), text, special)
		if err != nil || !slicesEqual(ids, again) {
			t.Fatalf("not deterministic: Encode gave %v, AppendEncode %v (error %v); want the same ids, nil", ids, again, err)
		}
		if tok == qwen && !special && !strings.Contains(text, "<|") {
			var b bytes.Buffer
			for _, id := range ids {
				p, _ := tok.TokenBytes(id)
				b.Write(p)
			}
			want, err := tok.norm.apply(&state{}, nil, []byte(text))
			if err != nil {
				t.Fatalf("normalizing %q: %v", text, err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Fatalf("tokens spell %q, want %q", b.Bytes(), want)
			}
		}
	})
}

func slicesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzParse: malformed or unusual tokenizer.json files are refused with an
// error, never a panic, and what parses encodes without panicking.
func FuzzParse(f *testing.F) {
	loadTestdata(f)
	f.Add(spRaw)
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data)
		if err != nil {
			return
		}
		_ = tok.Describe().String()
		for _, s := range []string{"", "Hello world", " a  b\n\n", "<s>x</s>", "日本語 123 😀", string(data[:min(len(data), 64)])} {
			ids, err := tok.Encode(strings.ToValidUTF8(s, "?"), true)
			if err != nil {
				continue
			}
			for _, id := range ids {
				if id > tok.MaxID() {
					t.Fatalf("Encode(%q): id %d above MaxID() %d", s, id, tok.MaxID())
				}
			}
		}
	})
}

var parseSeeds = []string{
	`{}`,
	`null`,
	`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`,
	`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\s+(?!\\S)|\\s+|a+"},"behavior":"Isolated","invert":false}}`,
	`{"model":{"type":"BPE","vocab":{"<unk>":0,"a":1},"merges":[],"unk_token":"<unk>","fuse_unk":true},"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}}`,
	`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"id":1,"content":"<s>","single_word":true,"lstrip":true,"rstrip":true,"normalized":true,"special":true}],"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}}}`,
	`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}}`,
	`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true,"use_regex":true}}`,
	`{"model":{"type":"WordPiece","vocab":{"a":0}}}`,
	`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Precompiled","precompiled_charsmap":""}}`,
	`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a*)*"},"behavior":"Isolated","invert":false}}`,
	`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?:a|aa)+(?:a|aa)+b"},"behavior":"Removed","invert":true}}`,
	`{"version":"2.0","model":{"type":"BPE","vocab":{},"merges":[]}}`,
	`{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}}`,
	`{"model":{"type":"BPE","vocab":{"a":4294967295},"merges":[]}}`,
	`{"model":{"type":"BPE","vocab":{"a\u0000\ud83d\ude00":0},"merges":[]}}`,
}

// FuzzRegex compares the backtracking engine with Go's regexp on patterns
// both accept with the same meaning: both are leftmost-first, and both
// skip an empty match right after the previous match.
func FuzzRegex(f *testing.F) {
	for _, s := range [][2]string{
		{`a+|b`, "aab b"},
		{`(?:ab|a)(?:bc|c)?`, "abc abcc ac"},
		{`x*`, "axxb"},
		{`[^a-c]+|\p{L}{1,3}`, "abcdéfgh 12"},
		{`(?i:'s|'t|'re)`, "it's IT'S 're"},
		{` ?\p{L}+| ?\p{N}+| ?[^ \p{L}\p{N}]+`, "Hello world 123!!"},
		{`a{2,}?b|a??c`, "aaab ac c"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		// findAll follows tokenizers for empty text (no match at all).
		if text == "" || len(pattern) > 64 || len(text) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(text) {
			return
		}
		// Constructs whose meaning differs between Oniguruma and RE2.
		for _, bad := range []string{`\s`, `\S`, `\w`, `\W`, `\d`, `\D`, `\b`, `\B`, `^`, `$`, `\A`, `\z`, `\Z`, `(?`, `\x`, `\u`, `\p{^`, `\P`, `[[`, `\Q`, `\C`, `\v`, `\h`, `\H`, `\a`, `\e`, `\0`, `\1`, `\R`, `\X`, `\K`, `{,`, `[:`, `\p{C}`, `&&`, `.`, `\p{Any`, `{0`, `,0`} {
			if strings.Contains(pattern, bad) {
				return
			}
		}
		goRe, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		re, err := compileRegex(pattern)
		if err != nil {
			return
		}
		var m matcher
		spans, err := m.findAll(re, []byte(text), nil)
		if err != nil {
			return
		}
		var got [][]int
		for _, s := range spans {
			if s.match {
				got = append(got, []int{int(s.start), int(s.end)})
			}
		}
		want := goRe.FindAllStringIndex(text, -1)
		if len(got) != len(want) {
			t.Fatalf("%q on %q: got %v, want %v", pattern, text, got, want)
		}
		for i := range got {
			if got[i][0] != want[i][0] || got[i][1] != want[i][1] {
				t.Fatalf("%q on %q: got %v, want %v", pattern, text, got, want)
			}
		}
	})
}
