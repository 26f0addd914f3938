package vllmkey

import (
	"testing"

	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/tokentest"
)

// BenchmarkKeys32kB16: keys of a 32,768-token prompt at block size 16
// (2,048 blocks), V3, per hash algorithm, one rank; and all 8 namespaces of
// TP 8 (8 KV heads) for sha256.
func BenchmarkKeys32kB16(b *testing.B) {
	tokens := tokentest.Realistic(32768, tokentest.Llama3)
	run := func(b *testing.B, p Params, sel rankhit.Select, want int) {
		e, err := NewEngine(p)
		if err != nil {
			b.Fatal(err)
		}
		tokentest.BenchKeys(b, len(tokens), want, func() (int, error) {
			n := 0
			err := e.Each(tokens, sel, func(c Chunk) error { n += len(c.Keys); return nil })
			return n, err
		})
	}
	for _, alg := range HashAlgos {
		b.Run(string(alg), func(b *testing.B) {
			p := DefaultParams()
			p.Model = "meta-llama/Llama-3.1-8B-Instruct"
			p.Hash = alg
			p.HashSeed = Str("0")
			run(b, p, rankhit.OneRank, 2048)
		})
	}
	b.Run("sha256-tp8-all", func(b *testing.B) {
		p := DefaultParams()
		p.Model = "meta-llama/Llama-3.1-70B-Instruct"
		p.TPSize, p.NumKVHeads = 8, 8
		run(b, p, rankhit.AllRanks, 2048*8)
	})
	b.Run("sha256-lora-mm", func(b *testing.B) {
		p := DefaultParams()
		p.Model = "Qwen/Qwen2.5-VL-7B-Instruct"
		p.LoRAName, p.CacheSalt = "adapter", "tenant"
		for i := 0; i < 16; i++ {
			p.MM = append(p.MM, MMItem{ID: "img", Offset: 100 + i*2000, Length: 1200})
		}
		run(b, p, rankhit.OneRank, 2048)
	})
}
