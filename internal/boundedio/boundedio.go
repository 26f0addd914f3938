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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// TooLargeError reports a file that holds more than the limit for what
// it is.
type TooLargeError struct {
	Path  string
	What  string // "a tokenizer.json", "a prompt", ...
	Limit int64
	Size  int64 // the file's size; -1 when not known (a pipe or a device: reading stopped at the limit)
}

func (e *TooLargeError) Error() string {
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
		return nil, &TooLargeError{Path: path, What: what, Limit: limit, Size: fi.Size()}
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
			return nil, &TooLargeError{Path: path, What: what, Limit: limit, Size: size}
		}
		initial = size + 1 // +1: a read at the end sees EOF without growing
	}
	if ctx.Done() != nil {
		// Wakes a read blocked on a pipe; a regular file's or a device's
		// reads do not block and are checked between reads below.
		stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
		defer stop()
	}
	if size >= 0 {
		// A regular file: one buffer of its size (+1 to see EOF).
		buf := make([]byte, 0, min(max(initial, 512), limit+1))
		for {
			n, err := f.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			switch {
			case int64(len(buf)) > limit:
				return nil, &TooLargeError{Path: path, What: what, Limit: limit, Size: size}
			case ctx.Err() != nil:
				return nil, fmt.Errorf("%s: reading stopped: %w", path, context.Cause(ctx))
			case errors.Is(err, io.EOF):
				return buf, nil
			case err != nil:
				return nil, &fs.PathError{Op: "read", Path: path, Err: err}
			}
			if len(buf) == cap(buf) { // it grew while read
				nb := make([]byte, len(buf), min(2*int64(cap(buf)), limit+1))
				copy(nb, buf)
				buf = nb
			}
		}
	}
	// A pipe or a device: read in blocks and join them only once the end is
	// reached, so a stream that passes the limit never costs more than the
	// limit (doubling one buffer would hold up to twice as much).
	const block = 1 << 20
	var blocks [][]byte
	total := int64(0)
	for {
		b := make([]byte, min(block, limit+1-total))
		n, err := io.ReadFull(f, b)
		if n > 0 {
			blocks = append(blocks, b[:n])
			total += int64(n)
		}
		switch {
		case total > limit:
			return nil, &TooLargeError{Path: path, What: what, Limit: limit, Size: size}
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s: reading stopped: %w", path, context.Cause(ctx))
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return bytes.Join(blocks, nil), nil
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if total == limit {
			// Exactly at the limit: one byte more says whether it ends here.
			var one [1]byte
			if n, _ := f.Read(one[:]); n > 0 {
				return nil, &TooLargeError{Path: path, What: what, Limit: limit, Size: size}
			}
			return bytes.Join(blocks, nil), nil
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

// ReadAll reads r to its end, failing beyond limit bytes (name says what
// r is in the error).
func ReadAll(ctx context.Context, r io.Reader, name string, limit int64) ([]byte, error) {
	buf := make([]byte, 0, min(64<<10, limit+1))
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(2*int64(cap(buf)), limit+1))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &TooLargeError{Path: name, What: "it", Limit: limit, Size: -1}
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
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
