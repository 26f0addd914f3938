package mooncake_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
)

func replyFrame(seq uint32, body []byte) []byte {
	return append(mc.AppendResponseHeader(nil, mc.ResponseHeader{Magic: mc.Magic, Seq: seq, Length: uint32(len(body))}), body...)
}

// FuzzClientReply runs real Client calls against a peer that answers the
// first request with arbitrary bytes (with that request's seq_num patched
// in unless keepSeq is set) and hangs up. Whatever the bytes, the call ends
// at once (never at its deadline), and a success is consistent with the
// request: one result per key, each either an error code or 1 to
// MaxReplicasPerKey replicas.
func FuzzClientReply(f *testing.F) {
	l := mc.LayoutHEAD
	f.Add(uint8(0), false, replyFrame(0, tagged(mc.MethodBatchExistKey.Result, func(e *mc.Encoder) {
		e.Len(2)
		e.Bool(true)
		e.Bool(true)
		e.Bool(false)
		e.I32(-704)
	})))
	f.Add(uint8(1), false, replyFrame(0, tagged(mc.BatchGetReplicaListResult(l), func(e *mc.Encoder) {
		e.Len(2)
		e.Bool(true)
		e.ReplicaList(mc.ReplicaList{Replicas: replicaN(2), LeaseTTLMillis: 1}, l)
		e.Bool(false)
		e.I32(-704)
	})))
	f.Add(uint8(2), false, replyFrame(0, tagged(mc.GetReplicaListResult(l), func(e *mc.Encoder) {
		e.Bool(true)
		e.ReplicaList(mc.ReplicaList{Replicas: replicaN(1)}, l)
	})))
	f.Add(uint8(3), false, mc.CapServiceReadyResp)
	f.Add(uint8(0), true, replyFrame(77, nil))
	f.Add(uint8(1), false, mc.AppendResponseHeader(nil, mc.ResponseHeader{Magic: mc.Magic, Length: 1 << 30}))
	f.Add(uint8(2), false, mc.CapNotRegistered)
	f.Fuzz(func(t *testing.T, which uint8, keepSeq bool, data []byte) {
		cli, srv := net.Pipe()
		defer srv.Close()
		served := make(chan struct{})
		go func() {
			defer close(served)
			defer srv.Close()
			h, _, err := mc.ReadRequest(srv, 0)
			if err != nil {
				return
			}
			out := append([]byte(nil), data...)
			if !keepSeq && len(out) >= 8 {
				binary.LittleEndian.PutUint32(out[4:], h.Seq)
			}
			srv.SetWriteDeadline(time.Now().Add(2 * time.Second))
			_, _ = srv.Write(out)
		}()
		dialed := false
		c, err := mc.Dial(context.Background(), "pipe", mc.WithDialer(func(context.Context, string, string) (net.Conn, error) {
			if dialed {
				return nil, errors.New("no second connection")
			}
			dialed = true
			return cli, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys := []string{"a", "b"}
		switch which % 4 {
		case 0:
			var st []mc.ExistStatus
			st, err = c.BatchExistKey(ctx, keys)
			if err == nil && len(st) != len(keys) {
				t.Fatalf("%d statuses for %d keys", len(st), len(keys))
			}
			for _, s := range st {
				if s != mc.Present && s != mc.Missing && s >= 0 {
					t.Fatalf("status %d", s)
				}
			}
		case 1:
			var res []mc.ReplicaListResult
			res, err = c.BatchGetReplicaList(ctx, keys)
			if err == nil && len(res) != len(keys) {
				t.Fatalf("%d results for %d keys", len(res), len(keys))
			}
			for i, r := range res {
				if r.Key != keys[i] || (r.Code < 0) == (len(r.Replicas) > 0) || r.Code > 0 || len(r.Replicas) > mc.MaxReplicasPerKey {
					t.Fatalf("result %d: %+v", i, r)
				}
			}
		case 2:
			var rl mc.ReplicaList
			rl, err = c.GetReplicaList(ctx, "a")
			if err == nil && (len(rl.Replicas) == 0 || len(rl.Replicas) > mc.MaxReplicasPerKey) {
				t.Fatalf("%d replicas", len(rl.Replicas))
			}
		case 3:
			_, err = c.ServiceReady(ctx)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the call waited for its deadline: %v", err)
		}
		c.Close()
		<-served
	})
}
