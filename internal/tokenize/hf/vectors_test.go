package hf

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// The vectors come from Hugging Face's tokenizers library itself (see
// scripts/gen-tokenizer-vectors.mjs); every id must match exactly.

type vectorCase struct {
	Text    string   `json:"text"`
	Special []uint32 `json:"special"`
	Plain   []uint32 `json:"plain"`
}

type vectorVariant struct {
	Name  string                     `json:"name"`
	Base  string                     `json:"base"`
	Patch map[string]json.RawMessage `json:"patch"`
	Cases []vectorCase               `json:"cases"`
	Long  *struct {
		Special []uint32 `json:"special"`
		Plain   []uint32 `json:"plain"`
	} `json:"long"`
}

type vectorFile struct {
	Reference string          `json:"reference"`
	Variants  []vectorVariant `json:"variants"`
}

var (
	testdataOnce sync.Once
	qwenRaw      []byte
	spRaw        []byte
	vectors      vectorFile
	longText     string
	testdataErr  error
)

func loadTestdata(t testing.TB) {
	t.Helper()
	testdataOnce.Do(func() {
		testdataErr = func() error {
			f, err := os.Open(filepath.Join("testdata", "qwen3", "tokenizer.json.gz"))
			if err != nil {
				return err
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			if qwenRaw, err = io.ReadAll(zr); err != nil {
				return err
			}
			if spRaw, err = os.ReadFile(filepath.Join("testdata", "sp", "tokenizer.json")); err != nil {
				return err
			}
			b, err := os.ReadFile(filepath.Join("testdata", "long.txt"))
			if err != nil {
				return err
			}
			longText = string(b)
			b, err = os.ReadFile(filepath.Join("testdata", "vectors.json"))
			if err != nil {
				return err
			}
			return json.Unmarshal(b, &vectors)
		}()
	})
	if testdataErr != nil {
		t.Fatal(testdataErr)
	}
}

var (
	qwenOnce sync.Once
	qwenTok  *Tokenizer
	qwenErr  error
)

// qwen3 returns the unmodified Qwen3 tokenizer, parsed once.
func qwen3(t testing.TB) *Tokenizer {
	t.Helper()
	loadTestdata(t)
	qwenOnce.Do(func() { qwenTok, qwenErr = Parse(qwenRaw) })
	if qwenErr != nil {
		t.Fatal(qwenErr)
	}
	return qwenTok
}

// patched returns base with some top-level keys replaced.
func patched(t testing.TB, base []byte, patch map[string]json.RawMessage) []byte {
	t.Helper()
	if len(patch) == 0 {
		return base
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(base, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range patch {
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	qwenFileOnce sync.Once
	qwenFile     *fileJSON
	qwenFileErr  error
)

// variantTokenizer builds a variant. Qwen3 variants never patch the model,
// so they reuse the parsed vocabulary and merges (parsing them again for
// each variant would dominate the test time) and parse the rest of the
// patched file as Parse does.
func variantTokenizer(t testing.TB, v *vectorVariant) *Tokenizer {
	t.Helper()
	if v.Base == "qwen3" && len(v.Patch) == 0 {
		return qwen3(t)
	}
	if v.Base == "qwen3" {
		base := qwen3(t)
		qwenFileOnce.Do(func() { qwenFile, _, qwenFileErr = scanFile(qwenRaw) })
		if qwenFileErr != nil {
			t.Fatalf("scanning the Qwen3 tokenizer.json: %v", qwenFileErr)
		}
		if _, ok := v.Patch["model"]; ok {
			t.Fatalf("%s: a qwen3 variant must not patch the model", v.Name)
		}
		f := *qwenFile
		model := base.model
		for k, raw := range v.Patch {
			var err error
			switch k {
			case "normalizer":
				f.Normalizer = raw
			case "pre_tokenizer":
				f.PreTokenizer = raw
			case "post_processor":
				f.PostProcessor = raw
			case "decoder":
				f.Decoder = raw
			case "added_tokens":
				f.AddedTokens = nil
				err = json.Unmarshal(raw, &f.AddedTokens)
			case "model_options": // merged into the model by the generator
				var o struct {
					IgnoreMerges *bool `json:"ignore_merges"`
				}
				if err = json.Unmarshal(raw, &o); err == nil && o.IgnoreMerges != nil {
					model.ignoreMerges = *o.IgnoreMerges
				}
				if err == nil && string(raw) != `{"ignore_merges":true}` && string(raw) != `{"ignore_merges":false}` {
					t.Fatalf("%s: unsupported model_options %s", v.Name, raw)
				}
			default:
				t.Fatalf("%s: cannot patch %q", v.Name, k)
			}
			if err != nil {
				t.Fatalf("%s: patching %s: %v", v.Name, k, err)
			}
		}
		tok, err := (&Tokenizer{model: model}).finish(&f)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		return tok
	}
	if _, ok := v.Patch["model_options"]; ok {
		t.Fatalf("%s: model_options is only for qwen3 variants", v.Name)
	}
	tok, err := Parse(patched(t, spRaw, v.Patch))
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	return tok
}

func TestVectors(t *testing.T) {
	t.Parallel()
	loadTestdata(t)
	if n := len(vectors.Variants[0].Cases); n < 300 {
		t.Fatalf("vectors.json has %d strings, want at least 300", n)
	}
	var total, failed atomic.Int64
	// Cleanups run after the parallel subtests end.
	t.Cleanup(func() {
		t.Logf("%d of %d encodings match %s", total.Load()-failed.Load(), total.Load(), vectors.Reference)
	})
	for i := range vectors.Variants {
		v := &vectors.Variants[i]
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			tok := variantTokenizer(t, v)
			var buf []uint32
			for _, c := range v.Cases {
				for _, special := range []bool{true, false} {
					want := c.Plain
					if special {
						want = c.Special
					}
					var err error
					buf, err = tok.AppendEncode(buf[:0], c.Text, special)
					total.Add(1)
					if err != nil || !slices.Equal(buf, want) {
						failed.Add(1)
						t.Errorf("Encode(%q, %v):\n got %v (err %v)\nwant %v", c.Text, special, buf, err, want)
					}
				}
			}
			if v.Long != nil {
				for _, special := range []bool{true, false} {
					want := v.Long.Plain
					if special {
						want = v.Long.Special
					}
					got, err := tok.Encode(longText, special)
					total.Add(1)
					if err != nil || !slices.Equal(got, want) {
						failed.Add(1)
						t.Errorf("long document (add_special_tokens=%v): %s", special, firstDiff(got, want, err))
					}
				}
			}
		})
	}
}

func firstDiff(got, want []uint32, err error) string {
	if err != nil {
		return err.Error()
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at %d: got %v, want %v", i, got[i:min(i+8, len(got))], want[i:min(i+8, len(want))])
		}
	}
	return fmt.Sprintf("got %d ids, want %d", len(got), len(want))
}

// TestTokenBytesRoundTrip checks that the tokens of an encoding spell the
// normalized text back.
func TestTokenBytesRoundTrip(t *testing.T) {
	t.Parallel()
	tok := qwen3(t)
	for _, c := range vectors.Variants[0].Cases {
		ids, err := tok.Encode(c.Text, false)
		if err != nil {
			t.Fatalf("Encode(%q): %v", c.Text, err)
		}
		var b bytes.Buffer
		for _, id := range ids {
			p, ok := tok.TokenBytes(id)
			if !ok {
				t.Fatalf("TokenBytes(%d) found nothing, want the bytes of an id Encode returned", id)
			}
			b.Write(p)
		}
		want, err := tok.norm.apply(&state{}, nil, []byte(c.Text))
		if err != nil {
			t.Fatalf("normalizing %q: %v", c.Text, err)
		}
		if c.Text != "" && !bytes.Contains([]byte(c.Text), []byte("<|")) && b.String() != string(want) {
			t.Errorf("%q: tokens spell %q, want %q", c.Text, b.String(), want)
		}
	}
}
