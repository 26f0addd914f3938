package commands

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

type summaryJSON struct {
	Keys    int64 `json:"keys"`
	Schemas []struct {
		Engine     string   `json:"engine"`
		Format     string   `json:"format"`
		KeySchemas []string `json:"key_schemas"`
		Model      string   `json:"model"`
		WorldSize  int      `json:"world_size"`
		DType      string   `json:"dtype"`
		CacheSalt  string   `json:"cache_salt"`
		Algorithms []string `json:"algorithms"`
		Keys       int64    `json:"keys"`
		Workers    []struct {
			WorkerID int   `json:"worker_id"`
			Keys     int64 `json:"keys"`
		} `json:"workers"`
		// SGLang and vLLM groups
		Writer    string         `json:"writer"`
		Layout    string         `json:"layout"`
		Prefix    string         `json:"prefix"`
		HashBytes int            `json:"hash_bytes"`
		Ranks     []rankKeysView `json:"ranks"`
	} `json:"schemas"`
	Unrecognised struct {
		Keys     int64    `json:"keys"`
		Examples []string `json:"examples"`
	} `json:"unrecognised"`
	Tiers []struct {
		Tier     string `json:"tier"`
		Keys     int64  `json:"keys"`
		Replicas int64  `json:"replicas"`
		Bytes    uint64 `json:"bytes"`
	} `json:"tiers"`
	Segments []struct {
		Name         string   `json:"name"`
		Status       string   `json:"status"`
		ClientIPs    []string `json:"client_ips"`
		Replicas     int64    `json:"replicas"`
		ReplicaBytes uint64   `json:"replica_bytes"`
		UsedBytes    uint64   `json:"used_bytes"`
	} `json:"segments"`
}

// A store with two key groups (world size 2 over two ranks, and another
// model), other engines' keys, a disk tier and a draining segment.
func TestStoreSummary(t *testing.T) {
	s := opsMaster(t, sandboxmaster.WithStorageRoot("/mnt/mc"))
	rk := rankKeys(t, 768, 2)
	ctx := context.Background()
	if err := s.Populate(ctx, rk[0], nodeA); err != nil {
		t.Fatal(err)
	}
	if err := s.Populate(ctx, rk[1][:2], nodeB); err != nil {
		t.Fatal(err)
	}
	other := []string{"Qwen/Qwen3-8B@1@0@1a2b3c4d5e6f7081@bfloat16", "Qwen/Qwen3-8B@1@0@-2b3c4d5e6f708192@bfloat16"}
	if err := s.Populate(ctx, append(other, "sglang:abc", "weird,key"), nodeB); err != nil {
		t.Fatal(err)
	}
	s.EvictMemory(other[0]) // on disk only
	if err := s.SetSegmentStatus(nodeB.Name, mooncake.SegmentDraining); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "store", "summary", "--admin", s.AdminURL(), "--master", s.Addr(), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	v := decodeJSON[summaryJSON](t, r.stdout)
	if v.Keys != 9 || len(v.Schemas) != 2 || v.Unrecognised.Keys != 1 || v.Unrecognised.Examples[0] != "sglang:abc" {
		t.Fatalf("summary %+v", v)
	}
	g := v.Schemas[0]
	if g.Engine != "lmcache" || g.Model != model || g.WorldSize != 2 || g.Keys != 5 || g.Format != "current" || g.DType != "bfloat16" ||
		len(g.Workers) != 2 || g.Workers[0].Keys != 3 || g.Workers[1].Keys != 2 || !slices.Contains(g.Algorithms, "builtin") || !slices.Contains(g.KeySchemas, "current") {
		t.Errorf("group 0 %+v", g)
	}
	if q := v.Schemas[1]; q.Model != "Qwen/Qwen3-8B" || q.Keys != 2 || q.WorldSize != 1 {
		t.Errorf("group 1 %+v", q)
	}
	tiers := map[string][3]uint64{}
	for _, tv := range v.Tiers {
		tiers[tv.Tier] = [3]uint64{uint64(tv.Keys), uint64(tv.Replicas), tv.Bytes}
	}
	// 8 keys on disk, 7 in memory ("weird,key" cannot be looked up, one Qwen key was evicted from memory)
	if tiers["memory"] != [3]uint64{7, 7, 7 * 4096} || tiers["disk"] != [3]uint64{8, 8, 8 * 4096} {
		t.Errorf("tiers %v (stdout %s)", tiers, r.stdout)
	}
	if len(v.Segments) != 2 || v.Segments[0].Replicas != 3 || v.Segments[1].Replicas != 4 || v.Segments[1].Status != "DRAINING" || !slices.Equal(v.Segments[0].ClientIPs, []string{"127.0.0.1"}) {
		t.Errorf("segments %+v", v.Segments)
	}
	if s.HasLease(rk[0][0]) {
		t.Error("the summary granted a lease")
	}
	for name := range s.Calls() {
		if name != "BatchQueryIp" && name != "MountSegment" && name != "ReMountSegment" && name != "PutStart" && name != "PutEnd" && name != "Ping" {
			t.Errorf("the summary called %s", name)
		}
	}
	r = runLMC(t, runOpts{tty: true}, "store", "summary", "--admin", s.AdminURL())
	for _, want := range []string{"0 vanished during the walk, 1 unreadable", "current,2026-01  meta-llama", "0:3 1:2", "(unrecognised)", "DRAINING", "disk    8"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestStoreLs(t *testing.T) {
	s := opsMaster(t, sandboxmaster.WithStorageRoot("/mnt/mc"))
	keys := keysFor(t, 1024, "builtin")
	twoNodes(t, s, keys[:2])
	if err := s.Populate(context.Background(), append(keys[2:], "zz-other"), nodeB); err != nil {
		t.Fatal(err)
	}
	s.EvictMemory(keys[3])
	ls := func(args ...string) []string {
		t.Helper()
		r := runLMC(t, runOpts{}, append([]string{"store", "ls", "--admin", s.AdminURL()}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: %d %s", args, r.code, r.stderr)
		}
		out := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.stdout == "" {
			out = nil
		}
		return out
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	if got := ls("--sort"); !slices.Equal(got, sorted(append(slices.Clone(keys), "zz-other"))) {
		t.Errorf("all, sorted: %v", got)
	}
	if got := ls("--model", model); len(got) != 4 || slices.Contains(got, "zz-other") {
		t.Errorf("--model: %v", got)
	}
	if got := ls("--match", "^zz"); !slices.Equal(got, []string{"zz-other"}) {
		t.Errorf("--match: %v", got)
	}
	if got := ls("--segment", nodeA.Name, "--sort"); !slices.Equal(got, sorted(keys[:2])) {
		t.Errorf("--segment: %v", got)
	}
	if got := ls("--tier", "disk"); len(got) != 5 {
		t.Errorf("--tier disk: %v", got)
	}
	lines := ls("--tier", "memory", "--model", model, "-o", "jsonl")
	if len(lines) != 3 {
		t.Fatalf("jsonl: %v", lines)
	}
	for _, l := range lines {
		e := decodeJSON[lsEntry](t, l)
		if e.Engine != "lmcache" || e.Model != model || *e.WorkerID != 0 || len(e.Replicas) != 2 || e.Replicas[0].Tier != "memory" || e.Replicas[0].Segment == "" || e.Replicas[1].Path == "" {
			t.Errorf("entry %s", l)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tier", "ssd"}, `--tier "ssd": use one of memory, nof, disk, local_disk`},
		{[]string{"--segment", "127.0.0.1:1777"}, "--segment 127.0.0.1:1777: no segment of that name is mounted on the master (segments: 127.0.0.1:17777, 127.0.0.1:17778); did you mean"},
		{[]string{"--match", "(?i)x"}, "--match: invalid ECMAScript regex"},
		{[]string{"-o", "json"}, `unsupported output format "json": use one of table, wide, plain, jsonl`},
	} {
		r := runLMC(t, runOpts{}, append([]string{"store", "ls", "--admin", s.AdminURL()}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %d %s", tc.args, r.code, r.stderr)
		}
	}
	r := runLMC(t, runOpts{}, "store", "ls")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--admin URL is required") {
		t.Errorf("no --admin: %d %s", r.code, r.stderr)
	}
}

func TestStoreSegments(t *testing.T) {
	s := startMaster(t)
	twoNodes(t, s, keysFor(t, 512, "builtin"))
	if err := s.SetSegmentStatus(nodeA.Name, mooncake.SegmentDrained); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "store", "segments", "--admin", s.AdminURL(), "--master", s.Addr(), "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	v := decodeJSON[segmentsView](t, r.stdout)
	if len(v.Segments) != 2 || v.Segments[0].Name != nodeA.Name || v.Segments[0].Status != "DRAINED" || v.Segments[0].UsedBytes != 2*4096 ||
		v.Segments[1].FreeBytes != 1<<30 || v.Total.Segments != 2 || v.Total.Clients != 1 || !slices.Equal(v.Segments[1].ClientIPs, []string{"127.0.0.1"}) {
		t.Fatalf("%+v", v)
	}
	r = runLMC(t, runOpts{}, "store", "segments", "--admin", s.AdminURL(), "-o", "wide")
	if r.code != 0 || !strings.Contains(r.stdout, "DRAINED") || !strings.Contains(r.stdout, "0x10000000000") {
		t.Errorf("wide: %s", r.stdout)
	}
}

// A listing that stops sending is a stall after --timeout (exit 3), not a
// hang; a listing that keeps sending may take longer than --timeout.
func TestStoreWalkStall(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/get_all_keys":
			for i := 0; i < 20; i++ {
				fmt.Fprintf(w, "k%d\n", i)
				w.(http.Flusher).Flush()
				if r.URL.Query().Get("slow") == "" {
					time.Sleep(50 * time.Millisecond)
				}
			}
			if strings.Contains(r.Header.Get("User-Agent"), "lmc") && r.Host != "" && stallMode.Load() {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	stallMode.Store(false)
	start := time.Now()
	// Gaps of 50 ms under a 500-ms idle bound (a wide margin for a loaded
	// machine), a second in all: the walk's deadline is per wait for data,
	// not for the whole listing.
	r := runLMC(t, runOpts{}, "store", "ls", "--admin", ts.URL, "--timeout", "500ms", "-o", "plain")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 20 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("slow but steady listing: %d %q %s after %s", r.code, r.stdout, r.stderr, time.Since(start))
	}
	stallMode.Store(true)
	r = runLMC(t, runOpts{}, "store", "ls", "--admin", ts.URL, "--timeout", "300ms", "-o", "plain")
	if r.code != ExitUnavailable || !strings.Contains(r.stderr, "no data for 300ms") {
		t.Fatalf("stalled listing: %d %q %s", r.code, r.stdout, r.stderr)
	}
}

// Ctrl-C during a walk ends it at once (exit 130), whatever the listing
// still holds.
func TestStoreWalkInterrupt(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "k%d\n", i); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}))
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, out, errOut := iostreamsTest()
	done := make(chan int)
	go func() {
		done <- Main(ctx, ios, []string{"store", "ls", "--admin", ts.URL, "-o", "plain"}, BuildInfo{Version: "t"})
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != ExitInterrupted || !strings.Contains(errOut.String(), "lmc: interrupted") || !strings.HasPrefix(out.String(), "k0\n") {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not end the walk")
	}
}
