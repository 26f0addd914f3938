// Package safetext makes text that came from a peer or a file safe to show
// on a terminal. It is the one home of that rule: the printers, the error
// printer and the --verbose log all use it. It is not a general string
// utility and does not touch JSON output (JSON escapes by itself and keeps
// the exact string).
package safetext

import (
	"fmt"
	"io"
	"strings"
)

// Escape makes a string from a peer safe for a terminal: control
// characters (ESC, BEL, CR, C1 controls …) become visible escapes, so a
// server cannot retitle, clear or overwrite the operator's screen.
// Newlines and tabs are escaped too; callers that print multi-line peer
// text split it first.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !isControl(r) {
			b.WriteRune(r)
			continue
		}
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0x1b:
			b.WriteString(`\e`)
		default:
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) // bidi overrides reorder what follows
}

// EscapeKeepSGR is Escape for text that may carry lmc's own colour: SGR
// sequences (ESC [ digits and ';' m), which only set colour and weight,
// pass; every other control — cursor moves, screen clears, OSC titles,
// BEL, CR, backspace — is escaped. Table cells use it: their styling is
// rendered before the printer sees them.
func EscapeKeepSGR(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			if n := sgrLen(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
		}
		j := i + 1
		for j < len(s) && s[j] != 0x1b {
			j++
		}
		b.WriteString(Escape(s[i:j]))
		i = j
	}
	return b.String()
}

// sgrLen is the length of the SGR sequence s starts with, 0 if none.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s) && i < 64; i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case c >= '0' && c <= '9' || c == ';':
		default:
			return 0
		}
	}
	return 0
}

// EscapeText is for a block lmc composed for a terminal from its own
// styled text and what peers said: newlines, tabs and SGR colour pass,
// every other control is escaped.
func EscapeText(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		cells := strings.Split(l, "\t")
		for j, c := range cells {
			cells[j] = EscapeKeepSGR(c)
		}
		lines[i] = strings.Join(cells, "\t")
	}
	return strings.Join(lines, "\n")
}

// Writer applies EscapeText to everything written through it: for text
// output assembled from many writes. Each Write should carry whole SGR
// sequences (fmt.Fprint calls and rendered tables do).
type Writer struct{ W io.Writer }

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{W: w} }

func (w *Writer) Write(p []byte) (int, error) {
	s := EscapeText(string(p))
	if _, err := io.WriteString(w.W, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
