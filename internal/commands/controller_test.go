package commands

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lmc/internal/controllerclient/sandboxcontroller"
	"lmc/internal/coordinatorclient/sandboxcoordinator"
)

// startController runs the fake controller with inst1 (TP 1) holding tokens
// 0..599 and inst3 (TP 2) holding nothing, as in the spec's transcripts.
func startController(t *testing.T) (*sandboxcontroller.Server, string) {
	t.Helper()
	fake := sandboxcontroller.New(sandboxcontroller.WithWorkerListCacheTTL(0))
	fake.AddInstance("inst1", 1)
	fake.AddInstance("inst3", 2)
	if _, err := fake.Admit("inst1", 0, "LocalCPUBackend", seqU32(0, 600)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	return fake, srv.URL
}

func TestControllerLookup(t *testing.T) {
	_, url := startController(t)
	r := runLMC(t, runOpts{}, "lookup", "--controller", url, "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	var v struct {
		Source      string `json:"source"`
		TotalTokens int    `json:"total_tokens"`
		HitTokens   int    `json:"hit_tokens"`
		Instances   []struct {
			InstanceID string `json:"instance_id"`
			Location   string `json:"location"`
			HitTokens  int    `json:"hit_tokens"`
		} `json:"instances"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	// transcript 17: inst1 admitted 0..599 (full chunks only) → 512
	if v.Source != "controller" || v.HitTokens != 512 || v.TotalTokens != 600 || len(v.Instances) != 1 || v.Instances[0].InstanceID != "inst1" || v.Instances[0].Location != "LocalCPUBackend" {
		t.Fatalf("%+v", v)
	}
	r = runLMC(t, runOpts{tty: true}, "lookup", "--controller", url, "--tokens", seqTokens(600))
	golden(t, "controller/lookup-tty", r.stdout)
	r = runLMC(t, runOpts{}, "lookup", "--controller", url, "--tokens", seqTokens(600), "--min-hit", "90%")
	if r.code != ExitBelow {
		t.Fatalf("min-hit: %d %s", r.code, r.stderr)
	}
}

func TestControllerPinSurvivesClear(t *testing.T) {
	_, url := startController(t)
	r := runLMC(t, runOpts{}, "pin", "--controller", url, "--instance", "inst1", "--tokens", seqTokens(300), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	var op struct {
		Operation  string `json:"operation"`
		InstanceID string `json:"instance_id"`
		EventID    string `json:"event_id"`
		NumTokens  int    `json:"num_tokens"`
	}
	json.Unmarshal([]byte(r.stdout), &op)
	if op.Operation != "pin" || op.InstanceID != "inst1" || op.NumTokens != 256 || op.EventID == "" {
		t.Fatalf("pin: %+v", op)
	}
	// clear without --yes when not on a terminal: refused
	r = runLMC(t, runOpts{}, "clear", "--controller", url, "--instance", "inst1")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "refusing to clear without --yes") {
		t.Fatalf("clear without --yes: %d %s", r.code, r.stderr)
	}
	// dry run changes nothing and shows the key count
	r = runLMC(t, runOpts{}, "clear", "--controller", url, "--instance", "inst1", "--dry-run", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"dry_run": true`) || !strings.Contains(r.stdout, `"key_count": 2`) {
		t.Fatalf("dry run: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{}, "clear", "--controller", url, "--instance", "inst1", "--yes", "--verify", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"operation": "clear"`) {
		t.Fatalf("clear: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// the pinned chunk survives
	r = runLMC(t, runOpts{}, "lookup", "--controller", url, "--tokens", seqTokens(600), "-o", "json")
	if !strings.Contains(r.stdout, `"hit_tokens": 256`) {
		t.Fatalf("after clear: %s", r.stdout)
	}
	// confirmation on a terminal: "n" cancels
	r = runLMC(t, runOpts{tty: true, stdin: "n\n"}, "clear", "--controller", url, "--instance", "inst1")
	if r.code != ExitFailed || !strings.Contains(r.stderr, `Clear all unpinned KV cache of instance "inst1" in LocalCPUBackend on controller `+url+`? It holds 1 key now; pinned chunks stay. [y/N]`) {
		t.Fatalf("prompt: %d %q", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{tty: true, stdin: "y\n"}, "clear", "--controller", url, "--instance", "inst1")
	if r.code != 0 || !strings.Contains(r.stdout, "cleared") {
		t.Fatalf("prompt yes: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestControllerErrors(t *testing.T) {
	fake, url := startController(t)
	// unknown instance → exit 1 with the controller's message and a hint
	r := runLMC(t, runOpts{}, "pin", "--controller", url, "--instance", "nope", "--tokens", seqTokens(300))
	if r.code != ExitFailed || !strings.Contains(r.stderr, `instance "nope" is not registered (registered: inst1, inst3)`) {
		t.Fatalf("unknown instance: %d %q", r.code, r.stderr)
	}
	// unreachable → 3
	r = runLMC(t, runOpts{}, "lookup", "--controller", "http://127.0.0.1:1", "--tokens", "1,2")
	if r.code != ExitUnavailable || !strings.Contains(r.stderr, "LMCache controller http://127.0.0.1:1") {
		t.Fatalf("unreachable: %d %q", r.code, r.stderr)
	}
	// a hanging controller → timeout → 3
	fake.InjectFault("/lookup", sandboxcontroller.Fault{Hang: true})
	start := time.Now()
	r = runLMC(t, runOpts{}, "lookup", "--controller", url, "--timeout", "200ms", "--tokens", "1,2")
	if r.code != ExitUnavailable || time.Since(start) > 10*time.Second {
		t.Fatalf("hang: %d %q", r.code, r.stderr)
	}
	fake.ClearFaults()
	// 422 → exit 2 naming the field
	fake.InjectFault("/pin", sandboxcontroller.Fault{Status: 422, Body: `{"detail":[{"loc":["body","instance_id"],"msg":"field required","type":"value_error.missing"}]}`, ContentType: "application/json"})
	r = runLMC(t, runOpts{}, "pin", "--controller", url, "--instance", "inst1", "--tokens", "1")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "instance_id") {
		t.Fatalf("422: %d %q", r.code, r.stderr)
	}
}

func TestControllerWorkersStatsHealthMove(t *testing.T) {
	fake, url := startController(t)
	r := runLMC(t, runOpts{}, "workers", "--controller", url, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"instance_id": "inst3"`) {
		t.Fatalf("workers: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{}, "stats", "--controller", url, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"total_key_count": 2`) {
		t.Fatalf("stats: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{}, "health", "--controller", url, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"healthy": true`) {
		t.Fatalf("health: %d %s %s", r.code, r.stdout, r.stderr)
	}
	fake.SetWorkerHealth("inst3", 1, -1)
	r = runLMC(t, runOpts{}, "health", "--controller", url, "--instance", "inst3")
	if r.code != ExitFailed || !strings.Contains(r.stderr, `instance "inst3" is unhealthy`) {
		t.Fatalf("unhealthy: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{}, "compress", "--controller", url, "--instance", "inst1", "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"operation": "compress"`) {
		t.Fatalf("compress: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{}, "move", "--controller", url, "--from", "inst1", "--to", "inst3", "--copy", "--tokens", seqTokens(600), "-o", "json", "--verify")
	if r.code != 0 || !strings.Contains(r.stdout, `"operation": "copy"`) || !strings.Contains(r.stdout, `"num_tokens": 512`) || !strings.Contains(r.stdout, `"target": "inst3:LocalCPUBackend"`) {
		t.Fatalf("move: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestVersionWithBackends(t *testing.T) {
	_, url := startController(t)
	s := startMaster(t)
	r := runLMC(t, runOpts{}, "version", "--master", s.Addr(), "--admin", s.AdminURL(), "--controller", url, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"version": "2.0.0"`) || !strings.Contains(r.stdout, `"detail": "role leader, ha_state serving"`) || !strings.Contains(r.stdout, `"backend": "lmcache-controller"`) {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `"detail": "API `) {
		t.Fatalf("no controller era: %s", r.stdout)
	}
}

// pin and move --dry-run on the controller send nothing that changes
// anything: they check the instances as the real run's answer would, show
// the request and what the lookup says now. (They pinned and moved.)
func TestControllerPinMoveDryRun(t *testing.T) {
	fake, url := startController(t)
	r := runLMC(t, runOpts{}, "pin", "--controller", url, "--instance", "inst1", "--tokens", seqTokens(300), "--dry-run", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"dry_run": true`) || !strings.Contains(r.stdout, `"hit_tokens": 256`) ||
		!strings.Contains(r.stdout, `"request": "POST `+url+`/pin (instance \"inst1\", location \"LocalCPUBackend\", 300 tokens)"`) {
		t.Fatalf("pin --dry-run: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if n := fake.Requests("/pin"); n != 0 {
		t.Fatalf("pin --dry-run sent %d /pin", n)
	}
	// nothing was pinned: a clear takes everything
	if r = runLMC(t, runOpts{}, "clear", "--controller", url, "--instance", "inst1", "--yes"); r.code != 0 {
		t.Fatalf("clear: %d %s", r.code, r.stderr)
	}
	if r = runLMC(t, runOpts{}, "lookup", "--controller", url, "--tokens", seqTokens(600), "-o", "json"); !strings.Contains(r.stdout, `"hit_tokens": 0`) {
		t.Fatalf("after a dry-run pin and a clear, the lookup still hits: %s", r.stdout)
	}
	r = runLMC(t, runOpts{}, "pin", "--controller", url, "--instance", "nope", "--tokens", seqTokens(300), "--dry-run")
	if r.code != ExitFailed || !strings.Contains(r.stderr, `instance "nope" is not registered`) {
		t.Fatalf("pin --dry-run of an unknown instance: %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "move", "--controller", url, "--from", "inst1", "--to", "inst3", "--tokens", seqTokens(300), "--dry-run", "-o", "plain")
	if r.code != 0 || !strings.HasSuffix(strings.TrimSpace(r.stdout), "dry-run") {
		t.Fatalf("move --dry-run: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if n := fake.Requests("/move"); n != 0 {
		t.Fatalf("move --dry-run sent %d /move", n)
	}
}

// pin and move --controller send --model as the tokenize request's model
// (the --tokenize-model default), as lookup --controller does. (It was
// ignored: the engine was asked for model "".)
func TestControllerOpsTokenizeModel(t *testing.T) {
	_, url := startController(t)
	var seen []map[string]any
	eng := fakeEngine(t, &seen)
	r := runLMC(t, runOpts{}, "pin", "--controller", url, "--instance", "inst1", "--model", "served-m", "--tokenize-url", eng, "--text", "hello", "--dry-run", "-o", "json")
	if r.code != 0 || len(seen) != 1 || seen[0]["model"] != "served-m" {
		t.Fatalf("pin: %d %s %v", r.code, r.stderr, seen)
	}
	r = runLMC(t, runOpts{}, "move", "--controller", url, "--from", "inst1", "--to", "inst3", "--model", "served-m", "--tokenize-url", eng, "--text", "hello", "--dry-run", "-o", "json")
	if r.code != 0 || len(seen) != 2 || seen[1]["model"] != "served-m" {
		t.Fatalf("move: %d %s %v", r.code, r.stderr, seen)
	}
}

// The controller verbs refuse the store's and the coordinator's key flags
// given on the command line: the controller keys nothing lmc computes.
// (They were ignored with exit 0: clear --controller --model m cleared the
// whole location, pin --cache-salt s pinned the unsalted prompt.)
func TestControllerOpsRefuseKeyFlags(t *testing.T) {
	fake, url := startController(t)
	mp := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model}).Servers[0]
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pin", "--controller", url, "--instance", "inst1", "--tokens", seqTokens(300), "--cache-salt", "user-a"}, "--cache-salt is a key flag of --master and --coordinator, which the controller path would ignore: pin --controller"},
		{[]string{"pin", "--controller", url, "--instance", "inst1", "--tokens", seqTokens(300), "--world-size", "2"}, "--world-size is a key flag"},
		{[]string{"move", "--controller", url, "--from", "inst1", "--to", "inst3", "--tokens", seqTokens(300), "--hash-seed", "0"}, "--hash-seed is a key flag of --master and --coordinator, which the controller path would ignore: move --controller"},
		{[]string{"copy", "--controller", url, "--from", "inst1", "--to", "inst3", "--tokens", seqTokens(300), "--chunk-size", "16"}, "--chunk-size is a key flag"},
		{[]string{"clear", "--controller", url, "--instance", "inst1", "--yes", "--model", model}, "--model is a key flag of --master and --coordinator, which the controller path would ignore: clear --controller clears the instance's whole location"},
		{[]string{"clear", "--controller", url, "--instance", "inst1", "--yes", "--cache-salt", "user-a"}, "--cache-salt is a key flag"},
		{[]string{"clear", "--controller", url, "--instance", "inst1", "--yes", "--server", mp.URL()}, "--server names an LMCache MP server: clear --server URL alone clears that server"},
	} {
		r := runLMC(t, runOpts{}, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args[:3], r.code, r.stderr, tc.want)
		}
	}
	for _, ep := range []string{"/pin", "/move", "/clear"} {
		if n := fake.Requests(ep); n != 0 {
			t.Errorf("%d %s sent", n, ep)
		}
	}
	// A key flag from the environment (LMC_HASH_SEED serves the store's
	// commands) stays out of the way.
	r := runLMC(t, runOpts{env: map[string]string{"LMC_HASH_SEED": "0"}}, "pin", "--controller", url, "--instance", "inst1", "--tokens", seqTokens(300), "--dry-run")
	if r.code != 0 {
		t.Fatalf("with LMC_HASH_SEED: %d %s", r.code, r.stderr)
	}
}

// lookup --controller refuses the key flags the controller's lookup would
// ignore (it answered the unsalted hit with exit 0); the same values from
// the environment, which serve other commands, are left alone.
func TestControllerLookupRefusesKeyFlags(t *testing.T) {
	_, url := startController(t)
	for _, flag := range [][]string{{"--cache-salt", "s"}, {"--hash", "sha256"}, {"--world-size", "2"}, {"--chunk-size", "128"}} {
		r := runLMC(t, runOpts{}, append([]string{"lookup", "--controller", url, "--tokens", seqTokens(600)}, flag...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, flag[0]+" is a key flag of --master and --coordinator") {
			t.Errorf("lookup --controller %v: exit %d %s", flag, r.code, r.stderr)
		}
	}
	r := runLMC(t, runOpts{env: map[string]string{"LMC_HASH_SEED": "0"}}, "lookup", "--controller", url, "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"hit_tokens": 512`) {
		t.Fatalf("with LMC_HASH_SEED: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// The controller answers per instance, without replicas: lookup
// --controller --placement printed no placement with exit 0.
func TestControllerLookupRefusesPlacement(t *testing.T) {
	_, url := startController(t)
	r := runLMC(t, runOpts{}, "lookup", "--controller", url, "--placement", "--tokens", seqTokens(600))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--placement needs --master, --admin or --coordinator") {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
	// -o wide is the controller's own wide table.
	if r := runLMC(t, runOpts{}, "lookup", "--controller", url, "-o", "wide", "--tokens", seqTokens(600)); r.code != 0 {
		t.Fatalf("-o wide: exit %d %q", r.code, r.stderr)
	}
}

// health --instance names a controller's or coordinator's instance and
// --tenant the master RPC's: 'health --master M --instance x' said ok for
// an instance it never looked at, and '--controller C --tenant t' for a
// tenant it never dialled, both with exit 0.
func TestHealthRefusesFlagsOfUncheckedBackends(t *testing.T) {
	_, url := startController(t)
	m := startMaster(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--master", m.Addr(), "--instance", "inst1"}, "--instance names a controller's or coordinator's instance, and neither is checked"},
		{[]string{"--admin", m.AdminURL(), "--instance", "inst1"}, "add --controller URL or --coordinator URL"},
		{[]string{"--controller", url, "--tenant", "t"}, "--tenant is the Mooncake master RPC's tenant, and --master is not checked"},
	} {
		r := runLMC(t, runOpts{}, append([]string{"health"}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// Where they apply they still work; the default tenant changes nothing.
	for _, args := range [][]string{
		{"--master", m.Addr(), "--controller", url, "--instance", "inst1", "--tenant", "default"},
		{"--controller", url, "--tenant", "default"},
	} {
		if r := runLMC(t, runOpts{}, append([]string{"health"}, args...)...); r.code != 0 {
			t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
		}
	}
}
