// Package mooncake is a pure-Go (no cgo) client of the Mooncake Store
// master (mooncake_master): its native coro_rpc protocol on the RPC port
// (default 50051) and its HTTP admin API (default port 9003), following the
// project's wire spec (mooncake-wire.md).
//
// # API
//
//	c, err := mooncake.Dial(ctx, "10.0.0.5:50051",
//		mooncake.WithTenant("default"), mooncake.WithCallTimeout(5*time.Second))
//	defer c.Close()
//	version, err := c.ServiceReady(ctx)            // "2.0.0" for v0.3.8..HEAD
//	st, err := c.BatchExistKey(ctx, keys)          // []ExistStatus: 1, 0 or -ErrorCode
//	hit := mooncake.PrefixHit(st)                  // leading chunks that exist
//	rl, err := c.GetReplicaList(ctx, key)          // where the replicas live
//	res, err := c.BatchGetReplicaList(ctx, keys)
//
//	peer, err := transport.NewPeer("http://10.0.0.5:9003")
//	adm, err := mooncake.NewAdmin(peer)
//	qs, err := adm.BatchQueryKeys(ctx, keys)       // read-only, split under 6 KiB URLs
//	err = adm.GetAllKeys(ctx, func(k string) error { ...; return nil })
//
// Client also exposes the metadata put path used by storage nodes
// (MountSegment, ReMountSegment, UnmountSegment, PutStart, PutEnd,
// PutRevoke) and Ping, which the fake master in sandboxmaster uses to
// populate itself the way real nodes do; lmc itself never calls them.
//
// Store operations (mooncake-ops.md; ops.go, tasks.go, segments.go,
// adminops.go):
//
//	err = c.Remove(ctx, key, force)                // *OpError: lease, busy, absent
//	res, err := c.BatchRemove(ctx, keys, force)    // []RemoveResult, one per key
//	n, err := c.RemoveByRegex(ctx, pattern, force) // count only; "" matches all
//	n, err = c.RemoveAll(ctx, force, "")           // every tenant
//	id, err := c.CreateMoveTask(ctx, key, srcSeg, dstSeg)
//	id, err = c.CreateCopyTask(ctx, key, []string{dstSeg})
//	task, err := c.QueryTask(ctx, id)              // PENDING..SUCCESS|FAILED
//	st, err := c.QuerySegmentStatus(ctx, seg)      // OK, DRAINING, ...
//	segs, err := adm.SegmentList(ctx)              // owner, range, usage: HTTP only
//	err = adm.ScanKeys(ctx, 0, fn)                 // every key and replica, streamed
//	re, err := mooncake.CompileKeyRegexp(pattern)  // what RemoveByRegex would match
//
// Errors are layered like the protocol, and tell "unreachable" from
// "answered wrongly":
//
//   - Unreachable: transport failures wrap the net or context error
//     (errors.As reaches net.Error, errors.Is reaches
//     context.DeadlineExceeded / context.Canceled): refused, reset,
//     timeouts, and a connection that ends before any byte of a reply
//     (io.EOF).
//   - The master said no: a non-zero coro_rpc err_code is an
//     *RPCError{Code, Name, Msg}; a Mooncake ErrorCode in the error arm of a
//     tl::expected (or an admin error_code) is a *MasterError
//     (errors.Is(err, CodeObjectNotFound) works); an admin answer saying
//     success=false without a code is an *AdminError quoting the master.
//   - Answered wrongly: a *ProtocolError naming the method and the byte
//     offset: a malformed frame or body (ErrTypeMismatch when the type hash
//     says another schema, ErrBadMagic, ErrShortBody), a reply larger than
//     its request can produce (ErrFrameTooLarge, refused from the header), a
//     reply with a seq_num no call waits for (ErrUnexpectedSeq, which fails
//     every pending call at once), a reply cut short (ErrTruncated), a batch
//     with another number of results than keys (ErrCountMismatch), bytes or
//     a second JSON document after the answer (ErrTrailingData), or an
//     answer that contradicts itself or the master's semantics
//     (ErrContradiction).
//
// # Limits
//
// Every reply is bounded by what its request can produce, as derived in
// limits.go from the struct_pack layouts: a fixed-size result by its type
// (expected<void> is 5 bytes plus the envelope), BatchExistKey 8 + 5 bytes a
// key, one key's replica list 64 replicas of the largest kind (265 KB),
// BatchGetReplicaList 16 KiB a key, an error reply 64 KiB, all under a
// 32 MiB ceiling (WithMaxFrameSize). A key lists at most MaxReplicasPerKey
// (64) replicas and a batch 12 a key on average, so decoding allocates in
// proportion to the keys asked. Admin answers carry per-request body limits
// (/health and /leader 16 KiB, /metrics/summary 64 KiB, /query_key 256 KiB,
// a /batch_query_keys page 512 KiB + 32 KiB a key); /get_all_keys is a
// stream of any length whose lines may not exceed MaxKeyLineLength (4 KiB).
//
// # Leases: which calls change the master's state
//
// ExistKey, BatchExistKey, GetReplicaList and BatchGetReplicaList GRANT A
// READ LEASE (--default_kv_lease_ttl, 10 s) on every key they find, exactly
// like LMCache's batch_is_exist; while it lasts a non-forced Remove fails
// with OBJECT_HAS_LEASE and eviction skips the object. The admin API's
// /batch_query_keys, /get_all_keys, /health and /metrics/summary are
// read-only and grant nothing; /query_key is served through GetReplicaList
// and does grant a lease. ServiceReady grants nothing; Ping refreshes the
// liveness TTL of the client id it names.
//
// # Framing (coro_rpc)
//
// Plain TCP, little-endian. A request is a 20-byte header (magic 0x15,
// version 0, serialize_type 0 = struct_pack, msg_type, seq_num u32,
// function_id u32, length u32, attach_length u32) and the body; a reply is a
// 16-byte header (magic, version, err_code u8, msg_type, seq_num, length,
// attach_length). err_code 1..254 carries a struct_pack string message, 255
// a pair<u16,string>. The master handles one connection's requests one at a
// time and replies in order with the request's seq_num, so the Client
// pipelines concurrent calls on its single connection and matches replies
// by seq_num; a cancelled or timed-out call returns at once and its late
// reply is read (within its bound) and dropped.
//
// A function id is the first four bytes, big-endian, of
// MD5("mooncake::WrappedMasterService::" + method) (FunctionID):
//
//	ServiceReady 0x7b81bb56   Ping 0xd6c2dae5       ExistKey 0x89385f09
//	BatchExistKey 0xb89fa6b0  GetReplicaList 0x1f7ef174
//	BatchGetReplicaList 0x1b0d20ff  MountSegment 0x3e7ec4bb
//	PutStart 0x65ea9ac1  PutEnd 0x8e8b2099  Remove 0xf1b09774  RemoveAll 0xd978ceb0
//
// # Bodies (struct_pack)
//
// A body is a u32 hash head, an optional metainfo byte (bit 2: the type
// literal and a NUL follow; bits 3-4: the width of every container length,
// 1/2/4/8 bytes), then the payload. The hash is MD5 of the type literal,
// first four bytes big-endian, bit 0 cleared (Literal.Code); literals are
// built from the grammar (Vec, Opt, Expected, Variant, Struct,
// TrivialStruct, Map) rather than tabulated. Examples:
//
//	ExistKey args      (string, string)              FD 80 0C 80 0C FF       0x7cf91ed8
//	BatchExistKey args (vector<string>, string)      FD 84 80 0C 80 0C FF    0x00f78d62
//	BatchExistKey res  vector<expected<bool,int>>    84 87 0B 01             0x2a5f8c5c
//	ServiceReady res   expected<string,int>          87 80 0C 01             0x1cb3cc34
//	GetReplicaList res expected<GetReplicaListResponse,int>                   0x88c6276c
//
// The official master (built without NDEBUG) always attaches the literal to
// its replies; release builds do not. Both are decoded, any declared width
// is accepted, and Encoder writes the narrowest width (or a forced one, or
// the tagged form, see BodyFormat). Decoders never panic and never allocate
// more than the received bytes can back.
//
// # Version drift
//
// ServiceReady has said "2.0.0" since v0.3.8 while the types changed. Masters
// before commit a953dcb1 (v0.3.11 and older) take no tenant argument: they
// answer coro_rpc errc 4 (invalid_rpc_arguments) to the HEAD form, and the
// Client then retries ExistKey/BatchExistKey/GetReplicaList/
// BatchGetReplicaList in the one-argument form and remembers it (Legacy).
// GetReplicaList replies are decoded by their hash in the HEAD, v0.3.11/12
// and v0.3.10 layouts (Layout). The put path speaks HEAD only.
package mooncake
