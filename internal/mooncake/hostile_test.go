package mooncake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/transport"
)

// wrongly asserts that err is the master answering wrongly: a
// *ProtocolError wrapping sentinel, naming method, never classified as
// unreachable, and whose message holds every string of want.
func wrongly(t *testing.T, err error, sentinel error, method string, want ...string) *mc.ProtocolError {
	t.Helper()
	var pe *mc.ProtocolError
	if !errors.As(err, &pe) || (sentinel != nil && !errors.Is(err, sentinel)) {
		t.Fatalf("err = %v, want a *ProtocolError wrapping %v", err, sentinel)
	}
	if pe.Method != method {
		t.Fatalf("error names method %q, want %q: %v", pe.Method, method, err)
	}
	if transport.IsUnreachable(err) || transport.Classify(err) == transport.ClassUnreachable {
		t.Fatalf("a wrong answer classified as unreachable: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not say %q", err, w)
		}
	}
	return pe
}

func tagged(lit mc.Literal, pack func(*mc.Encoder)) []byte {
	return mc.AppendBody(nil, lit, mc.BodyFormat{Tagged: true}, pack)
}

// Every call bounds its reply by what its request can produce and refuses
// a larger one from the header alone: at once, not at the deadline, with
// the call, the announced size and the bound in the message. The client
// then redials and works.
func TestReplyBoundCheckedFromHeader(t *testing.T) {
	s := startFake(t)
	if err := s.Populate(ctxT(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	cid := mc.NewUUID()
	keys3 := []string{"a", "b", "c"}
	cases := []struct {
		method string
		bound  int // the largest body accepted
		call   func(ctx context.Context) error
	}{
		{"BatchExistKey", mc.ReplyBound(mc.MethodBatchExistKey, 3), func(ctx context.Context) error { _, err := c.BatchExistKey(ctx, keys3); return err }},
		{"ExistKey", mc.ReplyBound(mc.MethodExistKey, 1), func(ctx context.Context) error { _, err := c.ExistKey(ctx, "a"); return err }},
		{"ServiceReady", mc.ReplyBound(mc.MethodServiceReady, 0), func(ctx context.Context) error { _, err := c.ServiceReady(ctx); return err }},
		{"Ping", mc.ReplyBound(mc.MethodPing, 0), func(ctx context.Context) error { _, err := c.Ping(ctx, cid); return err }},
		{"Remove", mc.ReplyBound(mc.MethodRemove, 0), func(ctx context.Context) error { return c.Remove(ctx, "zz", true) }},
		{"RemoveAll", mc.ReplyBound(mc.MethodRemoveAll, 0), func(ctx context.Context) error { _, err := c.RemoveAll(ctx, false, "x"); return err }},
		{"GetReplicaList", mc.ReplyBound(mc.MethodGetReplicaList, 1), func(ctx context.Context) error { _, err := c.GetReplicaList(ctx, "a"); return err }},
		{"BatchGetReplicaList", mc.ReplyBound(mc.MethodBatchGetReplicaList, 3), func(ctx context.Context) error { _, err := c.BatchGetReplicaList(ctx, keys3); return err }},
		{"PutStart", mc.ReplyBound(mc.MethodPutStart, 1), func(ctx context.Context) error {
			_, err := c.PutStart(ctx, cid, "k", 1, mc.ReplicateConfig{ReplicaNum: 1})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			// The bound itself derives from the spec's layouts: small for
			// fixed-size results, proportional to the keys for batches.
			if tc.bound <= 0 || tc.bound > 2<<20 {
				t.Fatalf("bound %d", tc.bound)
			}
			for _, announce := range []uint32{uint32(tc.bound) + 1, 256 << 20} {
				s.InjectFault(sandboxmaster.Fault{Method: tc.method, Times: 1, AnnounceLength: announce})
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				start := time.Now()
				err := tc.call(ctx)
				cancel()
				if d := time.Since(start); d > time.Second {
					t.Fatalf("refusal took %v: the body was waited for", d)
				}
				wrongly(t, err, mc.ErrFrameTooLarge, tc.method, fmt.Sprintf("announces a body of %d bytes", announce), fmt.Sprintf("at most %d bytes", tc.bound))
			}
			// Right at the bound, the header passes (the body then fails to
			// decode, because it is padding).
			if tc.method == "BatchExistKey" {
				st, err := c.BatchExistKey(ctxT(t), keys3)
				if err != nil || st[0] != mc.Present {
					t.Fatalf("after redial: %v %v", st, err)
				}
			}
		})
	}
	// A batch's bound grows with its keys: 1000 keys may answer 5 KB.
	if b1, b1000 := mc.ReplyBound(mc.MethodBatchExistKey, 1), mc.ReplyBound(mc.MethodBatchExistKey, 1000); b1000-b1 != 999*5 {
		t.Fatalf("BatchExistKey bounds %d, %d", b1, b1000)
	}
	// An error reply is bounded too (64 KiB of message).
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Errc: mc.ErrcRPCThrowException, ErrMsg: strings.Repeat("x", 70<<10)})
	_, err := c.ExistKey(ctxT(t), "a")
	wrongly(t, err, mc.ErrFrameTooLarge, "ExistKey", "an error reply is at most 65536 bytes")
	// The ceiling applies on top of the per-call bound.
	small := dial(t, s, mc.WithMaxFrameSize(16))
	_, err = small.BatchExistKey(ctxT(t), keys3)
	wrongly(t, err, mc.ErrFrameTooLarge, "BatchExistKey", "the client's ceiling")
}

// A reply whose bytes really are there (not just announced) and exceed the
// bound is refused before they are read, so they cost no memory.
func TestOversizeReplyIsNotRead(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, PadBody: 8 << 20})
	_, err := c.BatchExistKey(ctxT(t), []string{"a"})
	wrongly(t, err, mc.ErrFrameTooLarge, "BatchExistKey")
	// Trailing bytes within the bound reach the decoder, which refuses them.
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, PadBody: 3})
	_, err = c.ExistKey(ctxT(t), "a")
	wrongly(t, err, mc.ErrTrailingData, "ExistKey", "3 bytes follow the end")
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, PadBody: 1})
	_, err = c.BatchExistKey(ctxT(t), []string{"a", "b"})
	wrongly(t, err, mc.ErrTrailingData, "BatchExistKey")
}

// A reply with a seq_num no call waits for fails the pending calls at once,
// naming the seq_num received and those expected.
func TestReplyWithUnexpectedSeq(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, WrongSeq: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.BatchExistKey(ctx, []string{"a"})
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v: the call waited for its deadline", d)
	}
	// seq 0 was sent; the reply says 0x80000000.
	wrongly(t, err, mc.ErrUnexpectedSeq, "BatchExistKey", "seq_num 2147483648", "waiting are seq 0 (BatchExistKey)")

	// Pipelined callers: the stray reply to one fails them all at once.
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Delay: 100 * time.Millisecond, WrongSeq: true})
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				_, errs[i] = c.ExistKey(ctx, "a")
				return
			}
			time.Sleep(20 * time.Millisecond)
			_, errs[i] = c.BatchExistKey(ctx, []string{"a"})
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("pipelined calls took %v", d)
	}
	for i, err := range errs {
		if !errors.Is(err, mc.ErrUnexpectedSeq) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if !strings.Contains(errs[1].Error(), "ExistKey") {
		t.Fatalf("error does not list the waiting calls: %v", errs[1])
	}
	// The client redials and works.
	if _, err := c.BatchExistKey(ctxT(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
}

// A cancelled call's late reply is expected, not stray: it is dropped and
// the connection survives (and the late reply is still bounded).
func TestLateReplyOfAbandonedCall(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Delay: 150 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err := c.ExistKey(ctx, "a")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if _, err := c.BatchExistKey(ctxT(t), []string{"a"}); err != nil {
		t.Fatalf("after a late reply: %v", err)
	}
	if s.Accepted() != 1 {
		t.Fatalf("%d connections", s.Accepted())
	}
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Delay: 150 * time.Millisecond, AnnounceLength: 1 << 30})
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, _ = c.ExistKey(ctx, "a")
	cancel()
	_, err = c.BatchExistKey(ctxT(t), []string{"a"})
	wrongly(t, err, mc.ErrFrameTooLarge, "ExistKey", "refused unread")
}

// Batch replies must hold one result per key sent.
func TestBatchCountMismatch(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	two := tagged(mc.MethodBatchExistKey.Result, func(e *mc.Encoder) {
		e.Len(2)
		for range 2 {
			e.Bool(true)
			e.Bool(true)
		}
	})
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, Body: two})
	_, err := c.BatchExistKey(ctxT(t), []string{"a", "b", "c"})
	wrongly(t, err, mc.ErrCountMismatch, "BatchExistKey", "2 results for the 3 keys")

	four := tagged(mc.BatchGetReplicaListResult(mc.LayoutHEAD), func(e *mc.Encoder) {
		e.Len(4)
		for range 4 {
			e.Bool(false)
			e.I32(int32(mc.CodeObjectNotFound))
		}
	})
	s.InjectFault(sandboxmaster.Fault{Method: "BatchGetReplicaList", Times: 1, Body: four})
	_, err = c.BatchGetReplicaList(ctxT(t), []string{"a", "b", "c"})
	wrongly(t, err, mc.ErrCountMismatch, "BatchGetReplicaList", "4 results for the 3 keys")
}

func replicaN(n int) []mc.Replica {
	out := make([]mc.Replica, n)
	for i := range out {
		out[i] = mc.Replica{ID: uint64(i + 1), Status: mc.ReplicaComplete, Kind: mc.KindMemory,
			Buffer: mc.BufferDescriptor{Size: 1, BufferAddress: 1, Protocol: "tcp", TransportEndpoint: "h:1"}}
	}
	return out
}

// Answers the master's semantics rule out are errors, not data.
func TestContradictoryReplies(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	ctx := ctxT(t)
	l := mc.LayoutHEAD
	empty := tagged(mc.GetReplicaListResult(l), func(e *mc.Encoder) {
		e.Bool(true)
		e.ReplicaList(mc.ReplicaList{LeaseTTLMillis: 10000}, l)
	})
	s.InjectFault(sandboxmaster.Fault{Method: "GetReplicaList", Times: 1, Body: empty})
	_, err := c.GetReplicaList(ctx, "a")
	wrongly(t, err, mc.ErrContradiction, "GetReplicaList", `success with no replica for key "a"`)

	s.InjectFault(sandboxmaster.Fault{Method: "BatchGetReplicaList", Times: 1, Body: tagged(mc.BatchGetReplicaListResult(l), func(e *mc.Encoder) {
		e.Len(2)
		e.Bool(true)
		e.ReplicaList(mc.ReplicaList{Replicas: replicaN(1)}, l)
		e.Bool(true)
		e.ReplicaList(mc.ReplicaList{}, l)
	})})
	_, err = c.BatchGetReplicaList(ctx, []string{"a", "b"})
	wrongly(t, err, mc.ErrContradiction, "BatchGetReplicaList", `key "b"`)

	many := tagged(mc.GetReplicaListResult(l), func(e *mc.Encoder) {
		e.Bool(true)
		e.ReplicaList(mc.ReplicaList{Replicas: replicaN(mc.MaxReplicasPerKey + 1)}, l)
	})
	s.InjectFault(sandboxmaster.Fault{Method: "GetReplicaList", Times: 1, Body: many})
	_, err = c.GetReplicaList(ctx, "a")
	wrongly(t, err, mc.ErrContradiction, "GetReplicaList", "65 replicas for one object")
	// MaxReplicasPerKey itself is fine.
	s.InjectFault(sandboxmaster.Fault{Method: "GetReplicaList", Times: 1, Body: tagged(mc.GetReplicaListResult(l), func(e *mc.Encoder) {
		e.Bool(true)
		e.ReplicaList(mc.ReplicaList{Replicas: replicaN(mc.MaxReplicasPerKey)}, l)
	})})
	if rl, err := c.GetReplicaList(ctx, "a"); err != nil || len(rl.Replicas) != mc.MaxReplicasPerKey {
		t.Fatal(err)
	}

	s.InjectFault(sandboxmaster.Fault{Method: "RemoveAll", Times: 1, Body: tagged(mc.MethodRemoveAll.Result, func(e *mc.Encoder) { e.I64(-5) })})
	_, err = c.RemoveAll(ctx, true, "")
	wrongly(t, err, mc.ErrContradiction, "RemoveAll", "removed count -5")

	// A non-negative code in an error arm stays refused, and is named.
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Body: tagged(mc.MethodExistKey.Result, func(e *mc.Encoder) { e.Bool(false); e.I32(0) })})
	_, err = c.ExistKey(ctx, "a")
	wrongly(t, err, nil, "ExistKey", "non-negative code 0")
}

// Where the connection ends decides the class: before any byte of a reply
// (or by a reset, or a timeout) the master is unreachable; inside a reply it
// answered wrongly.
func TestTruncationAndResetClasses(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	ctx := ctxT(t)
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, CloseMidFrame: true})
	_, err := c.ExistKey(ctx, "a")
	pe := wrongly(t, err, mc.ErrTruncated, "ExistKey", "8 of the 16 header bytes")
	if pe.Offset != 8 {
		t.Fatalf("offset %d", pe.Offset)
	}

	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, ResetMidFrame: true})
	_, err = c.ExistKey(ctx, "a")
	if errors.As(err, &pe) || !transport.IsUnreachable(err) {
		t.Fatalf("reset mid-frame: %v (want unreachable)", err)
	}
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, DropConnection: true})
	_, err = c.ExistKey(ctx, "a")
	if errors.As(err, &pe) || !transport.IsUnreachable(err) {
		t.Fatalf("closed before the reply: %v (want unreachable)", err)
	}
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Delay: time.Second})
	tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err = c.ExistKey(tctx, "a")
	if errors.As(err, &pe) || !transport.IsUnreachable(err) {
		t.Fatalf("timeout: %v (want unreachable)", err)
	}
}
