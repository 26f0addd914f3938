package mooncake

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hx parses the notation of the spec's hex dumps: hex bytes separated by
// spaces or '|', and "quoted" ASCII strings.
func hx(s string) []byte {
	var out []byte
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t\n|")
		if s == "" {
			break
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			out = append(out, s[1:end+1]...)
			s = s[end+2:]
			continue
		}
		n := strings.IndexAny(s, " \t\n|")
		if n < 0 {
			n = len(s)
		}
		b, err := hex.DecodeString(s[:n])
		if err != nil {
			panic("hx: " + s[:n])
		}
		out = append(out, b...)
		s = s[n:]
	}
	return out
}

func rep(b []byte, n int) []byte { return bytes.Repeat(b, n) }

// exchange is one captured request and the reply the scripted master sends.
type exchange struct {
	req     []byte // expected request frame; nil accepts any
	maskSeq bool   // compare the request ignoring its seq_num
	resp    []byte // reply frame; its seq_num is replaced by the request's
	check   func(t *testing.T, req []byte)
}

func readRawRequest(r io.Reader) ([]byte, error) {
	hdr := make([]byte, RequestHeaderSize)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[12:]) + binary.LittleEndian.Uint32(hdr[16:])
	rest := make([]byte, n)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, err
	}
	return append(hdr, rest...), nil
}

// scripted returns a Dialer whose connection plays a master that answers
// with the captured replies and checks every request byte for byte.
func scripted(t *testing.T, exs []exchange) Option {
	return WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		cli, srv := net.Pipe()
		go func() {
			defer srv.Close()
			for i, ex := range exs {
				got, err := readRawRequest(srv)
				if err != nil {
					t.Errorf("exchange %d: reading request: %v", i, err)
					return
				}
				want := ex.req
				if want != nil {
					if ex.maskSeq {
						want = append([]byte(nil), want...)
						copy(want[4:8], got[4:8])
					}
					if !bytes.Equal(got, want) {
						t.Errorf("exchange %d: request\n got % x\nwant % x", i, got, want)
					}
				}
				if ex.check != nil {
					ex.check(t, got)
				}
				resp := append([]byte(nil), ex.resp...)
				copy(resp[4:8], got[4:8])
				if _, err := srv.Write(resp); err != nil {
					t.Errorf("exchange %d: writing reply: %v", i, err)
					return
				}
			}
			io.Copy(io.Discard, srv)
		}()
		return cli, nil
	})
}

func dialScripted(t *testing.T, exs []exchange, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "captured", append([]Option{scripted(t, exs)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Captured frames (spec §6).
var (
	// §6.3
	capServiceReadyReq  = hx(`15 00 00 00 00 00 00 00 56 bb 81 7b 00 00 00 00 00 00 00 00`)
	capServiceReadyResp = hx(`15 00 00 00 00 00 00 00 0b 00 00 00 00 00 00 00 | 34 cc b3 1c 01 05 32 2e 30 2e 30`)
	capPingReq          = hx(`15 00 00 00 08 00 00 00 e5 da c2 d6 14 00 00 00 00 00 00 00 | e0 83 6d 3c | aa aa 00 00 00 00 00 00 bb bb 00 00 00 00 00 00`)
	capPingResp         = hx(`15 00 00 00 08 00 00 00 11 00 00 00 00 00 00 00 | 52 8f 2a 74 | 01 | 00 00 00 00 00 00 00 00 | 02 00 00 00`)
	capNotRegistered    = hx(`15 00 0b 00 0c 00 00 00 24 00 00 00 00 00 00 00 | 76 fa cf 9d 1f "the rpc function not registered"`)
	capInvalidArgBody   = hx(`76 fa cf 9d 0f "invalid rpc arg"`)

	// §6.1
	capBatchExistReq  = hx(`15 00 00 00 01 00 00 00 b0 a6 9f b8 11 00 00 00 00 00 00 00 | 62 8d f7 00 02 01 61 01 62 07 64 65 66 61 75 6c 74`)
	capBatchExistResp = hx(`15 00 00 00 01 00 00 00 09 00 00 00 00 00 00 00 | 5c 8c 5f 2a 02 01 00 01 00`)
	capBatchExistBody = hx(`5c 8c 5f 2a 02 01 01 01 00`)

	// §6.4
	capCID           = UUID{0xAAAA, 0xBBBB}
	capCIDBytes      = hx(`aa aa 00 00 00 00 00 00 bb bb 00 00 00 00 00 00`)
	capMountBody     = hx(`ae 0d f7 9e 11 11 00 00 00 00 00 00 22 22 00 00 00 00 00 00 0a 66 61 6b 65 2d 73 65 67 2d 30 00 00 00 10 00 00 00 00 00 00 10 00 00 00 00 00 0f 31 32 37 2e 30 2e 30 2e 31 3a 31 37 37 37 37 03 74 63 70 00 aa aa 00 00 00 00 00 00 bb bb 00 00 00 00 00 00`)
	capVoidOKBody    = hx(`cc 68 28 af 01`)
	capPutStartBody  = hx(`0e bd 85 e3 aa aa 00 00 00 00 00 00 bb bb 00 00 00 00 00 00 01 61 00 10 00 00 00 00 00 00 01 00 00 00 00 00 00 00` + strings.Repeat(" 00", 16) + strings.Repeat(" 00", 10) + ` 07 "default"`)
	capPutStartResp  = hx(`a6 27 39 c4 01 01 04 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 30 00 10 00 00 00 00 03 "tcp" 0f "127.0.0.1:17777" 02 00 00 00`)
	capPutEndBody    = append(append(hx(`22 92 81 d1`), capCIDBytes...), hx(`01 61 00 04 00 00 00 07 "default"`)...)
	capGetRLBody     = hx(`d8 1e f9 7c 01 61 07 64 65 66 61 75 6c 74`)
	capGetRLResp     = hx(`6c 27 c6 88 01 01 04 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 30 00 10 00 00 00 00 03 "tcp" 0f "127.0.0.1:17777" 03 00 00 00 10 27 00 00 00 00 00 00 00`)
	capGetRLMissing  = hx(`6c 27 c6 88 00 40 fd ff ff`)
	capRemoveAllBody = hx(`74 c2 a6 48 00 07 "default"`)
	capRemoveAllResp = hx(`34 68 66 86 01 00 00 00 00 00 00 00`)

	// §6.5
	capDebugServiceReadyBody = hx(`35 cc b3 1c 04 87 80 0c 01 00 01 05 32 2e 30 2e 30`)

	// §6.6: the real master and Mooncake's own client, both tagged.
	capRealClientStream = hx(`15 00 00 00 00 00 00 00 56 bb 81 7b 00 00 00 00 00 00 00 00
		15 00 00 00 01 00 00 00 b0 a6 9f b8 28 00 00 00 00 00 00 00 |
		63 8d f7 00 04 fd 84 80 0c 80 0c ff 00 02 05 61 6c 70 68 61
		0b 6d 69 73 73 69 6e 67 5f 6b 65 79 07 64 65 66 61 75 6c 74`)
	capRealServerStream = hx(`15 00 00 00 00 00 00 00 11 00 00 00 00 00 00 00 |
		35 cc b3 1c 04 87 80 0c 01 00 01 05 32 2e 30 2e 30
		15 00 00 00 01 00 00 00 0f 00 00 00 00 00 00 00 |
		5d 8c 5f 2a 04 84 87 0b 01 00 02 01 01 01 00`)
)

// reqFrame wraps a captured body in a request header.
func reqFrame(seq uint32, m Method, body []byte) []byte {
	f := AppendRequestHeader(nil, RequestHeader{Magic: Magic, Seq: seq, FunctionID: m.ID, Length: uint32(len(body))})
	return append(f, body...)
}

// respFrame wraps a captured body in a reply header.
func respFrame(seq uint32, errCode uint8, body []byte) []byte {
	f := AppendResponseHeader(nil, ResponseHeader{Magic: Magic, ErrCode: errCode, Seq: seq, Length: uint32(len(body))})
	return append(f, body...)
}

func TestCapturedSizes(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		n    int
	}{
		{"§6.1 request", capBatchExistReq, 37}, {"§6.1 response", capBatchExistResp, 25},
		{"§6.4 MountSegment body", capMountBody, 84}, {"§6.4 PutStart body", capPutStartBody, 72},
		{"§6.4 PutStart response body", capPutStartResp, 55}, {"§6.4 GetReplicaList response body", capGetRLResp, 64},
	} {
		if len(c.b) != c.n {
			t.Errorf("%s: %d bytes, spec says %d", c.name, len(c.b), c.n)
		}
	}
}

// §6.6: Mooncake's own client against the real master. Our client, set to
// tag its bodies like the C++ client, must send exactly those bytes and
// decode exactly those replies.
func TestCaptured66RealMasterTagged(t *testing.T) {
	_, _, rest, err := DecodeRequestFrame(capRealClientStream)
	if err != nil {
		t.Fatal(err)
	}
	n1 := len(capRealClientStream) - len(rest)
	_, _, rest2, err := DecodeResponseFrame(capRealServerStream)
	if err != nil {
		t.Fatal(err)
	}
	m1 := len(capRealServerStream) - len(rest2)
	c := dialScripted(t, []exchange{
		{req: capRealClientStream[:n1], resp: capRealServerStream[:m1]},
		{req: capRealClientStream[n1:], resp: capRealServerStream[m1:]},
	}, WithBodyFormat(BodyFormat{Tagged: true}))
	v, err := c.ServiceReady(ctx5(t))
	if err != nil || v != "2.0.0" {
		t.Fatalf("ServiceReady = %q, %v", v, err)
	}
	st, err := c.BatchExistKey(ctx5(t), []string{"alpha", "missing_key"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0] != Present || st[1] != Missing {
		t.Fatalf("statuses %v", st)
	}
	if PrefixHit(st) != 1 {
		t.Fatalf("PrefixHit = %d", PrefixHit(st))
	}
}

// §6.1 and §6.3 (untagged form) through the real client code path.
func TestCaptured61And63(t *testing.T) {
	c := dialScripted(t, []exchange{
		{req: capServiceReadyReq, resp: capServiceReadyResp},
		{req: capBatchExistReq, resp: capBatchExistResp},
		{req: reqFrame(2, MethodBatchExistKey, capBatchExistReq[RequestHeaderSize:]), resp: respFrame(2, 0, capBatchExistBody)},
		{req: capPingReq, maskSeq: true, resp: capPingResp},
		{resp: capNotRegistered},
		{resp: respFrame(0, 4, capInvalidArgBody)},
	})
	ctx := ctx5(t)
	if v, err := c.ServiceReady(ctx); err != nil || v != "2.0.0" {
		t.Fatalf("ServiceReady = %q, %v", v, err)
	}
	st, err := c.BatchExistKey(ctx, []string{"a", "b"})
	if err != nil || len(st) != 2 || st[0] != Missing || st[1] != Missing {
		t.Fatalf("empty store: %v %v", st, err)
	}
	st, err = c.BatchExistKey(ctx, []string{"a", "b"})
	if err != nil || len(st) != 2 || st[0] != Present || st[1] != Missing {
		t.Fatalf("after put of a: %v %v", st, err)
	}
	p, err := c.Ping(ctx, capCID)
	if err != nil || p.ViewVersion != 0 || p.ClientStatus != ClientNeedRemount {
		t.Fatalf("Ping = %+v, %v", p, err)
	}
	_, err = c.ServiceReady(ctx)
	var re *RPCError
	if !errors.As(err, &re) || re.Code != ErrcFunctionNotRegistered || re.Name != "function_not_registered" || re.Msg != "the rpc function not registered" {
		t.Fatalf("unknown function: %#v", err)
	}
	_, err = c.ServiceReady(ctx)
	if !errors.As(err, &re) || re.Code != ErrcInvalidRPCArguments || re.Msg != "invalid rpc arg" {
		t.Fatalf("invalid arg: %#v", err)
	}
	if !errors.Is(err, &RPCError{Code: ErrcInvalidRPCArguments}) {
		t.Fatal("errors.Is on RPCError")
	}
}

// §6.2: 300 keys force 2-byte lengths everywhere, even for "default".
func TestCaptured62WideLengths(t *testing.T) {
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	respBody := append(hx(`5d 8c 5f 2a 08 2c 01`), rep(hx(`01 00`), 300)...)
	bigKey := strings.Repeat("x", 300)
	existBody := append(append(hx(`d9 1e f9 7c 08 2c 01`), bigKey...), hx(`07 00 "default"`)...)
	c := dialScripted(t, []exchange{
		{resp: respFrame(0, 0, respBody), check: func(t *testing.T, req []byte) {
			body := req[RequestHeaderSize:]
			if !bytes.HasPrefix(body, hx(`63 8d f7 00 | 08 | 2c 01 | 02 00 6b 30 | 02 00 6b 31`)) {
				t.Errorf("300-key body starts % x", body[:16])
			}
			if !bytes.HasSuffix(body, hx(`07 00 64 65 66 61 75 6c 74`)) {
				t.Errorf("300-key body ends % x", body[len(body)-9:])
			}
		}},
		{req: reqFrame(1, MethodExistKey, existBody), resp: respFrame(1, 0, hx(`d2 00 e8 90 01 01`))},
	})
	st, err := c.BatchExistKey(ctx5(t), keys)
	if err != nil || len(st) != 300 || PrefixHit(st) != 0 {
		t.Fatalf("%d statuses, %v", len(st), err)
	}
	ok, err := c.ExistKey(ctx5(t), bigKey)
	if err != nil || !ok {
		t.Fatalf("ExistKey = %v, %v", ok, err)
	}
}

// §6.4: the metadata-only put path and GetReplicaList.
func TestCaptured64PutPath(t *testing.T) {
	seg := Segment{ID: UUID{0x1111, 0x2222}, Name: "fake-seg-0", Base: 0x10000000, Size: 0x100000,
		TEEndpoint: "127.0.0.1:17777", Protocol: "tcp"}
	c := dialScripted(t, []exchange{
		{req: reqFrame(0, MethodMountSegment, capMountBody), resp: respFrame(0, 0, capVoidOKBody)},
		{req: reqFrame(1, MethodPutStart, capPutStartBody), resp: respFrame(1, 0, capPutStartResp)},
		{req: reqFrame(2, MethodPutEnd, capPutEndBody), resp: respFrame(2, 0, capVoidOKBody)},
		{req: reqFrame(3, MethodGetReplicaList, capGetRLBody), resp: respFrame(3, 0, capGetRLResp)},
		{req: reqFrame(4, MethodGetReplicaList, hx(`d8 1e f9 7c 01 62 07 "default"`)), resp: respFrame(4, 0, capGetRLMissing)},
		{req: reqFrame(5, MethodRemoveAll, capRemoveAllBody), resp: respFrame(5, 0, capRemoveAllResp)},
	})
	ctx := ctx5(t)
	if err := c.MountSegment(ctx, seg, capCID); err != nil {
		t.Fatal(err)
	}
	reps, err := c.PutStart(ctx, capCID, "a", 4096, ReplicateConfig{ReplicaNum: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := Replica{ID: 4, Status: ReplicaProcessing, Kind: KindMemory, Buffer: BufferDescriptor{
		Size: 4096, BufferAddress: 0x10003000, Protocol: "tcp", TransportEndpoint: "127.0.0.1:17777"}}
	if len(reps) != 1 || reps[0] != want {
		t.Fatalf("PutStart replicas %+v", reps)
	}
	if err := c.PutEnd(ctx, capCID, ObjectMeta{Key: "a"}, ReplicaTypeAll); err != nil {
		t.Fatal(err)
	}
	rl, err := c.GetReplicaList(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	want.Status = ReplicaComplete
	if len(rl.Replicas) != 1 || rl.Replicas[0] != want || rl.LeaseTTLMillis != 10000 || rl.ObjectChecksum != nil || rl.Layout != LayoutHEAD {
		t.Fatalf("GetReplicaList %+v", rl)
	}
	if rl.Replicas[0].Endpoint() != "127.0.0.1:17777" || rl.Replicas[0].Size() != 4096 {
		t.Fatal("Endpoint/Size helpers")
	}
	_, err = c.GetReplicaList(ctx, "b")
	var me *MasterError
	if !errors.As(err, &me) || me.Code != CodeObjectNotFound || me.Name != "OBJECT_NOT_FOUND" || !errors.Is(err, CodeObjectNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	n, err := c.RemoveAll(ctx, false, "default")
	if err != nil || n != 1 {
		t.Fatalf("RemoveAll = %d, %v", n, err)
	}
}

// Encoding side: the captured bodies must come out of AppendBody exactly, so
// the fake master (which uses the same encoder) answers real bytes.
func TestCapturedBodiesEncode(t *testing.T) {
	u := BodyFormat{}
	tg := BodyFormat{Tagged: true}
	seg := Segment{ID: UUID{0x1111, 0x2222}, Name: "fake-seg-0", Base: 0x10000000, Size: 0x100000,
		TEEndpoint: "127.0.0.1:17777", Protocol: "tcp"}
	rep := Replica{ID: 4, Status: ReplicaProcessing, Kind: KindMemory, Buffer: BufferDescriptor{
		Size: 4096, BufferAddress: 0x10003000, Protocol: "tcp", TransportEndpoint: "127.0.0.1:17777"}}
	rl := ReplicaList{Replicas: []Replica{rep}, LeaseTTLMillis: 10000}
	rl.Replicas[0].Status = ReplicaComplete
	cases := []struct {
		name string
		lit  Literal
		f    BodyFormat
		pack func(*Encoder)
		want []byte
	}{
		{"§6.3 ServiceReady", MethodServiceReady.Result, u, func(e *Encoder) { e.Bool(true); e.Str("2.0.0") }, capServiceReadyResp[16:]},
		{"§6.5/§6.6 ServiceReady tagged", MethodServiceReady.Result, tg, func(e *Encoder) { e.Bool(true); e.Str("2.0.0") }, capDebugServiceReadyBody},
		{"§6.3 Ping request", MethodPing.Args, u, func(e *Encoder) { e.UUID(capCID) }, capPingReq[20:]},
		{"§6.3 Ping reply", MethodPing.Result, u, func(e *Encoder) { e.Bool(true); e.PingResponse(PingResponse{0, ClientNeedRemount}) }, capPingResp[16:]},
		{"§6.3 not registered", LitString, u, func(e *Encoder) { e.Str("the rpc function not registered") }, capNotRegistered[16:]},
		{"§6.3 invalid arg", LitString, u, func(e *Encoder) { e.Str("invalid rpc arg") }, capInvalidArgBody},
		{"§6.1 BatchExistKey reply", MethodBatchExistKey.Result, u, func(e *Encoder) { e.Len(2); e.Bool(true); e.Bool(true); e.Bool(true); e.Bool(false) }, capBatchExistBody},
		{"§6.6 BatchExistKey reply", MethodBatchExistKey.Result, tg, func(e *Encoder) { e.Len(2); e.Bool(true); e.Bool(true); e.Bool(true); e.Bool(false) }, capRealServerStream[len(capRealServerStream)-15:]},
		{"§6.4 MountSegment", MethodMountSegment.Args, u, func(e *Encoder) { e.Segment(seg); e.UUID(capCID) }, capMountBody},
		{"§6.4 expected<void> ok", MethodMountSegment.Result, u, func(e *Encoder) { e.Bool(true) }, capVoidOKBody},
		{"§6.4 PutStart reply", MethodPutStart.Result, u, func(e *Encoder) { e.Bool(true); e.Replicas([]Replica{rep}, LayoutHEAD) }, capPutStartResp},
		{"§6.4 GetReplicaList reply", MethodGetReplicaList.Result, u, func(e *Encoder) { e.Bool(true); e.ReplicaList(rl, LayoutHEAD) }, capGetRLResp},
		{"§6.4 GetReplicaList missing", MethodGetReplicaList.Result, u, func(e *Encoder) { e.Bool(false); e.I32(int32(CodeObjectNotFound)) }, capGetRLMissing},
		{"§6.4 RemoveAll reply", MethodRemoveAll.Result, u, func(e *Encoder) { e.I64(1) }, capRemoveAllResp},
		{"§6.4 RemoveAll request", MethodRemoveAll.Args, u, func(e *Encoder) { e.Bool(false); e.Str("default") }, capRemoveAllBody},
		{"§6.2 wide reply start", MethodBatchExistKey.Result, u, func(e *Encoder) {
			e.Len(300)
			for range 300 {
				e.Bool(true)
				e.Bool(false)
			}
		}, append(hx(`5d 8c 5f 2a 08 2c 01`), rep2(hx(`01 00`), 300)...)},
	}
	for _, c := range cases {
		if got := AppendBody(nil, c.lit, c.f, c.pack); !bytes.Equal(got, c.want) {
			t.Errorf("%s:\n got % x\nwant % x", c.name, got, c.want)
		}
	}
	// The §9 minimal ReplicateConfig is 34 bytes.
	b := AppendBody(nil, LitReplicateConfig, u, func(e *Encoder) { e.ReplicateConfig(ReplicateConfig{ReplicaNum: 1}) })
	if len(b)-4 != 34 || !bytes.Equal(b[4:], append(hx(`01 00 00 00 00 00 00 00`), make([]byte, 26)...)) {
		t.Errorf("minimal ReplicateConfig % x", b[4:])
	}
}

func rep2(b []byte, n int) []byte { return rep(b, n) }

// Every captured reply body must decode whether tagged or not, and the
// tagged form must be checked against the literal.
func TestCapturedBodiesDecode(t *testing.T) {
	for _, body := range [][]byte{capServiceReadyResp[16:], capDebugServiceReadyBody} {
		_, d, err := OpenBody(body, 0, MethodServiceReady.Result)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Option() || d.Str() != "2.0.0" || d.Err() != nil || d.Remaining() != 0 {
			t.Fatalf("ServiceReady body % x", body)
		}
	}
	// A tagged body whose literal was altered is rejected.
	bad := append([]byte(nil), capDebugServiceReadyBody...)
	bad[6] = 0x81
	if _, _, err := OpenBody(bad, 0, MethodServiceReady.Result); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("altered literal: %v", err)
	}
	// A body of another type is a schema mismatch with an offset.
	_, _, err := OpenBody(capBatchExistBody, 16, MethodServiceReady.Result)
	var pe *ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, ErrTypeMismatch) || pe.Offset != 16 {
		t.Fatalf("mismatch: %v", err)
	}
	// The 255 form of an error reply: pair<u16,string>.
	body, code := AppendRPCErrorBody(nil, 300, "big", BodyFormat{})
	if code != 255 {
		t.Fatal("errc > 254 must use err_code 255")
	}
	if !bytes.Equal(body[:4], le32(Struct(LitU16, LitString).Code())) {
		t.Fatal("pair hash")
	}
	re := DecodeRPCError(code, body)
	if re.Code != 300 || re.Msg != "big" {
		t.Fatalf("pair error %+v", re)
	}
	if re := DecodeRPCError(4, []byte{1, 2}); re.Code != 4 || !strings.Contains(re.Msg, "undecodable") {
		t.Fatalf("garbage error body %+v", re)
	}
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// Declared widths: the receiver must accept any width the sender declares
// (metainfo 0x00 with 1-byte lengths, 4-byte lengths on short strings) and
// skip compatible lengths.
func TestWidthsAndMetainfo(t *testing.T) {
	keys := []string{"a", "bb"}
	pack := func(e *Encoder) { e.Strings(keys); e.Str("default") }
	for _, f := range []BodyFormat{{}, {Width: 1}, {Width: 2}, {Width: 4}, {Width: 8}, {Tagged: true}, {Tagged: true, Width: 8}} {
		b := AppendBody(nil, MethodBatchExistKey.Args, f, pack)
		if f.Width == 1 && b[4] != 0x00 {
			t.Errorf("explicit 1-byte width must write metainfo 0x00, got % x", b[:6])
		}
		if f.Width == 4 && b[4] != 0x10 {
			t.Errorf("4-byte width metainfo % x", b[4])
		}
		_, d, err := OpenBody(b, 0, MethodBatchExistKey.Args)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		got := d.Strings()
		ten := d.Str()
		if d.Err() != nil || len(got) != 2 || got[1] != "bb" || ten != "default" || d.Remaining() != 0 {
			t.Fatalf("%+v: %v %q %v", f, got, ten, d.Err())
		}
	}
	// Compatible length (metainfo bits 0-1) is skipped.
	b := le32(LitString.Code() | 1)
	b = append(b, 0x01, 0x07, 0x00, 0x03, 'a', 'b', 'c')
	_, d, err := OpenBody(b, 0, LitString)
	if err != nil || d.Str() != "abc" {
		t.Fatalf("compat length: %v", err)
	}
}

// Replies from older masters and unusual but legal frames.
func TestOlderLayoutsAndOddFrames(t *testing.T) {
	// v0.3.10 GetReplicaList: variant<Memory, Disk, LocalDisk>, index 1 is Disk.
	v10 := AppendBody(nil, GetReplicaListResult(LayoutV0310), BodyFormat{Tagged: true}, func(e *Encoder) {
		e.Bool(true)
		e.Len(2)
		e.U64(7)
		e.U8(1)
		e.Str("/mnt/obj")
		e.U64(4096)
		e.I32(int32(ReplicaComplete))
		e.U64(8)
		e.U8(2)
		e.UUID(UUID{5, 6})
		e.U64(4096)
		e.Str("node:1")
		e.I32(int32(ReplicaComplete))
		e.U64(5000)
	})
	// A reply carrying a 3-byte attachment, which must be skipped.
	withAttach := append(AppendResponseHeader(nil, ResponseHeader{Magic: Magic, Seq: 1, Length: uint32(len(capServiceReadyResp) - 16), AttachLength: 3}),
		append(append([]byte(nil), capServiceReadyResp[16:]...), 'x', 'y', 'z')...)
	c := dialScripted(t, []exchange{
		{resp: respFrame(0, 0, v10)},
		{resp: withAttach},
		{resp: respFrame(0, 0, capVoidOKBody)},                             // a v0.3.7 ServiceReady
		{resp: respFrame(0, 0, hx(`d2 00 e8 90 00 00 00 00 00`))},          // error arm holding OK
		{resp: respFrame(0, 0, hx(`5c 8c 5f 2a 02 01 01 00 01 00 00 00`))}, // error arm holding 1
	})
	ctx := ctx5(t)
	rl, err := c.GetReplicaList(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if rl.Layout != LayoutV0310 || len(rl.Replicas) != 2 || rl.LeaseTTLMillis != 5000 || rl.ObjectChecksum != nil {
		t.Fatalf("%+v", rl)
	}
	if r := rl.Replicas[0]; r.Kind != KindDisk || r.Disk.FilePath != "/mnt/obj" || r.Size() != 4096 || r.Endpoint() != "" {
		t.Fatalf("disk replica %+v", r)
	}
	if r := rl.Replicas[1]; r.Kind != KindLocalDisk || r.LocalDisk.ClientID != (UUID{5, 6}) || r.Endpoint() != "node:1" {
		t.Fatalf("local disk replica %+v", r)
	}
	if v, err := c.ServiceReady(ctx); err != nil || v != "2.0.0" {
		t.Fatalf("attachment not skipped: %q %v", v, err)
	}
	if _, err := c.ServiceReady(ctx); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("v0.3.7 ServiceReady: %v", err)
	}
	var pe *ProtocolError
	if _, err := c.ExistKey(ctx, "k"); !errors.As(err, &pe) || pe.Offset != 21 {
		t.Fatalf("error arm holding OK: %v", err)
	}
	if _, err := c.BatchExistKey(ctx, []string{"a", "b"}); !errors.As(err, &pe) || pe.Offset != 24 {
		t.Fatalf("error arm holding 1: %v", err)
	}
}
