package printers

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"
)

// encodingJSONIndent is what WriteJSON wrote before appendIndent.
func encodingJSONIndent(t testing.TB, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sameAsEncodingJSON(t testing.TB, v any) {
	t.Helper()
	want := encodingJSONIndent(t, v)
	var got bytes.Buffer
	if err := WriteJSON(&got, v); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("WriteJSON(%#v) =\n%s\nwant (encoding/json SetIndent)\n%s", v, got.Bytes(), want)
	}
}

func TestWriteJSONIndentLikeEncodingJSON(t *testing.T) {
	type inner struct {
		A string   `json:"a"`
		B []int    `json:"b"`
		C struct{} `json:"c"`
		D []string `json:"d,omitempty"`
		E *int     `json:"e"`
		F float64  `json:"f"`
		G any      `json:"g"`
	}
	for _, v := range []any{
		nil, 1, "x", true, []int{}, map[string]int{}, []any{[]any{}, map[string]any{}},
		map[string]any{"k": []any{1, "two", nil, 3.5, map[string]any{"z": []int{}}}},
		inner{A: `q"uo\te\\"d, {[:]}`, B: []int{1, 2}, F: 1e21, G: []any{"\u2028<&>", "\\", "\\\\\"", "é"}},
		[]inner{{}, {A: "\\"}},
		json.RawMessage(`{"raw":[1,2,{"x":"y"}]}`),
	} {
		sameAsEncodingJSON(t, v)
	}
}

func FuzzWriteJSONIndent(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c\"]"}],"d":{}}`, `[[],{},"",0,null,true]`, `"\\\"x"`, `{"k\\":"v\\\\"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		sameAsEncodingJSON(t, v)
	})
}

// A lookup of 512 chunks, as lmc lookup -o json prints it (the view's
// shape, field for field).
type benchChunk struct {
	Index  int    `json:"index"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Hash   string `json:"hash"`
	Key    string `json:"key"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	Usable bool   `json:"usable"`
}

type benchLookup struct {
	Source      string       `json:"source"`
	Backend     string       `json:"backend"`
	Index       int          `json:"index"`
	TotalTokens int          `json:"total_tokens"`
	HitTokens   int          `json:"hit_tokens"`
	HitChunks   int          `json:"hit_chunks"`
	NumChunks   int          `json:"num_chunks"`
	Unusable    int          `json:"unusable_hits"`
	Chunks      []benchChunk `json:"chunks"`
}

func benchView() benchLookup {
	r := rand.New(rand.NewSource(1))
	v := benchLookup{Source: "master", Backend: "127.0.0.1:50051", TotalTokens: 131072, NumChunks: 512}
	for i := 0; i < 512; i++ {
		h := make([]byte, 32)
		r.Read(h)
		hash := string(bytesHex(h))
		v.Chunks = append(v.Chunks, benchChunk{Index: i, Start: 256 * i, End: 256 * (i + 1), Hash: hash,
			Key: "meta-llama/Llama-3.1-8B-Instruct@1@0@" + hash + "@bfloat16", Status: "hit", Usable: true})
	}
	return v
}

func bytesHex(b []byte) []byte {
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hx[c>>4], hx[c&15])
	}
	return out
}

func TestWriteJSONLookupLikeEncodingJSON(t *testing.T) { sameAsEncodingJSON(t, benchView()) }

// BenchmarkWriteJSONLookup512: -o json of a 512-chunk lookup (about 130 KB).
func BenchmarkWriteJSONLookup512(b *testing.B) {
	v := benchView()
	var out bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out.Reset()
		if err := WriteJSON(&out, v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(out.Len()))
}

// BenchmarkEncodingJSONIndentLookup512: the same through encoding/json's
// own indenter (what WriteJSON did before appendIndent), for comparison.
func BenchmarkEncodingJSONIndentLookup512(b *testing.B) {
	v := benchView()
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		n = len(encodingJSONIndent(b, v))
	}
	b.SetBytes(int64(n))
}

// BenchmarkWriteJSONLineLookup512: the same as one JSON line (-o jsonl).
func BenchmarkWriteJSONLineLookup512(b *testing.B) {
	v := benchView()
	var out bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out.Reset()
		if err := WriteJSONLine(&out, v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(out.Len()))
}
