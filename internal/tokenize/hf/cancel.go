package hf

import (
	"context"
	"fmt"
	"math"
)

// Cancellation. Encoding and parsing are CPU work that can take seconds on
// multi-MiB inputs; the Context variants of the entry points stop within a
// few milliseconds of the context's end. The loops count their work and
// look at the context's Done channel only every pollEvery units, so the
// fast path pays one subtraction and one comparison per unit (a word, a
// merge, a JSON value, a block of regex steps) and nothing at all for a
// context that can never end (context.Background()).

// pollEvery is the work between two looks at the context: bytes of text
// (about 3 ms of encoding at 20 MB/s), JSON values or merge-heap pops.
const pollEvery = 32 << 10

// canceller watches one context.
type canceller struct {
	ctx  context.Context
	done <-chan struct{} // nil: the context never ends
	left int             // work units until the next look
}

func (c *canceller) reset(ctx context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	c.ctx, c.done = ctx, ctx.Done()
	c.left = pollEvery
	if c.done == nil {
		c.left = math.MaxInt
	}
}

// poll counts n units of work and, every pollEvery units, reports whether
// the context has ended.
func (c *canceller) poll(n int) error {
	c.left -= n
	if c.left > 0 {
		return nil
	}
	return c.check()
}

// check looks at the context now.
func (c *canceller) check() error {
	if c.done == nil {
		c.left = math.MaxInt
		return nil
	}
	c.left = pollEvery
	select {
	case <-c.done:
		return context.Cause(c.ctx)
	default:
		return nil
	}
}

// stoppedError wraps the context's error with where the work stopped;
// errors.Is(err, context.Canceled) and context.DeadlineExceeded hold.
type stoppedError struct {
	what string
	err  error
}

func (e *stoppedError) Error() string { return fmt.Sprintf("%s: %v", e.what, e.err) }
func (e *stoppedError) Unwrap() error { return e.err }
