package tokenize

import (
	"bytes"
	"context"
	"fmt"
	"unicode/utf8"

	"lmc/internal/boundedio"
)

// MaxTextBytes bounds a prompt's text (a --prompt-file, a "prompt" string)
// and a chat's "messages".
const MaxTextBytes = maxTextBytes

// ReadTextFile reads a prompt's text from a file the user named
// (--prompt-file): at most MaxTextBytes, and valid UTF-8 — invalid bytes
// are an *InputError naming the file, the line, the column and the byte
// offset, as replacing them would give the keys of another text.
func ReadTextFile(ctx context.Context, path string) (string, error) {
	b, err := boundedio.ReadFile(ctx, path, MaxTextBytes, "a prompt")
	if err != nil {
		return "", err
	}
	if err := CheckText(path, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// ReadMessagesFile reads a chat from a file the user named (--messages):
// at most MaxTextBytes of one JSON value whose strings are valid UTF-8
// without lone surrogate escapes, checked as the strings of token input
// are (an *InputError at the problem's line and column). It returns the
// bytes as read; the caller decodes the chat's shape.
func ReadMessagesFile(ctx context.Context, path string) ([]byte, error) {
	b, err := boundedio.ReadFile(ctx, path, MaxTextBytes, "a chat")
	if err != nil {
		return nil, err
	}
	r := NewReader(bytes.NewReader(b), path)
	r.longStrings = true
	if c, ok := r.peek(); ok && c == 0xEF && len(b) >= 3 && b[1] == 0xBB && b[2] == 0xBF {
		r.pos += 3 // a UTF-8 byte order mark
	}
	r.skipSpace()
	if err := r.skipValue(0); err != nil {
		return nil, err
	}
	r.skipSpace()
	if _, ok := r.peek(); ok {
		return nil, r.fail(r.describe(), "end of input after the chat's JSON value", "")
	}
	return b, nil
}

// CheckText reports the first invalid UTF-8 sequence of text (from the
// file or flag name) as an *InputError with its line, column and byte
// offset; nil when text is valid UTF-8.
func CheckText(name string, text []byte) error {
	if utf8.Valid(text) {
		return nil
	}
	line, lineStart := 1, 0
	for i := 0; i < len(text); {
		r, sz := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && sz == 1 {
			return invalidUTF8Error(name, line, i-lineStart+1, int64(i), text[i:])
		}
		if r == '\n' {
			line, lineStart = line+1, i+1
		}
		i += sz
	}
	return nil
}

// invalidUTF8Error describes the invalid sequence at the start of rest.
func invalidUTF8Error(name string, line, col int, off int64, rest []byte) error {
	end := 1
	for end < len(rest) && end < 4 && rest[end]&0xC0 == 0x80 {
		end++
	}
	return &InputError{File: name, Line: line, Col: col,
		Found:    fmt.Sprintf("invalid UTF-8 (% x) at byte offset %d", rest[:end], off),
		Expected: "UTF-8 text",
		Hint:     "the engine would reject or alter it, so its keys would be those of another text; convert it to UTF-8 first (e.g. iconv -f LATIN1 -t UTF-8)"}
}
