package commands

import (
	"context"
	"strings"
	"testing"
	"time"

	"lmc/internal/commands/iostreams"
	"lmc/internal/coordinatorclient/sandboxcoordinator"
)

type coordOpJSON struct {
	Operation       string `json:"operation"`
	InstanceID      string `json:"instance_id"`
	Target          string `json:"target"`
	NumTokens       int    `json:"num_tokens"`
	DryRun          bool   `json:"dry_run"`
	Warning         string `json:"warning"`
	Request         string `json:"request"`
	Source          string `json:"source"`
	Status          string `json:"status"`
	Tier            string `json:"tier"`
	RequestedChunks int    `json:"requested_chunks"`
	AffectedKeys    *int   `json:"affected_keys"`
	SkippedKeys     *int   `json:"skipped_keys"`
	MoveID          string `json:"move_id"`
	LoadedKeys      *int   `json:"loaded_keys"`
	DeletedKeys     *int   `json:"deleted_keys"`
	RequestID       string `json:"request_id"`
	FoundKeys       *int   `json:"found_keys"`
	TotalKeys       *int   `json:"total_keys"`
	MissingKeys     []int  `json:"missing_key_indices"`
	Route           string `json:"route"`
	Verify          *struct {
		HitTokens   *int   `json:"hit_tokens"`
		Keys        *int   `json:"keys"`
		PinnedKeys  *int   `json:"pinned_keys"`
		PresentKeys *int   `json:"present_keys"`
		L1Objects   *int64 `json:"l1_objects"`
		Note        string `json:"note"`
	} `json:"verify"`
	Generation struct {
		Name string `json:"name"`
	} `json:"generation"`
}

// runLMCCtx runs lmc with a context the test cancels (Ctrl-C).
func runLMCCtx(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetGetenv(func(string) string { return "" })
	code := Main(ctx, ios, args, BuildInfo{Version: "1.2.3"})
	return result{out.String(), errOut.String(), code}
}

func TestCoordinatorPin(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c, s1 := fl.Coordinator.URL(), fl.Servers[0].URL()
	// --dry-run sends no pin.
	r := runLMC(t, runOpts{}, "pin", "--coordinator", c, "--server", s1, "--tokens", seqTokens(600), "--dry-run", "-o", "json")
	v := decodeJSON[coordOpJSON](t, r.stdout)
	if _, sent := fl.Coordinator.LastRequest("POST", "/cache/pins"); r.code != 0 || sent || !v.DryRun || !strings.HasPrefix(v.Request, "POST "+c+"/cache/pins {") || *v.Verify.PinnedKeys != 0 {
		t.Fatalf("dry run %d %s %+v", r.code, r.stderr, v)
	}
	r = runLMC(t, runOpts{}, "pin", "--coordinator", c, "--server", s1, "--tokens", seqTokens(600), "--verify", "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	req, _ := fl.Coordinator.LastRequest("POST", "/cache/pins")
	if want := `{"model_name":"` + model + `","world_size":1,"token_ids":[` + seqTokens(600) + `],"cache_salt":""}`; req.Body != want {
		t.Fatalf("pin body %s", req.Body)
	}
	v = decodeJSON[coordOpJSON](t, r.stdout)
	// Two chunks, two keys pinned; only chunk 0 has an L2 copy to protect.
	if v.Operation != "pin" || v.Status != "pinned" || v.RequestedChunks != 2 || *v.AffectedKeys != 2 || v.NumTokens != 512 || *v.Verify.PinnedKeys != 2 || *v.Verify.PresentKeys != 1 ||
		!strings.Contains(v.Verify.Note, "1 of 2 keys have no L2 copy") || v.Generation.Name == "" {
		t.Fatalf("%+v", v)
	}
	// A pinned key survives a delete without --force (skipped).
	r = runLMC(t, runOpts{}, "clear", "--coordinator", c, "--server", s1, "--instance", "server-1", "--tier", "l2", "--tokens", seqTokens(600), "--yes", "-o", "json")
	if v := decodeJSON[coordOpJSON](t, r.stdout); r.code != 0 || *v.AffectedKeys != 0 || *v.SkippedKeys != 2 || !strings.Contains(v.Warning, "pinned") {
		t.Fatalf("pinned delete %d %s %+v", r.code, r.stderr, v)
	}
	r = runLMC(t, runOpts{}, "pin", "--coordinator", c, "--server", s1, "--tokens", seqTokens(600), "--unpin", "--verify", "-o", "json")
	v = decodeJSON[coordOpJSON](t, r.stdout)
	if _, sent := fl.Coordinator.LastRequest("DELETE", "/cache/pins"); r.code != 0 || !sent || v.Operation != "unpin" || v.Status != "unpinned" || *v.Verify.PinnedKeys != 0 {
		t.Fatalf("unpin %d %s %+v", r.code, r.stderr, v)
	}
	// Fewer tokens than a chunk: nothing pinned, said so.
	r = runLMC(t, runOpts{}, "pin", "--coordinator", c, "--server", s1, "--tokens", "1,2,3", "-o", "table")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing changed — the prompt has fewer tokens (3) than one chunk (256)") {
		t.Fatalf("sub-chunk %d %q %s", r.code, r.stdout, r.stderr)
	}
	// A coordinator without its eviction controller has no pins.
	fl2 := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, Options: []sandboxcoordinator.Option{sandboxcoordinator.WithoutEvictionController()}})
	r = runLMC(t, runOpts{}, "pin", "--coordinator", fl2.Coordinator.URL(), "--model", model, "--tokens", seqTokens(600))
	if r.code != 1 || !strings.Contains(r.stderr, "pins (/cache/pins) is not available") || !strings.Contains(r.stderr, "started with its eviction controller") {
		t.Fatalf("no pins %d %s", r.code, r.stderr)
	}
}

func TestCoordinatorMove(t *testing.T) {
	// Moves exist only on the newest (proposed) generation.
	fl := startFleet(t, 2, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.GenMoves, SharedL2: true})
	s := fl.Servers[0]
	for _, tier := range []string{"l1", "l2"} {
		if _, err := s.Store(tier, seqU32(0, 600), model, 1, ""); err != nil {
			t.Fatal(err)
		}
	}
	c := fl.Coordinator.URL()
	r := runLMC(t, runOpts{}, "move", "--coordinator", c, "--server", s.URL(), "--from", "server-1", "--to", "server-2", "--tokens", seqTokens(600), "--verify", "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	req, _ := fl.Coordinator.LastRequest("POST", "/cache/moves")
	if want := `{"source_instance_id":"server-1","target_instance_id":"server-2","model_name":"` + model + `","world_size":1,"token_ids":[` + seqTokens(600) + `],"cache_salt":""}`; req.Body != want {
		t.Fatalf("move body %s", req.Body)
	}
	v := decodeJSON[coordOpJSON](t, r.stdout)
	if v.Operation != "move" || v.Status != "completed" || v.MoveID == "" || *v.LoadedKeys != 2 || *v.DeletedKeys != 2 || v.Target != "server-2" || *v.Verify.HitTokens != 512 {
		t.Fatalf("%+v", v)
	}
	if fl.Servers[0].L1Len() != 0 || fl.Servers[1].L1Len() != 2 {
		t.Fatalf("L1: source %d, target %d", fl.Servers[0].L1Len(), fl.Servers[1].L1Len())
	}
	// Without --wait: submitted, with the id.
	r = runLMC(t, runOpts{}, "move", "--coordinator", c, "--server", s.URL(), "--from", "server-2", "--to", "server-1", "--copy", "--tokens", seqTokens(600), "-o", "table")
	if r.code != 0 || !strings.Contains(r.stdout, "copy ") || !strings.Contains(r.stdout, "submitted: server-2 → server-1, 2 chunks") {
		t.Fatalf("submit %d %q %s", r.code, r.stdout, r.stderr)
	}
	// A generation without moves says so, naming the generation.
	fl2 := startFleet(t, 2, sandboxcoordinator.FleetConfig{Model: model})
	r = runLMC(t, runOpts{}, "move", "--coordinator", fl2.Coordinator.URL(), "--model", model, "--from", "server-1", "--to", "server-2", "--tokens", seqTokens(600))
	if r.code != 1 || !strings.Contains(r.stderr, "moves (/cache/moves) is not available") || !strings.Contains(r.stderr, "RFC #5083") || !strings.Contains(r.stderr, "generation") {
		t.Fatalf("no moves %d %s", r.code, r.stderr)
	}
}

func TestCoordinatorClear(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c, s1 := fl.Coordinator.URL(), fl.Servers[0].URL()
	base := []string{"clear", "--coordinator", c, "--server", s1, "--instance", "server-1", "--tokens", seqTokens(600)}
	// Not a terminal and no --yes: refused before any request.
	fl.Coordinator.ResetRequests()
	r := runLMC(t, runOpts{}, base...)
	if r.code != ExitUsage || len(fl.Coordinator.Requests()) != 0 {
		t.Fatalf("refusal %d %s (%d requests)", r.code, r.stderr, len(fl.Coordinator.Requests()))
	}
	// On a terminal, "n" cancels (exit 1) without deleting.
	r = runLMC(t, runOpts{tty: true, stdin: "n\n"}, base...)
	if _, sent := fl.Coordinator.LastRequest("POST", "/cache/delete"); r.code != 1 || sent || !strings.Contains(r.stderr, `on instance "server-1"`) || !strings.Contains(r.stderr, "The directory lists 2 of its 2 keys there.") || !strings.Contains(r.stderr, "[y/N]") || !strings.Contains(r.stderr, "clear cancelled") {
		t.Fatalf("cancel %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, append(base, "--dry-run", "-o", "json")...)
	v := decodeJSON[coordOpJSON](t, r.stdout)
	if _, sent := fl.Coordinator.LastRequest("POST", "/cache/delete"); r.code != 0 || sent || !v.DryRun || *v.Verify.PresentKeys != 2 {
		t.Fatalf("dry run %d %s %+v", r.code, r.stderr, v)
	}
	r = runLMC(t, runOpts{}, append(base, "--yes", "--verify", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	req, _ := fl.Coordinator.LastRequest("POST", "/cache/delete")
	if want := `{"instance_id":"server-1","model_name":"` + model + `","world_size":1,"token_ids":[` + seqTokens(600) + `],"cache_salt":"","tier":"all","force":false}`; req.Body != want {
		t.Fatalf("delete body %s", req.Body)
	}
	v = decodeJSON[coordOpJSON](t, r.stdout)
	// Chunk 0 in L1 and L2, chunk 1 in L1: three copies deleted.
	if v.Status != "deleted" || v.RequestedChunks != 2 || *v.AffectedKeys != 3 || *v.SkippedKeys != 0 || *v.Verify.PresentKeys != 0 || fl.Servers[0].L1Len() != 0 {
		t.Fatalf("%+v", v)
	}
	// Again: nothing there any more.
	r = runLMC(t, runOpts{}, append(base, "--yes", "-o", "table")...)
	if r.code != 0 || !strings.Contains(r.stdout, "nothing changed — nothing of this prompt was on server-1 in L1 and L2") {
		t.Fatalf("second delete %d %q", r.code, r.stdout)
	}
	// An unknown instance: the coordinator's 404, with its hint.
	r = runLMC(t, runOpts{}, "clear", "--coordinator", c, "--server", s1, "--instance", "server-9", "--tokens", seqTokens(600), "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "no MP server registered with instance_id='server-9'") || !strings.Contains(r.stderr, "hint: the instance is not registered") {
		t.Fatalf("unknown instance %d %s", r.code, r.stderr)
	}
	// The MP server fails: the coordinator's 502, relayed (exit 1).
	fl.Coordinator.InjectFault("/cache/delete", sandboxcoordinator.ErrorAnswer(502, `{"detail":"delete to 'server-1' failed: Server error '503 Service Unavailable'"}`))
	r = runLMC(t, runOpts{}, append(base, "--yes")...)
	if r.code != 1 || !strings.Contains(r.stderr, "HTTP 502: delete to 'server-1' failed") || !strings.Contains(r.stderr, "hint: the coordinator could not delete on that MP server") {
		t.Fatalf("502 %d %s", r.code, r.stderr)
	}
}

func TestMPServerClear(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	mp := fl.Servers[0]
	r := runLMC(t, runOpts{}, "clear", "--server", mp.URL(), "--dry-run", "-o", "json")
	v := decodeJSON[coordOpJSON](t, r.stdout)
	if r.code != 0 || !v.DryRun || *v.Verify.L1Objects != 2 || v.Source != "mp-server" || mp.L1Len() != 2 {
		t.Fatalf("dry run %d %s %+v", r.code, r.stderr, v)
	}
	r = runLMC(t, runOpts{}, "clear", "--server", mp.URL(), "--yes", "--verify", "-o", "json")
	v = decodeJSON[coordOpJSON](t, r.stdout)
	if r.code != 0 || v.Route != "/cache/clear" || *v.Verify.L1Objects != 0 || mp.L1Len() != 0 {
		t.Fatalf("clear %d %s %+v", r.code, r.stderr, v)
	}
	// The L1 deletes reached the coordinator's directory.
	l := runLMC(t, runOpts{}, "lookup", "--coordinator", fl.Coordinator.URL(), "--model", model, "--tokens", seqTokens(600), "--tier", "l1", "-o", "json")
	if lv := decodeJSON[coordLookupJSON](t, l.stdout); lv.HitTokens != 0 {
		t.Fatalf("directory after clear: %+v", lv)
	}
	// With a prompt: its keys, as lmc computes them, from L2.
	r = runLMC(t, runOpts{}, "clear", "--server", mp.URL(), "--tokens", seqTokens(600), "--yes", "-o", "json")
	req, _ := mp.LastRequest("DELETE", "/cache/objects")
	if v := decodeJSON[coordOpJSON](t, r.stdout); r.code != 0 || *v.AffectedKeys != 1 || v.Tier != "l2" ||
		!strings.HasPrefix(req.Body, `{"keys":[{"chunk_hash_hex":"`+mpHash0+`","model_name":"`+model+`","kv_rank":16777472,"object_group_id":0,"cache_salt":""},`) || !strings.HasSuffix(req.Body, `],"tier":"l2","force":false,"adapter":null}`) {
		t.Fatalf("delete objects %d %s %+v\n%s", r.code, r.stderr, v, req.Body)
	}
	// A 2026-05 server: /cache/clear is missing, /clear-cache answers.
	old, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPRoutes(sandboxcoordinator.MPRoutes202605))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	r = runLMC(t, runOpts{}, "clear", "--server", old.URL(), "--yes", "-o", "json")
	if v := decodeJSON[coordOpJSON](t, r.stdout); r.code != 0 || v.Route != "/clear-cache" || v.Status != "ok" {
		t.Fatalf("old routes %d %s %+v", r.code, r.stderr, v)
	}
	// A 2026-03 server answers /api/status for the key flags.
	older, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPRoutes(sandboxcoordinator.MPRoutes202603), sandboxcoordinator.WithMPChunkSize(128))
	if err != nil {
		t.Fatal(err)
	}
	defer older.Close()
	r = runLMC(t, runOpts{}, "keys", "--server", older.URL(), "--tokens", seqTokens(300), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"chunk_size": 128`) {
		t.Fatalf("keys --server (2026-03) %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// Not initialized: 503, exit 3.
	ni, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithEngineNotInitialized())
	if err != nil {
		t.Fatal(err)
	}
	defer ni.Close()
	r = runLMC(t, runOpts{}, "keys", "--server", ni.URL(), "--tokens", "1")
	if r.code != ExitUnavailable || !strings.Contains(r.stderr, "LMCache MP server "+ni.URL()) || !strings.Contains(r.stderr, "engine is not initialized") {
		t.Fatalf("not initialized %d %s", r.code, r.stderr)
	}
}

func TestCoordinatorPrefetch(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c, s1 := fl.Coordinator.URL(), fl.Servers[0].URL()
	// §8.7: server-1's L1 is cleared; only chunk 0 is in L2.
	if r := runLMC(t, runOpts{}, "clear", "--server", s1, "--yes"); r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	r := runLMC(t, runOpts{}, "prefetch", "--coordinator", c, "--server", s1, "--instance", "server-1", "--tokens", seqTokens(600), "--wait", "--interval", "100ms", "--verify", "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	req, _ := fl.Coordinator.LastRequest("POST", "/cache/prefetches")
	if want := `{"instance_id":"server-1","model_name":"` + model + `","world_size":1,"token_ids":[` + seqTokens(600) + `],"cache_salt":""}`; req.Body != want {
		t.Fatalf("prefetch body %s", req.Body)
	}
	v := decodeJSON[coordOpJSON](t, r.stdout)
	if v.Status != "completed" || v.RequestID == "" || v.RequestedChunks != 2 || *v.FoundKeys != 1 || *v.TotalKeys != 2 || len(v.MissingKeys) != 1 || v.MissingKeys[0] != 1 || *v.Verify.HitTokens != 256 {
		t.Fatalf("%+v", v)
	}
	if !strings.Contains(r.stderr, "1 of 2 keys were not loaded (not in L2, or already in L1): chunk 1") {
		t.Fatalf("warning: %s", r.stderr)
	}
	// The completion was consumed by --wait: polling it again is the MP
	// server's 404, relayed (exit 1).
	r = runLMC(t, runOpts{}, "prefetch", "--coordinator", c, "--instance", "server-1", "--request-id", v.RequestID)
	if r.code != 1 || !strings.Contains(r.stderr, "already completed or never submitted") || !strings.Contains(r.stderr, "hint: the prefetch already completed") {
		t.Fatalf("poll after completion %d %s", r.code, r.stderr)
	}
	// Sub-chunk: noop.
	r = runLMC(t, runOpts{}, "prefetch", "--coordinator", c, "--server", s1, "--instance", "server-1", "--tokens", "1,2,3", "-o", "json")
	if v := decodeJSON[coordOpJSON](t, r.stdout); r.code != 0 || v.Status != "noop" || !strings.Contains(v.Warning, "nothing to prefetch") {
		t.Fatalf("noop %d %+v", r.code, v)
	}
	// Unknown instance: the coordinator's own 404.
	r = runLMC(t, runOpts{}, "prefetch", "--coordinator", c, "--server", s1, "--instance", "server-9", "--tokens", seqTokens(600))
	if r.code != 1 || !strings.Contains(r.stderr, "no MP server registered with instance_id='server-9'") {
		t.Fatalf("unknown instance %d %s", r.code, r.stderr)
	}
	// The MP server refused: 502.
	fl.Coordinator.InjectFault("/cache/prefetches", sandboxcoordinator.Fault{Times: 1, Status: 502, Body: `{"detail":"prefetch submit to 'server-1' failed: Server error '503 Service Unavailable'"}`})
	r = runLMC(t, runOpts{}, "prefetch", "--coordinator", c, "--server", s1, "--instance", "server-1", "--tokens", seqTokens(600))
	if r.code != 1 || !strings.Contains(r.stderr, "hint: the coordinator could not submit the prefetch to that MP server") {
		t.Fatalf("502 %d %s", r.code, r.stderr)
	}
}

// Ctrl-C while waiting: exit 130 at once, and the job is said to go on.
func TestCoordinatorPrefetchInterrupted(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, MPOptions: []sandboxcoordinator.MPOption{sandboxcoordinator.WithPrefetchPolls(1 << 20)}})
	store600(t, fl, 1)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	r := runLMCCtx(t, ctx, "prefetch", "--coordinator", fl.Coordinator.URL(), "--model", model, "--instance", "server-1", "--tokens", seqTokens(600), "--wait", "--interval", "100ms")
	if r.code != ExitInterrupted || !strings.Contains(r.stderr, "keeps running on server-1") || !strings.Contains(r.stderr, "lmc: interrupted") || r.stdout != "" || time.Since(start) > 5*time.Second {
		t.Fatalf("%d %q %q after %s", r.code, r.stdout, r.stderr, time.Since(start))
	}
}

// The coordinator's error bodies and lies map to exit codes: 422 is bad
// input (2), 503 unavailable (3), an untrusted answer 1.
func TestCoordinatorErrorBodies(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c := fl.Coordinator.URL()
	lookup := []string{"lookup", "--coordinator", c, "--model", model, "--tokens", seqTokens(600)}
	fl.Coordinator.InjectFault("/directory/lookup", sandboxcoordinator.Fault{Times: 1, Status: 422,
		Body: `{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, supply exactly one of 'keys' or 'token_ids'","input":{},"ctx":{"error":{}}}]}`})
	r := runLMC(t, runOpts{}, lookup...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "HTTP 422: body: Value error, supply exactly one of 'keys' or 'token_ids'") || !strings.Contains(r.stderr, "hint: a lookup takes either keys or token_ids") {
		t.Fatalf("422 %d %s", r.code, r.stderr)
	}
	fl.Coordinator.InjectFault("/directory/lookup", sandboxcoordinator.Fault{Status: 503, Body: `{"detail":"Service Unavailable"}`})
	r = runLMC(t, runOpts{}, lookup...)
	if r.code != ExitUnavailable {
		t.Fatalf("503 %d %s", r.code, r.stderr)
	}
	fl.Coordinator.ClearFaults()
	for _, lie := range []sandboxcoordinator.Lie{sandboxcoordinator.LieCount, sandboxcoordinator.LieWrongKey, sandboxcoordinator.LieTokens, sandboxcoordinator.LieTrailing, sandboxcoordinator.LieTruncate} {
		fl.Coordinator.InjectFault("/directory/lookup", sandboxcoordinator.Fault{Times: 1, Lie: lie})
		r = runLMC(t, runOpts{}, append(lookup, "-o", "json")...)
		if r.code != ExitFailed || r.stdout != "" || !strings.Contains(r.stderr, "cannot trust") {
			t.Fatalf("lie %s: %d %q %s", lie, r.code, r.stdout, r.stderr)
		}
	}
	fl.Coordinator.InjectFault("/instances", sandboxcoordinator.Fault{Times: 1, Status: 200, Body: "<html>It works!</html>", ContentType: "text/html"})
	r = runLMC(t, runOpts{}, "workers", "--coordinator", c)
	if r.code != ExitFailed || !strings.Contains(r.stderr, "hint: an HTML page") {
		t.Fatalf("garbage %d %s", r.code, r.stderr)
	}
	// An MP server where the coordinator was meant: named, exit 2.
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", fl.Servers[0].URL(), "--model", model, "--tokens", seqTokens(600))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "is an LMCache MP server's HTTP API, not the coordinator") {
		t.Fatalf("wrong port %d %s", r.code, r.stderr)
	}
	// Stalled: --timeout, exit 3.
	fl.Coordinator.InjectFault("/directory/lookup", sandboxcoordinator.Stall())
	r = runLMC(t, runOpts{}, append(lookup, "--timeout", "100ms")...)
	if r.code != ExitUnavailable {
		t.Fatalf("stall %d %s", r.code, r.stderr)
	}
}

// Older and newer coordinators: features are detected and a missing one
// is named with the generation that answered.
func TestCoordinatorGenerations(t *testing.T) {
	old := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.Gen202607})
	store600(t, old, 1)
	r := runLMC(t, runOpts{}, "lookup", "--coordinator", old.Coordinator.URL(), "--model", model, "--tokens", seqTokens(600))
	if r.code != ExitFailed || !strings.Contains(r.stderr, "the key directory (/directory) is not available (this coordinator answers as generation") || !strings.Contains(r.stderr, "predates the key directory") {
		t.Fatalf("no directory %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "usage", "--coordinator", old.Coordinator.URL())
	if r.code != ExitFailed || !strings.Contains(r.stderr, "predates fleet usage (2026-08-19)") {
		t.Fatalf("no usage %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "health", "--coordinator", old.Coordinator.URL(), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"name": "2026-07"`) {
		t.Fatalf("health of 2026-07 %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// The keys-only lookup of early August: /directory/lookup_tokens.
	early := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.Gen202608Early})
	store600(t, early, 1)
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", early.Coordinator.URL(), "--model", model, "--tokens", seqTokens(600), "-o", "json")
	if v := decodeJSON[coordLookupJSON](t, r.stdout); r.code != 0 || v.Route != "/directory/lookup_tokens" || v.HitTokens != 512 {
		t.Fatalf("keys-only %d %s %+v", r.code, r.stderr, v)
	}
	// Quotas of June 2026 lived under /l2.
	june := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.Gen202606})
	r = runLMC(t, runOpts{}, "quota", "list", "--coordinator", june.Coordinator.URL())
	if r.code != ExitFailed || !strings.Contains(r.stderr, "/l2") {
		t.Fatalf("june quotas %d %s", r.code, r.stderr)
	}
	// Stats without tier totals (2026-08-19): summed from the listing.
	aug := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.Gen202608})
	store600(t, aug, 1)
	r = runLMC(t, runOpts{}, "stats", "--coordinator", aug.Coordinator.URL(), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"from_stats": false`) || !strings.Contains(r.stdout, `"l1_count": 2`) || !strings.Contains(r.stdout, `"l2_size_bytes": 33554432`) {
		t.Fatalf("stats 2026-08-19 %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// --verbose names the generation on stderr.
	r = runLMC(t, runOpts{}, "stats", "--coordinator", aug.Coordinator.URL(), "--verbose")
	if !strings.Contains(r.stderr, "answers as generation") {
		t.Fatalf("verbose %s", r.stderr)
	}
}

// The coordinator and MP server paths refuse the store's and the
// controller's flags they would ignore, before any request. (They were
// ignored with exit 0: clear --server --match x cleared the server's whole
// L1, pin --coordinator --instance pinned fleet-wide.)
func TestCoordinatorPathsRefuseOtherBackendsFlags(t *testing.T) {
	fl := startFleet(t, 2, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.GenMoves, SharedL2: true})
	store600(t, fl, 1)
	c, s1 := fl.Coordinator.URL(), fl.Servers[0].URL()
	toks := []string{"--model", model, "--tokens", seqTokens(600)}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pin", "--coordinator", c, "--instance", "server-1"}, "--instance applies to pin --controller: a coordinator's pins are fleet-wide"},
		{[]string{"pin", "--coordinator", c, "--unpin", "--location", "LocalDiskBackend"}, "--location applies to pin --controller"},
		{[]string{"pin", "--coordinator", c, "--tenant", "t"}, "--tenant acts on a Mooncake store (--master HOST:PORT), not on pin --coordinator"},
		{[]string{"move", "--coordinator", c, "--from", "server-1", "--to", "server-2", "--all-ranks"}, "--all-ranks acts on a Mooncake store (--master HOST:PORT), not on move --coordinator"},
		{[]string{"move", "--coordinator", c, "--from", "server-1", "--to", "server-2", "--tenant", "t"}, "--tenant acts on a Mooncake store"},
		{[]string{"clear", "--coordinator", c, "--instance", "server-1", "--yes", "--all"}, "--all acts on a Mooncake store (--master HOST:PORT), not on clear --coordinator"},
		{[]string{"clear", "--coordinator", c, "--instance", "server-1", "--yes", "--match", "x"}, "--match acts on a Mooncake store"},
		{[]string{"clear", "--coordinator", c, "--instance", "server-1", "--yes", "--all-ranks"}, "--all-ranks acts on a Mooncake store"},
		{[]string{"clear", "--coordinator", c, "--instance", "server-1", "--yes", "--location", "LocalDiskBackend"}, "--location applies to the LMCache controller (--controller URL), not to clear --coordinator"},
	} {
		fl.Coordinator.ResetRequests()
		r := runLMC(t, runOpts{}, append(tc.args, toks...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || len(fl.Coordinator.Requests()) != 0 {
			t.Errorf("%v: exit %d %q (%d requests), want %q", tc.args, r.code, r.stderr, len(fl.Coordinator.Requests()), tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"clear", "--server", s1, "--yes", "--match", "x"}, "--match acts on a Mooncake store (--master HOST:PORT), not on clear --server"},
		{[]string{"clear", "--server", s1, "--yes", "--all"}, "--all acts on a Mooncake store"},
		{[]string{"clear", "--server", s1, "--yes", "--location", "LocalDiskBackend"}, "--location applies to the LMCache controller"},
		{[]string{"clear", "--server", s1, "--yes", "--instance", "server-2"}, "--instance applies to clear --controller or --coordinator: clear --server clears that MP server's own cache"},
	} {
		r := runLMC(t, runOpts{}, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if n := fl.Servers[0].L1Len(); n != 2 {
		t.Fatalf("server-1's L1 holds %d of 2 objects", n)
	}
}

// move --coordinator and prefetch refuse --dry-run with --wait or --verify:
// a dry run submits nothing to wait for. (The wait was ignored, exit 0.)
func TestCoordinatorDryRunRefusesWait(t *testing.T) {
	fl := startFleet(t, 2, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.GenMoves, SharedL2: true})
	store600(t, fl, 1)
	c := fl.Coordinator.URL()
	for _, args := range [][]string{
		{"move", "--coordinator", c, "--from", "server-1", "--to", "server-2", "--dry-run", "--wait"},
		{"move", "--coordinator", c, "--from", "server-1", "--to", "server-2", "--dry-run", "--verify"},
		{"prefetch", "--coordinator", c, "--instance", "server-1", "--dry-run", "--wait"},
		{"prefetch", "--coordinator", c, "--instance", "server-1", "--dry-run", "--verify"},
	} {
		fl.Coordinator.ResetRequests()
		r := runLMC(t, runOpts{}, append(args, "--model", model, "--tokens", seqTokens(600))...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "there is nothing to --wait for or --verify") || len(fl.Coordinator.Requests()) != 0 {
			t.Errorf("%v: exit %d %s (%d requests)", args, r.code, r.stderr, len(fl.Coordinator.Requests()))
		}
	}
}

// clear --server without a prompt clears the server's whole L1: key flags
// given on the command line are refused. (clear --server --cache-salt s
// --yes cleared every salt's objects, exit 0.)
func TestMPServerClearRefusesKeyFlagsWithoutPrompt(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	mp := fl.Servers[0]
	for _, extra := range [][]string{{"--cache-salt", "user-a"}, {"--model", model}, {"--world-size", "2"}} {
		r := runLMC(t, runOpts{}, append([]string{"clear", "--server", mp.URL(), "--yes"}, extra...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "selects a prompt's keys, and there is no prompt: clear --server clears the server's whole L1") {
			t.Errorf("%v: exit %d %s", extra, r.code, r.stderr)
		}
	}
	if n := mp.L1Len(); n != 2 {
		t.Fatalf("L1 holds %d of 2 objects", n)
	}
	// With the prompt, the key flags select its keys.
	r := runLMC(t, runOpts{}, "clear", "--server", mp.URL(), "--yes", "--model", model, "--tier", "l1", "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 || mp.L1Len() != 0 {
		t.Fatalf("with the prompt: exit %d %s (L1 %d)", r.code, r.stderr, mp.L1Len())
	}
}

// --timeout, when given, bounds the whole --wait of prefetch and move
// --coordinator, as it does for move --master and task get: exit 1, the
// job's id named. (It bounded each poll only: the wait never ended.)
func TestCoordinatorWaitTimeout(t *testing.T) {
	fl := startFleet(t, 2, sandboxcoordinator.FleetConfig{Model: model, Generation: sandboxcoordinator.GenMoves, SharedL2: true,
		MPOptions: []sandboxcoordinator.MPOption{sandboxcoordinator.WithPrefetchPolls(1 << 20)}})
	s := fl.Servers[0]
	for _, tier := range []string{"l1", "l2"} {
		if _, err := s.Store(tier, seqU32(0, 600), model, 1, ""); err != nil {
			t.Fatal(err)
		}
	}
	c := fl.Coordinator.URL()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prefetch", "--coordinator", c, "--instance", "server-1"}, "was still running when --timeout 500ms ended the wait: 'lmc prefetch --coordinator"},
		{[]string{"move", "--coordinator", c, "--from", "server-1", "--to", "server-2"}, "was still running when --timeout 500ms ended the wait (it keeps running on the coordinator)"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		r := runLMCCtx(t, ctx, append(tc.args, "--model", model, "--tokens", seqTokens(600), "--wait", "--interval", "100ms", "--timeout", "500ms")...)
		cancel()
		if r.code != ExitFailed || !strings.Contains(r.stderr, tc.want) || time.Since(start) > 5*time.Second {
			t.Errorf("%s: exit %d %q after %s", tc.args[0], r.code, r.stderr, time.Since(start))
		}
	}
}

// The coordinator and MP server verbs refuse --worker-id, --dtype and
// --tag: MP-mode keys carry none of them, so every rank's untagged key
// went (exit 0).
func TestCoordinatorVerbsRefuseNonMPKeyFlags(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c, s1 := fl.Coordinator.URL(), fl.Servers[0].URL()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"clear", "--coordinator", c, "--instance", "server-1", "--yes", "--tag", "user=a"}, "--tag is not part of LMCache MP-mode keys"},
		{[]string{"clear", "--coordinator", c, "--instance", "server-1", "--yes", "--world-size", "2", "--worker-id", "1"}, "--worker-id is not part of LMCache MP-mode keys"},
		{[]string{"clear", "--server", s1, "--yes", "--dtype", "float16"}, "lmc clear --server would ignore it"},
		{[]string{"move", "--coordinator", c, "--from", "server-1", "--to", "server-2", "--tag", "user=a"}, "lmc move --coordinator would ignore it"},
	} {
		fl.Coordinator.ResetRequests()
		r := runLMC(t, runOpts{}, append(tc.args, "--model", model, "--tokens", seqTokens(600))...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
		if _, sent := fl.Coordinator.LastRequest("POST", "/cache/delete"); sent {
			t.Errorf("%v: a delete was sent", tc.args)
		}
	}
	if n := fl.Servers[0].L1Len(); n != 2 {
		t.Fatalf("L1 holds %d of 2 objects", n)
	}
}

// A coordinator or MP server dry run's -o plain row ends with dry-run, as
// the controller verbs' rows do: without it, it read like a result.
func TestCoordinatorDryRunPlainRow(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	for _, args := range [][]string{
		{"clear", "--server", fl.Servers[0].URL()},
		{"pin", "--coordinator", fl.Coordinator.URL(), "--model", model, "--tokens", seqTokens(600)},
	} {
		r := runLMC(t, runOpts{}, append(args, "--dry-run", "-o", "plain")...)
		if r.code != 0 || !strings.HasSuffix(strings.TrimSpace(r.stdout), "\tdry-run") {
			t.Errorf("%v: exit %d %q %s", args, r.code, r.stdout, r.stderr)
		}
	}
}
