package mooncake

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Client.
const (
	DefaultTenant      = "default"
	DefaultDialTimeout = 10 * time.Second
	DefaultCallTimeout = 30 * time.Second
)

type options struct {
	dialTimeout time.Duration
	callTimeout time.Duration
	tenant      string
	maxFrame    uint32
	format      BodyFormat
	dialer      func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Option configures a Client.
type Option func(*options)

// WithDialTimeout bounds each connection attempt (default 10 s). The dial
// also stops when the caller's context ends.
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithCallTimeout bounds a call whose context has no deadline (default 30 s,
// like the official client). Zero disables it.
func WithCallTimeout(d time.Duration) Option { return func(o *options) { o.callTimeout = d } }

// WithTenant sets the tenant sent with read and write RPCs (default
// "default"). Masters without --enable_multi_tenants ignore it.
func WithTenant(t string) Option { return func(o *options) { o.tenant = t } }

// WithMaxFrameSize sets the ceiling on the body any reply may announce
// (default DefaultMaxReplySize; 0 means the default). Each call also bounds
// its reply by what its request can produce (see limits.go); the smaller
// bound applies.
func WithMaxFrameSize(n uint32) Option { return func(o *options) { o.maxFrame = n } }

// WithBodyFormat selects how request bodies are laid out, for example
// BodyFormat{Tagged: true} to send type literals like Mooncake's own client.
// Masters accept every form.
func WithBodyFormat(f BodyFormat) Option { return func(o *options) { o.format = f } }

// WithDialer replaces the TCP dialer (for tests, proxies, or wrapping the
// connection).
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dialer = dial }
}

// Client speaks coro_rpc to a mooncake_master. It keeps one TCP connection,
// redialled on demand after a failure, and pipelines concurrent calls on it:
// requests are written back to back and replies are matched by seq_num. The
// master runs the handlers of one connection one at a time, in order, so
// pipelining saves round trips but brings no server-side parallelism; open
// several Clients for that. A Client is safe for concurrent use.
type Client struct {
	addr   string
	opts   options
	legacy atomic.Bool // the master only knows the tenant-less read signatures

	mu     sync.Mutex
	cc     *conn
	closed bool
}

// Dial connects to a master's RPC address ("host:port", default port 50051).
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	c := &Client{addr: addr, opts: options{
		dialTimeout: DefaultDialTimeout,
		callTimeout: DefaultCallTimeout,
		tenant:      DefaultTenant,
		maxFrame:    DefaultMaxReplySize,
	}}
	for _, o := range opts {
		o(&c.opts)
	}
	if c.opts.dialer == nil {
		var d net.Dialer
		c.opts.dialer = d.DialContext
	}
	if c.opts.maxFrame == 0 {
		c.opts.maxFrame = DefaultMaxReplySize
	}
	if _, err := c.getConn(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Addr returns the master address.
func (c *Client) Addr() string { return c.addr }

// Tenant returns the tenant sent with tenant-aware RPCs.
func (c *Client) Tenant() string { return c.opts.tenant }

// Legacy reports whether the master turned out to predate tenant arguments
// (v0.3.11 or older), so read RPCs are sent in the one-argument form.
func (c *Client) Legacy() bool { return c.legacy.Load() }

// Close closes the connection. In-flight calls fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	cc := c.cc
	c.cc = nil
	c.mu.Unlock()
	if cc != nil {
		cc.fail(ErrClosed)
	}
	return nil
}

type reply struct {
	h    ResponseHeader
	body []byte
}

// pendingCall is a request waiting for its reply.
type pendingCall struct {
	// ch receives the reply; nil once the caller gave up (cancelled or
	// timed out), when the late reply is still read, bounded, and dropped.
	ch     chan reply
	method string
	limit  replyLimit
}

type conn struct {
	nc net.Conn

	wmu sync.Mutex
	seq uint32

	pmu     sync.Mutex
	pending map[uint32]*pendingCall

	done chan struct{}
	once sync.Once
	err  error
}

func (c *Client) getConn(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.cc != nil {
		select {
		case <-c.cc.done:
			c.cc = nil
		default:
			return c.cc, nil
		}
	}
	dctx := ctx
	if c.opts.dialTimeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, c.opts.dialTimeout)
		defer cancel()
	}
	nc, err := c.opts.dialer(dctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("mooncake: dial %s: %w", c.addr, err)
	}
	cc := &conn{nc: nc, pending: make(map[uint32]*pendingCall), done: make(chan struct{})}
	go cc.readLoop(c.opts.maxFrame)
	c.cc = cc
	return cc, nil
}

func (cc *conn) fail(err error) {
	cc.once.Do(func() {
		cc.err = err
		close(cc.done)
		cc.nc.Close()
	})
}

// readLoop reads the replies of one connection. Each reply must answer a
// call that is waiting (or that gave up but whose reply is still due): a
// seq_num nobody sent fails every pending call at once with a
// *ProtocolError (ErrUnexpectedSeq), rather than leaving them to their
// deadline. The header's lengths are checked against the bound of the call
// they answer before any body byte is read (ErrFrameTooLarge).
func (cc *conn) readLoop(ceiling uint32) {
	br := bufio.NewReaderSize(cc.nc, 32<<10)
	for {
		h, err := readResponseHeader(br)
		if err != nil {
			cc.fail(err)
			return
		}
		cc.pmu.Lock()
		p, ok := cc.pending[h.Seq]
		var ch chan reply
		if ok {
			ch = p.ch
			delete(cc.pending, h.Seq)
		} else {
			err = cc.unexpectedSeq(h.Seq)
		}
		cc.pmu.Unlock()
		if err != nil {
			cc.fail(err)
			return
		}
		limit, why := p.limit.bytes, p.limit.String()
		if h.ErrCode != 0 {
			limit, why = maxErrorReplyBody, "an error reply"
		}
		if limit > int(ceiling) {
			limit, why = int(ceiling), "any reply (the client's ceiling)"
		}
		if int64(h.Length) > int64(limit) {
			cc.fail(tooLarge(p.method, h.Seq, h.Length, false, limit, why))
			return
		}
		if h.AttachLength > maxAttachment {
			cc.fail(tooLarge(p.method, h.Seq, h.AttachLength, true, maxAttachment, "an attachment (the master sends none)"))
			return
		}
		body, err := readRest(br, ResponseHeaderSize, h.Length, h.AttachLength)
		if err != nil {
			cc.fail(withMethod(err, p.method))
			return
		}
		if ch != nil {
			ch <- reply{h, body} // buffered, never blocks
		}
	}
}

// unexpectedSeq describes a reply to no call; cc.pmu must be held.
func (cc *conn) unexpectedSeq(seq uint32) error {
	waiting := make([]uint32, 0, len(cc.pending))
	for s := range cc.pending {
		waiting = append(waiting, s)
	}
	slices.Sort(waiting)
	var b strings.Builder
	for i, s := range waiting {
		if i == 8 {
			fmt.Fprintf(&b, " and %d more", len(waiting)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		p := cc.pending[s]
		fmt.Fprintf(&b, "%d (%s", s, p.method)
		if p.ch == nil {
			b.WriteString(", abandoned")
		}
		b.WriteString(")")
	}
	msg := fmt.Sprintf("a reply carries seq_num %d, which no call is waiting for; ", seq)
	if len(waiting) == 0 {
		msg += "no call is waiting"
	} else {
		msg += "the calls waiting are seq " + b.String()
	}
	return &ProtocolError{Offset: 4, Msg: msg, Err: ErrUnexpectedSeq}
}

// send writes one request frame, stamping its seq_num, and registers p for
// the reply. A write that fails or is interrupted (the frame may be half
// written) kills the connection.
func (cc *conn) send(ctx context.Context, frame []byte, p *pendingCall) (uint32, error) {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	select {
	case <-cc.done:
		return 0, cc.err
	default:
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	seq := cc.seq
	cc.seq++
	binary.LittleEndian.PutUint32(frame[4:], seq)
	cc.pmu.Lock()
	cc.pending[seq] = p
	cc.pmu.Unlock()

	dl, _ := ctx.Deadline()
	cc.nc.SetWriteDeadline(dl)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		cc.nc.SetWriteDeadline(time.Unix(1, 0)) // long ago: the write fails at once
		close(fired)
	})
	_, err := cc.nc.Write(frame)
	if !stop() {
		<-fired
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		cc.fail(err)
		cc.forget(seq)
		return seq, err
	}
	return seq, nil
}

func (cc *conn) forget(seq uint32) {
	cc.pmu.Lock()
	delete(cc.pending, seq)
	cc.pmu.Unlock()
}

// abandon keeps a call whose caller gave up registered, so that its late
// reply is recognised (and dropped) rather than taken for a stray one.
func (cc *conn) abandon(seq uint32) {
	cc.pmu.Lock()
	if p := cc.pending[seq]; p != nil {
		p.ch = nil
	}
	cc.pmu.Unlock()
}

// roundTrip sends one frame and waits for its reply, whose body may be at
// most limit bytes.
func (c *Client) roundTrip(ctx context.Context, name string, limit replyLimit, frame []byte) (reply, error) {
	if c.opts.callTimeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.opts.callTimeout)
			defer cancel()
		}
	}
	if err := ctx.Err(); err != nil {
		return reply{}, fmt.Errorf("mooncake: %s: %w", name, err)
	}
	cc, err := c.getConn(ctx)
	if err != nil {
		return reply{}, err
	}
	ch := make(chan reply, 1)
	seq, err := cc.send(ctx, frame, &pendingCall{ch: ch, method: name, limit: limit})
	if err != nil {
		return reply{}, c.transportErr(name, err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-cc.done:
		select {
		case r := <-ch:
			return r, nil
		default:
		}
		return reply{}, c.transportErr(name, cc.err)
	case <-ctx.Done():
		cc.abandon(seq)
		return reply{}, fmt.Errorf("mooncake: %s: %w", name, ctx.Err())
	}
}

func (c *Client) transportErr(name string, err error) error {
	if errors.Is(err, ErrClosed) {
		return err
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		// The master answered wrongly; a reply that belonged to no call
		// names the call it broke.
		return withMethod(err, name)
	}
	return fmt.Errorf("mooncake: %s %s: %w", name, c.addr, err)
}

// invoke performs one RPC whose arguments have literal args and whose
// result must be one of results; it returns the index of the matching
// result literal and a Decoder over the result payload. The reply is
// bounded by the largest value of the result types when they have a fixed
// size, by listingReplyLimit otherwise; calls whose reply grows with the
// request use call with their own bound.
func (c *Client) invoke(ctx context.Context, m Method, args Literal, pack func(*Encoder), results ...Literal) (int, *Decoder, error) {
	return c.call(ctx, m, replyLimit{bytes: resultBound(results...)}, args, pack, results...)
}

// call is invoke with an explicit bound on the reply body (limits.go).
func (c *Client) call(ctx context.Context, m Method, bound replyLimit, args Literal, pack func(*Encoder), results ...Literal) (int, *Decoder, error) {
	frame := make([]byte, RequestHeaderSize, 256)
	frame[0] = Magic
	binary.LittleEndian.PutUint32(frame[8:], m.ID)
	frame = AppendBody(frame, args, c.opts.format, pack)
	binary.LittleEndian.PutUint32(frame[12:], uint32(len(frame)-RequestHeaderSize))
	r, err := c.roundTrip(ctx, m.Name, bound, frame)
	if err != nil {
		return -1, nil, err
	}
	if r.h.ErrCode != 0 {
		e := DecodeRPCError(r.h.ErrCode, r.body)
		e.Method = m.Name
		return -1, nil, e
	}
	idx, d, err := OpenBody(r.body, ResponseHeaderSize, results...)
	if err != nil {
		return -1, nil, withMethod(err, m.Name)
	}
	d.method = m.Name
	d.alias = true // r.body is this reply's own buffer
	return idx, d, nil
}

// invokeRead performs a read RPC that gained a tenant argument in
// a953dcb1. It first sends the HEAD form; if the master rejects the
// arguments (coro_rpc errc 4, invalid_rpc_arguments, which is how an older
// master answers an unknown argument hash) it retries in the old form and
// remembers the master's age.
func (c *Client) invokeRead(ctx context.Context, m Method, bound replyLimit, legacyArgs Literal, pack func(e *Encoder, tenant bool), results ...Literal) (int, *Decoder, error) {
	if !c.legacy.Load() {
		idx, d, err := c.call(ctx, m, bound, m.Args, func(e *Encoder) { pack(e, true) }, results...)
		var re *RPCError
		if !errors.As(err, &re) || re.Code != ErrcInvalidRPCArguments {
			return idx, d, err
		}
		c.legacy.Store(true)
	}
	idx, d, err := c.call(ctx, m, bound, legacyArgs, func(e *Encoder) { pack(e, false) }, results...)
	var re *RPCError
	if errors.As(err, &re) && re.Code == ErrcInvalidRPCArguments {
		// Neither form was accepted: do not stay stuck on the old one.
		c.legacy.Store(false)
	}
	return idx, d, err
}

// expected reads the has_value byte of a tl::expected and, for the error
// arm, the ErrorCode as a *MasterError.
func expected(d *Decoder, method string) error {
	if d.Option() {
		return d.Err()
	}
	if err := expectedErr(d); err != nil {
		return err
	}
	code := ErrorCode(d.I32())
	if err := d.Err(); err != nil {
		return err
	}
	return NewMasterError(method, code)
}

// expectedErr peeks at the ErrorCode of an error arm without consuming it
// and rejects a non-negative one: only negative codes are errors, and a
// non-negative one would read as "missing", "present" or success.
func expectedErr(d *Decoder) error {
	if d.Remaining() < 4 {
		return nil // the read that follows reports the short body
	}
	if c := int32(binary.LittleEndian.Uint32(d.b[d.off:])); c >= 0 {
		return d.errAt(d.off, fmt.Sprintf("error arm holds non-negative code %d", c), nil)
	}
	return nil
}

// ServiceReady returns the master's store version string ("2.0.0" for
// v0.3.8 to HEAD). It grants nothing and changes nothing.
func (c *Client) ServiceReady(ctx context.Context) (string, error) {
	m := MethodServiceReady
	idx, d, err := c.call(ctx, m, replyBound(m, 0), nil, nil, m.Result, litExpVoid)
	if err != nil {
		return "", err
	}
	if idx == 1 { // v0.3.7 and older: expected<void, ErrorCode>
		if err := expected(d, m.Name); err != nil {
			return "", err
		}
		return "", &ProtocolError{Method: m.Name, Offset: ResponseHeaderSize, Msg: "master predates v0.3.8 (ServiceReady returns no version)", Err: ErrTypeMismatch}
	}
	if err := expected(d, m.Name); err != nil {
		return "", err
	}
	v := d.Str()
	return v, d.Finish()
}

// Ping refreshes the liveness TTL of clientID and reports whether the master
// considers it alive (OK) or wants its segments remounted (NEED_REMOUNT).
func (c *Client) Ping(ctx context.Context, clientID UUID) (PingResponse, error) {
	m := MethodPing
	_, d, err := c.invoke(ctx, m, m.Args, func(e *Encoder) { e.UUID(clientID) }, m.Result)
	if err != nil {
		return PingResponse{}, err
	}
	if err := expected(d, m.Name); err != nil {
		return PingResponse{}, err
	}
	p := d.PingResponse()
	return p, d.Finish()
}

// ExistKey reports whether key has a readable replica. Like the Python
// is_exist, it GRANTS A READ LEASE (default 10 s) on an existing key, which
// blocks a non-forced Remove until it ends.
func (c *Client) ExistKey(ctx context.Context, key string) (bool, error) {
	m := MethodExistKey
	_, d, err := c.invokeRead(ctx, m, replyBound(m, 1), LegacyExistKeyArgs, func(e *Encoder, tenant bool) {
		e.Str(key)
		if tenant {
			e.Str(c.opts.tenant)
		}
	}, m.Result)
	if err != nil {
		return false, err
	}
	if err := expected(d, m.Name); err != nil {
		return false, err
	}
	v := d.Bool()
	return v, d.Finish()
}

// ExistStatus is the per-key result of BatchExistKey in the convention of
// Python's batch_is_exist: 1 exists, 0 does not, a negative value is the
// Mooncake ErrorCode.
type ExistStatus int32

// Exist statuses besides error codes.
const (
	Missing ExistStatus = 0
	Present ExistStatus = 1
)

// Exists reports s == 1.
func (s ExistStatus) Exists() bool { return s == Present }

// Err returns the ErrorCode of a negative status, or nil.
func (s ExistStatus) Err() error {
	if s < 0 {
		return ErrorCode(s)
	}
	return nil
}

func (s ExistStatus) String() string {
	switch {
	case s == Present:
		return "present"
	case s == Missing:
		return "missing"
	case s < 0:
		return ErrorCode(s).String()
	}
	return fmt.Sprintf("ExistStatus(%d)", int32(s))
}

// PrefixHit returns the index of the first status that is not 1 (a miss or
// an error), or len(st) if every key exists: the number of leading chunks
// that hit, as LMCache's Mooncake lookup computes it.
func PrefixHit(st []ExistStatus) int {
	for i, s := range st {
		if s != Present {
			return i
		}
	}
	return len(st)
}

const minExpBoolBytes = 2

// BatchExistKey checks many keys in one RPC and returns one status per key,
// in order. Like ExistKey it GRANTS A READ LEASE on every existing key. An
// empty key list returns an empty result without an RPC. For a read-only
// check that grants nothing, use the admin API's BatchQueryKeys.
func (c *Client) BatchExistKey(ctx context.Context, keys []string) ([]ExistStatus, error) {
	if len(keys) == 0 {
		return []ExistStatus{}, nil
	}
	m := MethodBatchExistKey
	_, d, err := c.invokeRead(ctx, m, replyBound(m, len(keys)), LegacyBatchExistKeyArgs, func(e *Encoder, tenant bool) {
		e.Strings(keys)
		if tenant {
			e.Str(c.opts.tenant)
		}
	}, m.Result)
	if err != nil {
		return nil, err
	}
	return decodeExistStatuses(d, len(keys))
}

func decodeExistStatuses(d *Decoder, want int) ([]ExistStatus, error) {
	at := d.Offset()
	n := d.Len(minExpBoolBytes)
	if err := d.Err(); err != nil {
		return nil, err
	}
	if want >= 0 && n != want {
		return nil, countMismatch(d, at, n, want)
	}
	out := make([]ExistStatus, n)
	for i := range out {
		if d.Option() {
			if d.Bool() {
				out[i] = Present
			}
		} else {
			if err := expectedErr(d); err != nil {
				return nil, err
			}
			out[i] = ExistStatus(d.I32())
		}
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return out, nil
}

// countMismatch is the error of a batch reply whose element count (at
// offset at of the body) is not the number of keys sent.
func countMismatch(d *Decoder, at, got, want int) error {
	return &ProtocolError{Method: d.method, Offset: d.base + at, Err: ErrCountMismatch,
		Msg: fmt.Sprintf("the reply holds %d results for the %d keys sent", got, want)}
}

// noReplicas is the error of a successful replica list holding no replica:
// the master answers REPLICA_IS_NOT_READY for a key without a readable one.
func noReplicas(d *Decoder, at int, key string) {
	d.contradiction(at, fmt.Sprintf("success with no replica for key %q (a master answers REPLICA_IS_NOT_READY for that)", key))
}

// BatchIsExist mirrors Python's batch_is_exist exactly: it never fails, and
// when the RPC itself fails every key gets RPC_FAIL (-900), or RPC_TIMEOUT
// (-901) when the call timed out.
func (c *Client) BatchIsExist(ctx context.Context, keys []string) []ExistStatus {
	st, err := c.BatchExistKey(ctx, keys)
	if err == nil {
		return st
	}
	code := ExistStatus(CodeRPCFail)
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		code = ExistStatus(CodeRPCTimeout)
	}
	out := make([]ExistStatus, len(keys))
	for i := range out {
		out[i] = code
	}
	return out
}

// GetReplicaList returns where key's readable replicas live. It GRANTS A
// READ LEASE. A missing key is a *MasterError with OBJECT_NOT_FOUND; a key
// being written is REPLICA_IS_NOT_READY. Replies of the HEAD, v0.3.11/12
// and v0.3.10 layouts are all decoded.
func (c *Client) GetReplicaList(ctx context.Context, key string) (ReplicaList, error) {
	m := MethodGetReplicaList
	idx, d, err := c.invokeRead(ctx, m, replyBound(m, 1), LegacyExistKeyArgs, func(e *Encoder, tenant bool) {
		e.Str(key)
		if tenant {
			e.Str(c.opts.tenant)
		}
	}, getReplicaListResults...)
	if err != nil {
		return ReplicaList{}, err
	}
	if err := expected(d, m.Name); err != nil {
		return ReplicaList{}, err
	}
	at := d.Offset()
	rl := d.ReplicaList(Layouts[idx])
	if d.Err() == nil && len(rl.Replicas) == 0 {
		noReplicas(d, at, key)
	}
	if err := d.Finish(); err != nil {
		return ReplicaList{}, err
	}
	return rl, nil
}

// ReplicaListResult is one key's entry of BatchGetReplicaList. When Code is
// not CodeOK the ReplicaList is empty.
type ReplicaListResult struct {
	Key string
	ReplicaList
	Code ErrorCode
}

// Err returns nil or the per-key error as a *MasterError.
func (r ReplicaListResult) Err() error {
	if r.Code == CodeOK {
		return nil
	}
	return NewMasterError(MethodBatchGetReplicaList.Name, r.Code)
}

// BatchGetReplicaList returns the replicas of many keys in one RPC, one
// result per key in order. It GRANTS READ LEASES like GetReplicaList.
func (c *Client) BatchGetReplicaList(ctx context.Context, keys []string) ([]ReplicaListResult, error) {
	if len(keys) == 0 {
		return []ReplicaListResult{}, nil
	}
	m := MethodBatchGetReplicaList
	idx, d, err := c.invokeRead(ctx, m, replyBound(m, len(keys)), LegacyBatchExistKeyArgs, func(e *Encoder, tenant bool) {
		e.Strings(keys)
		if tenant {
			e.Str(c.opts.tenant)
		}
	}, batchGetReplicaListResults...)
	if err != nil {
		return nil, err
	}
	at := d.Offset()
	n := d.Len(minExpBoolBytes)
	if err := d.Err(); err != nil {
		return nil, err
	}
	if n != len(keys) {
		return nil, countMismatch(d, at, n, len(keys))
	}
	out := make([]ReplicaListResult, n)
	d.budgeted, d.replicasLeft = true, max(MaxReplicasPerKey, replicasPerKeyAvg*n)
	for i := 0; i < n && d.Err() == nil; i++ {
		out[i].Key = keys[i]
		if d.Option() {
			at := d.Offset()
			out[i].ReplicaList = d.ReplicaList(Layouts[idx])
			if d.Err() == nil && len(out[i].Replicas) == 0 {
				noReplicas(d, at, keys[i])
			}
		} else if err := expectedErr(d); err != nil {
			return nil, err
		} else {
			out[i].Code = ErrorCode(d.I32())
		}
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- the metadata put path (what storage nodes call) ----

func (c *Client) invokeVoid(ctx context.Context, m Method, pack func(*Encoder)) error {
	_, d, err := c.invoke(ctx, m, m.Args, pack, m.Result)
	if err != nil {
		return err
	}
	if err := expected(d, m.Name); err != nil {
		return err
	}
	return d.Finish()
}

// MountSegment registers a memory segment owned by clientID and starts the
// client's liveness TTL (keep it alive with Ping).
func (c *Client) MountSegment(ctx context.Context, seg Segment, clientID UUID) error {
	return c.invokeVoid(ctx, MethodMountSegment, func(e *Encoder) { e.Segment(seg); e.UUID(clientID) })
}

// ReMountSegment (re)mounts segs and marks clientID alive, after which Ping
// answers OK.
func (c *Client) ReMountSegment(ctx context.Context, segs []Segment, clientID UUID) error {
	return c.invokeVoid(ctx, MethodReMountSegment, func(e *Encoder) {
		e.Len(len(segs))
		for _, s := range segs {
			e.Segment(s)
		}
		e.UUID(clientID)
	})
}

// UnmountSegment unmounts a segment; its replicas become unreadable.
func (c *Client) UnmountSegment(ctx context.Context, segID, clientID UUID) error {
	return c.invokeVoid(ctx, MethodUnmountSegment, func(e *Encoder) { e.UUID(segID); e.UUID(clientID) })
}

// PutStart allocates replicas for key (size is the total object size) and
// returns them in PROCESSING state.
func (c *Client) PutStart(ctx context.Context, clientID UUID, key string, size uint64, cfg ReplicateConfig) ([]Replica, error) {
	m := MethodPutStart
	_, d, err := c.call(ctx, m, replyBound(m, 1), m.Args, func(e *Encoder) {
		e.UUID(clientID)
		e.Str(key)
		e.U64(size)
		e.ReplicateConfig(cfg)
		e.Str(c.opts.tenant)
	}, m.Result)
	if err != nil {
		return nil, err
	}
	if err := expected(d, m.Name); err != nil {
		return nil, err
	}
	rs := d.Replicas(LayoutHEAD)
	return rs, d.Finish()
}

// PutEnd marks the replicas of meta.Key of type rt (normally
// ReplicaTypeAll) COMPLETE.
func (c *Client) PutEnd(ctx context.Context, clientID UUID, meta ObjectMeta, rt ReplicaType) error {
	return c.invokeVoid(ctx, MethodPutEnd, func(e *Encoder) {
		e.UUID(clientID)
		e.ObjectMeta(meta)
		e.I32(int32(rt))
		e.Str(c.opts.tenant)
	})
}

// PutRevoke aborts a PutStart.
func (c *Client) PutRevoke(ctx context.Context, clientID UUID, key string, rt ReplicaType) error {
	return c.invokeVoid(ctx, MethodPutRevoke, func(e *Encoder) {
		e.UUID(clientID)
		e.Str(key)
		e.I32(int32(rt))
		e.Str(c.opts.tenant)
	})
}

// Remove deletes key. Without force it fails with OBJECT_HAS_LEASE while a
// lease granted by an exist check or replica lookup is live; a key being
// written or replicated cannot be removed even with force. Failures are
// *OpError (see ops.go).
func (c *Client) Remove(ctx context.Context, key string, force bool) error {
	return c.removeKey(ctx, key, force)
}

// RemoveAll removes every removable object of tenant ("" = all tenants) and
// returns how many were removed.
// Without multi-tenancy the master ignores tenant entirely (§3.4).
func (c *Client) RemoveAll(ctx context.Context, force bool, tenant string) (int64, error) {
	return c.removeAll(ctx, force, tenant)
}
