// Whole-store walks through the master's admin API: the lease-free
// /get_all_keys listing, streamed, and /batch_query_keys lookups of its
// keys in batches, a few in flight, for 'lmc store' and the plans of
// 'lmc clear --master'. Memory stays bounded by the batches, whatever the
// store holds; a walk that stops getting data for --timeout fails.
package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lmc/internal/mooncake"
	"lmc/internal/transport"
)

// Walk sizes: keys per lookup batch and batches in flight. The admin client
// splits a batch further to keep every URL under its limit.
const (
	scanBatch   = 512
	scanWorkers = 4
)

// storeScan walks a store through one admin URL.
type storeScan struct {
	f   *Factory
	adm *mooncake.Admin // requests without a whole-request deadline
	url string
}

// newStoreScan builds the walker for --admin url. Its HTTP client has no
// whole-request timeout (a listing of millions of keys takes longer than any
// --timeout); the watchdog of each walk and a deadline per lookup bound it
// instead.
func (f *Factory) newStoreScan(url string) (*storeScan, error) {
	t, err := f.httpTransport() // validates the flags, warns about --insecure once
	if err != nil {
		return nil, err
	}
	o := t.Options()
	o.Timeout = 0
	st, err := transport.New(o)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	p, err := st.Peer(url)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--admin: %w", err)}
	}
	adm, err := mooncake.NewAdmin(p)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--admin: %w", err)}
	}
	return &storeScan{f: f, adm: adm, url: adm.BaseURL()}, nil
}

// errStalled marks a walk the watchdog ended.
var errStalled = errors.New("stalled")

// stallWatch cancels a walk that makes no progress for idle: every key read
// and every lookup answered counts as progress. While lmc itself is busy
// with what it got (hold: writing to a slow pipe, asking the user), the
// peer is not to blame and the watch waits.
type stallWatch struct {
	last   atomic.Int64
	holds  atomic.Int32
	cancel context.CancelCauseFunc
	done   chan struct{}
	wg     sync.WaitGroup
}

func watchStall(ctx context.Context, idle time.Duration) (context.Context, *stallWatch) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &stallWatch{cancel: cancel, done: make(chan struct{})}
	w.kick()
	tick := idle / 4
	if tick <= 0 {
		tick = time.Millisecond
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if w.holds.Load() == 0 && time.Since(time.Unix(0, w.last.Load())) > idle {
					cancel(fmt.Errorf("%w: no data for %s", errStalled, idle))
					return
				}
			}
		}
	}()
	return ctx, w
}

func (w *stallWatch) kick() { w.last.Store(time.Now().UnixNano()) }

// hold suspends the watch until the returned release; progress restarts
// from the release.
func (w *stallWatch) hold() (release func()) {
	w.holds.Add(1)
	return func() { w.kick(); w.holds.Add(-1) }
}

func (w *stallWatch) stop() {
	close(w.done)
	w.wg.Wait()
	w.cancel(nil)
}

// walkErr turns a failure of the walk into lmc's error: a stall is the
// admin API not answering in time (exit 3), interrupts stay interrupts.
func (s *storeScan) walkErr(ctx, wctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if c := context.Cause(wctx); c != nil && errors.Is(c, errStalled) && ctx.Err() == nil {
		return &UnavailableError{Backend: "Mooncake admin API " + s.url, Err: fmt.Errorf("the store walk got %v (--timeout bounds every wait for data during a walk; a master may take a while to start the listing of a big store: raise --timeout)", c)}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var pe *mooncake.ProtocolError
	if errors.As(err, &pe) {
		return fmt.Errorf("Mooncake admin API %s: %w", s.url, err)
	}
	return s.f.adminErr(s.url, err)
}

// errStopWalk ends a walk early without an error.
var errStopWalk = errors.New("stop walk")

// keys streams every key of /get_all_keys (default tenant, keys with a
// readable replica) to fn, in the master's order.
func (s *storeScan) keys(ctx context.Context, fn func(key string) error) error {
	wctx, w := watchStall(ctx, s.f.Timeout)
	defer w.stop()
	var fnErr error
	err := s.adm.GetAllKeys(wctx, func(k string) error {
		w.kick()
		release := w.hold()
		err := fn(k)
		release()
		if err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if fnErr != nil {
		if fnErr == errStopWalk {
			return nil
		}
		return fnErr
	}
	return s.walkErr(ctx, wctx, err)
}

// unaskable is the answer for a key /batch_query_keys cannot carry.
func unaskable(k string) mooncake.KeyQuery {
	return mooncake.KeyQuery{Key: k, Code: mooncake.CodeInvalidParams, Error: "cannot be looked up through /batch_query_keys (the key contains ',')"}
}

// replicas streams every key with its lookup to fn, in listing order: the
// listing is read once and its keys are looked up scanBatch at a time with
// up to scanWorkers lookups in flight. A key removed between the listing
// and its lookup comes back OBJECT_NOT_FOUND (the walk is not a snapshot).
func (s *storeScan) replicas(ctx context.Context, fn func(mooncake.KeyQuery) error) error {
	wctx, w := watchStall(ctx, s.f.Timeout)
	defer w.stop()
	wctx, cancel := context.WithCancelCause(wctx)
	defer cancel(nil)

	newWork := func() func([]string) ([]mooncake.KeyQuery, error) {
		return func(keys []string) ([]mooncake.KeyQuery, error) {
			res, err := s.lookup(wctx, keys)
			w.kick()
			return res, err
		}
	}
	list := func(send func([]string) error) error {
		batch := make([]string, 0, scanBatch)
		flush := func() error {
			b := batch
			batch = make([]string, 0, scanBatch)
			return send(b)
		}
		err := s.adm.GetAllKeys(wctx, func(k string) error {
			w.kick()
			batch = append(batch, k)
			if len(batch) == scanBatch {
				return flush()
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = flush()
		}
		return err
	}
	emit := func(res []mooncake.KeyQuery) error {
		release := w.hold()
		defer release()
		for _, q := range res {
			if err := fn(q); err != nil {
				return err
			}
		}
		return nil
	}
	firstErr, listErr := inOrder(wctx, cancel, scanWorkers, list, newWork, emit)
	if firstErr == errStopWalk {
		return nil
	}
	if firstErr != nil {
		if errors.Is(firstErr, context.Canceled) && ctx.Err() == nil && context.Cause(wctx) == nil {
			return firstErr
		}
		var ue *UsageError
		if errors.As(firstErr, &ue) {
			return firstErr
		}
		if listErr == nil || errors.Is(listErr, context.Canceled) {
			return s.walkErr(ctx, wctx, firstErr)
		}
	}
	return s.walkErr(ctx, wctx, listErr)
}

// lookup asks /batch_query_keys about keys within one --timeout; keys it
// cannot carry get an answer saying so.
func (s *storeScan) lookup(ctx context.Context, keys []string) ([]mooncake.KeyQuery, error) {
	ctx, cancel := context.WithTimeout(ctx, s.f.Timeout)
	defer cancel()
	return adminLookup(ctx, s.adm, keys)
}

// adminLookup is BatchQueryKeys for any keys: those it cannot carry
// (empty, or containing ',') come back unaskable instead of failing the
// whole request.
func adminLookup(ctx context.Context, adm *mooncake.Admin, keys []string) ([]mooncake.KeyQuery, error) {
	ask := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" && !strings.ContainsRune(k, ',') {
			ask = append(ask, k)
		}
	}
	qs, err := adm.BatchQueryKeys(ctx, ask)
	if err != nil {
		return nil, err
	}
	if len(ask) == len(keys) {
		return qs, nil
	}
	out := make([]mooncake.KeyQuery, len(keys))
	i := 0
	for j, k := range keys {
		if k != "" && !strings.ContainsRune(k, ',') {
			out[j] = qs[i]
			i++
			continue
		}
		out[j] = unaskable(k)
	}
	return out, nil
}
