package mooncake

import (
	"bytes"
	"reflect"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, b := range [][]byte{
		capServiceReadyResp, capPingResp, capNotRegistered, capBatchExistResp,
		respFrame(0, 0, capGetRLResp), respFrame(0, 0, capGetRLMissing), respFrame(0, 0, capPutStartResp),
		respFrame(0, 0, capDebugServiceReadyBody), capRealServerStream, respFrame(0, 4, capInvalidArgBody),
		respFrame(0, 0, capRemoveAllResp), respFrame(0, 0, capVoidOKBody),
		respFrame(0, 0, append(hx(`5d 8c 5f 2a 08 2c 01`), rep(hx(`01 00`), 300)...)),
	} {
		f.Add(b)
	}
}

// decodeAnyResult runs every result decoder of the client over body.
func decodeAnyResult(body []byte) {
	if _, d, err := OpenBody(body, ResponseHeaderSize, MethodServiceReady.Result); err == nil {
		if expected(d, "x") == nil {
			_ = d.Str()
		}
	}
	if _, d, err := OpenBody(body, ResponseHeaderSize, MethodPing.Result); err == nil {
		if expected(d, "x") == nil {
			_ = d.PingResponse()
		}
	}
	if _, d, err := OpenBody(body, ResponseHeaderSize, MethodBatchExistKey.Result); err == nil {
		_, _ = decodeExistStatuses(d, -1)
	}
	if idx, d, err := OpenBody(body, ResponseHeaderSize, getReplicaListResults...); err == nil {
		if expected(d, "x") == nil {
			_ = d.ReplicaList(Layouts[idx])
		}
	}
	if idx, d, err := OpenBody(body, ResponseHeaderSize, batchGetReplicaListResults...); err == nil {
		n := d.Len(minExpBoolBytes)
		for i := 0; i < n && d.Err() == nil; i++ {
			if d.Option() {
				_ = d.ReplicaList(Layouts[idx])
			} else {
				_ = d.I32()
			}
		}
	}
	if _, d, err := OpenBody(body, ResponseHeaderSize, MethodPutStart.Result); err == nil {
		if expected(d, "x") == nil {
			_ = d.Replicas(LayoutHEAD)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rest := data
		for i := 0; i < 4 && len(rest) > 0; i++ {
			h, body, next, err := DecodeResponseFrame(rest)
			if err != nil {
				break
			}
			if h.ErrCode != 0 {
				_ = DecodeRPCError(h.ErrCode, body)
			} else {
				decodeAnyResult(body)
			}
			rest = next
		}
		// The streaming reader must agree with the in-memory parser.
		h1, b1, _, err1 := DecodeResponseFrame(data)
		h2, b2, err2 := ReadResponse(bytes.NewReader(data), 1<<20)
		if err1 == nil && uint64(h1.Length)+uint64(h1.AttachLength) <= 2<<20 && h1.Length <= 1<<20 && h1.AttachLength <= 1<<20 {
			if err2 != nil || h1 != h2 || !bytes.Equal(b1, b2) {
				t.Fatalf("ReadResponse disagrees: %v / %v", err1, err2)
			}
		}
		// Requests too (the fake master parses them with the same code).
		if _, body, _, err := DecodeRequestFrame(data); err == nil {
			if _, d, err := OpenBody(body, RequestHeaderSize, MethodPutStart.Args); err == nil {
				_, _, _, _ = d.UUID(), d.Str(), d.U64(), d.ReplicateConfig()
			}
		}
	})
}

// FuzzStructPackDecode decodes arbitrary bodies as each wire type; whatever
// decodes cleanly must survive an encode/decode round trip unchanged.
func FuzzStructPackDecode(f *testing.F) {
	f.Add(capGetRLResp)
	f.Add(capPutStartResp)
	f.Add(capMountBody)
	f.Add(capPutStartBody)
	f.Add(capBatchExistReq[RequestHeaderSize:])
	f.Add(capDebugServiceReadyBody)
	f.Add(capRealClientStream[RequestHeaderSize+20:])
	type target struct {
		lit    Literal
		decode func(d *Decoder) any
		encode func(e *Encoder, v any)
	}
	replicaList := func(l Layout) target {
		return target{getReplicaListResult(l), func(d *Decoder) any {
			if !d.Option() {
				return d.I32()
			}
			return d.ReplicaList(l)
		}, func(e *Encoder, v any) {
			if c, ok := v.(int32); ok {
				e.Bool(false)
				e.I32(c)
				return
			}
			e.Bool(true)
			e.ReplicaList(v.(ReplicaList), l)
		}}
	}
	targets := []target{
		replicaList(LayoutHEAD),
		replicaList(LayoutV0310),
		{MethodMountSegment.Args, func(d *Decoder) any { return [2]any{d.Segment(), d.UUID()} },
			func(e *Encoder, v any) { p := v.([2]any); e.Segment(p[0].(Segment)); e.UUID(p[1].(UUID)) }},
		{LitReplicateConfig, func(d *Decoder) any { return d.ReplicateConfig() },
			func(e *Encoder, v any) { e.ReplicateConfig(v.(ReplicateConfig)) }},
		{MethodBatchExistKey.Args, func(d *Decoder) any { return [2]any{d.Strings(), d.Str()} },
			func(e *Encoder, v any) { p := v.([2]any); e.Strings(p[0].([]string)); e.Str(p[1].(string)) }},
		{MethodBatchExistKey.Result, func(d *Decoder) any { s, _ := decodeExistStatuses(d, -1); return s },
			func(e *Encoder, v any) {
				s := v.([]ExistStatus)
				e.Len(len(s))
				for _, x := range s {
					if x < 0 {
						e.Bool(false)
						e.I32(int32(x))
					} else {
						e.Bool(true)
						e.Bool(x == Present)
					}
				}
			}},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, tg := range targets {
			// Try the body as is, and with its head replaced by this type's.
			variants := [][]byte{body}
			if len(body) >= 4 {
				b := append(le32(tg.lit.Code()|uint32(body[0]&1)), body[4:]...)
				variants = append(variants, b)
			}
			for _, b := range variants {
				_, d, err := OpenBody(b, 0, tg.lit)
				if err != nil {
					continue
				}
				v := tg.decode(d)
				if d.Err() != nil {
					continue
				}
				for _, f := range []BodyFormat{{}, {Tagged: true}, {Width: 4}} {
					enc := AppendBody(nil, tg.lit, f, func(e *Encoder) { tg.encode(e, v) })
					_, d2, err := OpenBody(enc, 0, tg.lit)
					if err != nil {
						t.Fatalf("re-encoded body rejected: %v", err)
					}
					v2 := tg.decode(d2)
					if d2.Err() != nil || d2.Remaining() != 0 {
						t.Fatalf("re-encoded body: %v, %d left", d2.Err(), d2.Remaining())
					}
					if !reflect.DeepEqual(normalize(v), normalize(v2)) {
						t.Fatalf("round trip changed the value:\n%#v\n%#v", v, v2)
					}
				}
			}
		}
	})
}

// normalize maps empty slices to nil so DeepEqual compares values only.
func normalize(v any) any {
	switch x := v.(type) {
	case ReplicaList:
		if len(x.Replicas) == 0 {
			x.Replicas = nil
		}
		return x
	case ReplicateConfig:
		if len(x.PreferredSegments) == 0 {
			x.PreferredSegments = nil
		}
		if len(x.PreferredNoFSegments) == 0 {
			x.PreferredNoFSegments = nil
		}
		if x.GroupIDs != nil && len(*x.GroupIDs) == 0 {
			e := []string(nil)
			x.GroupIDs = &e
		}
		return x
	case [2]any:
		if s, ok := x[0].([]string); ok && len(s) == 0 {
			x[0] = []string(nil)
		}
		return x
	case []ExistStatus:
		if len(x) == 0 {
			return []ExistStatus(nil)
		}
	}
	return v
}
