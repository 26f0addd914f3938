package commands

import (
	"slices"
	"strings"
	"testing"
)

// runSandbox starts 'lmc sandbox' with args (free ports, the JSON ready
// line); it is stopped when the test ends.
func runSandbox(t *testing.T, args ...string) sandboxView {
	t.Helper()
	_, _, v, _ := startSandboxProcess(t, append([]string{"--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0", "-o", "json"}, args...)...)
	return v
}

// storedKeys lists the readable keys of a store, sorted.
func storedKeys(t *testing.T, admin string, args ...string) []string {
	t.Helper()
	r := runLMC(t, runOpts{}, append([]string{"store", "ls", "--admin", admin, "--sort", "-o", "plain"}, args...)...)
	if r.code != 0 {
		t.Fatalf("store ls: %d %s", r.code, r.stderr)
	}
	return strings.Fields(r.stdout)
}

type engineClearJSON struct {
	clearJSON
	Engine string `json:"engine"`
	Keys   []struct {
		Key    string   `json:"key"`
		Chunk  *int     `json:"chunk"`
		Rank   *int     `json:"rank"`
		Owners []string `json:"owners"`
		State  string   `json:"state"`
		Result string   `json:"result"`
	} `json:"keys"`
}

// lmc clear --master --engine sglang on a sandbox that stored a 64-token
// prompt as SGLang writes it (page 16, TP 2: K and V per rank and page;
// page 1 leased, page 3 left mid-write): rank 0's objects of the first three
// pages go, except the leased page's (kept, forceable); then --all-ranks
// --force removes every readable object and keeps the ones being written.
// The store holds exactly what is left each time.
func TestClearMasterEngineSGLang(t *testing.T) {
	prompt := writeFile(t, "prompt.json", "["+seqTokens(64)+"]")
	short := writeFile(t, "short.json", "["+seqTokens(48)+"]")
	keyFlags := []string{"--engine", "sglang", "--page-size", "16", "--tp-size", "2", "--model", "Qwen/Qwen3-8B"}
	sb := runSandbox(t, append([]string{"--populate", prompt, "--leased-chunks", "1", "--writing-chunks", "3", "--lease-ttl", "1h"}, keyFlags...)...)
	pages := engineObjects(t, "sglang", 64) // per page: tp0 K, tp0 V, tp1 K, tp1 V
	if sb.Stored != 12 || len(pages) != 4 || len(pages[0]) != 4 {
		t.Fatalf("stored %d objects, computed %v", sb.Stored, pages)
	}
	readable := flatten(pages[:3])
	if got := storedKeys(t, sb.Admin); !slices.Equal(got, sortedCopy(readable)) {
		t.Fatalf("populated: %v", got)
	}

	base := append([]string{"clear", "--master", sb.Master, "--admin", sb.Admin, "--yes", "-o", "json"}, keyFlags...)
	r := runLMC(t, runOpts{}, append(base, short)...)
	if r.code != ExitFailed {
		t.Fatalf("rank 0 with a leased page: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	v := decodeJSON[engineClearJSON](t, r.stdout)
	var want []string
	for _, p := range pages[:3] {
		want = append(want, p[:2]...)
	}
	var got, results []string
	for _, k := range v.Keys {
		got = append(got, k.Key)
		results = append(results, k.Result)
		if *k.Rank != 0 || !slices.Equal(k.Owners, []string{"tp0_pp0"}) || *k.Chunk != slices.IndexFunc(pages, func(p []string) bool { return slices.Contains(p, k.Key) }) {
			t.Errorf("key row %+v", k)
		}
	}
	if v.Engine != "sglang" || !slices.Equal(got, want) || v.Removed != 4 || *v.KeptCount != 2 || !v.Kept[0].Forceable ||
		!slices.Equal(results, []string{"removed", "removed", "leased", "leased", "removed", "removed"}) {
		t.Fatalf("outcome %+v", v)
	}
	for _, w := range []string{"TP 2 × PP 1: acting on rank tp0_pp0's objects only (2 objects per page of 4)", "--all-ranks acts on all of them",
		"plan: remove 6 objects of 3 pages of a 48-token prompt (SGLang, model Qwen/Qwen3-8B, rank tp0_pp0)", "lmc: 2 keys kept", "--force"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, r.stderr)
		}
	}
	left := slices.DeleteFunc(slices.Clone(readable), func(k string) bool {
		return slices.Contains(want, k) && !slices.Contains(pages[1], k)
	})
	if got := storedKeys(t, sb.Admin); !slices.Equal(got, sortedCopy(left)) {
		t.Fatalf("after rank 0: %v, want %v", got, left)
	}

	// every rank, with force: the leased objects go; page 3's, mid-write, stay
	r = runLMC(t, runOpts{}, append(base, "--all-ranks", "--force", prompt)...)
	v = decodeJSON[engineClearJSON](t, r.stdout)
	if r.code != ExitFailed || len(v.Keys) != 16 || *v.Present != 8 || v.Removed != 8 || v.Absent != 4 || *v.KeptCount != 4 {
		t.Fatalf("all ranks: exit %d %+v %s", r.code, v, r.stderr)
	}
	for _, k := range v.Kept {
		if k.Reason != "being-written" || k.Forceable || !slices.Contains(pages[3], k.Key) {
			t.Errorf("kept %+v", k)
		}
	}
	for i, k := range v.Keys {
		if wantRank := i % 4 / 2; *k.Rank != wantRank || *k.Chunk != i/4 || k.Key != pages[i/4][i%4] {
			t.Errorf("key %d: %+v", i, k)
		}
	}
	if !strings.Contains(r.stderr, "cannot be removed, even with --force") || strings.Contains(r.stderr, "acting on rank") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if got := storedKeys(t, sb.Admin); len(got) != 0 {
		t.Errorf("left after --all-ranks --force: %v", got)
	}

	// the table says pages and names the ranks
	r = runLMC(t, runOpts{tty: true}, append(append([]string{"clear", "--master", sb.Master, "--admin", sb.Admin}, keyFlags...), "--all-ranks", "--dry-run", prompt)...)
	for _, w := range []string{"would remove 16 objects of 4 pages", "PAGE", "tp1_pp0", "being-written"} {
		if r.code != 0 || !strings.Contains(r.stdout, w) {
			t.Errorf("dry-run table lacks %q: %d %s %s", w, r.code, r.stdout, r.stderr)
		}
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

type engineMoveJSON struct {
	moveJSON
	Engine string `json:"engine"`
	Chunks []struct {
		Chunk  int      `json:"chunk"`
		Rank   int      `json:"rank"`
		Owners []string `json:"owners"`
		Key    string   `json:"key"`
		State  string   `json:"state"`
		Source string   `json:"source"`
	} `json:"chunks"`
}

func (v engineMoveJSON) states() []string {
	var out []string
	for _, c := range v.Chunks {
		out = append(out, c.State)
	}
	return out
}

// lmc move --master --engine vllm on a sandbox that stored a 64-token
// prompt as vLLM writes it (block 16, TP 2: one key per block and rank),
// blocks alternating over two segments, tasks executed by the sandbox:
// --tp-rank 1 moves that rank's blocks only; --all-ranks the rest, the
// blocks already there left in place. The segments then hold exactly that.
func TestMoveMasterEngineVLLM(t *testing.T) {
	prompt := writeFile(t, "prompt.json", "["+seqTokens(64)+"]")
	keyFlags := []string{"--engine", "vllm", "--model", model, "--hash-seed", "0", "--tp-size", "2", "--num-kv-heads", "8"}
	sb := runSandbox(t, append([]string{"--populate", prompt, "--execute-tasks", "--nodes", "2"}, keyFlags...)...)
	blocks := engineObjects(t, "vllm", 64) // per block: tp0's key, tp1's key
	if sb.Stored != 8 || len(blocks) != 4 || len(blocks[0]) != 2 {
		t.Fatalf("stored %d, computed %v", sb.Stored, blocks)
	}
	node0, node1 := sb.Segments[0], sb.Segments[1]
	if got := storedKeys(t, sb.Admin, "--segment", node0); !slices.Equal(got, sortedCopy(flatten([][]string{blocks[0], blocks[2]}))) {
		t.Fatalf("on %s: %v", node0, got)
	}
	base := append([]string{"move", "--master", sb.Master, "--admin", sb.Admin, "--to", node1, "--wait", "--interval", "100ms", "--timeout", "60s", "-o", "json"}, keyFlags...)

	r := runLMC(t, runOpts{}, append(base, "--tp-rank", "1", prompt)...)
	if r.code != 0 {
		t.Fatalf("rank 1: %d %s %s", r.code, r.stdout, r.stderr)
	}
	v := decodeJSON[engineMoveJSON](t, r.stdout)
	if v.Engine != "vllm" || len(v.Chunks) != 4 || v.Succeeded != 2 || !slices.Equal(v.states(), []string{"success", "in-place", "success", "in-place"}) {
		t.Fatalf("rank 1: %+v", v)
	}
	for i, c := range v.Chunks {
		if c.Key != blocks[i][1] || c.Chunk != i || c.Rank != 1 || len(c.Owners) != 1 || !strings.HasPrefix(c.Owners[0], "tp1_") {
			t.Errorf("chunk %+v", c)
		}
		if c.State == "success" && c.Source != node0 {
			t.Errorf("source of %+v", c)
		}
	}
	if !strings.Contains(r.stderr, "TP 2 × PP 1 × PCP 1: acting on rank tp1_pp0_pcp0's objects only (1 object per block of 2)") {
		t.Errorf("no rank warning: %s", r.stderr)
	}
	if got := storedKeys(t, sb.Admin, "--segment", node0); !slices.Equal(got, sortedCopy([]string{blocks[0][0], blocks[2][0]})) {
		t.Fatalf("after rank 1, on %s: %v", node0, got)
	}

	r = runLMC(t, runOpts{}, append(base, "--all-ranks", prompt)...)
	v = decodeJSON[engineMoveJSON](t, r.stdout)
	if r.code != 0 || len(v.Chunks) != 8 || v.Succeeded != 2 || !slices.Equal(v.states(), []string{"success", "in-place", "in-place", "in-place", "success", "in-place", "in-place", "in-place"}) {
		t.Fatalf("all ranks: %d %+v %s", r.code, v, r.stderr)
	}
	for i, c := range v.Chunks {
		if c.Key != blocks[i/2][i%2] || c.Rank != i%2 {
			t.Errorf("chunk %d: %+v", i, c)
		}
	}
	if got := storedKeys(t, sb.Admin, "--segment", node1); !slices.Equal(got, sortedCopy(flatten(blocks))) {
		t.Errorf("on %s: %v", node1, got)
	}
	if got := storedKeys(t, sb.Admin, "--segment", node0); len(got) != 0 {
		t.Errorf("left on %s: %v", node0, got)
	}
}

// --engine sglang|vllm acts on a store only: with the controller, the
// coordinator or an MP server it is refused, naming why; another engine's
// flags and LMCache's rank flags stay refused.
func TestMasterEngineRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"clear", "--engine", "sglang", "--controller", "http://127.0.0.1:1", "--instance", "i"}, "--engine sglang: SGLang stores its KV cache in Mooncake under its own keys, which only the store knows; the LMCache controller (--controller) knows only LMCache's chunks: pass --master HOST:PORT"},
		{[]string{"clear", "--engine", "vllm", "--coordinator", "http://127.0.0.1:1", "--instance", "i", "--tokens", "1,2"}, "the LMCache coordinator (--coordinator) knows only LMCache's chunks"},
		{[]string{"clear", "--engine", "sglang", "--server", "http://127.0.0.1:1", "--yes"}, "an LMCache MP server (--server) knows only LMCache's chunks"},
		{[]string{"move", "--engine", "vllm", "--coordinator", "http://127.0.0.1:1", "--from", "a", "--to", "b", "--tokens", "1,2"}, "--engine vllm: vLLM stores its KV cache"},
		{[]string{"copy", "--engine", "sglang", "--to", "b", "--tokens", "1,2"}, "--engine sglang: SGLang stores its KV cache in Mooncake under its own keys, which only the store knows: pass --master HOST:PORT"},
		{[]string{"clear", "--master", "127.0.0.1:1", "--tp-rank", "1", "--yes", "--tokens", "1,2"}, "--tp-rank is an SGLang/vLLM flag and this is --engine lmcache"},
		{[]string{"clear", "--master", "127.0.0.1:1", "--engine", "sglang", "--world-size", "2", "--yes", "--tokens", "1,2"}, "--world-size is an LMCache flag and this is --engine sglang"},
		{[]string{"move", "--master", "127.0.0.1:1", "--engine", "sglang", "--block-size", "16", "--to", "b", "--tokens", "1,2"}, "--block-size is a vLLM flag and this is --engine sglang"},
		{[]string{"clear", "--master", "127.0.0.1:1", "--engine", "sglang", "--tp-size", "2", "--tp-rank", "2", "--yes", "--tokens", "1,2"}, "--tp-rank 2"},
	} {
		r := runLMC(t, runOpts{}, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
