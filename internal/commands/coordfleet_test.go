package commands

import (
	"strings"
	"testing"

	"lmc/internal/coordinatorclient/sandboxcoordinator"
)

func TestCoordinatorHealthWorkersStats(t *testing.T) {
	fl := startFleet(t, 2, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c := fl.Coordinator.URL()
	r := runLMC(t, runOpts{}, "health", "--coordinator", c, "--instance", "server-2", "-o", "json")
	h := decodeJSON[struct {
		Coordinator struct {
			URL        string `json:"url"`
			OK         bool   `json:"ok"`
			Status     string `json:"status"`
			Instances  int    `json:"instances"`
			Generation struct {
				Name     string `json:"name"`
				Source   string `json:"source"`
				Features []struct {
					Feature string `json:"feature"`
					Support string `json:"support"`
				} `json:"features"`
			} `json:"generation"`
			Instance *struct {
				InstanceID string `json:"instance_id"`
			} `json:"instance"`
		} `json:"coordinator"`
	}](t, r.stdout)
	if r.code != 0 || !h.Coordinator.OK || h.Coordinator.Status != "healthy" || h.Coordinator.Instances != 2 || h.Coordinator.Instance == nil ||
		h.Coordinator.Generation.Source != "openapi.json" || len(h.Coordinator.Generation.Features) == 0 {
		t.Fatalf("health %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	r = runLMC(t, runOpts{}, "health", "--coordinator", c, "--instance", "server-7")
	if r.code != ExitFailed || !strings.Contains(r.stderr, `instance "server-7" is not registered (registered: server-1, server-2)`) || !strings.Contains(r.stdout, "not registered") {
		t.Fatalf("health missing instance %d %s\n%s", r.code, r.stderr, r.stdout)
	}

	r = runLMC(t, runOpts{}, "workers", "--coordinator", c, "-o", "json")
	w := decodeJSON[struct {
		Source       string `json:"source"`
		HasP2PFields bool   `json:"has_p2p_fields"`
		Instances    []struct {
			InstanceID       string  `json:"instance_id"`
			IP               string  `json:"ip"`
			HTTPPort         int     `json:"http_port"`
			RegistrationTime float64 `json:"registration_time"`
			P2P              string  `json:"p2p_advertised_url"`
			MQPort           int     `json:"mq_port"`
			HeartbeatAgeS    float64 `json:"heartbeat_age_s"`
			HeartbeatExact   bool    `json:"heartbeat_age_exact"`
		} `json:"instances"`
	}](t, r.stdout)
	if r.code != 0 || w.Source != "coordinator" || !w.HasP2PFields || len(w.Instances) != 2 || w.Instances[0].InstanceID != "server-1" || w.Instances[0].IP != "127.0.0.1" ||
		w.Instances[0].HTTPPort == 0 || w.Instances[0].HeartbeatExact || w.Instances[0].HeartbeatAgeS > 40 {
		t.Fatalf("workers %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	r = runLMC(t, runOpts{}, "workers", "--coordinator", c, "--instance", "server-2", "-o", "table")
	if r.code != 0 || !strings.Contains(r.stdout, "server-2") || strings.Contains(r.stdout, "server-1 ") || !strings.Contains(r.stdout, "≤ ") {
		t.Fatalf("workers table %d\n%s", r.code, r.stdout)
	}

	// §6.7's example state: 2 keys, 3 placements, 2 L1 keys on server-1.
	r = runLMC(t, runOpts{}, "stats", "--coordinator", c, "-o", "json")
	st := decodeJSON[struct {
		NumKeys          int64            `json:"num_keys"`
		NumPlacements    int64            `json:"num_placements"`
		L1KeysByInstance map[string]int64 `json:"l1_keys_by_instance"`
		TierTotals       struct {
			L1SizeBytes int64 `json:"l1_size_bytes"`
			FromStats   bool  `json:"from_stats"`
		} `json:"tier_totals"`
	}](t, r.stdout)
	if r.code != 0 || st.NumKeys != 2 || st.NumPlacements != 3 || st.L1KeysByInstance["server-1"] != 2 || st.L1KeysByInstance["server-2"] != 0 || !st.TierTotals.FromStats || st.TierTotals.L1SizeBytes != 67108864 {
		t.Fatalf("stats %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	r = runLMC(t, runOpts{}, "stats", "--coordinator", c, "-o", "table")
	if !strings.Contains(r.stdout, "2 keys, 3 placements in the coordinator's directory; L1 2 placements (64.0 MiB), L2 1 (32.0 MiB)") {
		t.Fatalf("stats table\n%s", r.stdout)
	}
}

// §8.5: usage per instance, unknown ratio kept null (never 0).
func TestCoordinatorUsage(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c := fl.Coordinator.URL()
	r := runLMC(t, runOpts{}, "usage", "--coordinator", c, "-o", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	want := `"modules": [
        {
          "tier": "l1",
          "backend": "dram",
          "shared": false,
          "used_bytes": 67108864,
          "capacity_bytes": 42949672960,
          "usage_ratio": 0.0015625
        },
        {
          "tier": "l2",
          "backend": "fs",
          "shared": false,
          "used_bytes": 33554432,
          "capacity_bytes": 0,
          "usage_ratio": null
        }
      ]`
	if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, `"shared_modules": []`) || !strings.Contains(r.stdout, `"registered": true`) {
		t.Fatalf("usage:\n%s", r.stdout)
	}
	r = runLMC(t, runOpts{}, "usage", "--coordinator", c, "-o", "table")
	golden(t, "coordinator/usage-table", r.stdout)
	r = runLMC(t, runOpts{}, "usage", "--coordinator", c, "--instance", "nope")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "unknown instance 'nope'") {
		t.Fatalf("unknown instance %d %s", r.code, r.stderr)
	}
}

// §8.6's quota session, with the writes guarded.
func TestCoordinatorQuota(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c := fl.Coordinator.URL()
	q := func(args ...string) result {
		return runLMC(t, runOpts{}, append(append([]string{"quota"}, args...), "--coordinator", c)...)
	}
	if r := q("set", "_default", "10"); r.code != ExitUsage || !strings.Contains(r.stderr, "refusing to change a quota without --yes") {
		t.Fatalf("unguarded %d %s", r.code, r.stderr)
	}
	if r := q("set", "_default", "10", "--dry-run", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"request": "PUT `+c+`/quota/_default {\"limit_gb\": 10}"`) {
		t.Fatalf("dry run %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	if _, sent := fl.Coordinator.LastRequest("PUT", "/quota/_default"); sent {
		t.Fatal("a dry run set the quota")
	}
	if r := q("set", "_default", "10", "--yes", "--verify"); r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	if req, _ := fl.Coordinator.LastRequest("PUT", "/quota/_default"); req.Body != `{"limit_gb":10}` {
		t.Fatalf("body %s", req.Body)
	}
	if r := q("set", "user-a", "5.5", "--yes"); r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	r := q("list", "-o", "json")
	l := decodeJSON[struct {
		Tier    string  `json:"tier"`
		TotalGB float64 `json:"total_gb"`
		Quotas  []struct {
			CacheSalt    string  `json:"cache_salt"`
			QuotaLimitGB float64 `json:"quota_limit_gb"`
			QuotaExists  bool    `json:"quota_exists"`
			UsageGB      float64 `json:"usage_gb"`
		} `json:"by_cache_salt"`
		Default struct {
			DefaultLimitGB *float64 `json:"default_limit_gb"`
		} `json:"default"`
	}](t, r.stdout)
	if r.code != 0 || l.Tier != "l2" || l.TotalGB != 0.03125 || len(l.Quotas) != 2 || l.Quotas[0].CacheSalt != "" || l.Quotas[0].QuotaLimitGB != 10 || l.Quotas[0].UsageGB != 0.03125 ||
		l.Quotas[1].CacheSalt != "user-a" || l.Quotas[1].QuotaLimitGB != 5.5 || l.Default.DefaultLimitGB != nil {
		t.Fatalf("list %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	if r := q("list", "--tier", "l1", "-o", "json"); !strings.Contains(r.stdout, `"total_gb": 0.0625`) {
		t.Fatalf("l1 list\n%s", r.stdout)
	}
	if r := q("get", "user-a", "-o", "table"); r.code != 0 || r.stdout != "salt user-a: quota 5.5 GiB, 0 GiB used in L2\n" {
		t.Fatalf("get %d %q", r.code, r.stdout)
	}
	if r := q("default", "0", "--yes", "--verify", "-o", "table"); r.code != 0 || !strings.Contains(r.stdout, "! a default of 0 makes every salt without a quota evictable") || !strings.Contains(r.stdout, "verify: default limit 0") {
		t.Fatalf("default 0 %d %s", r.code, r.stderr)
	}
	if req, _ := fl.Coordinator.LastRequest("PUT", "/quota/config"); req.Body != `{"default_limit_gb":0}` {
		t.Fatalf("default body %s", req.Body)
	}
	if r := q("default", "none", "--yes", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"default_limit_gb": null`) {
		t.Fatalf("default none %d %s", r.code, r.stdout)
	}
	if req, _ := fl.Coordinator.LastRequest("PUT", "/quota/config"); req.Body != `{"default_limit_gb":null}` {
		t.Fatalf("default none body %s", req.Body)
	}
	if r := q("delete", "user-a", "--yes", "--verify", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"status": "removed"`) {
		t.Fatalf("delete %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	if r := q("delete", "user-a", "--yes", "-o", "table"); r.code != 0 || !strings.Contains(r.stdout, "salt user-a had no quota: nothing changed") {
		t.Fatalf("second delete %d %q", r.code, r.stdout)
	}
	// The coordinator's 400 for a tier it has no accounting for is bad
	// input; lmc refuses it before.
	if r := q("get", "a", "--tier", "all"); r.code != ExitUsage {
		t.Fatalf("tier all %d", r.code)
	}
}

// The quota writes' dry runs and -o plain rows, to the letter.
func TestCoordinatorQuotaDryRunText(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	c := fl.Coordinator.URL()
	q := func(args ...string) result {
		t.Helper()
		r := runLMC(t, runOpts{}, append(append([]string{"quota"}, args...), "--coordinator", c)...)
		if r.code != 0 {
			t.Fatalf("quota %v: %d %s", args, r.code, r.stderr)
		}
		return r
	}
	q("set", "user-a", "5.5", "--yes")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "user-a", "0.01", "--dry-run", "-o", "table"}, "dry run: would set the L2 quota of salt user-a to 0.01 GiB (now quota 5.5 GiB, 0 GiB used)\n" +
			"would send: PUT " + c + "/quota/user-a {\"limit_gb\": 0.01}\n"},
		{[]string{"set", "_default", "0.01", "--dry-run", "-o", "table"}, "dry run: would set the L2 quota of salt _default to 0.01 GiB (now no quota, 0.03125 GiB used)\n" +
			"would send: PUT " + c + "/quota/_default {\"limit_gb\": 0.01}\n" +
			"! salt _default uses 0.03125 GiB of L2, more than 0.01 GiB: the coordinator will evict its LRU unpinned keys on its next cycle\n"},
		{[]string{"delete", "user-b", "--dry-run", "-o", "table"}, "dry run: would remove the L2 quota of salt user-b (then: no default limit: salts without a quota are exempt from eviction)\n" +
			"would send: DELETE " + c + "/quota/user-b\n! salt user-b has no quota: nothing to remove\n"},
		{[]string{"default", "0", "--dry-run", "-o", "table"}, "dry run: would set the default L2 limit to 0 (now: no default limit: salts without a quota are exempt from eviction)\n" +
			"would send: PUT " + c + "/quota/config {\"default_limit_gb\": 0}\n! a default of 0 makes every salt without a quota evictable on the next eviction cycle\n"},
		{[]string{"list", "-o", "plain"}, "_default\tfalse\t0\t0.03125\nuser-a\ttrue\t5.5\t0\n"},
		{[]string{"get", "user-a", "-o", "plain"}, "user-a\ttrue\t5.5\t0\n"},
	} {
		if r := q(tc.args...); r.stdout != tc.want {
			t.Errorf("quota %v:\n%q\nwant\n%q", tc.args, r.stdout, tc.want)
		}
	}
	if _, sent := fl.Coordinator.LastRequest("DELETE", "/quota/user-b"); sent {
		t.Fatal("a dry run deleted a quota")
	}
}

// --server: the key parameters from an MP server's /status, shown with
// their source by explain and config view --resolved; servers that
// disagree are named.
func TestServerKeyParameters(t *testing.T) {
	a, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPChunkSize(128), sandboxcoordinator.WithMPContext("org/model-x", 4))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPChunkSize(256), sandboxcoordinator.WithMPContext("org/model-x", 4))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := runLMC(t, runOpts{}, "explain", "--server", a.URL(), "--tokens", seqTokens(300), "-o", "json")
	ex := decodeJSON[struct {
		Params struct {
			Model     string            `json:"model"`
			WorldSize int               `json:"world_size"`
			ChunkSize int               `json:"chunk_size"`
			Hash      string            `json:"hash_algorithm"`
			KeySchema string            `json:"key_schema"`
			Sources   map[string]string `json:"sources"`
		} `json:"params"`
		NumChunks int `json:"num_chunks"`
	}](t, r.stdout)
	src := "MP server " + a.URL() + " (/status chunk_size)"
	if r.code != 0 || ex.Params.Model != "org/model-x" || ex.Params.WorldSize != 4 || ex.Params.ChunkSize != 128 || ex.Params.Hash != "blake3" || ex.Params.KeySchema != "mp" ||
		ex.Params.Sources["chunk_size"] != src || ex.Params.Sources["world_size"] == "" || ex.NumChunks != 2 {
		t.Fatalf("explain %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	r = runLMC(t, runOpts{}, "config", "view", "--resolved", "--server", a.URL(), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"setting": "chunk-size",
      "value": "128",
      "source": "`+src+`"`) || !strings.Contains(r.stdout, `"setting": "world-size",
      "value": "4",
      "source": "MP server `) {
		t.Fatalf("config view %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// A flag wins, with a warning; two servers that disagree are named.
	r = runLMC(t, runOpts{}, "keys", "--server", a.URL(), "--server", b.URL(), "--chunk-size", "256", "--tokens", seqTokens(300), "-o", "plain")
	if r.code != 0 || !strings.Contains(r.stderr, "MP servers disagree on the chunk size: "+a.URL()+" has 128, "+b.URL()+" 256") ||
		!strings.Contains(r.stderr, "--chunk-size 256 (flag --chunk-size) differs from "+a.URL()+"'s chunk_size 128") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("keys %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// doctor --coordinator compares the servers too.
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	r = runLMC(t, runOpts{}, "doctor", "--coordinator", fl.Coordinator.URL(), "--server", fl.Servers[0].URL(), "--server", a.URL(), "-o", "json")
	if v := decodeJSON[coordDoctorJSON](t, r.stdout); r.code != 0 || v.Outcome != "cause-found" || v.Findings[0].Kind != findServersDisagree {
		t.Fatalf("doctor servers %d %s\n%s", r.code, r.stderr, r.stdout)
	}
}

// A context may hold a store, a controller and a coordinator: a backend
// named on the command line replaces the context's other kinds.
func TestCoordinatorInContext(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	store600(t, fl, 1)
	_, ctrl := startController(t)
	cfg := writeFile(t, "config.yaml", "current-context: mp\ncontexts:\n  mp:\n    coordinator: "+fl.Coordinator.URL()+"\n    controller: "+ctrl+"\n    model: "+model+"\n  coord:\n    coordinator: "+fl.Coordinator.URL()+"\n    model: "+model+"\n")
	env := map[string]string{"LMC_CONFIG": cfg}
	r := runLMC(t, runOpts{env: env}, "workers", "-o", "json")
	if r.code != 0 || strings.Contains(r.stdout, `"source": "coordinator"`) {
		t.Fatalf("context prefers the controller for workers: %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	r = runLMC(t, runOpts{env: env}, "workers", "--coordinator", fl.Coordinator.URL(), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"source": "coordinator"`) {
		t.Fatalf("--coordinator on the line: %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	r = runLMC(t, runOpts{env: env}, "workers", "--controller", ctrl, "-o", "json")
	if r.code != 0 || strings.Contains(r.stdout, `"source": "coordinator"`) {
		t.Fatalf("--controller on the line: %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{env: env}, "lookup", "--context", "coord", "--tokens", seqTokens(600), "-o", "json")
	if v := decodeJSON[coordLookupJSON](t, r.stdout); r.code != 0 || v.Source != "coordinator" || v.HitTokens != 512 {
		t.Fatalf("lookup from a context: %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{env: env}, "config", "view", "--resolved", "-o", "json")
	if !strings.Contains(r.stdout, `"setting": "coordinator",
      "value": "`+fl.Coordinator.URL()+`",
      "source": "context mp"`) {
		t.Fatalf("config view:\n%s", r.stdout)
	}
}

// lmc sandbox --coordinator-addr, as a process: the fleet and the master
// populated alike, lookup --coordinator and lookup --master agree.
func TestSandboxCoordinatorProcess(t *testing.T) {
	prompt := writeFile(t, "prompt.json", "["+seqTokens(1100)+"]")
	cmd, line, v, stderr := startSandboxProcess(t, "--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0",
		"--coordinator-addr", "127.0.0.1:0", "--mp-servers", "2", "-o", "json", "--populate", prompt, "--model", model, "--drop-chunks", "2")
	if v.Coordinator == "" || len(v.MPServers) != 2 || v.Stored != 3 {
		t.Fatalf("%q", line)
	}
	co, code1 := runProcess(t, "lookup", "--coordinator", v.Coordinator, "--server", v.MPServers["server-1"], "-o", "json", prompt)
	mo, code2 := runProcess(t, "lookup", "--master", v.Master, "--key-schema", "mp", "--model", model, "-o", "json", prompt)
	cv, mv := decodeJSON[coordLookupJSON](t, co), decodeJSON[coordLookupJSON](t, mo)
	if code1 != 0 || code2 != 0 || cv.HitTokens != 512 || mv.HitTokens != 512 || cv.Unusable != 1 || mv.Unusable != 1 || cv.Chunks[3].Key != mv.Chunks[3].Key {
		t.Fatalf("coordinator %d %+v\nmaster %d %+v", code1, cv, code2, mv)
	}
	out, code := runProcess(t, "workers", "--coordinator", v.Coordinator, "-o", "plain")
	if code != 0 || !strings.HasPrefix(out, "server-1\t127.0.0.1\t") {
		t.Fatalf("workers %d %s", code, out)
	}
	interruptSandbox(t, cmd, stderr)
	if !strings.Contains(stderr.String(), "lmc lookup --coordinator "+v.Coordinator) {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// A peer's text with control characters is escaped in tables and lines,
// kept exact in JSON.
func TestCoordinatorEscapesPeerText(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model, MPOptions: []sandboxcoordinator.MPOption{sandboxcoordinator.WithMPInstanceID("srv\x1b]0;pwned\x07")}})
	if _, err := fl.Servers[0].Store("l1", seqU32(0, 256), model, 1, ""); err != nil {
		t.Fatal(err)
	}
	c := fl.Coordinator.URL()
	for _, args := range [][]string{
		{"workers", "--coordinator", c, "-o", "table"},
		{"lookup", "--coordinator", c, "--model", model, "--tokens", seqTokens(256), "-o", "table"},
		{"stats", "--coordinator", c, "-o", "table"},
		{"usage", "--coordinator", c, "-o", "table"},
		{"health", "--coordinator", c, "--instance", "x", "-o", "table"},
	} {
		r := runLMC(t, runOpts{}, args...)
		if strings.ContainsAny(r.stdout+r.stderr, "\x1b\x07") {
			t.Errorf("%s: raw control characters:\n%q\n%q", args[0], r.stdout, r.stderr)
		}
	}
	r := runLMC(t, runOpts{}, "workers", "--coordinator", c, "-o", "json")
	if !strings.Contains(r.stdout, `"instance_id": "srv\u001b]0;pwned\u0007"`) {
		t.Errorf("JSON: %s", r.stdout)
	}
}

// quota default without a value reads: --dry-run, --verify and --yes,
// which belong to setting it, are refused. (They were ignored, exit 0.)
func TestCoordinatorQuotaDefaultReadRefusesWriteFlags(t *testing.T) {
	fl := startFleet(t, 1, sandboxcoordinator.FleetConfig{Model: model})
	c := fl.Coordinator.URL()
	for _, fl := range []string{"--dry-run", "--verify", "--yes"} {
		r := runLMC(t, runOpts{}, "quota", "default", "--coordinator", c, fl)
		if r.code != ExitUsage || !strings.Contains(r.stderr, fl+" applies to setting the default (lmc quota default GIB|none)") {
			t.Errorf("%s: exit %d %s", fl, r.code, r.stderr)
		}
	}
	if r := runLMC(t, runOpts{}, "quota", "default", "--coordinator", c); r.code != 0 {
		t.Fatalf("read: exit %d %s", r.code, r.stderr)
	}
}
