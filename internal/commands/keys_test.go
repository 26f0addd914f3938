package commands

import (
	"encoding/json"
	"strings"
	"testing"

	"lmc/internal/coordinatorclient/sandboxcoordinator"
)

const model = "meta-llama/Llama-3.1-8B-Instruct"

func TestKeysPlainMatchesVectors(t *testing.T) {
	r := runLMC(t, runOpts{}, "keys", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(600), "--save-unfull-chunk")
	want := model + "@1@0@5f05dec65811b7cc@bfloat16\n" + model + "@1@0@-adc333b9eaa0e45@bfloat16\n" + model + "@1@0@948c07b0205483b@bfloat16\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Fatalf("code %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestKeysJSON(t *testing.T) {
	r := runLMC(t, runOpts{}, "keys", "--model", model, "--hash", "sha256_cbor", "--hash-seed", "0", "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	var v struct {
		Params map[string]any `json:"params"`
		Chunks []struct {
			Index, Start, End int
			Hash, Key         string
		} `json:"chunks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Chunks) != 2 || v.Chunks[1].Hash != "781718220b72190ce94eeac369ffd9845a1ce1f72fd9639121f2fea4248401a5" || v.Chunks[1].Start != 256 || v.Chunks[1].End != 512 {
		t.Fatalf("%+v", v.Chunks)
	}
	if v.Params["hash_algorithm"] != "sha256_cbor" || v.Params["none_hash"] != "4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e" {
		t.Fatalf("%v", v.Params)
	}
	golden(t, "keys/json", r.stdout)
}

func TestKeysTableGolden(t *testing.T) {
	args := []string{"keys", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(600), "--save-unfull-chunk"}
	tty := runLMC(t, runOpts{tty: true}, append(args, "-o", "table")...)
	golden(t, "keys/table-tty", tty.stdout)
	piped := runLMC(t, runOpts{}, append(args, "-o", "table")...)
	golden(t, "keys/table-piped", piped.stdout)
	color := runLMC(t, runOpts{tty: true, color: true}, append(args, "-o", "table")...)
	golden(t, "keys/table-color", color.stdout)
	wide := runLMC(t, runOpts{}, append(args, "-o", "wide")...)
	golden(t, "keys/wide", wide.stdout)
	for _, r := range []result{piped, wide} {
		if strings.Contains(r.stdout, "\x1b") {
			t.Fatal("escape codes in piped output")
		}
	}
	if !strings.Contains(color.stdout, "\x1b[") {
		t.Fatal("no colour on a colour terminal")
	}
}

func TestKeysBatchJSONL(t *testing.T) {
	in := "{\"id\": \"a\", \"tokens\": [1, 2, 3, 4]}\n{\"id\": \"b\", \"tokens\": [1, 2]}\n[9]\n"
	r := runLMC(t, runOpts{stdin: in}, "keys", "--model", "m", "--none-hash", "0", "--chunk-size", "2", "-o", "jsonl", "-")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 {
		t.Fatalf("%d %q %s", r.code, r.stdout, r.stderr)
	}
	var p struct {
		ID     string `json:"id"`
		Chunks []struct{ Key string }
	}
	json.Unmarshal([]byte(lines[1]), &p)
	json.Unmarshal([]byte(lines[1]), &p)
	if p.ID != "b" || len(p.Chunks) != 1 {
		t.Fatalf("%+v", p)
	}
	r = runLMC(t, runOpts{stdin: in}, "keys", "--model", "m", "--none-hash", "0", "--chunk-size", "2", "-o", "json", "-")
	var b struct {
		Prompts []struct {
			ID     string `json:"id"`
			Chunks []any  `json:"chunks"`
		} `json:"prompts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || len(b.Prompts) != 3 || len(b.Prompts[0].Chunks) != 2 || len(b.Prompts[2].Chunks) != 0 {
		t.Fatalf("%v %s", err, r.stdout)
	}
	r = runLMC(t, runOpts{stdin: in, tty: true}, "keys", "--model", "m", "--none-hash", "0", "--chunk-size", "2", "-o", "table", "-")
	golden(t, "keys/batch-table", r.stdout)
	if !strings.Contains(r.stderr, "fewer than one chunk") {
		t.Fatalf("no short-prompt note on a terminal: %q", r.stderr)
	}
}

func TestKeysShortPrompt(t *testing.T) {
	r := runLMC(t, runOpts{}, "keys", "--model", "m", "--hash-seed", "0", "--tokens", "1,2,3")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("piped: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{tty: true}, "keys", "--model", "m", "--hash-seed", "0", "--tokens", "1,2,3")
	if r.code != 0 || !strings.Contains(r.stderr, "--tokens has 3 tokens, fewer than one chunk (256): no keys") {
		t.Fatalf("tty: %d %q", r.code, r.stderr)
	}
}

func TestKeysErrors(t *testing.T) {
	bad := writeFile(t, "bad.json", "[1, 2,\n 3, x]")
	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"no seed", nil, []string{"keys", "--model", "m", "--tokens", "1"}, 2, "lmc: no hash seed: pass the engine's PYTHONHASHSEED as --hash-seed N"},
		{"no model", nil, []string{"keys", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: no model name"},
		{"no input", nil, []string{"keys", "--model", "m", "--hash-seed", "0"}, 2, "lmc: no token input: pass FILE, - for stdin, or --tokens 1,2,3"},
		{"bad file", nil, []string{"keys", "--model", "m", "--hash-seed", "0", bad}, 2, "lmc: " + bad + ":2:5: found \"x\", expected a token ID (an integer 0..4294967295)"},
		{"missing file", nil, []string{"keys", "--model", "m", "--hash-seed", "0", "/nonexistent/p.json"}, 2, "lmc: token input /nonexistent/p.json: no such file or directory"},
		{"bad seed", nil, []string{"keys", "--model", "m", "--hash-seed", "random", "--tokens", "1"}, 2, "lmc: PYTHONHASHSEED=random"},
		{"seed too big", nil, []string{"keys", "--model", "m", "--hash-seed", "4294967296", "--tokens", "1"}, 2, "lmc: hash seed \"4294967296\": expected an integer in 0..4294967295"},
		{"bad hash", nil, []string{"keys", "--model", "m", "--hash", "md5", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: unknown hash algorithm \"md5\""},
		{"bad schema", nil, []string{"keys", "--model", "m", "--key-schema", "v9", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: unknown key schema \"v9\""},
		{"bad dtype", nil, []string{"keys", "--model", "m", "--dtype", "fp4", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: unknown dtype \"fp4\""},
		{"bad output", nil, []string{"keys", "--model", "m", "-o", "yaml", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: unsupported output format \"yaml\""},
		{"seed and none-hash", nil, []string{"keys", "--model", "m", "--hash-seed", "0", "--none-hash", "0", "--tokens", "1"}, 2, "lmc: --none-hash and --hash-seed (flag --hash-seed) exclude each other"},
		{"bytes era", nil, []string{"keys", "--model", "m", "--hash", "sha256", "--key-schema", "2025-09", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: key schema 2025-09"},
		{"unknown flag", nil, []string{"keys", "--bogus"}, 2, "lmc: unknown flag: --bogus"},
		{"unknown command", nil, []string{"frobnicate"}, 2, "lmc: unknown command \"frobnicate\""},
		{"bad env", map[string]string{"LMC_CHUNK_SIZE": "big"}, []string{"keys", "--model", "m", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: LMC_CHUNK_SIZE=\"big\""},
		{"python 3.11 None", nil, []string{"keys", "--model", "m", "--key-schema", "2026-01", "--python-version", "3.11", "--hash-seed", "0", "--tokens", "1"}, 2, "lmc: builtin hashing of (prefix, chunk, None) on CPython 3.11"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runLMC(t, runOpts{env: c.env}, c.args...)
			if r.code != c.code || !strings.HasPrefix(r.stderr, c.stderr) || r.stdout != "" {
				t.Fatalf("code %d (want %d)\nstderr %q\nwant   %q\nstdout %q", r.code, c.code, r.stderr, c.stderr, r.stdout)
			}
		})
	}
}

func TestSeedPrecedence(t *testing.T) {
	tokens := seqTokens(256)
	key := func(env map[string]string, args ...string) result {
		return runLMC(t, runOpts{env: env}, append([]string{"keys", "--model", "m", "--tokens", tokens, "-o", "json"}, args...)...)
	}
	seedOf := func(r result) string {
		var v struct {
			Params struct {
				NoneHashSource string `json:"none_hash_source"`
			}
		}
		json.Unmarshal([]byte(r.stdout), &v)
		return v.Params.NoneHashSource
	}
	// flag beats LMC_HASH_SEED beats PYTHONHASHSEED
	env := map[string]string{"LMC_HASH_SEED": "42", "PYTHONHASHSEED": "7"}
	if s := seedOf(key(env, "--hash-seed", "0")); s != `H("0"), seed from flag --hash-seed` {
		t.Fatal(s)
	}
	if s := seedOf(key(env)); s != `H("42"), seed from env LMC_HASH_SEED` {
		t.Fatal(s)
	}
	r := key(map[string]string{"PYTHONHASHSEED": "7"})
	if s := seedOf(r); s != `H("7"), seed from env PYTHONHASHSEED of this shell` || !strings.Contains(r.stderr, "warning: the hash seed comes from this shell's PYTHONHASHSEED") {
		t.Fatal(s, r.stderr)
	}
}

func TestLMCacheConfigPrecedence(t *testing.T) {
	cfg := writeFile(t, "lmcache.yaml", "chunk_size: 2\nsave_unfull_chunk: true\npre_caching_hash_algorithm: sha256_cbor\nextra_config:\n  master_server_address: 10.0.0.1:50051\n")
	run := func(env map[string]string, args ...string) map[string]any {
		r := runLMC(t, runOpts{env: env}, append([]string{"keys", "--model", "m", "--hash-seed", "0", "--tokens", "1,2,3", "-o", "json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%d %s", r.code, r.stderr)
		}
		var v struct{ Params map[string]any }
		json.Unmarshal([]byte(r.stdout), &v)
		return v.Params
	}
	p := run(nil, "--lmcache-config", cfg)
	if p["chunk_size"] != 2.0 || p["save_unfull_chunk"] != true || p["hash_algorithm"] != "sha256_cbor" {
		t.Fatalf("file: %v", p)
	}
	p = run(map[string]string{"LMCACHE_CONFIG_FILE": cfg, "LMCACHE_CHUNK_SIZE": "'3'"})
	if p["chunk_size"] != 3.0 || p["sources"].(map[string]any)["chunk_size"] != "env LMCACHE_CHUNK_SIZE" {
		t.Fatalf("LMCACHE env: %v", p)
	}
	p = run(map[string]string{"LMCACHE_CONFIG_FILE": cfg, "LMCACHE_CHUNK_SIZE": "3", "LMC_CHUNK_SIZE": "1"})
	if p["chunk_size"] != 1.0 {
		t.Fatalf("LMC env: %v", p)
	}
	p = run(map[string]string{"LMCACHE_CONFIG_FILE": cfg, "LMC_CHUNK_SIZE": "1"}, "--chunk-size", "256")
	if p["chunk_size"] != 256.0 {
		t.Fatalf("flag: %v", p)
	}
	r := runLMC(t, runOpts{}, "keys", "--model", "m", "--hash-seed", "0", "--tokens", "1", "--lmcache-config", writeFile(t, "bad.yaml", "chunk_size: [1"))
	if r.code != 2 || !strings.Contains(r.stderr, "LMCache config") {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
}

func TestExitCodesHelp(t *testing.T) {
	r := runLMC(t, runOpts{}, "help", "exit-codes")
	if r.code != 0 || !strings.Contains(r.stdout, "4    lookup result below the requested threshold") || !strings.Contains(r.stdout, "130  interrupted") {
		t.Fatalf("%d %q", r.code, r.stdout)
	}
	r = runLMC(t, runOpts{}, "help", "key-schemas")
	if r.code != 0 || !strings.Contains(r.stdout, "2025-11") {
		t.Fatal(r.stdout)
	}
}

func TestVersion(t *testing.T) {
	r := runLMC(t, runOpts{}, "version", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"version": "1.2.3"`) || !strings.Contains(r.stdout, `"commit": "abc1234"`) {
		t.Fatal(r.stdout)
	}
	r = runLMC(t, runOpts{}, "--version")
	if r.stdout != "lmc 1.2.3 (commit abc1234, built 2026-11-21T00:00:00Z)\n" {
		t.Fatalf("%q", r.stdout)
	}
}

// MP-mode keys carry no dtype or tag: keys, explain and lookup with
// --key-schema mp (or --hash blake3, or --coordinator) printed or looked
// up the untagged key with exit 0. A context or LMC_* value is left alone.
func TestMPSchemaRefusesDTypeAndTag(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "--key-schema", "mp", "--dtype", "float16"}, "--dtype is not part of LMCache MP-mode keys"},
		{[]string{"keys", "--hash", "blake3", "--tag", "user=a"}, "(implied by --hash blake3) would ignore it"},
		{[]string{"explain", "--key-schema", "mp", "--tag", "user=a"}, "--tag is not part of LMCache MP-mode keys"},
		{[]string{"lookup", "--master", startMaster(t).Addr(), "--key-schema", "mp", "--dtype", "float16"}, "--dtype is not part of LMCache MP-mode keys"},
		{[]string{"lookup", "--coordinator", fl.Coordinator.URL(), "--tag", "user=a"}, "implied by --coordinator"},
	} {
		r := runLMC(t, runOpts{}, append(tc.args, "--model", model, "--tokens", seqTokens(600))...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	r := runLMC(t, runOpts{env: map[string]string{"LMC_DTYPE": "float16"}}, "keys", "--key-schema", "mp", "--model", model, "--tokens", seqTokens(600), "-o", "plain")
	if r.code != 0 || !strings.Contains(r.stdout, model+"@01000100@") {
		t.Fatalf("LMC_DTYPE: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}
