package mooncake

import "fmt"

// Reply bounds.
//
// Every call knows, before it reads a reply body, how large a legitimate
// reply to its request can be: the Client checks the length announced by the
// reply header against that bound and fails the call (and the connection,
// whose stream can no longer be trusted) with a *ProtocolError wrapping
// ErrFrameTooLarge, without reading the body. The bounds are derived from
// the struct_pack layouts of spec §3 with every container length at its
// widest (8 bytes: a peer may declare any width) and the assumptions below
// about string sizes, which no Mooncake deployment comes near:
//
//	envelope           4 (hash head) + 1 (metainfo) + 8 (compat length)
//	                   + the type literal and its NUL
//	fixed-size result  the envelope + the largest value of the type, e.g.
//	                   expected<void> 1+4, expected<bool> 1+4, Ping 1+12,
//	                   RemoveAll's i64 8 (computed from the literal)
//	error reply        64 KiB: a coro_rpc message or exception text
//	ServiceReady       expected<string>: 1 + 8 + 1 KiB of version string
//	BatchExistKey      8 + 5 bytes per key (has_value and an i32 code)
//	a replica          memory/NoF  8+1 + 8+8 + (8+32 protocol) + (8+512 endpoint) + 4 = 589
//	                   local disk  8+1 + 16+8 + (8+512 endpoint) + 4         = 557
//	                   disk        8+1 + (8+4096 path) + 8 + 4               = 4125
//	                   DFS         8+1 + (8+4096 path) + 8+8+8+4 + 4         = 4145
//	one key's list     1 (has_value) + 8 (count) + replicas + 8 (lease) + 9 (checksum)
//	GetReplicaList     one key's list with MaxReplicasPerKey replicas of the
//	PutStart           largest kind: 265,306 bytes + the envelope
//	BatchGetReplicaList 8 + 16 KiB per key, and never less than GetReplicaList:
//	                   16 KiB holds 8 memory, 2 disk/DFS and 2 local-disk
//	                   replicas per key with every string at its maximum
//	                   (14,142 bytes); a real entry is ~100 bytes a replica.
//	                   The same model bounds the count: at most
//	                   replicasPerKeyAvg (12) replicas a key on average over
//	                   the batch, and MaxReplicasPerKey for any one key
//	listing RPCs       16 MiB (a reply its request does not size, for
//	                   methods that declare no bound of their own)
//
// Whatever the per-call bound, a reply is never accepted above the Client's
// ceiling (WithMaxFrameSize, default DefaultMaxReplySize), and attachments,
// which the master never sends, above 64 KiB.
//
// Decoding then allocates only what the received bytes back: every length
// and count is checked against the bytes that remain before a slice is
// made, and a key's replica count against MaxReplicasPerKey, so a reply at
// its bound decodes into at most a small constant factor of its size
// (about 9x for the smallest possible replicas, whose Go form is 176 bytes;
// about 6x for real ones; strings share the reply's buffer).
const (
	// DefaultMaxReplySize is the default ceiling on any reply body the
	// Client accepts, whatever the request: 32 times a real reply for a
	// 1M-token prompt (4096 keys, ~1 MB with four replicas a key).
	DefaultMaxReplySize = 32 << 20

	// MaxReplicasPerKey bounds the replicas one key's entry may list.
	// Mooncake places each memory replica on a distinct segment and a
	// replica_num of 1-3 is the norm; a list longer than this is not an
	// answer the master produces.
	MaxReplicasPerKey = 64

	// maxLenWidth is the widest container length a peer may declare.
	maxLenWidth = 8
	// maxErrorReplyBody bounds the body of a reply with err_code != 0.
	maxErrorReplyBody = 64 << 10
	// maxAttachment bounds attach_length, which the master never uses.
	maxAttachment = 64 << 10
	// maxVersionLen bounds ServiceReady's version string ("2.0.0").
	maxVersionLen = 1 << 10
	// maxEndpointLen, maxProtocolLen and maxPathLen size the strings of a
	// replica descriptor: a host name is at most 253 bytes plus ":port",
	// protocols are "tcp", "rdma", "cxl", and PATH_MAX is 4096.
	maxEndpointLen = 512
	maxProtocolLen = 32
	maxPathLen     = 4096
	// replicaListPerKey is the average budget of one key's entry in a
	// BatchGetReplicaList reply, and replicasPerKeyAvg the average number
	// of replicas it is sized for.
	replicaListPerKey = 16 << 10
	replicasPerKeyAvg = 12
	// listingReplyLimit is the bound of methods that declare none.
	listingReplyLimit = 16 << 20
)

// Largest encodings of the descriptor kinds and of one key's list.
const (
	maxMemoryReplica    = 8 + 1 + 8 + 8 + maxLenWidth + maxProtocolLen + maxLenWidth + maxEndpointLen + 4
	maxLocalDiskReplica = 8 + 1 + 16 + 8 + maxLenWidth + maxEndpointLen + 4
	maxDiskReplica      = 8 + 1 + maxLenWidth + maxPathLen + 8 + 4
	maxDFSReplica       = 8 + 1 + maxLenWidth + maxPathLen + 8 + 8 + 8 + 4 + 4
	maxReplica          = maxDFSReplica
	replicaListFixed    = 1 + maxLenWidth + 8 + 9
	// maxReplicaList is one key's entry with MaxReplicasPerKey replicas of
	// the largest kind.
	maxReplicaList = replicaListFixed + MaxReplicasPerKey*maxReplica
)

// envelopeMax is the largest envelope of a body typed by one of lits.
func envelopeMax(lits ...Literal) int {
	n := 0
	for _, l := range lits {
		n = max(n, len(l))
	}
	return 4 + 1 + 8 + n + 1
}

// resultBound is the bound of a reply typed by one of lits when the type
// has a fixed largest size, and listingReplyLimit otherwise.
func resultBound(lits ...Literal) int {
	most := 0
	for _, l := range lits {
		n, rest, ok := literalMaxSize(l)
		if !ok || len(rest) != 0 {
			return listingReplyLimit
		}
		most = max(most, n)
	}
	return envelopeMax(lits...) + most
}

// literalMaxSize returns the largest payload of the type whose literal
// starts l, and the rest of l. ok is false for types holding containers
// (strings, vectors, maps) and for anything it does not parse with
// certainty, such as the alignment digits of trivially serializable
// structs: the caller then falls back to a declared bound.
func literalMaxSize(l Literal) (n int, rest Literal, ok bool) {
	if len(l) == 0 {
		return 0, nil, false
	}
	switch t, rest := l[0], l[1:]; t {
	case 0x01, 0x02, 0x11: // i32, u32, float
		return 4, rest, true
	case 0x03, 0x04, 0x12: // i64, u64, double
		return 8, rest, true
	case 0x05, 0x06, 0x0B, 0x0C: // i8, u8, bool, char
		return 1, rest, true
	case 0x07, 0x08: // i16, u16
		return 2, rest, true
	case 0xFA: // void, monostate
		return 0, rest, true
	case litTagOptional:
		n, rest, ok := literalMaxSize(rest)
		return 1 + n, rest, ok
	case litTagExpected:
		v, rest, ok := literalMaxSize(rest)
		if !ok {
			return 0, nil, false
		}
		e, rest, ok := literalMaxSize(rest)
		return 1 + max(v, e), rest, ok
	case litTagVariant:
		most := 0
		for len(rest) > 0 && rest[0] != litTagEnd {
			var n int
			if n, rest, ok = literalMaxSize(rest); !ok {
				return 0, nil, false
			}
			most = max(most, n)
		}
		if len(rest) == 0 {
			return 0, nil, false
		}
		return 1 + most, rest[1:], true
	case litTagStruct:
		sum := 0
		for len(rest) > 0 && rest[0] != litTagEnd {
			var n int
			if n, rest, ok = literalMaxSize(rest); !ok {
				return 0, nil, false
			}
			sum += n
		}
		if len(rest) == 0 {
			return 0, nil, false
		}
		return sum, rest[1:], true
	}
	return 0, nil, false
}

// replyLimit is the bound of one call's reply.
type replyLimit struct {
	bytes int // the largest body the request can produce
	keys  int // for batch calls, the keys sent (named in errors)
}

func (l replyLimit) String() string {
	if l.keys > 0 {
		return fmt.Sprintf("a reply to these %d keys", l.keys)
	}
	return "a reply to this request"
}

// replyBound is the bound of the reply to method m for a request of nkeys
// keys (ignored by calls that take none).
func replyBound(m Method, nkeys int) replyLimit {
	switch m.ID {
	case MethodServiceReady.ID:
		return replyLimit{bytes: serviceReadyBound(m.Result, litExpVoid)}
	case MethodBatchExistKey.ID:
		return replyLimit{bytes: batchExistBound(nkeys, m.Result), keys: nkeys}
	case MethodGetReplicaList.ID:
		return replyLimit{bytes: replicaListBound(getReplicaListResults...)}
	case MethodBatchGetReplicaList.ID:
		return replyLimit{bytes: batchReplicaListBound(nkeys, batchGetReplicaListResults...), keys: nkeys}
	case MethodPutStart.ID:
		return replyLimit{bytes: replicaListBound(m.Result)}
	}
	return replyLimit{bytes: resultBound(m.Result)}
}

// Bounds of the calls whose reply size depends on the request.

func serviceReadyBound(lits ...Literal) int {
	return envelopeMax(lits...) + 1 + maxLenWidth + maxVersionLen
}

func batchExistBound(nkeys int, lits ...Literal) int {
	return envelopeMax(lits...) + maxLenWidth + nkeys*(1+4)
}

func replicaListBound(lits ...Literal) int {
	return envelopeMax(lits...) + maxReplicaList
}

func batchReplicaListBound(nkeys int, lits ...Literal) int {
	return envelopeMax(lits...) + maxLenWidth + max(maxReplicaList, nkeys*replicaListPerKey)
}

// tooLarge is the error of a reply whose header announces more than its
// request can produce.
func tooLarge(method string, seq, announced uint32, attach bool, bound int, why string) error {
	what, off := "a body", 8
	if attach {
		what, off = "an attachment", 12
	}
	return &ProtocolError{Method: method, Offset: off, Err: ErrFrameTooLarge,
		Msg: fmt.Sprintf("the reply (seq %d) announces %s of %d bytes; %s is at most %d bytes: refused unread", seq, what, announced, why, bound)}
}
