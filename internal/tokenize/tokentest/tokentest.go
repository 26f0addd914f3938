// Package tokentest is what the tests and benchmarks of the token and key
// packages share: realistic token sequences and the reader of the
// engine-keys test vectors. It is imported by tests only.
package tokentest

import (
	"testing"

	"lmc/internal/tokenize/rankhit"
)

// Realistic returns n token ids spread over a vocabulary of vocab ids the
// way real prompts spread (a fixed linear congruential sequence, the same
// on every run): 128256 is Llama-3's vocabulary, 151936 Qwen's.
func Realistic(n int, vocab uint32) []uint32 {
	out := make([]uint32, n)
	x := uint32(12345)
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = x % vocab
	}
	return out
}

// Vocabulary sizes of the models the benchmarks imitate.
const (
	Llama3 = 128256
	Qwen   = 151936
)

// TrackAbsent runs a tracker of layout l (which must be valid) over a
// prompt's chunks with the keys named in missing absent and every other
// key present: walk hands each chunk's keys to add.
func TrackAbsent(t testing.TB, l *rankhit.Layout, missing []string, walk func(add func(keys []string)) error) *rankhit.Tracker {
	t.Helper()
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	for _, k := range missing {
		gone[k] = true
	}
	tr := rankhit.NewTracker(l)
	err := walk(func(keys []string) {
		present := make([]bool, len(keys))
		for i, k := range keys {
			present[i] = !gone[k]
		}
		tr.Add(present)
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// BenchKeys times walk, one key walk of a prompt of tokens tokens that
// returns how many keys (or chunks) it made, b.N times from a reset timer,
// with allocations reported and 4 bytes a token as the bytes of an op.
// Every walk must make want.
func BenchKeys(b *testing.B, tokens, want int, walk func() (int, error)) {
	b.SetBytes(int64(tokens * 4))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := walk(); err != nil || n != want {
			b.Fatalf("walk = %d, error %v; want %d, nil", n, err, want)
		}
	}
}
