package lmcachekey

import "testing"

// realisticTokens spreads IDs over a 128k vocabulary, like Llama-3 prompts.
func realisticTokens(n int) []uint32 {
	out := make([]uint32, n)
	x := uint32(12345)
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = x % 128256
	}
	return out
}

// BenchmarkKeys128k: keys for a 131,072-token prompt, chunk 256, per
// algorithm. Target: <= 2 ms per prompt on the 2-core dev machine, and no
// per-token allocation (allocs/op is per chunk: the key strings).
func BenchmarkKeys128k(b *testing.B) {
	tokens := realisticTokens(131072)
	for _, alg := range Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			p := DefaultParams()
			p.Model = "meta-llama/Llama-3.1-8B-Instruct"
			p.Algorithm = alg
			if alg == Blake3 {
				p.Schema = SchemaMP
			}
			var err error
			if p.NoneHash, err = p.NoneHashFromSeed("0"); err != nil {
				b.Fatal(err)
			}
			e, err := NewEngine(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(tokens) * 4))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n := 0
				if err := e.Each(tokens, func(c Chunk) error { n++; return nil }); err != nil || n != 512 {
					b.Fatalf("Each = %d chunks, error %v; want 512, nil", n, err)
				}
			}
		})
	}
}
