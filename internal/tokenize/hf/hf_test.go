package hf

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestQwen3Basics(t *testing.T) {
	t.Parallel()
	tok := qwen3(t)
	ids, err := tok.Encode("<|im_start|>user\nHello world<|im_end|>", true)
	if err != nil {
		t.Fatalf("Encode error = %v, want nil", err)
	}
	want := []uint32{151644, 872, 198, 9707, 1879, 151645}
	if !slices.Equal(ids, want) {
		t.Fatalf("got %v, want %v", ids, want)
	}
	if tok.VocabSize() != 151669 || tok.MaxID() != 151668 {
		t.Errorf("VocabSize() %d, MaxID() %d; want 151669, 151668", tok.VocabSize(), tok.MaxID())
	}
	if s, ok := tok.Token(1879); !ok || s != "Ġworld" {
		t.Errorf("Token(1879) = %q, %v; want %q, true", s, ok, "Ġworld")
	}
	if b, ok := tok.TokenBytes(1879); !ok || string(b) != " world" {
		t.Errorf("TokenBytes(1879) = %q, %v; want %q, true", b, ok, " world")
	}
	if b, ok := tok.TokenBytes(151644); !ok || string(b) != "<|im_start|>" {
		t.Errorf("TokenBytes(151644) = %q, %v; want %q, true", b, ok, "<|im_start|>")
	}
	if s, ok := tok.Token(1 << 30); ok {
		t.Errorf("Token(1<<30) = %q, true; want not found", s)
	}
	if !tok.IsSpecial(151643) || tok.IsSpecial(9707) {
		t.Errorf("IsSpecial(151643) %v, IsSpecial(9707) %v; want true, false", tok.IsSpecial(151643), tok.IsSpecial(9707))
	}
	if _, err := tok.Encode("ok\xffnot", false); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("Encode(invalid UTF-8) error = %v, want ErrInvalidUTF8", err)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	d := qwen3(t).Describe()
	for _, want := range []string{
		"BPE (byte-level)", "151669", "NFC", "Split(", "ByteLevel(no regex)", "add_special_tokens has no effect",
	} {
		if !strings.Contains(d.String(), want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
	if len(d.Prefix) != 0 || len(d.SpecialTokens) != 14 {
		t.Errorf("Describe(): prefix %v, %d special tokens; want no prefix, 14", d.Prefix, len(d.SpecialTokens))
	}
	loadTestdata(t)
	for i := range vectors.Variants {
		v := &vectors.Variants[i]
		switch v.Name {
		case "llama3-template":
			d := variantTokenizer(t, v).Describe()
			if !slices.Equal(d.Prefix, []uint32{151643}) || len(d.Suffix) != 0 ||
				!strings.Contains(d.WithSpecial, "<|endoftext|> (151643) before the text") {
				t.Errorf("llama3-template: Describe() = %+v; want prefix [151643], no suffix, with-special text naming <|endoftext|> (151643) before the text", d)
			}
		case "sp-metaspace":
			tok := variantTokenizer(t, v)
			d := tok.Describe()
			if !strings.Contains(d.Model, "byte fallback") || !strings.Contains(d.PreTokenizer, "Metaspace") ||
				!slices.Equal(d.Prefix, []uint32{1}) {
				t.Errorf("sp-metaspace: Describe() = %+v; want a byte fallback model, a Metaspace pre-tokenizer, prefix [1]", d)
			}
			if b, ok := tok.TokenBytes(3 + 0x41); !ok || string(b) != "A" {
				t.Errorf("TokenBytes(0x44) = %q, %v; want %q, true (the byte fallback token of 'A')", b, ok, "A")
			}
			ids, err := tok.Encode(" the", false)
			if err != nil {
				t.Fatalf("sp-metaspace: Encode(%q): %v", " the", err)
			}
			var sb strings.Builder
			for _, id := range ids {
				b, _ := tok.TokenBytes(id)
				sb.Write(b)
			}
			if sb.String() != " the" { // the leading space becomes the prefix
				t.Errorf("metaspace tokens spell %q, want %q", sb.String(), " the")
			}
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	loadTestdata(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), spRaw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "tokenizer.json")} {
		tok, err := Load(p)
		if err != nil {
			t.Fatalf("Load(%s): %v", p, err)
		}
		ids, err := tok.Encode("hi", true)
		if err != nil {
			t.Fatalf("Load(%s): Encode(hi): %v", p, err)
		}
		if len(ids) == 0 || ids[0] != 1 {
			t.Errorf("Load(%s): Encode(hi, true) = %v, want ids starting with <s> (1)", p, ids)
		}
	}
	_, err := Load(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(a missing file) error = %v, want one matching os.ErrNotExist", err)
	}
}

func TestConcurrentEncode(t *testing.T) {
	t.Parallel()
	tok := qwen3(t)
	loadTestdata(t)
	cases := vectors.Variants[0].Cases
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []uint32
			for i := g; i < len(cases); i += 2 {
				var err error
				buf, err = tok.AppendEncode(buf[:0], cases[i].Text, false)
				if err != nil || !slices.Equal(buf, cases[i].Plain) {
					t.Errorf("AppendEncode(%q) = %v, %v; want %v, nil", cases[i].Text, buf, err, cases[i].Plain)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// minimal returns a tokenizer.json around a tiny BPE model with extra
// top-level members.
func minimal(extra string) []byte {
	s := `{"version":"1.0","model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"<unk>":3},"merges":["a b"],"unk_token":"<unk>"}`
	if extra != "" {
		s += "," + extra
	}
	return []byte(s + "}")
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, json, want string
		unsupported      bool
	}{
		{"precompiled", `"normalizer":{"type":"Precompiled","precompiled_charsmap":"AA=="}`, "normalizer: type Precompiled is not supported", true},
		{"lowercase", `"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Lowercase"}]}`, "normalizer: type Lowercase is not supported", true},
		{"bert pre", `"pre_tokenizer":{"type":"BertPreTokenizer"}`, "pre_tokenizer: type BertPreTokenizer is not supported", true},
		{"lookbehind", `"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?<=a)b"},"behavior":"Isolated","invert":false}`, "lookbehind is not supported", true},
		{"backref", `"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a)\\1"},"behavior":"Isolated","invert":false}`, `unsupported escape \1`, true},
		{"empty loop", `"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a*)+"},"behavior":"Isolated","invert":false}`, "can match the empty string", true},
		{"byte level first", `"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel","add_prefix_space":false},{"type":"Digits","individual_digits":true}]}`, "ByteLevel followed by other pre-tokenizers", true},
		{"bad behavior", `"pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"Sideways","invert":false}`, `unknown behavior "Sideways"`, false},
		{"post", `"post_processor":{"type":"Unknown"}`, "post_processor: type Unknown is not supported", true},
		{"template missing token", `"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}}],"special_tokens":{}}`, `missing special token "<s>"`, false},
		{"template B", `"post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"B","type_id":0}}],"special_tokens":{}}`, "uses sequence B", false},
	} {
		_, err := Parse(minimal(c.json))
		var ue *UnsupportedError
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &ue) != c.unsupported {
			t.Errorf("%s: Parse error = %v (unsupported %v), want one containing %q (unsupported %v)", c.name, err, errors.As(err, &ue), c.want, c.unsupported)
		}
	}
	for _, c := range []struct{ name, json, want string }{
		{"wordpiece", `{"model":{"type":"WordPiece","vocab":{"a":0}}}`, "model: type WordPiece is not supported"},
		{"unigram", `{"model":{"type":"Unigram","vocab":[["a",0.0]]}}`, "model: type Unigram is not supported"},
		{"no model", `{"normalizer":null}`, "model: missing"},
		{"dropout", `{"model":{"type":"BPE","dropout":0.1,"vocab":{},"merges":[]}}`, "dropout"},
		{"version", `{"version":"2.0","model":{"type":"BPE","vocab":{},"merges":[]}}`, `unknown tokenizer version "2.0"`},
		{"merge oov", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}}`, `merge token "b" is not in the vocabulary`},
		{"merged oov", `{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[["a","b"]]}}`, `merged token "ab" is not in the vocabulary`},
		{"bad merge", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b c"]}}`, "bad merge"},
		{"mixed merges", `{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b",["a","b"]]}}`, "mix strings and pairs"},
		{"truncated", `{"model":{"type":"BPE","vocab":{"a":0`, "unexpected end"},
		{"trailing", `{"model":{"type":"BPE","vocab":{},"merges":[]}} x`, "data after"},
		{"negative id", `{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`, "expected a token id"},
	} {
		_, err := Parse([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Parse error = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestUnkTokenMissing(t *testing.T) {
	t.Parallel()
	tok, err := Parse([]byte(`{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":"<unk>"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := tok.Encode("aaa", false); err != nil || !slices.Equal(ids, []uint32{0, 0, 0}) {
		t.Errorf("Encode(aaa) = %v, %v; want [0 0 0], nil", ids, err)
	}
	if _, err := tok.Encode("ab", false); err == nil || !strings.Contains(err.Error(), `unk_token "<unk>" is not in the vocabulary`) {
		t.Errorf("Encode(ab) error = %v, want one saying unk_token \"<unk>\" is not in the vocabulary", err)
	}
}

func TestAddedTokenIDs(t *testing.T) {
	t.Parallel()
	// tokenizers ignores the ids written in added_tokens: a token takes
	// its vocabulary id or the next free one.
	tok, err := Parse([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},
		"added_tokens":[
			{"id":7,"content":"<x>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
			{"id":9,"content":"b","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":false},
			{"id":8,"content":"<y>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Encode("a<x>b<y>", false)
	if err != nil || !slices.Equal(ids, []uint32{0, 2, 1, 3}) {
		t.Errorf("Encode(a<x>b<y>) = %v, %v; want [0 2 1 3], nil", ids, err)
	}
	if d := tok.Describe(); len(d.Notes) != 3 {
		t.Errorf("Describe().Notes = %q, want 3 notes", d.Notes)
	}
}

func TestRegexSemantics(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern, text string
		want          []string
	}{
		// The GPT-4 pattern's whitespace rules.
		{`\s+(?!\S)|\s+`, "a   b", []string{"a", "  ", " ", "b"}},
		{`\s*[\r\n]+|\s+(?!\S)|\s+|\S+`, "x  \n  \n  y", []string{"x", "  \n  \n", " ", " ", "y"}},
		{`\p{N}{1,3}|\p{L}+`, "12345abc", []string{"123", "45", "abc"}},
		{`(?i:'s|'t)|\p{L}+|'`, "IT'S it'S", []string{"IT", "'S", " ", "it", "'S"}},
		{`a++b|a+`, "aaab aaa", []string{"aaab", " ", "aaa"}},
		{`(?>a+)a|b`, "aaab", []string{"aaa", "b"}},
		{`a{2,3}?`, "aaaaa", []string{"aa", "aa", "a"}},
		{`[^\s\p{L}]+`, "a!?  b", []string{"a", "!?", "  b"}},
		{`\x{4e2d}|\u6587`, "中文", []string{"中", "文"}},
		{`x{,2}`, "xxx", []string{"xx", "x"}},
		{`a{`, "a{a{", []string{"a{", "a{"}},
		{`(?=b)`, "abab", []string{"a", "ba", "b"}},
		{`^a|b$`, "ab\nab", []string{"a", "b", "\n", "a", "b"}},
	} {
		re, err := compileRegex(c.pattern)
		if err != nil {
			t.Errorf("compileRegex(%q) error = %v, want nil", c.pattern, err)
			continue
		}
		var m matcher
		spans, err := m.findAll(re, []byte(c.text), nil)
		if err != nil {
			t.Fatalf("%q on %q: findAll error = %v, want nil", c.pattern, c.text, err)
		}
		var got []string
		for _, s := range spans {
			if s.start != s.end {
				got = append(got, c.text[s.start:s.end])
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q on %q: got %q, want %q", c.pattern, c.text, got, c.want)
		}
	}
	for _, bad := range []string{`(?<=a)`, `(?<!a)`, `\b`, `[[:alpha:]]`, `[a&&b]`, `(?x)a`, `a(?i)b`, `\p{Nope}`, `(`, `)`, `[a`, `*a`, `a{2}+`, `\xff`, `(?:)*`} {
		if _, err := compileRegex(bad); err == nil {
			t.Errorf("compileRegex(%q) error = nil, want an error", bad)
		}
	}
}

func TestRegexBudget(t *testing.T) {
	t.Parallel()
	re, err := compileRegex(`(?:a|aa)+(?:a|aa)+b`)
	if err != nil {
		t.Fatal(err)
	}
	var m matcher
	_, err = m.findAll(re, []byte(strings.Repeat("a", 80)), nil)
	if !errors.Is(err, errRegexLimit) {
		t.Fatalf("findAll error = %v, want errRegexLimit", err)
	}
}

func TestIgnoreMerges(t *testing.T) {
	t.Parallel()
	const vocab = `"vocab":{"a":0,"b":1,"c":2,"ab":3,"abc":4,"bc":5},"merges":["a b","b c"]`
	for _, c := range []struct {
		opt  string
		want []uint32
	}{
		{`"ignore_merges":false`, []uint32{3, 2}}, // merges: ab + c ("ab c" is no merge)
		{`"ignore_merges":true`, []uint32{4}},     // the word is in the vocabulary
	} {
		tok, err := Parse([]byte(`{"model":{"type":"BPE",` + vocab + `,` + c.opt + `}}`))
		if err != nil {
			t.Fatalf("Parse with %s: %v", c.opt, err)
		}
		if ids, err := tok.Encode("abc", false); err != nil || !slices.Equal(ids, c.want) {
			t.Errorf("%s: Encode(abc) = %v, %v; want %v, nil", c.opt, ids, err, c.want)
		}
	}
}
