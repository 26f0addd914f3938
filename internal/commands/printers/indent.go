package printers

import (
	"io"

	"lmc/internal/jsonscan"
)

// writeIndented writes appendIndent(src) to w in pieces of about
// indentChunk bytes, so that indenting a large document needs no second
// copy of it.
func writeIndented(w io.Writer, src []byte, indent string) error {
	var werr error
	buf := make([]byte, 0, min(2*len(src), indentChunk+4<<10))
	buf = appendIndentTo(buf, src, indent, func(b []byte) []byte {
		if werr == nil {
			_, werr = w.Write(b)
		}
		return b[:0]
	})
	if werr != nil {
		return werr
	}
	_, err := w.Write(buf)
	return err
}

const indentChunk = 32 << 10

// appendIndent indents src, compact JSON as encoding/json writes it (no
// whitespace outside strings, the Encoder's trailing newline), exactly as
// json.Encoder with SetIndent("", indent) would: a newline and the depth's
// indentation after '{', '[' and ',', ": " after a key, "{}" and "[]" for
// empty values. It replaces encoding/json's indenter, which steps a
// scanner state machine through every byte again: strings are copied a
// run at a time here. src must be encoding/json's own output (it is not
// validated again).
func appendIndent(dst, src []byte, indent string) []byte {
	return appendIndentTo(dst, src, indent, nil)
}

// appendIndentTo is appendIndent that hands dst to flush (which returns
// the buffer to go on with) whenever it passes indentChunk bytes at an
// element boundary.
func appendIndentTo(dst, src []byte, indent string, flush func([]byte) []byte) []byte {
	depth := 0
	needIndent := false // after '{' or '[': indent unless the value is empty
	for i := 0; i < len(src); {
		c := src[i]
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			dst = appendNewline(dst, indent, depth)
		}
		switch c {
		case '"':
			j, _ := jsonscan.StringEnd(src, i) // src is encoding/json's output
			dst = append(dst, src[i:j]...)
			i = j
			continue
		case '{', '[':
			needIndent = true
		case ',':
			dst = append(dst, ',')
			dst = appendNewline(dst, indent, depth)
			if flush != nil && len(dst) >= indentChunk {
				dst = flush(dst)
			}
			i++
			continue
		case ':':
			dst = append(dst, ':', ' ')
			i++
			continue
		case '}', ']':
			if needIndent {
				needIndent = false // "{}" and "[]"
			} else {
				depth--
				dst = appendNewline(dst, indent, depth)
			}
		}
		dst = append(dst, c)
		i++
	}
	return dst
}

func appendNewline(dst []byte, indent string, depth int) []byte {
	dst = append(dst, '\n')
	for ; depth > 0; depth-- {
		dst = append(dst, indent...)
	}
	return dst
}
