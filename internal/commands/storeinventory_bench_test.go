package commands

import (
	"fmt"
	"strconv"
	"testing"

	"lmc/internal/tokenize/rankhit"
	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// benchStoreKeys are n keys shaped like a mixed store: 98 % LMCache keys
// (as scripts/benchstore writes them), 1 % SGLang HiCache objects (TP 2)
// and 1 % vLLM MooncakeStoreConnector blocks (TP 2), both computed by the
// engines' own key code.
func benchStoreKeys(tb testing.TB, n int) []string {
	tb.Helper()
	tok := make([]uint32, max(n/100, 64)*16)
	for i := range tok {
		tok[i] = uint32(i)
	}
	var sg, vl []string
	sp := sglangkey.DefaultParams()
	sp.PageSize, sp.TPSize, sp.ModelName = 16, 2, "Qwen/Qwen3-8B"
	se, err := sglangkey.NewEngine(sp)
	if err != nil {
		tb.Fatal(err)
	}
	if err := se.Each(tok, rankhit.AllRanks, func(c sglangkey.Chunk) error { sg = append(sg, c.Keys...); return nil }); err != nil {
		tb.Fatal(err)
	}
	vp := vllmkey.DefaultParams()
	vp.Model, vp.TPSize, vp.NumKVHeads, vp.HashSeed = model, 2, 8, vllmkey.Str("0")
	ve, err := vllmkey.NewEngine(vp)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ve.Each(tok, rankhit.AllRanks, func(c vllmkey.Chunk) error { vl = append(vl, c.Keys...); return nil }); err != nil {
		tb.Fatal(err)
	}
	models := []string{"meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-32B", "deepseek-ai/DeepSeek-V3"}
	out := make([]string, n)
	for i := range out {
		switch i % 100 {
		case 98:
			out[i] = sg[(i/100)%len(sg)]
		case 99:
			out[i] = vl[(i/100)%len(vl)]
		default:
			x := uint64(i)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
			out[i] = fmt.Sprintf("%s@2@%d@%s@bfloat16", models[i%len(models)], (i/3)%2, strconv.FormatInt(int64(x), 16))
		}
	}
	return out
}

// The summary's per-key work (recognition and grouping) over 200,000 keys
// of a mixed store, and over the other engines' keys alone; reports ns per
// key. Run with go test -run '^$' -bench StoreSummaryKeys ./internal/commands/
func BenchmarkStoreSummaryKeys(b *testing.B) {
	mixed := benchStoreKeys(b, 200_000)
	var engines []string
	for i, k := range mixed {
		if i%100 >= 98 {
			engines = append(engines, k)
		}
	}
	for _, c := range []struct {
		name string
		keys []string
	}{{"mixed", mixed}, {"engines-only", engines}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s := newSummarizer(nil, segmentsView{})
				for _, k := range c.keys {
					s.addKey(k)
				}
				_ = s.finish()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.keys)), "ns/key")
		})
	}
}
