package tokenize

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lmc/internal/boundedio"
)

// readPrompt reads the one prompt of a JSON object.
func readPrompt(s string) (*Prompt, error) {
	ps, err := ReadAll(strings.NewReader(s), "in.jsonl")
	if err != nil {
		return nil, err
	}
	return &ps[0], nil
}

// TestPromptStrings: "prompt" strings decode as the engine's JSON parser
// does, and anything it would reject or alter (invalid UTF-8, lone
// surrogates, control characters, bad escapes) is an error at its
// position instead of a U+FFFD.
func TestPromptStrings(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`"héllo"`, "héllo"},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{`"\u00e9\u4E2D"`, "é中"},
		{`"\ud83d\ude00 ok"`, "😀 ok"},
		{`"\u0000"`, "\x00"},
		{`"\ufffd"`, "\ufffd"}, // a real U+FFFD is text like any other
	} {
		p, err := readPrompt(`{"prompt":` + c.in + `}`)
		if err != nil || p.Text == nil || *p.Text != c.want {
			t.Errorf("%s: got %v %v, want %q", c.in, p, err, c.want)
		}
	}
	for _, c := range []struct{ in, found, pos string }{
		{"\"ok \xff\"", "invalid UTF-8 (ff) at byte offset 14", ":1:15:"},
		{"\"\xc3(\"", "invalid UTF-8 (c3) at byte offset 11", ":1:12:"},
		{"\"\xed\xa0\x80\"", "invalid UTF-8 (ed a0 80) at byte offset 11", ":1:12:"}, // an encoded surrogate
		{"\"abc\xe4\xb8\"", "invalid UTF-8 (e4 b8) at byte offset 14", ":1:15:"},
		{`"a\ud800"`, `a lone surrogate \ud800`, ":1:13:"},
		{`"\udc00x"`, `a lone surrogate \udc00`, ":1:12:"},
		{`"\ud800\u0041"`, `a lone surrogate \ud800`, ":1:12:"},
		{`"\ud800\n"`, `a lone surrogate \ud800`, ":1:12:"},
		{`"\x41"`, `"\\x"`, ":1:12:"},
		{`"\u12"`, `a malformed \u escape`, ":1:12:"},
		{"\"a\tb\"", `control character '\t' inside a string`, ":1:13:"},
		{"\"a\x00b\"", `control character '\x00' inside a string`, ":1:13:"},
	} {
		_, err := readPrompt(`{"prompt":` + c.in + `}`)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.found) || !strings.Contains(err.Error(), c.pos) {
			t.Errorf("%q: got %v, want %q at %s", c.in, err, c.found, c.pos)
		}
	}
	// The same in chat messages and in ignored fields.
	for _, in := range []string{
		`{"messages":[{"role":"user","content":"\udfff"}]}`,
		"{\"messages\":[{\"role\":\"user\",\"content\":\"\xfe\"}]}",
		`{"tokens":[1],"note":"\ud800"}`,
	} {
		if _, err := readPrompt(in); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

// endless is an io.Reader of prefix and then c for ever; it counts what
// was read.
type endless struct {
	prefix string
	c      byte
	n      int64
}

func (e *endless) Read(p []byte) (int, error) {
	k := copy(p, e.prefix)
	e.prefix = e.prefix[k:]
	for i := k; i < len(p); i++ {
		p[i] = e.c
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestEndlessInputs: inputs that never end fail once past their limit, or
// at once for bytes JSON cannot hold, instead of reading for ever.
func TestEndlessInputs(t *testing.T) {
	for _, c := range []struct {
		name string
		src  *endless
		want string
		max  int64 // bytes that may be read
	}{
		{"NUL bytes in a prompt", &endless{prefix: `{"prompt":"`, c: 0}, "control character", 1 << 20},
		{"a prompt without end", &endless{prefix: `{"prompt":"`, c: 'a'}, "a string longer than 16777216 bytes", maxTextBytes + 1<<20},
		{"messages nested without end", &endless{prefix: `{"messages":[`, c: '['}, "nesting deeper than 64 levels", 1 << 20},
	} {
		start := time.Now()
		_, err := ReadAll(c.src, "in")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
		if c.src.n > c.max {
			t.Errorf("%s: read %d bytes", c.name, c.src.n)
		}
		t.Logf("%s: failed after %d bytes, %v", c.name, c.src.n, time.Since(start))
	}
}

// TestMessagesBound: the 16 MiB bound on "messages" applies while they are
// read, not after buffering them.
func TestMessagesBound(t *testing.T) {
	msg := `{"role":"user","content":"` + strings.Repeat("x", 1<<20) + `"},`
	src := io.MultiReader(strings.NewReader(`{"messages":[`), &repeatReader{s: msg})
	cr := &countReader{r: src}
	_, err := ReadAll(cr, "chat.jsonl")
	if err == nil || !strings.Contains(err.Error(), "messages larger than 16 MiB") {
		t.Fatalf("got %v", err)
	}
	if cr.n > maxTextBytes+4<<20 {
		t.Errorf("read %d bytes", cr.n)
	}
	// Content longer than 1 MiB is fine in a message.
	p, err := readPrompt(`{"messages":[{"role":"user","content":"` + strings.Repeat("y", 3<<20) + `"}]}`)
	if err != nil || len(p.Messages) < 3<<20 {
		t.Errorf("3 MiB message: %v", err)
	}
}

type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.s[r.off:])
		n += k
		r.off = (r.off + k) % len(r.s)
	}
	return n, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestTooManyTokens(t *testing.T) {
	for _, prefix := range []string{"", "["} {
		src := io.MultiReader(strings.NewReader(prefix), &repeatReader{s: "7,"})
		cr := &countReader{r: src}
		_, err := ReadAll(cr, "in")
		if err == nil || !strings.Contains(err.Error(), "more than 16777216 token IDs in one prompt") {
			t.Errorf("%q: got %v", prefix, err)
		}
		if cr.n > 2*MaxPromptTokens+1<<20 {
			t.Errorf("%q: read %d bytes", prefix, cr.n)
		}
	}
}

// FuzzPromptString: a "prompt" string is accepted only if encoding/json
// decodes it to the same text and it holds no invalid UTF-8 or lone
// surrogate (which encoding/json would replace by U+FFFD).
func FuzzPromptString(f *testing.F) {
	for _, s := range []string{`abc`, `\u00e9`, `\ud83d\ude00`, `\ud800`, "\xff", `\"`, "é\\n", `\u`, "\xed\xa0\x80", `\udbff\udfff`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		in := `{"prompt":"` + body + `"}`
		p, err := readPrompt(in)
		var want string
		jerr := json.Unmarshal([]byte(in[10:len(in)-1]), &want)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%q: %T %v", in, err, err)
			}
			return
		}
		if p.Text == nil {
			return // the body closed the string early: another object
		}
		if jerr != nil {
			t.Fatalf("%q: accepted %q, encoding/json refuses it: %v", in, *p.Text, jerr)
		}
		if *p.Text != want || !utf8.ValidString(*p.Text) {
			t.Fatalf("%q: got %q, encoding/json %q", in, *p.Text, want)
		}
		if strings.ContainsRune(want, utf8.RuneError) && !strings.Contains(body, "\ufffd") && !strings.Contains(strings.ToLower(body), `\ufffd`) {
			t.Fatalf("%q: accepted a text encoding/json altered to %q", in, want)
		}
	})
}

// TestReadTextFile: prompt files are bounded and must be UTF-8; the error
// names the file, the line, the column and the byte offset.
func TestReadTextFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	if err := os.WriteFile(good, []byte("héllo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadTextFile(context.Background(), good); err != nil || s != "héllo\n" {
		t.Errorf("good: %q %v", s, err)
	}
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("line one\nab\xe9cd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadTextFile(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), bad+":2:3: found invalid UTF-8 (e9) at byte offset 11") {
		t.Errorf("bad: %v", err)
	}
	big := filepath.Join(dir, "big.txt")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxTextBytes + 1)
	f.Close()
	var fe *boundedio.TooLargeError
	if _, err := ReadTextFile(context.Background(), big); !errors.As(err, &fe) || !strings.Contains(err.Error(), "16.0 MiB (16777217 bytes), more than the 16 MiB limit for a prompt") {
		t.Errorf("big: %v", err)
	}
	if _, err := ReadTextFile(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	zero := filepath.Join(dir, "zero")
	if os.Symlink("/dev/zero", zero) == nil {
		if _, err := ReadTextFile(ctx, zero); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
		if _, err := boundedio.ReadFile(context.Background(), zero, 1<<20, "a test"); !errors.As(err, &fe) || !strings.Contains(err.Error(), "more than the 1 MiB limit for a test") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

func TestReadMessagesFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, content, want string }{
		{"ok.json", `{"messages":[{"role":"user","content":"` + strings.Repeat("é", 1<<20) + `"}]}` + "\n", ""},
		{"array.json", "\xef\xbb\xbf" + `[{"role":"user","content":"hi"}]`, ""},
		{"surrogate.json", "[\n" + `{"role":"user","content":"a\udc00"}]`, ":2:28: found a lone surrogate \\udc00"},
		{"latin1.json", `[{"role":"user","content":"caf` + "\xe9" + `"}]`, ":1:31: found invalid UTF-8 (e9) at byte offset 30"},
		{"two.json", `[] []`, ":1:4: found \"[\", expected end of input"},
		{"broken.json", `[{"role":}]`, ":1:10:"},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := ReadMessagesFile(context.Background(), p)
		if c.want == "" {
			if err != nil || string(b) != c.content {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), p+c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
