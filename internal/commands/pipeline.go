package commands

import (
	"context"
	"errors"
	"sync"

	"lmc/internal/tokenize"
)

// promptFunc does one prompt's work.
type promptFunc[T any] func(context.Context, *tokenize.Prompt) (T, error)

// runPipelined runs work on every prompt each yields, with up to n in
// flight, and hands results to emit in input order. newWorker makes one
// worker's state (a key engine) and its promptFunc. The first error stops
// everything.
func runPipelined[T any](ctx context.Context, each func(func(*tokenize.Prompt) error) error, n int, newWorker func() promptFunc[T], emit func(T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		p    *tokenize.Prompt
		res  T
		err  error
		done chan struct{}
	}
	jobs := make(chan *job)
	order := make(chan *job, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWorker()
			for j := range jobs {
				j.res, j.err = work(ctx, j.p)
				close(j.done)
			}
		}()
	}
	var readErr error
	go func() {
		defer close(order)
		defer close(jobs)
		readErr = each(func(p *tokenize.Prompt) error {
			j := &job{p: p, done: make(chan struct{})}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			// Every job in order was taken by a worker, so its done closes;
			// the consumer drains order to the end, so this cannot block
			// forever.
			order <- j
			return nil
		})
	}()
	var firstErr error
	for j := range order {
		<-j.done
		if firstErr != nil {
			continue
		}
		if j.err != nil {
			firstErr = j.err
			cancel()
			continue
		}
		if err := emit(j.res); err != nil {
			firstErr = err
			cancel()
		}
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return ctx.Err()
}
