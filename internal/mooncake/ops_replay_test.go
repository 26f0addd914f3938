package mooncake_test

import (
	"sync"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

// testClock is an injectable clock for the sandbox.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mountAs mounts a segment owned by client, the way a storage node does
// (MountSegment, then ReMountSegment so Ping answers OK).
func mountAs(t testing.TB, c *mc.Client, client mc.UUID, name, endpoint string, base uint64) mc.Segment {
	t.Helper()
	seg := mc.Segment{ID: mc.NewUUID(), Name: name, Base: base, Size: 1 << 30, TEEndpoint: endpoint, Protocol: "tcp"}
	if err := c.MountSegment(ctxT(t), seg, client); err != nil {
		t.Fatal(err)
	}
	if err := c.ReMountSegment(ctxT(t), []mc.Segment{seg}, client); err != nil {
		t.Fatal(err)
	}
	return seg
}

// putOn stores keys with one replica on the segment named segName.
func putOn(t testing.TB, c *mc.Client, client mc.UUID, segName string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := c.PutStart(ctxT(t), client, k, 4096, mc.ReplicateConfig{ReplicaNum: 1, PreferredSegment: segName}); err != nil {
			t.Fatalf("PutStart %q: %v", k, err)
		}
		if err := c.PutEnd(ctxT(t), client, mc.ObjectMeta{Key: k}, mc.ReplicaTypeAll); err != nil {
			t.Fatalf("PutEnd %q: %v", k, err)
		}
	}
}

// fakeWithKeys starts a sandbox with a frozen clock, one node owned by
// client, and keys on it; leased keys get a read lease.
func fakeWithKeys(t *testing.T, keys, leased []string, opts ...sandboxmaster.Option) (*sandboxmaster.Server, *mc.Client, *testClock) {
	t.Helper()
	clk := newClock(time.Unix(1_800_000_000, 0))
	s := startFake(t, append([]sandboxmaster.Option{sandboxmaster.WithClock(clk.now), sandboxmaster.WithClientTTL(time.Hour)}, opts...)...)
	c := dial(t, s)
	cid := mc.NewUUID()
	mountAs(t, c, cid, "127.0.0.1:17777", "127.0.0.1:17777", 0x1000_0000_0000)
	putOn(t, c, cid, "127.0.0.1:17777", keys...)
	if len(leased) > 0 {
		if _, err := c.BatchExistKey(ctxT(t), leased); err != nil {
			t.Fatal(err)
		}
	}
	return s, c, clk
}

// §3.1-§3.4: the spec's raw requests against the sandbox, in the state of
// the capture, must produce the real master's reply bytes.
func TestReplayRemovals(t *testing.T) {
	t.Run("§3.1 Remove", func(t *testing.T) {
		s, _, _ := fakeWithKeys(t, []string{"a0"}, []string{"a0"})
		r := rawDial(t, s)
		r.send(mc.OpRemoveReq)
		r.expect("leased", mc.OpRemoveLeased)
		r.send(mc.OpRemoveForceReq)
		r.expect("forced", mc.RespFrame(2, 0, mc.OpRemoveOKBody))
	})
	t.Run("§3.2 BatchRemove", func(t *testing.T) {
		s, _, _ := fakeWithKeys(t, []string{"a1", "a2"}, []string{"a1"})
		r := rawDial(t, s)
		r.send(mc.OpBatchRemoveReq)
		r.expect("[-706, ok, -704]", mc.OpBatchRemoveResp)
	})
	t.Run("§3.3 RemoveByRegex", func(t *testing.T) {
		s, _, _ := fakeWithKeys(t, []string{"r0", "r1", "r2", "xr3", "R4"}, []string{"r1"})
		r := rawDial(t, s)
		r.send(mc.OpRegexReq)
		r.expect("3 removed", mc.OpRegexResp)
		r.send(mc.ReqFrame(2, mc.MethodRemoveByRegex, mc.Hx(`ee 9f e8 18 07 "(?i)abd" 00 07 "default"`)))
		r.expect("(?i)abd", mc.RespFrame(2, 0, mc.OpRegexInvalidBody))
		if got := s.Keys(); len(got) != 2 || got[0] != "R4" || got[1] != "r1" {
			t.Fatalf("left %v", got)
		}
	})
	t.Run("§3.4 RemoveAll", func(t *testing.T) {
		s, _, _ := fakeWithKeys(t, []string{"k1", "k2", "k3", "k4", "k5"}, []string{"k2", "k4"})
		r := rawDial(t, s)
		r.send(mc.OpRemoveAllReq)
		r.expect("3 removed", mc.OpRemoveAllResp)
		r.send(mc.ReqFrame(12, mc.MethodRemoveAll, mc.OpRemoveAllForceBody))
		r.expect("forced, all tenants", mc.RespFrame(12, 0, mc.OpRemoveAllForceReply))
	})
	t.Run("§3.6 MasterClient frames", func(t *testing.T) {
		s, _, _ := fakeWithKeys(t, []string{"cap0", "d1", "d2", "d3", "dx"}, nil)
		r := rawDial(t, s)
		r.send(mc.ReqFrame(0, mc.MethodBatchRemove, mc.OpTaggedBatchRemoveBody))
		r.expect("BatchRemove", mc.RespFrame(0, 0, mc.OpTaggedBatchRemoveReply))
		r.send(mc.ReqFrame(1, mc.MethodRemoveByRegex, mc.OpTaggedRegexBody))
		r.expect("RemoveByRegex ^d[0-9]$", mc.RespFrame(1, 0, mc.OpRegexResp[16:]))
		// Four keys left after that? Only dx; put three more.
		c := dial(t, s)
		cid := mc.NewUUID()
		mountAs(t, c, cid, "n2", "127.0.0.1:17779", 0x2000_0000_0000)
		putOn(t, c, cid, "n2", "e1", "e2", "e3")
		r.send(mc.ReqFrame(2, mc.MethodRemoveAll, mc.OpTaggedRemoveAllBody))
		r.expect("RemoveAll", mc.RespFrame(2, 0, mc.OpTaggedRemoveAllReply))
	})
}

// §4.2, §4.9, §5.1: tasks and segment queries, with the capture's task id,
// clock and executor id.
func TestReplayTasksAndSegments(t *testing.T) {
	clk := newClock(time.UnixMilli(mc.OpTaskCreatedMillis))
	specID, err := mc.ParseUUID(mc.OpSpecTaskIDString)
	if err != nil {
		t.Fatal(err)
	}
	ids := []mc.UUID{mc.OpTaskID, specID}
	var mu sync.Mutex
	next := func() mc.UUID {
		mu.Lock()
		defer mu.Unlock()
		id := ids[0]
		ids = append(ids[1:], mc.NewUUID())
		return id
	}
	s := startFake(t, sandboxmaster.WithClock(clk.now), sandboxmaster.WithClientTTL(time.Hour), sandboxmaster.WithTaskIDs(next))
	c := dial(t, s)
	n1 := mc.NewUUID()
	mountAs(t, c, mc.OpExecutor, "127.0.0.1:17777", "127.0.0.1:17777", 0x1000_0000_0000)
	mountAs(t, c, n1, "127.0.0.1:17778", "127.0.0.1:17778", 0x1100_0000_0000)
	putOn(t, c, mc.OpExecutor, "127.0.0.1:17777", "mv1", "cc0")

	r := rawDial(t, s)
	r.send(mc.OpCreateMoveReq)
	r.expect("§4.2 CreateMoveTask", mc.OpCreateMoveResp)
	r.send(mc.OpQueryTaskReq)
	r.expect("§4.2 QueryTask (PENDING, assigned to the source's owner)", mc.OpQueryTaskResp)
	r.send(mc.ReqFrame(2, mc.MethodCreateCopyTask, mc.Hx(`12 cb 43 5e 03 "mv1" 07 "default" 01 04 "nope"`)))
	r.expect("§4.2 unknown target", mc.RespFrame(2, 0, mc.OpCopyUnknownTargetBody))

	// §4.9: Mooncake's own client's tagged requests are accepted.
	r.send(mc.ReqFrame(3, mc.MethodCreateCopyTask, mc.OpTaggedCopyTaskBody))
	r.expect("§4.9 CreateCopyTask", mc.RespFrame(3, 0, mc.AppendBody(nil, mc.MethodCreateCopyTask.Result, mc.BodyFormat{Tagged: true}, func(e *mc.Encoder) {
		e.Bool(true)
		e.UUID(specID)
	})))
	r.send(mc.ReqFrame(4, mc.MethodQueryTask, mc.OpTaggedQueryTaskBody))
	created := time.UnixMilli(mc.OpTaskCreatedMillis)
	r.expect("§4.9 QueryTask", mc.RespFrame(4, 0, mc.AppendBody(nil, mc.MethodQueryTask.Result, mc.BodyFormat{Tagged: true}, func(e *mc.Encoder) {
		e.Bool(true)
		e.Task(mc.Task{ID: specID, Type: mc.TaskReplicaCopy, Status: mc.TaskPending, CreatedAt: created, UpdatedAt: created, AssignedClient: mc.OpExecutor})
	})))
	r.send(mc.ReqFrame(5, mc.MethodCreateMoveTask, mc.OpTaggedMoveTaskBody))
	h, body := r.readFrame()
	if h.Seq != 5 || h.ErrCode != 0 || len(body) != len(mc.OpCreateMoveResp)-16 {
		t.Fatalf("§4.9 CreateMoveTask: %+v % x", h, body)
	}

	// §5.1 during a drain of 17778.
	if err := s.SetSegmentStatus("127.0.0.1:17778", mc.SegmentDraining); err != nil {
		t.Fatal(err)
	}
	r.send(mc.OpSegStatusReq)
	r.expect("§5.1 QuerySegmentStatus", mc.OpSegStatusResp)
	mountAs(t, c, mc.UUID{First: 9, Second: 9}, "segA", "10.0.0.1:12345", 0x2000_0000_0000)
	r.send(mc.ReqFrame(6, mc.MethodBatchQueryIP, mc.OpQueryIPBody))
	r.expect("§5.1 BatchQueryIp", mc.RespFrame(6, 0, mc.OpQueryIPReply))
}
