package sglangkey

import (
	"testing"

	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/tokentest"
)

// qwenTP8 is a 32,768-token prompt and the engine of Qwen3-32B at TP 8,
// page size 1, with the benchmark's timer reset.
func qwenTP8(b *testing.B) ([]uint32, *Engine) {
	tokens := tokentest.Realistic(32768, tokentest.Qwen)
	p := DefaultParams()
	p.TPSize = 8
	p.ModelName = "Qwen/Qwen3-32B"
	e, err := NewEngine(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	return tokens, e
}

// BenchmarkKeys32kP1TP8: every rank's keys of a 32,768-token prompt at
// SGLang's default page size 1 with TP 8 (S4, served model name): 32,768
// pages × 16 objects = 524,288 keys per op. Allocations are the key text
// and key slices, carved from 64 KiB / 4096-string blocks.
func BenchmarkKeys32kP1TP8(b *testing.B) {
	tokens, e := qwenTP8(b)
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
	tokens, e := qwenTP8(b)
	for i := 0; i < b.N; i++ {
		if err := e.Each(tokens, rankhit.OneRank, func(c Chunk) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
