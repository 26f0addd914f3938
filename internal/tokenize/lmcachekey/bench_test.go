package lmcachekey

import (
	"testing"

	"lmc/internal/tokenize/tokentest"
)

// benchEngine is the benchmarks' engine for alg: Llama-3.1-8B, seed 0,
// the MP schema for blake3.
func benchEngine(b *testing.B, alg Algorithm) (Params, *Engine) {
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
	return p, e
}

// BenchmarkKeys128k: keys for a 131,072-token prompt, chunk 256, per
// algorithm. Target: <= 2 ms per prompt on the 2-core dev machine, and no
// per-token allocation (allocs/op is per chunk: the key strings).
func BenchmarkKeys128k(b *testing.B) {
	tokens := tokentest.Realistic(131072, tokentest.Llama3)
	for _, alg := range Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			_, e := benchEngine(b, alg)
			tokentest.BenchKeys(b, len(tokens), 512, func() (int, error) {
				n := 0
				err := e.Each(tokens, func(c Chunk) error { n++; return nil })
				return n, err
			})
		})
	}
}

// BenchmarkDigestOnly128k: the digest alone over the bytes Keys128k
// serialises for the same prompt (the 512 chunks pre-encoded): the floor of
// BenchmarkKeys128k for each digest algorithm, which it should approach
// (the difference is serialisation and key rendering).
func BenchmarkDigestOnly128k(b *testing.B) {
	tokens := tokentest.Realistic(131072, tokentest.Llama3)
	for _, alg := range []Algorithm{SHA256, SHA256CBOR, XXHash, XXHashCBOR, Blake3} {
		b.Run(string(alg), func(b *testing.B) {
			p, e := benchEngine(b, alg)
			h := newHasher(alg, false, false)
			var chunks [][]byte
			prev := p.NoneHash
			for i := 0; i < 512; i++ {
				toks := tokens[i*256 : (i+1)*256]
				var enc []byte
				if alg == Blake3 {
					enc = append(append([]byte(nil), prev.b[:prev.n]...), make([]byte, 4*len(toks))...)
				} else {
					enc = e.Encode(prev, toks)
				}
				chunks = append(chunks, enc)
				prev = h.digest(enc)
			}
			b.SetBytes(int64(len(tokens) * 4))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, c := range chunks {
					h.digest(c)
				}
			}
		})
	}
}
