package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"lmc/internal/tokenize/lmcachekey"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		key  string
		want string // format model ws wid dtype hashkind tags
	}{
		{"m/x@1@0@-1a2b3c4d5e6f7@bfloat16", "current m/x 1 0 bfloat16 int neg"},
		{"m@4@3@" + strings.Repeat("ab", 32) + "@half@user%alice", "current m 4 3 half digest-32 user%alice"},
		{"vllm@m@2@1@" + strings.Repeat("0f", 16) + "@bfloat16", "2025-11 m 2 1 bfloat16 digest-16"},
		{"vllm@m@1@0@7fa3", "2025-09 m 1 0  int"},
		{"vllm@m@1@0@-8123456789012345678", "decimal m 1 0  int neg"},
		{"vllm@m@1@0@" + strings.Repeat("c", 64), "2025-09 m 1 0  digest-32"},
		{"m@02010201@" + strings.Repeat("1", 64), "mp m 2 1  digest-32"},
		{"m@01000100@00000000000000ff@salt", "mp m 1 0  int"},
	}
	for _, tc := range cases {
		k, ok := ParseKey(tc.key)
		if !ok {
			t.Errorf("ParseKey(%s) ok = false, want true", tc.key)
			continue
		}
		got := fmt.Sprintf("%s %s %d %d %s %s", k.Format, k.Model, k.WorldSize, k.WorkerID, k.DType, k.HashKind)
		if len(k.Tags) > 0 {
			got += " " + strings.Join(k.Tags, "@")
		}
		if k.Negative {
			got += " neg"
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.key, got, tc.want)
		}
	}
	for _, bad := range []string{"", "plain", "a@b@c@d@e", "m@1@0@xyz@bfloat16", "m@02010301@ab", "m@1@0@" + strings.Repeat("a", 40) + "@half", "m@1@0@ab@half@notatag",
		"m@1@999999999@ab@half", "m@1@99999999999999999999999@ab@half", "vllm@m@5000@0@7fa3", "m@0@0@ab@half"} {
		if k, ok := ParseKey(bad); ok {
			t.Errorf("ParseKey(%q) = %+v, true; want not parsed", bad, k)
		}
	}
	// A worker id past any deployment is an unrecognised key, not a slice
	// sized by it.
	inv := Infer([]string{"m@1@99999999999999999999999@ab@half", "m@4@4095@ab@half"})
	if inv.Foreign != 1 || len(inv.Groups) != 1 || len(inv.Groups[0].WorkerKeys) != 4096 {
		t.Fatalf("Infer: foreign %d, groups %+v", inv.Foreign, inv.Groups)
	}
}

// keysOf renders every rank's keys of a prompt under p.
func keysOf(t *testing.T, p lmcachekey.Params, seed string, n int) []string {
	t.Helper()
	v := withSeed(t, p, seed)
	tb, err := NewRankTable(v.Params, tokens(n))
	if err != nil {
		t.Fatal(err)
	}
	return tb.Keys()
}

func TestInferGroupsRealKeys(t *testing.T) {
	t.Parallel()
	var keys []string
	p, _ := params(t, func(p *lmcachekey.Params) { p.WorldSize = 2 })
	keys = append(keys, keysOf(t, p, "0", 256*10)...)
	// rank 1 lost its last chunk
	keys = keys[:len(keys)-1]
	q, _ := params(t, func(p *lmcachekey.Params) {
		p.Model, p.Algorithm, p.Schema, p.DType = "Qwen/Qwen3-8B", lmcachekey.XXHashCBOR, lmcachekey.Schema202511, "half"
	})
	keys = append(keys, keysOf(t, q, "1", 256*3)...)
	r, _ := params(t, func(p *lmcachekey.Params) { p.Model, p.Schema, p.ChunkSize = "old", lmcachekey.Schema202508, 16 })
	keys = append(keys, keysOf(t, r, "0", 16*12)...)
	m, _ := params(t, func(p *lmcachekey.Params) {
		p.Model, p.Schema, p.Algorithm = "mp-model", lmcachekey.SchemaMP, lmcachekey.Blake3
	})
	keys = append(keys, keysOf(t, m, "0", 256*2)...)
	keys = append(keys, "sglang-page-abcdef", "vllm-prefix-123")

	i := 0
	inv, err := Sample(context.Background(), func(ctx context.Context, fn func(string) error) error {
		for _, k := range keys {
			i++
			if err := fn(k); err != nil {
				return err
			}
		}
		return nil
	}, 1000)
	if err != nil {
		t.Fatalf("Sample error = %v, want nil", err)
	}
	if !inv.Complete || inv.Sampled != len(keys) || inv.Foreign != 2 {
		t.Fatalf("Sample = complete %v, %d sampled, %d foreign; want true, %d, 2", inv.Complete, inv.Sampled, inv.Foreign, len(keys))
	}
	var got []string
	for _, g := range inv.Groups {
		got = append(got, fmt.Sprintf("%s|%s|%v|ws%d|%s|%s|%v|%d|%v", g.Model, g.Format, g.Schemas, g.WorldSize, g.DType, g.HashKind, g.Algorithms, g.Keys, g.WorkerKeys))
	}
	want := []string{
		"meta-llama/Llama-3.1-8B-Instruct|current|[current 2026-01]|ws2|bfloat16|int|[builtin]|19|[10 9]",
		"old|decimal|[2025-08 v0.3.3 2025-07]|ws1||int|[builtin]|12|[12]",
		"Qwen/Qwen3-8B|2025-11|[2025-11]|ws1|half|digest-16|[xxhash xxhash_cbor]|3|[3]",
		"mp-model|mp|[mp]|ws1||digest-32|[blake3 sha256_cbor sha256]|2|[2]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(inv.Notes) != 1 || !strings.Contains(inv.Notes[0], "rank 1 has 9 keys where another rank has 10") {
		t.Errorf("notes %q, want one saying rank 1 has 9 keys where another rank has 10", inv.Notes)
	}
	if !inv.Has(keys[0]) || inv.Has("nope") {
		t.Errorf("Has(a listed key) %v, Has(nope) %v; want true, false", inv.Has(keys[0]), inv.Has("nope"))
	}
	if ms := inv.Models(); ms[0] != "meta-llama/Llama-3.1-8B-Instruct" || len(ms) != 4 {
		t.Errorf("Models() = %v, want 4 starting with meta-llama/Llama-3.1-8B-Instruct", ms)
	}

	// a bounded sample stops the listing and keeps no membership set
	i = 0
	inv, err = Sample(context.Background(), func(ctx context.Context, fn func(string) error) error {
		for _, k := range keys {
			i++
			if err := fn(k); err != nil {
				return err
			}
		}
		return nil
	}, 5)
	if err != nil {
		t.Fatalf("bounded Sample error = %v, want nil", err)
	}
	if inv.Complete || inv.Sampled != 5 || i != 6 || inv.Has(keys[0]) {
		t.Fatalf("bounded Sample = complete %v, %d sampled, %d keys read, Has(a listed key) %v; want false, 5, 6, false",
			inv.Complete, inv.Sampled, i, inv.Has(keys[0]))
	}
	boom := errors.New("boom")
	if _, err := Sample(context.Background(), func(context.Context, func(string) error) error { return boom }, 5); !errors.Is(err, boom) {
		t.Fatalf("Sample of a failing listing: error %v, want %v", err, boom)
	}
}

func TestInventoryGuidesTheSearchToAModelName(t *testing.T) {
	t.Parallel()
	// the engine was started with a local path; the lookup uses the HF id
	toks := tokens(800)
	sp, _ := params(t, func(p *lmcachekey.Params) { p.Model = "/models/llama-8b"; p.Algorithm = lmcachekey.SHA256 })
	s := newStore()
	s.put(t, withSeed(t, sp, "0"), toks, nil)
	var listing []string
	for k := range s.keys {
		listing = append(listing, k)
	}
	// an incomplete sample: it guides, but the store answers
	inv, err := Sample(context.Background(), func(_ context.Context, fn func(string) error) error {
		for _, k := range append(listing, "x", "y", "z") {
			if err := fn(k); err != nil {
				return err
			}
		}
		return nil
	}, len(listing))
	if err != nil {
		t.Fatalf("Sample error = %v, want nil", err)
	}
	if inv.Complete {
		t.Fatal("Sample of part of the listing: complete true, want false")
	}
	cp, _ := params(t, nil)
	r := diag(t, s, withSeed(t, cp, "0"), toks, Options{Inventory: inv})
	if r.Outcome != CauseFound {
		t.Fatalf("outcome %s, search %+v; want %s", r.Outcome, r.Search, CauseFound)
	}
	if got, want := strings.Join(settings(r.Findings[0]), " "), "model=/models/llama-8b hash_algorithm=sha256"; got != want {
		t.Errorf("diffs %q, want %q", got, want)
	}
	// baseline, singles, store sample, confirm
	if s.calls != 4 || r.Search.Stages[1] != "store sample" {
		t.Errorf("%d calls, stages %q; want 4 calls, stage 1 %q", s.calls, r.Search.Stages, "store sample")
	}
}
