package vllmkey

import (
	"strconv"
	"strings"
	"testing"

	"lmc/internal/tokenize/rankhit"
)

// render rebuilds the key a KeyInfo describes, for the round trip.
func render(k KeyInfo) string {
	n := strconv.Itoa
	switch {
	case k.Eras[0] == V0:
		if k.Hidden {
			return k.Hash + "_hidden_" + n(k.TPRank)
		}
		return k.Hash + "_" + n(k.TPRank)
	case k.Eras[0] == A0:
		return k.Model + "@" + n(k.WorldSize) + "@" + n(k.Rank) + "@" + k.Hash
	case k.Eras[0] == A1:
		return k.Model + "@head_or_tp_rank:" + n(k.TPRank) + "@" + k.Hash
	case k.Eras[0] == A2 || k.Eras[0] == A3:
		s := k.Model + "@pcp" + n(k.PCPRank) + "@dcp" + n(k.DCPRank) + "@head_or_tp_rank:" + n(k.TPRank)
		if k.Layer >= 0 {
			s += "@layer_id:" + n(k.Layer)
		} else {
			s += "@pp_rank:" + n(k.PPRank)
		}
		if k.Eras[0] == A3 {
			s += "@group:" + n(k.Group) + "@cache_role:" + k.CacheRole + "@cache_family:" + k.CacheFamily
		}
		return s + "@" + k.Hash
	}
	s := k.Model + "@" + Namespace{k.TPRank, k.PCPRank, k.DCPRank, k.PPRank}.String()
	if k.CachePrefix != "" {
		s = k.CachePrefix + "@" + s
	}
	if k.Group >= 0 {
		s += "@group:" + n(k.Group)
	}
	return s + "@" + k.Hash
}

// FuzzParse: Parse never panics, and whatever it accepts it describes
// completely (the fields render back to the same key).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Llama-3.1-8B-Instruct@tp_rank:0@pcp0@dcp0@pp_rank:0@group:0@e95b6c2b09099e096fa47da04baa9d39dcdcf0d3b11a3d859cdbe66f960f5e74",
		"prod@Llama-3.1-8B-Instruct@tp_rank:0@pcp0@dcp0@pp_rank:0@group:0@186707ab008a5fb9cb4ee01a00f0f133",
		"Llama-3.1-8B-Instruct@tp_rank:1@pcp0@dcp1@pp_rank:0@7dcc02b6fcd53a3ef80f8e1effe0fad85b11d28f33b93f5e77cc8fb72379d44a",
		"Qwen/Qwen3-8B@head_or_tp_rank:1@3af2a5ba32b5d50ec9550fd66c181d869bca6a4d4cb18391d8733ddcaf136cf7",
		"Qwen3-8B@pcp0@dcp0@head_or_tp_rank:1@pp_rank:0@group:0@cache_role:kv@cache_family:default@3af2a5ba32b5d50ec9550fd66c181d869bca6a4d4cb18391d8733ddcaf136cf7",
		"Qwen/Qwen3-8B@2@1@2ec1c06adbc7f9e244cfe7496a6f4d0eb2102f815f12751cf90b8e013a2ff91a",
		"10600738509959666517_hidden_1", "1_0", "a@b", "@tp_rank:0@pcp0@dcp0@pp_rank:0@00", "",
		"meta-llama/Llama-3.1-8B-Instruct@1@0@4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e@bfloat16",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k, ok := Parse(key)
		if !ok {
			return
		}
		if len(k.Eras) == 0 || k.Hash == "" {
			t.Fatalf("%q: accepted without era or hash: %+v", key, k)
		}
		if got := render(k); got != key {
			t.Fatalf("%q parsed to %+v, which renders %q", key, k, got)
		}
	})
}

// FuzzKeysRoundTrip: every key the engine renders parses back to its
// parameters.
func FuzzKeysRoundTrip(f *testing.F) {
	f.Add("meta-llama/Llama-3.1-8B-Instruct", "", uint8(2), uint8(8), uint8(1), uint8(0), uint8(2), false)
	f.Add("/models/x@y/", "pre@fix", uint8(4), uint8(2), uint8(2), uint8(3), uint8(5), true)
	f.Fuzz(func(t *testing.T, model, prefix string, tp, kv, pp, group, era uint8, mla bool) {
		eras := []Era{V1, V2, V3, A1, A2, A3}
		p := DefaultParams()
		p.Era = eras[int(era)%len(eras)]
		p.Model, p.CachePrefix, p.HashSeed = model, prefix, Str("0")
		p.TPSize, p.NumKVHeads, p.PPSize, p.KVCacheGroup, p.MLA = int(tp%8)+1, int(kv%8)+1, int(pp%4)+1, int(group%4), mla
		p.BlockSize = 4
		e, err := NewEngine(p)
		if err != nil {
			return
		}
		if strings.Contains(p.ModelName(), "@") || strings.Contains(prefix, "@") || p.ModelName() != strings.TrimSpace(p.ModelName()) {
			return // documented as ambiguous
		}
		err = e.Each([]uint32{1, 2, 3, 4, 5, 6, 7, 8}, rankhit.AllRanks, func(c Chunk) error {
			for _, key := range c.Keys {
				k, ok := Parse(key)
				if !ok {
					t.Fatalf("%q does not parse", key)
				}
				wantEra := p.Era
				if !contains(k.Eras, wantEra) || k.Hash != c.Hash || k.Model != p.ModelName() {
					t.Fatalf("%q: %+v for %s model %q", key, k, p.Era, p.ModelName())
				}
				if p.Era == V3 && k.CachePrefix != prefix {
					t.Fatalf("%q: prefix %q", key, k.CachePrefix)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func contains(es []Era, e Era) bool {
	for _, x := range es {
		if x == e {
			return true
		}
	}
	return false
}

// FuzzParseMM: accepted specs render back as given (canonical numbers).
func FuzzParseMM(f *testing.F) {
	for _, s := range []string{"img-0a1b2c:5:20", "a:b:0:1", "::1:1", "x:01:2", "x:-0:1", "x:1:99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMM(s)
		if err != nil {
			return
		}
		if m.ID == "" || m.Offset < 0 || m.Length < 1 {
			t.Fatalf("%q: %+v", s, m)
		}
		back, err := ParseMM(m.String())
		if err != nil || back != m {
			t.Fatalf("%q -> %+v -> %q -> %+v %v", s, m, m.String(), back, err)
		}
	})
}

// FuzzSeedCheck compares with a direct reading of CPython's rule.
func FuzzSeedCheck(f *testing.F) {
	for _, s := range []string{"0", "random", " 12", "+1", "-0", "-1", "4294967295", "4294967296", "1 ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ParseSeedCheck(s)
		t2 := strings.TrimLeft(s, " \t\n\v\f\r")
		neg := strings.HasPrefix(t2, "-")
		t2 = strings.TrimPrefix(strings.TrimPrefix(t2, "+"), "-")
		n, perr := strconv.ParseUint(t2, 10, 32)
		digits := t2 != "" && strings.Trim(t2, "0123456789") == ""
		ok := s == "" || s == "random" || s == DefaultSeed || digits && perr == nil && (!neg || n == 0) && len(s)-len(strings.TrimLeft(s, " \t\n\v\f\r")) < len(s)
		if ok != (err == nil) {
			t.Fatalf("%q: check %v, reference %v", s, err, ok)
		}
	})
}

// FuzzEngineHit: the engine never reports more than the prefix, nor the
// whole prompt, and both rules agree below a full-prompt hit.
func FuzzEngineHit(f *testing.F) {
	f.Add(48, 16, 3, false)
	f.Add(15, 1, 15, true)
	f.Fuzz(func(t *testing.T, n, b, blocks int, eagle bool) {
		if n < 0 || n > 1<<20 || b <= 0 || b > 1024 || blocks < 0 {
			return
		}
		blocks = min(blocks, n/b)
		prefix := blocks * b
		for _, r := range []Rules{RulesCurrent, RulesPR40900} {
			got := EngineHit(r, eagle && r == RulesCurrent, n, b, prefix)
			if got > prefix || got < 0 || n > 0 && got >= n {
				t.Fatalf("%s n=%d b=%d prefix=%d: %d", r, n, b, prefix, got)
			}
			if !eagle && prefix < n && got != prefix {
				t.Fatalf("%s n=%d b=%d prefix=%d: %d, want the prefix", r, n, b, prefix, got)
			}
		}
	})
}

// FuzzParseNames: the enum parsers accept exactly their names.
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"V3", "v1", "A2", "sha256", "XXHASH-CBOR", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := ParseEra(s); err == nil {
			if _, err := ParseEra(string(e)); err != nil || !strings.EqualFold(strings.TrimSpace(s), string(e)) {
				t.Fatalf("era %q -> %q", s, e)
			}
		}
		if a, err := ParseHashAlgo(s); err == nil && a.DigestLen() == 0 {
			t.Fatalf("hash %q", s)
		}
	})
}
