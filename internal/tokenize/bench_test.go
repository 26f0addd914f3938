package tokenize

import (
	"strconv"
	"strings"
	"testing"

	"lmc/internal/tokenize/tokentest"
)

func BenchmarkReadTokens128k(b *testing.B) {
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
	for i := 0; i < b.N; i++ {
		ps, err := ReadAll(strings.NewReader(in), "bench")
		if err != nil {
			b.Fatalf("ReadAll error = %v, want nil", err)
		}
		if got := len(ps[0].Tokens); got != len(toks) {
			b.Fatalf("ReadAll = %d tokens, want %d", got, len(toks))
		}
	}
}

// BenchmarkReadTokens128kSized is BenchmarkReadTokens128k with the input's
// size known (SetSize, as for a regular file): the token slice is sized
// once instead of doubling.
func BenchmarkReadTokens128kSized(b *testing.B) {
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
	for i := 0; i < b.N; i++ {
		rd := NewReader(strings.NewReader(in), "bench")
		rd.SetSize(int64(len(in)))
		p, err := rd.Next()
		if err != nil {
			b.Fatalf("Next error = %v, want nil", err)
		}
		if got := len(p.Tokens); got != len(toks) {
			b.Fatalf("Next = %d tokens, want %d", got, len(toks))
		}
	}
}
