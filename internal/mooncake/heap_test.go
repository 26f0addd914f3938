package mooncake_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
)

// cannedMaster is a minimal coro_rpc server over loopback that answers
// every request with the same pre-built body (with the request's seq_num),
// so that measuring the client's heap measures the client alone.
type cannedMaster struct {
	ln   net.Listener
	body []byte
	wg   sync.WaitGroup
}

func startCanned(t testing.TB, body []byte) *cannedMaster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &cannedMaster{ln: ln, body: body}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					h, _, err := mc.ReadRequest(br, 0)
					if err != nil {
						return
					}
					hdr := mc.AppendResponseHeader(nil, mc.ResponseHeader{Magic: mc.Magic, Seq: h.Seq, Length: uint32(len(m.body))})
					if _, err := c.Write(hdr); err != nil {
						return
					}
					if _, err := c.Write(m.body); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); m.wg.Wait() })
	return m
}

// heapPeak runs f and returns the peak growth of the heap (live and not yet
// swept objects) above the level before it, sampled every 100 µs, and the
// bytes allocated.
func heapPeak(f func()) (peak, allocated uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, total0 := read(), ms.TotalAlloc
	var max atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(100 * time.Microsecond)
		defer tk.Stop()
		for {
			if v := read(); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	f()
	if v := read(); v > max.Load() {
		max.Store(v)
	}
	close(stop)
	<-done
	runtime.ReadMemStats(&ms)
	if m := max.Load(); m > base {
		peak = m - base
	}
	return peak, ms.TotalAlloc - total0
}

// batchRLBody encodes a BatchGetReplicaList reply: nkeys entries of
// replicas built by rep.
func batchRLBody(nkeys int, rep func(key int) []mc.Replica) []byte {
	l := mc.LayoutHEAD
	return mc.AppendBody(nil, mc.BatchGetReplicaListResult(l), mc.BodyFormat{Tagged: true}, func(e *mc.Encoder) {
		e.Len(nkeys)
		for i := range nkeys {
			e.Bool(true)
			e.ReplicaList(mc.ReplicaList{Replicas: rep(i), LeaseTTLMillis: 10000}, l)
		}
	})
}

type heapCase struct {
	name    string
	keys    int
	body    []byte
	wantErr error
}

func heapCases() []heapCase {
	const prompt = 4096 // keys of a 1M-token prompt at 256-token chunks
	realistic := batchRLBody(prompt, func(k int) []mc.Replica {
		out := make([]mc.Replica, 0, 4)
		for r := range 3 {
			out = append(out, mc.Replica{ID: uint64(k*4 + r), Status: mc.ReplicaComplete, Kind: mc.KindMemory,
				Buffer: mc.BufferDescriptor{Size: 1 << 21, BufferAddress: 0x7f0000000000 + uint64(k)<<21, Protocol: "tcp",
					TransportEndpoint: fmt.Sprintf("10.0.%d.%d:15000", r, k%8)}})
		}
		out = append(out, mc.Replica{ID: uint64(k*4 + 3), Status: mc.ReplicaComplete, Kind: mc.KindDisk,
			Disk: mc.DiskDescriptor{FilePath: fmt.Sprintf("/mnt/mooncake/meta-llama_Llama-3.1-8B@1@0@%016x@bfloat16", k), ObjectSize: 1 << 21}})
		return out
	})
	// The worst decode factor: as many replicas as the batch may list (12
	// a key on average) with the smallest replica the layout allows; and
	// a hostile reply with MaxReplicasPerKey for every key, refused when
	// it passes the average.
	tinyN := func(n int) []byte {
		return batchRLBody(prompt, func(k int) []mc.Replica {
			out := make([]mc.Replica, n)
			for i := range out {
				out[i] = mc.Replica{Kind: mc.KindMemory}
			}
			return out
		})
	}
	// The most bytes a reply for 4096 keys may carry (just under its
	// bound), in few replicas with long strings.
	bound := min(mc.ReplyBound(mc.MethodBatchGetReplicaList, prompt), mc.DefaultMaxReplySize)
	per := (bound - 200) / prompt
	long := batchRLBody(prompt, func(k int) []mc.Replica {
		ep := make([]byte, (per-16)/8-40) // 8 replicas of 40 bytes + the endpoint
		for i := range ep {
			ep[i] = 'a' + byte((k+i)%26)
		}
		out := make([]mc.Replica, 8)
		for i := range out {
			out[i] = mc.Replica{Kind: mc.KindMemory, Buffer: mc.BufferDescriptor{Protocol: "tcp", TransportEndpoint: string(ep)}}
		}
		return out
	})
	// The hostile reply: 62 MB for a 600-token prompt (3 keys).
	hostile := batchRLBody(3, func(int) []mc.Replica { return nil })
	hostile = append(hostile, make([]byte, 62<<20)...)
	return []heapCase{
		{"realistic 4096 keys x (3 memory + 1 disk)", prompt, realistic, nil},
		{"worst factor 4096 keys x 12 minimal replicas", prompt, tinyN(12), nil},
		{"hostile 4096 keys x 64 minimal replicas", prompt, tinyN(mc.MaxReplicasPerKey), mc.ErrContradiction},
		{"largest accepted 4096 keys, long strings", prompt, long, nil},
		{"hostile 62 MB for 3 keys", 3, hostile, mc.ErrFrameTooLarge},
	}
}

// TestPeakHeapBatchGetReplicaList measures the client's peak heap for the
// largest legitimate BatchGetReplicaList replies and for hostile ones, over
// a loopback socket, and holds it to a small factor of the wire size (or,
// for a reply refused from its header, to almost nothing).
func TestPeakHeapBatchGetReplicaList(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	for _, hc := range heapCases() {
		t.Run(hc.name, func(t *testing.T) {
			m := startCanned(t, hc.body)
			c, err := mc.Dial(ctxT(t), m.ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			keys := keysN("heap", hc.keys)
			var res []mc.ReplicaListResult
			peak, alloc := heapPeak(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				res, err = c.BatchGetReplicaList(ctx, keys)
			})
			if hc.wantErr != nil {
				if !errors.Is(err, hc.wantErr) {
					t.Fatalf("err = %v, want %v", err, hc.wantErr)
				}
			} else if err != nil || len(res) != hc.keys {
				t.Fatalf("%v (%d results)", err, len(res))
			}
			wire := len(hc.body) + mc.ResponseHeaderSize
			t.Logf("wire %.1f MB, bound %.1f MB: peak heap %.1f MB (%.2fx wire), allocated %.1f MB",
				float64(wire)/1e6, float64(min(mc.ReplyBound(mc.MethodBatchGetReplicaList, hc.keys), mc.DefaultMaxReplySize))/1e6,
				float64(peak)/1e6, float64(peak)/float64(wire), float64(alloc)/1e6)
			runtime.KeepAlive(res)
			switch {
			case errors.Is(hc.wantErr, mc.ErrFrameTooLarge) && peak > 1<<20:
				t.Fatalf("a reply refused from its header cost %d bytes of heap", peak)
			case hc.wantErr != nil && peak > 5*uint64(wire):
				t.Fatalf("a refused reply cost %d bytes of heap", peak)
			case hc.wantErr == nil && peak > 10*uint64(wire):
				t.Fatalf("peak heap %d is more than 10x the %d wire bytes", peak, wire)
			}
		})
	}
}

// BenchmarkBatchGetReplicaList4096Loopback decodes the realistic reply of
// a 1M-token prompt (4096 keys, four replicas each, ~1 MB) over loopback,
// reporting its peak heap.
func BenchmarkBatchGetReplicaList4096Loopback(b *testing.B) {
	hc := heapCases()[0]
	m := startCanned(b, hc.body)
	c, err := mc.Dial(ctxT(b), m.ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := keysN("heap", hc.keys)
	b.SetBytes(int64(len(hc.body)))
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		p, _ := heapPeak(func() {
			if _, err := c.BatchGetReplicaList(context.Background(), keys); err != nil {
				b.Fatal(err)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak), "peak-heap-B")
}
