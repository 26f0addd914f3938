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
