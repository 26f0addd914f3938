// Package sandboxmaster is the sandbox's Mooncake master — the one 'lmc
// sandbox' and 'lmc demo' serve, and lmc's tests run against: a real
// coro_rpc server (on 127.0.0.1:0 by default) that speaks the
// same bytes as the official master, including the type literal it attaches
// to every reply (spec §6.6), and an HTTP admin server over the same
// metadata. It keeps metadata only, never KV bytes.
//
// Implemented RPCs: ServiceReady, Ping, ExistKey, BatchExistKey,
// GetReplicaList, BatchGetReplicaList (HEAD signatures with a tenant, or the
// v0.3.11 tenant-less ones with WithLegacySchema), MountSegment,
// ReMountSegment, UnmountSegment, PutStart, PutEnd, PutRevoke, Remove,
// RemoveAll, and the store operations of ops.go (BatchRemove,
// RemoveByRegex, CreateCopyTask, CreateMoveTask, QueryTask,
// QuerySegmentStatus(ById), BatchQueryIp). Other function ids answer
// coro_rpc errc 11, undecodable arguments errc 4, and a bad magic, version
// or serialize type closes the connection, as ylt's server does. Modelled
// behaviour: exist checks and replica lookups grant read leases that block
// a non-forced Remove; clients that stop pinging expire after the client TTL
// and their segments and keys vanish; PutStart allocates real offsets inside
// mounted segments; keys being written or replicated cannot be removed even
// with force; copy and move tasks stay PENDING until the pending timeout
// unless WithExecuteTasks plays their storage client (tasks.go); segments
// carry a status (SetSegmentStatus for drain states) and their owner.
//
// The package does not import "testing", so it can ship inside the binary.
package sandboxmaster

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	mc "lmc/internal/mooncake"
)

type config struct {
	clientTTL       time.Duration
	leaseTTL        time.Duration
	putStartDiscard time.Duration
	now             func() time.Time
	tagged          bool
	legacy          bool
	adminAddr       string
	noAdmin         bool
	version         string
	storageRoot     string
	standbyOf       string // HA standby: the leader's RPC address
	ops             opsConfig
}

// Option configures a Server.
type Option func(*config)

// WithClientTTL sets the client liveness TTL (--client_ttl, default 10 s).
func WithClientTTL(d time.Duration) Option { return func(c *config) { c.clientTTL = d } }

// WithLeaseTTL sets the read lease granted by exist checks and replica
// lookups (--default_kv_lease_ttl, default 10 s).
func WithLeaseTTL(d time.Duration) Option { return func(c *config) { c.leaseTTL = d } }

// WithPutStartDiscardTimeout sets --put_start_discard_timeout_sec (30 s).
func WithPutStartDiscardTimeout(d time.Duration) Option {
	return func(c *config) { c.putStartDiscard = d }
}

// WithClock replaces time.Now for TTLs and leases.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithUntaggedReplies makes replies omit the type literal, like a master
// built with NDEBUG (the official build always attaches it).
func WithUntaggedReplies() Option { return func(c *config) { c.tagged = false } }

// WithLegacySchema makes the read RPCs (ExistKey, BatchExistKey,
// GetReplicaList, BatchGetReplicaList) use the v0.3.11 schema: arguments
// without a tenant (a HEAD-form call gets errc 4, invalid_rpc_arguments) and
// replica lists without object_checksum in the 4-alternative layout. The put
// path keeps HEAD signatures.
func WithLegacySchema() Option { return func(c *config) { c.legacy = true } }

// WithAdminAddr sets the admin HTTP listen address (default 127.0.0.1:0).
func WithAdminAddr(addr string) Option { return func(c *config) { c.adminAddr = addr } }

// WithoutAdmin starts no admin listener; AdminHandler still works.
func WithoutAdmin() Option { return func(c *config) { c.noAdmin = true } }

// WithStorageRoot models a master started with --root_fs_dir: every
// PutStart adds a DISK replica (a file under root; the fake's path is
// root/<key with '/' as '_'>), which PutEnd(DISK or ALL) completes. Disk
// replicas survive their writer's segments, as files do.
func WithStorageRoot(root string) Option { return func(c *config) { c.storageRoot = root } }

// WithStandby makes the admin API answer as an HA standby whose leader's
// RPC is at leader: /health says role standby, /leader names the leader,
// and data endpoints answer 503 with -1011 (service plane not active).
// (A real standby does not listen on the RPC port at all; close the fake's
// with Close if a test needs that.)
func WithStandby(leader string) Option { return func(c *config) { c.standbyOf = leader } }

// WithVersion sets the string ServiceReady returns (default "2.0.0").
func WithVersion(v string) Option { return func(c *config) { c.version = v } }

// Server is a running fake master.
type Server struct {
	cfg   config
	ln    net.Listener
	admin *http.Server
	admLn net.Listener
	mux   *http.ServeMux

	mu      sync.Mutex // guards st, faults, stats, conns
	st      *store
	faults  []*faultEntry
	calls   map[string]int
	accepts int
	conns   map[net.Conn]struct{}

	done chan struct{}
	wg   sync.WaitGroup

	nodeMu sync.Mutex
	node   *nodeAgent
	popMu  sync.Mutex // serialises Populate
}

// Start listens on addr ("" means 127.0.0.1:0) and serves until Close.
func Start(addr string, opts ...Option) (*Server, error) {
	cfg := config{
		clientTTL:       10 * time.Second,
		leaseTTL:        10 * time.Second,
		putStartDiscard: 30 * time.Second,
		now:             time.Now,
		tagged:          true,
		adminAddr:       "127.0.0.1:0",
		version:         "2.0.0",
		ops:             defaultOpsConfig(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, ln: ln, calls: map[string]int{}, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	s.st = newStore(&s.cfg)
	s.mux = s.newAdminMux()
	if !cfg.noAdmin {
		s.admLn, err = net.Listen("tcp", cfg.adminAddr)
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.admin = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = s.admin.Serve(s.admLn)
		}()
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr returns the RPC address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// AdminURL returns the base URL of the admin server, or "" WithoutAdmin.
func (s *Server) AdminURL() string {
	if s.admLn == nil {
		return ""
	}
	return "http://" + s.admLn.Addr().String()
}

// AdminHandler returns the admin API as an http.Handler (for httptest).
func (s *Server) AdminHandler() http.Handler { return s.mux }

// Close stops both servers, closes every connection and waits for them.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	s.nodeMu.Lock()
	if s.node != nil {
		s.node.stop()
	}
	s.nodeMu.Unlock()
	err := s.ln.Close()
	if s.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.admin.Shutdown(ctx)
		cancel()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Calls returns how many requests each method received (by method name,
// "unknown" for unregistered ids), counting those answered by faults.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Accepted returns how many RPC connections were accepted.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts
}

// HasLease reports whether key currently holds a live read lease.
func (s *Server) HasLease(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.objects[key]
	return o != nil && s.cfg.now().Before(o.leaseUntil)
}

// Keys returns the keys that have a readable replica, sorted.
func (s *Server) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep()
	return s.st.readableKeys()
}

// EvictMemory drops the memory replicas of keys, as the master's eviction
// does, freeing their segment space; disk replicas stay (so the key is then
// served from disk, or disappears when it had none). It returns how many
// memory replicas were dropped.
func (s *Server) EvictMemory(keys ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.evictMemory(keys)
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			c.Close()
			return
		default:
		}
		s.accepts++
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

// serveConn runs one connection the way ylt's coro_connection does: read a
// request, run its handler, write the reply, then read the next one. So
// replies come back in request order and pipelined requests queue up.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 64<<10)
	for {
		h, body, err := mc.ReadRequest(br, 0)
		if err != nil {
			return // EOF, bad magic/version/serialize type: drop the connection
		}
		out, act := s.handle(h, body)
		switch act {
		case actClose:
			return
		case actCloseMidFrame, actResetMidFrame:
			if len(out) > 8 {
				out = out[:8]
			}
			bw.Write(out)
			bw.Flush()
			if tc, ok := c.(*net.TCPConn); ok && act == actResetMidFrame {
				tc.SetLinger(0) // Close sends RST
			}
			return
		}
		if _, err := bw.Write(out); err != nil {
			return
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

type action int

const (
	actReply action = iota
	actClose
	actCloseMidFrame
	actResetMidFrame
)

// rpcMethods maps function ids to the methods the fake registers. It is
// built by the first request (methodByID), not when the program starts:
// every lmc command links the sandbox, few run it.
var (
	rpcMethods     map[uint32]mc.Method
	rpcMethodsOnce sync.Once
)

func methodByID(id uint32) (mc.Method, bool) {
	rpcMethodsOnce.Do(func() {
		m := map[uint32]mc.Method{}
		for _, x := range []mc.Method{
			mc.MethodServiceReady, mc.MethodPing, mc.MethodExistKey, mc.MethodBatchExistKey,
			mc.MethodGetReplicaList, mc.MethodBatchGetReplicaList, mc.MethodMountSegment,
			mc.MethodReMountSegment, mc.MethodUnmountSegment, mc.MethodPutStart, mc.MethodPutEnd,
			mc.MethodPutRevoke, mc.MethodRemove, mc.MethodRemoveAll,
		} {
			m[x.ID] = x
		}
		for _, x := range opsMethods() {
			m[x.ID] = x
		}
		rpcMethods = m
	})
	m, ok := rpcMethods[id]
	return m, ok
}

func (s *Server) format() mc.BodyFormat { return mc.BodyFormat{Tagged: s.cfg.tagged} }

func (s *Server) replyFrame(seq uint32, errCode uint8, body []byte) []byte {
	out := make([]byte, 0, mc.ResponseHeaderSize+len(body))
	out = mc.AppendResponseHeader(out, mc.ResponseHeader{Magic: mc.Magic, ErrCode: errCode, Seq: seq, Length: uint32(len(body))})
	return append(out, body...)
}

func (s *Server) rpcError(seq uint32, code mc.Errc, msg string) []byte {
	body, ec := mc.AppendRPCErrorBody(nil, code, msg, s.format())
	return s.replyFrame(seq, ec, body)
}

// Messages of ylt's server for the two common failures.
const (
	msgNotRegistered = "the rpc function not registered"
	msgInvalidArg    = "invalid rpc arg"
)

var errInvalidArg = errors.New(msgInvalidArg)

func (s *Server) handle(h mc.RequestHeader, body []byte) ([]byte, action) {
	m, known := methodByID(h.FunctionID)
	name := "unknown"
	if known {
		name = m.Name
	}
	s.mu.Lock()
	s.calls[name]++
	f := s.takeFault(name)
	s.mu.Unlock()

	if f != nil {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return nil, actClose
			}
		}
		switch {
		case f.DropConnection:
			return nil, actClose
		case f.RawReply != nil:
			return append([]byte(nil), f.RawReply...), actReply
		case f.Errc != 0:
			msg := f.ErrMsg
			if msg == "" {
				msg = "injected fault"
			}
			return s.rpcError(h.Seq, f.Errc, msg), actReply
		}
	}
	if !known {
		return s.rpcError(h.Seq, mc.ErrcFunctionNotRegistered, msgNotRegistered), actReply
	}
	var forced mc.ErrorCode
	if f != nil {
		forced = f.Code
	}
	var res []byte
	if f != nil && f.Body != nil {
		res = f.Body
	} else {
		var err error
		s.mu.Lock()
		s.st.sweep()
		res, err = s.dispatch(m, body, forced)
		s.mu.Unlock()
		if err != nil {
			return s.rpcError(h.Seq, mc.ErrcInvalidRPCArguments, msgInvalidArg), actReply
		}
	}
	if f == nil {
		return s.replyFrame(h.Seq, 0, res), actReply
	}
	if f.PadBody > 0 {
		res = append(res[:len(res):len(res)], make([]byte, f.PadBody)...)
	}
	return f.apply(s.replyFrame(h.Seq, 0, res))
}

// args opens a request body against the accepted argument literals.
func args(body []byte, lits ...mc.Literal) (int, *mc.Decoder, error) {
	if len(body) == 0 {
		return -1, nil, errInvalidArg
	}
	return mc.OpenBody(body, mc.RequestHeaderSize, lits...)
}

// expectedBody encodes a tl::expected result: the value via pack when code
// is OK, the ErrorCode otherwise.
func (s *Server) expectedBody(lit mc.Literal, code mc.ErrorCode, pack func(*mc.Encoder)) []byte {
	return mc.AppendBody(nil, lit, s.format(), func(e *mc.Encoder) { writeExpected(e, code, pack) })
}

// legacyArgs are the argument literals of v0.3.1.1 where HEAD added one
// (the tenant).
var legacyArgs = map[uint32]mc.Literal{
	mc.MethodExistKey.ID:            mc.LegacyExistKeyArgs,
	mc.MethodGetReplicaList.ID:      mc.LegacyExistKeyArgs,
	mc.MethodBatchExistKey.ID:       mc.LegacyBatchExistKeyArgs,
	mc.MethodBatchGetReplicaList.ID: mc.LegacyBatchExistKeyArgs,
}

// tenant skips the tenant argument HEAD sends after the keys (v0.3.1.1
// sends none; the sandbox has no multi-tenancy).
func (s *Server) tenant(d *mc.Decoder) {
	if !s.cfg.legacy {
		d.Str()
	}
}

// writeExpected writes one tl::expected: the value via pack (nil for
// void) when code is OK, the ErrorCode otherwise.
func writeExpected(e *mc.Encoder, code mc.ErrorCode, pack func(*mc.Encoder)) {
	if code != mc.CodeOK {
		e.Bool(false)
		e.I32(int32(code))
		return
	}
	e.Bool(true)
	if pack != nil {
		pack(e)
	}
}

// expectedList encodes a vector of tl::expected, one for each item.
func (s *Server) expectedList(lit mc.Literal, n int, item func(i int) (mc.ErrorCode, func(*mc.Encoder))) []byte {
	return mc.AppendBody(nil, lit, s.format(), func(e *mc.Encoder) {
		e.Len(n)
		for i := 0; i < n; i++ {
			code, pack := item(i)
			writeExpected(e, code, pack)
		}
	})
}

// unlessForced runs op unless a fault forces the result code.
func unlessForced[T any](forced mc.ErrorCode, op func() (T, mc.ErrorCode)) (T, mc.ErrorCode) {
	if forced != 0 {
		var zero T
		return zero, forced
	}
	return op()
}

func (s *Server) layout() mc.Layout {
	if s.cfg.legacy {
		return mc.LayoutV0311
	}
	return mc.LayoutHEAD
}

// dispatch decodes the arguments, runs the store operation and encodes the
// result body. forced, when non-zero, replaces the Mooncake result code.
// Nothing runs unless every argument decoded.
func (s *Server) dispatch(m mc.Method, body []byte, forced mc.ErrorCode) ([]byte, error) {
	if m.ID == mc.MethodServiceReady.ID { // no arguments
		return s.expectedBody(m.Result, orForced(forced, mc.CodeOK), func(e *mc.Encoder) { e.Str(s.cfg.version) }), nil
	}
	lit := m.Args
	if l, ok := legacyArgs[m.ID]; ok && s.cfg.legacy {
		lit = l
	}
	_, d, err := args(body, lit)
	if err != nil {
		return nil, err
	}
	run := s.decodeRPC(m, d, forced)
	if run == nil {
		run = s.decodeOpsRPC(m, d, forced)
	}
	if run == nil {
		return nil, errInvalidArg
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	return run(), nil
}

// orForced is c unless a fault forces the result code.
func orForced(forced, c mc.ErrorCode) mc.ErrorCode {
	if forced != 0 {
		return forced
	}
	return c
}

// decodeRPC reads the arguments of m from d and returns the operation,
// which builds the result body; nil for a method of opsMethods.
func (s *Server) decodeRPC(m mc.Method, d *mc.Decoder, forced mc.ErrorCode) func() []byte {
	st := s.st
	or := func(c mc.ErrorCode) mc.ErrorCode { return orForced(forced, c) }
	void := func(op func() mc.ErrorCode) func() []byte {
		return func() []byte {
			code := forced
			if code == 0 {
				code = op()
			}
			return s.expectedBody(m.Result, code, nil)
		}
	}
	switch m.ID {
	case mc.MethodPing.ID:
		id := d.UUID()
		return func() []byte {
			p := st.ping(id)
			return s.expectedBody(m.Result, or(mc.CodeOK), func(e *mc.Encoder) { e.PingResponse(p) })
		}

	case mc.MethodExistKey.ID:
		key := d.Str()
		s.tenant(d)
		return func() []byte {
			ok := st.exist(key)
			return s.expectedBody(m.Result, or(mc.CodeOK), func(e *mc.Encoder) { e.Bool(ok) })
		}

	case mc.MethodBatchExistKey.ID:
		keys := d.Strings()
		s.tenant(d)
		return func() []byte {
			res := make([]bool, len(keys))
			for i, k := range keys {
				res[i] = st.exist(k)
			}
			return s.expectedList(m.Result, len(res), func(i int) (mc.ErrorCode, func(*mc.Encoder)) {
				return or(mc.CodeOK), func(e *mc.Encoder) { e.Bool(res[i]) }
			})
		}

	case mc.MethodGetReplicaList.ID:
		key := d.Str()
		s.tenant(d)
		return func() []byte {
			rl, code := st.replicaList(key, true)
			l := s.layout()
			return s.expectedBody(mc.GetReplicaListResult(l), or(code), func(e *mc.Encoder) { e.ReplicaList(rl, l) })
		}

	case mc.MethodBatchGetReplicaList.ID:
		keys := d.Strings()
		s.tenant(d)
		return func() []byte {
			type res struct {
				rl   mc.ReplicaList
				code mc.ErrorCode
			}
			all := make([]res, len(keys))
			for i, k := range keys {
				all[i].rl, all[i].code = st.replicaList(k, true)
			}
			l := s.layout()
			return s.expectedList(mc.BatchGetReplicaListResult(l), len(all), func(i int) (mc.ErrorCode, func(*mc.Encoder)) {
				return or(all[i].code), func(e *mc.Encoder) { e.ReplicaList(all[i].rl, l) }
			})
		}

	case mc.MethodMountSegment.ID:
		seg, id := d.Segment(), d.UUID()
		return void(func() mc.ErrorCode { return st.mountSegment(seg, id) })

	case mc.MethodReMountSegment.ID:
		n := d.Len(1)
		segs := make([]mc.Segment, 0, n)
		for i := 0; i < n && d.Err() == nil; i++ {
			segs = append(segs, d.Segment())
		}
		id := d.UUID()
		return void(func() mc.ErrorCode { return st.reMountSegment(segs, id) })

	case mc.MethodUnmountSegment.ID:
		sid, id := d.UUID(), d.UUID()
		return void(func() mc.ErrorCode { return st.unmountSegment(sid, id) })

	case mc.MethodPutStart.ID:
		id, key, size, cfg := d.UUID(), d.Str(), d.U64(), d.ReplicateConfig()
		d.Str() // tenant
		return func() []byte {
			reps, code := unlessForced(forced, func() ([]mc.Replica, mc.ErrorCode) { return st.putStart(id, key, size, cfg) })
			return s.expectedBody(m.Result, code, func(e *mc.Encoder) { e.Replicas(reps, mc.LayoutHEAD) })
		}

	case mc.MethodPutEnd.ID:
		id, meta, rt := d.UUID(), d.ObjectMeta(), mc.ReplicaType(d.I32())
		d.Str()
		return void(func() mc.ErrorCode { return st.putEnd(id, meta, rt) })

	case mc.MethodPutRevoke.ID:
		id, key, rt := d.UUID(), d.Str(), mc.ReplicaType(d.I32())
		d.Str()
		return void(func() mc.ErrorCode { return st.putRevoke(id, key, rt) })

	case mc.MethodRemove.ID:
		key, force := d.Str(), d.Bool()
		d.Str()
		return void(func() mc.ErrorCode { return st.remove(key, force) })

	case mc.MethodRemoveAll.ID:
		force := d.Bool()
		d.Str()
		return func() []byte {
			n := st.removeAll(force)
			return mc.AppendBody(nil, m.Result, s.format(), func(e *mc.Encoder) { e.I64(n) })
		}
	}
	return nil
}
