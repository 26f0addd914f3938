// 'lmc move|copy --master' and 'lmc task get': replica copy and move tasks
// on the Mooncake master. lmc only creates tasks (CreateMoveTask,
// CreateCopyTask) and polls them (QueryTask). The storage client that owns
// the source segment executes them with its transfer engine; lmc never
// calls CopyStart/MoveStart/End, MarkTaskToComplete or UnmountSegment: the
// master does not check who calls them, and a caller that does not move the
// bytes commits garbage replicas (mooncake-ops.md §4.3, §7.4).
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/mooncake"
	"lmc/internal/safetext"
)

// defaultTaskWait bounds --wait when --timeout is not given: longer than
// the master's own pending timeout (300 s, applied by a pass every 30 s),
// so a task nobody executes ends FAILED "pending timeout" before lmc gives
// up.
const defaultTaskWait = 6 * time.Minute

// Chunk states of a move or copy (lower case; task states as the master
// names them, lowered).
const (
	taskPending    = "pending"
	taskProcessing = "processing"
	taskSuccess    = "success"
	taskFailed     = "failed"
	taskUnknown    = "unknown"     // QueryTask: TASK_NOT_FOUND
	taskAbsent     = "absent"      // the key is not in the store
	taskInPlace    = "in-place"    // already on the target: nothing to do
	taskNoSource   = "no-source"   // no memory replica on a known segment (or not on --from)
	taskNotReady   = "not-ready"   // the key is being written
	taskRefused    = "refused"     // the master refused to create the task
	taskNotCreated = "not-created" // not asked: the master's pending limit was reached
	taskWouldMove  = "would-move"  // --dry-run: a task would be created
	taskWouldCopy  = "would-copy"
)

// taskHelp is what move, copy and task get say about tasks.
const taskHelp = `What executes a task: the Mooncake storage client that owns the source
segment (the master assigns the task to it; a client fetches its tasks every
second and copies the bytes with its transfer engine). Nothing else runs it:
lmc only creates tasks and polls them. If that client is not running, the task
stays PENDING and the master fails it with "pending timeout" after
--pending_task_timeout_sec (300 s by default, checked every 30 s, so after 5 to
5.5 minutes); a client that fetched it but did not finish within
--processing_task_timeout_sec fails it with "processing timeout" (if it is still
working, its result still commits). The master never retries, re-assigns or
cancels a task, and no RPC lists tasks: keep the ids lmc prints. Finished tasks
are kept until --max_total_finished_tasks (10000) newer ones finished, and
forgotten when the master restarts (TASK_NOT_FOUND).`

// masterMoveHelp is the part of move's help about --master.
const masterMoveHelp = `With --master, move (or 'lmc copy', or --copy) acts on the Mooncake store:
for each chunk key of the prompt (every rank's with --all-ranks) it creates a
move task (CreateMoveTask: the replica on the source segment goes to --to) or a
copy task (CreateCopyTask: a new replica on --to; the master picks the source).
--to and --from are segment names as 'lmc store segments' lists them, not
endpoints or ids. A move needs the source: --from SEGMENT, or --admin to find
the segment of each chunk (a chunk already on --to only is left in place). An
unknown --to, or one that is draining, drained or unmounting, is refused before
any task is created (exit 2); with --admin, absent chunks are skipped.

` + taskHelp + `

--wait polls the tasks every --interval until each is SUCCESS or FAILED, with a
progress line on a terminal; --timeout bounds the whole wait (default 6m, which
outlasts the master's own pending timeout). Ctrl-C stops waiting (the tasks go on;
their ids are printed). Without --wait the tasks are queried once and their
ids printed for 'lmc task get ID… --master ADDR'. --dry-run makes the same
checks and plan and creates no task: each chunk that would get one shows
would-move or would-copy.

JSON: {"operation": "move"|"copy", "master", "tenant", "target", "source",
"waited", "dry_run", "timed_out", "tasks", "succeeded", "failed", "pending", "processing",
"chunks": [{"chunk", "start", "end", "rank", "key", "source", "task_id",
"state", "message", "explanation", "assigned_client", "segments"}]} (segments:
where the chunk is after the wait, with --verify); state is
pending, processing, success or failed for a task, else absent, in-place,
no-source, not-ready, refused (the master's reason in message), not-created,
unknown, or with --dry-run would-move or would-copy. -o plain prints KEY<TAB>TASK_ID<TAB>STATE per chunk.

Exit codes: 0 when every task was created (and, with --wait, succeeded); 1
when one was refused, failed, vanished or was still running when the wait
ended; 2 for bad input, an unknown or unusable segment.`

const masterMoveExamples = `  lmc move --master 10.0.0.1:50051 --admin http://10.0.0.1:9003 --model m --hash-seed 0 --to 10.0.0.2:17777 --wait prompt.json
  lmc copy --master 10.0.0.1:50051 --model m --hash-seed 0 --to 10.0.0.2:17777 -o json prompt.json
  lmc move --master 10.0.0.1:50051 --model m --hash-seed 0 --from 10.0.0.1:17777 --to 10.0.0.2:17777 prompt.json
  lmc move --master 10.0.0.1:50051 --admin http://10.0.0.1:9003 --engine vllm --model m --hash-seed 0 --tp-size 2 --all-ranks --to 10.0.0.2:17777 --wait prompt.json`

type taskChunkView struct {
	Chunk int `json:"chunk"` // LMCache's chunk, SGLang's page, vLLM's block
	Start int `json:"start"`
	End   int `json:"end"`
	Rank  int `json:"rank"` // LMCache's worker id; SGLang's and vLLM's first rank that reads the object
	// Owners name the SGLang or vLLM ranks that read the object.
	Owners         []string `json:"owners,omitempty"`
	Key            string   `json:"key"`
	Source         string   `json:"source,omitempty"`
	TaskID         string   `json:"task_id,omitempty"`
	State          string   `json:"state"`
	Message        string   `json:"message,omitempty"`
	Explanation    string   `json:"explanation,omitempty"`
	AssignedClient string   `json:"assigned_client,omitempty"`
	Segments       []string `json:"segments,omitempty"`
}

// masterTaskOpView is the JSON of 'lmc move|copy --master'.
type masterTaskOpView struct {
	Operation string `json:"operation"`
	Master    string `json:"master"`
	Admin     string `json:"admin,omitempty"`
	// Engine is "sglang" or "vllm" with --engine (omitted for LMCache).
	Engine     string          `json:"engine,omitempty"`
	Tenant     string          `json:"tenant"`
	Target     string          `json:"target"`
	Source     string          `json:"source,omitempty"`
	Waited     bool            `json:"waited"`
	DryRun     bool            `json:"dry_run,omitempty"`
	TimedOut   bool            `json:"timed_out,omitempty"`
	Tasks      int             `json:"tasks"`
	Succeeded  int             `json:"succeeded"`
	Failed     int             `json:"failed"`
	Pending    int             `json:"pending"`
	Processing int             `json:"processing"`
	Chunks     []taskChunkView `json:"chunks"`
	Warning    string          `json:"warning,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
}

// masterMoveOptions are move's own flags that the master path reads.
type masterMoveOptions struct {
	From, To string
	Copy     bool
	Verify   bool
	DryRun   bool
}

// trackedTask is a task being polled.
type trackedTask struct {
	id   mooncake.UUID
	task *mooncake.Task // the last answer
	gone string         // QueryTask answered TASK_NOT_FOUND: why
}

func (t *trackedTask) done() bool { return t.gone != "" || (t.task != nil && t.task.Status.Done()) }

// state is the chunk state of a polled task.
func (t *trackedTask) state() string {
	switch {
	case t.gone != "":
		return taskUnknown
	case t.task == nil:
		return taskPending
	}
	return strings.ToLower(t.task.Status.String())
}

// taskExplanation says what a task's state means and what to do.
func taskExplanation(t mooncake.Task) string {
	switch {
	case t.Status == mooncake.TaskFailed && t.Message == mooncake.TaskMessagePendingTimeout:
		return fmt.Sprintf("no storage client fetched the task in time: the client that owns the source segment (assigned_client %s) executes it, polling the master every second, and it is not running or cannot reach the master; the master failed the task after --pending_task_timeout_sec (300 s by default) and never retries it", t.AssignedClient)
	case t.Status == mooncake.TaskFailed && t.Message == mooncake.TaskMessageProcessingTimeout:
		return fmt.Sprintf("the storage client that owns the source segment (assigned_client %s) fetched the task but did not finish it within --processing_task_timeout_sec (300 s by default); if it is still working, its result still commits", t.AssignedClient)
	case t.Status == mooncake.TaskPending:
		return fmt.Sprintf("waiting for the storage client that owns the source segment (assigned_client %s) to fetch it (every second); nothing else executes a task: if that client is not running, the master fails it with \"pending timeout\" after about 5 minutes", t.AssignedClient)
	case t.Status == mooncake.TaskProcessing:
		return "the storage client fetched it and is copying the bytes"
	case t.Status == mooncake.TaskFailed:
		return "the storage client that executed it reported the failure in message"
	}
	return ""
}

// pollTasks asks QueryTask about every unfinished task, once, or with wait
// until each is done or the wait's deadline passes (timedOut). Each request
// gets one --timeout; Ctrl-C returns the context's error.
func (s *masterSession) pollTasks(ctx context.Context, ts []*trackedTask, wait bool, deadline, interval time.Duration) (timedOut bool, err error) {
	wctx := ctx
	if wait {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	prog := s.startTaskProgress(ts, wait)
	defer prog.stop()
	for {
		for _, t := range ts {
			if t.done() {
				continue
			}
			cctx, cancel := context.WithTimeout(wctx, s.f.Timeout)
			start := time.Now()
			task, err := s.c.QueryTask(cctx, t.id)
			cancel()
			s.f.logRPC("QueryTask", s.addr, s.tenant, 0, start, err)
			var oe *mooncake.OpError
			switch {
			case err == nil:
				t.task = &task
			case errors.As(err, &oe) && oe.Code == mooncake.CodeTaskNotFound:
				t.gone = oe.Reason
			case ctx.Err() != nil:
				return false, ctx.Err()
			case wait && wctx.Err() != nil:
				return true, nil
			default:
				return false, s.rpcErr("QueryTask", err)
			}
		}
		prog.update()
		if !wait || !slices.ContainsFunc(ts, func(t *trackedTask) bool { return !t.done() }) {
			return false, nil
		}
		tm := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			tm.Stop()
			return false, ctx.Err()
		case <-wctx.Done():
			tm.Stop()
			return true, nil
		case <-tm.C:
		}
	}
}

// taskProgress is the one-line progress of a wait on a terminal's stderr.
type taskProgress struct {
	s     *masterSession
	ts    []*trackedTask
	start time.Time
	on    bool
	shown bool
	frame int
}

func (s *masterSession) startTaskProgress(ts []*trackedTask, wait bool) *taskProgress {
	return &taskProgress{s: s, ts: ts, start: time.Now(), on: wait && s.f.IOStreams.ShowHints()}
}

func (p *taskProgress) update() {
	if !p.on {
		return
	}
	n := map[string]int{}
	done := 0
	for _, t := range p.ts {
		n[t.state()]++
		if t.done() {
			done++
		}
	}
	frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	fmt.Fprintf(p.s.f.IOStreams.ErrOut, "\r\x1b[K%s %d of %s done (%d success, %d failed), %d pending, %d processing, %s",
		frames[p.frame%len(frames)], done, iostreams.Plural(len(p.ts), "task"), n[taskSuccess], n[taskFailed]+n[taskUnknown], n[taskPending], n[taskProcessing],
		time.Since(p.start).Round(time.Second))
	p.frame++
	p.shown = true
}

func (p *taskProgress) stop() {
	if p.shown {
		fmt.Fprint(p.s.f.IOStreams.ErrOut, "\r\x1b[K")
	}
}

// waitDeadline is how long --wait waits: --timeout when given, else
// defaultTaskWait.
func (f *Factory) waitDeadline() time.Duration {
	if f.Given.Has("timeout") {
		return f.Timeout
	}
	return defaultTaskWait
}

// printTaskIDs tells, when lmc stops early, which tasks go on.
func (s *masterSession) printTaskIDs(ts []*trackedTask, why string) {
	if len(ts) == 0 {
		return
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.id.String()
	}
	fmt.Fprintf(s.f.IOStreams.ErrOut, "%s; the %s created go on without lmc: lmc task get --master %s %s\n", why, iostreams.Plural(len(ts), "task"), s.addr, strings.Join(ids, " "))
}

// masterMove runs 'lmc move|copy --master'.
func (f *Factory) masterMove(ctx context.Context, args []string, b *BackendFlags, in *InputFlags, so *storeOpFlags, o masterMoveOptions) error {
	fm, err := f.outputFormat(opFormats)
	if err != nil {
		return err
	}
	op := "move"
	if o.Copy {
		op = "copy"
	}
	switch {
	case o.To == "":
		return &UsageError{Err: fmt.Errorf("--to SEGMENT is required: the name of the segment to %s to ('lmc store segments --admin URL' lists them)", op)}
	case o.Copy && o.From != "":
		return &UsageError{Err: errors.New("--from does not apply to a copy: the master picks the source at random among the segments holding the key")}
	case !o.Copy && o.From == "" && b.Admin == "":
		return &UsageError{Err: errors.New("a move needs its source segment: pass --from SEGMENT, or --admin URL to find the segment of each chunk")}
	case o.From != "" && o.From == o.To:
		return &UsageError{Err: fmt.Errorf("--from %s and --to %s are the same segment: nothing to move", o.From, o.To)}
	case o.Verify && (b.Admin == "" || !so.Wait):
		return &UsageError{Err: errors.New("--verify needs --wait and --admin URL: it reads where each chunk is once its task ended, through the admin API")}
	case o.DryRun && (so.Wait || o.Verify):
		return &UsageError{Err: errors.New("--dry-run creates no task: there is nothing to --wait for or --verify")}
	}
	pk, err := f.promptChunkKeys(ctx, so, in, args)
	if err != nil {
		return err
	}
	s, err := f.openMasterSession(ctx, b, "lmc "+op)
	if err != nil {
		return err
	}
	defer s.close()
	r := &taskRun{f: f, s: s, fm: fm, o: o, so: so, v: masterTaskOpView{Operation: op, Master: s.addr, Admin: s.admURL, Tenant: s.tenant,
		Target: o.To, Source: o.From, Waited: so.Wait, Chunks: make([]taskChunkView, len(pk.Keys))}}
	r.pk = pk
	if pk.Res == nil {
		r.v.Engine = pk.Engine
	}
	for i, k := range pk.Keys {
		r.v.Chunks[i] = taskChunkView{Chunk: k.Chunk, Start: k.Start, End: k.End, Rank: k.Rank, Owners: k.Owners, Key: k.Key, Source: o.From}
	}
	if len(pk.Keys) == 0 {
		r.v.Warning = pk.shortPrompt()
		return r.write(nil)
	}
	if err := r.checkSegments(ctx); err != nil {
		return err
	}
	if s.adm != nil {
		if err := r.plan(ctx); err != nil {
			return err
		}
	}
	if o.DryRun {
		// The checks and the plan above are the real run's; only the
		// tasks are not created.
		r.v.DryRun = true
		would := taskWouldMove
		if o.Copy {
			would = taskWouldCopy
		}
		for i := range r.v.Chunks {
			if r.v.Chunks[i].State == "" {
				r.v.Chunks[i].State = would
			}
		}
		return r.write(nil)
	}
	if err := r.create(ctx); err != nil {
		return err
	}
	if len(r.tracked) == 0 {
		return r.write(nil)
	}
	timedOut, err := s.pollTasks(ctx, r.tracked, so.Wait, f.waitDeadline(), so.Interval)
	if err != nil {
		if ctx.Err() != nil {
			s.printTaskIDs(r.tracked, "interrupted")
		}
		return err
	}
	r.v.TimedOut = timedOut
	r.settle()
	if o.Verify {
		if err := r.verify(ctx); err != nil {
			return err
		}
	}
	return r.write(nil)
}

// taskRun is one move or copy in progress.
type taskRun struct {
	f       *Factory
	s       *masterSession
	fm      printers.Format
	o       masterMoveOptions
	so      *storeOpFlags
	v       masterTaskOpView
	index   *mooncake.SegmentIndex
	pk      *promptKeys
	tracked []*trackedTask
	byChunk map[int]*trackedTask // chunk view index → its task
}

// checkSegments refuses an unknown or unusable --to (and an unknown
// --from) before any task exists: through the admin API's segment list
// when given (owner, status), else QuerySegmentStatus.
func (r *taskRun) checkSegments(ctx context.Context) error {
	s := r.s
	if s.adm != nil {
		cctx, cancel := s.call(ctx)
		segs, err := s.adm.SegmentList(cctx)
		cancel()
		if err != nil {
			return s.adminErr(ctx, err)
		}
		r.index = mooncake.NewSegmentIndex(segs)
		t, ok := r.index.Segment(r.o.To)
		if !ok {
			return unknownSegment("--to", r.o.To, segmentNames(segs))
		}
		if !t.Status.Allocatable() {
			return unusableSegment("--to", r.o.To, t.Status)
		}
		if r.o.From != "" {
			if _, ok := r.index.Segment(r.o.From); !ok {
				return unknownSegment("--from", r.o.From, segmentNames(segs))
			}
		}
		return nil
	}
	for _, fl := range [][2]string{{"--to", r.o.To}, {"--from", r.o.From}} {
		if fl[1] == "" {
			continue
		}
		st, err := watchedRPC(ctx, s, "QuerySegmentStatus", s.tenant, 0, func(ctx context.Context) (mooncake.SegmentStatus, error) {
			return s.c.QuerySegmentStatus(ctx, fl[1])
		})
		var oe *mooncake.OpError
		switch {
		case errors.As(err, &oe) && oe.Code == mooncake.CodeSegmentNotFound:
			return unknownSegment(fl[0], fl[1], nil)
		case err != nil:
			return s.rpcErr("QuerySegmentStatus", err)
		case fl[0] == "--to" && !st.Allocatable():
			return unusableSegment(fl[0], fl[1], st)
		}
	}
	return nil
}

// lookupChunks asks the admin API (no leases) about every chunk's key, in
// chunk order.
func (r *taskRun) lookupChunks(ctx context.Context) ([]mooncake.KeyQuery, error) {
	keys := make([]string, len(r.v.Chunks))
	for i, c := range r.v.Chunks {
		keys[i] = c.Key
	}
	return r.s.lookup(ctx, keys)
}

// plan looks the keys up through the admin API (no leases) and decides,
// per chunk, whether a task is needed and, for a move, its source.
func (r *taskRun) plan(ctx context.Context) error {
	qs, err := r.lookupChunks(ctx)
	if err != nil {
		return err
	}
	for i, q := range qs {
		c := &r.v.Chunks[i]
		st, why := keyState(q)
		switch st {
		case stateAbsent:
			c.State = taskAbsent
			continue
		case statePresent:
		default:
			c.State, c.Message = taskNotReady, strings.TrimSpace(st+" "+why)
			continue
		}
		segs := r.located(q)
		onTarget := slices.Contains(segs, r.o.To)
		switch {
		case r.o.Copy && onTarget:
			c.State, c.Message = taskInPlace, "already on "+r.o.To
		case r.o.Copy:
		case r.o.From != "" && !slices.Contains(segs, r.o.From):
			c.State, c.Message = taskNoSource, fmt.Sprintf("no memory replica on --from %s (it is on %s)", r.o.From, listOrNone(segs))
		case r.o.From != "":
		default:
			for _, sg := range segs {
				if sg != r.o.To {
					c.Source = sg
					break
				}
			}
			switch {
			case c.Source == "" && onTarget:
				c.State, c.Message = taskInPlace, "already on "+r.o.To+" only"
			case c.Source == "":
				c.State, c.Message = taskNoSource, "no memory replica on a segment the master lists: only memory replicas can be moved"
			}
		}
	}
	return nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "no known segment"
	}
	return strings.Join(s, ", ")
}

// located is the names of the segments holding q's memory replicas.
func (r *taskRun) located(q mooncake.KeyQuery) []string {
	var out []string
	for _, b := range append(append([]mooncake.BufferDescriptor(nil), q.Values...), q.NoFValues...) {
		if sg, ok := r.index.Locate(b); ok && !slices.Contains(out, sg.Name) {
			out = append(out, sg.Name)
		}
	}
	return out
}

// create asks the master for one task per chunk still needing one.
func (r *taskRun) create(ctx context.Context) error {
	s := r.s
	r.byChunk = map[int]*trackedTask{}
	method := mooncake.MethodCreateMoveTask.Name
	if r.o.Copy {
		method = mooncake.MethodCreateCopyTask.Name
	}
	for i := range r.v.Chunks {
		c := &r.v.Chunks[i]
		if c.State != "" {
			continue
		}
		cctx, cancel := s.call(ctx)
		start := time.Now()
		var id mooncake.UUID
		var err error
		if r.o.Copy {
			id, err = s.c.CreateCopyTask(cctx, c.Key, []string{r.o.To})
		} else {
			id, err = s.c.CreateMoveTask(cctx, c.Key, c.Source, r.o.To)
		}
		cancel()
		r.f.logRPC(method, s.addr, s.tenant, 1, start, err)
		var oe *mooncake.OpError
		switch {
		case err == nil:
			c.TaskID, c.State = id.String(), taskPending
			t := &trackedTask{id: id}
			r.tracked = append(r.tracked, t)
			r.byChunk[i] = t
		case errors.As(err, &oe) && oe.Code == mooncake.CodeObjectNotFound:
			c.State = taskAbsent
		case errors.As(err, &oe) && oe.Code == mooncake.CodeTenantNotRegistered && len(r.tracked) == 0:
			return &UsageError{Err: fmt.Errorf("--tenant %q: %s", s.tenant, oe.Reason)}
		case errors.As(err, &oe):
			c.State, c.Message = taskRefused, fmt.Sprintf("%s: %s", oe.Code, oe.Reason)
			if oe.Code == mooncake.CodeTaskPendingLimitExceeded {
				for j := i + 1; j < len(r.v.Chunks); j++ {
					if r.v.Chunks[j].State == "" {
						r.v.Chunks[j].State = taskNotCreated
					}
				}
				return nil
			}
		default:
			if ctx.Err() != nil {
				s.printTaskIDs(r.tracked, "interrupted")
				return ctx.Err()
			}
			s.printTaskIDs(r.tracked, "stopped by an error")
			return s.rpcErr(method, err)
		}
	}
	return nil
}

// settle copies the polled states into the chunks and counts them.
func (r *taskRun) settle() {
	v := &r.v
	v.Tasks = len(r.tracked)
	for i := range v.Chunks {
		t, ok := r.byChunk[i]
		if !ok {
			continue
		}
		c := &v.Chunks[i]
		c.State = t.state()
		if t.gone != "" {
			c.Message = "TASK_NOT_FOUND: " + t.gone
		}
		if t.task != nil {
			c.Message = t.task.Message
			c.AssignedClient = t.task.AssignedClient.String()
			c.Explanation = taskExplanation(*t.task)
		}
		switch c.State {
		case taskSuccess:
			v.Succeeded++
		case taskFailed, taskUnknown:
			v.Failed++
		case taskPending:
			v.Pending++
		case taskProcessing:
			v.Processing++
		}
	}
}

// verify reads where every chunk is now.
func (r *taskRun) verify(ctx context.Context) error {
	qs, err := r.lookupChunks(ctx)
	if err != nil {
		return err
	}
	bad := 0
	for i, q := range qs {
		c := &r.v.Chunks[i]
		c.Segments = r.located(q)
		if c.State != taskSuccess {
			continue
		}
		if !slices.Contains(c.Segments, r.o.To) || (!r.o.Copy && c.Source != "" && slices.Contains(c.Segments, c.Source)) {
			bad++
		}
	}
	if bad > 0 {
		r.v.Notes = append(r.v.Notes, fmt.Sprintf("verify: %s whose task succeeded %s not where the task put %s (moved or removed since, or the executor misreported)", iostreams.Plural(bad, "chunk"), isAre(bad), itThem(bad)))
		r.v.Failed += bad
	}
	return nil
}

// outcome is the exit of a move or copy: 1 unless every task was created
// and, with --wait, succeeded.
func (r *taskRun) outcome() error {
	v := &r.v
	n := map[string]int{}
	for _, c := range v.Chunks {
		n[c.State]++
	}
	var parts []string
	for _, st := range []string{taskRefused, taskNotCreated, taskFailed, taskUnknown} {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	if v.TimedOut {
		parts = append(parts, fmt.Sprintf("%d still pending or processing when the wait ended after %s", v.Pending+v.Processing, r.f.waitDeadline()))
	}
	if len(parts) == 0 {
		return nil
	}
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s to %s: %s", v.Operation, v.Target, strings.Join(parts, ", "))}
}

func (r *taskRun) write(exit error) error {
	v := &r.v
	if exit == nil {
		exit = r.outcome()
	}
	worked := v.Tasks > 0
	for _, c := range v.Chunks {
		worked = worked || c.State == taskInPlace || c.State == taskWouldMove || c.State == taskWouldCopy
	}
	if !worked && len(v.Chunks) > 0 && v.Warning == "" {
		v.Warning = "no task was created: none of the prompt's chunks needed one (absent, not ready or in place; wrong key flags? 'lmc lookup --admin URL' shows where they are)"
	}
	if len(r.tracked) > 0 && !v.Waited && r.fm != printers.JSON && r.f.IOStreams.ShowHints() {
		ids := make([]string, len(r.tracked))
		for i, t := range r.tracked {
			ids[i] = t.id.String()
		}
		fmt.Fprintf(r.f.IOStreams.ErrOut, "poll them: lmc task get --master %s --wait %s\n", r.s.addr, strings.Join(limitList(ids, 4), " "))
	}
	var err error
	switch r.fm {
	case printers.JSON:
		err = printers.WriteJSON(r.f.Out(), v)
	case printers.Plain:
		rows := make([][]string, len(v.Chunks))
		for i, c := range v.Chunks {
			rows[i] = []string{c.Key, c.TaskID, c.State}
		}
		err = printers.WritePlain(r.f.Out(), rows)
		if v.Warning != "" {
			warn(r.f.IOStreams, []string{v.Warning}) // the table shows it; plain rows cannot
		}
	default:
		err = r.writeTable()
	}
	if err != nil {
		return err
	}
	return exit
}

func (r *taskRun) writeTable() error {
	v := &r.v
	f := r.f
	st := f.IOStreams.Styles()
	var b strings.Builder
	verb := map[string]string{"move": "moved", "copy": "copied"}[v.Operation]
	word := "chunk"
	if r.pk != nil && r.pk.Res == nil {
		word = "object" // SGLang's and vLLM's per-rank objects
	}
	switch {
	case v.DryRun:
		n := 0
		for _, c := range v.Chunks {
			if c.State == taskWouldMove || c.State == taskWouldCopy {
				n++
			}
		}
		fmt.Fprintf(&b, "%s would create %s to %s %s to segment %s on Mooncake master %s; nothing was sent\n",
			st.Warn.Render("dry run:"), iostreams.Plural(n, "task"), v.Operation, iostreams.Plural(n, word), v.Target, v.Master)
	case v.Waited && v.Tasks > 0 && v.Succeeded == v.Tasks && !v.TimedOut:
		fmt.Fprintf(&b, "%s %s %s to segment %s on Mooncake master %s\n", st.Hit.Render("✓"), verb, iostreams.Plural(v.Succeeded, word), v.Target, v.Master)
	case v.Waited:
		fmt.Fprintf(&b, "%s %d of %s to segment %s succeeded (%d failed, %d pending, %d processing)\n", st.Warn.Render("!"), v.Succeeded, iostreams.Plural(v.Tasks, "task"), v.Target, v.Failed, v.Pending, v.Processing)
	default:
		fmt.Fprintf(&b, "%s to %s segment %s on Mooncake master %s: %d pending, %d processing, %d done; the storage client that owns each source segment executes them\n",
			iostreams.Plural(v.Tasks, "task")+" created", v.Operation+" "+word+"s to", v.Target, v.Master, v.Pending, v.Processing, v.Succeeded+v.Failed)
	}
	if _, err := io.WriteString(f.Out(), safetext.EscapeText(b.String())); err != nil {
		return err
	}
	b.Reset()
	rows := make([][]string, len(v.Chunks))
	for i, c := range v.Chunks {
		state := c.State
		switch c.State {
		case taskSuccess:
			state = st.Hit.Render(state)
		case taskFailed, taskUnknown, taskRefused, taskNotCreated:
			state = st.Miss.Render(state)
		case taskPending, taskProcessing, taskWouldMove, taskWouldCopy:
			state = st.Partial.Render(state)
		}
		rows[i] = []string{strconv.Itoa(c.Chunk), rankCell(c.Rank, c.Owners), c.Key, c.Source, c.TaskID, state, c.Message}
	}
	unit := "CHUNK"
	if r.pk != nil {
		unit = strings.ToUpper(r.pk.Unit)
	}
	if err := printers.WriteTable(f.Out(), styledHeader(st, []string{unit, "RANK", "KEY", "SOURCE", "TASK", "STATE", "MESSAGE"}), rows); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range v.Chunks {
		if c.Explanation != "" && !seen[c.State+c.Message] && c.State != taskSuccess {
			seen[c.State+c.Message] = true
			fmt.Fprintf(&b, "%s %s\n", st.Muted.Render(c.State+":"), c.Explanation)
		}
	}
	if v.Warning != "" {
		b.WriteString(st.Warn.Render("! "+v.Warning) + "\n")
	}
	for _, n := range v.Notes {
		b.WriteString(st.Muted.Render("note: "+n) + "\n")
	}
	_, err := io.WriteString(f.Out(), safetext.EscapeText(b.String()))
	return err
}

// taskView is one task of 'lmc task get'.
type taskView struct {
	ID             string     `json:"id"`
	Type           string     `json:"type,omitempty"`
	Status         string     `json:"status"`
	AssignedClient string     `json:"assigned_client,omitempty"`
	CreatedAt      *time.Time `json:"created_at,omitempty"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
	Message        string     `json:"message"`
	TimedOut       bool       `json:"timed_out,omitempty"`
	Explanation    string     `json:"explanation,omitempty"`
}

type taskGetView struct {
	Master   string     `json:"master"`
	Waited   bool       `json:"waited"`
	TimedOut bool       `json:"timed_out,omitempty"`
	Tasks    []taskView `json:"tasks"`
}

// taskGetHelp is task get's help.
const taskGetHelp = `Show the state of copy and move tasks by id (the "first-second" decimal form
lmc prints and the admin API uses), as QueryTask answers: type, status
(PENDING, PROCESSING, SUCCESS, FAILED), the storage client it is assigned to,
when it was created and last changed (the master's clock), the executor's
message, and what the state means. QueryTask grants and changes nothing.

` + taskHelp + `

--wait polls until every task is SUCCESS or FAILED (--interval between polls,
--timeout bounds the whole wait, default 6m).

JSON: {"master", "waited", "timed_out", "tasks": [{"id", "type", "status",
"assigned_client", "created_at", "updated_at", "message", "timed_out",
"explanation"}]}; an id the master does not know has status "NOT_FOUND".

Exit codes: 0 when every task was found and none failed (with --wait: every
one succeeded); 1 when one is unknown (TASK_NOT_FOUND), failed, or still
running when the wait ended; 2 for a malformed id.`

// taskGet runs 'lmc task get'.
func (f *Factory) taskGet(ctx context.Context, ids []string, master string, wait bool, interval time.Duration) error {
	fm, err := f.outputFormat(opFormats)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return &UsageError{Err: errors.New("give at least one task id (lmc move and lmc copy print them)")}
	}
	var ts []*trackedTask
	for _, a := range ids {
		id, err := mooncake.ParseUUID(a)
		if err != nil || id.IsZero() {
			return &UsageError{Err: fmt.Errorf("task id %q: expected the first-second decimal form lmc and the admin API print, e.g. 10971784596555783144-2699041741391910536", a)}
		}
		ts = append(ts, &trackedTask{id: id})
	}
	s, err := f.openMasterSession(ctx, &BackendFlags{Master: master, Tenant: mooncake.DefaultTenant}, "lmc task get")
	if err != nil {
		return err
	}
	defer s.close()
	timedOut, err := s.pollTasks(ctx, ts, wait, f.waitDeadline(), interval)
	if err != nil {
		return err
	}
	v := taskGetView{Master: s.addr, Waited: wait, TimedOut: timedOut, Tasks: make([]taskView, len(ts))}
	failed, running := 0, 0
	for i, t := range ts {
		tv := taskView{ID: t.id.String()}
		if t.gone != "" {
			tv.Status, tv.Explanation = "NOT_FOUND", "TASK_NOT_FOUND: "+t.gone
			failed++
		} else if t.task != nil {
			tk := *t.task
			c, u := tk.CreatedAt.UTC(), tk.UpdatedAt.UTC()
			tv.Type, tv.Status, tv.AssignedClient, tv.CreatedAt, tv.UpdatedAt, tv.Message = tk.Type.String(), tk.Status.String(), tk.AssignedClient.String(), &c, &u, tk.Message
			tv.TimedOut, tv.Explanation = tk.TimedOut(), taskExplanation(tk)
			switch {
			case tk.Status == mooncake.TaskFailed:
				failed++
			case !tk.Status.Done():
				running++
			}
		}
		v.Tasks[i] = tv
	}
	if err := writeTaskGet(f, fm, v); err != nil {
		return err
	}
	switch {
	case failed > 0:
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%d of %s failed or unknown to the master", failed, iostreams.Plural(len(ts), "task"))}
	case timedOut:
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s still pending or processing when the wait ended after %s", iostreams.Plural(running, "task"), f.waitDeadline())}
	}
	return nil
}

func writeTaskGet(f *Factory, fm printers.Format, v taskGetView) error {
	switch fm {
	case printers.JSON:
		return printers.WriteJSON(f.Out(), v)
	case printers.Plain:
		rows := make([][]string, len(v.Tasks))
		for i, t := range v.Tasks {
			rows[i] = []string{t.ID, t.Status, t.Message}
		}
		return printers.WritePlain(f.Out(), rows)
	}
	st := f.IOStreams.Styles()
	rows := make([][]string, len(v.Tasks))
	for i, t := range v.Tasks {
		age := ""
		if t.UpdatedAt != nil {
			age = time.Since(*t.UpdatedAt).Round(time.Second).String() + " ago"
		}
		rows[i] = []string{t.ID, t.Type, t.Status, t.AssignedClient, age, t.Message}
	}
	if err := printers.WriteTable(f.Out(), styledHeader(st, []string{"TASK", "TYPE", "STATUS", "ASSIGNED CLIENT", "UPDATED", "MESSAGE"}), rows); err != nil {
		return err
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, t := range v.Tasks {
		if t.Explanation != "" && !seen[t.Status+t.Message] {
			seen[t.Status+t.Message] = true
			fmt.Fprintf(&b, "%s %s\n", st.Muted.Render(t.Status+":"), t.Explanation)
		}
	}
	_, err := io.WriteString(f.Out(), safetext.EscapeText(b.String()))
	return err
}
