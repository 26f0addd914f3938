package sglangkey

import (
	"strings"
	"testing"

	"lmc/internal/tokenize/rankhit"
)

// FuzzParse: Parse never panics, and an accepted key is exactly its prefix,
// hash and suffix.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Qwen-Qwen3-8B_9f6b9bb08c99ef50c98283988b3a53e1fec7e61db46a490bea14dda6db410611_1_1_k",
		"deepseek-ai-DeepSeek-V3_f0b2d98b83abf661540a300460cf605e17b4a1f1eeb6054479cb4fa630085eb5__k",
		"f0b2d98b83abf661540a300460cf605e17b4a1f1eeb6054479cb4fa630085eb5_k",
		"prod-2026-07_-models-Qwen3-8B_4ea06bc7a22633ef2c5f5429d69a97884b20f444889c5c58d7cd5254155ec8c7_1_v",
		"m_9d7e0cbd513e87434996459974b1c415cadc4699835460078cedc731e5d0d683_0_conv_1",
		"m_9d7e0cbd513e87434996459974b1c415cadc4699835460078cedc731e5d0d683__deepseek_v4_c4",
		"sglang_mooncake_store_warmup_key0123456789abcdef0123456789abcdef", "_k", "", "__",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k, ok := Parse(key)
		if !ok {
			return
		}
		if k.Kind == KindWarmup {
			return
		}
		got := k.Head() + k.Hash + k.Suffix
		if got != key || len(k.Hash) != 64 || len(k.Eras) == 0 {
			t.Fatalf("%q parsed to %+v (renders %q)", key, k, got)
		}
	})
}

// FuzzKeysRoundTrip: every key the engine renders parses back to its page
// hash and prefix.
func FuzzKeysRoundTrip(f *testing.F) {
	f.Add("Qwen/Qwen3-8B", "tag", true, uint8(2), uint8(2), false, uint8(3), uint8(0))
	f.Add("", "", false, uint8(1), uint8(1), true, uint8(1), uint8(4))
	f.Fuzz(func(t *testing.T, model, tag string, hasTag bool, tp, pp uint8, mla bool, era uint8, lcm uint8) {
		p := DefaultParams()
		p.Era = Eras[int(era)%len(Eras)].Name
		p.ModelName, p.TPSize, p.PPSize, p.MLA, p.PageSize = model, int(tp%4)+1, int(pp%3)+1, mla, 2
		if hasTag {
			p.ExtraBackendTag = &tag
		}
		if lcm%3 == 0 {
			p.TPLCMSize, p.SplitHeads = p.TPSize*int(lcm%5+1), true
		}
		e, err := NewEngine(p)
		if err != nil {
			return
		}
		err = e.Each([]uint32{1, 2, 3, 4, 5}, rankhit.AllRanks, func(c Chunk) error {
			for _, key := range c.Keys {
				k, ok := Parse(key)
				if !ok {
					t.Fatalf("%q does not parse", key)
				}
				if k.Kind == KindWarmup {
					continue // a tag or model of the warmup key's shape
				}
				if k.Hash != c.Hash || k.Head() != e.KeyHead() {
					t.Fatalf("%q: %+v, head %q", key, k, e.KeyHead())
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseEra accepts exactly the era names.
func FuzzParseEra(f *testing.F) {
	for _, s := range []string{"S4", "s1", " S2 ", "S5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEra(s)
		if err == nil && !strings.EqualFold(strings.TrimSpace(s), string(e)) {
			t.Fatalf("%q -> %q", s, e)
		}
	})
}
