package sandboxmaster

import (
	"fmt"
	"slices"
	"time"

	mc "lmc/internal/mooncake"
)

// The task manager and the replication bookkeeping of master_service.cpp
// (mooncake-ops.md §4), and the storage-client executor WithExecuteTasks
// plays. Time only moves when a request arrives (sweep), so every due event
// between two requests (cleanup passes, fetches, completions, releases) is
// replayed in time order at the time it was due, which keeps an injected
// clock that jumps minutes ahead faithful.

type task struct {
	id       mc.UUID
	typ      mc.TaskType
	status   mc.TaskStatus
	created  time.Time
	updated  time.Time
	assigned mc.UUID
	message  string
	key      string
	source   string
	targets  []string // one for a move

	executing bool      // the executor holds an open replication for it
	doneAt    time.Time // when the executor ends it
}

// replication is the per-object replication task of CopyStart/MoveStart.
type replication struct {
	move    bool
	client  mc.UUID
	source  *replica
	targets []*replica // newly allocated, PROCESSING until End
	opened  time.Time
}

// abandoned is a replication whose executor died before its End: the
// master undoes it on the first release pass after the release timeout.
type abandoned struct {
	key string
	obj *object
	rp  *replication
}

// discard is a moved-away source replica whose space is released later.
type discard struct {
	seg mc.UUID
	off uint64
	at  time.Time
}

type opsState struct {
	started     bool
	tasks       map[mc.UUID]*task
	live        []*task   // unfinished or being executed, in creation order
	history     []mc.UUID // finished tasks, oldest first
	pending     int
	passZero    time.Time // cleanup and release passes count from here
	lastCleanup time.Time
	lastRelease time.Time
	discards    []discard
	abandoned   []abandoned
}

func (st *store) opsInit() *opsState {
	o := &st.ops
	if !o.started {
		now := st.now()
		*o = opsState{started: true, tasks: map[mc.UUID]*task{}, passZero: now, lastCleanup: now, lastRelease: now}
	}
	return o
}

// nextPass returns the first pass time (passZero + k*every) strictly after
// both after and last.
func nextPass(zero, last, after time.Time, every time.Duration) time.Time {
	if after.Before(last) {
		after = last
	}
	k := after.Sub(zero)/every + 1
	return zero.Add(k * every)
}

// sweepOps replays every event due up to now.
func (st *store) sweepOps() {
	o := st.opsInit()
	cfg := &st.cfg.ops
	now := st.now()
	for {
		var at time.Time
		var apply func()
		consider := func(t time.Time, f func()) {
			if !t.After(now) && (apply == nil || t.Before(at)) {
				at, apply = t, f
			}
		}
		if cfg.cleanupEvery > 0 {
			if t, ok := st.nextUsefulCleanup(); ok {
				consider(t, func() { st.cleanupPass(t) })
			}
		}
		if cfg.releaseAfter > 0 {
			for _, d := range o.discards {
				t := nextPass(o.passZero, o.lastRelease, d.at.Add(cfg.releaseAfter), cfg.releaseAfter)
				consider(t, func() { st.releasePass(t) })
			}
			for _, a := range o.abandoned {
				t := nextPass(o.passZero, o.lastRelease, a.rp.opened.Add(cfg.releaseAfter), cfg.releaseAfter)
				consider(t, func() { st.releasePass(t) })
			}
		}
		if cfg.execute {
			for _, t := range o.live {
				switch {
				case t.status == mc.TaskPending && st.clients[t.assigned] != nil:
					due := t.created.Add(cfg.fetchAfter)
					consider(due, func() { st.fetchTask(t, due) })
				case t.executing:
					consider(t.doneAt, func() { st.endTask(t, t.doneAt) })
				}
			}
		}
		if apply == nil {
			return
		}
		apply()
	}
}

// nextUsefulCleanup is the first cleanup pass that changes something: a
// pending or processing task past its timeout, or too many finished tasks.
// Passes in between are no-ops and are skipped.
func (st *store) nextUsefulCleanup() (time.Time, bool) {
	o, cfg := &st.ops, &st.cfg.ops
	var best time.Time
	found := false
	take := func(t time.Time) {
		if !found || t.Before(best) {
			best, found = t, true
		}
	}
	if len(o.history) > cfg.maxFinished {
		take(nextPass(o.passZero, o.lastCleanup, o.lastCleanup, cfg.cleanupEvery))
	}
	for _, t := range o.live {
		switch {
		case t.status == mc.TaskPending && cfg.pendingTimeout > 0:
			take(nextPass(o.passZero, o.lastCleanup, t.created.Add(cfg.pendingTimeout), cfg.cleanupEvery))
		case t.status == mc.TaskProcessing && cfg.processingTimeout > 0:
			take(nextPass(o.passZero, o.lastCleanup, t.updated.Add(cfg.processingTimeout), cfg.cleanupEvery))
		}
	}
	return best, found
}

// cleanupPass is prune_expired_tasks then prune_finished_tasks at time at.
func (st *store) cleanupPass(at time.Time) {
	o, cfg := &st.ops, &st.cfg.ops
	o.lastCleanup = at
	for _, t := range slices.Clone(o.live) {
		switch {
		case t.status == mc.TaskPending && cfg.pendingTimeout > 0 && at.Sub(t.created) > cfg.pendingTimeout:
			o.pending--
			st.finishTask(t, at, mc.TaskFailed, mc.TaskMessagePendingTimeout)
		case t.status == mc.TaskProcessing && cfg.processingTimeout > 0 && at.Sub(t.updated) > cfg.processingTimeout:
			st.finishTask(t, at, mc.TaskFailed, mc.TaskMessageProcessingTimeout)
		}
	}
	for len(o.history) > cfg.maxFinished {
		delete(o.tasks, o.history[0])
		o.history = o.history[1:]
	}
}

// releasePass frees the moved-away sources older than the release timeout.
func (st *store) releasePass(at time.Time) {
	o := &st.ops
	o.lastRelease = at
	o.discards = slices.DeleteFunc(o.discards, func(d discard) bool {
		if at.Sub(d.at) < st.cfg.ops.releaseAfter {
			return false
		}
		if s := st.segments[d.seg]; s != nil {
			s.free(d.off)
		}
		return true
	})
	o.abandoned = slices.DeleteFunc(o.abandoned, func(a abandoned) bool {
		if at.Sub(a.rp.opened) < st.cfg.ops.releaseAfter {
			return false
		}
		if a.obj.repl == a.rp { // the revoke the dead client never sent
			st.revoke(a.key, a.obj)
		}
		return true
	})
}

// revoke undoes an open replication: its new targets are dropped.
func (st *store) revoke(key string, o *object) {
	rp := o.repl
	o.repl = nil
	o.replicas = slices.DeleteFunc(o.replicas, func(r *replica) bool {
		if slices.Contains(rp.targets, r) {
			if s := st.segments[r.seg]; s != nil {
				s.free(r.off)
			}
			return true
		}
		return false
	})
	if len(o.replicas) == 0 && st.objects[key] == o {
		delete(st.objects, key)
	}
}

// finishTask is MarkTaskToComplete (or a timeout): a finished task never
// changes again.
func (st *store) finishTask(t *task, at time.Time, status mc.TaskStatus, msg string) {
	if t.status.Done() {
		return
	}
	t.status, t.updated, t.message = status, at, msg
	st.ops.history = append(st.ops.history, t.id)
	st.dropLive(t)
}

// dropLive forgets a task once it is finished and its executor is done
// with it.
func (st *store) dropLive(t *task) {
	if !t.status.Done() || t.executing {
		return
	}
	st.ops.live = slices.DeleteFunc(st.ops.live, func(x *task) bool { return x == t })
}

// failMessage is what Mooncake's client writes for a failed task.
func (st *store) failMessage(code mc.ErrorCode) string {
	return fmt.Sprintf("%s (max retries reached: %d)", code.String(), st.cfg.ops.retries)
}

// fetchTask is the assigned client's FetchTasks then CopyStart/MoveStart.
func (st *store) fetchTask(t *task, at time.Time) {
	st.ops.pending--
	t.status, t.updated = mc.TaskProcessing, at
	var code mc.ErrorCode
	if t.typ == mc.TaskReplicaMove {
		code = st.moveStart(t.assigned, t.key, t.source, t.targets[0], at)
	} else {
		code = st.copyStart(t.assigned, t.key, t.source, t.targets, at)
	}
	if code != mc.CodeOK {
		st.finishTask(t, at, mc.TaskFailed, st.failMessage(code))
		return
	}
	t.executing, t.doneAt = true, at.Add(st.cfg.ops.runFor)
}

// endTask is CopyEnd/MoveEnd then MarkTaskToComplete. The End commits even
// when the task already failed with "processing timeout" (the master does
// not stop a client that is still working); the completion is then ignored.
func (st *store) endTask(t *task, at time.Time) {
	t.executing = false
	if st.clients[t.assigned] == nil {
		// The executor died mid-transfer: no End, no completion. The task
		// times out; the replication is undone after the release timeout.
		if o := st.objects[t.key]; o != nil && o.repl != nil && o.repl.client == t.assigned {
			st.ops.abandoned = append(st.ops.abandoned, abandoned{t.key, o, o.repl})
		}
		st.dropLive(t)
		return
	}
	code := st.replicationEnd(t.assigned, t.key, t.typ == mc.TaskReplicaMove, at)
	if code == mc.CodeOK {
		st.finishTask(t, at, mc.TaskSuccess, mc.TaskMessageSucceeded)
	} else {
		st.finishTask(t, at, mc.TaskFailed, st.failMessage(code))
	}
	st.dropLive(t)
}

func (st *store) segmentByName(name string) *segment {
	var best *segment
	for _, s := range st.segments {
		if s.seg.Name == name && (best == nil || s.seg.ID.First < best.seg.ID.First) {
			best = s
		}
	}
	return best
}

// replicaOn returns o's memory replica on the segment named name.
func (st *store) replicaOn(o *object, name string) *replica {
	for _, r := range o.replicas {
		if r.disk {
			continue
		}
		if s := st.segments[r.seg]; s != nil && s.seg.Name == name {
			return r
		}
	}
	return nil
}

// replicaSegmentNames is ObjectMetadata::GetReplicaSegmentNames: the
// segments of o's memory replicas, whatever their status.
func (st *store) replicaSegmentNames(o *object) []string {
	var out []string
	for _, r := range o.replicas {
		if s := st.segments[r.seg]; !r.disk && s != nil {
			out = append(out, s.seg.Name)
		}
	}
	return out
}

func (st *store) valid(o *object) bool { return o != nil && o.size > 0 && len(o.replicas) > 0 }

// allocateOn allocates a PROCESSING replica of o on s.
func (st *store) allocateOn(o *object, s *segment) (*replica, bool) {
	off, ok := s.allocate(o.size)
	if !ok {
		return nil, false
	}
	r := &replica{id: st.nextRepID, seg: s.seg.ID, off: off, size: o.size, status: mc.ReplicaProcessing}
	st.nextRepID++
	return r, true
}

// target checks a segment named as the destination of new replicas:
// missing is the code when there is none (the master's paths differ), and
// it must take new replicas.
func (st *store) target(name string, missing mc.ErrorCode) (*segment, mc.ErrorCode) {
	s := st.segmentByName(name)
	if s == nil {
		return nil, missing
	}
	if !s.status.Allocatable() {
		return nil, mc.CodeUnavailableInCurrentStatus
	}
	return s, mc.CodeOK
}

// replicationSource checks that key can be replicated from source: a
// valid object with no replication in progress and a COMPLETE replica on
// source.
func (st *store) replicationSource(key, source string) (*object, *replica, mc.ErrorCode) {
	o := st.objects[key]
	if !st.valid(o) {
		return nil, nil, mc.CodeObjectNotFound
	}
	if o.repl != nil {
		return nil, nil, mc.CodeObjectHasReplicationTask
	}
	src := st.replicaOn(o, source)
	if src == nil || src.status != mc.ReplicaComplete {
		return nil, nil, mc.CodeReplicaNotFound
	}
	return o, src, mc.CodeOK
}

// copyStart is MasterService::CopyStart (§4.3), in its order of checks.
func (st *store) copyStart(client mc.UUID, key, source string, targets []string, at time.Time) mc.ErrorCode {
	for _, name := range targets {
		if _, code := st.target(name, mc.CodeSegmentNotFound); code != mc.CodeOK {
			return code
		}
	}
	o, src, code := st.replicationSource(key, source)
	if code != mc.CodeOK {
		return code
	}
	var fresh []*replica
	for _, name := range targets {
		if st.replicaOn(o, name) != nil {
			continue // already there: nothing to copy
		}
		r, ok := st.allocateOn(o, st.segmentByName(name))
		if !ok {
			for _, f := range fresh {
				st.segments[f.seg].free(f.off)
			}
			return mc.CodeNoAvailableHandle
		}
		fresh = append(fresh, r)
	}
	o.replicas = append(o.replicas, fresh...)
	o.repl = &replication{client: client, source: src, targets: fresh, opened: at}
	return mc.CodeOK
}

// moveStart is MasterService::MoveStart.
func (st *store) moveStart(client mc.UUID, key, source, target string, at time.Time) mc.ErrorCode {
	if source == target {
		return mc.CodeInvalidParams
	}
	s, code := st.target(target, mc.CodeSegmentNotFound)
	if code != mc.CodeOK {
		return code
	}
	o, src, code := st.replicationSource(key, source)
	if code != mc.CodeOK {
		return code
	}
	var fresh []*replica
	if st.replicaOn(o, target) == nil {
		r, ok := st.allocateOn(o, s)
		if !ok {
			return mc.CodeNoAvailableHandle
		}
		fresh = append(fresh, r)
	}
	o.replicas = append(o.replicas, fresh...)
	o.repl = &replication{move: true, client: client, source: src, targets: fresh, opened: at}
	return mc.CodeOK
}

// replicationEnd is CopyEnd/MoveEnd: targets become COMPLETE; a move drops
// its source, whose space is released after the release timeout. If the
// source or a target vanished meanwhile (its segment was unmounted) the
// replication is undone and REPLICA_IS_GONE returned.
func (st *store) replicationEnd(client mc.UUID, key string, move bool, at time.Time) mc.ErrorCode {
	o := st.objects[key]
	if !st.valid(o) {
		return mc.CodeObjectNotFound
	}
	rp := o.repl
	switch {
	case rp == nil:
		return mc.CodeObjectNoReplicationTask
	case rp.client != client:
		return mc.CodeIllegalClient
	case rp.move != move:
		return mc.CodeInvalidParams
	}
	has := func(r *replica) bool { return slices.Contains(o.replicas, r) }
	gone := !has(rp.source) || rp.source.status != mc.ReplicaComplete
	for _, r := range rp.targets {
		gone = gone || !has(r)
	}
	if gone {
		st.revoke(key, o)
		return mc.CodeReplicaIsGone
	}
	for _, r := range rp.targets {
		r.status = mc.ReplicaComplete
	}
	if move {
		o.replicas = slices.DeleteFunc(o.replicas, func(r *replica) bool { return r == rp.source })
		st.ops.discards = append(st.ops.discards, discard{seg: rp.source.seg, off: rp.source.off, at: at})
	}
	o.repl = nil
	return mc.CodeOK
}

// createTask is TaskManager::submit_task.
func (st *store) createTask(typ mc.TaskType, assigned mc.UUID, key, source string, targets []string) (mc.UUID, mc.ErrorCode) {
	o, cfg := st.opsInit(), &st.cfg.ops
	if o.pending >= cfg.maxPending {
		return mc.UUID{}, mc.CodeTaskPendingLimitExceeded
	}
	gen := cfg.newTaskID
	if gen == nil {
		gen = mc.NewUUID
	}
	id := gen()
	for o.tasks[id] != nil || id.IsZero() {
		id = mc.NewUUID()
	}
	now := st.now()
	t := &task{id: id, typ: typ, status: mc.TaskPending, created: now, updated: now, assigned: assigned,
		key: key, source: source, targets: slices.Clone(targets)}
	o.tasks[id] = t
	o.live = append(o.live, t)
	o.pending++
	return id, mc.CodeOK
}

// createCopyTask is MasterService::CreateCopyTask (§4.2). The master picks
// the source at random among the key's segments; the sandbox picks the
// first, so runs are reproducible.
func (st *store) createCopyTask(key string, targets []string) (mc.UUID, mc.ErrorCode) {
	if len(targets) == 0 {
		return mc.UUID{}, mc.CodeInvalidParams
	}
	o := st.objects[key]
	if !st.valid(o) {
		return mc.UUID{}, mc.CodeObjectNotFound
	}
	for _, name := range targets {
		if _, code := st.target(name, mc.CodeInvalidParams); code != mc.CodeOK {
			return mc.UUID{}, code
		}
	}
	names := st.replicaSegmentNames(o)
	if len(names) == 0 {
		return mc.UUID{}, mc.CodeInternalError
	}
	src := st.segmentByName(names[0])
	return st.createTask(mc.TaskReplicaCopy, src.owner, key, names[0], targets)
}

// createMoveTask is MasterService::CreateMoveTask (§4.2).
func (st *store) createMoveTask(key, source, target string) (mc.UUID, mc.ErrorCode) {
	o := st.objects[key]
	if !st.valid(o) {
		return mc.UUID{}, mc.CodeObjectNotFound
	}
	if source == target {
		return mc.UUID{}, mc.CodeInvalidParams
	}
	if _, code := st.target(target, mc.CodeInvalidParams); code != mc.CodeOK {
		return mc.UUID{}, code
	}
	if !slices.Contains(st.replicaSegmentNames(o), source) {
		return mc.UUID{}, mc.CodeInvalidParams
	}
	return st.createTask(mc.TaskReplicaMove, st.segmentByName(source).owner, key, source, []string{target})
}

// queryTask is MasterService::QueryTask.
func (st *store) queryTask(id mc.UUID) (mc.Task, mc.ErrorCode) {
	t := st.opsInit().tasks[id]
	if t == nil {
		return mc.Task{}, mc.CodeTaskNotFound
	}
	return mc.Task{ID: t.id, Type: t.typ, Status: t.status, CreatedAt: t.created, UpdatedAt: t.updated,
		AssignedClient: t.assigned, Message: t.message}, mc.CodeOK
}
