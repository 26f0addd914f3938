package sandboxmaster

import (
	"encoding/binary"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
)

func newBareServer() *Server {
	s := &Server{calls: map[string]int{}, conns: nil, done: make(chan struct{})}
	s.cfg = config{clientTTL: 10 * time.Second, leaseTTL: 10 * time.Second, putStartDiscard: 30 * time.Second,
		now: time.Now, tagged: true, version: "2.0.0", ops: defaultOpsConfig()}
	s.st = newStore(&s.cfg)
	return s
}

func frame(m mc.Method, f mc.BodyFormat, pack func(*mc.Encoder)) []byte {
	body := mc.AppendBody(nil, m.Args, f, pack)
	out := mc.AppendRequestHeader(nil, mc.RequestHeader{Magic: mc.Magic, FunctionID: m.ID, Length: uint32(len(body))})
	return append(out, body...)
}

// handleFrame feeds one request frame to s and checks that the reply is
// one frame answering it; ok is false when data is no frame or the server
// closed the connection instead of replying.
func handleFrame(t *testing.T, s *Server, data []byte) (h mc.RequestHeader, rh mc.ResponseHeader, rbody []byte, ok bool) {
	t.Helper()
	h, body, _, err := mc.DecodeRequestFrame(data)
	if err != nil {
		return h, rh, nil, false
	}
	out, act := s.handle(h, body)
	if act != actReply {
		return h, rh, nil, false
	}
	rh, rbody, rest, err := mc.DecodeResponseFrame(out)
	if err != nil || len(rest) != 0 || rh.Seq != h.Seq {
		t.Fatalf("bad reply frame: %v % x", err, out)
	}
	return h, rh, rbody, true
}

// FuzzHandle feeds arbitrary request frames to the fake master's handlers:
// they must never panic, and every reply must be a well-formed frame.
func FuzzHandle(f *testing.F) {
	cid := mc.UUID{First: 1, Second: 2}
	seg := mc.Segment{ID: mc.UUID{First: 3, Second: 4}, Name: "n", Base: 1 << 20, Size: 1 << 20, TEEndpoint: "h:1", Protocol: "tcp"}
	f.Add(frame(mc.MethodMountSegment, mc.BodyFormat{}, func(e *mc.Encoder) { e.Segment(seg); e.UUID(cid) }))
	f.Add(frame(mc.MethodPutStart, mc.BodyFormat{Tagged: true}, func(e *mc.Encoder) {
		e.UUID(cid)
		e.Str("k")
		e.U64(10)
		e.ReplicateConfig(mc.ReplicateConfig{ReplicaNum: 2, PreferredSegments: []string{"n"}})
		e.Str("default")
	}))
	f.Add(frame(mc.MethodBatchExistKey, mc.BodyFormat{Width: 2}, func(e *mc.Encoder) { e.Strings([]string{"k", "j"}); e.Str("") }))
	f.Add(frame(mc.MethodBatchGetReplicaList, mc.BodyFormat{}, func(e *mc.Encoder) { e.Strings([]string{"k"}); e.Str("") }))
	f.Add(frame(mc.MethodReMountSegment, mc.BodyFormat{}, func(e *mc.Encoder) { e.Len(1); e.Segment(seg); e.UUID(cid) }))
	f.Add(frame(mc.MethodPutEnd, mc.BodyFormat{}, func(e *mc.Encoder) {
		e.UUID(cid)
		e.ObjectMeta(mc.ObjectMeta{Key: "k"})
		e.I32(4)
		e.Str("")
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newBareServer()
		// Mount a segment first so PutStart paths are reachable.
		mh, mb, _, _ := mc.DecodeRequestFrame(frame(mc.MethodMountSegment, mc.BodyFormat{}, func(e *mc.Encoder) { e.Segment(seg); e.UUID(cid) }))
		s.handle(mh, mb)
		h, rh, rbody, ok := handleFrame(t, s, data)
		if !ok {
			return
		}
		if rh.ErrCode == 0 && len(rbody) >= 4 {
			m := rpcMethods[h.FunctionID]
			if binary.LittleEndian.Uint32(rbody)>>1 != m.Result.Code()>>1 {
				t.Fatalf("%s reply has hash 0x%08x", m.Name, binary.LittleEndian.Uint32(rbody))
			}
		}
	})
}
