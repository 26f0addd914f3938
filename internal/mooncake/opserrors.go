package mooncake

import (
	"errors"
	"fmt"
	"strings"
)

// OpError is a Mooncake ErrorCode the master answered to a store operation
// (removal, task or segment call), with what that code means for that call:
// the same code means different things to different calls (INVALID_PARAMS
// from CreateMoveTask is an unknown target segment; from RemoveByRegex a
// pattern the master could not compile). errors.As reaches the
// *MasterError and errors.Is the ErrorCode, as for every other call.
type OpError struct {
	Op      string    // the RPC, e.g. "BatchRemove"
	Subject string    // the key, pattern, segment or task the call was about
	Code    ErrorCode // the master's code
	// Reason is what the code means for Op (OpReason), written for an
	// operator.
	Reason string
	master *MasterError
}

func newOpError(op, subject string, code ErrorCode) *OpError {
	return &OpError{Op: op, Subject: subject, Code: code, Reason: OpReason(op, code), master: NewMasterError(op, code)}
}

func (e *OpError) Error() string {
	subj := ""
	if e.Subject != "" {
		subj = fmt.Sprintf(" %q", e.Subject)
	}
	return fmt.Sprintf("mooncake: %s%s: %s (%d): %s", e.Op, subj, e.Code, int32(e.Code), e.Reason)
}

// Unwrap exposes the *MasterError.
func (e *OpError) Unwrap() error { return e.master }

// Forceable reports whether repeating the removal with force would get past
// this error: only a read lease (OBJECT_HAS_LEASE) yields to force.
func (e *OpError) Forceable() bool { return isRemoval(e.Op) && e.Code == CodeObjectHasLease }

// Busy reports whether the object is being written or replicated
// (REPLICA_IS_NOT_READY, OBJECT_HAS_REPLICATION_TASK on a removal): it
// cannot be removed, even with force, until that ends.
func (e *OpError) Busy() bool {
	return isRemoval(e.Op) && (e.Code == CodeReplicaIsNotReady || e.Code == CodeObjectHasReplicationTask)
}

func isRemoval(op string) bool {
	return op == MethodRemove.Name || op == MethodBatchRemove.Name
}

// OpCode is one ErrorCode a store operation can answer, and its meaning.
type OpCode struct {
	Code   ErrorCode
	Reason string
}

// Reasons shared by several calls.
const (
	reasonNotFound = "not in the store (never written, already removed or evicted; keys are per tenant)"
	reasonLease    = "read in the last lease period (--default_kv_lease_ttl, 10 s by default, granted by every exist check or replica lookup); kept. Retry once the lease ends, or force the removal (force overrides only the lease)"
	reasonWriting  = "being written (a put or upsert is in progress, or a copy or move is filling a new replica); it cannot be removed, even with force, until that finishes"
	reasonRepl     = "being copied or moved by a storage client (a replication is open on it); it cannot be removed, even with force, until the replication ends or is undone (--put_start_release_timeout_sec, 600 s by default)"
	reasonTenantRd = "the master runs with --enable_multi_tenants and rejected the tenant (it must not start with '_' or contain control bytes)"
	reasonTenantWr = "the master runs with --enable_multi_tenants and the tenant is not registered (the empty tenant is refused too)"
	reasonDraining = "a target segment is draining, drained or being unmounted: nothing can be allocated there"
	reasonPending  = "the master already holds --max_total_pending_tasks (10000 by default) pending tasks; wait for some to finish"
	reasonSegment  = "no segment of that name is mounted"
)

// opCodeTable lists, per call, the codes mooncake-ops.md reports for it (§2,
// §3, §4.2, §5.1), checked against master_service.cpp. It is a slice, not a
// map, so that it is static data (a map is built when the program starts).
var opCodeTable = []struct {
	op    string
	codes []OpCode
}{
	{"Remove", []OpCode{
		{CodeObjectNotFound, reasonNotFound},
		{CodeObjectHasLease, reasonLease},
		{CodeReplicaIsNotReady, reasonWriting},
		{CodeObjectHasReplicationTask, reasonRepl},
		{CodeInvalidParams, reasonTenantRd},
	}},
	{"BatchRemove", []OpCode{
		{CodeObjectNotFound, reasonNotFound + " (a key listed twice: the second entry)"},
		{CodeObjectHasLease, reasonLease},
		{CodeReplicaIsNotReady, reasonWriting},
		{CodeObjectHasReplicationTask, reasonRepl},
		{CodeInvalidParams, reasonTenantRd + " (every entry)"},
	}},
	{"RemoveByRegex", []OpCode{
		{CodeInvalidParams, "the master could not compile the pattern as an ECMAScript regex (no inline flags such as (?i), no named groups), or " + reasonTenantRd},
	}},
	{"CreateCopyTask", []OpCode{
		{CodeTenantNotRegistered, reasonTenantWr},
		{CodeInvalidParams, "no target segment was given, or a target segment is not mounted (the master answers INVALID_PARAMS, not SEGMENT_NOT_FOUND, for an unknown target)"},
		{CodeObjectNotFound, reasonNotFound},
		{CodeUnavailableInCurrentStatus, reasonDraining},
		{CodeInternalError, "the key has no memory replica on a segment with a known owner to copy from"},
		{CodeTaskPendingLimitExceeded, reasonPending},
	}},
	{"CreateMoveTask", []OpCode{
		{CodeTenantNotRegistered, reasonTenantWr},
		{CodeObjectNotFound, reasonNotFound},
		{CodeInvalidParams, "source and target are the same segment, the target segment is not mounted, or the key has no replica on the source segment (the master answers INVALID_PARAMS for all three)"},
		{CodeUnavailableInCurrentStatus, reasonDraining},
		{CodeInternalError, "the owner of the source segment is unknown to the master"},
		{CodeTaskPendingLimitExceeded, reasonPending},
	}},
	{"QueryTask", []OpCode{
		{CodeTaskNotFound, "no such task: the id is wrong, the task finished long ago and was pruned (the master keeps the newest --max_total_finished_tasks, 10000 by default), or the master restarted (tasks are not persisted)"},
	}},
	{"QuerySegmentStatus", []OpCode{{CodeSegmentNotFound, reasonSegment}}},
	{"QuerySegmentStatusById", []OpCode{{CodeSegmentNotFound, "no segment with that id is mounted"}}},
	// Admin routes.
	{"/query_segment", []OpCode{{CodeSegmentNotFound, reasonSegment + " (the master answers HTTP 500 \"Failed to query segment\")"}}},
	{"/api/v1/segments/status", []OpCode{
		{CodeSegmentNotFound, reasonSegment},
		{CodeInvalidParams, "no segment name was given"},
	}},
}

// OpCodes returns the codes the master is known to answer to a store
// operation (by RPC name), with their meaning, in the order the master
// checks them. RemoveAll and BatchQueryIp never fail with a code.
func OpCodes(op string) []OpCode { return append([]OpCode(nil), opCodesOf(op)...) }

// opCodesOf is the entry of op in opCodeTable (nil when it has none).
func opCodesOf(op string) []OpCode {
	for _, e := range opCodeTable {
		if e.op == op {
			return e.codes
		}
	}
	return nil
}

// OpReason explains code for op. Codes the spec does not list for op are
// described as unexpected, with the master's name for them.
func OpReason(op string, code ErrorCode) string {
	for _, c := range opCodesOf(op) {
		if c.Code == code {
			return c.Reason
		}
	}
	if code == CodeUnavailableInCurrentMode && strings.HasPrefix(op, "/") {
		return "the master is an HA standby (service plane not active): ask the leader (GET /leader names it)"
	}
	return fmt.Sprintf("the master answered %s, which it is not known to answer to %s", code, op)
}

// Unsupported reports whether err says the master does not serve the call
// in this form: coro_rpc errc 11 (function not registered: the task and
// segment-status RPCs are recent) or errc 4 (invalid arguments: a master
// older than the tenant arguments, v0.3.11 and before, for the removal
// RPCs).
func Unsupported(err error) bool {
	var re *RPCError
	return errors.As(err, &re) && (re.Code == ErrcFunctionNotRegistered || re.Code == ErrcInvalidRPCArguments)
}
