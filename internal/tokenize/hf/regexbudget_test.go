package hf

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// realPatterns are the split patterns of the tokenizer.json files of the
// model families lmc serves (the ones in testdata, and those of the
// optional external tokenizers).
var realPatterns = map[string]string{
	"gpt2":     gpt2Pattern,
	"qwen2/3":  `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
	"llama3":   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
	"gpt-4o":   `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
	"deepseek": `[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_` + "`" + `{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
	"ds-cjk":   `[一-龥぀-ゟ゠-ヿ]+`,
	"digits":   `\p{N}{1,3}`,
}

// adversarialTexts are long runs that make real patterns backtrack most.
func adversarialTexts() []string {
	var out []string
	for _, s := range []string{" ", "\n", "\r\n", " \n", "\t", "a", "A", "aA", "Aa", "1", "!", "中", "e\u0301", " a", "  a",
		"\n\n ", "'s", "x'", "X'S", "'", " !", "!a", "!A", "1a", "a1 ", "\u00a0", " \u00a0", "😀", "\u0301", "A\u0301", " \n\t"} {
		out = append(out, strings.Repeat(s, 20000))
	}
	return out
}

// TestRegexStepsPerByte: real patterns stay far below the step budget
// (regexStepsPerByte per byte) on ordinary and adversarial texts, so the
// budget only stops pathological patterns.
func TestRegexStepsPerByte(t *testing.T) {
	loadTestdata(t)
	texts := append(adversarialTexts(), longText)
	for _, c := range vectors.Variants[0].Cases {
		texts = append(texts, c.Text)
	}
	for name, src := range realPatterns {
		re, err := compileRegex(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		worst, worstText := 0.0, ""
		var m matcher
		for _, text := range texts {
			m.reset(nil)
			if _, err := m.findAll(re, []byte(text), nil); err != nil {
				t.Fatalf("%s on %.40q: %v", name, text, err)
			}
			if len(text) >= 100 {
				if r := float64(m.steps) / float64(len(text)); r > worst {
					worst, worstText = r, text
				}
			}
		}
		t.Logf("%-9s worst %4.1f steps per byte (%.12q...)", name, worst, worstText)
		if worst > regexStepsPerByte/2 {
			t.Errorf("%s takes %.1f steps per byte on %.40q: too close to the budget of %d", name, worst, worstText, regexStepsPerByte)
		}
	}
}

// TestRegexBudgetFailsFast: pathological pattern/text pairs fail with a
// *PatternError naming the pattern, in well under a second per MiB — also
// when the text is cut into many small pieces (by added tokens), which
// share one budget.
func TestRegexBudgetFailsFast(t *testing.T) {
	for _, c := range []struct {
		name, pattern, text string
		pieces              bool
	}{
		{"exponential", `(?:a|aa)+(?:a|aa)+b`, strings.Repeat("a", 1<<20), false},
		{"exponential pieces", `(?:a|aa)+(?:a|aa)+b`, strings.Repeat(strings.Repeat("a", 24)+"<s>", 1<<20/27), true},
		{"quadratic", `a*a*a*b`, strings.Repeat("a", 1<<20), false},
		{"quadratic short", `(?:x|\s)*(?:x|\s)*y`, strings.Repeat("x x ", 1<<18), false},
		{"stack", `(?:ab)*ac`, strings.Repeat("ab", 1<<21), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			split := `{"type":"Split","pattern":{"Regex":` + jsonString(c.pattern) + `},"behavior":"Isolated","invert":false}`
			tok, err := Parse(minimal(`"pre_tokenizer":` + split + `,"added_tokens":[{"id":9,"content":"<s>","special":true,"normalized":false}]`))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = tok.Encode(c.text, false)
			took := time.Since(start)
			var pe *PatternError
			if !errors.As(err, &pe) || !errors.Is(err, errRegexLimit) {
				t.Fatalf("got %v, want a *PatternError", err)
			}
			perMiB := took.Seconds() / (float64(len(c.text)) / (1 << 20))
			t.Logf("%s: failed after %v (%.2f s per MiB): %v", c.name, took, perMiB, err)
			for _, want := range []string{"pre_tokenizer Split pattern", jsonString(c.pattern)[1 : len(jsonString(c.pattern))-1], "tokenize this text with the serving engine"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error lacks %q", want)
				}
			}
			if perMiB > 2 && !raceEnabled { // goal: 0.3 s per MiB on an idle machine
				t.Errorf("%.2f s per MiB", perMiB)
			}
		})
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

func TestQuotePattern(t *testing.T) {
	long := strings.Repeat("é", 200)
	q := quotePattern(long)
	if !strings.HasSuffix(q, "… (400 bytes)") || len(q) > 140 || !strings.HasPrefix(q, `"éé`) {
		t.Errorf("quotePattern(long) = %s", q)
	}
	if q := quotePattern("a\x1b\n"); q != `"a\x1b\n"` {
		t.Errorf("quotePattern(controls) = %s", q)
	}
}

// TestMatcherCancel: the matcher looks at the context at its checkpoints.
func TestMatcherCancel(t *testing.T) {
	re, err := compileRegex(`(?:a|aa)+(?:a|aa)+b`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var cn canceller
	cn.reset(ctx)
	var m matcher
	m.reset(&cn)
	if _, err := m.findAll(re, []byte(strings.Repeat("a", 60)), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
