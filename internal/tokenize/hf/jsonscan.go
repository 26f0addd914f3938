package hf

// A minimal JSON scanner for the bulk of a tokenizer.json: the model's vocab
// and merges (hundreds of thousands of entries, nearly all of the file).
// encoding/json takes over half a second on a Qwen-sized file; this reads
// the merges without allocating and the vocab with one string per entry.
// The small components (normalizer, pre_tokenizer, ...) are still decoded
// by encoding/json from the raw bytes this scanner slices out, after the
// scanner has validated them: every syntax error of the file, wherever it
// is, is reported here with its byte offset, and encoding/json only ever
// sees well-formed JSON. As serde_json (which tokenizers uses) does, the
// scanner refuses invalid UTF-8, lone surrogate escapes and nesting deeper
// than MaxNesting.

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxNesting is the deepest nesting of arrays and objects accepted in a
// tokenizer.json: serde_json's recursion limit, so tokenizers cannot load
// a deeper file either. Real files nest 5 or 6 levels.
const MaxNesting = 128

// MaxVocab bounds the model's vocabulary and MaxMerges its merges: the
// largest real ones (Gemma 3) hold about 262,000 tokens and 514,000 merges;
// the bounds keep a hostile 64 MiB file from building maps of tens of
// millions of entries.
const (
	MaxVocab  = 1 << 20
	MaxMerges = 1 << 21
)

// maxComponentBytes bounds the raw JSON of each small component
// (normalizer, pre_tokenizer, post_processor, decoder, truncation,
// padding, and each added token): real ones take under 10 kB, and the
// nested ones (Sequence) are decoded once per level.
const maxComponentBytes = 1 << 20

type jscan struct {
	data  []byte
	pos   int
	buf   []byte     // scratch for unescaped strings
	depth int        // arrays and objects open around the cursor
	cn    *canceller // polled once per value
	base  int        // offset of data in the file, for errors
}

func newScan(cn *canceller, data []byte) *jscan {
	if cn == nil {
		cn = &canceller{}
	}
	return &jscan{data: data, cn: cn}
}

func (s *jscan) errorf(format string, args ...any) error {
	return s.errorAt(s.pos, format, args...)
}

func (s *jscan) errorAt(pos int, format string, args ...any) error {
	return &SyntaxError{Offset: s.base + pos, Msg: fmt.Sprintf(format, args...)}
}

// shapeAt reports well-formed JSON of the wrong shape (a number where a
// token id's object is due, ...) or past a limit, at offset pos.
func (s *jscan) shapeAt(pos int, format string, args ...any) error {
	return fmt.Errorf("tokenizer.json: offset %d: %s", s.base+pos, fmt.Sprintf(format, args...))
}

// SyntaxError is a malformed tokenizer.json (not JSON, or JSON that
// tokenizers' parser refuses: invalid UTF-8, a lone surrogate escape,
// nesting deeper than MaxNesting), with the byte offset of the problem.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("tokenizer.json: offset %d: %s", e.Offset, e.Msg)
}

// found describes the byte at the cursor for an error message.
func (s *jscan) found() string {
	if s.pos >= len(s.data) {
		return "end of input"
	}
	return fmt.Sprintf("%q", s.data[s.pos])
}

func (s *jscan) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *jscan) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// at reports whether the next non-space byte is c (never at the end).
func (s *jscan) at(c byte) bool {
	s.ws()
	return s.pos < len(s.data) && s.data[s.pos] == c
}

func (s *jscan) expect(c byte) error {
	if !s.at(c) {
		if s.pos >= len(s.data) {
			return s.errorf("unexpected end of input, want %q", c)
		}
		return s.errorf("unexpected %q, want %q", s.data[s.pos], c)
	}
	s.pos++
	return nil
}

// badUTF8 reports the first invalid UTF-8 byte of the raw string data
// from start (escapes are ASCII, so the raw bytes hold it).
func (s *jscan) badUTF8(start int) error {
	b := s.data[start:]
	for i := 0; i < len(b); {
		r, sz := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && sz == 1 {
			return s.errorAt(start+i, "invalid UTF-8 in a string (byte 0x%02x)", b[i])
		}
		i += sz
	}
	return s.errorAt(start, "invalid UTF-8 in a string")
}

// str reads a string. The result aliases the input or s.buf: it is only
// valid until the next call.
func (s *jscan) str() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			out := s.data[start:s.pos]
			s.pos++
			if !utf8.Valid(out) {
				return nil, s.badUTF8(start)
			}
			return out, nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return nil, s.errorf("control character 0x%02x in a string (JSON needs it escaped)", c)
		}
		s.pos++
	}
	return nil, s.errorf("unterminated string")
}

func (s *jscan) strSlow(start int) ([]byte, error) {
	b := append(s.buf[:0], s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			s.buf = b
			if !utf8.Valid(b) {
				return nil, s.badUTF8(start)
			}
			return b, nil
		case c < 0x20:
			return nil, s.errorf("control character 0x%02x in a string (JSON needs it escaped)", c)
		case c != '\\':
			b = append(b, c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.data) {
			break
		}
		esc := s.pos
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, err := s.hex4()
			if err != nil {
				return nil, err
			}
			if utf16.IsSurrogate(r) {
				// A pair is required (serde_json rejects lone surrogates).
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					s.pos += 2
					r2, err := s.hex4()
					if err != nil {
						return nil, err
					}
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
				if r == utf8.RuneError {
					return nil, s.errorAt(esc, "lone surrogate %s in a string (not a character: tokenizers refuses it)", s.data[esc:esc+6])
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return nil, s.errorAt(esc, "bad escape %q", s.data[esc:esc+2])
		}
	}
	return nil, s.errorf("unterminated string")
}

func (s *jscan) hex4() (rune, error) {
	if s.pos+4 > len(s.data) {
		return 0, s.errorAt(s.pos-2, "bad \\u escape")
	}
	var v rune
	for _, c := range s.data[s.pos : s.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			v = v<<4 | rune(c|0x20-'a'+10)
		default:
			return 0, s.errorAt(s.pos-2, "bad \\u escape %q", s.data[s.pos-2:s.pos+4])
		}
	}
	s.pos += 4
	return v, nil
}

// uint32v reads a non-negative integer that fits in 32 bits.
func (s *jscan) uint32v() (uint32, error) {
	s.ws()
	start := s.pos
	var v uint64
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		v = v*10 + uint64(s.data[s.pos]-'0')
		if v > 1<<32-1 {
			return 0, s.shapeAt(start, "token id out of range")
		}
		s.pos++
	}
	if s.pos == start {
		if s.pos < len(s.data) && bytesIndex(`"{[tfn-`, s.data[s.pos]) {
			return 0, s.shapeAt(s.pos, "expected a token id (an integer 0..4294967295)")
		}
		return 0, s.errorf("unexpected %s, expected a token id", s.found())
	}
	if s.data[start] == '0' && s.pos-start > 1 {
		return 0, s.errorAt(start, "a number with a leading zero is not JSON")
	}
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '.', 'e', 'E':
			return 0, s.shapeAt(start, "token id must be an integer")
		}
	}
	return uint32(v), nil
}

func bytesIndex(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}

// skip consumes one value, validating it as JSON, and returns its raw
// bytes. It does not recurse: nesting is tracked in a small stack, bounded
// by MaxNesting (counting the containers around the value).
func (s *jscan) skip() ([]byte, error) {
	s.ws()
	start := s.pos
	var stack [MaxNesting]byte // the closers of the open containers
	n := 0
	for {
		// A value.
		if err := s.cn.poll(1); err != nil {
			return nil, err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return nil, s.errorf("unexpected end of input, want a value")
		}
		switch c := s.data[s.pos]; c {
		case '{', '[':
			if s.depth+n >= MaxNesting {
				return nil, s.errorf("arrays and objects nested deeper than %d levels (the limit of tokenizers' JSON parser)", MaxNesting)
			}
			s.pos++
			closer := byte(']')
			if c == '{' {
				closer = '}'
			}
			if s.at(closer) {
				s.pos++
				break
			}
			stack[n] = closer
			n++
			if c == '{' {
				if err := s.key(); err != nil {
					return nil, err
				}
			}
			continue
		case '"':
			if _, err := s.str(); err != nil {
				return nil, err
			}
		case 't':
			if err := s.literal("true"); err != nil {
				return nil, err
			}
		case 'f':
			if err := s.literal("false"); err != nil {
				return nil, err
			}
		case 'n':
			if err := s.literal("null"); err != nil {
				return nil, err
			}
		default:
			if err := s.number(); err != nil {
				return nil, err
			}
		}
		// After a value: close containers, or go on to the next element.
		for {
			if n == 0 {
				return s.data[start:s.pos], nil
			}
			s.ws()
			closer := stack[n-1]
			if s.pos >= len(s.data) {
				return nil, s.errorf("unexpected end of input, want ',' or %q", closer)
			}
			c := s.data[s.pos]
			if c == closer {
				s.pos++
				n--
				continue
			}
			if c != ',' {
				return nil, s.errorf("unexpected %q, want ',' or %q", c, closer)
			}
			s.pos++
			if closer == '}' {
				if err := s.key(); err != nil {
					return nil, err
				}
			}
			break
		}
	}
}

// key reads an object key and its ':'.
func (s *jscan) key() error {
	if !s.at('"') {
		return s.errorf("unexpected %s, want a string key", s.found())
	}
	if _, err := s.str(); err != nil {
		return err
	}
	return s.expect(':')
}

func (s *jscan) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.errorf("unexpected %s, want a value", s.found())
	}
	s.pos += len(lit)
	return nil
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jscan) number() error {
	start := s.pos
	d := s.data
	digits := func() int {
		n := 0
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	intStart := s.pos
	if n := digits(); n == 0 {
		s.pos = start
		return s.errorf("unexpected %s, want a value", s.found())
	} else if n > 1 && d[intStart] == '0' {
		return s.errorAt(intStart, "a number with a leading zero is not JSON")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return s.errorf("unexpected %s, want a digit after '.'", s.found())
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return s.errorf("unexpected %s, want a digit in the exponent", s.found())
		}
	}
	return nil
}

// object calls f for each key of an object, with the scanner on the value;
// f must consume the value.
func (s *jscan) object(f func(key string) error) error {
	return s.container('{', '}', func() error {
		if !s.at('"') {
			return s.errorf("unexpected %s, want a string key", s.found())
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		key := string(k)
		if err := s.expect(':'); err != nil {
			return err
		}
		return f(key)
	})
}

// array calls f for each element of an array.
func (s *jscan) array(f func() error) error { return s.container('[', ']', f) }

// container walks an object or array from open to close, calling member
// for each member; commas separate them.
func (s *jscan) container(open, close byte, member func() error) error {
	if err := s.expect(open); err != nil {
		return err
	}
	if s.depth++; s.depth > MaxNesting {
		return s.errorAt(s.pos-1, "arrays and objects nested deeper than %d levels", MaxNesting)
	}
	if s.at(close) {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := s.cn.poll(1); err != nil {
			return err
		}
		if err := member(); err != nil {
			return err
		}
		s.ws()
		switch {
		case s.pos >= len(s.data):
			return s.errorf("unexpected end of input, want ',' or '%c'", close)
		case s.data[s.pos] == ',':
			s.pos++
		case s.data[s.pos] == close:
			s.pos++
			s.depth--
			return nil
		default:
			return s.errorf("unexpected %s, want ',' or '%c'", s.found(), close)
		}
	}
}

// scanFile splits a tokenizer.json into its top-level components, decoding
// the model's vocab itself and keeping the merges' raw bytes.
func scanFile(data []byte) (*fileJSON, *modelScan, error) {
	return scanFileContext(nil, data)
}

func scanFileContext(cn *canceller, data []byte) (*fileJSON, *modelScan, error) {
	s := newScan(cn, data)
	if !s.at('{') {
		if _, err := s.skip(); err != nil {
			return nil, nil, err
		}
		return nil, nil, s.shapeAt(0, "a tokenizer.json is a JSON object")
	}
	f := &fileJSON{}
	var ms *modelScan
	raw := func(key string, dst *json.RawMessage) error {
		start := s.pos
		b, err := s.skip()
		if err == nil && len(b) > maxComponentBytes {
			err = s.shapeAt(start, "%s: %d bytes of JSON, more than the %d a real one could need", key, len(b), maxComponentBytes)
		}
		*dst = b
		return err
	}
	err := s.object(func(key string) error {
		switch key {
		case "version":
			b, err := s.skip()
			if err != nil {
				return err
			}
			var v string
			if err := json.Unmarshal(b, &v); err != nil {
				return fmt.Errorf("tokenizer.json: version: %w", err)
			}
			f.Version = &v
			return nil
		case "truncation":
			return raw(key, &f.Truncation)
		case "padding":
			return raw(key, &f.Padding)
		case "added_tokens":
			f.AddedTokens = nil
			return s.addedTokens(f)
		case "normalizer":
			return raw(key, &f.Normalizer)
		case "pre_tokenizer":
			return raw(key, &f.PreTokenizer)
		case "post_processor":
			return raw(key, &f.PostProcessor)
		case "decoder":
			return raw(key, &f.Decoder)
		case "model":
			if !s.at('{') {
				start := s.pos
				b, err := s.skip()
				if err == nil && string(b) != "null" {
					err = s.shapeAt(start, "model must be an object")
				}
				ms = nil
				return err
			}
			var err error
			ms, err = s.model()
			return err
		}
		_, err := s.skip()
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if s.ws(); s.pos < len(s.data) {
		return nil, nil, s.errorf("data after the top-level object")
	}
	return f, ms, nil
}

// addedTokens decodes the added_tokens array one token at a time.
func (s *jscan) addedTokens(f *fileJSON) error {
	if !s.at('[') {
		start := s.pos
		b, err := s.skip()
		if err != nil {
			return err
		}
		if string(b) != "null" {
			return s.shapeAt(start, "added_tokens must be an array")
		}
		return nil
	}
	return s.array(func() error {
		start := s.pos
		b, err := s.skip()
		if err != nil {
			return err
		}
		if len(b) > maxComponentBytes {
			return s.shapeAt(start, "added_tokens[%d]: %d bytes of JSON, more than the %d a real one could need", len(f.AddedTokens), len(b), maxComponentBytes)
		}
		var tj addedTokenJSON
		if err := json.Unmarshal(b, &tj); err != nil {
			return fmt.Errorf("tokenizer.json: offset %d: added_tokens[%d]: %w", start, len(f.AddedTokens), err)
		}
		f.AddedTokens = append(f.AddedTokens, tj)
		return nil
	})
}

// modelScan is the model object: small fields decoded by encoding/json,
// the vocab decoded here, the merges kept raw.
type modelScan struct {
	opts      modelJSON // all but Vocab and Merges
	vocab     map[string]uint32
	merges    []byte // raw array, nil if absent
	mergesOff int    // offset of merges in the file
}

func (s *jscan) model() (*modelScan, error) {
	ms := &modelScan{}
	small := map[string]json.RawMessage{}
	err := s.object(func(key string) error {
		switch key {
		case "vocab":
			if !s.at('{') { // null, or another model's vocab (Unigram's is a list)
				_, err := s.skip()
				ms.vocab = nil
				return err
			}
			ms.vocab = make(map[string]uint32, min(len(s.data)/64, MaxVocab))
			return s.object(func(tok string) error {
				start := s.pos
				id, err := s.uint32v()
				if err != nil {
					return err
				}
				ms.vocab[tok] = id
				if len(ms.vocab) > MaxVocab {
					return s.shapeAt(start, "model: vocab: more than %d tokens (the largest real vocabularies hold about 262,000)", MaxVocab)
				}
				return nil
			})
		case "merges":
			s.ws()
			ms.mergesOff = s.pos
			b, err := s.skip()
			if err != nil {
				return err
			}
			if string(b) == "null" {
				b = nil
			}
			ms.merges = b
			return nil
		}
		start := s.pos
		b, err := s.skip()
		if err != nil {
			return err
		}
		if len(b) > maxComponentBytes {
			return s.shapeAt(start, "model: %s: %d bytes of JSON, more than the %d a real one could need", key, len(b), maxComponentBytes)
		}
		small[key] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(small) > 0 {
		b, _ := json.Marshal(small)
		if err := json.Unmarshal(b, &ms.opts); err != nil {
			return nil, fmt.Errorf("tokenizer.json: model: %w", err)
		}
	}
	return ms, nil
}

var errMixedMerges = errors.New("merges mix strings and pairs")

// eachMerge calls f for each merge of the raw merges array, as (a, b) or
// as a legacy "a b" line (line != nil). The slices are only valid during f.
func eachMerge(cn *canceller, raw []byte, base int, f func(a, b, line []byte) error) error {
	s := newScan(cn, raw)
	s.base = base
	if !s.at('[') {
		return s.shapeAt(0, "merges must be an array")
	}
	kind := 0 // 1: lines, 2: pairs
	var a []byte
	return s.array(func() error {
		switch s.peek() {
		case '"':
			if kind == 2 {
				return errMixedMerges
			}
			kind = 1
			line, err := s.str()
			if err != nil {
				return err
			}
			return f(nil, nil, line)
		case '[':
			if kind == 1 {
				return errMixedMerges
			}
			kind = 2
			n := 0
			var b []byte
			err := s.array(func() error {
				if !s.at('"') {
					start := s.pos
					if _, err := s.skip(); err != nil {
						return err
					}
					return s.shapeAt(start, "a merge pair holds two strings")
				}
				v, err := s.str()
				if err != nil {
					return err
				}
				switch n {
				case 0:
					a = append(a[:0], v...) // v may live in s.buf
				case 1:
					b = v
				}
				n++
				return nil
			})
			if err != nil {
				return err
			}
			if n != 2 {
				return fmt.Errorf("tokenizer.json: model: merges: a merge must be a pair")
			}
			return f(a, b, nil)
		}
		start := s.pos
		if _, err := s.skip(); err != nil {
			return err
		}
		return s.shapeAt(start, "a merge must be a string or a pair")
	})
}
