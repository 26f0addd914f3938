package hf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestExternalTokenizers checks tokenizers that are not committed (their
// licences differ): set LMC_HF_EXTERNAL to a directory written by
// `node scripts/gen-tokenizer-vectors.mjs --external DIR`. A tokenizer this
// package refuses is reported, not failed.
func TestExternalTokenizers(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("LMC_HF_EXTERNAL")
	if dir == "" {
		t.Skip("LMC_HF_EXTERNAL not set")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			tok, err := Load(filepath.Join(dir, e.Name(), "tokenizer.json"))
			var ue *UnsupportedError
			if errors.As(err, &ue) {
				t.Skipf("refused: %v", err)
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			t.Logf("\n%s", tok.Describe())
			b, err := os.ReadFile(filepath.Join(dir, e.Name(), "vectors.json"))
			if err != nil {
				t.Fatal(err)
			}
			var vf struct{ Cases []vectorCase }
			if err := json.Unmarshal(b, &vf); err != nil {
				t.Fatalf("vectors.json: %v", err)
			}
			bad := 0
			for _, c := range vf.Cases {
				for _, special := range []bool{true, false} {
					want := c.Plain
					if special {
						want = c.Special
					}
					got, err := tok.Encode(c.Text, special)
					if err != nil || !slices.Equal(got, want) {
						bad++
						if bad <= 10 {
							t.Errorf("Encode(%.80q, %v): %s", c.Text, special, firstDiff(got, want, err))
						}
					}
				}
			}
			t.Logf("%d of %d encodings match", 2*len(vf.Cases)-bad, 2*len(vf.Cases))
		})
	}
}
