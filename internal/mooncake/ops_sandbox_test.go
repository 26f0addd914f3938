package mooncake_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

// Leases (§2): a key read in the last lease period is kept by a non-forced
// removal, reported as forceable; planning through the admin API grants
// nothing, so its removals succeed.
func TestLeasesAndForce(t *testing.T) {
	keys := []string{"k0", "k1", "k2", "k3"}
	s, c, clk := fakeWithKeys(t, keys, []string{"k1", "k2"})
	a, _ := mc.NewAdmin(peer(t, s.AdminURL()))
	if _, err := a.BatchQueryKeys(ctxT(t), keys); err != nil {
		t.Fatal(err)
	}
	res, err := c.BatchRemove(ctxT(t), []string{"k0", "k1", "k2", "k0", "nope"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []mc.ErrorCode{mc.CodeOK, mc.CodeObjectHasLease, mc.CodeObjectHasLease, mc.CodeObjectNotFound, mc.CodeObjectNotFound}
	for i, r := range res {
		if r.Code != want[i] {
			t.Fatalf("result %d %+v", i, r)
		}
	}
	if !res[1].Forceable() || res[1].Busy() || !strings.Contains(res[1].Reason(), "lease") {
		t.Fatalf("leased key %+v: %s", res[1], res[1].Reason())
	}
	var oe *mc.OpError
	if err := res[1].Err(); !errors.As(err, &oe) || !oe.Forceable() || oe.Subject != "k1" || !strings.Contains(err.Error(), "OBJECT_HAS_LEASE (-706)") {
		t.Fatalf("OpError %v", err)
	}
	// RemoveByRegex skips the leased keys without trace.
	if n, err := c.RemoveByRegex(ctxT(t), "^k", false); err != nil || n != 1 {
		t.Fatalf("regex removed %d, %v (k3 only)", n, err)
	}
	// Force overrides the lease.
	if err := c.Remove(ctxT(t), "k1", true); err != nil {
		t.Fatal(err)
	}
	// After the lease period a plain removal works.
	clk.add(10*time.Second + time.Millisecond)
	if err := c.Remove(ctxT(t), "k2", false); err != nil {
		t.Fatal(err)
	}
	if len(s.Keys()) != 0 {
		t.Fatalf("left %v", s.Keys())
	}
}

// Keys being written or replicated are never removed, even with force
// (§2 rows 3-4), by any removal call.
func TestBusyKeysSurviveForce(t *testing.T) {
	clk := newClock(time.Unix(1_800_000_000, 0))
	s := startFake(t, sandboxmaster.WithClock(clk.now), sandboxmaster.WithClientTTL(time.Hour), sandboxmaster.WithExecuteTasks(time.Second, time.Minute))
	n0, n1 := sandboxmaster.Node{Name: "n0", Endpoint: "10.0.0.1:1"}, sandboxmaster.Node{Name: "n1", Endpoint: "10.0.0.2:1"}
	if err := s.Populate(ctxT(t), []string{"cp"}, n0); err != nil {
		t.Fatal(err)
	}
	if err := s.Populate(ctxT(t), []string{"mv"}, n0, n1); err != nil {
		t.Fatal(err)
	}
	if err := s.StartPuts(ctxT(t), []string{"writing"}, n1); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	err := c.Remove(ctxT(t), "writing", true)
	var oe *mc.OpError
	if !errors.As(err, &oe) || oe.Code != mc.CodeReplicaIsNotReady || !oe.Busy() || oe.Forceable() {
		t.Fatalf("mid-put forced remove: %v", err)
	}
	// A copy with a new target allocates a PROCESSING replica: -703; a move
	// to a segment that already holds the key allocates nothing: -708.
	if _, err := c.CreateCopyTask(ctxT(t), "cp", []string{"n1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateMoveTask(ctxT(t), "mv", "n0", "n1"); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Second) // fetched: the replications are open
	res, err := c.BatchRemove(ctxT(t), []string{"cp", "mv", "writing"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Code != mc.CodeReplicaIsNotReady || res[1].Code != mc.CodeObjectHasReplicationTask || res[2].Code != mc.CodeReplicaIsNotReady {
		t.Fatalf("busy keys %+v", res)
	}
	for _, r := range res {
		if !r.Busy() || r.Forceable() || !strings.Contains(r.Reason(), "even with force") {
			t.Fatalf("%+v: %s", r, r.Reason())
		}
	}
	if n, err := c.RemoveAll(ctxT(t), true, ""); err != nil || n != 0 {
		t.Fatalf("RemoveAll(force) removed %d busy keys, %v", n, err)
	}
	if n, err := c.RemoveByRegex(ctxT(t), "", true); err != nil || n != 0 {
		t.Fatalf("RemoveByRegex(force) removed %d busy keys, %v", n, err)
	}
	// Once the replications end the keys go (a task alone blocks nothing);
	// without multi-tenancy the tenant string is ignored.
	clk.add(time.Minute)
	if n, err := c.RemoveAll(ctxT(t), true, "whatever-tenant"); err != nil || n != 2 {
		t.Fatalf("after the replications: %d, %v", n, err)
	}
}

// waitTask polls a task until it reaches want, advancing the sandbox's
// clock a second per poll.
func waitTask(t *testing.T, c *mc.Client, clk *testClock, id mc.UUID, want mc.TaskStatus) mc.Task {
	t.Helper()
	for i := 0; i < 100; i++ {
		task, err := c.QueryTask(ctxT(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if task.Status == want {
			return task
		}
		if task.Status.Done() {
			t.Fatalf("task %s ended %v %q, want %v", id, task.Status, task.Message, want)
		}
		clk.add(time.Second)
	}
	t.Fatalf("task %s never reached %v", id, want)
	return mc.Task{}
}

func TestRegexSemantics(t *testing.T) {
	keys := []string{"r0", "r1", "xr3", "R4", "seg-7", "seg-x", "model@a/b"}
	_, c, _ := fakeWithKeys(t, keys, nil)
	if n, err := c.RemoveByRegex(ctxT(t), `\d$`, false); err != nil || n != 5 {
		t.Fatalf(`\d$ removed %d, %v`, n, err)
	}
	var oe *mc.OpError
	for _, p := range []string{"(?i)r", "([", "a{2,1}"} {
		if _, err := c.RemoveByRegex(ctxT(t), p, false); !errors.As(err, &oe) || oe.Code != mc.CodeInvalidParams || !strings.Contains(oe.Reason, "ECMAScript") {
			t.Fatalf("%q: %v", p, err)
		}
	}
	// Valid for the master, refused by the sandbox (documented gap).
	if _, err := c.RemoveByRegex(ctxT(t), "^seg(?=-x)", false); !errors.Is(err, mc.CodeInvalidParams) {
		t.Fatalf("lookahead: %v", err)
	}
	if n, err := c.RemoveByRegex(ctxT(t), "", false); err != nil || n != 2 {
		t.Fatalf("the empty regex removes everything: %d, %v", n, err)
	}
}

func TestTasksWithoutExecutorTimeOut(t *testing.T) {
	s, c, clk := fakeWithKeys(t, []string{"k"}, nil, sandboxmaster.WithTaskLimits(2, 10000))
	cid := mc.NewUUID()
	mountAs(t, c, cid, "n1", "127.0.0.1:17778", 0x2000_0000_0000)
	id, err := c.CreateMoveTask(ctxT(t), "k", "127.0.0.1:17777", "n1")
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.QueryTask(ctxT(t), id)
	if err != nil || task.Status != mc.TaskPending || task.Type != mc.TaskReplicaMove {
		t.Fatalf("%+v %v", task, err)
	}
	// The pending limit counts this task.
	if _, err := c.CreateCopyTask(ctxT(t), "k", []string{"n1"}); err != nil {
		t.Fatal(err)
	}
	var oe *mc.OpError
	if _, err := c.CreateCopyTask(ctxT(t), "k", []string{"n1"}); !errors.As(err, &oe) || oe.Code != mc.CodeTaskPendingLimitExceeded {
		t.Fatalf("third pending task: %v", err)
	}
	// Nobody fetches it: 300 s later it is still PENDING until the next
	// cleanup pass (every 30 s), then FAILED "pending timeout".
	clk.add(300 * time.Second)
	if task, _ = c.QueryTask(ctxT(t), id); task.Status != mc.TaskPending {
		t.Fatalf("at 300 s: %+v", task)
	}
	clk.add(30 * time.Second)
	task, err = c.QueryTask(ctxT(t), id)
	if err != nil || task.Status != mc.TaskFailed || task.Message != mc.TaskMessagePendingTimeout || !task.TimedOut() {
		t.Fatalf("after the pass: %+v %v", task, err)
	}
	if d := task.UpdatedAt.Sub(task.CreatedAt); d <= 300*time.Second || d > 330*time.Second {
		t.Fatalf("failed %v after creation", d)
	}
	if all, pending := s.TaskCount(); all != 2 || pending != 0 {
		t.Fatalf("tasks %d pending %d", all, pending)
	}
	// Unknown ids.
	if _, err := c.QueryTask(ctxT(t), mc.UUID{First: 1, Second: 2}); !errors.As(err, &oe) || oe.Code != mc.CodeTaskNotFound || !strings.Contains(oe.Reason, "pruned") {
		t.Fatalf("unknown task: %v", err)
	}
}

func TestTaskCreationErrors(t *testing.T) {
	s, c, _ := fakeWithKeys(t, []string{"k"}, nil)
	mountAs(t, c, mc.NewUUID(), "n1", "127.0.0.1:17778", 0x2000_0000_0000)
	mountAs(t, c, mc.NewUUID(), "n2", "127.0.0.1:17779", 0x3000_0000_0000)
	if err := s.SetSegmentStatus("n2", mc.SegmentDraining); err != nil {
		t.Fatal(err)
	}
	src := "127.0.0.1:17777"
	for _, tc := range []struct {
		name string
		call func() error
		op   string
		code mc.ErrorCode
	}{
		{"copy: no targets", func() error { _, err := c.CreateCopyTask(ctxT(t), "k", nil); return err }, "CreateCopyTask", mc.CodeInvalidParams},
		{"copy: missing key", func() error { _, err := c.CreateCopyTask(ctxT(t), "nope", []string{"n1"}); return err }, "CreateCopyTask", mc.CodeObjectNotFound},
		{"copy: unknown target", func() error { _, err := c.CreateCopyTask(ctxT(t), "k", []string{"zz"}); return err }, "CreateCopyTask", mc.CodeInvalidParams},
		{"copy: draining target", func() error { _, err := c.CreateCopyTask(ctxT(t), "k", []string{"n1", "n2"}); return err }, "CreateCopyTask", mc.CodeUnavailableInCurrentStatus},
		{"move: missing key", func() error { _, err := c.CreateMoveTask(ctxT(t), "nope", src, "n1"); return err }, "CreateMoveTask", mc.CodeObjectNotFound},
		{"move: same segment", func() error { _, err := c.CreateMoveTask(ctxT(t), "k", src, src); return err }, "CreateMoveTask", mc.CodeInvalidParams},
		{"move: unknown target", func() error { _, err := c.CreateMoveTask(ctxT(t), "k", src, "zz"); return err }, "CreateMoveTask", mc.CodeInvalidParams},
		{"move: draining target", func() error { _, err := c.CreateMoveTask(ctxT(t), "k", src, "n2"); return err }, "CreateMoveTask", mc.CodeUnavailableInCurrentStatus},
		{"move: no replica on source", func() error { _, err := c.CreateMoveTask(ctxT(t), "k", "n1", src); return err }, "CreateMoveTask", mc.CodeInvalidParams},
	} {
		err := tc.call()
		var oe *mc.OpError
		if !errors.As(err, &oe) || oe.Op != tc.op || oe.Code != tc.code || oe.Reason == "" || strings.Contains(oe.Reason, "not known to answer") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestTasksExecuted(t *testing.T) {
	clk := newClock(time.Unix(1_800_000_000, 0))
	s := startFake(t, sandboxmaster.WithClock(clk.now), sandboxmaster.WithClientTTL(time.Hour),
		sandboxmaster.WithExecuteTasks(time.Second, 2*time.Second), sandboxmaster.WithPutStartReleaseTimeout(600*time.Second))
	n0 := sandboxmaster.Node{Name: "n0", Endpoint: "10.0.0.1:1"}
	n1 := sandboxmaster.Node{Name: "n1", Endpoint: "10.0.0.2:1"}
	n2 := sandboxmaster.Node{Name: "n2", Endpoint: "10.0.0.3:1"}
	if err := s.Populate(ctxT(t), []string{"mv0", "cp0", "rm0", "dup0"}, n0); err != nil {
		t.Fatal(err)
	}
	if err := s.Populate(ctxT(t), nil, n1, n2); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	adm, _ := mc.NewAdmin(peer(t, s.AdminURL()))
	used := func(name string) uint64 {
		t.Helper()
		u, err := adm.QuerySegment(ctxT(t), name)
		if err != nil {
			t.Fatal(err)
		}
		return u.UsedBytes
	}
	const obj = sandboxmaster.PopulateObjectSize
	onlyOn := func(key string, want ...string) {
		t.Helper()
		if got := strings.Join(s.ReplicaSegments(key), " "); got != strings.Join(want, " ") {
			t.Fatalf("%s on [%s], want %v", key, got, want)
		}
	}

	// A move: PENDING, PROCESSING after the owner's fetch, SUCCESS.
	mv, err := c.CreateMoveTask(ctxT(t), "mv0", "n0", "n1")
	if err != nil {
		t.Fatal(err)
	}
	clk.add(time.Second)
	task, _ := c.QueryTask(ctxT(t), mv)
	if task.Status != mc.TaskProcessing || !task.UpdatedAt.After(task.CreatedAt) {
		t.Fatalf("after the fetch %+v", task)
	}
	if task = waitTask(t, c, clk, mv, mc.TaskSuccess); task.Message != mc.TaskMessageSucceeded {
		t.Fatalf("%+v", task)
	}
	onlyOn("mv0", "n1")
	// §4.6: the moved-away source counts as used until it is released.
	if u := used("n0"); u != 4*obj {
		t.Fatalf("n0 uses %d right after the move", u)
	}
	clk.add(1200 * time.Second)
	if u := used("n0"); u != 3*obj {
		t.Fatalf("n0 uses %d after the release", u)
	}

	// A copy, then a copy to a segment that already holds the key.
	cp, _ := c.CreateCopyTask(ctxT(t), "cp0", []string{"n1"})
	waitTask(t, c, clk, cp, mc.TaskSuccess)
	onlyOn("cp0", "n0", "n1")
	before := used("n1")
	again, _ := c.CreateCopyTask(ctxT(t), "cp0", []string{"n1"})
	waitTask(t, c, clk, again, mc.TaskSuccess)
	if used("n1") != before {
		t.Fatal("a copy to a holder allocated space")
	}

	// Two moves of one key created together: the second finds the first's
	// replication open. A key removed while its task is pending: not found.
	d1, _ := c.CreateMoveTask(ctxT(t), "dup0", "n0", "n1")
	d2, _ := c.CreateMoveTask(ctxT(t), "dup0", "n0", "n1")
	gone, _ := c.CreateMoveTask(ctxT(t), "rm0", "n0", "n1")
	if err := c.Remove(ctxT(t), "rm0", false); err != nil {
		t.Fatal(err)
	}
	waitTask(t, c, clk, d1, mc.TaskSuccess)
	for id, msg := range map[mc.UUID]string{
		d2:   "OBJECT_HAS_REPLICATION_TASK (max retries reached: 10)",
		gone: "OBJECT_NOT_FOUND (max retries reached: 10)",
	} {
		if task, _ := c.QueryTask(ctxT(t), id); task.Status != mc.TaskFailed || task.Message != msg || task.TimedOut() {
			t.Fatalf("%+v, want FAILED %q", task, msg)
		}
	}

	// The target started draining before the task ran.
	dr, _ := c.CreateMoveTask(ctxT(t), "cp0", "n0", "n2")
	if err := s.SetSegmentStatus("n2", mc.SegmentDraining); err != nil {
		t.Fatal(err)
	}
	if task = waitTask(t, c, clk, dr, mc.TaskFailed); task.Message != "UNAVAILABLE_IN_CURRENT_STATUS (max retries reached: 10)" {
		t.Fatalf("%q", task.Message)
	}
	if err := s.SetSegmentStatus("n2", mc.SegmentOK); err != nil {
		t.Fatal(err)
	}

	// The source segment was unmounted before the task ran (the key lives
	// on elsewhere): REPLICA_NOT_FOUND.
	if err := s.Populate(ctxT(t), []string{"two"}, n0, n2); err != nil {
		t.Fatal(err)
	}
	lost, _ := c.CreateMoveTask(ctxT(t), "two", "n0", "n1")
	segs, err := adm.SegmentList(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range segs {
		if sg.Name == "n0" {
			if err := c.UnmountSegment(ctxT(t), sg.ID, sg.ClientID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if task = waitTask(t, c, clk, lost, mc.TaskFailed); task.Message != "REPLICA_NOT_FOUND (max retries reached: 10)" {
		t.Fatalf("%q", task.Message)
	}
	onlyOn("two", "n2")
}

// A task the executor fetched but did not finish in time fails with
// "processing timeout"; its End still commits later, and the task stays
// FAILED (the master ignores a late completion).
func TestProcessingTimeout(t *testing.T) {
	s, c, clk := fakeWithKeys(t, []string{"k"}, nil, sandboxmaster.WithExecuteTasks(time.Second, 10*time.Minute), sandboxmaster.WithTaskTimeouts(300*time.Second, 2*time.Second))
	mountAs(t, c, mc.NewUUID(), "n1", "127.0.0.1:17778", 0x2000_0000_0000)
	// The node owning the source must stay alive to execute: its client is
	// the test's, pinged through mountAs' ReMountSegment at the frozen clock.
	id, err := c.CreateCopyTask(ctxT(t), "k", []string{"n1"})
	if err != nil {
		t.Fatal(err)
	}
	clk.add(60 * time.Second)
	task, _ := c.QueryTask(ctxT(t), id)
	if task.Status != mc.TaskFailed || task.Message != mc.TaskMessageProcessingTimeout || !task.TimedOut() {
		t.Fatalf("%+v", task)
	}
	if err := c.Remove(ctxT(t), "k", true); !errors.Is(err, mc.CodeReplicaIsNotReady) {
		t.Fatalf("the copy is still running: %v", err)
	}
	clk.add(10 * time.Minute)
	if task, _ = c.QueryTask(ctxT(t), id); task.Status != mc.TaskFailed || task.Message != mc.TaskMessageProcessingTimeout {
		t.Fatalf("late completion changed the task: %+v", task)
	}
	if segs := s.ReplicaSegments("k"); len(segs) != 2 {
		t.Fatalf("the late End did not commit: %v", segs)
	}
}

// A dead executor (its client stopped pinging) never fetches: pending
// timeout. Finished tasks beyond the limit are pruned oldest first.
func TestDeadExecutorAndPruning(t *testing.T) {
	clk := newClock(time.Unix(1_800_000_000, 0))
	s := startFake(t, sandboxmaster.WithClock(clk.now), sandboxmaster.WithClientTTL(10*time.Second),
		sandboxmaster.WithExecuteTasks(30*time.Second, 0), sandboxmaster.WithTaskLimits(100, 1)) // the owner would fetch at 30 s
	c := dial(t, s)
	owner, other := mc.NewUUID(), mc.NewUUID()
	mountAs(t, c, owner, "n0", "127.0.0.1:17777", 0x1000_0000_0000)
	putOn(t, c, owner, "n0", "k")
	mountAs(t, c, other, "n1", "127.0.0.1:17778", 0x2000_0000_0000)
	first, _ := c.CreateCopyTask(ctxT(t), "k", []string{"n1"})
	second, _ := c.CreateCopyTask(ctxT(t), "k", []string{"n1"})
	// Both clients go silent for 5 s; "other" pings, "owner" does not.
	for i := 0; i < 4; i++ {
		clk.add(5 * time.Second)
		if _, err := c.Ping(ctxT(t), other); err != nil {
			t.Fatal(err)
		}
	}
	// owner expired at 10 s: its segment and key are gone, its tasks stay
	// PENDING (nobody fetches) until the pending timeout.
	task, _ := c.QueryTask(ctxT(t), first)
	if task.Status != mc.TaskPending {
		t.Fatalf("%+v", task)
	}
	for i := 0; i < 70; i++ {
		clk.add(5 * time.Second)
		c.Ping(ctxT(t), other)
	}
	var oe *mc.OpError
	if _, err := c.QueryTask(ctxT(t), first); !errors.As(err, &oe) || oe.Code != mc.CodeTaskNotFound {
		t.Fatalf("the older finished task must be pruned (limit 1): %v", err)
	}
	task, err := c.QueryTask(ctxT(t), second)
	if err != nil || task.Message != mc.TaskMessagePendingTimeout {
		t.Fatalf("%+v %v", task, err)
	}
}

// Segments: status and drain, capacity and usage, the owning client, and
// the mapping of replicas to segments, over RPC and the admin API.
func TestSegments(t *testing.T) {
	s := startFake(t)
	nodes := []sandboxmaster.Node{{Name: "n0", Endpoint: "10.0.0.1:12345"}, {Name: "n1", Endpoint: "10.0.0.1:12345", Size: 1 << 20}}
	if err := s.Populate(ctxT(t), []string{"a", "b"}, nodes...); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	adm, _ := mc.NewAdmin(peer(t, s.AdminURL()))
	segs, err := adm.SegmentList(ctxT(t))
	if err != nil || len(segs) != 2 {
		t.Fatalf("%+v %v", segs, err)
	}
	for _, sg := range segs {
		if sg.Status != mc.SegmentOK || sg.UsedBytes != 2*sandboxmaster.PopulateObjectSize || sg.CapacityBytes != sg.Size || sg.ClientID.IsZero() || sg.TEEndpoint != "10.0.0.1:12345" || sg.FreeBytes() != sg.Size-sg.UsedBytes {
			t.Fatalf("segment %+v", sg)
		}
	}
	if segs[0].ClientID != segs[1].ClientID {
		t.Fatal("both segments belong to the sandbox's node client")
	}
	ips, err := c.BatchQueryIP(ctxT(t), []mc.UUID{segs[0].ClientID, {First: 5, Second: 5}})
	if err != nil || len(ips) != 1 || len(ips[segs[0].ClientID]) != 1 || ips[segs[0].ClientID][0] != "10.0.0.1" {
		t.Fatalf("ips %v %v", ips, err)
	}
	// Same endpoint, two segments: only the address range tells them apart.
	idx := mc.NewSegmentIndex(segs)
	qs, err := adm.BatchQueryKeys(ctxT(t), []string{"a"})
	if err != nil || len(qs[0].Values) != 2 {
		t.Fatalf("%+v %v", qs, err)
	}
	seen := map[string]bool{}
	for _, v := range qs[0].Values {
		sg, ok := idx.Locate(v)
		if !ok {
			t.Fatalf("replica %+v on no segment", v)
		}
		seen[sg.Name] = true
	}
	if !seen["n0"] || !seen["n1"] {
		t.Fatalf("replicas on %v", seen)
	}
	if _, ok := idx.Locate(mc.BufferDescriptor{TransportEndpoint: "10.0.0.1:12345", BufferAddress: 1}); ok {
		t.Fatal("an address outside every range was located")
	}
	// Drain n1: status everywhere, and a put lands elsewhere.
	if err := s.SetSegmentStatus("n1", mc.SegmentDraining); err != nil {
		t.Fatal(err)
	}
	if st, err := c.QuerySegmentStatus(ctxT(t), "n1"); err != nil || st != mc.SegmentDraining {
		t.Fatalf("%v %v", st, err)
	}
	if st, err := c.QuerySegmentStatusByID(ctxT(t), segs[1].ID); err != nil || st != mc.SegmentDraining {
		t.Fatalf("by id %v %v", st, err)
	}
	if st, err := adm.SegmentStatus(ctxT(t), "n1"); err != nil || st != mc.SegmentDraining {
		t.Fatalf("http %v %v", st, err)
	}
	if err := s.Populate(ctxT(t), []string{"c"}, nodes...); err != nil {
		t.Fatal(err)
	}
	if got := s.ReplicaSegments("c"); len(got) != 1 || got[0] != "n0" {
		t.Fatalf("a put on a draining segment: %v", got)
	}
	var oe *mc.OpError
	if _, err := c.QuerySegmentStatus(ctxT(t), "zz"); !errors.As(err, &oe) || oe.Code != mc.CodeSegmentNotFound {
		t.Fatalf("unknown segment: %v", err)
	}
	if _, err := adm.SegmentStatus(ctxT(t), "zz"); !errors.As(err, &oe) || oe.Code != mc.CodeSegmentNotFound {
		t.Fatalf("unknown segment over http: %v", err)
	}
	if _, err := adm.QuerySegment(ctxT(t), "zz"); !errors.As(err, &oe) || oe.Code != mc.CodeSegmentNotFound || !errors.Is(err, mc.CodeSegmentNotFound) {
		t.Fatalf("query_segment unknown: %v", err)
	}
	if _, err := adm.QuerySegment(ctxT(t), "has space"); err == nil {
		t.Fatal("a name /query_segment cannot carry")
	}
	var names []string
	if err := adm.SegmentNames(ctxT(t), func(n string) error { names = append(names, n); return nil }); err != nil || len(names) != 2 {
		t.Fatalf("%v %v", names, err)
	}
	// A DRAINED segment cannot be mounted again.
	if err := s.SetSegmentStatus("n1", mc.SegmentDrained); err != nil {
		t.Fatal(err)
	}
	seg := mc.Segment{ID: segs[1].ID, Name: "n1", Base: segs[1].Base, Size: segs[1].Size, TEEndpoint: segs[1].TEEndpoint, Protocol: "tcp"}
	if err := c.MountSegment(ctxT(t), seg, segs[1].ClientID); !errors.Is(err, mc.CodeUnavailableInCurrentStatus) {
		t.Fatalf("remount of a drained segment: %v", err)
	}
	if err := s.SetSegmentStatus("zz", mc.SegmentOK); err == nil {
		t.Fatal("unknown segment accepted")
	}
}

func TestAdminRemoveAllAndScan(t *testing.T) {
	s := startFake(t)
	keys := keysN("scan", 1000)
	if err := s.Populate(ctxT(t), append(keys, "with,comma")); err != nil {
		t.Fatal(err)
	}
	adm, rec, _ := adminFor(t, s)
	n, seen, bad := 0, map[string]bool{}, 0
	err := adm.ScanKeys(ctxT(t), 128, func(q mc.KeyQuery) error {
		n++
		seen[q.Key] = true
		if q.Key == "with,comma" {
			if q.Code != mc.CodeInvalidParams {
				t.Errorf("%+v", q)
			}
			bad++
			return nil
		}
		if !q.OK || len(q.Values) != 1 {
			t.Errorf("%+v", q)
		}
		return nil
	})
	if err != nil || n != 1001 || len(seen) != 1001 || bad != 1 {
		t.Fatalf("scanned %d (%d distinct), %v", n, len(seen), err)
	}
	if len(rec.urls) < 9 || len(rec.urls) > 12 {
		t.Fatalf("%d requests for 1000 keys in batches of 128", len(rec.urls))
	}
	// Leases block the HTTP RemoveAll too unless forced; GET is not a route.
	c := dial(t, s)
	if _, err := c.BatchExistKey(ctxT(t), keys[:10]); err != nil {
		t.Fatal(err)
	}
	if got, err := adm.RemoveAll(ctxT(t), false, ""); err != nil || got != 991 {
		t.Fatalf("remove_all %d %v", got, err)
	}
	if got, err := adm.RemoveAll(ctxT(t), true, "default"); err != nil || got != 10 {
		t.Fatalf("remove_all?force %d %v", got, err)
	}
	if _, err := adm.RemoveAll(ctxT(t), true, "bad tenant"); err == nil {
		t.Fatal("a tenant remove_all cannot carry")
	}
	resp, err := http.Get(s.AdminURL() + "/api/v1/remove_all")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /api/v1/remove_all: %d", resp.StatusCode)
	}
}

// The executor dies mid-transfer: no End ever comes. The task fails with
// "processing timeout"; the key stays unremovable until the master undoes
// the open replication after the release timeout (§4.5).
func TestExecutorDiesMidTransfer(t *testing.T) {
	clk := newClock(time.Unix(1_800_000_000, 0))
	s := startFake(t, sandboxmaster.WithClock(clk.now), sandboxmaster.WithClientTTL(10*time.Second),
		sandboxmaster.WithExecuteTasks(time.Second, time.Minute))
	c := dial(t, s)
	owner, other := mc.NewUUID(), mc.NewUUID()
	mountAs(t, c, owner, "n0", "127.0.0.1:17777", 0x1000_0000_0000)
	putOn(t, c, owner, "n0", "k")
	mountAs(t, c, other, "n1", "127.0.0.1:17778", 0x2000_0000_0000)
	putOn(t, c, other, "n1", "keep")
	id, err := c.CreateCopyTask(ctxT(t), "k", []string{"n1"})
	if err != nil {
		t.Fatal(err)
	}
	adm, _ := mc.NewAdmin(peer(t, s.AdminURL()))
	usedN1 := func() uint64 {
		u, err := adm.QuerySegment(ctxT(t), "n1")
		if err != nil {
			t.Fatal(err)
		}
		return u.UsedBytes
	}
	// From here only "other" pings; "owner" dies after fetching the task.
	step := func(d time.Duration) {
		for ; d > 0; d -= 5 * time.Second {
			clk.add(5 * time.Second)
			if _, err := c.Ping(ctxT(t), other); err != nil {
				t.Fatal(err)
			}
		}
	}
	step(20 * time.Second)
	if task, _ := c.QueryTask(ctxT(t), id); task.Status != mc.TaskProcessing {
		t.Fatalf("%+v", task)
	}
	if used := usedN1(); used != 8192 {
		t.Fatalf("n1 uses %d with the copy's target allocated", used)
	}
	if err := c.Remove(ctxT(t), "k", true); !errors.Is(err, mc.CodeReplicaIsNotReady) {
		t.Fatalf("the half-copied key: %v", err)
	}
	step(340 * time.Second)
	if task, _ := c.QueryTask(ctxT(t), id); task.Status != mc.TaskFailed || task.Message != mc.TaskMessageProcessingTimeout {
		t.Fatalf("%+v", task)
	}
	step(900 * time.Second) // the release pass at 1200 s undoes the copy
	if used := usedN1(); used != 4096 {
		t.Fatalf("n1 uses %d after the undo", used)
	}
	if err := c.Remove(ctxT(t), "k", true); !errors.Is(err, mc.CodeObjectNotFound) {
		t.Fatalf("after the undo: %v", err)
	}
}

func TestRemoveCausesAndUnsupported(t *testing.T) {
	for code, want := range map[mc.ErrorCode]string{
		mc.CodeOK: mc.CauseRemoved, mc.CodeObjectNotFound: mc.CauseNotFound, mc.CodeObjectHasLease: mc.CauseLeased,
		mc.CodeReplicaIsNotReady: mc.CauseWriting, mc.CodeObjectHasReplicationTask: mc.CauseReplicating,
		mc.CodeInvalidParams: mc.CauseTenant, mc.CodeInternalError: mc.CauseOther,
	} {
		if got := (mc.RemoveResult{Key: "k", Code: code}).Cause(); got != want {
			t.Errorf("%v: %s", code, got)
		}
	}
	// A master without the task RPCs answers errc 11.
	s := startFake(t)
	c := dial(t, s)
	s.InjectFault(sandboxmaster.Fault{Method: "CreateMoveTask", Times: 1, Errc: mc.ErrcFunctionNotRegistered, ErrMsg: "the rpc function not registered"})
	if _, err := c.CreateMoveTask(ctxT(t), "k", "a", "b"); !mc.Unsupported(err) {
		t.Fatalf("%v", err)
	}
	if mc.Unsupported(errors.New("x")) || mc.Unsupported(nil) {
		t.Fatal("Unsupported on other errors")
	}
	for _, op := range []string{"Remove", "BatchRemove", "RemoveByRegex", "CreateCopyTask", "CreateMoveTask", "QueryTask", "QuerySegmentStatus"} {
		if len(mc.OpCodes(op)) == 0 {
			t.Errorf("no codes for %s", op)
		}
	}
	if !strings.Contains(mc.OpReason("/get_segments_detail", mc.CodeUnavailableInCurrentMode), "standby") {
		t.Error("standby reason")
	}
}
