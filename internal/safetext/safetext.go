// Package safetext makes text that came from a peer or a file safe to show
// on a terminal. It is the one home of that rule: the printers, the error
// printer and the --verbose log all use it. It is not a general string
// utility and does not touch JSON output (JSON escapes by itself and keeps
// the exact string).
package safetext

import (
	"fmt"
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
