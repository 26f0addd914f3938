package sandboxmaster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	mc "lmc/internal/mooncake"
)

// The master's store operations (mooncake-ops.md §2-§5), over the same
// store as the put path. Like a master without --enable_multi_tenants, the
// sandbox ignores tenant strings (RemoveAll's "" and "default" both clear
// the one tenant). The storage-client half of tasks (FetchTasks,
// MarkTaskToComplete, CopyStart/MoveStart/End/Revoke) and PollRemoveAll are
// not served (errc 11): the sandbox executes tasks itself with
// WithExecuteTasks.
//
// Removal follows MasterService::Remove (§2): absent -> OBJECT_NOT_FOUND;
// leased and not forced -> OBJECT_HAS_LEASE; a replica not COMPLETE (a put,
// or a copy/move that allocated a target) -> REPLICA_IS_NOT_READY; an open
// replication -> OBJECT_HAS_REPLICATION_TASK. Pins have no effect.
// RemoveByRegex and RemoveAll skip such keys silently.
//
// RemoveByRegex matches with mooncake.CompileKeyRegexp, which reproduces
// libstdc++'s std::regex ECMAScript search; patterns it refuses as
// unsupported (lookahead, back-references, ...) are answered with
// INVALID_PARAMS here, where the real master would run them. That is the
// one deliberate difference: refuse rather than match differently.

// opsMethods lists the RPCs of this file (a function, not a var: its values
// come from another package, so a var would be built at start-up).
func opsMethods() []mc.Method {
	return []mc.Method{
		mc.MethodBatchRemove, mc.MethodRemoveByRegex,
		mc.MethodCreateCopyTask, mc.MethodCreateMoveTask, mc.MethodQueryTask,
		mc.MethodQuerySegmentStatus, mc.MethodQuerySegmentStatusByID, mc.MethodBatchQueryIP,
	}
}

// decodeOpsRPC reads the arguments of an RPC of opsMethods from d and
// returns the operation (see decodeRPC); s.mu is held when it runs.
func (s *Server) decodeOpsRPC(m mc.Method, d *mc.Decoder, forced mc.ErrorCode) func() []byte {
	st := s.st
	or := func(c mc.ErrorCode) mc.ErrorCode { return orForced(forced, c) }
	newTask := func(op func() (mc.UUID, mc.ErrorCode)) func() []byte {
		return func() []byte {
			id, code := unlessForced(forced, op)
			return s.expectedBody(m.Result, code, func(e *mc.Encoder) { e.UUID(id) })
		}
	}
	switch m.ID {
	case mc.MethodBatchRemove.ID:
		keys, force := d.Strings(), d.Bool()
		d.Str() // tenant
		return func() []byte {
			codes := make([]mc.ErrorCode, len(keys))
			for i, k := range keys {
				codes[i] = or(st.remove(k, force))
			}
			return s.expectedList(m.Result, len(codes), func(i int) (mc.ErrorCode, func(*mc.Encoder)) { return codes[i], nil })
		}

	case mc.MethodRemoveByRegex.ID:
		pattern, force := d.Str(), d.Bool()
		d.Str()
		return func() []byte {
			n, code := unlessForced(forced, func() (int64, mc.ErrorCode) { return st.removeByRegex(pattern, force) })
			return s.expectedBody(m.Result, code, func(e *mc.Encoder) { e.I64(n) })
		}

	case mc.MethodCreateCopyTask.ID:
		key := d.Str()
		d.Str()
		targets := d.Strings()
		return newTask(func() (mc.UUID, mc.ErrorCode) { return st.createCopyTask(key, targets) })

	case mc.MethodCreateMoveTask.ID:
		key := d.Str()
		d.Str()
		source, target := d.Str(), d.Str()
		return newTask(func() (mc.UUID, mc.ErrorCode) { return st.createMoveTask(key, source, target) })

	case mc.MethodQueryTask.ID:
		id := d.UUID()
		return func() []byte {
			t, code := st.queryTask(id)
			return s.expectedBody(m.Result, or(code), func(e *mc.Encoder) { e.Task(t) })
		}

	case mc.MethodQuerySegmentStatus.ID, mc.MethodQuerySegmentStatusByID.ID:
		var name string
		var id mc.UUID
		byName := m.ID == mc.MethodQuerySegmentStatus.ID
		if byName {
			name = d.Str()
		} else {
			id = d.UUID()
		}
		return func() []byte {
			var seg *segment
			if byName {
				seg = st.segmentByName(name)
			} else {
				seg = st.segments[id]
			}
			code := mc.CodeOK
			if seg == nil {
				code = mc.CodeSegmentNotFound
			}
			return s.expectedBody(m.Result, or(code), func(e *mc.Encoder) { e.I32(int32(seg.status)) })
		}

	case mc.MethodBatchQueryIP.ID:
		n := d.Len(16)
		ids := make([]mc.UUID, 0, n)
		for i := 0; i < n && d.Err() == nil; i++ {
			ids = append(ids, d.UUID())
		}
		return func() []byte {
			res := st.batchQueryIP(ids)
			return s.expectedBody(m.Result, or(mc.CodeOK), func(e *mc.Encoder) {
				e.Len(len(res))
				for _, r := range res {
					e.UUID(r.id)
					e.Strings(r.ips)
				}
			})
		}
	}
	return nil
}

// removeByRegex is MasterService::RemoveByRegex.
func (st *store) removeByRegex(pattern string, force bool) (int64, mc.ErrorCode) {
	re, err := mc.CompileKeyRegexp(pattern)
	if err != nil {
		return 0, mc.CodeInvalidParams
	}
	now := st.now()
	var n int64
	for k, o := range st.objects {
		if !st.valid(o) || !re.MatchKey(k) {
			continue
		}
		if (!force && now.Before(o.leaseUntil)) || !o.complete() || o.repl != nil {
			continue // skipped without trace
		}
		st.freeObject(o)
		n++
	}
	return n, mc.CodeOK
}

type clientIPs struct {
	id  mc.UUID
	ips []string
}

// batchQueryIP is MasterService::BatchQueryIp: each known client's distinct
// endpoint hosts; clients without segments are absent.
func (st *store) batchQueryIP(ids []mc.UUID) []clientIPs {
	var out []clientIPs
	seen := map[mc.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		hosts, any := map[string]bool{}, false
		for _, s := range st.segments {
			if s.owner != id {
				continue
			}
			any = true
			if s.seg.TEEndpoint != "" {
				hosts[hostOf(s.seg.TEEndpoint)] = true
			}
		}
		if !any {
			continue
		}
		ips := slices.Sorted(maps.Keys(hosts))
		out = append(out, clientIPs{id, ips})
	}
	return out
}

// hostOf is getHostNameWithoutPort: "[v6]:port" -> "v6", "host:port" ->
// "host", "host" -> "host".
func hostOf(ep string) string {
	if strings.HasPrefix(ep, "[") {
		if i := strings.Index(ep, "]"); i > 0 {
			return ep[1:i]
		}
	}
	if i := strings.LastIndexByte(ep, ':'); i >= 0 {
		return ep[:i]
	}
	return ep
}

// SetSegmentStatus puts the segment named name in status, as a drain job
// (DRAINING, then DRAINED once empty) or an unmount in progress would: only
// OK segments take new replicas (puts land elsewhere, copy and move targets
// there are refused with UNAVAILABLE_IN_CURRENT_STATUS), and a DRAINED
// segment cannot be mounted again. The real master reaches these states
// only through its drain-job and unmount paths, which the sandbox does not
// run; this sets them directly.
func (s *Server) SetSegmentStatus(name string, status mc.SegmentStatus) error {
	if !status.Known() || status == mc.SegmentUndefined {
		return fmt.Errorf("sandboxmaster: cannot set segment status %v", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := s.st.segmentByName(name)
	if seg == nil {
		return fmt.Errorf("sandboxmaster: no segment named %q", name)
	}
	seg.status = status
	return nil
}

// StartPuts begins puts of keys on the sandbox's nodes (as Populate, but
// only PutStart): until the writer's PutEnd, which never comes, the keys
// exist but are unreadable, and removal fails with REPLICA_IS_NOT_READY
// even when forced. Keys that already exist are left alone.
func (s *Server) StartPuts(ctx context.Context, keys []string, nodes ...Node) error {
	return s.populate(ctx, keys, false, nodes)
}

// TaskCount returns how many tasks the master remembers, and how many of
// them are pending.
func (s *Server) TaskCount() (all, pending int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep()
	o := s.st.opsInit()
	return len(o.tasks), o.pending
}

// ReplicaSegments returns the names of the segments holding key's memory
// replicas (COMPLETE or not), sorted, for tests and demos.
func (s *Server) ReplicaSegments(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep()
	o := s.st.objects[key]
	if o == nil {
		return nil
	}
	names := s.st.replicaSegmentNames(o)
	slices.Sort(names)
	return names
}
