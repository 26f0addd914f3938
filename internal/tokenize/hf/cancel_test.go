package hf

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// cancelLatency encodes text with a context cancelled after delay and
// returns how long Encode took to return after the cancellation.
func cancelLatency(t *testing.T, tok *Tokenizer, text string, delay time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled time.Time
	timer := time.AfterFunc(delay, func() { cancelled = time.Now(); cancel() })
	defer timer.Stop()
	_, err := tok.EncodeContext(ctx, text, true)
	end := time.Now()
	if err == nil {
		t.Fatalf("encoding %d bytes finished before the cancellation after %v", len(text), delay)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	return end.Sub(cancelled)
}

// TestEncodeContextCancel: a cancelled Encode returns within milliseconds,
// whatever stage it is in (text, one huge word, a pattern's slowest text,
// a normalizer, a Metaspace pre-tokenizer). TestMatcherCancel covers the
// matcher's own checkpoint.
func TestEncodeContextCancel(t *testing.T) {
	tok := qwen3(t)
	loadTestdata(t)
	sp, err := Parse(spRaw)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for sb.Len() < 8<<20 {
		sb.WriteString(longText)
	}
	gpt2, err := Parse(minimal(`"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}`))
	if err != nil {
		t.Fatal(err)
	}
	nfd := strings.Repeat("e\u0301a\u0300 ", 1<<20) // NFC composes every pair
	for _, c := range []struct {
		name string
		tok  *Tokenizer
		text string
	}{
		{"8 MiB text", tok, sb.String()},
		{"one 8 MiB word", tok, strings.Repeat("abcdefgh", 1<<20)},
		{"8 MiB of spaces", tok, strings.Repeat(" ", 8<<20)},
		{"NFC of 7 MiB", tok, nfd},
		{"Metaspace 8 MiB", sp, sb.String()},
		{"GPT-2 pattern's slowest text", gpt2, strings.Repeat("x'", 4<<20)},
	} {
		t.Run(c.name, func(t *testing.T) {
			worst := time.Duration(0)
			for _, d := range []time.Duration{20 * time.Millisecond, 70 * time.Millisecond, 150 * time.Millisecond} {
				worst = max(worst, cancelLatency(t, c.tok, c.text, d))
			}
			t.Logf("%s: stopped %v after the cancellation (worst of 3)", c.name, worst)
			// 100 ms is the goal on an idle machine; the bound leaves
			// room for a loaded CI machine.
			if worst > time.Second {
				t.Errorf("stopped %v after the cancellation", worst)
			}
		})
	}
}
