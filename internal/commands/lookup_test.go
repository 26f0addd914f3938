package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"lmc/internal/coordinatorclient/sandboxcoordinator"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/lmcachekey"
)

// keysFor computes the keys lmc would look up, for populating fakes.
func keysFor(t *testing.T, n int, alg lmcachekey.Algorithm) []string {
	t.Helper()
	p := lmcachekey.DefaultParams()
	p.Model = model
	p.Algorithm = alg
	p.SaveUnfullChunk = true
	return seedZeroKeys(t, p, n)
}

// seedZeroKeys computes the keys p (with seed 0) gives a prompt of the
// tokens 0..n-1.
func seedZeroKeys(t *testing.T, p lmcachekey.Params, n int) []string {
	t.Helper()
	var err error
	if p.NoneHash, err = p.NoneHashFromSeed("0"); err != nil {
		t.Fatal(err)
	}
	e, err := lmcachekey.NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	tok := make([]uint32, n)
	for i := range tok {
		tok[i] = uint32(i)
	}
	keys, err := e.Keys(tok)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func startMaster(t *testing.T) *sandboxmaster.Server {
	t.Helper()
	s, err := sandboxmaster.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type lookupJSON struct {
	Source      string `json:"source"`
	TotalTokens int    `json:"total_tokens"`
	HitTokens   int    `json:"hit_tokens"`
	HitChunks   int    `json:"hit_chunks"`
	Chunks      []struct {
		Index    int    `json:"index"`
		Status   string `json:"status"`
		Key      string `json:"key"`
		Replicas []struct {
			Endpoint string `json:"endpoint"`
			Tier     string `json:"tier"`
		} `json:"replicas"`
	} `json:"chunks"`
}

func TestLookupMasterAndAdminAgreeWithHoles(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 600, lmcachekey.Builtin)
	// chunks 0 and 2 present, 1 missing
	if err := s.Populate(context.Background(), []string{keys[0], keys[2]}, sandboxmaster.Node{Name: "node-a", Endpoint: "10.1.0.1:12345"}); err != nil {
		t.Fatal(err)
	}
	base := []string{"lookup", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(600), "--save-unfull-chunk", "-o", "json"}
	for _, backend := range [][]string{{"--master", s.Addr()}, {"--admin", s.AdminURL()}, {"--master", s.Addr(), "--admin", s.AdminURL(), "--placement"}} {
		r := runLMC(t, runOpts{}, append(base, backend...)...)
		if r.code != 0 {
			t.Fatalf("%v: %d %s", backend, r.code, r.stderr)
		}
		var v lookupJSON
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatal(err, r.stdout)
		}
		if v.HitTokens != 256 || v.HitChunks != 1 || v.TotalTokens != 600 || len(v.Chunks) != 3 {
			t.Fatalf("%v: %+v", backend, v)
		}
		if v.Chunks[0].Status != "hit" || v.Chunks[1].Status != "miss" || v.Chunks[2].Status != "hit" {
			t.Fatalf("%v: statuses %+v", backend, v.Chunks)
		}
		if !strings.Contains(r.stderr, "1 chunk exists after the first miss (chunk 1)") {
			t.Errorf("%v: no hole warning: %q", backend, r.stderr)
		}
		if backend[0] == "--admin" || len(backend) > 2 {
			if len(v.Chunks[0].Replicas) != 1 || v.Chunks[0].Replicas[0].Endpoint != "10.1.0.1:12345" || v.Chunks[0].Replicas[0].Tier != "memory" {
				t.Errorf("%v: placement %+v", backend, v.Chunks[0].Replicas)
			}
		}
	}
	if s.HasLease(keys[0]) == false {
		t.Error("the RPC path should have granted a lease")
	}
}

func TestLookupAdminGrantsNoLease(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 512, lmcachekey.Builtin)
	if err := s.Populate(context.Background(), keys[:2]); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "lookup", "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(512), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"hit_tokens": 512`) {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
	if s.HasLease(keys[0]) {
		t.Error("the admin path granted a lease")
	}
}

func TestLookupTableGolden(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 600, lmcachekey.Builtin)
	if err := s.Populate(context.Background(), []string{keys[0], keys[2]}, sandboxmaster.Node{Name: "node-a", Endpoint: "10.1.0.1:12345"}); err != nil {
		t.Fatal(err)
	}
	args := []string{"lookup", "--admin", s.AdminURL(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(600), "--save-unfull-chunk"}
	r := runLMC(t, runOpts{tty: true}, append(args, "-o", "wide")...)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	golden(t, "lookup/wide-tty", r.stdout)
	r = runLMC(t, runOpts{tty: true, color: true}, append(args, "-o", "table")...)
	golden(t, "lookup/table-color", r.stdout)
	r = runLMC(t, runOpts{}, args...)
	if strings.Contains(r.stdout, "\x1b") {
		t.Fatal("escape codes when piped")
	}
	golden(t, "lookup/plain", r.stdout)
}

func TestLookupMinHitAndBatch(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 512, lmcachekey.Builtin)
	if err := s.Populate(context.Background(), keys[:1]); err != nil {
		t.Fatal(err)
	}
	in := `{"id": "full", "tokens": [` + seqTokens(256) + "]}\n" + `{"id": "half", "tokens": [` + seqTokens(512) + "]}\n"
	args := []string{"lookup", "--master", s.Addr(), "--model", model, "--hash-seed", "0", "-"}
	r := runLMC(t, runOpts{stdin: in}, append(args, "-o", "jsonl", "--min-hit", "0.75")...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != ExitBelow || len(lines) != 2 || !strings.Contains(r.stderr, "below --min-hit 0.75: half: 256 of 512 tokens (50.0 %)") {
		t.Fatalf("%d %q %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(lines[0], `"id":"full"`) || !strings.Contains(lines[0], `"hit_tokens":256`) {
		t.Fatal(lines[0])
	}
	r = runLMC(t, runOpts{stdin: in}, append(args, "-o", "json", "--min-hit", "50%")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"prompts": [`) {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{stdin: in, tty: true}, append(args, "-o", "table")...)
	golden(t, "lookup/batch-table", r.stdout)
	if n := s.Accepted() - 1; n > 3 { // one is Populate's node agent
		t.Errorf("%d connections for 3 runs: a batch must share one", n)
	}
}

func TestLookupUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := runLMC(t, runOpts{}, "lookup", "--master", addr, "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256))
	if r.code != ExitUnavailable || !strings.Contains(r.stderr, "Mooncake master "+addr) || !strings.Contains(r.stderr, "check --master") {
		t.Fatalf("%d %q", r.code, r.stderr)
	}
	// a server that accepts but never answers: timeout → 3
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	r = runLMC(t, runOpts{}, "lookup", "--master", hang.Addr().String(), "--timeout", "300ms", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256))
	if r.code != ExitUnavailable || time.Since(start) > 5*time.Second {
		t.Fatalf("%d %q", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "lookup", "--model", model, "--hash-seed", "0", "--tokens", "1")
	if r.code != 2 || !strings.Contains(r.stderr, "no backend") {
		t.Fatalf("%d %q", r.code, r.stderr)
	}
}

func TestLookupMasterFromLMCacheConfig(t *testing.T) {
	s := startMaster(t)
	cfg := writeFile(t, "lmcache.yaml", "chunk_size: 256\nexternal_lookup_client: mooncakestore://"+s.Addr()+"\n")
	r := runLMC(t, runOpts{env: map[string]string{"LMCACHE_CONFIG_FILE": cfg}}, "lookup", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"backend": "`+s.Addr()+`"`) {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestHealthMaster(t *testing.T) {
	s := startMaster(t)
	r := runLMC(t, runOpts{}, "health", "--master", s.Addr(), "--admin", s.AdminURL(), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"version": "2.0.0"`) || !strings.Contains(r.stdout, `"role": "leader"`) {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{}, "health", "--master", "127.0.0.1:1")
	if r.code != ExitUnavailable || !strings.HasPrefix(r.stdout, "master\t127.0.0.1:1\t\tFAIL\t") {
		t.Fatalf("%d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestLookupWatchJSONLines(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 256, lmcachekey.Builtin)
	if err := s.Populate(context.Background(), keys[:1]); err != nil {
		t.Fatal(err)
	}
	ios, _, out, errOut := iostreamsTest()
	ctx, cancel := context.WithCancel(context.Background())
	// stop after two rounds (two lines), however slow the machine
	cw := &cancelAfterLines{w: out, n: 2, cancel: cancel}
	ios.Out = cw
	defer cancel()
	code := Main(ctx, ios, []string{"lookup", "--master", s.Addr(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256), "--watch", "--interval", "100ms"}, BuildInfo{})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != ExitInterrupted || len(lines) < 2 {
		t.Fatalf("exit %d, %d lines: %q %q", code, len(lines), out.String(), errOut.String())
	}
	var v struct {
		Time      string `json:"time"`
		HitTokens int    `json:"hit_tokens"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &v); err != nil || v.Time == "" || v.HitTokens != 256 {
		t.Fatalf("%v %q", err, lines[1])
	}
}

// cancelAfterLines cancels a context once n lines have been written.
type cancelAfterLines struct {
	w      io.Writer
	n      int
	cancel func()
	mu     sync.Mutex
	seen   int
}

func (c *cancelAfterLines) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen += bytes.Count(p, []byte("\n"))
	if c.seen >= c.n {
		c.cancel()
	}
	return c.w.Write(p)
}

func TestVerboseRPCLog(t *testing.T) {
	s := startMaster(t)
	r := runLMC(t, runOpts{}, "lookup", "--master", s.Addr(), "--verbose", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(512), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "> rpc BatchExistKey "+s.Addr()+" (2 keys, tenant default)") || !strings.Contains(r.stderr, "< ok (") {
		t.Fatalf("%d %q", r.code, r.stderr)
	}
}

// Only the master RPC is per tenant: 'lookup --admin A --tenant t'
// answered the default tenant's hit, and --controller and --coordinator
// dropped --tenant, all with exit 0.
func TestLookupRefusesTenantWithoutMaster(t *testing.T) {
	m := startMaster(t)
	_, ctl := startController(t)
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	keyed := []string{"--model", model, "--hash-seed", "0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"--admin", m.AdminURL()}, keyed...), `--tenant "t" is a Mooncake master RPC tenant, and the admin API lists the default tenant only`},
		{[]string{"--engine", "vllm", "--admin", m.AdminURL(), "--model", model}, "the admin API lists the default tenant only"},
		{[]string{"--controller", ctl}, "lookup --controller asks no Mooncake master"},
		{[]string{"--coordinator", fl.Coordinator.URL(), "--model", model}, "lookup --coordinator asks no Mooncake master"},
	} {
		r := runLMC(t, runOpts{}, append([]string{"lookup", "--tenant", "t", "--tokens", seqTokens(600)}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// The default tenant, and any tenant with --master, still look up.
	for _, args := range [][]string{
		append([]string{"--admin", m.AdminURL(), "--tenant", "default"}, keyed...),
		append([]string{"--master", m.Addr(), "--admin", m.AdminURL(), "--tenant", "t"}, keyed...),
	} {
		if r := runLMC(t, runOpts{}, append([]string{"lookup", "--tokens", seqTokens(600)}, args...)...); r.code != 0 {
			t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
		}
	}
}

// --watch runs until interrupted, so --min-hit could never exit 4: a
// prompt below it was watched with no sign of the threshold.
func TestLookupWatchRefusesMinHit(t *testing.T) {
	m := startMaster(t)
	done := make(chan result, 1)
	go func() {
		done <- runLMC(t, runOpts{}, "lookup", "--admin", m.AdminURL(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(600), "--watch", "--min-hit", "100%")
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("lookup --watch --min-hit 100% was still watching after 10 s")
	}
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--min-hit and --watch do not mix") {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
}
