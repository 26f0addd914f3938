package sandboxcoordinator

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func batchJSON(inst string, inc, seq int64, typ, tier, backend string, shared bool, entries ...string) string {
	sh := "false"
	if shared {
		sh = "true"
	}
	return `{"instance_id":"` + inst + `","incarnation":` + itoa(inc) + `,"seq":` + itoa(seq) + `,"event_type":"` + typ + `","tier":"` + tier +
		`","backend":"` + backend + `","entries":[` + strings.Join(entries, ",") + `],"shared":` + sh + `,"ts":1.0}`
}

func entryJSON(h string, size int64) string {
	return `{"key":` + key(h) + `,"size_bytes":` + itoa(size) + `}`
}

func events(batches ...string) string { return `{"batches":[` + strings.Join(batches, ",") + `]}` }

// The ingest gate and the directory (spec §7.1, §7.2).
func TestGateAndDirectory(t *testing.T) {
	_, e := seeded(t)
	// A lower incarnation is stale; the same seq a duplicate; a gap is
	// admitted.
	e.expect("POST", "/events", events(batchJSON("server-1", 1, 9, "store", "l1", "dram", false, entryJSON(h1, 1)),
		batchJSON("server-1", 1770000000, 4, "store", "l1", "dram", false, entryJSON(h1, 1)),
		batchJSON("server-1", 1770000000, 7, "access", "l1", "", false, entryJSON(h0, 0), entryJSON(h0, 0)),
		batchJSON("server-1", 1770000000, 8, "access", "l1", "", false, `{"key":{"chunk_hash_hex":"ff","model_name":"m","kv_rank":1}}`)),
		200, `{"applied":2,"duplicates":1,"stale":1}`)
	e.expect("POST", "/directory/lookup", `{"keys":[{"chunk_hash_hex":"`+h0+`","model_name":"`+model+`","kv_rank":16777472},{"chunk_hash_hex":"ff","model_name":"m","kv_rank":1}]}`, 200,
		`{"chunks":2,"results":[{"key":`+key(h0)+`,"placements":[`+plL1+`,`+plL2+`],"token_ids":[`+ints(0, 255)+`],"access_count":2},`+
			`{"key":{"chunk_hash_hex":"ff","model_name":"m","kv_rank":1,"object_group_id":0,"cache_salt":""},"placements":[],"token_ids":[],"access_count":0}]}`)
	// A higher incarnation fences the instance's L1 (L2 stays).
	e.expect("POST", "/events", events(batchJSON("server-1", 1770000100, 1, "config", "l1", "dram", false)), 200, `{"applied":1,"duplicates":0,"stale":0}`)
	e.expect("GET", "/directory/keys", "", 200, `{"total":1,"keys":[{"key":`+key(h0)+`,"placements":[`+plL2+`],"num_tokens":256,"access_count":2}]}`)
	e.expect("GET", "/directory/stats", "", 200, `{"num_keys":1,"num_placements":1,"l1_keys_by_instance":{"server-1":0},`+
		`"blend":{"num_contents":0,"num_chunks":0,"num_claims":0,"num_namespaces":0,"table_size":1024},"l1_count":0,"l1_size_bytes":0,"l2_count":1,"l2_size_bytes":33554432}`)
	// The new incarnation's declaration replaced the old one: l1/dram is
	// declared with no limit, l2/fs no longer declared.
	e.expect("GET", "/instances/server-1/usage", "", 200, `{"instance_id":"server-1","registered":true,"declared_capacity":true,"modules":[`+
		`{"tier":"l1","backend":"dram","shared":false,"used_bytes":0,"capacity_bytes":0,"usage_ratio":null},`+
		`{"tier":"l2","backend":"fs","shared":false,"used_bytes":33554432,"capacity_bytes":0,"usage_ratio":null}]}`)
	// Deleting the last placement drops the key and its token binding.
	e.expect("POST", "/events", events(batchJSON("server-1", 1770000100, 2, "delete", "l2", "fs", false, entryJSON(h0, 0))), 200, `{"applied":1,"duplicates":0,"stale":0}`)
	e.expect("GET", "/directory/keys", "", 200, `{"total":0,"keys":[]}`)
	e.expect("POST", "/directory/lookup", `{"keys":[{"chunk_hash_hex":"`+h0+`","model_name":"`+model+`","kv_rank":16777472}]}`, 200,
		`{"chunks":1,"results":[{"key":`+key(h0)+`,"placements":[],"token_ids":[],"access_count":0}]}`)
}

func TestSharedPoolsAndDepartedServers(t *testing.T) {
	_, e := seeded(t)
	cfg := func(inst string, seq, cap int64) string {
		return `{"instance_id":"` + inst + `","incarnation":5,"seq":` + itoa(seq) + `,"event_type":"config","tier":"l2","backend":"s3","entries":[],"shared":true,"capacity_bytes":` + itoa(cap) + `,"capacity_revision":1}`
	}
	e.expect("POST", "/events", events(cfg("a", 1, 1<<30), cfg("b", 1, 1<<30),
		batchJSON("a", 5, 2, "store", "l2", "s3", true, entryJSON(h1, 1<<20)),
		batchJSON("b", 5, 2, "store", "l2", "s3", true, entryJSON(h1, 1<<20))), 200, `{"applied":4,"duplicates":0,"stale":0}`)
	// One placement for the fleet, last reporter wins; counted once.
	e.expect("GET", "/directory/keys?backend=s3", "", 200, `{"total":1,"keys":[{"key":`+key(h1)+`,"placements":[`+
		`{"instance_id":"b","incarnation":5,"tier":"l2","backend":"s3","size_bytes":1048576,"shared":true}],"num_tokens":256,"access_count":0}]}`)
	body := func() string { _, b := e.do("GET", "/instances/usage", ""); return b }()
	if !strings.Contains(body, `"shared_modules":[{"tier":"l2","backend":"s3","shared":true,"used_bytes":1048576,"capacity_bytes":1073741824,"usage_ratio":0.0009765625}]`) {
		t.Errorf("shared: %s", body)
	}
	// a and b never registered but declared: listed, registered false.
	if !strings.Contains(body, `{"instance_id":"a","registered":false,"declared_capacity":true,"modules":[]}`) {
		t.Errorf("declared only: %s", body)
	}
	// Disagreeing declarations hide the shared capacity.
	e.expect("POST", "/events", events(`{"instance_id":"b","incarnation":5,"seq":3,"event_type":"config","tier":"l2","backend":"s3","entries":[],"shared":true,"capacity_bytes":5,"capacity_revision":2}`),
		200, `{"applied":1,"duplicates":0,"stale":0}`)
	if _, body = e.do("GET", "/instances/usage", ""); !strings.Contains(body, `"capacity_bytes":0,"usage_ratio":null}]`) {
		t.Errorf("disagreement: %s", body)
	}
	// Deregistering keeps what the instance holds: registered false.
	e.expect("DELETE", "/instances/server-1", "", 204, "")
	e.expect("DELETE", "/instances/server-1", "", 204, "")
	if _, body = e.do("GET", "/instances/server-1/usage", ""); !strings.HasPrefix(body, `{"instance_id":"server-1","registered":false,"declared_capacity":true`) {
		t.Errorf("departed: %s", body)
	}
	e.expect("GET", "/instances", "", 200, `{"instances":[]}`)
}

func TestEventValidation(t *testing.T) {
	_, e := seeded(t)
	e.expect("POST", "/events", `{"batches":[{"instance_id":"","incarnation":-1,"seq":0,"event_type":"x","tier":"all","backend":"dram"}]}`, 422,
		`{"detail":[{"type":"value_error","loc":["body","batches",0,"instance_id"],"msg":"Value error, instance_id must be non-empty","input":"","ctx":{"error":{}}},`+
			`{"type":"greater_than_equal","loc":["body","batches",0,"incarnation"],"msg":"Input should be greater than or equal to 0","input":-1,"ctx":{"ge":0}},`+
			`{"type":"greater_than_equal","loc":["body","batches",0,"seq"],"msg":"Input should be greater than or equal to 1","input":0,"ctx":{"ge":1}},`+
			`{"type":"enum","loc":["body","batches",0,"event_type"],"msg":"Input should be 'store', 'delete', 'access' or 'config'","input":"x","ctx":{"expected":"'store', 'delete', 'access' or 'config'"}},`+
			`{"type":"value_error","loc":["body","batches",0,"tier"],"msg":"Value error, cache events must target a concrete tier (got 'all')","input":"all","ctx":{"error":{}}}]}`)
	// Any violation rejects the whole request: the valid first batch is
	// not applied either.
	st, _ := e.do("POST", "/events", events(batchJSON("z", 1, 1, "store", "l1", "dram", false, entryJSON(h1, 1)),
		batchJSON("z", 1, 2, "store", "l1", "", false, entryJSON(h1, 1))))
	if st != 422 {
		t.Errorf("status %d", st)
	}
	e.expect("GET", "/directory/keys?instance_id=z", "", 200, `{"total":0,"keys":[]}`)
	e.expect("POST", "/events", events(batchJSON("z", 1, 1, "config", "l1", "dram", false, entryJSON(h1, 1))), 422,
		`{"detail":[{"type":"value_error","loc":["body","batches",0],"msg":"Value error, config batches declare capacity and carry no entries","input":{"instance_id":"z","incarnation":1,"seq":1,"event_type":"config","tier":"l1","backend":"dram","entries":[`+entryJSON(h1, 1)+`],"shared":false,"ts":1.0},"ctx":{"error":{}}}]}`)
	e.expect("POST", "/events", `[1]`, 422, `{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}]}`)
	e.expect("POST", "/events", `{"batches":[`, 422, `{"detail":[{"type":"json_invalid","loc":["body",12],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}`)
	e.expect("POST", "/events", ``, 422, `{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`)
}

func TestRegistryAndSweep(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1770000000, 0)
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := Start("", WithClock(clk), WithIDs(func(string) string { return "0123" }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := ex{t: t, base: s.URL()}
	e.expect("POST", "/instances", `{"ip":" 10.0.0.9 ","http_port":"8080","metadata":{"rack":"r1"}}`, 200, `{"instance_id":"mp-0123","re_registered":false}`)
	e.expect("POST", "/instances", `{"instance_id":"mp-0123","ip":"10.0.0.9","http_port":8080}`, 200, `{"instance_id":"mp-0123","re_registered":true}`)
	e.expect("POST", "/instances", `{"ip":"  ","http_port":0,"metadata":{"a":1}}`, 422,
		`{"detail":[{"type":"string_too_short","loc":["body","ip"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}},`+
			`{"type":"greater_than_equal","loc":["body","http_port"],"msg":"Input should be greater than or equal to 1","input":0,"ctx":{"ge":1}},`+
			`{"type":"string_type","loc":["body","metadata","a"],"msg":"Input should be a valid string","input":1}]}`)
	e.expect("PUT", "/instances/mp-0123/heartbeat", "", 200, `{"instance_id":"mp-0123"}`)
	e.expect("POST", "/events", events(batchJSON("mp-0123", 1, 1, "store", "l1", "dram", false, entryJSON(h0, 1)),
		batchJSON("mp-0123", 1, 2, "store", "l2", "fs", false, entryJSON(h0, 1))), 200, `{"applied":2,"duplicates":0,"stale":0}`)
	// 31 s without a heartbeat: dropped and fenced on the next request.
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	e.expect("GET", "/instances", "", 200, `{"instances":[]}`)
	e.expect("GET", "/directory/keys", "", 200, `{"total":1,"keys":[{"key":`+key(h0)+`,"placements":[{"instance_id":"mp-0123","incarnation":1,"tier":"l2","backend":"fs","size_bytes":1,"shared":false}],"num_tokens":0,"access_count":0}]}`)
	e.expect("PUT", "/instances/mp-0123/heartbeat", "", 404, `{"error":"unknown instance mp-0123; re-register"}`)
	// The cursor went with it: seq 1 is admitted again.
	e.expect("POST", "/events", events(batchJSON("mp-0123", 1, 1, "access", "l2", "", false, entryJSON(h0, 0))), 200, `{"applied":1,"duplicates":0,"stale":0}`)
	e.expect("GET", "/nope", "", 404, `{"detail":"Not Found"}`)
	e.expect("PATCH", "/healthz", "", 405, `{"detail":"Method Not Allowed"}`)
}

// An MP server started against the coordinator registers, declares and
// streams events; the coordinator sees what it stored.
func TestMPServerPopulates(t *testing.T) {
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mp, err := StartMPServer("", WithMPInstanceID("server-1"), WithMPIncarnation(1770000000), WithCoordinator(s.URL(), "/events"), WithHeartbeat(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]uint32, 600)
	for i := range toks {
		toks[i] = uint32(i)
	}
	if _, err := mp.Store("l1", toks, model, 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Store("l2", toks[:256], model, 1, ""); err != nil {
		t.Fatal(err)
	}
	e := ex{t: t, base: s.URL()}
	body := `{"token_ids":[` + ints(0, 599) + `],"model_name":"meta-llama/Llama-3.1-8B-Instruct","world_size":1,"cache_salt":""}`
	host := strings.TrimPrefix(mp.URL(), "http://")
	pl1 := strings.Replace(plL1, `"size_bytes":33554432`, `"size_bytes":33554432`, 1)
	want := `{"chunks":2,"results":[{"key":` + key(h0) + `,"placements":[` + pl1 + `,` + plL2 + `],"token_ids":[` + ints(0, 255) + `],"access_count":0},` +
		`{"key":` + key(h1) + `,"placements":[` + pl1 + `],"token_ids":[` + ints(256, 511) + `],"access_count":0}]}`
	e.expect("POST", "/directory/lookup", body, 200, want)
	_, usage := e.do("GET", "/instances/usage", "")
	if !strings.Contains(usage, `"used_bytes":67108864,"capacity_bytes":42949672960,"usage_ratio":0.0015625`) {
		t.Errorf("usage %s (%s)", usage, host)
	}
	time.Sleep(50 * time.Millisecond) // a few heartbeats
	mp.Close()
	e.expect("GET", "/instances", "", 200, `{"instances":[]}`)
}

func TestFleet(t *testing.T) {
	for _, g := range Generations {
		t.Run(string(g), func(t *testing.T) {
			f, err := StartFleet(FleetConfig{Generation: g, SharedL2: true, WorldSize: 2, Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			toks := make([]uint32, 512)
			if n, err := f.Servers[0].Store("l1", toks, "m", 2, ""); err != nil || n != 4 {
				t.Fatalf("%d %v", n, err)
			}
			if n, err := f.Servers[1].Store("l2", toks, "m", 2, ""); err != nil || n != 4 {
				t.Fatalf("%d %v", n, err)
			}
			e := ex{t: t, base: f.Coordinator.URL()}
			if _, b := e.do("GET", "/instances", ""); strings.Count(b, `"instance_id"`) != 2 {
				t.Errorf("instances %s", b)
			}
			f.Coordinator.mu.Lock()
			n := len(f.Coordinator.st.records)
			f.Coordinator.mu.Unlock()
			if n != 4 {
				t.Errorf("%d keys in the directory", n)
			}
		})
	}
	if _, err := StartFleet(FleetConfig{Generation: "2027"}); err == nil {
		t.Error("unknown generation accepted")
	}
}
