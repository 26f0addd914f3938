package tokenize

import (
	"strconv"
	"testing"

	"lmc/internal/tokenize/tokentest"
)

// BenchmarkTokenFastPath: the word-at-a-time path alone over one 64 KiB
// window of a JSON array ("ID, ID, ..." as engines and json.dumps write
// it), the part of ReadTokens that grows with the input. Target: >= 1 GB/s.
func BenchmarkTokenFastPath(b *testing.B) {
	toks := tokentest.Realistic(20000, tokentest.Llama3)
	var buf []byte
	for _, t := range toks {
		if len(buf) > 64<<10-16 {
			break
		}
		buf = strconv.AppendUint(buf, uint64(t), 10)
		buf = append(buf, ", "...)
	}
	out := make([]uint32, len(buf)/2)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, k, _ := wordTokens(buf, 0, out)
		if j < len(buf)-16 || k == 0 {
			b.Fatalf("stopped at %d of %d after %d tokens", j, len(buf), k)
		}
	}
}
