package hf

import (
	"unicode"
	"unicode/utf8"
)

// The pre-tokenizer is a list of stages. Each stage turns one piece into
// sub-pieces (empty ones are dropped, as PreTokenizedString::split does)
// and hands each to the next stage; the last stage hands them to the model.
// A ByteLevel pre-tokenizer must be the last element: its byte-to-unicode
// mapping is folded into the model, which works on raw bytes.

type behavior uint8

const (
	bhRemoved behavior = iota
	bhIsolated
	bhMergedWithPrevious
	bhMergedWithNext
	bhContiguous
)

// behaviorNamed reads a Split behavior (a switch, not a map built when the
// program starts).
func behaviorNamed(name string) (behavior, bool) {
	switch name {
	case "Removed":
		return bhRemoved, true
	case "Isolated":
		return bhIsolated, true
	case "MergedWithPrevious":
		return bhMergedWithPrevious, true
	case "MergedWithNext":
		return bhMergedWithNext, true
	case "Contiguous":
		return bhContiguous, true
	}
	return 0, false
}

type stageKind uint8

const (
	stSplit     stageKind = iota // Split: regex or literal pattern
	stByteLevel                  // ByteLevel: optional prefix space and GPT-2 regex
	stMetaspace                  // Metaspace: ' ' -> replacement, prepend, split
	stDigits                     // Digits: numeric characters
)

type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

type stage struct {
	kind     stageKind
	re       *regex // stSplit, stByteLevel with use_regex
	behavior behavior
	invert   bool
	desc     string

	addPrefixSpace bool // stByteLevel

	replacement rune // stMetaspace
	replStr     string
	prepend     prependScheme
	split       bool

	individual bool // stDigits
}

// gpt2Pattern is the pattern of the ByteLevel pre-tokenizer with use_regex.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// pretok runs stage i and the following ones on piece, appending ids.
// orig0 is the number of leading bytes of piece that stand for the first
// character of the original input (tokenizers aligns every character a
// normalizer produces from it, such as the three of NFKC("½") = "1⁄2", to
// offset 0); Metaspace's prepend_scheme "first" prepends to such pieces.
func (t *Tokenizer) pretok(st *state, i int, piece []byte, orig0 int, dst []uint32) ([]uint32, error) {
	if len(piece) == 0 {
		return dst, nil
	}
	if i == len(t.stages) {
		return t.model.tokenizeWord(st, piece, dst)
	}
	sg := &t.stages[i]
	var err error
	switch sg.kind {
	case stByteLevel:
		if sg.addPrefixSpace && piece[0] != ' ' {
			buf := append(st.stageBufs[i][:0], ' ')
			buf = append(buf, piece...)
			st.stageBufs[i] = buf
			piece = buf
		}
		if sg.re == nil {
			return t.pretok(st, i+1, piece, orig0, dst)
		}
		return t.splitRegex(st, i, sg, piece, orig0, dst)
	case stSplit:
		return t.splitRegex(st, i, sg, piece, orig0, dst)
	case stMetaspace:
		// tokenizers replaces ' ' first and then checks for a leading
		// replacement character.
		buf := st.stageBufs[i][:0]
		starts := piece[0] == ' ' || startsWithRune(piece, sg.replacement)
		if !starts && (sg.prepend == prependAlways || (sg.prepend == prependFirst && orig0 > 0)) {
			buf = append(buf, sg.replStr...)
		}
		for k, b := range piece {
			if k&(pollEvery-1) == pollEvery-1 {
				if err := st.cn.poll(pollEvery); err != nil {
					return dst, err
				}
			}
			if b == ' ' {
				buf = append(buf, sg.replStr...)
			} else {
				buf = append(buf, b)
			}
		}
		st.stageBufs[i] = buf
		if !sg.split {
			return t.pretok(st, i+1, buf, min(orig0, 1), dst)
		}
		spans := st.spans[i][:0]
		spans, err = runeMatches(&st.cn, buf, func(r rune) bool { return r == sg.replacement }, spans)
		if err != nil {
			return dst, err
		}
		spans = applyBehavior(spans, bhMergedWithNext)
		st.spans[i] = spans
		return t.emitSpans(st, i, buf, spans, min(orig0, 1), dst)
	case stDigits:
		spans := st.spans[i][:0]
		spans, err = runeMatches(&st.cn, piece, unicode.IsNumber, spans)
		if err != nil {
			return dst, err
		}
		if sg.individual {
			spans = applyBehavior(spans, bhIsolated)
		} else {
			spans = applyBehavior(spans, bhContiguous)
		}
		st.spans[i] = spans
		return t.emitSpans(st, i, piece, spans, orig0, dst)
	}
	return dst, err
}

func startsWithRune(b []byte, r rune) bool {
	c, _ := utf8.DecodeRune(b)
	return c == r
}

func (t *Tokenizer) splitRegex(st *state, i int, sg *stage, piece []byte, orig0 int, dst []uint32) ([]uint32, error) {
	spans, err := st.m.findAll(sg.re, piece, st.spans[i][:0])
	if err != nil {
		return dst, err
	}
	if sg.invert {
		for k := range spans {
			spans[k].match = !spans[k].match
		}
	}
	spans = applyBehavior(spans, sg.behavior)
	st.spans[i] = spans
	return t.emitSpans(st, i, piece, spans, orig0, dst)
}

// emitSpans hands the kept spans (match == false after applyBehavior) to
// the next stage.
func (t *Tokenizer) emitSpans(st *state, i int, piece []byte, spans []span, orig0 int, dst []uint32) ([]uint32, error) {
	var err error
	for k := 0; k < len(spans); k++ {
		sp := spans[k] // deeper stages use their own span lists
		if sp.match || sp.start == sp.end {
			continue
		}
		dst, err = t.pretok(st, i+1, piece[sp.start:sp.end], max(orig0-int(sp.start), 0), dst)
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// runeMatches is tokenizers' Pattern for a char predicate: every matching
// character is a match of its own; runs of other characters are gaps.
func runeMatches(cn *canceller, text []byte, pred func(rune) bool, dst []span) ([]span, error) {
	if len(text) == 0 {
		return append(dst, span{0, 0, false}), nil
	}
	last := 0
	for i, next := 0, pollEvery; i < len(text); {
		if i >= next {
			if err := cn.poll(pollEvery); err != nil {
				return dst, err
			}
			next = i + pollEvery
		}
		r, sz := utf8.DecodeRune(text[i:])
		if pred(r) {
			if last < i {
				dst = append(dst, span{int32(last), int32(i), false})
			}
			dst = append(dst, span{int32(i), int32(i + sz), true})
			last = i + sz
		}
		i += sz
	}
	if last < len(text) {
		dst = append(dst, span{int32(last), int32(len(text)), false})
	}
	return dst, nil
}

// applyBehavior rewrites the (offsets, is_match) list as
// NormalizedString::split does. On return, match == true marks a span to
// remove.
func applyBehavior(spans []span, b behavior) []span {
	switch b {
	case bhIsolated:
		for k := range spans {
			spans[k].match = false
		}
		return spans
	case bhRemoved:
		return spans
	case bhContiguous:
		return mergeForward(spans, func(m, prev bool) bool { return m == prev })
	case bhMergedWithPrevious:
		return mergeForward(spans, func(m, prev bool) bool { return m && !prev })
	case bhMergedWithNext:
		// Walk backwards, merging a match into the following non-match,
		// and write the result back to front.
		w := len(spans)
		prev := false
		for k := len(spans) - 1; k >= 0; k-- {
			s := spans[k]
			m := s.match
			if m && !prev && w < len(spans) {
				spans[w].start = s.start
			} else {
				w--
				spans[w] = span{s.start, s.end, false}
			}
			prev = m
		}
		n := copy(spans, spans[w:])
		return spans[:n]
	}
	return spans
}

// mergeForward folds each span into the one before it when merge(its
// match, the previous span's match) says so (never the first).
func mergeForward(spans []span, merge func(m, prev bool) bool) []span {
	out := spans[:0]
	prev := false
	for _, s := range spans {
		m := s.match
		if merge(m, prev) && len(out) > 0 {
			out[len(out)-1].end = s.end
		} else {
			out = append(out, span{s.start, s.end, false})
		}
		prev = m
	}
	return out
}
