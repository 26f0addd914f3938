// Package boundedio reads local input — files the operator names, stdin —
// with a bound on size and a way out: a read never takes more than its
// limit (a link to /dev/zero fails at the limit instead of exhausting
// memory) and a read that may block forever (stdin, a FIFO, a device)
// returns as soon as the context ends (Ctrl-C).
//
// It is not a general file API: it exists so that every place lmc reads a
// file or stdin applies the same two rules.
package boundedio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// TooLargeError is a file or stream larger than its limit.
type TooLargeError struct {
	Name  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s, more than lmc reads for it", e.Name, formatBytes(e.Limit))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the file at path whole, failing with *TooLargeError when
// it holds more than limit bytes, and returning ctx.Err() when ctx ends
// during a read that blocks. name is how errors call it ("--prompt-file
// p.txt").
func ReadFile(ctx context.Context, path, name string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hint := int64(0)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > limit {
			return nil, &TooLargeError{Name: name, Limit: limit}
		}
		hint = st.Size()
	}
	return readAll(ctx, File(ctx, f), name, limit, hint)
}

// ReadAll reads r to its end, failing beyond limit bytes.
func ReadAll(ctx context.Context, r io.Reader, name string, limit int64) ([]byte, error) {
	return readAll(ctx, r, name, limit, 0)
}

// readAll grows its buffer to at most limit+1 bytes (io.ReadAll's doubling
// would overshoot the limit by up to 2×), starting at the size hint.
func readAll(ctx context.Context, r io.Reader, name string, limit, hint int64) ([]byte, error) {
	b := make([]byte, 0, min(max(hint+1, 512), limit+1))
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return nil, &TooLargeError{Name: name, Limit: limit}
			}
			nb := make([]byte, len(b), min(int64(cap(b))*2, limit+1))
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, &TooLargeError{Name: name, Limit: limit}
		}
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
	}
}

// File returns f as a reader that stops when ctx ends. Regular files are
// returned as they are (their reads do not block); stdin, pipes, FIFOs and
// devices are read in the background so that Read can return at once on
// cancellation.
func File(ctx context.Context, f *os.File) io.Reader {
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		return f
	}
	return Cancelable(ctx, f)
}

// Cancelable makes reads of r return ctx.Err() as soon as ctx ends. A read
// under way in the background stays blocked until r returns (the process is
// about to exit on cancellation, so nothing waits for it).
func Cancelable(ctx context.Context, r io.Reader) io.Reader {
	return &cancelReader{ctx: ctx, r: r}
}

type cancelReader struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte
	done chan result
	err  error
}

type result struct {
	n   int
	err error
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.done == nil {
		if cap(c.buf) < len(p) {
			c.buf = make([]byte, len(p))
		}
		buf := c.buf[:len(p)]
		c.done = make(chan result, 1)
		go func(done chan result) {
			n, err := c.r.Read(buf)
			done <- result{n, err}
		}(c.done)
	}
	select {
	case res := <-c.done:
		c.done = nil
		n := copy(p, c.buf[:res.n])
		if res.err != nil && !errors.Is(res.err, io.EOF) {
			c.err = res.err
		}
		return n, res.err
	case <-c.ctx.Done():
		c.err = c.ctx.Err()
		return 0, c.err
	}
}
