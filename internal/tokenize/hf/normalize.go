package hf

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece of text. Offsets are not tracked: only the
// ids matter here.
type normalizer interface {
	// apply appends the normalized form of src to dst.
	apply(st *state, dst, src []byte) ([]byte, error)
	describe() string
}

type unicodeNorm struct {
	form norm.Form
	name string
}

// normChunk is the size of the pieces a long text is normalized in, so
// that the context is looked at between them.
const normChunk = 64 << 10

func (n unicodeNorm) apply(st *state, dst, src []byte) ([]byte, error) {
	return n.applyChunked(st, dst, src, normChunk)
}

// applyChunked normalizes src in pieces of about chunk bytes cut at
// normalization boundaries, where the result of the whole is the
// concatenation of the results of the pieces.
func (n unicodeNorm) applyChunked(st *state, dst, src []byte, chunk int) ([]byte, error) {
	for len(src) > 0 {
		k := len(src)
		if k > chunk {
			k = n.form.LastBoundary(src[:chunk])
			if k <= 0 { // no boundary in the chunk: up to the next one
				if j := n.form.FirstBoundary(src[chunk:]); j < 0 {
					k = len(src)
				} else {
					k = chunk + j
				}
			}
		}
		piece := src[:k]
		src = src[k:]
		if n.form.IsNormal(piece) {
			dst = append(dst, piece...)
		} else {
			dst = n.form.Append(dst, piece...)
		}
		if err := st.cn.poll(len(piece)); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func (n unicodeNorm) describe() string { return n.name }

type prependNorm struct{ s string }

func (n prependNorm) apply(_ *state, dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return dst, nil
	}
	return append(append(dst, n.s...), src...), nil
}

func (n prependNorm) describe() string { return "Prepend(" + quoteShort(n.s) + ")" }

type replaceNorm struct {
	re      *regex
	content string
	pattern string
}

func (n replaceNorm) apply(st *state, dst, src []byte) ([]byte, error) {
	spans, err := st.m.findAll(n.re, src, st.replSpans[:0])
	st.replSpans = spans
	if err != nil {
		return dst, err
	}
	for _, sp := range spans {
		if sp.match {
			dst = append(dst, n.content...)
		} else {
			dst = append(dst, src[sp.start:sp.end]...)
		}
	}
	return dst, nil
}

func (n replaceNorm) describe() string {
	return "Replace(" + quoteShort(n.pattern) + " → " + quoteShort(n.content) + ")"
}

type stripNorm struct{ left, right bool }

func (n stripNorm) apply(_ *state, dst, src []byte) ([]byte, error) {
	if n.left {
		for len(src) > 0 {
			r, sz := utf8.DecodeRune(src)
			if !unicode.IsSpace(r) {
				break
			}
			src = src[sz:]
		}
	}
	if n.right {
		for len(src) > 0 {
			r, sz := utf8.DecodeLastRune(src)
			if !unicode.IsSpace(r) {
				break
			}
			src = src[:len(src)-sz]
		}
	}
	return append(dst, src...), nil
}

func (n stripNorm) describe() string {
	switch {
	case n.left && n.right:
		return "Strip"
	case n.left:
		return "Strip(left)"
	case n.right:
		return "Strip(right)"
	}
	return "Strip(none)"
}

type seqNorm []normalizer

func (n seqNorm) apply(st *state, dst, src []byte) ([]byte, error) {
	// Ping-pong between two scratch buffers, then append to dst.
	cur := src
	var err error
	for i, sub := range n {
		buf := &st.seqBufs[i&1]
		*buf, err = sub.apply(st, (*buf)[:0], cur)
		if err != nil {
			return dst, err
		}
		cur = *buf
	}
	return append(dst, cur...), nil
}

func (n seqNorm) describe() string {
	s := "Sequence["
	for i, sub := range n {
		if i > 0 {
			s += ", "
		}
		s += sub.describe()
	}
	return s + "]"
}

func quoteShort(s string) string {
	out := []rune{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			out = append(out, '\\', r)
		case r == '\n':
			out = append(out, '\\', 'n')
		case r == '\r':
			out = append(out, '\\', 'r')
		case r == '\t':
			out = append(out, '\\', 't')
		case unicode.IsPrint(r):
			out = append(out, r)
		default:
			for _, c := range []byte(string(r)) {
				out = append(out, []rune("\\x"+hexByte(c))...)
			}
		}
	}
	return string(append(out, '"'))
}
