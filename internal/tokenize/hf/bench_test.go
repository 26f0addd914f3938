package hf

import (
	"strings"
	"testing"
)

// text128k returns the long test document repeated (with a varying
// separator, so the repetitions are not identical) up to 128k tokens.
func text128k(b *testing.B, tok *Tokenizer) (string, int) {
	b.Helper()
	var sb strings.Builder
	n := 0
	for i := 0; n < 128*1024; i++ {
		part := longText + "\n\n" + strings.Repeat("=", i%7) + " Part " + string(rune('A'+i)) + "\n"
		ids, err := tok.Encode(part, false)
		if err != nil {
			b.Fatal(err)
		}
		sb.WriteString(part)
		n += len(ids)
	}
	s := sb.String()
	ids, err := tok.Encode(s, false)
	if err != nil {
		b.Fatal(err)
	}
	return s, len(ids)
}

// BenchmarkEncode128k encodes a 128k-token text with the Qwen3 tokenizer,
// reusing the result buffer (the word cache is warm after the first run).
func BenchmarkEncode128k(b *testing.B) {
	tok := qwen3(b)
	text, n := text128k(b, tok)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var ids []uint32
	for b.Loop() {
		var err error
		if ids, err = tok.AppendEncode(ids[:0], text, false); err != nil {
			b.Fatal(err)
		}
	}
	if len(ids) != n {
		b.Fatalf("%d tokens, want %d", len(ids), n)
	}
	b.ReportMetric(float64(n), "tokens/op")
}

// BenchmarkEncode128kCold is the same with an empty word cache and fresh
// scratch space each time, as for a CLI's single call.
func BenchmarkEncode128kCold(b *testing.B) {
	tok := qwen3(b)
	text, n := text128k(b, tok)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		st := tok.getState()
		st.cache = wordCache{}
		ids, err := tok.encodeText(st, nil, text)
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) != n {
			b.Fatalf("%d tokens, want %d", len(ids), n)
		}
	}
	b.ReportMetric(float64(n), "tokens/op")
}

// BenchmarkEncodeShort is a chat-sized prompt.
func BenchmarkEncodeShort(b *testing.B) {
	tok := qwen3(b)
	text := "<|im_start|>user\nHow many KV-cache chunks does a 4,096-token prompt use with LMCache's default chunk size?<|im_end|>\n"
	b.ReportAllocs()
	var ids []uint32
	for b.Loop() {
		var err error
		if ids, err = tok.AppendEncode(ids[:0], text, true); err != nil {
			b.Fatal(err)
		}
	}
}
