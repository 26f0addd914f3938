package commands

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"lmc/internal/coordinatorclient/sandboxcoordinator"
)

type coordPlacementJSON struct {
	InstanceID string `json:"instance_id"`
	Tier       string `json:"tier"`
	Backend    string `json:"backend"`
	SizeBytes  int64  `json:"size_bytes"`
	Shared     bool   `json:"shared"`
	Match      bool   `json:"match"`
}

type coordLookupJSON struct {
	Source        string `json:"source"`
	Backend       string `json:"backend"`
	TotalTokens   int    `json:"total_tokens"`
	HitTokens     int    `json:"hit_tokens"`
	HitChunks     int    `json:"hit_chunks"`
	NumChunks     int    `json:"num_chunks"`
	Unusable      int    `json:"unusable_hits"`
	RankHitTokens []int  `json:"rank_hit_tokens"`
	Form          string `json:"form"`
	Route         string `json:"route"`
	ChunkSize     int    `json:"chunk_size"`
	Filter        string `json:"filter"`
	Chunks        []struct {
		Index      int                  `json:"index"`
		Start      int                  `json:"start"`
		End        int                  `json:"end"`
		Hash       string               `json:"hash"`
		Key        string               `json:"key"`
		Status     string               `json:"status"`
		Usable     bool                 `json:"usable"`
		Replicas   []any                `json:"replicas"`
		Placements []coordPlacementJSON `json:"placements"`
		Ranks      []struct {
			Rank       int                  `json:"rank"`
			Key        string               `json:"key"`
			Status     string               `json:"status"`
			Placements []coordPlacementJSON `json:"placements"`
		} `json:"ranks"`
	} `json:"chunks"`
	RankHoles []struct {
		Chunk        int   `json:"chunk"`
		MissingRanks []int `json:"missing_ranks"`
	} `json:"rank_holes"`
	Holders []struct {
		InstanceID string `json:"instance_id"`
		Tier       string `json:"tier"`
		Backend    string `json:"backend"`
		HitTokens  int    `json:"hit_tokens"`
	} `json:"holders"`
	Generation struct {
		Name string `json:"name"`
		Text string `json:"text"`
	} `json:"generation"`
	Params struct {
		ChunkSize int               `json:"chunk_size"`
		KeySchema string            `json:"key_schema"`
		Sources   map[string]string `json:"sources"`
	} `json:"params"`
}

// The spec's §8.2 lookup, on a fleet whose server-1 stored tokens 0..599
// as in §8.1: the request body byte for byte, the answer per chunk with
// its placements, the prefix hit under each filter.
func TestCoordinatorLookupSpecExample(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	fl.Coordinator.ResetRequests()
	c := fl.Coordinator.URL()
	r := runLMC(t, runOpts{}, "lookup", "--coordinator", c, "--model", model, "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	req, ok := fl.Coordinator.LastRequest("POST", "/directory/lookup")
	want := `{"token_ids":[` + seqTokens(600) + `],"model_name":"meta-llama/Llama-3.1-8B-Instruct","world_size":1,"cache_salt":""}`
	if !ok || req.Body != want {
		t.Fatalf("request body:\n%s\nwant the spec's §8.2 body", req.Body)
	}
	v := decodeJSON[coordLookupJSON](t, r.stdout)
	if v.Source != "coordinator" || v.Backend != c || v.TotalTokens != 600 || v.HitTokens != 512 || v.HitChunks != 2 || v.NumChunks != 2 || v.Form != "tokens" || v.Route != "/directory/lookup" {
		t.Fatalf("%+v", v)
	}
	c0, c1 := v.Chunks[0], v.Chunks[1]
	if c0.Hash != mpHash0 || c1.Hash != mpHash1 || c0.Key != model+"@01000100@"+mpHash0 || c0.Start != 0 || c0.End != 256 || c1.End != 512 {
		t.Fatalf("chunks %+v", v.Chunks)
	}
	// §8.2: chunk 0 in l1/dram then l2/fs, chunk 1 in l1 only; 32 MiB each.
	if len(c0.Placements) != 2 || c0.Placements[0].Tier != "l1" || c0.Placements[0].Backend != "dram" || c0.Placements[1].Backend != "fs" ||
		c0.Placements[0].SizeBytes != 33554432 || c0.Placements[0].InstanceID != "server-1" || len(c1.Placements) != 1 || c0.Replicas != nil {
		t.Fatalf("placements %+v / %+v (replicas %v)", c0.Placements, c1.Placements, c0.Replicas)
	}
	if len(v.Holders) != 2 || v.Holders[0].Backend != "dram" || v.Holders[0].HitTokens != 512 || v.Holders[1].HitTokens != 256 {
		t.Fatalf("holders %+v", v.Holders)
	}
	if v.Generation.Name != "2026-09-01" || v.Params.KeySchema != "mp" || !strings.HasPrefix(v.Params.Sources["key_schema"], "implied by --coordinator") {
		t.Fatalf("generation %+v params %+v", v.Generation, v.Params)
	}
	// The same keys as 'lmc keys --key-schema mp'.
	k := runLMC(t, runOpts{}, "keys", "--key-schema", "mp", "--model", model, "--tokens", seqTokens(600), "-o", "plain")
	if !strings.Contains(k.stdout, c0.Key) || !strings.Contains(k.stdout, c1.Key) {
		t.Fatalf("keys --key-schema mp:\n%s\nlookup keys %s %s", k.stdout, c0.Key, c1.Key)
	}

	// Filters: L2 holds only chunk 0; server-2 holds nothing (--min-hit).
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", c, "--model", model, "--tokens", seqTokens(600), "--tier", "l2", "-o", "json")
	if v := decodeJSON[coordLookupJSON](t, r.stdout); r.code != 0 || v.HitTokens != 256 || v.Filter != "tier=l2" || v.Chunks[1].Status != "miss" || !v.Chunks[0].Placements[1].Match || v.Chunks[0].Placements[0].Match {
		t.Fatalf("tier l2: %d %+v", r.code, v)
	}
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", c, "--model", model, "--tokens", seqTokens(600), "--instance", "server-2", "--min-hit", "50%")
	if r.code != ExitBelow || !strings.Contains(r.stderr, "below --min-hit 50%") {
		t.Fatalf("min-hit: %d %s", r.code, r.stderr)
	}
	// The table (not a terminal: no colour, full hashes).
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", c, "--model", model, "--tokens", seqTokens(600), "--tier", "l1", "-o", "table")
	golden(t, "coordinator/lookup-table", r.stdout)
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", c, "--model", model, "--tokens", seqTokens(600), "-o", "plain")
	golden(t, "coordinator/lookup-plain", r.stdout)
}

// --by-keys sends lmc's own MP-mode keys (keys form) and lays the answer
// out like the tokens form.
func TestCoordinatorLookupByKeys(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c := fl.Coordinator.URL()
	r := runLMC(t, runOpts{}, "lookup", "--coordinator", c, "--model", model, "--by-keys", "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	req, _ := fl.Coordinator.LastRequest("POST", "/directory/lookup")
	want := `{"keys":[{"chunk_hash_hex":"` + mpHash0 + `","model_name":"` + model + `","kv_rank":16777472},{"chunk_hash_hex":"` + mpHash1 + `","model_name":"` + model + `","kv_rank":16777472}]}`
	if req.Body != want {
		t.Fatalf("keys-form body %s\nwant %s", req.Body, want)
	}
	v := decodeJSON[coordLookupJSON](t, r.stdout)
	if v.Form != "keys" || v.HitTokens != 512 || v.NumChunks != 2 || v.Chunks[1].Start != 256 || v.Chunks[0].Key != model+"@01000100@"+mpHash0 {
		t.Fatalf("%+v", v)
	}
}

// World size 2: per-rank placements, a rank hole in L2, each rank's own
// run, and the hit only where every rank holds the chunk.
func TestCoordinatorLookupRanks(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, WorldSize: 2})
	s := fl.Servers[0]
	if _, err := s.Store("l2", seqU32(0, 512), model, 2, "", 0); err != nil { // rank 0: chunks 0, 1
		t.Fatal(err)
	}
	if _, err := s.Store("l2", seqU32(0, 256), model, 2, "", 1); err != nil { // rank 1: chunk 0
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "lookup", "--coordinator", fl.Coordinator.URL(), "--server", s.URL(), "--tokens", seqTokens(600), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	v := decodeJSON[coordLookupJSON](t, r.stdout)
	if v.HitTokens != 256 || v.HitChunks != 1 || len(v.RankHitTokens) != 2 || v.RankHitTokens[0] != 512 || v.RankHitTokens[1] != 256 {
		t.Fatalf("hit %+v", v)
	}
	if len(v.RankHoles) != 1 || v.RankHoles[0].Chunk != 1 || len(v.RankHoles[0].MissingRanks) != 1 || v.RankHoles[0].MissingRanks[0] != 1 {
		t.Fatalf("holes %+v", v.RankHoles)
	}
	ranks := v.Chunks[1].Ranks
	if len(ranks) != 2 || ranks[0].Status != "hit" || ranks[1].Status != "miss" || ranks[1].Key != model+"@02010201@"+mpHash1 || len(ranks[0].Placements) != 1 || len(ranks[1].Placements) != 0 {
		t.Fatalf("ranks %+v", ranks)
	}
	// The model and world size came from the MP server's /status.
	if v.Params.Sources["model"] == "" || !strings.HasPrefix(v.Params.Sources["chunk_size"], "MP server ") {
		t.Fatalf("sources %+v", v.Params.Sources)
	}
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", fl.Coordinator.URL(), "--server", s.URL(), "--tokens", seqTokens(600), "-o", "table")
	if !strings.Contains(r.stderr, "rank holes") || !strings.Contains(r.stderr, "chunk 1 lacks rank 1") || !strings.Contains(r.stdout, "1/2 (missing 1)") {
		t.Fatalf("table:\n%s\n%s", r.stdout, r.stderr)
	}
}

// lookup --coordinator and lookup --master agree on a sandbox where the
// directory and the store agree (the MP schema's keys, every rank's, in
// the master); doctor lists every key where they do not.
func TestCoordinatorAndMasterAgree(t *testing.T) {
	ws := 2
	sb, err := startSandbox(sandboxConfig{masterAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0", controllerAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.close()
	fl := startFleet(t, 2, sandboxcoordinator.FleetConfig{Model: model, WorldSize: ws,
		MPOptions: []sandboxcoordinator.MPOption{sandboxcoordinator.WithL2(sandboxcoordinator.NewL2Pool(sandboxMooncakeBackend, "MooncakeStoreL2Adapter", true, 0))}})
	f := testFactory()
	k := DefaultKeyFlags()
	k.Model, k.WorldSize = model, ws
	res, err := f.resolveKeys(context.Background(), &k, sandboxKeySources(f, sandboxConfig{coordinatorAddr: "x"}, &k))
	if err != nil {
		t.Fatal(err)
	}
	stored, total, err := sb.populateFleet(context.Background(), f, fl, res.Params, seqU32(0, 1100), map[int]bool{2: true}, map[int]bool{}, 2)
	if err != nil || stored != 3 || total != 4 {
		t.Fatalf("populate: %d of %d, %v", stored, total, err)
	}
	toks := seqTokens(1100)
	coord := runLMC(t, runOpts{}, "lookup", "--coordinator", fl.Coordinator.URL(), "--server", fl.Servers[0].URL(), "--tokens", toks, "--tier", "l2", "-o", "json")
	master := runLMC(t, runOpts{}, "lookup", "--master", sb.master.Addr(), "--key-schema", "mp", "--model", model, "--world-size", strconv.Itoa(ws), "--all-ranks", "--tokens", toks, "-o", "json")
	if coord.code != 0 || master.code != 0 {
		t.Fatalf("coordinator %d %s\nmaster %d %s", coord.code, coord.stderr, master.code, master.stderr)
	}
	cv, mv := decodeJSON[coordLookupJSON](t, coord.stdout), decodeJSON[coordLookupJSON](t, master.stdout)
	if cv.HitTokens != 512 || mv.HitTokens != cv.HitTokens || mv.HitChunks != cv.HitChunks || mv.NumChunks != cv.NumChunks || mv.Unusable != cv.Unusable || cv.Unusable != 1 {
		t.Fatalf("coordinator hit %d (%d/%d, %d unusable), master %d (%d/%d, %d unusable)", cv.HitTokens, cv.HitChunks, cv.NumChunks, cv.Unusable, mv.HitTokens, mv.HitChunks, mv.NumChunks, mv.Unusable)
	}
	for i := range cv.Chunks {
		if cv.Chunks[i].Key != mv.Chunks[i].Key || cv.Chunks[i].Status != mv.Chunks[i].Status || len(cv.Chunks[i].Ranks) != len(mv.Chunks[i].Ranks) {
			t.Fatalf("chunk %d: coordinator %s %s, master %s %s", i, cv.Chunks[i].Key, cv.Chunks[i].Status, mv.Chunks[i].Key, mv.Chunks[i].Status)
		}
		for j := range cv.Chunks[i].Ranks {
			if cv.Chunks[i].Ranks[j].Key != mv.Chunks[i].Ranks[j].Key || cv.Chunks[i].Ranks[j].Status != mv.Chunks[i].Ranks[j].Status {
				t.Fatalf("chunk %d rank %d: %+v vs %+v", i, j, cv.Chunks[i].Ranks[j], mv.Chunks[i].Ranks[j])
			}
		}
	}
	doc := runLMC(t, runOpts{}, "doctor", "--coordinator", fl.Coordinator.URL(), "--server", fl.Servers[0].URL(), "--admin", sb.master.AdminURL(), "--tokens", toks, "-o", "json")
	dv := decodeJSON[coordDoctorJSON](t, doc.stdout)
	if doc.code != 0 || dv.Store == nil || dv.Store.DirectoryOnly != 0 || dv.Store.StoreOnly != 0 || dv.Store.Both != 6 || dv.Store.Keys != 8 {
		t.Fatalf("doctor (agreeing) %d %s\n%s", doc.code, doc.stderr, doc.stdout)
	}

	// Now they disagree: chunk 1 rank 1 leaves L2 (the directory learns it
	// from the delete event, the store keeps it), and chunk 2 is stored in
	// the fleet's L2 but not in the master.
	if _, err := fl.Servers[1].Store("l2", seqU32(0, 768), model, ws, ""); err != nil {
		t.Fatal(err)
	}
	del := runLMC(t, runOpts{}, "clear", "--coordinator", fl.Coordinator.URL(), "--instance", "server-1", "--server", fl.Servers[0].URL(), "--tier", "l2", "--tokens", seqTokens(512), "--yes", "-o", "json")
	if del.code != 0 {
		t.Fatalf("clear %d %s", del.code, del.stderr)
	}
	// chunks 0 and 1 left L2 (shared pool); put chunk 0 back.
	if _, err := fl.Servers[0].Store("l2", seqU32(0, 256), model, ws, ""); err != nil {
		t.Fatal(err)
	}
	doc = runLMC(t, runOpts{}, "doctor", "--coordinator", fl.Coordinator.URL(), "--server", fl.Servers[0].URL(), "--admin", sb.master.AdminURL(), "--tokens", toks, "-o", "json")
	dv = decodeJSON[coordDoctorJSON](t, doc.stdout)
	if doc.code != 0 || dv.Outcome != "cause-found" || dv.Store == nil || dv.Store.StoreOnly != 2 || dv.Store.DirectoryOnly != 2 || len(dv.Store.Disagreements) != 4 {
		t.Fatalf("doctor (disagreeing) %d %s\n%s", doc.code, doc.stderr, doc.stdout)
	}
	kinds := map[string]bool{}
	for _, fd := range dv.Findings {
		kinds[fd.Kind] = true
	}
	if !kinds[findStoreOnly] || !kinds[findDirectoryOnly] {
		t.Fatalf("findings %+v", dv.Findings)
	}
	d0 := dv.Store.Disagreements[0]
	if d0.Chunk != 1 || d0.Rank != 0 || d0.Directory || !d0.Store || d0.Key != model+"@02000200@"+mpHash1 {
		t.Fatalf("first disagreement %+v", d0)
	}
	txt := runLMC(t, runOpts{}, "doctor", "--coordinator", fl.Coordinator.URL(), "--server", fl.Servers[0].URL(), "--admin", sb.master.AdminURL(), "--tokens", toks)
	if !strings.Contains(txt.stdout, "CHUNK  RANK  KEY") || !strings.Contains(txt.stdout, "store-only:") || !strings.Contains(txt.stdout, "directory-only:") {
		t.Fatalf("doctor text:\n%s", txt.stdout)
	}
}

type coordDoctorJSON struct {
	Outcome  string `json:"outcome"`
	Summary  string `json:"summary"`
	Findings []struct {
		Kind    string `json:"kind"`
		Summary string `json:"summary"`
	} `json:"findings"`
	Hashing *struct {
		Checked            int   `json:"checked"`
		CoordinatorMatches int   `json:"coordinator_matches"`
		LocalMatches       int   `json:"local_matches"`
		ChunkSizes         []int `json:"chunk_sizes"`
	} `json:"hashing"`
	CoordinatorChunks int `json:"coordinator_chunks"`
	Lookup            *struct {
		HitTokens int    `json:"hit_tokens"`
		HashCheck string `json:"hash_check"`
	} `json:"lookup"`
	Store *struct {
		Keys          int `json:"keys"`
		Both          int `json:"both"`
		DirectoryOnly int `json:"directory_only"`
		StoreOnly     int `json:"store_only"`
		Disagreements []struct {
			Chunk     int    `json:"chunk"`
			Rank      int    `json:"rank"`
			Key       string `json:"key"`
			Directory bool   `json:"directory"`
			Store     bool   `json:"store"`
		} `json:"disagreements"`
	} `json:"store"`
	Generation struct {
		Source string `json:"source"`
	} `json:"generation"`
}

// A coordinator that hashes with another chunk size than the MP servers:
// lookup refuses the answer (exit 1, naming --chunk-size), doctor finds it
// from the stored keys and the probe; lmc's own keys with another hash
// are a hash mismatch.
func TestCoordinatorHashingMismatch(t *testing.T) {
	// The coordinator runs with --chunk-size 512, its MP servers with 256.
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, Options: []sandboxcoordinator.Option{sandboxcoordinator.WithChunkSize(512)}})
	mp := fl.Servers[0]
	if _, err := mp.Store("l1", seqU32(0, 600), model, 1, ""); err != nil {
		t.Fatal(err)
	}
	c := fl.Coordinator.URL()
	r := runLMC(t, runOpts{}, "lookup", "--coordinator", c, "--server", mp.URL(), "--tokens", seqTokens(600))
	if r.code != 1 || !strings.Contains(r.stderr, "resolved 1 chunks from 600 tokens; with chunk size 256 there are 2") {
		t.Fatalf("lookup %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "doctor", "--coordinator", c, "--server", mp.URL(), "--tokens", seqTokens(600), "-o", "json")
	v := decodeJSON[coordDoctorJSON](t, r.stdout)
	kinds := map[string]bool{}
	for _, fd := range v.Findings {
		kinds[fd.Kind] = true
	}
	if r.code != 0 || v.Outcome != "cause-found" || !kinds[findCoordChunkSize] || !kinds[findCoordHashing] || v.CoordinatorChunks != 16 || v.Hashing == nil || v.Hashing.LocalMatches != 1 || v.Hashing.CoordinatorMatches != 0 {
		t.Fatalf("doctor %d %s\n%s", r.code, r.stderr, r.stdout)
	}

	// Same chunk size, another hash for lmc: the coordinator's chunk hashes
	// are not lmc's.
	fl2 := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl2, 1)
	r = runLMC(t, runOpts{}, "lookup", "--coordinator", fl2.Coordinator.URL(), "--model", model, "--hash", "sha256", "--hash-seed", "0", "--tokens", seqTokens(600))
	if r.code != 1 || !strings.Contains(r.stderr, "the coordinator resolved chunk 0 to hash 084547b6c40ed5b0") || !strings.Contains(r.stderr, "lmc doctor --coordinator") {
		t.Fatalf("hash mismatch %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "doctor", "--coordinator", fl2.Coordinator.URL(), "--model", model, "--hash", "sha256", "--hash-seed", "0", "--tokens", seqTokens(600), "-o", "json")
	v = decodeJSON[coordDoctorJSON](t, r.stdout)
	if r.code != 0 || v.Lookup == nil || v.Lookup.HashCheck != "mismatch" || v.Findings[0].Kind != findHashMismatch {
		t.Fatalf("doctor hash mismatch %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// The right model under another salt: doctor finds the namespace.
	r = runLMC(t, runOpts{}, "doctor", "--coordinator", fl2.Coordinator.URL(), "--model", model, "--cache-salt", "tenant-b", "--tokens", seqTokens(600), "-o", "json")
	v = decodeJSON[coordDoctorJSON](t, r.stdout)
	if r.code != 0 || len(v.Findings) == 0 || v.Findings[0].Kind != findNamespace || !strings.Contains(v.Findings[0].Summary, `salt ""`) {
		t.Fatalf("doctor namespace %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// All well: exit 0, "full-hit".
	r = runLMC(t, runOpts{}, "doctor", "--coordinator", fl2.Coordinator.URL(), "--server", fl2.Servers[0].URL(), "--tokens", seqTokens(600), "-o", "json")
	v = decodeJSON[coordDoctorJSON](t, r.stdout)
	if r.code != 0 || v.Outcome != "full-hit" || len(v.Findings) != 0 || v.Hashing.CoordinatorMatches == 0 || v.Generation.Source != "openapi.json" {
		t.Fatalf("doctor ok %d %s\n%s", r.code, r.stderr, r.stdout)
	}
}

// --watch on a pipe: one JSON line per prompt per round, until Ctrl-C;
// --save-unfull-chunk does not add a chunk the coordinator never keys.
func TestCoordinatorLookupWatch(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(450*time.Millisecond, cancel)
	r := runLMCCtx(t, ctx, "lookup", "--coordinator", fl.Coordinator.URL(), "--model", model, "--save-unfull-chunk", "--tokens", seqTokens(600), "--watch", "--interval", "100ms")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != ExitInterrupted || len(lines) < 2 || !strings.Contains(lines[0], `"source":"coordinator"`) || !strings.Contains(lines[0], `"hit_tokens":512`) || !strings.Contains(lines[0], `"time":`) {
		t.Fatalf("%d %d lines %q\n%s", r.code, len(lines), r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "the coordinator resolves complete chunks only") {
		t.Fatalf("stderr %s", r.stderr)
	}
}

// lookup --coordinator reports every rank of a chunk: --worker-id 1 was
// dropped and the answer (every rank) came with exit 0.
func TestCoordinatorLookupRefusesWorkerID(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	fl.Coordinator.ResetRequests()
	r := runLMC(t, runOpts{}, "lookup", "--coordinator", fl.Coordinator.URL(), "--model", model, "--world-size", "2", "--worker-id", "1", "--tokens", seqTokens(600))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--worker-id is not part of LMCache MP-mode keys") {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
	if _, sent := fl.Coordinator.LastRequest("POST", "/directory/lookup"); sent {
		t.Fatal("a lookup was sent")
	}
}

// doctor --coordinator checks every rank and dials the master only with
// --master: --worker-id 1 and --tenant t were dropped with exit 0.
func TestCoordinatorDoctorRefusesWorkerIDAndTenant(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--world-size", "2", "--worker-id", "1"}, "--worker-id is not part of LMCache MP-mode keys: doctor --coordinator"},
		{[]string{"--tenant", "t"}, "--tenant is the Mooncake master RPC's tenant, and doctor --coordinator dials no master"},
	} {
		args := append([]string{"doctor", "--coordinator", fl.Coordinator.URL(), "--model", model, "--tokens", seqTokens(600)}, tc.args...)
		if r := runLMC(t, runOpts{}, args...); r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
