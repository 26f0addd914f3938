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
	newWork := func() func(*tokenize.Prompt) (T, error) {
		work := newWorker()
		return func(p *tokenize.Prompt) (T, error) { return work(ctx, p) }
	}
	firstErr, readErr := inOrder(ctx, func(error) { cancel() }, n, each, newWork, emit)
	if firstErr != nil {
		return firstErr
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return ctx.Err()
}

// inOrder runs a work on every item produce sends, with up to n works in
// flight (newWork makes each worker's), and hands the results to emit in
// the order the items were sent. The first error of a work or of emit is
// returned as failed, after stop(err) (which must cancel ctx) ends the
// rest; produced is what produce returned. Sends wait on ctx.
func inOrder[In, Out any](ctx context.Context, stop func(error), n int, produce func(send func(In) error) error, newWork func() func(In) (Out, error), emit func(Out) error) (failed, produced error) {
	type job struct {
		in   In
		res  Out
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
			work := newWork()
			for j := range jobs {
				j.res, j.err = work(j.in)
				close(j.done)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		produced = produce(func(in In) error {
			j := &job{in: in, done: make(chan struct{})}
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
	for j := range order {
		<-j.done
		if failed != nil {
			continue
		}
		if j.err != nil {
			failed = j.err
			stop(j.err)
			continue
		}
		if err := emit(j.res); err != nil {
			failed = err
			stop(err)
		}
	}
	wg.Wait()
	return failed, produced
}
