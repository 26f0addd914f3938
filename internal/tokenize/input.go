package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxTokenID is the largest token ID accepted (token IDs are uint32).
const MaxTokenID = 1<<32 - 1

const expectTokenID = "a token ID (an integer 0..4294967295)"

// maxTextBytes bounds a prompt's text or messages.
const maxTextBytes = 64 << 20

// Prompt is one prompt's token IDs from an input.
type Prompt struct {
	Index  int    // 0-based position in the input
	ID     string // the "id" field of a JSON object, if any
	Line   int    // line where the prompt starts (1-based)
	Tokens []uint32

	// Text is a JSON object's "prompt" and Messages its "messages" (raw
	// JSON, OpenAI chat format): prompts given as text, which a tokenizer
	// must turn into Tokens.
	Text     *string
	Messages json.RawMessage
}

// HasText reports a prompt that still needs tokenizing.
func (p *Prompt) HasText() bool { return p.Tokens == nil && (p.Text != nil || p.Messages != nil) }

// Format is a detected input format.
type Format string

const (
	FormatJSONArray  Format = "json-array"
	FormatJSONObject Format = "json-object"
	FormatJSONLines  Format = "jsonl"
	FormatPlain      Format = "plain"
)

// InputError locates a problem in token input.
type InputError struct {
	File     string // file name, "<stdin>" or "--tokens"
	Line     int    // 1-based
	Col      int    // 1-based byte column
	Found    string
	Expected string
	Hint     string
}

func (e *InputError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Col)
	if e.Found != "" {
		fmt.Fprintf(&b, "found %s, ", e.Found)
	}
	fmt.Fprintf(&b, "expected %s", e.Expected)
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// TokenFields are the JSON object fields that hold token IDs.
// "input_ids" is Hugging Face tokenizers' and transformers' name.
var TokenFields = []string{"tokens", "token_ids", "prompt_token_ids", "input_ids"}

const maxDepth = 64

// Reader streams prompts from token input, detecting the format from the
// first bytes. It keeps a fixed 64 KiB window of the input plus the token
// slice being built, so memory stays a small multiple of the token count.
type Reader struct {
	src     io.Reader
	name    string
	buf     []byte
	pos, n  int
	err     error // sticky read error (io.EOF at end)
	off     int64 // absolute offset of buf[0]
	line    int
	lineOff int64 // absolute offset where the current line starts

	format Format
	count  int
	done   bool

	// recording captures the bytes advance() consumes (a raw JSON value;
	// insignificant whitespace is left out).
	recording bool
	rec       []byte
}

// NewReader reads prompts from r; name is used in error messages.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{src: r, name: name, buf: make([]byte, 64<<10), line: 1}
}

// Format is the detected format (after the first Next).
func (r *Reader) Format() Format { return r.format }

func (r *Reader) fill() bool {
	if r.err != nil {
		return false
	}
	if r.pos > 0 {
		copy(r.buf, r.buf[r.pos:r.n])
		r.off += int64(r.pos)
		r.n -= r.pos
		r.pos = 0
	}
	for r.n < len(r.buf) {
		m, err := r.src.Read(r.buf[r.n:])
		r.n += m
		if err != nil {
			r.err = err
			break
		}
		if m > 0 {
			break
		}
	}
	return r.pos < r.n
}

// peek returns the next byte without consuming it; ok is false at EOF.
func (r *Reader) peek() (byte, bool) {
	if r.pos >= r.n && !r.fill() {
		return 0, false
	}
	return r.buf[r.pos], true
}

func (r *Reader) advance() {
	if r.recording {
		r.rec = append(r.rec, r.buf[r.pos])
	}
	if r.buf[r.pos] == '\n' {
		r.line++
		r.lineOff = r.off + int64(r.pos) + 1
	}
	r.pos++
}

func (r *Reader) col() int { return int(r.off+int64(r.pos)-r.lineOff) + 1 }

func (r *Reader) readErr() error {
	if r.err != nil && r.err != io.EOF {
		return fmt.Errorf("%s: read: %w", r.name, r.err)
	}
	return nil
}

func (r *Reader) fail(found, expected, hint string) error {
	if err := r.readErr(); err != nil {
		return err
	}
	return &InputError{File: r.name, Line: r.line, Col: r.col(), Found: found, Expected: expected, Hint: hint}
}

// describe renders the input at the cursor for an error message.
func (r *Reader) describe() string {
	c, ok := r.peek()
	if !ok {
		return "end of input"
	}
	// Show the token at the cursor: up to 20 bytes without whitespace.
	if r.n-r.pos < 20 {
		r.fill()
	}
	end := r.pos
	for end < r.n && end-r.pos < 20 {
		b := r.buf[end]
		if b == ' ' || b == '\t' || b == '\r' || b == '\n' || (end > r.pos && (b == ',' || b == ']' || b == '}')) {
			break
		}
		end++
	}
	if end == r.pos {
		return strconv.QuoteRune(rune(c))
	}
	return strconv.Quote(string(r.buf[r.pos:end]))
}

func (r *Reader) skipSpace() {
	for {
		if r.pos >= r.n && !r.fill() {
			return
		}
		for r.pos < r.n {
			switch r.buf[r.pos] {
			case ' ', '\t', '\r':
				r.pos++
			case '\n':
				r.advance()
			default:
				return
			}
		}
	}
}

// Next returns the next prompt, or io.EOF when the input is exhausted.
func (r *Reader) Next() (*Prompt, error) {
	if r.done {
		return nil, io.EOF
	}
	if r.count == 0 {
		// UTF-8 byte order mark
		if c, ok := r.peek(); ok && c == 0xEF {
			for r.n-r.pos < 3 && r.err == nil {
				r.fill()
			}
			if r.n-r.pos >= 3 && r.buf[r.pos+1] == 0xBB && r.buf[r.pos+2] == 0xBF {
				r.pos += 3
			}
		}
	}
	r.skipSpace()
	c, ok := r.peek()
	if !ok {
		r.done = true
		if err := r.readErr(); err != nil {
			return nil, err
		}
		if r.count == 0 {
			return nil, &InputError{File: r.name, Line: r.line, Col: r.col(), Found: "empty input", Expected: "token IDs: a JSON array, a JSON object with \"tokens\", JSON Lines, or integers separated by spaces or commas"}
		}
		return nil, io.EOF
	}
	p := &Prompt{Index: r.count, Line: r.line}
	var err error
	switch {
	case c == '[' || c == '{':
		if r.count == 0 {
			r.format = FormatJSONArray
			if c == '{' {
				r.format = FormatJSONObject
			}
		} else {
			r.format = FormatJSONLines
		}
		if c == '[' {
			p.Tokens, err = r.tokenArray(nil)
		} else {
			err = r.object(p)
		}
		if err != nil {
			return nil, err
		}
		// After a JSON value: end of input, or another value on a later line.
		line := r.line
		r.skipSpace()
		c2, ok := r.peek()
		if ok && c2 != '[' && c2 != '{' {
			return nil, r.fail(r.describe(), "end of input or the next JSON Lines prompt ('[' or '{')", "")
		}
		if ok && r.line == line {
			return nil, r.fail(r.describe(), "a new line before the next prompt (JSON Lines holds one prompt per line)", "")
		}
	case r.count == 0 && c >= '0' && c <= '9':
		r.format = FormatPlain
		p.Tokens, err = r.plain()
		if err != nil {
			return nil, err
		}
		r.done = true
	case c == '-':
		return nil, r.fail(r.describe(), expectTokenID, "token IDs are never negative")
	default:
		hint := ""
		if c == '"' {
			hint = "text prompts need a tokenizer; this input must hold token IDs"
		}
		if r.count > 0 {
			return nil, r.fail(r.describe(), "the next JSON Lines prompt ('[' or '{')", hint)
		}
		return nil, r.fail(r.describe(), "token IDs: a JSON array, a JSON object with \"tokens\", JSON Lines, or integers separated by spaces or commas", hint)
	}
	r.count++
	return p, nil
}

// number reads an unsigned integer token ID at the cursor.
func (r *Reader) number() (uint32, error) {
	line, col := r.line, r.col()
	var v uint64
	digits := 0
	var textBuf [24]byte
	tl := 0
	for {
		if r.pos >= r.n && !r.fill() {
			break
		}
		// Fast path: scan the digits in the window directly (digits hold
		// no newline, so no line bookkeeping is needed). v cannot wrap
		// before 20 digits; anything over 10 digits is too large anyway.
		i := r.pos
		for i < r.n {
			d := r.buf[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + uint64(d)
			i++
		}
		tl += copy(textBuf[tl:], r.buf[r.pos:i])
		digits += i - r.pos
		r.pos = i
		if i < r.n {
			break
		}
	}
	text := textBuf[:tl]
	if digits > 10 {
		v = MaxTokenID + 1
	}
	const expected = expectTokenID
	if digits == 0 {
		return 0, r.fail(r.describe(), expected, "")
	}
	if c, ok := r.peek(); ok && (c == '.' || c == 'e' || c == 'E') {
		return 0, &InputError{File: r.name, Line: line, Col: col, Found: strconv.Quote(string(text) + string(c) + "…"), Expected: expected, Hint: "token IDs are integers"}
	}
	if v > MaxTokenID {
		return 0, &InputError{File: r.name, Line: line, Col: col, Found: string(text), Expected: expected, Hint: "too large for a token ID"}
	}
	if digits > 1 && text[0] == '0' && r.format != FormatPlain {
		return 0, &InputError{File: r.name, Line: line, Col: col, Found: string(text), Expected: expected, Hint: "JSON numbers have no leading zeros"}
	}
	return uint32(v), nil
}

// tokenArray reads a JSON array of token IDs.
func (r *Reader) tokenArray(dst []uint32) ([]uint32, error) {
	r.advance() // '['
	r.skipSpace()
	if c, ok := r.peek(); ok && c == ']' {
		r.advance()
		return dst, nil
	}
	for {
		var done bool
		if dst, done = r.fastTokens(dst); done {
			return dst, nil
		}
		r.skipSpace()
		c, ok := r.peek()
		switch {
		case ok && c >= '0' && c <= '9':
			t, err := r.number()
			if err != nil {
				return nil, err
			}
			dst = appendToken(dst, t)
		case ok && c == '-':
			return nil, r.fail(r.describe(), expectTokenID, "token IDs are never negative")
		case ok && c == '[':
			return nil, r.fail("a nested array", "a token ID", "for several prompts use JSON Lines: one array or object per line")
		default:
			return nil, r.fail(r.describe(), expectTokenID, "")
		}
		r.skipSpace()
		c, ok = r.peek()
		if ok && c == ',' {
			r.advance()
			continue
		}
		if ok && c == ']' {
			r.advance()
			return dst, nil
		}
		return nil, r.fail(r.describe(), "',' or ']' in the token array", "")
	}
}

// fastTokens consumes well-formed "ID," / "ID]" items lying wholly inside
// the buffered window, with no line bookkeeping (it stops at a newline).
// Anything else — the window's end, a newline, a malformed or too large
// number — is left to the general path, which starts where this stopped
// and reports errors with their position. done reports the closing ']'.
func (r *Reader) fastTokens(dst []uint32) ([]uint32, bool) {
	buf := r.buf[:r.n] // len(buf) bounds every index: no bounds checks below
	i := r.pos
	for {
		for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r') {
			i++
		}
		start := i
		var v uint64
		for ; i < len(buf); i++ {
			d := buf[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + uint64(d)
		}
		digits := i - start
		if digits == 0 || digits > 10 || v > MaxTokenID || (digits > 1 && buf[start] == '0') {
			return dst, false
		}
		for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r') {
			i++
		}
		if i >= len(buf) {
			return dst, false
		}
		switch buf[i] {
		case ',':
			dst = appendToken(dst, uint32(v))
			i++
			r.pos = i
		case ']':
			dst = appendToken(dst, uint32(v))
			r.pos = i + 1
			return dst, true
		default:
			return dst, false
		}
	}
}

// plain reads integers separated by whitespace and/or commas until EOF.
func (r *Reader) plain() ([]uint32, error) {
	var out []uint32
	for {
		r.skipSpace()
		c, ok := r.peek()
		if !ok {
			return out, r.readErr()
		}
		if c < '0' || c > '9' {
			return nil, r.fail(r.describe(), expectTokenID, "plain input is integers separated by spaces, newlines or commas")
		}
		t, err := r.number()
		if err != nil {
			return nil, err
		}
		out = appendToken(out, t)
		r.skipSpace()
		if c, ok := r.peek(); ok && c == ',' {
			r.advance()
			r.skipSpace()
			if _, ok := r.peek(); !ok {
				return nil, r.fail("end of input", "a token ID after ','", "")
			}
		}
	}
}

// object reads a JSON object holding a prompt.
func (r *Reader) object(p *Prompt) error {
	r.advance() // '{'
	seen := ""
	for first := true; ; first = false {
		r.skipSpace()
		c, ok := r.peek()
		if ok && c == '}' && first {
			r.advance()
			break
		}
		if !ok || c != '"' {
			return r.fail(r.describe(), "a field name in double quotes", "")
		}
		line, col := r.line, r.col()
		key, err := r.stringValue(256)
		if err != nil {
			return err
		}
		r.skipSpace()
		if c, ok := r.peek(); !ok || c != ':' {
			return r.fail(r.describe(), "':' after the field name", "")
		}
		r.advance()
		r.skipSpace()
		switch key {
		case "tokens", "token_ids", "prompt_token_ids", "input_ids":
			if seen != "" {
				return &InputError{File: r.name, Line: line, Col: col, Found: fmt.Sprintf("both %q and %q", seen, key), Expected: "one field with the token IDs"}
			}
			seen = key
			c, ok := r.peek()
			if !ok || c != '[' {
				return r.fail(r.describe(), fmt.Sprintf("a JSON array of token IDs for %q", key), "")
			}
			if p.Tokens, err = r.tokenArray(nil); err != nil {
				return err
			}
			if p.Tokens == nil {
				p.Tokens = []uint32{}
			}
		case "prompt":
			c, _ := r.peek()
			if c != '"' {
				return r.fail(r.describe(), `a string for "prompt"`, "")
			}
			txt, err := r.stringValue(maxTextBytes)
			if err != nil {
				return err
			}
			p.Text = &txt
		case "messages":
			c, _ := r.peek()
			if c != '[' {
				return r.fail(r.describe(), `an array of chat messages for "messages"`, "")
			}
			r.recording, r.rec = true, r.rec[:0]
			err := r.skipValue(0)
			r.recording = false
			if err != nil {
				return err
			}
			if len(r.rec) > maxTextBytes {
				return r.fail("messages larger than 64 MiB", "a smaller chat", "")
			}
			p.Messages = append(json.RawMessage(nil), r.rec...)
		case "id":
			c, _ := r.peek()
			if c == '"' {
				if p.ID, err = r.stringValue(4096); err != nil {
					return err
				}
			} else if c >= '0' && c <= '9' || c == '-' {
				start := r.col()
				var b strings.Builder
				for {
					c, ok := r.peek()
					if !ok || !(c >= '0' && c <= '9' || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+') || b.Len() > 64 {
						break
					}
					b.WriteByte(c)
					r.advance()
				}
				if _, err := strconv.ParseFloat(b.String(), 64); err != nil {
					return &InputError{File: r.name, Line: r.line, Col: start, Found: strconv.Quote(b.String()), Expected: "an id string or number"}
				}
				p.ID = b.String()
			} else {
				return r.fail(r.describe(), "an id string or number", "")
			}
		default:
			if err := r.skipValue(0); err != nil {
				return err
			}
		}
		r.skipSpace()
		c, ok = r.peek()
		if ok && c == ',' {
			r.advance()
			continue
		}
		if ok && c == '}' {
			r.advance()
			break
		}
		return r.fail(r.describe(), "',' or '}' in the object", "")
	}
	if seen != "" && (p.Text != nil || p.Messages != nil) {
		return &InputError{File: r.name, Line: p.Line, Col: 1, Found: "both token IDs and text", Expected: `either token IDs or "prompt"/"messages"`}
	}
	if p.Text != nil && p.Messages != nil {
		return &InputError{File: r.name, Line: p.Line, Col: 1, Found: `both "prompt" and "messages"`, Expected: "one of them"}
	}
	if seen == "" && p.Text == nil && p.Messages == nil {
		return &InputError{File: r.name, Line: p.Line, Col: 1, Found: "an object without token IDs", Expected: `a "tokens", "token_ids", "prompt_token_ids" or "input_ids" field (or "prompt"/"messages" text with a tokenizer)`}
	}
	return nil
}

// stringValue reads a JSON string literal (at most limit bytes) and decodes it.
func (r *Reader) stringValue(limit int) (string, error) {
	line, col := r.line, r.col()
	raw := []byte{'"'}
	r.advance()
	for {
		c, ok := r.peek()
		if !ok {
			return "", &InputError{File: r.name, Line: line, Col: col, Found: "an unterminated string", Expected: "a closing '\"'"}
		}
		if c == '\n' {
			return "", r.fail("a newline inside a string", "a closing '\"'", "")
		}
		r.advance()
		if len(raw) < limit+2 {
			raw = append(raw, c)
		}
		if c == '\\' {
			c2, ok := r.peek()
			if !ok {
				continue
			}
			r.advance()
			if len(raw) < limit+2 {
				raw = append(raw, c2)
			}
			continue
		}
		if c == '"' {
			break
		}
	}
	if len(raw) >= limit+2 {
		return "", &InputError{File: r.name, Line: line, Col: col, Found: "a string longer than " + strconv.Itoa(limit) + " bytes", Expected: "a shorter string"}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &InputError{File: r.name, Line: line, Col: col, Found: "an invalid JSON string", Expected: "a valid JSON string"}
	}
	return s, nil
}

// skipValue skips any JSON value (fields lmc does not use).
func (r *Reader) skipValue(depth int) error {
	if depth > maxDepth {
		return r.fail("nesting deeper than 64 levels", "a flatter JSON value", "")
	}
	c, ok := r.peek()
	if !ok {
		return r.fail("end of input", "a JSON value", "")
	}
	switch {
	case c == '"':
		_, err := r.stringValue(1 << 20)
		return err
	case c == '[' || c == '{':
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		r.advance()
		r.skipSpace()
		if c2, ok := r.peek(); ok && c2 == closer {
			r.advance()
			return nil
		}
		for {
			r.skipSpace()
			if closer == '}' {
				if c, ok := r.peek(); !ok || c != '"' {
					return r.fail(r.describe(), "a field name in double quotes", "")
				}
				if _, err := r.stringValue(1 << 16); err != nil {
					return err
				}
				r.skipSpace()
				if c, ok := r.peek(); !ok || c != ':' {
					return r.fail(r.describe(), "':'", "")
				}
				r.advance()
				r.skipSpace()
			}
			if err := r.skipValue(depth + 1); err != nil {
				return err
			}
			r.skipSpace()
			c, ok := r.peek()
			if ok && c == ',' {
				r.advance()
				continue
			}
			if ok && c == closer {
				r.advance()
				return nil
			}
			return r.fail(r.describe(), fmt.Sprintf("',' or '%c'", closer), "")
		}
	default:
		// number or literal
		line, col := r.line, r.col()
		var lit []byte
		for {
			c, ok := r.peek()
			if !ok || !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E') {
				break
			}
			if len(lit) <= 64 {
				lit = append(lit, c)
			}
			r.advance()
		}
		s := string(lit)
		if s == "true" || s == "false" || s == "null" {
			return nil
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil || len(lit) == 0 {
			if len(lit) == 0 {
				return r.fail(r.describe(), "a JSON value", "")
			}
			return &InputError{File: r.name, Line: line, Col: col, Found: strconv.Quote(s), Expected: "a JSON value"}
		}
		return nil
	}
}

// appendToken grows by doubling (append's 1.25x growth for large slices
// would allocate five times the final size in total), so reading n tokens
// allocates at most ~4n*4 bytes and holds at most 3n*4 bytes at once.
func appendToken(dst []uint32, t uint32) []uint32 {
	if len(dst) == cap(dst) {
		nd := make([]uint32, len(dst), max(256, 2*cap(dst)))
		copy(nd, dst)
		dst = nd
	}
	return append(dst, t)
}

// ReadAll reads every prompt.
func ReadAll(src io.Reader, name string) ([]Prompt, error) {
	rd := NewReader(src, name)
	var out []Prompt
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
}

// ParseTokenList parses the --tokens flag: integers separated by commas or
// whitespace (a JSON array is accepted too).
func ParseTokenList(s string) ([]uint32, error) {
	ps, err := ReadAll(strings.NewReader(s), "--tokens")
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		return nil, &InputError{File: "--tokens", Line: 1, Col: 1, Found: fmt.Sprintf("%d prompts", len(ps)), Expected: "one list of token IDs"}
	}
	return ps[0].Tokens, nil
}
