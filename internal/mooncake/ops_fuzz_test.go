package mooncake

import (
	"testing"
)

// FuzzOpsDecoders feeds arbitrary reply bodies to the decoder of every store
// operation: never a panic, and whatever is accepted agrees with its
// request (one result per key, known enums, non-negative counts, only asked
// clients) and survives re-encoding.
func FuzzOpsDecoders(f *testing.F) {
	for _, b := range [][]byte{
		opRemoveLeased[16:], opRemoveOKBody, opBatchRemoveResp[16:], opTaggedBatchRemoveReply, opRegexResp[16:],
		opRegexInvalidBody, opRemoveAllResp[16:], opCreateMoveResp[16:], opCopyUnknownTargetBody, opQueryTaskResp[16:],
		opSegStatusResp[16:], opQueryIPReply,
	} {
		f.Add(b)
	}
	keys := []string{"a1", "a2", "missing"}
	asked := map[UUID]bool{{9, 9}: true, {1, 1}: true}
	open := func(body []byte, m Method) *Decoder {
		_, d, err := OpenBody(body, ResponseHeaderSize, m.Result)
		if err != nil {
			return nil
		}
		return d
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if d := open(body, MethodRemove); d != nil {
			_ = decodeRemove(d, "k")
		}
		if d := open(body, MethodBatchRemove); d != nil {
			if res, err := decodeBatchRemove(d, keys); err == nil {
				if len(res) != len(keys) {
					t.Fatalf("%d results for %d keys", len(res), len(keys))
				}
				enc := AppendBody(nil, MethodBatchRemove.Result, BodyFormat{Width: 4}, func(e *Encoder) {
					e.Len(len(res))
					for _, r := range res {
						if r.Removed() {
							e.Bool(true)
						} else {
							e.Bool(false)
							e.I32(int32(r.Code))
						}
					}
				})
				again, err := decodeBatchRemove(open(enc, MethodBatchRemove), keys)
				if err != nil {
					t.Fatal(err)
				}
				for i := range res {
					if again[i] != res[i] || res[i].Key != keys[i] || res[i].Code > 0 {
						t.Fatalf("round trip %v %v", res, again)
					}
				}
			}
		}
		if d := open(body, MethodRemoveByRegex); d != nil {
			if n, err := decodeRemoveByRegex(d, "p"); err == nil && n < 0 {
				t.Fatalf("count %d", n)
			}
		}
		if d := open(body, MethodRemoveAll); d != nil {
			if n, err := readCount(d, "RemoveAll"); err == nil && n < 0 {
				t.Fatalf("count %d", n)
			}
		}
		if d := open(body, MethodCreateMoveTask); d != nil {
			if id, err := decodeCreateTask(d, MethodCreateMoveTask, "k"); err == nil && id.IsZero() {
				t.Fatal("zero id accepted")
			}
		}
		if d := open(body, MethodQueryTask); d != nil {
			if task, err := decodeQueryTask(d, opTaskID); err == nil {
				if task.ID != opTaskID || !task.Type.Known() || !task.Status.Known() || len(task.Message) > MaxTaskMessage {
					t.Fatalf("accepted %+v", task)
				}
			}
		}
		if d := open(body, MethodQuerySegmentStatus); d != nil {
			if st, err := decodeSegmentStatus(d, MethodQuerySegmentStatus, "s"); err == nil && !st.Known() {
				t.Fatalf("status %d", st)
			}
		}
		if d := open(body, MethodBatchQueryIP); d != nil {
			if m, err := decodeBatchQueryIP(d, asked); err == nil {
				for id, ips := range m {
					if !asked[id] || ips == nil || len(ips) > maxIPsPerClient {
						t.Fatalf("accepted %v", m)
					}
				}
			}
		}
	})
}
