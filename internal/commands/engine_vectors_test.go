package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"lmc/internal/tokenize/tokentest"
)

// The engine vectors (../shared/vectors/engine-keys.json, copied into the
// tokenize testdata; the tokenize tests check the copy against the shared
// file) run through lmc itself here: every case, era and rank through
// 'lmc keys', the hit scenarios through 'lmc lookup' against the sandbox
// master.
const engineVectors = "../tokenize/testdata/engine-keys.json"

type sglVecCase tokentest.SGLangCase[string]

type vllmVecBlock = tokentest.VLLMBlock[string]

type vllmVecCase tokentest.VLLMCase[string]

func loadEngineVectors(t *testing.T) (sgl []sglVecCase, vllm []vllmVecCase, other []vllmVecCase) {
	t.Helper()
	b, err := os.ReadFile(engineVectors)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := tokentest.DecodeEngineKeyCases(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range cases {
		var head struct{ Engine string }
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatal(err)
		}
		if head.Engine == "sglang-hicache-mooncake" {
			var c sglVecCase
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			sgl = append(sgl, c)
			continue
		}
		var c vllmVecCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		if c.Engine == "vllm-mooncake-store-connector" {
			vllm = append(vllm, c)
		} else {
			other = append(other, c)
		}
	}
	if len(cases) != 33 || len(sgl) != 16 || len(vllm) != 14 || len(other) != 3 {
		t.Fatalf("vectors: %d cases (%d SGLang, %d vLLM, %d other); the spec lists 33", len(cases), len(sgl), len(vllm), len(other))
	}
	return sgl, vllm, other
}

func tokensJSON(ts []uint32) string {
	b, _ := json.Marshal(ts)
	if len(ts) == 0 {
		return "[]"
	}
	return string(b)
}

// sglFlags are the lmc flags of an SGLang case in era e.
func (c *sglVecCase) flags(era string) []string {
	p := c.Params
	a := []string{"--engine", "sglang", "--key-schema", era, "--page-size", strconv.Itoa(p.PageSize), "--tp-size", strconv.Itoa(p.TPSize), "--pp-size", strconv.Itoa(p.PPSize)}
	if p.ModelName != nil {
		a = append(a, "--model", *p.ModelName)
	}
	if p.MLA {
		a = append(a, "--mla")
	}
	if p.ExtraBackendTag != nil {
		a = append(a, "--extra-backend-tag", *p.ExtraBackendTag)
	}
	if p.Eagle {
		a = append(a, "--eagle")
	}
	if p.ExtraKey != nil {
		a = append(a, "--extra-key", *p.ExtraKey)
	}
	if p.CacheSalt != nil {
		a = append(a, "--cache-salt", *p.CacheSalt)
	}
	if p.TPLCMSize != nil {
		a = append(a, "--tp-lcm-size", strconv.Itoa(*p.TPLCMSize))
	}
	if p.SplitHeads {
		a = append(a, "--split-heads")
	}
	return a
}

// vllmFlags are the lmc flags of a vLLM case in format era.
func (c *vllmVecCase) flags(era string) []string {
	p := c.Params
	a := []string{"--engine", "vllm", "--key-schema", era, "--block-size", strconv.Itoa(p.BlockSize), "--hash", p.HashAlgo, "--model", p.Model,
		"--tp-size", strconv.Itoa(max(1, p.TPSize)), "--pp-size", strconv.Itoa(max(1, p.PPSize)), "--pcp-size", strconv.Itoa(max(1, p.PCPSize)),
		"--dcp-size", strconv.Itoa(max(1, p.DCPSize)), "--num-kv-heads", strconv.Itoa(p.NumKVHeads), "--kv-cache-group", strconv.Itoa(p.Group)}
	// "vllm-none-hash" is what V3 assumes with no seed; every other era
	// and seed is given.
	if p.Seed != nil && (*p.Seed != "vllm-none-hash" || era != "V3") {
		a = append(a, "--hash-seed", *p.Seed)
	}
	if p.MLA {
		a = append(a, "--mla")
	}
	if p.CachePrefix != "" {
		a = append(a, "--cache-prefix", p.CachePrefix)
	}
	if p.LoRA != nil {
		a = append(a, "--lora", *p.LoRA)
	}
	if p.Salt != nil {
		a = append(a, "--cache-salt", *p.Salt)
	}
	for _, m := range p.MM {
		a = append(a, "--mm", fmt.Sprintf("%s:%d:%d", m[0], int(m[1].(float64)), int(m[2].(float64))))
	}
	return a
}

type engineKeysJSON struct {
	Engine string         `json:"engine"`
	Params map[string]any `json:"params"`
	Chunks []struct {
		Index, Start, End int
		Hash, Key         string
		Keys              []string
	} `json:"chunks"`
}

func runKeysJSON(t *testing.T, tokens []uint32, args ...string) engineKeysJSON {
	t.Helper()
	r := runLMC(t, runOpts{stdin: tokensJSON(tokens)}, append(append([]string{"keys"}, args...), "-o", "json", "-")...)
	if r.code != 0 {
		t.Fatalf("lmc keys %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	var v engineKeysJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err, r.stdout)
	}
	return v
}

// rankLabels sorts "tp<t>_pp<q>[_pcp<c>]" labels in lmc's rank order: PP
// outer, then PCP, TP inner.
func rankLabels(m map[string]bool) []string {
	var out []string
	for l := range m {
		out = append(out, l)
	}
	num := func(l, p string) int {
		for _, f := range strings.Split(l, "_") {
			if v, ok := strings.CutPrefix(f, p); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		return 0
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		for _, p := range []string{"pp", "pcp", "tp"} {
			if num(a, p) != num(b, p) {
				return num(a, p) < num(b, p)
			}
		}
		return false
	})
	return out
}

func rankArgs(label string) []string {
	var a []string
	for _, f := range strings.Split(label, "_") {
		for _, p := range []string{"pcp", "tp", "pp"} {
			if v, ok := strings.CutPrefix(f, p); ok {
				a = append(a, "--"+p+"-rank", v)
				break
			}
		}
	}
	return a
}

func dedup(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestEngineVectorsSGLangKeys runs every SGLang case, era and rank through
// lmc keys, one rank at a time and with --all-ranks.
func TestEngineVectorsSGLangKeys(t *testing.T) {
	sgl, _, _ := loadEngineVectors(t)
	runs := 0
	for _, c := range sgl {
		t.Run(c.ID, func(t *testing.T) {
			if len(c.Eras) == 0 {
				t.Fatal("no eras")
			}
			for era, e := range c.Eras {
				labels := map[string]bool{}
				for _, pg := range e.Pages {
					for l := range pg.Keys {
						labels[l] = true
					}
				}
				if len(e.Pages) == 0 {
					labels["tp0_pp0"] = true
				}
				order := rankLabels(labels)
				for _, l := range order {
					v := runKeysJSON(t, c.Tokens, append(c.flags(era), rankArgs(l)...)...)
					runs++
					if v.Engine != "sglang" || len(v.Chunks) != len(e.Pages) {
						t.Fatalf("%s %s: %d pages, want %d", era, l, len(v.Chunks), len(e.Pages))
					}
					for i, pg := range e.Pages {
						got := v.Chunks[i]
						if got.Index != pg.Index || got.Start != pg.Start || got.End != pg.End || got.Hash != pg.Hash {
							t.Fatalf("%s %s page %d: %+v, want %d %d-%d %s", era, l, i, got, pg.Index, pg.Start, pg.End, pg.Hash)
						}
						if !slices.Equal(got.Keys, pg.Keys[l]) || got.Key != pg.Keys[l][0] {
							t.Fatalf("%s %s page %d: keys %q, want %q", era, l, i, got.Keys, pg.Keys[l])
						}
					}
					if c.NamespaceSeed != "" && era == "S4" && v.Params["namespace_seed"] != c.NamespaceSeed {
						t.Errorf("namespace seed %v, want %s", v.Params["namespace_seed"], c.NamespaceSeed)
					}
				}
				// every rank's keys, deduplicated, in rank order
				v := runKeysJSON(t, c.Tokens, append(c.flags(era), "--all-ranks")...)
				runs++
				for i, pg := range e.Pages {
					var want []string
					for _, l := range order {
						want = append(want, pg.Keys[l]...)
					}
					if want = dedup(want); !slices.Equal(v.Chunks[i].Keys, want) {
						t.Fatalf("%s --all-ranks page %d: %q, want %q", era, i, v.Chunks[i].Keys, want)
					}
				}
			}
		})
	}
	if runs < 100 {
		t.Fatalf("only %d lmc keys runs", runs)
	}
}

// TestEngineVectorsVLLMKeys runs every vLLM case, format and rank through
// lmc keys, and checks NONE_HASH and the extra keys through lmc explain.
func TestEngineVectorsVLLMKeys(t *testing.T) {
	_, vllm, _ := loadEngineVectors(t)
	for _, c := range vllm {
		t.Run(c.ID, func(t *testing.T) {
			for era, blocks := range c.Formats {
				labels := map[string]bool{}
				for _, b := range blocks {
					for l := range b.ByRank {
						labels[l] = true
					}
				}
				if len(blocks) == 0 {
					labels["tp0_pp0_pcp0"] = true
				}
				order := rankLabels(labels)
				for _, l := range order {
					v := runKeysJSON(t, c.Tokens, append(c.flags(era), rankArgs(l)...)...)
					if v.Params["none_hash"] != c.NoneHash {
						t.Fatalf("%s: none_hash %v, want %s", era, v.Params["none_hash"], c.NoneHash)
					}
					if len(v.Chunks) != len(blocks) {
						t.Fatalf("%s %s: %d blocks, want %d", era, l, len(v.Chunks), len(blocks))
					}
					for i, b := range blocks {
						got := v.Chunks[i]
						if got.Index != b.Index || got.Start != b.Start || got.End != b.End || got.Hash != b.Hash || got.Key != b.ByRank[l] || len(got.Keys) != 1 {
							t.Fatalf("%s %s block %d: %+v, want %+v", era, l, i, got, b)
						}
					}
				}
				v := runKeysJSON(t, c.Tokens, append(c.flags(era), "--all-ranks")...)
				for i, b := range blocks {
					var want []string
					for _, l := range order {
						want = append(want, b.ByRank[l])
					}
					if want = dedup(want); !slices.Equal(v.Chunks[i].Keys, want) {
						t.Fatalf("%s --all-ranks block %d: %q, want %q", era, i, v.Chunks[i].Keys, want)
					}
				}
				// explain: every input of each block hash
				r := runLMC(t, runOpts{stdin: tokensJSON(c.Tokens)}, append(append([]string{"explain"}, c.flags(era)...), "-o", "json", "-")...)
				var ev struct {
					Params map[string]any `json:"params"`
					Traps  []string       `json:"traps"`
					Chunks []struct {
						Extra      string `json:"extra"`
						Hash       string `json:"hash"`
						PrefixIn   string `json:"prefix_in"`
						EncodedLen int    `json:"encoded_len"`
					} `json:"chunks"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &ev); r.code != 0 || err != nil {
					t.Fatalf("explain: %d %v %s", r.code, err, r.stderr)
				}
				for i, b := range blocks {
					want := c.NoneHash
					if i > 0 {
						want = blocks[i-1].Hash
					}
					if ch := ev.Chunks[i]; ch.Extra != b.ExtraKeys || ch.Hash != b.Hash || ch.PrefixIn != want || ch.EncodedLen == 0 {
						t.Fatalf("%s explain block %d: %+v, want extra %s hash %s parent %s", era, i, ch, b.ExtraKeys, b.Hash, want)
					}
				}
				if len(ev.Traps) == 0 {
					t.Error("explain lists no traps")
				}
			}
		})
	}
}

// TestEngineVectorsAscendAndLegacy: vllm-ascend A1..A3 through --engine
// vllm; the A0 chain (LMCache v0.3.2's scheme) through LMCache's v0.3.2
// schema, whose key differs only by LMCache's "vllm@" prefix.
func TestEngineVectorsAscendAndLegacy(t *testing.T) {
	_, _, other := loadEngineVectors(t)
	n := 0
	for _, c := range other {
		p := c.Params
		switch c.Engine {
		case "vllm-ascend-ascendstore":
			for _, era := range []string{"A1", "A2", "A3"} {
				v := runKeysJSON(t, c.Tokens, "--engine", "vllm", "--key-schema", era, "--model", p.Model, "--hash", p.HashAlgo, "--hash-seed", *p.Seed,
					"--tp-size", strconv.Itoa(p.TPSize), "--tp-rank", strconv.Itoa(p.TPRank), "--num-kv-heads", strconv.Itoa(p.NumKVHeads))
				if len(v.Chunks) != len(c.Blocks) {
					t.Fatalf("%s: %d blocks", era, len(v.Chunks))
				}
				for i, b := range c.Blocks {
					if v.Chunks[i].Hash != b.Hash || v.Chunks[i].Key != b.Keys[era] {
						t.Fatalf("%s block %d: %+v, want %s", era, i, v.Chunks[i], b.Keys[era])
					}
				}
				n++
			}
		case "vllm-ascend-mooncake-store-2025-09":
			r := runLMC(t, runOpts{stdin: tokensJSON(c.Tokens)}, "keys", "--model", p.Model, "--key-schema", "v0.3.2", "--chunk-size", strconv.Itoa(p.BlockSize),
				"--world-size", strconv.Itoa(p.WorldSize), "--worker-id", strconv.Itoa(p.WorkerID), "--save-unfull-chunk", "-o", "json", "-")
			var v struct {
				Chunks []struct {
					Start, End int
					Hash, Key  string
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || len(v.Chunks) != len(c.Chunks) {
				t.Fatalf("A0: %v %s %s", err, r.stdout, r.stderr)
			}
			for i, ch := range c.Chunks {
				if v.Chunks[i].Hash != ch.Hash || strings.TrimPrefix(v.Chunks[i].Key, "vllm@") != ch.Key || v.Chunks[i].End != ch.End {
					t.Fatalf("A0 chunk %d: %+v, want %+v", i, v.Chunks[i], ch)
				}
			}
			n++
		case "vllm-v0-mooncake-store-connector":
			// computed by nothing (the connector was removed); its keys are
			// recognised by doctor's store inventory (doctor tests).
			n++
		}
	}
	if n != 5 {
		t.Fatalf("%d checks", n)
	}
}

func TestEngineFlagsOfAnotherEngine(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--page-size", "16"}, nil, "lmc: --page-size is an SGLang flag and this is --engine vllm: use --engine sglang"},
		{[]string{"keys", "--engine", "sglang", "--block-size", "16"}, nil, "lmc: --block-size is a vLLM flag and this is --engine sglang: use --engine vllm"},
		{[]string{"keys", "--engine", "sglang", "--hash", "sha256"}, nil, "lmc: --hash is an LMCache/vLLM flag and this is --engine sglang: use --engine lmcache or vllm"},
		{[]string{"keys", "--model", "m", "--none-hash", "0", "--tp-size", "2"}, nil, "lmc: --tp-size is an SGLang/vLLM flag and this is --engine lmcache: use --engine sglang or vllm"},
		{[]string{"lookup", "--engine", "sglang", "--chunk-size", "16", "--master", "127.0.0.1:1"}, nil, "lmc: --chunk-size is an LMCache flag and this is --engine sglang: use --engine lmcache"},
		{[]string{"keys", "--engine", "vllm", "--model", "m"}, map[string]string{"LMC_PAGE_SIZE": "4"}, "lmc: --page-size (from env LMC_PAGE_SIZE) is an SGLang flag and this is --engine vllm: unset it, or use --engine sglang"},
		{[]string{"keys", "--page-size", "4"}, map[string]string{"LMC_ENGINE": "vllm"}, "lmc: --page-size is an SGLang flag and this is --engine vllm (from env LMC_ENGINE): use --engine sglang"},
		{[]string{"keys", "--engine", "tgi"}, nil, "lmc: --engine: use lmcache (default), sglang"},
		{[]string{"keys", "--engine", "sglang", "--page-size", "0"}, nil, "lmc: --page-size 0: must be 1..1048576 (tokens per page)"},
		{[]string{"keys", "--engine", "sglang", "--tp-size", "2", "--tp-rank", "2"}, nil, "lmc: --tp-rank 2: must be in 0..1 for tp size 2 (or --all-ranks)"},
		{[]string{"keys", "--engine", "sglang", "--key-schema", "V3"}, nil, "lmc: --key-schema V3: SGLang eras are S4 (newest, default), S3, S2, S1"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--key-schema", "S4"}, nil, "lmc: --key-schema S4: vLLM formats are V3 (newest, default), V2, V1"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--hash", "builtin"}, nil, "lmc: --hash builtin: use one of sha256 (vLLM's default), sha256_cbor, xxhash, xxhash_cbor"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--key-schema", "V2"}, nil, "lmc: no hash seed: vLLM of key schema V2 predates PR #51875"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--hash", "xxhash"}, nil, "lmc: no hash seed: with xxhash vLLM keeps NONE_HASH random per process"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--hash-seed", "0", "--none-hash", "00"}, nil, "lmc: --none-hash and --hash-seed exclude each other"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--tp-size", "4"}, nil, "lmc: --num-kv-heads: needed with tp size 4"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--mm", "img"}, nil, "lmc: --mm img: expected ID:OFFSET:LENGTH"},
		{[]string{"keys", "--engine", "vllm", "--model", "m", "--rules", "newest"}, nil, "lmc: --rules \"newest\": use current"},
		{[]string{"keys", "--engine", "vllm"}, nil, "lmc: no model: pass --model exactly as the engine's --model"},
		{[]string{"keys", "--engine", "sglang", "--model", "Qwen/Qwen3-Next-80B-A3B-Instruct"}, nil, "lmc: --model \"Qwen/Qwen3-Next-80B-A3B-Instruct\" is a hybrid model (mamba): SGLang stores extra per-pool objects"},
		{[]string{"keys", "--engine", "vllm", "--model", "google/gemma-3-27b-it"}, nil, "lmc: --model \"google/gemma-3-27b-it\" is a hybrid model (swa): vLLM gives such models several KV-cache groups"},
		{[]string{"keys", "--engine", "sglang", "--tp-size", "1024", "--pp-size", "8"}, nil, "lmc: --tp-size 1024 × --pp-size 8: 8192 ranks, more than lmc handles (4096)"},
		{[]string{"keys", "--engine", "sglang", "--split-heads"}, nil, "lmc: --split-heads needs the tp lcm size"},
	}
	for _, c := range cases {
		r := runLMC(t, runOpts{env: c.env}, append(c.args, "--tokens", "1,2,3")...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%v: exit %d\nstderr %q\nwant   %q…", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestEngineFromContextAndEnv(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"LMC_CONFIG": dir + "/config.yaml", "HOME": dir}
	r := runLMC(t, runOpts{env: env}, "config", "set-context", "sgl", "--engine", "sglang", "--page-size", "4", "--tp-size", "2", "--model", "Qwen/Qwen3-8B")
	if r.code != 0 {
		t.Fatalf("set-context: %d %s", r.code, r.stderr)
	}
	v := runKeysJSONEnv(t, env, []uint32{1, 2, 3, 4, 5}, "--context", "sgl", "--all-ranks")
	if v.Engine != "sglang" || len(v.Chunks) != 1 || len(v.Chunks[0].Keys) != 4 || !strings.HasPrefix(v.Chunks[0].Key, "Qwen-Qwen3-8B_") {
		t.Fatalf("%+v", v)
	}
	if v.Params["sources"].(map[string]any)["page_size"] != "context sgl" {
		t.Errorf("sources %v", v.Params["sources"])
	}
	// the current context holds SGLang flags
	if r := runLMC(t, runOpts{env: env}, "config", "use-context", "sgl"); r.code != 0 {
		t.Fatalf("use-context: %d %s", r.code, r.stderr)
	}
	env["LMC_ENGINE"] = "vllm"
	r = runLMC(t, runOpts{env: env, stdin: "[1,2,3]"}, "keys", "--model", "m", "-o", "json", "-")
	if want := "lmc: --page-size (from context sgl) is an SGLang flag and this is --engine vllm (from env LMC_ENGINE): unset it, or use --engine sglang"; r.code != 2 || !strings.HasPrefix(r.stderr, want) {
		t.Fatalf("context flags of another engine: %d %q", r.code, r.stderr)
	}
	env = map[string]string{"LMC_CONFIG": dir + "/none.yaml", "LMC_ENGINE": "vllm", "LMC_BLOCK_SIZE": "2"}
	r = runLMC(t, runOpts{env: env, stdin: "[1,2,3]"}, "keys", "--model", "m", "-o", "json", "-")
	if r.code != 0 || !strings.Contains(r.stdout, `"engine": "vllm"`) || !strings.Contains(r.stdout, `"block_size": 2`) {
		t.Fatalf("LMC_ENGINE: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func runKeysJSONEnv(t *testing.T, env map[string]string, tokens []uint32, args ...string) engineKeysJSON {
	t.Helper()
	r := runLMC(t, runOpts{env: env, stdin: tokensJSON(tokens)}, append(append([]string{"keys"}, args...), "-o", "json", "-")...)
	if r.code != 0 {
		t.Fatalf("lmc keys %v: exit %d: %s", args, r.code, r.stderr)
	}
	var v engineKeysJSON
	if err := json.NewDecoder(bytes.NewReader([]byte(r.stdout))).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

type engineLookupJSON struct {
	Engine          string `json:"engine"`
	TotalTokens     int    `json:"total_tokens"`
	HitTokens       int    `json:"hit_tokens"`
	EngineHitTokens *int   `json:"engine_hit_tokens"`
	HitChunks       int    `json:"hit_chunks"`
	NumChunks       int    `json:"num_chunks"`
	CheckedChunks   *int   `json:"checked_chunks"`
	Unusable        int    `json:"unusable_hits"`
	RankHitTokens   []int  `json:"rank_hit_tokens"`
	RankHits        []struct {
		Rank      string `json:"rank"`
		HitTokens int    `json:"hit_tokens"`
		Holes     int    `json:"holes"`
	} `json:"rank_hits"`
	Chunks []struct {
		Index        int      `json:"index"`
		Status       string   `json:"status"`
		Usable       bool     `json:"usable"`
		Key          string   `json:"key"`
		MissingRanks []string `json:"missing_ranks"`
	} `json:"chunks"`
	Params map[string]any `json:"params"`
}

func runLookupJSON(t *testing.T, tokens []uint32, args ...string) (engineLookupJSON, result) {
	t.Helper()
	r := runLMC(t, runOpts{stdin: tokensJSON(tokens)}, append(append([]string{"lookup"}, args...), "-o", "json", "-")...)
	var v engineLookupJSON
	if r.code == 0 || r.code == 4 {
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
	}
	return v, r
}

// populateExcept stores keys (in order, without duplicates) minus missing
// on a fresh sandbox master.
func populateExcept(t *testing.T, keys, missing []string) string {
	t.Helper()
	s := startMaster(t)
	var put []string
	for _, k := range dedup(keys) {
		if !slices.Contains(missing, k) {
			put = append(put, k)
		}
	}
	if err := s.Populate(t.Context(), put); err != nil {
		t.Fatal(err)
	}
	return s.Addr()
}

// TestEngineVectorsSGLangHits runs every SGLang hit scenario through lmc
// lookup against the sandbox master: per-rank hits, their minimum (the raw
// hit) and prefetch_threshold.
func TestEngineVectorsSGLangHits(t *testing.T) {
	sgl, _, _ := loadEngineVectors(t)
	n := 0
	for _, c := range sgl {
		for _, sc := range c.HitScenarios {
			t.Run(c.ID+"/"+sc.Description, func(t *testing.T) {
				n++
				era := c.Eras[sc.Era]
				var all []string
				for _, pg := range era.Pages {
					for _, l := range rankLabels(boolSet(pg.Keys)) {
						all = append(all, pg.Keys[l]...)
					}
				}
				addr := populateExcept(t, all, sc.Missing)
				for _, threshold := range []string{"", "1"} {
					args := append(c.flags(sc.Era), "--master", addr, "--holes")
					if threshold != "" {
						args = append(args, "--prefetch-threshold", threshold)
					}
					v, r := runLookupJSON(t, c.Tokens, args...)
					if r.code != 0 {
						t.Fatalf("exit %d: %s", r.code, r.stderr)
					}
					if v.Engine != "sglang" || v.HitTokens != sc.Min || len(v.RankHits) != len(sc.PerRank) {
						t.Fatalf("hit %d (want %d), ranks %+v", v.HitTokens, sc.Min, v.RankHits)
					}
					for i, rh := range v.RankHits {
						if rh.HitTokens != sc.PerRank[rh.Rank] || v.RankHitTokens[i] != rh.HitTokens {
							t.Fatalf("rank %s: %d, want %d", rh.Rank, rh.HitTokens, sc.PerRank[rh.Rank])
						}
					}
					want := 0
					if pg := c.Params.PageSize; threshold == "1" && sc.Min >= pg || sc.Min >= max(256, pg) {
						want = sc.Min
					}
					if *v.EngineHitTokens != want {
						t.Fatalf("threshold %q: engine hit %d, want %d", threshold, *v.EngineHitTokens, want)
					}
				}
			})
		}
	}
	if n < 6 {
		t.Fatalf("%d scenarios", n)
	}
}

func boolSet(m map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// TestEngineVectorsVLLMHits runs every vLLM hit scenario through lmc lookup
// against the sandbox master, under both rule generations: the current
// worker lookup (V3 keys) and the first release's (V1 keys, PR #40900).
func TestEngineVectorsVLLMHits(t *testing.T) {
	_, vllm, _ := loadEngineVectors(t)
	n := 0
	for _, c := range vllm {
		for _, sc := range c.HitScenarios {
			for _, gen := range []struct {
				era     string
				keys    [][]string
				missing []string
				engine  int
			}{{"V3", c.LookupCur, sc.MissingCur, sc.Current}, {"V1", c.LookupPR, sc.MissingPR, sc.PR40900}} {
				t.Run(c.ID+"/"+gen.era+"/"+sc.Description, func(t *testing.T) {
					n++
					var all []string
					for _, ks := range gen.keys {
						all = append(all, ks...)
					}
					for _, backend := range []string{"--master", "--admin"} {
						s := startMaster(t)
						var put []string
						for _, k := range dedup(all) {
							if !slices.Contains(gen.missing, k) {
								put = append(put, k)
							}
						}
						if err := s.Populate(t.Context(), put); err != nil {
							t.Fatal(err)
						}
						addr := s.Addr()
						if backend == "--admin" {
							addr = s.AdminURL()
						}
						v, r := runLookupJSON(t, c.Tokens, append(c.flags(gen.era), backend, addr)...)
						if r.code != 0 {
							t.Fatalf("exit %d: %s", r.code, r.stderr)
						}
						if v.HitTokens != sc.Prefix || *v.EngineHitTokens != gen.engine || v.Engine != "vllm" {
							t.Fatalf("%s: hit %d engine %d, want %d and %d", backend, v.HitTokens, *v.EngineHitTokens, sc.Prefix, gen.engine)
						}
						if gen.era == "V3" && len(v.RankHits) != len(c.LookupNS) {
							t.Fatalf("namespaces %+v, want %q", v.RankHits, c.LookupNS)
						}
						for i, ns := range c.LookupNS {
							if gen.era == "V3" && v.RankHits[i].Rank != ns {
								t.Fatalf("namespace %d %s, want %s", i, v.RankHits[i].Rank, ns)
							}
						}
						if len(v.Chunks) > 0 && v.Chunks[0].Key != gen.keys[0][0] {
							t.Fatalf("first key %s, want %s", v.Chunks[0].Key, gen.keys[0][0])
						}
					}
				})
			}
		}
	}
	if n < 20 {
		t.Fatalf("%d scenarios", n)
	}
}
