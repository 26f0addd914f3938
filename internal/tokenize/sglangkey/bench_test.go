package sglangkey

import (
	"testing"

	"lmc/internal/tokenize/rankhit"
)

// realisticTokens spreads IDs over a 150k vocabulary, like Qwen prompts.
func realisticTokens(n int) []uint32 {
	out := make([]uint32, n)
	x := uint32(12345)
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = x % 151936
	}
	return out
}

// BenchmarkKeys32kP1TP8: every rank's keys of a 32,768-token prompt at
// SGLang's default page size 1 with TP 8 (S4, served model name): 32,768
// pages × 16 objects = 524,288 keys per op. Allocations are the key text
// and key slices, carved from 64 KiB / 4096-string blocks.
func BenchmarkKeys32kP1TP8(b *testing.B) {
	tokens := realisticTokens(32768)
	p := DefaultParams()
	p.TPSize = 8
	p.ModelName = "Qwen/Qwen3-32B"
	e, err := NewEngine(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := e.Each(tokens, rankhit.AllRanks, func(c Chunk) error { n += len(c.Keys); return nil }); err != nil || n != 524288 {
			b.Fatal(err, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/524288, "ns/key")
}

// BenchmarkKeys32kP1OneRank: the same prompt, one rank's 65,536 keys.
func BenchmarkKeys32kP1OneRank(b *testing.B) {
	tokens := realisticTokens(32768)
	p := DefaultParams()
	p.TPSize = 8
	p.ModelName = "Qwen/Qwen3-32B"
	e, err := NewEngine(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.Each(tokens, rankhit.OneRank, func(c Chunk) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
