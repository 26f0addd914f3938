// Package tokentest is what the tests and benchmarks of the token and key
// packages share: realistic token sequences and the reader of the
// engine-keys test vectors. It is imported by tests only.
package tokentest

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
