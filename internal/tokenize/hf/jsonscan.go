package hf

// A minimal JSON scanner for the bulk of a tokenizer.json: the model's vocab
// and merges (hundreds of thousands of entries, nearly all of the file).
// encoding/json takes over half a second on a Qwen-sized file; this reads
// the merges without allocating and the vocab with one string per entry.
// The small components (normalizer, pre_tokenizer, ...) are still decoded
// by encoding/json from the raw bytes this scanner slices out.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

type jscan struct {
	data []byte
	pos  int
	buf  []byte // scratch for unescaped strings
}

func (s *jscan) errorf(format string, args ...any) error {
	return fmt.Errorf("tokenizer.json: offset %d: %s", s.pos, fmt.Sprintf(format, args...))
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

func (s *jscan) expect(c byte) error {
	if s.peek() != c {
		if s.pos >= len(s.data) {
			return s.errorf("unexpected end of input, want %q", c)
		}
		return s.errorf("unexpected %q, want %q", s.data[s.pos], c)
	}
	s.pos++
	return nil
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
				return nil, s.errorf("invalid UTF-8 in string")
			}
			return out, nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return nil, s.errorf("control character in string")
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
				return nil, s.errorf("invalid UTF-8 in string")
			}
			return b, nil
		case c < 0x20:
			return nil, s.errorf("control character in string")
		case c != '\\':
			b = append(b, c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.data) {
			break
		}
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
					return nil, s.errorf("lone surrogate in string")
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return nil, s.errorf("bad escape \\%c", e)
		}
	}
	return nil, s.errorf("unterminated string")
}

func (s *jscan) hex4() (rune, error) {
	if s.pos+4 > len(s.data) {
		return 0, s.errorf("bad \\u escape")
	}
	v, err := strconv.ParseUint(string(s.data[s.pos:s.pos+4]), 16, 32)
	if err != nil {
		return 0, s.errorf("bad \\u escape")
	}
	s.pos += 4
	return rune(v), nil
}

// uint32v reads a non-negative integer that fits in 32 bits.
func (s *jscan) uint32v() (uint32, error) {
	s.ws()
	start := s.pos
	var v uint64
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		v = v*10 + uint64(s.data[s.pos]-'0')
		if v > 1<<32-1 {
			return 0, s.errorf("id out of range")
		}
		s.pos++
	}
	if s.pos == start {
		return 0, s.errorf("expected a token id")
	}
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '.', 'e', 'E':
			return 0, s.errorf("token id must be an integer")
		}
	}
	return uint32(v), nil
}

// skip skips one value and returns its raw bytes.
func (s *jscan) skip() ([]byte, error) {
	s.ws()
	start := s.pos
	depth := 0
	for {
		if s.pos >= len(s.data) {
			return nil, s.errorf("unexpected end of input")
		}
		switch c := s.data[s.pos]; c {
		case '"':
			if _, err := s.str(); err != nil {
				return nil, err
			}
		case '{', '[':
			depth++
			s.pos++
		case '}', ']':
			depth--
			s.pos++
			if depth < 0 {
				return nil, s.errorf("unexpected %q", c)
			}
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return nil, s.errorf("unexpected %q", c)
			}
			s.pos++
		default:
			// A scalar: up to the next delimiter.
			for s.pos < len(s.data) {
				switch s.data[s.pos] {
				case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
					goto done
				}
				s.pos++
			}
		done:
		}
		if depth == 0 {
			// Not validated here: callers decode the value, or validate it.
			return s.data[start:s.pos], nil
		}
	}
}

// object calls f for each key of an object, with the scanner on the value;
// f must consume the value.
func (s *jscan) object(f func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		key := string(k)
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := f(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		case 0:
			return s.errorf("unexpected end of input")
		default:
			return s.errorf("expected ',' or '}'")
		}
	}
}

// array calls f for each element of an array.
func (s *jscan) array(f func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := f(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		case 0:
			return s.errorf("unexpected end of input")
		default:
			return s.errorf("expected ',' or ']'")
		}
	}
}

// scanFile splits a tokenizer.json into its top-level components, decoding
// the model's vocab itself and keeping the merges' raw bytes.
func scanFile(data []byte) (*fileJSON, *modelScan, error) {
	s := &jscan{data: data}
	f := &fileJSON{}
	var ms *modelScan
	raw := func(dst *json.RawMessage) error {
		b, err := s.skip()
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
			return raw(&f.Truncation)
		case "padding":
			return raw(&f.Padding)
		case "added_tokens":
			var r json.RawMessage
			if err := raw(&r); err != nil {
				return err
			}
			f.AddedTokens = nil
			if err := json.Unmarshal(r, &f.AddedTokens); err != nil {
				return fmt.Errorf("tokenizer.json: added_tokens: %w", err)
			}
			return nil
		case "normalizer":
			return raw(&f.Normalizer)
		case "pre_tokenizer":
			return raw(&f.PreTokenizer)
		case "post_processor":
			return raw(&f.PostProcessor)
		case "decoder":
			return raw(&f.Decoder)
		case "model":
			if s.peek() == 'n' {
				_, err := s.skip()
				ms = nil
				return err
			}
			var err error
			ms, err = s.model()
			return err
		}
		b, err := s.skip()
		if err == nil && !json.Valid(b) {
			err = fmt.Errorf("tokenizer.json: %s: invalid JSON", key)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if s.peek() != 0 {
		return nil, nil, s.errorf("data after the top-level object")
	}
	return f, ms, nil
}

// modelScan is the model object: small fields decoded by encoding/json,
// the vocab decoded here, the merges kept raw.
type modelScan struct {
	opts   modelJSON // all but Vocab and Merges
	vocab  map[string]uint32
	merges []byte // raw array, nil if absent
}

func (s *jscan) model() (*modelScan, error) {
	ms := &modelScan{}
	small := map[string]json.RawMessage{}
	err := s.object(func(key string) error {
		switch key {
		case "vocab":
			if s.peek() != '{' { // null, or another model's vocab (Unigram's is a list)
				_, err := s.skip()
				ms.vocab = nil
				return err
			}
			ms.vocab = make(map[string]uint32, len(s.data)/32)
			return s.object(func(tok string) error {
				id, err := s.uint32v()
				if err != nil {
					return err
				}
				ms.vocab[tok] = id
				return nil
			})
		case "merges":
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
		b, err := s.skip()
		if err != nil {
			return err
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
func eachMerge(raw []byte, f func(a, b, line []byte) error) error {
	s := &jscan{data: raw}
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
		return s.errorf("a merge must be a string or a pair")
	})
}
