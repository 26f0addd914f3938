package tokenize

import (
	"strconv"
	"strings"
	"testing"

	"lmc/internal/tokenize/tokentest"
)

// benchReadTokens128k reads a 131,072-token JSON array ("ID, ID, …" as
// engines and json.dumps write it), with the input's size given to the
// reader (SetSize, as for a regular file) when sized.
func benchReadTokens128k(b *testing.B, sized bool) {
	toks := tokentest.Realistic(131072, tokentest.Llama3)
	var sb strings.Builder
	sb.WriteByte('[')
	for i, t := range toks {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatUint(uint64(t), 10))
	}
	sb.WriteByte(']')
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd := NewReader(strings.NewReader(in), "bench")
		if sized {
			rd.SetSize(int64(len(in)))
		}
		p, err := rd.Next()
		if err != nil {
			b.Fatalf("Next error = %v, want nil", err)
		}
		if got := len(p.Tokens); got != len(toks) {
			b.Fatalf("Next = %d tokens, want %d", got, len(toks))
		}
	}
}

func BenchmarkReadTokens128k(b *testing.B) { benchReadTokens128k(b, false) }

// BenchmarkReadTokens128kSized: the token slice is sized once from the
// input's size instead of doubling.
func BenchmarkReadTokens128kSized(b *testing.B) { benchReadTokens128k(b, true) }
