package sandboxmaster

import (
	"encoding/binary"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
)

// FuzzHandleOps feeds arbitrary request frames to the store-operation
// handlers of a sandbox holding segments, keys, a lease, a key mid-put and
// tasks: they never panic, every reply is a well-formed frame of the
// method's result type, and the store stays consistent.
func FuzzHandleOps(f *testing.F) {
	cid := mc.UUID{First: 1, Second: 2}
	for _, fr := range [][]byte{
		frame(mc.MethodBatchRemove, mc.BodyFormat{}, func(e *mc.Encoder) { e.Strings([]string{"k0", "k1", "nope", "k0"}); e.Bool(false); e.Str("default") }),
		frame(mc.MethodBatchRemove, mc.BodyFormat{Tagged: true}, func(e *mc.Encoder) { e.Strings([]string{"k2", "mid"}); e.Bool(true); e.Str("") }),
		frame(mc.MethodRemoveByRegex, mc.BodyFormat{}, func(e *mc.Encoder) { e.Str(`^k\d$`); e.Bool(false); e.Str("default") }),
		frame(mc.MethodRemoveByRegex, mc.BodyFormat{Width: 2}, func(e *mc.Encoder) { e.Str("(?i)k"); e.Bool(true); e.Str("default") }),
		frame(mc.MethodCreateCopyTask, mc.BodyFormat{}, func(e *mc.Encoder) { e.Str("k1"); e.Str("default"); e.Strings([]string{"b"}) }),
		frame(mc.MethodCreateMoveTask, mc.BodyFormat{}, func(e *mc.Encoder) { e.Str("k1"); e.Str("default"); e.Str("a"); e.Str("b") }),
		frame(mc.MethodQueryTask, mc.BodyFormat{}, func(e *mc.Encoder) { e.UUID(mc.UUID{First: 5, Second: 5}) }),
		frame(mc.MethodQuerySegmentStatus, mc.BodyFormat{}, func(e *mc.Encoder) { e.Str("a") }),
		frame(mc.MethodQuerySegmentStatusByID, mc.BodyFormat{}, func(e *mc.Encoder) { e.UUID(mc.UUID{First: 3, Second: 4}) }),
		frame(mc.MethodBatchQueryIP, mc.BodyFormat{}, func(e *mc.Encoder) { e.Len(2); e.UUID(cid); e.UUID(mc.UUID{First: 9}) }),
		frame(mc.MethodRemoveAll, mc.BodyFormat{}, func(e *mc.Encoder) { e.Bool(true); e.Str("") }),
	} {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newBareServer()
		s.cfg.ops.execute = true
		clock := time.Unix(1000, 0)
		s.cfg.now = func() time.Time { return clock }
		run := func(fr []byte) []byte {
			h, b, _, err := mc.DecodeRequestFrame(fr)
			if err != nil {
				return nil
			}
			out, _ := s.handle(h, b)
			return out
		}
		for i, name := range []string{"a", "b"} {
			seg := mc.Segment{ID: mc.UUID{First: 3 + uint64(i), Second: 4}, Name: name, Base: uint64(i+1) << 30, Size: 1 << 20, TEEndpoint: "h:" + name, Protocol: "tcp"}
			run(frame(mc.MethodMountSegment, mc.BodyFormat{}, func(e *mc.Encoder) { e.Segment(seg); e.UUID(cid) }))
		}
		for _, k := range []string{"k0", "k1", "k2", "mid"} {
			run(frame(mc.MethodPutStart, mc.BodyFormat{}, func(e *mc.Encoder) {
				e.UUID(cid)
				e.Str(k)
				e.U64(100)
				e.ReplicateConfig(mc.ReplicateConfig{ReplicaNum: 1, PreferredSegment: "a"})
				e.Str("default")
			}))
			if k != "mid" {
				run(frame(mc.MethodPutEnd, mc.BodyFormat{}, func(e *mc.Encoder) { e.UUID(cid); e.ObjectMeta(mc.ObjectMeta{Key: k}); e.I32(4); e.Str("") }))
			}
		}
		run(frame(mc.MethodExistKey, mc.BodyFormat{}, func(e *mc.Encoder) { e.Str("k0"); e.Str("") }))
		run(frame(mc.MethodCreateMoveTask, mc.BodyFormat{}, func(e *mc.Encoder) { e.Str("k2"); e.Str(""); e.Str("a"); e.Str("b") }))
		clock = clock.Add(1500 * time.Millisecond) // the executor fetched it
		h, rh, rbody, ok := handleFrame(t, s, data)
		if !ok {
			return
		}
		if m, ok := rpcMethods[h.FunctionID]; ok && rh.ErrCode == 0 {
			if len(rbody) < 4 || binary.LittleEndian.Uint32(rbody)>>1 != m.Result.Code()>>1 {
				t.Fatalf("%s reply % x", m.Name, rbody)
			}
		}
		clock = clock.Add(time.Hour) // every event fires
		s.mu.Lock()
		s.st.sweep()
		for _, seg := range s.st.segments {
			if seg.used > seg.seg.Size {
				t.Fatalf("segment %s uses %d of %d", seg.seg.Name, seg.used, seg.seg.Size)
			}
		}
		if s.st.ops.pending < 0 || s.st.ops.pending > len(s.st.ops.tasks) {
			t.Fatalf("pending %d of %d", s.st.ops.pending, len(s.st.ops.tasks))
		}
		for k, o := range s.st.objects {
			if o.repl != nil {
				t.Fatalf("%s: a replication outlived its executor", k)
			}
		}
		s.mu.Unlock()
	})
}
