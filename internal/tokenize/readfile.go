package tokenize

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
	"unicode/utf8"
)

// MaxTextBytes bounds a prompt's text (a --prompt-file, a "prompt" string)
// and a chat's "messages".
const MaxTextBytes = maxTextBytes

// FileTooLargeError reports a file that holds more than the limit for what
// it is.
type FileTooLargeError struct {
	Path  string
	What  string // "a tokenizer.json", "a prompt", ...
	Limit int64
	Size  int64 // the file's size; -1 when not known (a pipe or a device: reading stopped at the limit)
}

func (e *FileTooLargeError) Error() string {
	if e.Size >= 0 {
		return fmt.Sprintf("%s: %s (%d bytes), more than the %s limit for %s", e.Path, sizeString(e.Size), e.Size, sizeString(e.Limit), e.What)
	}
	return fmt.Sprintf("%s: more than the %s limit for %s (reading stopped there: is it a device or an endless pipe?)", e.Path, sizeString(e.Limit), e.What)
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the file a user named, which must hold at most limit
// bytes; what ("a tokenizer.json") names its kind in the error. A regular
// file above the limit fails before anything is read; anything else (a
// pipe, a FIFO, a device such as /dev/zero behind a symlink) is read up to
// the limit and fails there, so at most limit+1 bytes are ever held. It
// returns when ctx ends, also while it waits for a FIFO's writer or for a
// pipe's data, with an error wrapping context.Cause(ctx).
func ReadFile(ctx context.Context, path string, limit int64, what string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	if fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, &FileTooLargeError{Path: path, What: what, Limit: limit, Size: fi.Size()}
	}
	f, err := openContext(ctx, path, fi.Mode()&fs.ModeNamedPipe != 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file opened may not be the one looked at (a symlink changed).
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	size := int64(-1)
	initial := int64(64 << 10)
	if fi.Mode().IsRegular() {
		if size = fi.Size(); size > limit {
			return nil, &FileTooLargeError{Path: path, What: what, Limit: limit, Size: size}
		}
		initial = size + 1 // +1: a read at the end sees EOF without growing
	}
	if ctx.Done() != nil {
		// Wakes a read blocked on a pipe; a regular file's or a device's
		// reads do not block and are checked between reads below.
		stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
		defer stop()
	}
	buf := make([]byte, 0, min(max(initial, 512), limit+1))
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(2*int64(cap(buf)), limit+1))
			copy(nb, buf)
			buf = nb
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &FileTooLargeError{Path: path, What: what, Limit: limit, Size: size}
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("%s: reading stopped: %w", path, context.Cause(ctx))
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
	}
}

// openContext opens path for reading. Opening a FIFO waits for a writer,
// which may never come: that wait ends with ctx (the goroutine left
// waiting closes the file if a writer comes later).
func openContext(ctx context.Context, path string, fifo bool) (*os.File, error) {
	if !fifo || ctx.Done() == nil {
		return os.Open(path)
	}
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, fmt.Errorf("%s: waiting for a writer: %w", path, context.Cause(ctx))
	}
}

// ReadTextFile reads a prompt's text from a file the user named
// (--prompt-file): at most MaxTextBytes, and valid UTF-8 — invalid bytes
// are an *InputError naming the file, the line, the column and the byte
// offset, as replacing them would give the keys of another text.
func ReadTextFile(ctx context.Context, path string) (string, error) {
	b, err := ReadFile(ctx, path, MaxTextBytes, "a prompt")
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
	b, err := ReadFile(ctx, path, MaxTextBytes, "a chat")
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
