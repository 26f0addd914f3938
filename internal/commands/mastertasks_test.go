package commands

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"lmc/internal/commands/iostreams"
	"lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

var (
	nodeA = sandboxmaster.Node{Name: "127.0.0.1:17777", Endpoint: "127.0.0.1:17777"}
	nodeB = sandboxmaster.Node{Name: "127.0.0.1:17778", Endpoint: "127.0.0.1:17778"}
)

type moveJSON struct {
	Operation  string `json:"operation"`
	Target     string `json:"target"`
	Waited     bool   `json:"waited"`
	TimedOut   bool   `json:"timed_out"`
	Tasks      int    `json:"tasks"`
	Succeeded  int    `json:"succeeded"`
	Failed     int    `json:"failed"`
	Pending    int    `json:"pending"`
	Processing int    `json:"processing"`
	Chunks     []struct {
		Chunk          int      `json:"chunk"`
		Key            string   `json:"key"`
		Source         string   `json:"source"`
		TaskID         string   `json:"task_id"`
		State          string   `json:"state"`
		Message        string   `json:"message"`
		Explanation    string   `json:"explanation"`
		AssignedClient string   `json:"assigned_client"`
		Segments       []string `json:"segments"`
	} `json:"chunks"`
	Warning string `json:"warning"`
}

func (v moveJSON) states() []string {
	var out []string
	for _, c := range v.Chunks {
		out = append(out, c.State)
	}
	return out
}

// twoNodes populates keys on node A and mounts node B.
func twoNodes(t *testing.T, s *sandboxmaster.Server, keys []string) {
	t.Helper()
	if err := s.Populate(context.Background(), keys, nodeA); err != nil {
		t.Fatal(err)
	}
	if err := s.Populate(context.Background(), nil, nodeB); err != nil {
		t.Fatal(err)
	}
}

// A move planned through the admin API, executed by the sandbox's storage
// client and waited for: every chunk ends on the target. lmc sends only
// CreateMoveTask and QueryTask (the spec's layout), never the storage
// client's half.
func TestMoveMasterWaitsForTasks(t *testing.T) {
	s := opsMaster(t, sandboxmaster.WithExecuteTasks(20*time.Millisecond, 20*time.Millisecond))
	keys := keysFor(t, 600, "builtin")
	twoNodes(t, s, keys[:2])
	rl := startRelay(t, s.Addr())
	r := runLMC(t, runOpts{}, append([]string{"move", "--master", rl.addr(), "--admin", s.AdminURL(), "--to", nodeB.Name, "--wait", "--interval", "100ms", "--verify", "-o", "json"}, promptArgs(600)...)...)
	if r.code != 0 {
		t.Fatalf("exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	v := decodeJSON[moveJSON](t, r.stdout)
	if v.Operation != "move" || !v.Waited || v.Tasks != 2 || v.Succeeded != 2 || !slices.Equal(v.states(), []string{"success", "success", "absent"}) {
		t.Fatalf("outcome %+v", v)
	}
	for _, c := range v.Chunks[:2] {
		if c.Source != nodeA.Name || c.Message != mooncake.TaskMessageSucceeded || !slices.Equal(c.Segments, []string{nodeB.Name}) || c.AssignedClient == "" {
			t.Errorf("chunk %+v", c)
		}
		if got := s.ReplicaSegments(c.Key); !slices.Equal(got, []string{nodeB.Name}) {
			t.Errorf("%s is on %v", c.Key, got)
		}
	}
	creates := rl.callsOf(mooncake.MethodCreateMoveTask)
	if len(creates) != 2 {
		t.Fatalf("CreateMoveTask calls: %d", len(creates))
	}
	for i, c := range creates {
		want := requestFrame(mooncake.MethodCreateMoveTask, c.seq, func(e *mooncake.Encoder) {
			e.Str(keys[i])
			e.Str("default")
			e.Str(nodeA.Name)
			e.Str(nodeB.Name)
		})
		sameFrame(t, "CreateMoveTask request", c.req, want)
		body := c.req[mooncake.RequestHeaderSize:]
		if !bytes.HasPrefix(body, specHex(t, "7a ab 1d 31")) || !bytes.HasSuffix(body, specHex(t, `07 "default" | 0f "127.0.0.1:17777" | 0f "127.0.0.1:17778"`)) {
			t.Errorf("CreateMoveTask body %x is not laid out as §4.2", body)
		}
		// the reply: ok and a 16-byte task id after the spec's tag
		if !bytes.HasPrefix(c.rsp[mooncake.ResponseHeaderSize:], specHex(t, "8b ae 9b 8f 04 87 fd 04 04 89 89 ff 01 00 | 01")) || len(c.rsp) != mooncake.ResponseHeaderSize+31 {
			t.Errorf("CreateMoveTask reply %x", c.rsp)
		}
	}
	for _, q := range rl.callsOf(mooncake.MethodQueryTask) {
		if !bytes.HasPrefix(q.req[mooncake.RequestHeaderSize:], specHex(t, "e0 83 6d 3c")) || len(q.req) != mooncake.RequestHeaderSize+4+16 {
			t.Errorf("QueryTask request %x", q.req)
		}
	}
	allowed := map[uint32]bool{mooncake.MethodCreateMoveTask.ID: true, mooncake.MethodQueryTask.ID: true}
	for fid := range rl.methods() {
		if !allowed[fid] {
			t.Errorf("lmc called function 0x%08x", fid)
		}
	}
}

// A copy without --admin and without --wait: the tasks are created and
// queried once, their ids printed; 'lmc task get --wait' then sees them
// succeed.
func TestCopyMasterThenTaskGet(t *testing.T) {
	s := opsMaster(t, sandboxmaster.WithExecuteTasks(150*time.Millisecond, 50*time.Millisecond))
	keys := keysFor(t, 600, "builtin")
	twoNodes(t, s, keys[:2])
	r := runLMC(t, runOpts{}, append([]string{"copy", "--master", s.Addr(), "--to", nodeB.Name, "-o", "json"}, promptArgs(600)...)...)
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	v := decodeJSON[moveJSON](t, r.stdout)
	if v.Operation != "copy" || v.Tasks != 2 || v.Pending != 2 || !slices.Equal(v.states(), []string{"pending", "pending", "absent"}) {
		t.Fatalf("outcome %+v", v)
	}
	ids := []string{v.Chunks[0].TaskID, v.Chunks[1].TaskID}
	if !strings.Contains(v.Chunks[0].Explanation, "nothing else executes a task") {
		t.Errorf("explanation %q", v.Chunks[0].Explanation)
	}
	r = runLMC(t, runOpts{}, append([]string{"task", "get", "--master", s.Addr(), "--wait", "--interval", "100ms", "-o", "json"}, ids...)...)
	if r.code != 0 {
		t.Fatalf("task get: %d %s %s", r.code, r.stdout, r.stderr)
	}
	g := decodeJSON[taskGetView](t, r.stdout)
	if len(g.Tasks) != 2 || g.Tasks[0].Status != "SUCCESS" || g.Tasks[0].Type != "REPLICA_COPY" || g.Tasks[0].ID != ids[0] || g.Tasks[0].CreatedAt == nil {
		t.Fatalf("task get %+v", g)
	}
	if got := s.ReplicaSegments(keys[0]); !slices.Equal(got, []string{nodeA.Name, nodeB.Name}) {
		t.Errorf("copied key on %v", got)
	}
	// the table names the tasks and their state
	r = runLMC(t, runOpts{tty: true}, "task", "get", "--master", s.Addr(), ids[0])
	if r.code != 0 || !strings.Contains(r.stdout, ids[0]) || !strings.Contains(r.stdout, "REPLICA_COPY") || !strings.Contains(r.stdout, "SUCCESS") {
		t.Errorf("task get table: %d %s", r.code, r.stdout)
	}
}

// Nobody executes: the task stays PENDING until the master's pending
// timeout fails it ("pending timeout"), which lmc explains.
func TestMoveMasterPendingTimeout(t *testing.T) {
	s := opsMaster(t, sandboxmaster.WithTaskTimeouts(200*time.Millisecond, 200*time.Millisecond), sandboxmaster.WithTaskCleanupInterval(100*time.Millisecond))
	keys := keysFor(t, 256, "builtin")
	twoNodes(t, s, keys)
	r := runLMC(t, runOpts{}, append([]string{"move", "--master", s.Addr(), "--from", nodeA.Name, "--to", nodeB.Name, "--wait", "--interval", "100ms", "-o", "json"}, promptArgs(256)...)...)
	if r.code != ExitFailed {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	v := decodeJSON[moveJSON](t, r.stdout)
	c := v.Chunks[0]
	if c.State != "failed" || c.Message != "pending timeout" || !strings.Contains(c.Explanation, "no storage client fetched the task in time") || v.Failed != 1 {
		t.Fatalf("outcome %+v", v)
	}
	if !strings.Contains(r.stderr, "lmc: move to 127.0.0.1:17778: 1 failed") {
		t.Errorf("stderr %s", r.stderr)
	}
	if got := s.ReplicaSegments(keys[0]); !slices.Equal(got, []string{nodeA.Name}) {
		t.Errorf("key moved anyway: %v", got)
	}
	// the same task, asked later
	r = runLMC(t, runOpts{}, "task", "get", "--master", s.Addr(), c.TaskID)
	if r.code != ExitFailed || !strings.Contains(r.stdout, "pending timeout") || !strings.Contains(r.stderr, "1 of 1 task failed or unknown") {
		t.Errorf("task get: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// --wait ends at --timeout: the tasks are still pending (exit 1), and the
// ids are in the output.
func TestMoveMasterWaitTimeout(t *testing.T) {
	s := opsMaster(t)
	keys := keysFor(t, 256, "builtin")
	twoNodes(t, s, keys)
	r := runLMC(t, runOpts{}, append([]string{"move", "--master", s.Addr(), "--from", nodeA.Name, "--to", nodeB.Name, "--wait", "--interval", "100ms", "--timeout", "2s", "-o", "json"}, promptArgs(256)...)...)
	// (--timeout also bounds each request: 2 s leaves a loaded machine room
	// for them, and the task stays pending: the sandbox does not run it.)
	v := decodeJSON[moveJSON](t, r.stdout)
	if r.code != ExitFailed || !v.TimedOut || v.Pending != 1 || v.Chunks[0].TaskID == "" || !strings.Contains(r.stderr, "1 still pending or processing when the wait ended after 2s") {
		t.Fatalf("exit %d %+v %s", r.code, v, r.stderr)
	}
}

// Ctrl-C during the wait: exit 130, and the ids of the tasks that go on.
func TestMoveMasterInterrupt(t *testing.T) {
	s := opsMaster(t)
	keys := keysFor(t, 256, "builtin")
	twoNodes(t, s, keys)
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, _, errOut := iostreams.Test()
	ios.SetGetenv(func(string) string { return "" })
	done := make(chan int)
	go func() {
		done <- Main(ctx, ios, append([]string{"move", "--master", s.Addr(), "--from", nodeA.Name, "--to", nodeB.Name, "--wait"}, promptArgs(256)...), BuildInfo{Version: "t"})
	}()
	if !eventually(t, 5*time.Second, func() bool { all, _ := s.TaskCount(); return all == 1 }) {
		t.Fatal("no task created")
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitInterrupted || !strings.Contains(errOut.String(), "interrupted; the 1 task created go on without lmc: lmc task get --master "+s.Addr()) {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not end the wait")
	}
}

// Unknown and draining segments are refused before any task exists, with
// the admin API's list or through QuerySegmentStatus (§5.1, byte for byte).
func TestMoveMasterSegmentChecks(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 256, "builtin")
	twoNodes(t, s, keys)
	base := append([]string{"move", "--from", nodeA.Name}, promptArgs(256)...)
	r := runLMC(t, runOpts{}, append(base, "--master", s.Addr(), "--admin", s.AdminURL(), "--to", "127.0.0.1:17779")...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--to 127.0.0.1:17779: no segment of that name is mounted on the master (segments: 127.0.0.1:17777, 127.0.0.1:17778)") {
		t.Errorf("unknown with --admin: %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, append(base, "--master", s.Addr(), "--to", "nope")...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--to nope: no segment of that name is mounted on the master; 'lmc store segments --admin URL' lists them") {
		t.Errorf("unknown over RPC: %d %s", r.code, r.stderr)
	}
	if err := s.SetSegmentStatus(nodeB.Name, mooncake.SegmentDraining); err != nil {
		t.Fatal(err)
	}
	rl := startRelay(t, s.Addr())
	r = runLMC(t, runOpts{}, append(base, "--master", rl.addr(), "--to", nodeB.Name)...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--to 127.0.0.1:17778: the segment is DRAINING: a drain job is moving everything off it") {
		t.Errorf("draining: %d %s", r.code, r.stderr)
	}
	calls := rl.callsOf(mooncake.MethodQuerySegmentStatus)
	if len(calls) != 1 {
		t.Fatalf("calls %v", rl.methods())
	}
	sameFrame(t, "QuerySegmentStatus request", calls[0].req, specHex(t, `15 00 00 00 00 00 00 00 8c af b8 79 14 00 00 00 00 00 00 00 | 76 fa cf 9d | 0f "127.0.0.1:17778"`))
	sameFrame(t, "QuerySegmentStatus reply", calls[0].rsp, specHex(t, `15 00 00 00 00 00 00 00 0e 00 00 00 00 00 00 00 | a9 e9 51 98 04 87 01 01 00 | 01 | 02 00 00 00`))
	if all, _ := s.TaskCount(); all != 0 {
		t.Errorf("%d tasks created", all)
	}
	r = runLMC(t, runOpts{}, append(base, "--master", s.Addr(), "--admin", s.AdminURL(), "--to", nodeB.Name)...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "the segment is DRAINING") {
		t.Errorf("draining with --admin: %d %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"move", "--master", s.Addr(), "--tokens", "1"}, "--to SEGMENT is required"},
		{[]string{"move", "--master", s.Addr(), "--to", "x", "--tokens", "1"}, "a move needs its source segment: pass --from SEGMENT, or --admin URL"},
		{[]string{"copy", "--master", s.Addr(), "--from", "a", "--to", "x", "--tokens", "1"}, "--from does not apply to a copy"},
		{[]string{"move", "--master", s.Addr(), "--from", "x", "--to", "x", "--tokens", "1"}, "are the same segment"},
		{[]string{"move", "--master", s.Addr(), "--from", "x", "--to", "y", "--verify", "--tokens", "1"}, "--verify needs --wait and --admin URL"},
		{[]string{"move", "--controller", "http://127.0.0.1:1", "--from", "a", "--to", "b", "--wait", "--tokens", "1"}, "--wait applies to move --master or --coordinator"},
		{[]string{"task", "get", "--master", s.Addr(), "12-x"}, `task id "12-x": expected the first-second decimal form`},
		{[]string{"task", "get", "--master", s.Addr()}, "give at least one task id"},
		{[]string{"task", "get", "1-2"}, "lmc task get on a Mooncake store needs --master"},
	} {
		r := runLMC(t, runOpts{}, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	r = runLMC(t, runOpts{}, "task", "get", "--master", s.Addr(), "-o", "json", "1-2")
	if r.code != ExitFailed || !strings.Contains(r.stdout, `"status": "NOT_FOUND"`) || !strings.Contains(r.stdout, "TASK_NOT_FOUND: no such task") {
		t.Errorf("unknown task: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// A chunk already on the target is left in place; one not on --from has no
// source; absent chunks are skipped.
func TestMoveMasterPlan(t *testing.T) {
	s := opsMaster(t, sandboxmaster.WithExecuteTasks(20*time.Millisecond, 20*time.Millisecond))
	keys := keysFor(t, 800, "builtin")
	if err := s.Populate(context.Background(), keys[:1], nodeB); err != nil {
		t.Fatal(err)
	}
	if err := s.Populate(context.Background(), keys[1:3], nodeA); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, append([]string{"move", "--master", s.Addr(), "--admin", s.AdminURL(), "--to", nodeB.Name, "--wait", "--interval", "100ms", "-o", "json"}, promptArgs(800)...)...)
	if r.stdout == "" {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	v := decodeJSON[moveJSON](t, r.stdout)
	if r.code != 0 || !slices.Equal(v.states(), []string{"in-place", "success", "success", "absent"}) {
		t.Fatalf("exit %d %+v %s", r.code, v, r.stderr)
	}
	// copying back: everything is on B now; a copy to B is in place
	r = runLMC(t, runOpts{}, append([]string{"copy", "--master", s.Addr(), "--admin", s.AdminURL(), "--to", nodeB.Name, "-o", "json"}, promptArgs(800)...)...)
	v = decodeJSON[moveJSON](t, r.stdout)
	if r.code != 0 || v.Tasks != 0 || !slices.Equal(v.states(), []string{"in-place", "in-place", "in-place", "absent"}) {
		t.Fatalf("copy: exit %d %+v", r.code, v)
	}
	r = runLMC(t, runOpts{}, append([]string{"move", "--master", s.Addr(), "--admin", s.AdminURL(), "--from", nodeA.Name, "--to", nodeB.Name, "-o", "json"}, promptArgs(800)...)...)
	v = decodeJSON[moveJSON](t, r.stdout)
	if r.code != 0 || v.Chunks[1].State != "no-source" || !strings.Contains(v.Chunks[1].Message, "no memory replica on --from 127.0.0.1:17777 (it is on 127.0.0.1:17778)") {
		t.Fatalf("no source: exit %d %+v", r.code, v)
	}
}

func TestPinMasterExplains(t *testing.T) {
	s := startMaster(t)
	r := runLMC(t, runOpts{}, "pin", "--master", s.Addr(), "--tokens", "1,2")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--master: a Mooncake master cannot pin an object that is already stored") ||
		!strings.Contains(r.stderr, "with_hard_pin") || !strings.Contains(r.stderr, "lmc pin --controller") {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	if len(s.Calls()) != 0 {
		t.Errorf("pin --master called the master: %v", s.Calls())
	}
}

// move --master --dry-run plans through the admin API as the real run does
// and creates no task: it names what would move, and the master sees no
// CreateMoveTask.
func TestMoveMasterDryRun(t *testing.T) {
	s := opsMaster(t)
	keys := keysFor(t, 800, "builtin")
	if err := s.Populate(context.Background(), keys[:1], nodeB); err != nil {
		t.Fatal(err)
	}
	if err := s.Populate(context.Background(), keys[1:3], nodeA); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, append([]string{"move", "--master", s.Addr(), "--admin", s.AdminURL(), "--to", nodeB.Name, "--dry-run", "-o", "json"}, promptArgs(800)...)...)
	v := decodeJSON[moveJSON](t, r.stdout)
	if r.code != 0 || v.Tasks != 0 || !slices.Equal(v.states(), []string{"in-place", "would-move", "would-move", "absent"}) || !strings.Contains(r.stdout, `"dry_run": true`) {
		t.Fatalf("exit %d %+v %s", r.code, v, r.stderr)
	}
	if n := s.Calls()[mooncake.MethodCreateMoveTask.Name]; n != 0 {
		t.Fatalf("--dry-run sent %d CreateMoveTask", n)
	}
	if all, _ := s.TaskCount(); all != 0 {
		t.Fatalf("--dry-run left %d tasks on the master", all)
	}
	r = runLMC(t, runOpts{}, append([]string{"copy", "--master", s.Addr(), "--admin", s.AdminURL(), "--to", nodeB.Name, "--dry-run", "-o", "table"}, promptArgs(800)...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "dry run: would create 2 tasks to copy 2 chunks") || !strings.Contains(r.stdout, "would-copy") {
		t.Fatalf("copy --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if all, _ := s.TaskCount(); all != 0 {
		t.Fatalf("copy --dry-run left %d tasks on the master", all)
	}
	r = runLMC(t, runOpts{}, append([]string{"move", "--master", s.Addr(), "--admin", s.AdminURL(), "--to", nodeB.Name, "--dry-run", "--wait"}, promptArgs(800)...)...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--dry-run creates no task") {
		t.Fatalf("--dry-run --wait: exit %d %s", r.code, r.stderr)
	}
}

// A move of a prompt the store does not hold creates no task; with -o
// plain the warning that says so reaches stderr (the rows cannot carry it).
func TestMoveMasterAbsentWarnsInPlain(t *testing.T) {
	s := opsMaster(t)
	twoNodes(t, s, nil)
	r := runLMC(t, runOpts{}, append([]string{"move", "--master", s.Addr(), "--admin", s.AdminURL(), "--to", nodeB.Name, "-o", "plain"}, promptArgs(512)...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "\tabsent") || !strings.Contains(r.stderr, "warning: no task was created") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
