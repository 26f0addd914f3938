package mooncake

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Replica copy and move tasks (mooncake-ops.md §4). An operator creates a
// task and polls it; the master assigns it to the storage client that owns
// the source segment, which fetches it (FetchTasks, every second), copies
// the bytes with its transfer engine (CopyStart/MoveStart ... End) and
// reports the outcome (MarkTaskToComplete). Nothing else executes a task:
// if that client is not running, the task stays PENDING and fails with
// "pending timeout" after --pending_task_timeout_sec (300 s by default,
// judged by a cleanup pass every 30 s). No RPC lists, cancels or re-assigns
// tasks, so keep the ids CreateCopyTask and CreateMoveTask return; the
// master keeps finished tasks until --max_total_finished_tasks (10000) newer
// ones have finished, and forgets all of them when it restarts.

// TaskType is Mooncake's TaskType (int enum).
type TaskType int32

// Task types.
const (
	TaskReplicaCopy TaskType = 0
	TaskReplicaMove TaskType = 1
)

func (t TaskType) String() string {
	return enumName(int64(t), "TaskType", "REPLICA_COPY", "REPLICA_MOVE")
}

// Known reports a value the master defines.
func (t TaskType) Known() bool { return t == TaskReplicaCopy || t == TaskReplicaMove }

// TaskStatus is Mooncake's TaskStatus (int enum).
type TaskStatus int32

// Task states: PENDING until the owning storage client fetches it,
// PROCESSING while it runs, then SUCCESS or FAILED.
const (
	TaskPending    TaskStatus = 0
	TaskProcessing TaskStatus = 1
	TaskFailed     TaskStatus = 2
	TaskSuccess    TaskStatus = 3
)

func (s TaskStatus) String() string {
	return enumName(int64(s), "TaskStatus", "PENDING", "PROCESSING", "FAILED", "SUCCESS")
}

// Known reports a value the master defines.
func (s TaskStatus) Known() bool { return s >= TaskPending && s <= TaskSuccess }

// Done reports a final state (SUCCESS or FAILED).
func (s TaskStatus) Done() bool { return s == TaskFailed || s == TaskSuccess }

// Messages the master itself writes into a task that timed out (§4.4).
const (
	TaskMessagePendingTimeout    = "pending timeout"
	TaskMessageProcessingTimeout = "processing timeout"
	// TaskMessageSucceeded is what Mooncake's storage client writes on
	// success; on failure it writes "<ERROR_NAME> (max retries reached: N)".
	TaskMessageSucceeded = "Task completed successfully"
)

// Task is QueryTaskResponse.
type Task struct {
	ID        UUID
	Type      TaskType
	Status    TaskStatus
	CreatedAt time.Time // the master's clock
	UpdatedAt time.Time // last state change (the fetch, the completion)
	// AssignedClient is the storage client that owns the source segment
	// and is expected to execute the task.
	AssignedClient UUID
	// Message is free text from the executor, or a timeout message.
	Message string
}

// TimedOut reports a task the master failed because nobody fetched it
// (pending timeout) or nobody finished it (processing timeout).
func (t Task) TimedOut() bool {
	return t.Status == TaskFailed && (t.Message == TaskMessagePendingTimeout || t.Message == TaskMessageProcessingTimeout)
}

// LitQueryTaskResponse (QueryTaskResponse, §1.1) and the task RPCs an
// operator calls (MethodCreateCopyTask, MethodCreateMoveTask,
// MethodQueryTask; §4.2) are in literals_gen.go.

// MaxTaskMessage bounds the executor's message accepted in a QueryTask
// reply. Mooncake's client writes a few dozen bytes.
const MaxTaskMessage = 64 << 10

// CreateCopyTask asks the master to have key copied to every segment in
// targets (segment names, as in the admin API's segment list) and returns
// the task id. The master picks the source at random among the segments
// holding the key; a target that already holds it is skipped. It validates
// only now (OpCodes("CreateCopyTask")): a task can still fail when run.
func (c *Client) CreateCopyTask(ctx context.Context, key string, targets []string) (UUID, error) {
	m := MethodCreateCopyTask
	return c.createTask(ctx, m, key, func(e *Encoder) {
		e.Str(key)
		e.Str(c.opts.tenant)
		e.Strings(targets)
	})
}

// CreateMoveTask asks the master to have key's replica on segment source
// moved to segment target and returns the task id. Validated only now
// (OpCodes("CreateMoveTask")); a second move of the same key is accepted
// and then fails with REPLICA_NOT_FOUND when run.
func (c *Client) CreateMoveTask(ctx context.Context, key, source, target string) (UUID, error) {
	m := MethodCreateMoveTask
	return c.createTask(ctx, m, key, func(e *Encoder) {
		e.Str(key)
		e.Str(c.opts.tenant)
		e.Str(source)
		e.Str(target)
	})
}

func (c *Client) createTask(ctx context.Context, m Method, key string, pack func(*Encoder)) (UUID, error) {
	d, err := c.callOp(ctx, m, opReplyBytes(m.Result, 1+16, 0), pack)
	if err != nil {
		return UUID{}, err
	}
	return decodeCreateTask(d, m, key)
}

func decodeCreateTask(d *Decoder, m Method, key string) (UUID, error) {
	if ok, err := opExpected(d, m.Name, key); !ok {
		return UUID{}, err
	}
	at := d.Offset()
	id := d.UUID()
	if err := finish(d, m.Name); err != nil {
		return UUID{}, err
	}
	if id.IsZero() {
		return UUID{}, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: m.Name + " reply carries the zero task id"}
	}
	return id, nil
}

// QueryTask returns the state of a task. It grants and changes nothing. An
// unknown or pruned id is an *OpError with TASK_NOT_FOUND.
func (c *Client) QueryTask(ctx context.Context, id UUID) (Task, error) {
	m := MethodQueryTask
	d, err := c.callOp(ctx, m, opReplyBytes(m.Result, 1+16+4+4+8+8+16+MaxTaskMessage, 1), func(e *Encoder) { e.UUID(id) })
	if err != nil {
		return Task{}, err
	}
	return decodeQueryTask(d, id)
}

func decodeQueryTask(d *Decoder, id UUID) (Task, error) {
	m := MethodQueryTask
	if ok, err := opExpected(d, m.Name, id.String()); !ok {
		return Task{}, err
	}
	at := d.Offset()
	t := d.Task()
	if err := finish(d, m.Name); err != nil {
		return Task{}, err
	}
	bad := func(off int, msg string) error {
		return &ProtocolError{Offset: ResponseHeaderSize + at + off, Msg: "QueryTask reply: " + msg}
	}
	switch {
	case t.ID != id:
		return Task{}, bad(0, fmt.Sprintf("task %s, asked for %s", t.ID, id))
	case !t.Type.Known():
		return Task{}, bad(16, fmt.Sprintf("unknown task type %d", int32(t.Type)))
	case !t.Status.Known():
		return Task{}, bad(20, fmt.Sprintf("unknown task status %d", int32(t.Status)))
	case len(t.Message) > MaxTaskMessage:
		return Task{}, bad(56, fmt.Sprintf("message of %d bytes", len(t.Message)))
	}
	return t, nil
}

// Task writes a QueryTaskResponse.
func (e *Encoder) Task(t Task) {
	e.UUID(t.ID)
	e.I32(int32(t.Type))
	e.I32(int32(t.Status))
	e.I64(t.CreatedAt.UnixMilli())
	e.I64(t.UpdatedAt.UnixMilli())
	e.UUID(t.AssignedClient)
	e.Str(t.Message)
}

// Task reads a QueryTaskResponse.
func (d *Decoder) Task() Task {
	return Task{ID: d.UUID(), Type: TaskType(d.I32()), Status: TaskStatus(d.I32()),
		CreatedAt: time.UnixMilli(d.I64()), UpdatedAt: time.UnixMilli(d.I64()),
		AssignedClient: d.UUID(), Message: d.Str()}
}

// ParseUUID parses the "first-second" decimal form Mooncake's logs and admin
// API use for ids (UUID.String), e.g. a task id printed by lmc.
func ParseUUID(s string) (UUID, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok || a == "" || b == "" || a[0] == '+' || b[0] == '+' {
		return UUID{}, fmt.Errorf("mooncake: %q is not a first-second id", s)
	}
	f, err1 := strconv.ParseUint(a, 10, 64)
	g, err2 := strconv.ParseUint(b, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return UUID{}, fmt.Errorf("mooncake: %q is not a first-second id of two decimal 64-bit numbers", s)
	}
	return UUID{f, g}, nil
}
