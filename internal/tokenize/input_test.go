package tokenize

import (
	"errors"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		format   Format
		want     [][]uint32
		ids      []string
	}{
		{"array", "[1, 2,3]\n", FormatJSONArray, [][]uint32{{1, 2, 3}}, []string{""}},
		{"empty array", "[]", FormatJSONArray, [][]uint32{nil}, []string{""}},
		{"object tokens", `{"tokens": [5, 6], "count": 2, "max_model_len": 8192}`, FormatJSONObject, [][]uint32{{5, 6}}, []string{""}},
		{"object token_ids", `{"id": "a", "token_ids": [4294967295]}`, FormatJSONObject, [][]uint32{{4294967295}}, []string{"a"}},
		{"object prompt_token_ids nested skip", `{"meta": {"x": [1, {"y": null}], "s": "a\"b"}, "prompt_token_ids": [0], "f": 1.5e3, "t": true}`, FormatJSONObject, [][]uint32{{0}}, []string{""}},
		{"jsonl", "{\"id\": 7, \"tokens\": [1]}\n[2, 3]\n\n{\"id\":\"x\",\"tokens\":[]}\n", FormatJSONLines, [][]uint32{{1}, {2, 3}, {}}, []string{"7", "", "x"}},
		{"plain", "1 2\n3,4 , 5\r\n", FormatPlain, [][]uint32{{1, 2, 3, 4, 5}}, []string{""}},
		{"bom", "\xef\xbb\xbf[9]", FormatJSONArray, [][]uint32{{9}}, []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.HalfReader} {
				rd := NewReader(wrap(strings.NewReader(c.in)), "in.json")
				var got [][]uint32
				var ids []string
				for {
					p, err := rd.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatalf("Next() error = %v, want nil", err)
					}
					got = append(got, p.Tokens)
					ids = append(ids, p.ID)
				}
				if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(ids, c.ids) {
					t.Fatalf("tokens, ids = %v %q, want %v %q", got, ids, c.want, c.ids)
				}
				if rd.Format() != c.format {
					t.Fatalf("Format() = %s, want %s", rd.Format(), c.format)
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"", `in.json:1:1: found empty input, expected token IDs`},
		{"[1, 2,\n 3, x]", `in.json:2:5: found "x", expected a token ID (an integer 0..4294967295)`},
		{"[1, -2]", `in.json:1:5: found "-2", expected a token ID (an integer 0..4294967295) (token IDs are never negative)`},
		{"[4294967296]", `in.json:1:2: found 4294967296, expected a token ID (an integer 0..4294967295) (too large for a token ID)`},
		{"[1.5]", `in.json:1:2: found "1.…", expected a token ID (an integer 0..4294967295) (token IDs are integers)`},
		{"[1 2]", `in.json:1:4: found "2", expected ',' or ']' in the token array`},
		{"[1, 2", `in.json:1:6: found end of input, expected ',' or ']' in the token array`},
		{`{"foo": [1]}`, `in.json:1:1: found an object without token IDs, expected a "tokens", "token_ids", "prompt_token_ids" or "input_ids" field`},
		{`{"tokens": [1], "token_ids": [2]}`, `in.json:1:17: found both "tokens" and "token_ids", expected one field with the token IDs`},
		{`{"tokens": "1 2"}`, `in.json:1:12: found "\"1", expected a JSON array of token IDs for "tokens"`},
		{"[1] [2]", `in.json:1:5: found "[2", expected a new line before the next prompt (JSON Lines holds one prompt per line)`},
		{"[1]\n2", `in.json:2:1: found "2", expected end of input or the next JSON Lines prompt ('[' or '{')`},
		{"1 2 x", `in.json:1:5: found "x", expected a token ID (an integer 0..4294967295) (plain input is integers separated by spaces, newlines or commas)`},
		{"1,2,", `in.json:1:5: found end of input, expected a token ID after ','`},
		{`"hello"`, `in.json:1:1: found "\"hello\"", expected token IDs: a JSON array, a JSON object with "tokens", JSON Lines, or integers separated by spaces or commas (text prompts need a tokenizer; this input must hold token IDs)`},
		{"[[1],[2]]", `in.json:1:2: found a nested array, expected a token ID (for several prompts use JSON Lines: one array or object per line)`},
		{`{"x": bogus, "tokens": [1]}`, `in.json:1:7: found "bogus", expected a JSON value`},
		{"[01]", `in.json:1:2: found 01, expected a token ID (an integer 0..4294967295) (JSON numbers have no leading zeros)`},
	}
	for _, c := range cases {
		_, err := ReadAll(strings.NewReader(c.in), "in.json")
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("ReadAll(%q) error = %v, want an *InputError", c.in, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("ReadAll(%q) error:\n got %s\nwant %s (as a prefix)", c.in, err, c.want)
		}
	}
}

func TestParseTokenList(t *testing.T) {
	t.Parallel()
	got, err := ParseTokenList("1,2, 3")
	if want := []uint32{1, 2, 3}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseTokenList(%q) = %v, %v; want %v, nil", "1,2, 3", got, err, want)
	}
	if _, err := ParseTokenList("1,,2"); err == nil || !strings.HasPrefix(err.Error(), "--tokens:1:3:") {
		t.Fatalf("ParseTokenList(%q) error = %v, want one starting with %q", "1,,2", err, "--tokens:1:3:")
	}
}

// A large input is read in a fixed window: the Reader never holds more than
// the 64 KiB buffer plus the tokens.
func TestReadLargeStreams(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 200000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("128000")
	}
	b.WriteString("]")
	ps, err := ReadAll(strings.NewReader(b.String()), "big.json")
	if err != nil || len(ps) != 1 || len(ps[0].Tokens) != 200000 {
		n := -1
		if len(ps) > 0 {
			n = len(ps[0].Tokens)
		}
		t.Fatalf("ReadAll = %d prompts (first with %d tokens), error %v; want 1 prompt of 200000 tokens, nil", len(ps), n, err)
	}
}

func FuzzReadPrompts(f *testing.F) {
	for _, s := range []string{"[1,2,3]", `{"tokens":[1],"id":"a"}`, "{\"tokens\":[1]}\n[2]\n", "1 2,3", "", "[", `{"x":[{"y":"\u00e9"}],"tokens":[]}`, "\xef\xbb\xbf[1]", "[4294967296]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ReadAll(strings.NewReader(string(data)), "fuzz")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("ReadAll error = %T %v, want an *InputError", err, err)
			}
			if ie.Line < 1 || ie.Col < 1 {
				t.Fatalf("InputError position = %d:%d, want line and column >= 1", ie.Line, ie.Col)
			}
			return
		}
		if len(ps) == 0 {
			t.Fatal("ReadAll = no prompts and no error, want at least one prompt or an error")
		}
	})
}

func FuzzParseTokenList(f *testing.F) {
	for _, s := range []string{"1,2,3", "1 2", "[1]", ",", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := ParseTokenList(s)
		if err == nil && toks == nil && strings.Join(strings.Fields(s), "") != "[]" { // "[ ]" is "[]"
			t.Fatalf("ParseTokenList(%q) = nil, nil; want tokens or an error", s)
		}
	})
}

// A 1,000,000-token input needs a few times its token count in memory: the
// uint32 slice (4 MB) plus its growth, plus the 64 KiB window.
//
// Not parallel: it measures this test's allocations through the process-wide
// runtime.MemStats, which other running tests would inflate.
func TestReadMillionTokensMemory(t *testing.T) {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := 0; i < 1_000_000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(100000 + i%28000))
	}
	sb.WriteByte(']')
	in := sb.String()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ps, err := ReadAll(strings.NewReader(in), "big")
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("ReadAll error = %v, want nil", err)
	}
	if got := len(ps[0].Tokens); got != 1_000_000 {
		t.Fatalf("ReadAll = %d tokens, want 1000000", got)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	if perToken := float64(allocated) / 1e6; perToken > 16 {
		t.Fatalf("%.1f bytes allocated per token (want <= 16: 4 for the ID plus slice growth)", perToken)
	}
	t.Logf("%.1f bytes allocated per token", float64(allocated)/1e6)
}
