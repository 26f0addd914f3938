package mooncake_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

func startFake(t testing.TB, opts ...sandboxmaster.Option) *sandboxmaster.Server {
	t.Helper()
	s, err := sandboxmaster.Start("", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t testing.TB, s *sandboxmaster.Server, opts ...mc.Option) *mc.Client {
	t.Helper()
	c, err := mc.Dial(ctxT(t), s.Addr(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a plain TCP connection to the fake, for byte-level checks.
type rawConn struct {
	t testing.TB
	net.Conn
}

func rawDial(t testing.TB, s *sandboxmaster.Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return &rawConn{t, c}
}

func (r *rawConn) send(b []byte) {
	r.t.Helper()
	if _, err := r.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) expect(name string, want []byte) {
	r.t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil {
		r.t.Fatalf("%s: %v", name, err)
	}
	if !bytes.Equal(got, want) {
		r.t.Fatalf("%s:\n got % x\nwant % x", name, got, want)
	}
}

// readFrame reads one reply frame.
func (r *rawConn) readFrame() (mc.ResponseHeader, []byte) {
	r.t.Helper()
	h, body, err := mc.ReadResponse(r, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	return h, body
}

// §6.6: the bytes Mooncake's own client sent to the real master, replayed
// against the fake, must produce the bytes the real master answered.
func TestFakeAnswersLikeRealMaster66(t *testing.T) {
	s := startFake(t)
	if err := s.Populate(ctxT(t), []string{"alpha"}); err != nil {
		t.Fatal(err)
	}
	r := rawDial(t, s)
	r.send(mc.CapRealClientStream)
	r.expect("§6.6 server stream", mc.CapRealServerStream)
}

// §6.1 and §6.3 against a fake built like a release (untagged) master.
func TestFakeUntaggedCaptured61And63(t *testing.T) {
	s := startFake(t, sandboxmaster.WithUntaggedReplies())
	r := rawDial(t, s)
	r.send(append(append([]byte(nil), mc.CapServiceReadyReq...), mc.CapBatchExistReq...))
	r.expect("§6.3 ServiceReady", mc.CapServiceReadyResp)
	r.expect("§6.1 BatchExistKey", mc.CapBatchExistResp)

	if err := s.Populate(ctxT(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	r.send(mc.ReqFrame(2, mc.MethodBatchExistKey, mc.CapBatchExistReq[mc.RequestHeaderSize:]))
	r.expect("§6.1 after put", mc.RespFrame(2, 0, mc.CapBatchExistBody))

	// Unregistered function (GetFsdir), seq 12: errc 11 and ylt's message.
	r.send(mc.AppendRequestHeader(nil, mc.RequestHeader{Magic: mc.Magic, Seq: 12, FunctionID: mc.FunctionID("GetFsdir")}))
	r.expect("§6.3 not registered", mc.CapNotRegistered)

	// Wrong argument hash: errc 4, "invalid rpc arg"; the connection stays open.
	bad := append([]byte(nil), mc.CapBatchExistReq[mc.RequestHeaderSize:]...)
	bad[0] ^= 0x02
	r.send(mc.ReqFrame(13, mc.MethodBatchExistKey, bad))
	r.expect("§6.3 invalid arg", mc.RespFrame(13, 4, mc.CapInvalidArgBody))
	// Empty body for a function with arguments: errc 4 too.
	r.send(mc.ReqFrame(14, mc.MethodExistKey, nil))
	r.expect("empty body", mc.RespFrame(14, 4, mc.CapInvalidArgBody))

	// Ping of an unknown client: NEED_REMOUNT, seq 8.
	r.send(mc.CapPingReq)
	r.expect("§6.3 Ping", mc.CapPingResp)

	// Trailing bytes after a valid body and a non-zero msg_type are ignored.
	body := append(append([]byte(nil), mc.CapBatchExistReq[mc.RequestHeaderSize:]...), 0xEE, 0xEE)
	f := mc.ReqFrame(15, mc.MethodBatchExistKey, body)
	f[3] = 7
	r.send(f)
	r.expect("trailing bytes", mc.RespFrame(15, 0, mc.CapBatchExistBody))
}

// §6.4: the metadata-only put path, replayed byte for byte.
func TestFakeCaptured64PutPath(t *testing.T) {
	s := startFake(t, sandboxmaster.WithUntaggedReplies())
	r := rawDial(t, s)
	r.send(mc.ReqFrame(0, mc.MethodMountSegment, mc.CapMountBody))
	r.expect("§6.4 MountSegment", mc.RespFrame(0, 0, mc.CapVoidOKBody))
	// The capture was taken on a master that had already handed out three
	// 4 KiB replicas; recreate that state so ids and offsets line up.
	c := dial(t, s)
	for _, k := range []string{"x1", "x2", "x3"} {
		if _, err := c.PutStart(ctxT(t), mc.CapCID, k, 4096, mc.ReplicateConfig{ReplicaNum: 1}); err != nil {
			t.Fatal(err)
		}
		if err := c.PutEnd(ctxT(t), mc.CapCID, mc.ObjectMeta{Key: k}, mc.ReplicaTypeAll); err != nil {
			t.Fatal(err)
		}
	}
	r.send(mc.ReqFrame(1, mc.MethodPutStart, mc.CapPutStartBody))
	r.expect("§6.4 PutStart", mc.RespFrame(1, 0, mc.CapPutStartResp))
	// Between PutStart and PutEnd the key exists but is not readable.
	if _, err := c.GetReplicaList(ctxT(t), "a"); !errors.Is(err, mc.CodeReplicaIsNotReady) {
		t.Fatalf("before PutEnd: %v", err)
	}
	r.send(mc.ReqFrame(2, mc.MethodPutEnd, mc.CapPutEndBody))
	r.expect("§6.4 PutEnd", mc.RespFrame(2, 0, mc.CapVoidOKBody))
	r.send(mc.ReqFrame(3, mc.MethodGetReplicaList, mc.CapGetRLBody))
	r.expect("§6.4 GetReplicaList", mc.RespFrame(3, 0, mc.CapGetRLResp))
	r.send(mc.ReqFrame(4, mc.MethodGetReplicaList, mc.Hx(`d8 1e f9 7c 01 62 07 "default"`)))
	r.expect("§6.4 GetReplicaList missing", mc.RespFrame(4, 0, mc.CapGetRLMissing))
	// RemoveAll(false): "a" holds the lease GetReplicaList just granted, so
	// only x1..x3 go (removable = lease expired and all replicas complete).
	r.send(mc.ReqFrame(5, mc.MethodRemoveAll, mc.CapRemoveAllBody))
	r.expect("§6.4 RemoveAll", mc.RespFrame(5, 0, binary.LittleEndian.AppendUint64(mc.Hx(`34 68 66 86`), 3)))
}

// A bad magic, version or serialize type makes a ylt server drop the
// connection without a reply.
func TestFakeDropsBadHeaders(t *testing.T) {
	s := startFake(t)
	for i, mut := range []func([]byte){
		func(b []byte) { b[0] = 0x16 },
		func(b []byte) { b[1] = 1 },
		func(b []byte) { b[2] = 1 },
	} {
		r := rawDial(t, s)
		f := append([]byte(nil), mc.CapServiceReadyReq...)
		mut(f)
		r.send(f)
		if n, err := r.Read(make([]byte, 1)); err == nil {
			t.Fatalf("case %d: got %d bytes, want the connection closed", i, n)
		}
	}
}

// Pipelining on a raw socket: three requests back to back, three in-order
// replies with their seq_nums.
func TestFakePipelinedRaw(t *testing.T) {
	s := startFake(t)
	r := rawDial(t, s)
	var all []byte
	for seq := uint32(7); seq < 10; seq++ {
		all = append(all, mc.ReqFrame(seq, mc.MethodServiceReady, nil)...)
	}
	r.send(all)
	for seq := uint32(7); seq < 10; seq++ {
		h, body := r.readFrame()
		if h.Seq != seq || h.ErrCode != 0 || !bytes.Equal(body, mc.Hx(`35 cc b3 1c 04 87 80 0c 01 00 01 05 "2.0.0"`)) {
			t.Fatalf("seq %d: %+v % x", seq, h, body)
		}
	}
}
