package mooncake_test

import (
	"context"
	"testing"

	mc "lmc/internal/mooncake"
)

var benchKeys = keysN("meta-llama/Llama-3.1-8B-Instruct", 512)

func encodeBatchExist(dst []byte, keys []string) []byte {
	return mc.AppendBody(dst, mc.MethodBatchExistKey.Args, mc.BodyFormat{}, func(e *mc.Encoder) {
		e.Strings(keys)
		e.Str("default")
	})
}

func BenchmarkEncodeBatchExistKey512(b *testing.B) {
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		buf = encodeBatchExist(buf[:0], benchKeys)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeBatchExistKey512Request(b *testing.B) {
	body := encodeBatchExist(nil, benchKeys)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_, d, err := mc.OpenBody(body, 0, mc.MethodBatchExistKey.Args)
		if err != nil {
			b.Fatal(err)
		}
		if keys := d.Strings(); len(keys) != 512 || d.Err() != nil {
			b.Fatal(d.Err())
		}
	}
}

func batchExistReply(f mc.BodyFormat) []byte {
	return mc.AppendBody(nil, mc.MethodBatchExistKey.Result, f, func(e *mc.Encoder) {
		e.Len(512)
		for i := range 512 {
			e.Bool(true)
			e.Bool(i%2 == 0)
		}
	})
}

func BenchmarkEncodeBatchExistKey512Response(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = batchExistReply(mc.BodyFormat{Tagged: true})
	}
}

func BenchmarkDecodeBatchExistKey512Response(b *testing.B) {
	body := batchExistReply(mc.BodyFormat{Tagged: true})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_, d, err := mc.OpenBody(body, 0, mc.MethodBatchExistKey.Result)
		if err != nil {
			b.Fatal(err)
		}
		n := d.Len(2)
		for i := 0; i < n; i++ {
			if d.Option() {
				d.Bool()
			}
		}
		if d.Err() != nil || n != 512 {
			b.Fatal(d.Err())
		}
	}
}

// BenchmarkBatchExistKey512Loopback is one 512-key BatchExistKey round trip
// against the fake master over loopback TCP (half the keys present).
func BenchmarkBatchExistKey512Loopback(b *testing.B) {
	s := startFake(b)
	if err := s.Populate(ctxT(b), benchKeys[:256]); err != nil {
		b.Fatal(err)
	}
	c := dial(b, s)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		st, err := c.BatchExistKey(ctx, benchKeys)
		if err != nil || mc.PrefixHit(st) != 256 {
			b.Fatal(err)
		}
	}
}

// The same, with 8 callers pipelining on the one connection.
func BenchmarkBatchExistKey512LoopbackParallel(b *testing.B) {
	s := startFake(b)
	if err := s.Populate(ctxT(b), benchKeys[:256]); err != nil {
		b.Fatal(err)
	}
	c := dial(b, s)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.BatchExistKey(context.Background(), benchKeys); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
