package enginekey

import "testing"

func TestRecognize(t *testing.T) {
	h := "cf97adeedb59e05bfd73a2b4c2a8885708c4f4f70c84c64b27120e72ab733b72"
	cases := []struct {
		key            string
		engine         Engine
		writer         string
		kv, hybrid, ok bool
	}{
		{"Qwen-Qwen3-8B_" + h + "_1_1_k", SGLang, "SGLang HiCache (S2/S3/S4)", true, false, true},
		{h + "_1_conv_0", SGLang, "SGLang HiCache hybrid pool conv_0 (S2/S3/S4)", true, true, true},
		{"sglang_mooncake_store_warmup_key0123456789abcdef0123456789abcdef", SGLang, "SGLang HiCache (warm-up object)", false, false, true},
		{"Llama-3.1-8B-Instruct@tp_rank:0@pcp0@dcp0@pp_rank:0@group:0@" + h, VLLM, "vLLM MooncakeStoreConnector (V2/V3)", true, false, true},
		{"Llama-3.1-8B-Instruct@tp_rank:0@pcp0@dcp0@pp_rank:0@group:1@" + h, VLLM, "vLLM MooncakeStoreConnector (V2/V3)", true, true, true},
		{"Qwen3-8B@pcp0@dcp0@head_or_tp_rank:1@pp_rank:0@group:0@cache_role:state@cache_family:c4@" + h, VLLM, "vllm-ascend store connector (A3)", true, true, true},
		{"10600738509959666517_hidden_1", VLLM, "vLLM v0 MooncakeStoreConnector (removed)", true, false, true},
		{"meta-llama/Llama-3.1-8B-Instruct@1@0@" + h + "@bfloat16", "", "", false, false, false}, // LMCache's
		{"hello", "", "", false, false, false},
	}
	for _, c := range cases {
		r, ok := Recognize(c.key)
		if ok != c.ok || r.Engine != c.engine || r.Writer != c.writer || r.KV != c.kv || r.Hybrid != c.hybrid {
			t.Errorf("Recognize(%q) = %+v, %v", c.key, r, ok)
		}
	}
	for _, s := range []string{"lmcache", "SGLang", " vllm "} {
		if _, err := ParseEngine(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseEngine("trtllm"); err == nil {
		t.Error("trtllm accepted")
	}
}

// FuzzRecognize: never panics; a recognised key names its engine and has
// exactly one parse.
func FuzzRecognize(f *testing.F) {
	f.Add("Qwen-Qwen3-8B_cf97adeedb59e05bfd73a2b4c2a8885708c4f4f70c84c64b27120e72ab733b72_1_1_k")
	f.Add("m@tp_rank:0@pcp0@dcp0@pp_rank:0@00000000000000000000000000000000")
	f.Fuzz(func(t *testing.T, key string) {
		r, ok := Recognize(key)
		if ok && (r.Writer == "" || (r.SGLang == nil) == (r.VLLM == nil)) {
			t.Fatalf("%q: %+v", key, r)
		}
	})
}
