// Package hf encodes text into token ids exactly as a Hugging Face
// tokenizer.json does with the tokenizers library, in pure Go.
//
// It supports the BPE model family served by LMCache deployments:
//
//   - byte-level BPE (GPT-2, Llama-3, Qwen2/2.5/3, DeepSeek style): Split
//     pre-tokenizers with the file's own regular expression, ByteLevel,
//     Digits, NFC/NFD/NFKC/NFKD normalizers;
//   - SentencePiece-style BPE (Llama-2, Mistral style): Metaspace or the
//     legacy Prepend/Replace normalizers, byte fallback to <0xHH> tokens,
//     unk tokens (fused or not);
//   - added and special tokens with their single_word, lstrip, rstrip and
//     normalized flags, matched before normalization and pre-tokenization;
//   - TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel and
//     Sequence post-processors, for add_special_tokens (BOS/EOS) semantics.
//
// A file using anything else (another model type, a Precompiled or
// Lowercase normalizer, a regex construct outside the supported subset, ...)
// is refused by Parse with an *UnsupportedError naming the component,
// rather than encoded approximately.
//
// Truncation and padding settings stored in the file are ignored, as the
// transformers library (and so vLLM's tokenize endpoint) does unless a
// request asks for them.
//
// Exactness is checked against Hugging Face's tokenizers library itself
// (testdata/README.md): Qwen3's file and nine variants of its components,
// a SentencePiece-style tokenizer in four layouts, and, optionally, the
// Llama-2, Llama-3/3.1, DeepSeek-V3, GPT-4o, gpt-oss and Gemma 3 files.
// Known limits: Unicode properties and normalization come from Go's and
// golang.org/x/text's Unicode tables, so characters assigned in a newer
// Unicode version than those may be classified differently; the engine may
// apply settings that live outside tokenizer.json (transformers' Llama
// tokenizers rebuild the BOS/EOS template from add_bos_token/add_eos_token
// in tokenizer_config.json, and chat templates are applied before
// tokenization), which only the engine's own tokenize endpoint reflects.
//
// Limits, each failing with an error that names it rather than running
// long or holding much memory: Load reads at most MaxFileBytes (64 MiB;
// real files are up to ~35 MB); the JSON nests at most MaxNesting (128,
// serde_json's limit) levels, each small component and added token takes
// at most 1 MiB, and every syntax error is a *SyntaxError with its byte
// offset; invalid UTF-8 and lone surrogate escapes are refused, in the file
// as in the text (an *InvalidUTF8Error with the byte offset); a split or
// replace pattern has at most 64 KiB of source, and matching it may take
// 1,000,000 + 64 steps per byte of text over one Encode call and hold
// 2^20 backtracking points, so a pattern that backtracks catastrophically
// fails with a *PatternError naming it in under half a second per MiB,
// while real patterns take at most ~21 steps per byte.
//
// Cancellation: EncodeContext, AppendEncodeContext, ParseContext and
// LoadContext return within a few milliseconds of the context's end
// (measured: 1-30 ms for 8 MiB inputs), with an error wrapping
// context.Cause(ctx); the plain entry points use context.Background() and
// pay nothing for it.
//
// Performance: a 139,000-token text (457 kB) encodes with the Qwen3
// tokenizer in about 25 ms on two cores, with a few hundred allocations
// and none per token; loading Qwen3's 11 MB tokenizer.json takes about
// 250 ms.
package hf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"

	"lmc/internal/boundedio"
)

// UnsupportedError reports a tokenizer.json component that this package
// cannot reproduce exactly.
type UnsupportedError struct {
	Component string // e.g. "normalizer", "pre_tokenizer", "model"
	Detail    string // e.g. "type Precompiled is not supported"
}

func (e *UnsupportedError) Error() string {
	return "tokenizer.json: " + e.Component + ": " + e.Detail
}

func unsupported(component, format string, args ...any) error {
	return &UnsupportedError{Component: component, Detail: fmt.Sprintf(format, args...)}
}

// ErrInvalidUTF8 is what Encode's *InvalidUTF8Error for text that is not
// valid UTF-8 matches with errors.Is (tokenizers only accepts Unicode
// strings; replacing the bytes would give the ids of another text).
var ErrInvalidUTF8 = errors.New("hf: text is not valid UTF-8")

// InvalidUTF8Error locates the first byte of a text that is not valid
// UTF-8. A caller reading the text from a file adds the file's name.
type InvalidUTF8Error struct {
	Offset int    // byte offset of the first invalid sequence
	Bytes  []byte // the invalid sequence (up to 4 bytes)
}

func (e *InvalidUTF8Error) Error() string {
	return fmt.Sprintf("text is not valid UTF-8: byte offset %d (% x)", e.Offset, e.Bytes)
}

func (e *InvalidUTF8Error) Is(target error) bool { return target == ErrInvalidUTF8 }

// invalidUTF8 returns the *InvalidUTF8Error of text (which is not valid).
func invalidUTF8(text string) error {
	for i := 0; i < len(text); {
		r, sz := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && sz == 1 {
			// The maximal invalid prefix, as Unicode's "substitution of
			// maximal subparts" counts it: the lead byte and the
			// continuation bytes after it, at most 4.
			end := i + 1
			for end < len(text) && end < i+4 && text[end]&0xC0 == 0x80 {
				end++
			}
			return &InvalidUTF8Error{Offset: i, Bytes: []byte(text[i:end])}
		}
		i += sz
	}
	return ErrInvalidUTF8
}

// Tokenizer encodes text. It is safe for concurrent use.
type Tokenizer struct {
	model    bpeModel
	norm     normalizer
	stages   []stage
	added    []addedToken
	rawTrie  *trie   // tokens with normalized == false
	normTrie *trie   // tokens with normalized == true, in normalized form
	template []int64 // post-processing with add_special_tokens; -1 is the text
	info     Description
	vocabR   []string // id -> token, when ids are dense
	// vocabSparse replaces vocabR when ids are far apart.
	vocabSparse map[uint32]string
	addedByID   map[uint32]int // id -> index in added
	maxID       uint32
	pool        sync.Pool
	// firstMatters: a Metaspace pre-tokenizer has prepend_scheme first.
	firstMatters bool
}

// state is the per-call scratch space, pooled.
type state struct {
	cn        canceller
	m         matcher
	word      word
	cache     wordCache
	mapBuf    []byte
	normBuf   []byte
	seqBufs   [2][]byte
	replSpans []span
	segs      []segment
	nsegs     []segment
	stageBufs [][]byte
	spans     [][]span
}

func (t *Tokenizer) getState() *state {
	if st, ok := t.pool.Get().(*state); ok {
		return st
	}
	return &state{
		stageBufs: make([][]byte, len(t.stages)),
		spans:     make([][]span, len(t.stages)),
	}
}

// MaxFileBytes bounds the tokenizer.json Load reads. Real ones take up to
// about 35 MB (Gemma 3's, with 262,144 tokens, is 33 MB); a larger file, or
// a path leading to a device or an endless pipe, fails with a
// *boundedio.TooLargeError before more than this is read.
const MaxFileBytes = 64 << 20

// putState pools st again, without the context it watched.
func (t *Tokenizer) putState(st *state) {
	st.cn = canceller{}
	t.pool.Put(st)
}

// Load reads a tokenizer.json file. A directory is taken to contain one.
func Load(path string) (*Tokenizer, error) {
	return LoadContext(context.Background(), path)
}

// LoadContext is Load, stopped within milliseconds when ctx ends (also
// while it waits for a FIFO's writer or a pipe's data), with an error that
// wraps context.Cause(ctx).
func LoadContext(ctx context.Context, path string) (*Tokenizer, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	data, err := boundedio.ReadFile(ctx, path, MaxFileBytes, "a tokenizer.json")
	if err != nil {
		return nil, err
	}
	t, err := ParseContext(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Encode returns the ids of text, as tokenizers' encode(text,
// add_special_tokens) does for a single sequence. Text that is not valid
// UTF-8 is an *InvalidUTF8Error; a split or replace pattern that
// backtracks catastrophically on the text is a *PatternError.
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) ([]uint32, error) {
	return t.AppendEncodeContext(context.Background(), nil, text, addSpecialTokens)
}

// EncodeContext is Encode, stopped within milliseconds when ctx ends: it
// then returns an error that wraps context.Cause(ctx) (errors.Is(err,
// context.Canceled) or context.DeadlineExceeded).
func (t *Tokenizer) EncodeContext(ctx context.Context, text string, addSpecialTokens bool) ([]uint32, error) {
	return t.AppendEncodeContext(ctx, nil, text, addSpecialTokens)
}

// AppendEncode appends the ids of text to dst and returns the extended
// slice; reusing dst across calls avoids allocating the result.
func (t *Tokenizer) AppendEncode(dst []uint32, text string, addSpecialTokens bool) ([]uint32, error) {
	return t.AppendEncodeContext(context.Background(), dst, text, addSpecialTokens)
}

// AppendEncodeContext is AppendEncode, stopped when ctx ends as
// EncodeContext is.
func (t *Tokenizer) AppendEncodeContext(ctx context.Context, dst []uint32, text string, addSpecialTokens bool) ([]uint32, error) {
	if !utf8.ValidString(text) {
		return dst, invalidUTF8(text)
	}
	st := t.getState()
	defer t.putState(st)
	st.cn.reset(ctx)
	st.m.reset(&st.cn)
	dst, err := t.encodeTemplate(st, dst, text, addSpecialTokens)
	if err != nil && st.cn.done != nil && ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
		err = &stoppedError{what: fmt.Sprintf("hf: encoding %d bytes of text stopped", len(text)), err: err}
	}
	return dst, err
}

func (t *Tokenizer) encodeTemplate(st *state, dst []uint32, text string, addSpecialTokens bool) ([]uint32, error) {
	if !addSpecialTokens || t.template == nil {
		return t.encodeText(st, dst, text)
	}
	var err error
	for _, item := range t.template {
		if item >= 0 {
			dst = append(dst, uint32(item))
			continue
		}
		if dst, err = t.encodeText(st, dst, text); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func (t *Tokenizer) encodeText(st *state, dst []uint32, text string) ([]uint32, error) {
	in := unsafeBytes(text)
	var err error
	if st.segs, err = t.findAdded(&st.cn, t.rawTrie, in, st.segs[:0]); err != nil {
		return dst, err
	}
	segs := st.segs
	for _, sg := range segs {
		if sg.tok >= 0 {
			dst = append(dst, t.added[sg.tok].id)
			continue
		}
		piece := in[sg.start:sg.end]
		orig0 := 0
		if sg.start == 0 {
			orig0, err = t.firstCharLen(st, piece)
			if err != nil {
				return dst, err
			}
		}
		if t.norm != nil {
			st.normBuf, err = t.norm.apply(st, st.normBuf[:0], piece)
			if err != nil {
				return dst, err
			}
			piece = st.normBuf
		}
		if t.normTrie == nil {
			if dst, err = t.pretok(st, 0, piece, orig0, dst); err != nil {
				return dst, err
			}
			continue
		}
		if st.nsegs, err = t.findAdded(&st.cn, t.normTrie, piece, st.nsegs[:0]); err != nil {
			return dst, err
		}
		for _, ns := range st.nsegs {
			if ns.tok >= 0 {
				dst = append(dst, t.added[ns.tok].id)
				continue
			}
			if dst, err = t.pretok(st, 0, piece[ns.start:ns.end], max(orig0-int(ns.start), 0), dst); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

// firstCharLen returns how many bytes the normalized text starts with that
// come from the first character of text (see pretok's orig0).
func (t *Tokenizer) firstCharLen(st *state, text []byte) (int, error) {
	if !t.firstMatters || len(text) == 0 {
		return 1, nil
	}
	_, sz := utf8.DecodeRune(text)
	if t.norm == nil {
		return sz, nil
	}
	b, err := t.norm.apply(st, st.mapBuf[:0], text[:sz])
	st.mapBuf = b
	return len(b), err
}

// VocabSize is the number of distinct tokens, added tokens included (as
// tokenizers' get_vocab_size(true)).
func (t *Tokenizer) VocabSize() int { return t.info.VocabSize }

// MaxID is the largest token id the tokenizer can produce.
func (t *Tokenizer) MaxID() uint32 { return t.maxID }

// Token returns the vocabulary string of id (for a byte-level tokenizer,
// in its byte-to-unicode form, such as "Ġthe").
func (t *Tokenizer) Token(id uint32) (string, bool) {
	if t.vocabSparse != nil {
		s, ok := t.vocabSparse[id]
		return s, ok
	}
	if int64(id) >= int64(len(t.vocabR)) {
		return "", false
	}
	s := t.vocabR[id]
	return s, s != "" || t.hasEmptyToken(id)
}

func (t *Tokenizer) hasEmptyToken(id uint32) bool {
	v, ok := t.model.vocab[""]
	return ok && v == id
}

// TokenBytes returns the text a token stands for: the raw bytes of a
// byte-level token, the byte of a <0xHH> byte-fallback token, a space for a
// Metaspace replacement character, or the content of an added token. The
// bytes may be an incomplete UTF-8 sequence.
func (t *Tokenizer) TokenBytes(id uint32) ([]byte, bool) {
	s, ok := t.Token(id)
	if !ok {
		return nil, false
	}
	if i, ok := t.addedByID[id]; ok {
		return []byte(t.added[i].content), true
	}
	if len(s) == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' && t.model.byteFallback {
		var b byte
		for _, c := range []byte(s[3:5]) {
			switch {
			case c >= '0' && c <= '9':
				b = b<<4 | (c - '0')
			case c >= 'A' && c <= 'F':
				b = b<<4 | (c - 'A' + 10)
			default:
				return []byte(s), true
			}
		}
		return []byte{b}, true
	}
	if t.model.byteLevel {
		out := make([]byte, 0, len(s))
		for _, r := range s {
			b, ok := charByte(r)
			if !ok {
				return []byte(s), true
			}
			out = append(out, b)
		}
		return out, true
	}
	if rep := t.metaspaceReplacement(); rep != "" {
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if string(r) == rep {
				out = append(out, ' ')
			} else {
				out = utf8.AppendRune(out, r)
			}
		}
		return out, true
	}
	return []byte(s), true
}

func (t *Tokenizer) metaspaceReplacement() string {
	for _, sg := range t.stages {
		if sg.kind == stMetaspace {
			return sg.replStr
		}
	}
	return t.info.spaceReplacement
}

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id uint32) bool {
	i, ok := t.addedByID[id]
	return ok && t.added[i].special
}
