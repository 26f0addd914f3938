package hf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lmc/internal/boundedio"
)

// TestDeepNesting: a file nested a million levels deep fails at once at
// the offset where it passes MaxNesting, wherever the nesting is.
func TestDeepNesting(t *testing.T) {
	const n = 1_000_000
	deep := strings.Repeat("[", n) + strings.Repeat("]", n)
	for _, c := range []struct{ name, json string }{
		{"unknown key", `{"x":` + deep + `}`},
		{"normalizer", `{"normalizer":` + deep + `}`},
		{"model field", `{"model":{"type":"BPE","x":` + deep + `}}`},
		{"added token", `{"added_tokens":[` + deep + `]}`},
		{"objects", `{"x":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + `}`},
	} {
		start := time.Now()
		_, err := Parse([]byte(c.json))
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "nested deeper than 128 levels") {
			t.Errorf("%s: got %v", c.name, err)
			continue
		}
		if se.Offset > 1000 || !strings.Contains(err.Error(), "offset ") {
			t.Errorf("%s: offset %d: %v", c.name, se.Offset, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", c.name, d)
		}
	}
	// MaxNesting levels are accepted.
	ok := `{"x":` + strings.Repeat("[", MaxNesting-1) + strings.Repeat("]", MaxNesting-1) + `,` + string(minimal(``)[1:])
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("%d levels: %v", MaxNesting, err)
	}
}

// TestSyntaxErrorOffsets: every syntax error, in any component, names its
// byte offset; encoding/json never sees malformed JSON.
func TestSyntaxErrorOffsets(t *testing.T) {
	base := string(minimal(""))
	base = base[:len(base)-1] // without the closing '}'
	for _, c := range []struct {
		name, tail string
		want       string // in the message
		at         string // the offset is that of the first occurrence of this
	}{
		{"trailing comma", `,"normalizer":{"type":"NFC",}}`, "want a string key", `}}`},
		{"bad literal", `,"normalizer":nul}`, "want a value", `nul}`},
		{"bad number", `,"x":01}`, "leading zero", `01}`},
		{"bad number 2", `,"x":1.}`, "digit after '.'", `}`},
		{"bad exponent", `,"x":1e}`, "digit in the exponent", `}`},
		{"missing colon", `,"x" 1}`, `want ':'`, `1}`},
		{"missing comma", `,"x":[1 2]}`, `want ',' or ']'`, `2]}`},
		{"unterminated", `,"x":"abc`, "unterminated string", ``},
		{"control char", ",\"x\":\"a\tb\"}", "control character 0x09", "\tb"},
		{"bad escape", `,"x":"a\qb"}`, `bad escape "\\q"`, `\q`},
		{"bad u escape", `,"x":"\u12G4"}`, `bad \u escape`, `\u12G4`},
		{"lone high surrogate", `,"x":"a\ud800b"}`, `lone surrogate \ud800`, `\ud800`},
		{"lone low surrogate", `,"x":"\udc00"}`, `lone surrogate \udc00`, `\udc00`},
		{"high then other", `,"x":"\ud800\u0041"}`, `lone surrogate \ud800`, `\ud800`},
		{"surrogate in a pattern", `,"pre_tokenizer":{"type":"Split","pattern":{"String":"\ud83d"},"behavior":"Isolated","invert":false}}`, `lone surrogate`, `\ud83d`},
		{"surrogate in an added token", `,"added_tokens":[{"id":5,"content":"\udfff"}]}`, `lone surrogate`, `\udfff`},
		{"invalid UTF-8", ",\"x\":\"ab\xffc\"}", "invalid UTF-8 in a string (byte 0xff)", "\xff"},
		{"invalid UTF-8 after escape", ",\"x\":\"\\n\xc3(\"}", "invalid UTF-8 in a string (byte 0xc3)", "\xc3"},
		{"NUL after the object", "}\x00", "data after the top-level object", "\x00"},
		{"garbage after", `} x`, "data after the top-level object", `x`},
		{"truncated", `,"normalizer":{"type":"NFC"`, "unexpected end of input", ``},
	} {
		doc := base + c.tail
		_, err := Parse([]byte(doc))
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a *SyntaxError with %q", c.name, err, c.want)
			continue
		}
		want := len(doc)
		if c.at != "" {
			want = len(base) + strings.Index(c.tail, c.at)
		}
		if se.Offset != want {
			t.Errorf("%s: offset %d, want %d (%v)", c.name, se.Offset, want, err)
		}
	}
	// Offsets inside the merges count from the start of the file.
	doc := `{"model":{"type":"BPE","vocab":{"a":0,"aa":1},"merges":[["a","a"],["a" "a"]]}}`
	_, err := Parse([]byte(doc))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != strings.Index(doc, `"a"]]`) {
		t.Errorf("merges: %v", err)
	}
}

// TestShapeErrorOffsets: well-formed JSON of the wrong shape is not a
// *SyntaxError, and names its offset too.
func TestShapeErrorOffsets(t *testing.T) {
	for _, c := range []struct{ doc, want, at string }{
		{`[]`, "a tokenizer.json is a JSON object", `[]`},
		{`{"model":5}`, "model must be an object", `5}`},
		{`{"added_tokens":{}}`, "added_tokens must be an array", `{}}`},
		{`{"model":{"vocab":{"a":"b"},"merges":[]}}`, "expected a token id", `"b"`},
		{`{"model":{"vocab":{"a":1.5},"merges":[]}}`, "token id must be an integer", `1.5`},
		{`{"model":{"vocab":{"a":4294967296},"merges":[]}}`, "token id out of range", `4294967296`},
		{`{"model":{"vocab":{"a":0},"merges":5}}`, "merges must be an array", `5}`},
		{`{"model":{"vocab":{"a":0,"aa":1},"merges":[["a","a"],7]}}`, "a merge must be a string or a pair", `7]`},
		{`{"model":{"vocab":{"a":0},"merges":[["a",1]]}}`, "a merge pair holds two strings", `1]`},
	} {
		_, err := Parse([]byte(c.doc))
		var se *SyntaxError
		want := "offset " + itoa(strings.Index(c.doc, c.at)) + ": " + c.want
		if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", c.doc, err, want)
		}
	}
}

func itoa(i int) string {
	return strconv.Itoa(i)
}

func TestComponentTooLarge(t *testing.T) {
	big := `{"type":"NFC","x":"` + strings.Repeat("a", maxComponentBytes) + `"}`
	_, err := Parse(minimal(`"normalizer":` + big))
	if err == nil || !strings.Contains(err.Error(), "normalizer: ") || !strings.Contains(err.Error(), "more than the 1048576") {
		t.Errorf("got %v", err)
	}
	_, err = Parse(minimal(`"pre_tokenizer":{"type":"Split","pattern":{"Regex":"` + strings.Repeat("a", maxPatternBytes+1) + `"},"behavior":"Isolated","invert":false}`))
	if err == nil || !strings.Contains(err.Error(), "longer than 65536 bytes") || strings.Count(err.Error(), "a") > 300 {
		t.Errorf("long pattern: %.300v", err)
	}
	_, err = Parse(minimal(`"pre_tokenizer":{"type":"Split","pattern":{"Regex":"` + strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300) + `"},"behavior":"Isolated","invert":false}`))
	if err == nil || !strings.Contains(err.Error(), "groups nested deeper than 200") {
		t.Errorf("deep groups: %v", err)
	}
}

// TestParseContextCancel: parsing a large file stops soon after the
// context ends.
func TestParseContextCancel(t *testing.T) {
	loadTestdata(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ParseContext(ctx, qwenRaw); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "parsing stopped") {
		t.Fatalf("cancelled before: %v", err)
	}
	worst := time.Duration(0)
	for _, d := range []time.Duration{5 * time.Millisecond, 40 * time.Millisecond, 100 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		var at time.Time
		tm := time.AfterFunc(d, func() { at = time.Now(); cancel() })
		_, err := ParseContext(ctx, qwenRaw)
		end := time.Now()
		tm.Stop()
		if err == nil {
			t.Logf("parsed before the cancellation after %v", d)
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		worst = max(worst, end.Sub(at))
	}
	t.Logf("parsing stopped %v after the cancellation (worst)", worst)
	if worst > time.Second {
		t.Errorf("stopped %v after the cancellation", worst)
	}
}

// TestLoadBounded: Load never reads more than MaxFileBytes: a larger
// regular file fails before reading, /dev/zero behind a symlink after
// MaxFileBytes, and both errors name the file and the limit.
func TestLoadBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileBytes + 1); err != nil { // sparse
		t.Fatal(err)
	}
	f.Close()
	start := time.Now()
	_, err = Load(big)
	var fe *boundedio.TooLargeError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "64 MiB limit for a tokenizer.json") {
		t.Errorf("large file: %v", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("large file: took %v", d)
	}
	zero := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Skip(err)
	}
	start = time.Now()
	_, err = Load(zero)
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), zero) || !strings.Contains(err.Error(), "more than the 64 MiB limit") {
		t.Errorf("/dev/zero: %v", err)
	}
	t.Logf("/dev/zero: failed in %v: %v", time.Since(start), err)
}

// TestLoadFIFOCancel: waiting for a FIFO's writer, or for its data, ends
// with the context.
func TestLoadFIFOCancel(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	// No writer.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := LoadContext(ctx, fifo); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("no writer: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("no writer: took %v", d)
	}
	// A writer that never writes.
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			time.Sleep(3 * time.Second)
			w.Close()
		}
	}()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if _, err := LoadContext(ctx2, fifo); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent writer: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("silent writer: took %v", d)
	}
}

// TestInvalidUTF8Offset: Encode names the offset of the first invalid
// byte, and errors.Is(err, ErrInvalidUTF8) holds.
func TestInvalidUTF8Offset(t *testing.T) {
	tok := qwen3(t)
	for _, c := range []struct {
		text string
		off  int
		hex  string
	}{
		{"ok\xffnot", 2, "ff"},
		{"héllo \xc3(", 7, "c3"},
		{"\xed\xa0\x80 surrogate", 0, "ed a0 80"}, // CESU-8 / WTF-8 surrogate
		{"abc\xf0\x9f\x98", 3, "f0 9f 98"},        // cut emoji
	} {
		_, err := tok.Encode(c.text, true)
		var ue *InvalidUTF8Error
		if !errors.As(err, &ue) || !errors.Is(err, ErrInvalidUTF8) || ue.Offset != c.off ||
			!strings.Contains(err.Error(), "byte offset ") || !strings.Contains(err.Error(), c.hex) {
			t.Errorf("%q: got %v, want offset %d (%s)", c.text, err, c.off, c.hex)
		}
	}
}

// TestVocabLimit: a vocabulary above MaxVocab fails at the entry that
// passes it, before the maps grow further.
func TestVocabLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 12 MB file")
	}
	var sb strings.Builder
	sb.WriteString(`{"model":{"type":"BPE","vocab":{`)
	for i := 0; i <= MaxVocab; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"` + strconv.FormatInt(int64(i), 36) + `":` + strconv.Itoa(i))
	}
	sb.WriteString(`},"merges":[]}}`)
	_, err := Parse([]byte(sb.String()))
	if err == nil || !strings.Contains(err.Error(), "vocab: more than 1048576 tokens") {
		t.Fatalf("got %v", err)
	}
}
