package hf

import "testing"

func BenchmarkParseQwen3(b *testing.B) {
	loadTestdata(b)
	b.SetBytes(int64(len(qwenRaw)))
	for b.Loop() {
		if _, err := Parse(qwenRaw); err != nil {
			b.Fatal(err)
		}
	}
}
