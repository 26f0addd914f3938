package mooncake

import (
	"context"
	"fmt"
)

// Store operations of the master (mooncake-ops.md): removal of one key, a
// batch, a regex or everything (this file), replica copy and move tasks
// (tasks.go) and segment queries (segments.go, adminops.go).
//
// Every reply of these calls is checked against its request: the body may
// not be larger than the request can produce (ProtocolError otherwise,
// before anything is decoded), per-key results must number exactly the keys
// sent, enums must hold known values, counts must be non-negative, and no
// byte may follow the result. Errors quote what the peer sent.
//
// Leases decide most removals (§2): ExistKey, BatchExistKey, GetReplicaList,
// BatchGetReplicaList and the admin /query_key grant a 10-s read lease, and
// a non-forced removal of a leased key fails (Remove, BatchRemove) or skips
// it silently (RemoveByRegex, RemoveAll). Plan removals through the admin
// API (GetAllKeys, BatchQueryKeys), which grants nothing. Force overrides
// the lease only: a key being written (REPLICA_IS_NOT_READY) or replicated
// (OBJECT_HAS_REPLICATION_TASK) is never removed. Pins have no effect on
// removal.
//
// This package deliberately has no CopyStart, MoveStart, CopyEnd, MoveEnd,
// their Revokes, FetchTasks, MarkTaskToComplete or PollRemoveAll: those are
// the storage client's half of a task, the master does not check who calls
// them, and a caller that does not really transfer the bytes commits
// garbage replicas or steals a node's work (§4.3, §7.4).

// MethodBatchRemove and MethodRemoveByRegex, the RPCs of the removal path
// besides Remove and RemoveAll, are in literals_gen.go.

// opReplyBytes is the largest body a master can legitimately send for a
// result of literal lit whose payload holds fixed bytes besides nlen
// container lengths: the tagged envelope (hash head, metainfo, a compatible
// length, the literal and its NUL) with every length at the widest (8-byte)
// width.
func opReplyBytes(lit Literal, fixed, nlen int) int {
	return 4 + 1 + 8 + len(lit) + 1 + fixed + 8*nlen
}

// callOp performs one store RPC whose reply may hold at most limit bytes:
// a larger one is refused from its header, before any of it is read.
func (c *Client) callOp(ctx context.Context, m Method, limit int, pack func(*Encoder)) (*Decoder, error) {
	_, d, err := c.call(ctx, m, replyLimit{bytes: limit}, m.Args, pack, m.Result)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// finish checks that a reply was decoded cleanly and completely.
func finish(d *Decoder, method string) error {
	if err := d.Err(); err != nil {
		return err
	}
	if r := d.Remaining(); r != 0 {
		return d.errAt(d.off, fmt.Sprintf("%s reply has %d bytes after its result", method, r), nil)
	}
	return nil
}

// opExpected reads the has_value byte of a tl::expected; for the error arm
// it reads the code and returns an *OpError about subject. ok reports the
// value arm, whose payload the caller then reads.
func opExpected(d *Decoder, op, subject string) (ok bool, err error) {
	if d.Option() {
		return true, d.Err()
	}
	if err := expectedErr(d); err != nil {
		return false, err
	}
	code := ErrorCode(d.I32())
	if err := finish(d, op); err != nil {
		return false, err
	}
	return false, newOpError(op, subject, code)
}

// removeKey is Remove: the object and all its replicas go at once (§3.1).
func (c *Client) removeKey(ctx context.Context, key string, force bool) error {
	m := MethodRemove
	d, err := c.callOp(ctx, m, opReplyBytes(m.Result, 1+4, 0), func(e *Encoder) { e.Str(key); e.Bool(force); e.Str(c.opts.tenant) })
	if err != nil {
		return err
	}
	return decodeRemove(d, key)
}

func decodeRemove(d *Decoder, key string) error {
	if ok, err := opExpected(d, MethodRemove.Name, key); !ok {
		return err
	}
	return finish(d, MethodRemove.Name)
}

// RemoveResult is one key's outcome in BatchRemove.
type RemoveResult struct {
	Key  string
	Code ErrorCode // CodeOK when the key was removed
}

// Removed reports whether the key was removed.
func (r RemoveResult) Removed() bool { return r.Code == CodeOK }

// Err returns nil for a removed key, else an *OpError.
func (r RemoveResult) Err() error {
	if r.Code == CodeOK {
		return nil
	}
	return newOpError(MethodBatchRemove.Name, r.Key, r.Code)
}

// Reason says why the key was kept ("" when it was removed).
func (r RemoveResult) Reason() string {
	if r.Code == CodeOK {
		return ""
	}
	return OpReason(MethodBatchRemove.Name, r.Code)
}

// Removal outcomes as short stable words, for tables and JSON.
const (
	CauseRemoved     = "removed"
	CauseNotFound    = "not-found"
	CauseLeased      = "leased"
	CauseWriting     = "being-written"
	CauseReplicating = "replicating"
	CauseTenant      = "invalid-tenant"
	CauseOther       = "error"
)

// Cause classifies the outcome (CauseRemoved, CauseLeased, ...).
func (r RemoveResult) Cause() string {
	switch r.Code {
	case CodeOK:
		return CauseRemoved
	case CodeObjectNotFound:
		return CauseNotFound
	case CodeObjectHasLease:
		return CauseLeased
	case CodeReplicaIsNotReady:
		return CauseWriting
	case CodeObjectHasReplicationTask:
		return CauseReplicating
	case CodeInvalidParams:
		return CauseTenant
	}
	return CauseOther
}

// Forceable reports a key kept only because of a read lease: removing it
// again with force would succeed.
func (r RemoveResult) Forceable() bool { return r.Code == CodeObjectHasLease }

// Busy reports a key being written or replicated, which force cannot remove.
func (r RemoveResult) Busy() bool {
	return r.Code == CodeReplicaIsNotReady || r.Code == CodeObjectHasReplicationTask
}

// BatchRemove removes keys in one RPC and returns one result per key, in
// order. Each key is judged as by Remove (§2): absent (a key listed twice is
// absent the second time), leased (unless force), being written, being
// replicated. An empty list returns an empty result without an RPC.
func (c *Client) BatchRemove(ctx context.Context, keys []string, force bool) ([]RemoveResult, error) {
	if len(keys) == 0 {
		return []RemoveResult{}, nil
	}
	m := MethodBatchRemove
	d, err := c.callOp(ctx, m, opReplyBytes(m.Result, 5*len(keys), 1), func(e *Encoder) {
		e.Strings(keys)
		e.Bool(force)
		e.Str(c.opts.tenant)
	})
	if err != nil {
		return nil, err
	}
	return decodeBatchRemove(d, keys)
}

func decodeBatchRemove(d *Decoder, keys []string) ([]RemoveResult, error) {
	at := d.Offset()
	n := d.Len(1)
	if err := d.Err(); err != nil {
		return nil, err
	}
	if n != len(keys) {
		return nil, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("BatchRemove reply has %d results for %d keys", n, len(keys))}
	}
	out := make([]RemoveResult, n)
	for i := range out {
		out[i].Key = keys[i]
		if d.Option() {
			continue
		}
		if err := expectedErr(d); err != nil {
			return nil, err
		}
		out[i].Code = ErrorCode(d.I32())
	}
	if err := finish(d, MethodBatchRemove.Name); err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveByRegex removes every key of the client's tenant that the
// ECMAScript pattern finds (an unanchored std::regex_search; anchor with
// ^...$; THE EMPTY PATTERN MATCHES EVERY KEY) and returns how many were
// removed. Matching keys that are leased (unless force), being written or
// being replicated are skipped without trace: the count is all the master
// reports, so list the matches first (CompileKeyRegexp over the admin API's
// GetAllKeys) and again afterwards to learn which stayed.
func (c *Client) RemoveByRegex(ctx context.Context, pattern string, force bool) (int64, error) {
	m := MethodRemoveByRegex
	d, err := c.callOp(ctx, m, opReplyBytes(m.Result, 1+8, 0), func(e *Encoder) {
		e.Str(pattern)
		e.Bool(force)
		e.Str(c.opts.tenant)
	})
	if err != nil {
		return 0, err
	}
	return decodeRemoveByRegex(d, pattern)
}

func decodeRemoveByRegex(d *Decoder, pattern string) (int64, error) {
	if ok, err := opExpected(d, MethodRemoveByRegex.Name, pattern); !ok {
		return 0, err
	}
	return readCount(d, MethodRemoveByRegex.Name)
}

// readCount reads a removal count, which cannot be negative.
func readCount(d *Decoder, method string) (int64, error) {
	at := d.Offset()
	n := d.I64()
	if err := finish(d, method); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, &ProtocolError{Method: method, Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("removed count %d is negative", n), Err: ErrContradiction}
	}
	return n, nil
}

// removeAll is RemoveAll (§3.4): a bare i64, never an error.
func (c *Client) removeAll(ctx context.Context, force bool, tenant string) (int64, error) {
	m := MethodRemoveAll
	d, err := c.callOp(ctx, m, opReplyBytes(m.Result, 8, 0), func(e *Encoder) { e.Bool(force); e.Str(tenant) })
	if err != nil {
		return 0, err
	}
	return readCount(d, m.Name)
}
