package mooncake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/transport"
)

func keysN(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s@1@0@%08x@bfloat16", prefix, i)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	s := startFake(t)
	nodes := []sandboxmaster.Node{{Name: "n0", Endpoint: "10.0.0.1:12345"}, {Name: "n1", Endpoint: "10.0.0.2:12345"}}
	present := keysN("m", 5)
	if err := s.Populate(ctxT(t), present, nodes...); err != nil {
		t.Fatal(err)
	}
	for _, f := range []mc.BodyFormat{{}, {Tagged: true}, {Width: 8}} {
		c := dial(t, s, mc.WithBodyFormat(f))
		ctx := ctxT(t)
		if v, err := c.ServiceReady(ctx); err != nil || v != "2.0.0" {
			t.Fatalf("ServiceReady %q %v", v, err)
		}
		query := append(append([]string{}, present[:3]...), "absent", present[3])
		st, err := c.BatchExistKey(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		want := []mc.ExistStatus{1, 1, 1, 0, 1}
		for i := range want {
			if st[i] != want[i] {
				t.Fatalf("%+v: statuses %v", f, st)
			}
		}
		if mc.PrefixHit(st) != 3 {
			t.Fatalf("PrefixHit %d", mc.PrefixHit(st))
		}
		if ok, err := c.ExistKey(ctx, present[4]); err != nil || !ok {
			t.Fatalf("ExistKey %v %v", ok, err)
		}
		if ok, err := c.ExistKey(ctx, "absent"); err != nil || ok {
			t.Fatalf("ExistKey absent %v %v", ok, err)
		}
		rl, err := c.GetReplicaList(ctx, present[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(rl.Replicas) != 2 || rl.LeaseTTLMillis != 10000 || rl.Layout != mc.LayoutHEAD {
			t.Fatalf("replica list %+v", rl)
		}
		eps := map[string]bool{}
		for _, r := range rl.Replicas {
			if r.Kind != mc.KindMemory || r.Status != mc.ReplicaComplete || r.Size() != sandboxmaster.PopulateObjectSize || r.Buffer.Protocol != "tcp" {
				t.Fatalf("replica %+v", r)
			}
			eps[r.Endpoint()] = true
		}
		if !eps["10.0.0.1:12345"] || !eps["10.0.0.2:12345"] {
			t.Fatalf("endpoints %v", eps)
		}
		res, err := c.BatchGetReplicaList(ctx, []string{present[1], "absent"})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Code != mc.CodeOK || len(res[0].Replicas) != 2 || res[0].Key != present[1] || res[0].Err() != nil {
			t.Fatalf("batch[0] %+v", res[0])
		}
		if res[1].Code != mc.CodeObjectNotFound || !errors.Is(res[1].Err(), mc.CodeObjectNotFound) {
			t.Fatalf("batch[1] %+v", res[1])
		}
		if st, err := c.BatchExistKey(ctx, nil); err != nil || len(st) != 0 {
			t.Fatal("empty batch")
		}
	}
}

// Exist checks grant leases: a non-forced Remove fails until they end (§6.6).
func TestLeaseBlocksRemove(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := startFake(t, sandboxmaster.WithClock(clock), sandboxmaster.WithClientTTL(time.Hour))
	if err := s.Populate(ctxT(t), []string{"k1", "k2", "k3"}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	ctx := ctxT(t)
	if err := c.Remove(ctx, "k1", false); err != nil {
		t.Fatalf("remove without lease: %v", err)
	}
	if _, err := c.BatchExistKey(ctx, []string{"k2", "k3"}); err != nil {
		t.Fatal(err)
	}
	if !s.HasLease("k2") {
		t.Fatal("BatchExistKey granted no lease")
	}
	err := c.Remove(ctx, "k2", false)
	var me *mc.MasterError
	if !errors.As(err, &me) || me.Code != mc.CodeObjectHasLease || me.Name != "OBJECT_HAS_LEASE" {
		t.Fatalf("remove under lease: %v", err)
	}
	if err := c.Remove(ctx, "k2", true); err != nil {
		t.Fatalf("forced remove: %v", err)
	}
	advance(10*time.Second + time.Millisecond)
	if s.HasLease("k3") {
		t.Fatal("lease outlived its TTL")
	}
	if err := c.Remove(ctx, "k3", false); err != nil {
		t.Fatalf("remove after lease end: %v", err)
	}
	if err := c.Remove(ctx, "k3", false); !errors.Is(err, mc.CodeObjectNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}

// A client that stops pinging expires; its segments and keys vanish (§9).
func TestClientTTLExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := startFake(t, sandboxmaster.WithClock(clock))
	c := dial(t, s)
	ctx := ctxT(t)
	cid := mc.NewUUID()
	seg := mc.Segment{ID: mc.NewUUID(), Name: "n", Base: 1 << 20, Size: 1 << 20, TEEndpoint: "h:1", Protocol: "tcp"}
	if err := c.MountSegment(ctx, seg, cid); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Ping(ctx, cid); p.ClientStatus != mc.ClientNeedRemount {
		t.Fatalf("ping before remount %v", p.ClientStatus)
	}
	if err := c.ReMountSegment(ctx, []mc.Segment{seg}, cid); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Ping(ctx, cid); p.ClientStatus != mc.ClientOK {
		t.Fatalf("ping after remount %v", p.ClientStatus)
	}
	if _, err := c.PutStart(ctx, cid, "k", 100, mc.ReplicateConfig{ReplicaNum: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutStart(ctx, cid, "k", 100, mc.ReplicateConfig{ReplicaNum: 1}); !errors.Is(err, mc.CodeObjectAlreadyExists) {
		t.Fatalf("second PutStart: %v", err)
	}
	if err := c.PutEnd(ctx, mc.NewUUID(), mc.ObjectMeta{Key: "k"}, mc.ReplicaTypeAll); !errors.Is(err, mc.CodeIllegalClient) {
		t.Fatalf("PutEnd by another client: %v", err)
	}
	if err := c.PutEnd(ctx, cid, mc.ObjectMeta{Key: "k"}, mc.ReplicaTypeAll); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutStart(ctx, cid, "big", 2<<20, mc.ReplicateConfig{ReplicaNum: 1}); !errors.Is(err, mc.CodeNoAvailableHandle) {
		t.Fatalf("oversized PutStart: %v", err)
	}
	if err := c.MountSegment(ctx, mc.Segment{ID: mc.NewUUID()}, cid); !errors.Is(err, mc.CodeInvalidParams) {
		t.Fatalf("zero segment: %v", err)
	}
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	if ok, err := c.ExistKey(ctx, "k"); err != nil || ok {
		t.Fatalf("after client expiry ExistKey = %v, %v", ok, err)
	}
	if p, _ := c.Ping(ctx, cid); p.ClientStatus != mc.ClientNeedRemount {
		t.Fatalf("ping after expiry %v", p.ClientStatus)
	}
}

// An older master answers errc 4 to the tenant form; the client retries the
// one-argument form and remembers it (§10).
func TestFallbackToLegacySignature(t *testing.T) {
	s := startFake(t, sandboxmaster.WithLegacySchema())
	if err := s.Populate(ctxT(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	ctx := ctxT(t)
	st, err := c.BatchExistKey(ctx, []string{"a", "b"})
	if err != nil || st[0] != 1 || st[1] != 0 {
		t.Fatalf("%v %v", st, err)
	}
	if !c.Legacy() {
		t.Fatal("client did not remember the legacy schema")
	}
	if _, err := c.BatchExistKey(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if n := s.Calls()["BatchExistKey"]; n != 3 {
		t.Fatalf("BatchExistKey reached the master %d times, want 3 (one rejected probe)", n)
	}
	rl, err := c.GetReplicaList(ctx, "a")
	if err != nil || rl.Layout != mc.LayoutV0311 || len(rl.Replicas) != 1 || rl.ObjectChecksum != nil {
		t.Fatalf("legacy GetReplicaList %+v %v", rl, err)
	}
	res, err := c.BatchGetReplicaList(ctx, []string{"a", "zz"})
	if err != nil || res[0].Layout != mc.LayoutV0311 || res[1].Code != mc.CodeObjectNotFound {
		t.Fatalf("legacy BatchGetReplicaList %+v %v", res, err)
	}
	if ok, err := c.ExistKey(ctx, "a"); err != nil || !ok {
		t.Fatal(ok, err)
	}
}

// An errc 4 that is not about the schema: the legacy retry fails too, the
// error surfaces, and the client goes back to the HEAD form.
func TestFallbackDoesNotStick(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, Errc: mc.ErrcInvalidRPCArguments})
	_, err := c.BatchExistKey(ctxT(t), []string{"a"})
	var re *mc.RPCError
	if !errors.As(err, &re) || re.Code != mc.ErrcInvalidRPCArguments || re.Method != "BatchExistKey" {
		t.Fatalf("%v", err)
	}
	if c.Legacy() {
		t.Fatal("client stuck in legacy mode")
	}
	if _, err := c.BatchExistKey(ctxT(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
}

func TestPipeliningOneConnection(t *testing.T) {
	s := startFake(t)
	keys := keysN("p", 64)
	if err := s.Populate(ctxT(t), keys[:32]); err != nil {
		t.Fatal(err)
	}
	before := s.Accepted()
	c := dial(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				st, err := c.BatchExistKey(context.Background(), keys)
				if err != nil {
					errs <- err
					return
				}
				if mc.PrefixHit(st) != 32 {
					errs <- fmt.Errorf("prefix %d", mc.PrefixHit(st))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := s.Accepted() - before; n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestCancellationUnblocksInflightCall(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, Delay: 400 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.BatchExistKey(ctx, []string{"a"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("cancel took %v", d)
	}
	// The connection survives; the late reply is discarded.
	st, err := c.BatchExistKey(ctxT(t), []string{"a"})
	if err != nil || len(st) != 1 {
		t.Fatal(st, err)
	}
	if s.Accepted() != 1 {
		t.Fatalf("reconnected: %d connections", s.Accepted())
	}
}

func TestTimeouts(t *testing.T) {
	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Delay: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := c.ExistKey(ctx, "a")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// WithCallTimeout applies when the context has no deadline.
	c2 := dial(t, s, mc.WithCallTimeout(30*time.Millisecond))
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, Delay: 300 * time.Millisecond})
	if _, err := c2.ExistKey(context.Background(), "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call timeout: %v", err)
	}
	// Python semantics: a timed-out batch is RPC_TIMEOUT for every key.
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, Delay: 300 * time.Millisecond})
	st := c2.BatchIsExist(context.Background(), []string{"a", "b"})
	if len(st) != 2 || st[0] != mc.ExistStatus(mc.CodeRPCTimeout) || st[1].Err() == nil {
		t.Fatalf("BatchIsExist on timeout %v", st)
	}
}

func TestConnectionFaults(t *testing.T) {
	s := startFake(t)
	if err := s.Populate(ctxT(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	ctx := ctxT(t)

	// A reply cut short is the master answering wrongly (a *ProtocolError),
	// not an unreachable master.
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, CloseMidFrame: true})
	_, err := c.BatchExistKey(ctx, []string{"a"})
	var pe *mc.ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, mc.ErrTruncated) || pe.Method != "BatchExistKey" || transport.IsUnreachable(err) {
		t.Fatalf("mid-frame close: %v", err)
	}
	if st, err := c.BatchExistKey(ctx, []string{"a"}); err != nil || st[0] != 1 {
		t.Fatalf("after redial: %v %v", st, err)
	}

	// A connection closed before any byte of the reply: unreachable.
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, DropConnection: true})
	if _, err := c.ExistKey(ctx, "a"); !errors.Is(err, io.EOF) || errors.As(err, &pe) || !transport.IsUnreachable(err) {
		t.Fatalf("dropped connection: %v", err)
	}

	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Times: 1, RawReply: []byte("HTTP/1.1 400 Bad Request\r\n\r\n")})
	_, err = c.ExistKey(ctx, "a")
	if !errors.As(err, &pe) || !errors.Is(err, mc.ErrBadMagic) || pe.Offset != 0 {
		t.Fatalf("garbage reply: %v", err)
	}

	s.InjectFault(sandboxmaster.Fault{Method: "GetReplicaList", Times: 1, CorruptBody: true})
	_, err = c.GetReplicaList(ctx, "a")
	if !errors.As(err, &pe) || !errors.Is(err, mc.ErrTypeMismatch) || pe.Offset != mc.ResponseHeaderSize {
		t.Fatalf("corrupt body: %v", err)
	}
	if ok, err := c.ExistKey(ctx, "a"); err != nil || !ok {
		t.Fatalf("connection unusable after a body error: %v", err)
	}

	s.InjectFault(sandboxmaster.Fault{Method: "GetReplicaList", Times: 1, Code: mc.CodeInternalError})
	if _, err := c.GetReplicaList(ctx, "a"); !errors.Is(err, mc.CodeInternalError) {
		t.Fatalf("forced code: %v", err)
	}
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Times: 1, Code: mc.CodeInvalidParams})
	st, err := c.BatchExistKey(ctx, []string{"a", "b"})
	if err != nil || st[0] != -600 || st[1] != -600 || st[0].String() != "INVALID_PARAMS" || mc.PrefixHit(st) != 0 {
		t.Fatalf("forced batch code: %v %v", st, err)
	}
	s.InjectFault(sandboxmaster.Fault{Method: "ServiceReady", Times: 1, Errc: 300, ErrMsg: "wide"})
	_, err = c.ServiceReady(ctx)
	var re *mc.RPCError
	if !errors.As(err, &re) || re.Code != 300 || re.Msg != "wide" {
		t.Fatalf("errc 300: %v", err)
	}
}

func TestDialAndCloseErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = mc.Dial(ctxT(t), addr, mc.WithDialTimeout(time.Second))
	var ne net.Error
	if err == nil || !errors.As(err, &ne) {
		t.Fatalf("dial error %v does not reach net.Error", err)
	}

	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "ExistKey", Delay: 2 * time.Second})
	done := make(chan error, 1)
	go func() { _, err := c.ExistKey(context.Background(), "a"); done <- err }()
	time.Sleep(30 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, mc.ErrClosed) {
			t.Fatalf("in-flight call after Close: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not unblock the call")
	}
	if _, err := c.ServiceReady(ctxT(t)); !errors.Is(err, mc.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	s.ClearFaults()

	// A master that went away: BatchIsExist reports RPC_FAIL per key.
	c2 := dial(t, s)
	s.Close()
	st := c2.BatchIsExist(ctxT(t), []string{"a", "b"})
	if st[0] != mc.ExistStatus(mc.CodeRPCFail) || st[1] != -900 {
		t.Fatalf("BatchIsExist on a dead master: %v", st)
	}
}

// shortConn makes every Read return few bytes (testing/iotest), so frame
// and body reassembly is exercised.
type shortConn struct {
	net.Conn
	r io.Reader
}

func (c *shortConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestShortReads(t *testing.T) {
	s := startFake(t)
	keys := keysN("s", 300) // forces 2-byte lengths
	if err := s.Populate(ctxT(t), keys[:150]); err != nil {
		t.Fatal(err)
	}
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	} {
		var n atomic.Int32
		c := dial(t, s, mc.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			n.Add(1)
			return &shortConn{Conn: nc, r: wrap(nc)}, nil
		}))
		st, err := c.BatchExistKey(ctxT(t), keys)
		if err != nil || mc.PrefixHit(st) != 150 {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := c.BatchGetReplicaList(ctxT(t), keys[:20])
		if err != nil || len(res) != 20 || len(res[19].Replicas) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		if n.Load() != 1 {
			t.Fatalf("%s: %d dials", name, n.Load())
		}
	}
}

// A truncated or lying reply must never be trusted: ReadResponse stops at
// the end of the stream with a *ProtocolError (ErrTruncated) and allocates
// only what arrived.
func TestReadResponseBounds(t *testing.T) {
	hdr := mc.AppendResponseHeader(nil, mc.ResponseHeader{Magic: mc.Magic, Length: 200 << 20})
	r := iotest.HalfReader(io.MultiReader(bytesReader(hdr), bytesReader(make([]byte, 1000))))
	var ms1, ms2 runtimeMem
	ms1.read()
	_, _, err := mc.ReadResponse(r, 0)
	ms2.read()
	var pe *mc.ProtocolError
	if !errors.Is(err, mc.ErrTruncated) || !errors.As(err, &pe) || pe.Offset != mc.ResponseHeaderSize+1000 {
		t.Fatalf("err = %v", err)
	}
	if grew := ms2.total - ms1.total; grew > 16<<20 {
		t.Fatalf("allocated %d bytes for 1000 received", grew)
	}
	hdr = mc.AppendResponseHeader(nil, mc.ResponseHeader{Magic: mc.Magic, Length: 1 << 31})
	if _, _, err := mc.ReadResponse(bytesReader(hdr), 0); !errors.Is(err, mc.ErrFrameTooLarge) {
		t.Fatalf("oversized frame: %v", err)
	}
}
