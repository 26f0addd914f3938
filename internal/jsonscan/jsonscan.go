// Package jsonscan finds where values end in JSON that has been validated
// already (by a decode or json.Valid), so that the Mooncake and coordinator
// clients can split answers they checked once without decoding every
// nested value again. It is not a parser and does not validate: on
// malformed input its answers are only bounded (never past len(b)), and ok
// is false when an end was not found.
package jsonscan

import "bytes"

// Space is the index of the first byte at or after i that is not JSON
// whitespace.
func Space(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// IsSpace reports JSON whitespace.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// StringEnd is the index after the string literal at b[i] (a '"'): after
// the next '"' that an odd run of backslashes does not escape. ok is false
// (and the index len(b)) when the string is not closed.
func StringEnd(b []byte, i int) (end int, ok bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b), false
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			return j, true
		}
	}
}

// ValueEnd is the index after the value that starts at b[i] (no leading
// whitespace): a string, an object or array (to its matching bracket), or
// a number, true, false or null (to the next delimiter). ok is false when
// a string or container is not closed, or when i is at the end.
func ValueEnd(b []byte, i int) (end int, ok bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return StringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i, ok = StringEnd(b, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, true
		}
		i++
	}
	return i, true
}
