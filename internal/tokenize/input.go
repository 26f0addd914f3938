package tokenize

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// MaxTokenID is the largest token ID accepted (token IDs are uint32).
const MaxTokenID = 1<<32 - 1

const expectTokenID = "a token ID (an integer 0..4294967295)"

// maxTextBytes bounds a prompt's text or messages.
const maxTextBytes = 16 << 20 // about 4M tokens of text, beyond any model's context

// MaxPromptTokens bounds the token IDs of one prompt (64 MiB of IDs):
// above the longest context of any model (10M tokens), so an endless
// input fails instead of taking the machine's memory.
const MaxPromptTokens = 1 << 24

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
	recOver   bool // the recording passed maxTextBytes and stopped
	// longStrings lets skipped strings take up to maxTextBytes (chat
	// messages' content), not 1 MiB.
	longStrings bool
	// slow turns the word-at-a-time token path off (tests compare).
	slow bool
	// size is the input's length in bytes when known (SetSize), else 0.
	size int64
}

// NewReader reads prompts from r; name is used in error messages.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{src: r, name: name, buf: make([]byte, 64<<10), line: 1}
}

// SetSize tells the reader how long its input is (a regular file's size),
// so that a first prompt that goes on beyond the first window gets its
// slice sized once, from the window's density of commas, instead of
// doubling (each doubling copies the tokens into fresh pages). The size is
// only a capacity hint: what the input holds is read as always.
func (r *Reader) SetSize(n int64) { r.size = n }

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
		r.record(r.buf[r.pos : r.pos+1])
	}
	if r.buf[r.pos] == '\n' {
		r.line++
		r.lineOff = r.off + int64(r.pos) + 1
	}
	r.pos++
}

// record appends consumed bytes to the recording, up to maxTextBytes+1.
func (r *Reader) record(b []byte) {
	if len(r.rec)+len(b) > maxTextBytes+1 {
		r.recOver = true
		return
	}
	r.rec = append(r.rec, b...)
}

func (r *Reader) col() int { return int(r.off+int64(r.pos)-r.lineOff) + 1 }

// offset is the absolute byte offset of the cursor.
func (r *Reader) offset() int64 { return r.off + int64(r.pos) }

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
	if dst == nil {
		dst = r.sizedTokens()
	}
	for {
		var done bool
		dst, done = r.fastTokens(dst)
		if len(dst) > MaxPromptTokens {
			return nil, r.tooManyTokens()
		}
		if done {
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
//
// The common item, up to 7 digits followed by ',' (and one space) or ']',
// is read eight bytes at a time: the digits are found and converted with
// word arithmetic (no branch per digit). Any other item goes through the
// byte loop below, under the same rules.
func (r *Reader) fastTokens(dst []uint32) ([]uint32, bool) {
	buf := r.buf[:r.n] // len(buf) bounds every index: no bounds checks below
	i := r.pos
	for {
		for !r.slow {
			j, k, st := wordTokens(buf, i, dst[len(dst):cap(dst)])
			dst = dst[:len(dst)+k]
			i = j
			r.pos = i
			if st == wordsDone {
				return dst, true
			}
			if st != wordsFull {
				break
			}
			dst = growTokens(dst)
		}
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
			for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r') {
				i++ // the next item's leading space, so the word path can take it
			}
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

const (
	wordsStopped = iota // an item the byte loop must read
	wordsDone           // the closing ']' was read
	wordsFull           // out is full and the next item is a token
)

// wordTokens reads the items at buf[i:] into out while each is the common
// "ID," (with one space after the comma) or "ID]" with at most 7 digits and
// a word of input to read it from. It returns the position after the last
// item read and how many it read.
//
// An item is one 8-byte load: x is the word with '0' subtracted from every
// byte, so digits are the bytes 0..9; a byte is not a digit when adding
// 0x76 sets its top bit or it had it already (a carry out of such a byte
// only reaches later bytes, so the lowest non-digit is always found). The
// digits are moved to the top of the word, zero bytes (leading zeros)
// below them, and combined by three multiplications; the byte after them
// is the separator.
func wordTokens(buf []byte, i int, out []uint32) (int, int, int) {
	k := 0
	for i+8 < len(buf) {
		// The loop condition keeps buf[i:i+9] in the window; n <= 7.
		w := load64(buf, i)
		x := w ^ 0x3030303030303030
		// Bit 63 stands for "not a digit" in the last byte, so that the
		// count never exceeds 7: eight digits then fail the separator test.
		n := bits.TrailingZeros64(((x+0x7676767676767676)|x)&0x8080808080808080|1<<63) >> 3
		if n == 0 || (byte(x) == 0 && n > 1) { // no digit, or a leading zero
			return i, k, wordsStopped
		}
		c := load8(buf, i+n)
		if c != ',' && c != ']' {
			return i, k, wordsStopped
		}
		if k >= len(out) {
			return i, k, wordsFull
		}
		// x * 2^(64-8n) is x << (64-8n), without a variable shift.
		d := x * digitShift[n&7]
		d = d * (10<<8 + 1) >> 8                             // pairs of digits in 16-bit lanes
		d = (d & 0x00FF00FF00FF00FF) * (100<<16 + 1) >> 16   // groups of 4 in 32-bit lanes
		d = (d & 0x0000FFFF0000FFFF) * (10000<<32 + 1) >> 32 // all 8
		out[k] = uint32(d)
		k++
		i += n + 1
		if c == ']' {
			return i, k, wordsDone
		}
		if load8(buf, i) == ' ' {
			i++
		}
	}
	return i, k, wordsStopped
}

// load64 is the little-endian word at buf[i:i+8] and load8 the byte at
// buf[i], without bounds checks: the caller has checked that the bytes are
// in buf.
func load8(buf []byte, i int) byte {
	return *(*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(buf)), i))
}

func load64(buf []byte, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(buf)), i))[:])
}

// digitShift[n] is 2^(64-8n): moves n digit bytes to the top of a word.
var digitShift = [8]uint64{0, 1 << 56, 1 << 48, 1 << 40, 1 << 32, 1 << 24, 1 << 16, 1 << 8}

// sizedTokens is the slice for an array that ends in the window (a JSON
// Lines prompt, or a short file): as many IDs as the commas before the
// window's first ']' say, so that it is allocated once instead of doubling
// from 256. An array that goes on beyond the window gets nil (the usual
// doubling); the count is only a capacity, never trusted as the length,
// and is bounded by the window (32K IDs).
func (r *Reader) sizedTokens() []uint32 {
	w := r.buf[r.pos:r.n]
	end := bytes.IndexByte(w, ']')
	if end < 0 && r.pos > 0 && r.err == nil {
		// Slide the window to the array, as reading it would anyway.
		r.fill()
		w = r.buf[r.pos:r.n]
		end = bytes.IndexByte(w, ']')
	}
	if end < 0 {
		return r.estimatedTokens(w)
	}
	n := bytes.Count(w[:end], []byte{','}) + 1
	if n <= 256 {
		return nil // appendToken's first allocation
	}
	return make([]uint32, 0, n)
}

// estimatedTokens is the slice for the input's first array when it goes on
// beyond the window w (its start): the commas per byte of w times the
// bytes left, when the input's size is known (SetSize), 2 % over; nil
// otherwise (doubling). Only the first prompt: the rest of the file is
// then most likely this one array, while later arrays are lines of JSON
// Lines whose ends the size says nothing about. An ID takes at least two
// bytes with its comma, so the capacity is at most half the bytes left,
// and at most MaxPromptTokens.
func (r *Reader) estimatedTokens(w []byte) []uint32 {
	left := r.size - r.off - int64(r.pos)
	if r.size <= 0 || r.count > 0 || left <= int64(len(w)) || len(w) == 0 {
		return nil
	}
	commas := bytes.Count(w, []byte{','})
	n := int64(float64(left)*float64(commas)/float64(len(w))*1.02) + 256
	n = min(n, left/2+1, MaxPromptTokens)
	return make([]uint32, 0, n)
}

func (r *Reader) tooManyTokens() error {
	return r.fail(fmt.Sprintf("more than %d token IDs in one prompt", MaxPromptTokens), "a prompt a model could hold", "")
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
		if len(out) == MaxPromptTokens {
			return nil, r.tooManyTokens()
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
			mline, mcol := r.line, r.col()
			r.recording, r.rec, r.recOver = true, r.rec[:0], false
			err := r.skipValue(0)
			r.recording = false
			if r.recOver {
				return &InputError{File: r.name, Line: mline, Col: mcol, Found: "messages larger than 16 MiB", Expected: "a smaller chat"}
			}
			if err != nil {
				return err
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

// stringValue reads a JSON string literal (at most limit bytes once
// decoded) and decodes it.
func (r *Reader) stringValue(limit int) (string, error) {
	b, err := r.scanString(limit, true)
	return string(b), err
}

// scanString reads a JSON string literal at the cursor, returning its
// decoded bytes when keep is set. It accepts what the engine's JSON parser
// accepts and nothing it would alter: a control character, an invalid
// escape, a lone surrogate escape (such as "\ud800") or invalid UTF-8 is
// an *InputError at its position, and the string fails as soon as it
// passes limit (so a device such as /dev/zero fails at once).
func (r *Reader) scanString(limit int, keep bool) ([]byte, error) {
	line, col := r.line, r.col()
	var out []byte
	n := 0 // decoded length
	tooLong := func() error {
		return &InputError{File: r.name, Line: line, Col: col, Found: "a string longer than " + strconv.Itoa(limit) + " bytes", Expected: "a shorter string"}
	}
	r.advance() // '"'
	for {
		// Fast path: plain bytes lying in the window.
		buf := r.buf[:r.n]
		i := r.pos
		for i < len(buf) {
			c := buf[i]
			if c < utf8.RuneSelf {
				if c < 0x20 || c == '"' || c == '\\' {
					break
				}
				i++
				continue
			}
			if !utf8.FullRune(buf[i:]) {
				break // a sequence cut by the window's end
			}
			ru, sz := utf8.DecodeRune(buf[i:])
			if ru == utf8.RuneError && sz == 1 {
				r.consume(i, keep, &out)
				return nil, invalidUTF8Error(r.name, r.line, r.col(), r.offset(), buf[i:])
			}
			i += sz
		}
		n += i - r.pos
		r.consume(i, keep, &out)
		if n > limit {
			return nil, tooLong()
		}
		c, ok := r.peek()
		if !ok {
			if err := r.readErr(); err != nil {
				return nil, err
			}
			return nil, &InputError{File: r.name, Line: line, Col: col, Found: "an unterminated string", Expected: "a closing '\"'"}
		}
		switch {
		case c == '"':
			r.advance()
			return out, nil
		case c == '\n':
			return nil, r.fail("a newline inside a string", "a closing '\"'", "")
		case c < 0x20:
			return nil, r.fail(fmt.Sprintf("control character %q inside a string", rune(c)), "an escaped character (JSON has \\t, \\r, \\u00XX)", "")
		case c == '\\':
			ru, err := r.escape()
			if err != nil {
				return nil, err
			}
			if keep {
				out = utf8.AppendRune(out, ru)
			}
			n += utf8.RuneLen(ru)
		case c < utf8.RuneSelf: // the window ended: the fast path goes on
			continue
		default: // a UTF-8 sequence across the window's end
			seq, err := r.utf8Seq()
			if err != nil {
				return nil, err
			}
			if keep {
				out = append(out, seq...)
			}
			n += len(seq)
		}
		if n > limit {
			return nil, tooLong()
		}
	}
}

// consume moves the cursor to i within the window (no newline lies
// before it), keeping the bytes passed.
func (r *Reader) consume(i int, keep bool, out *[]byte) {
	if i == r.pos {
		return
	}
	if keep {
		*out = append(*out, r.buf[r.pos:i]...)
	}
	if r.recording {
		r.record(r.buf[r.pos:i])
	}
	r.pos = i
}

// utf8Seq reads one UTF-8 sequence byte by byte (it may span a refill).
func (r *Reader) utf8Seq() ([]byte, error) {
	line, col, off := r.line, r.col(), r.offset()
	var seq [4]byte
	c, _ := r.peek()
	need := 0
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 2
	case c >= 0xE0 && c <= 0xEF:
		need = 3
	case c >= 0xF0 && c <= 0xF4:
		need = 4
	}
	k := 0
	for k < max(need, 1) {
		c, ok := r.peek()
		if !ok || (k > 0 && c&0xC0 != 0x80) {
			break
		}
		seq[k] = c
		k++
		r.advance()
	}
	if need == 0 || k < need || !utf8.Valid(seq[:k]) {
		return nil, invalidUTF8Error(r.name, line, col, off, seq[:k])
	}
	return seq[:k], nil
}

// escape reads an escape sequence at the cursor ('\\' ...) and returns the
// character; a surrogate pair is one character, a lone surrogate an error.
func (r *Reader) escape() (rune, error) {
	line, col := r.line, r.col()
	bad := func(found string) error {
		return &InputError{File: r.name, Line: line, Col: col, Found: found, Expected: `a JSON escape (\" \\ \/ \b \f \n \r \t \uXXXX)`}
	}
	r.advance() // '\\'
	c, ok := r.peek()
	if !ok {
		return 0, bad("an unterminated escape")
	}
	r.advance()
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
	default:
		return 0, bad(strconv.Quote("\\" + string(rune(c))))
	}
	hex4 := func() (rune, bool) {
		var v rune
		for k := 0; k < 4; k++ {
			c, ok := r.peek()
			if !ok {
				return 0, false
			}
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | rune(c-'0')
			case c|0x20 >= 'a' && c|0x20 <= 'f':
				v = v<<4 | rune(c|0x20-'a'+10)
			default:
				return 0, false
			}
			r.advance()
		}
		return v, true
	}
	v, ok := hex4()
	if !ok {
		return 0, bad(`a malformed \u escape`)
	}
	lone := func() error {
		return &InputError{File: r.name, Line: line, Col: col, Found: fmt.Sprintf(`a lone surrogate \u%04x`, v),
			Expected: "a character", Hint: "the engine would reject or alter it, so its keys would be those of another text"}
	}
	switch {
	case v >= 0xDC00 && v <= 0xDFFF:
		return 0, lone()
	case v >= 0xD800 && v <= 0xDBFF:
		if c, ok := r.peek(); !ok || c != '\\' {
			return 0, lone()
		}
		r.advance()
		if c, ok := r.peek(); !ok || c != 'u' {
			return 0, lone()
		}
		r.advance()
		lo, ok := hex4()
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return 0, lone()
		}
		return utf16.DecodeRune(v, lo), nil
	}
	return v, nil
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
		limit := 1 << 20
		if r.recording || r.longStrings { // a chat message's content
			limit = maxTextBytes
		}
		_, err := r.scanString(limit, false)
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
			if r.recOver {
				return r.fail("messages larger than 16 MiB", "a smaller chat", "")
			}
			r.skipSpace()
			if closer == '}' {
				if c, ok := r.peek(); !ok || c != '"' {
					return r.fail(r.describe(), "a field name in double quotes", "")
				}
				if _, err := r.scanString(1<<16, false); err != nil {
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
		dst = growTokens(dst)
	}
	return append(dst, t)
}

// growTokens is appendToken's growth: a full slice doubles (at least 256).
func growTokens(dst []uint32) []uint32 {
	nd := make([]uint32, len(dst), max(256, 2*cap(dst)))
	copy(nd, dst)
	return nd
}

// ReadAll reads every prompt.
func ReadAll(src io.Reader, name string) ([]Prompt, error) {
	return readAll(NewReader(src, name))
}

// readAll reads every prompt rd has left.
func readAll(rd *Reader) ([]Prompt, error) {
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
