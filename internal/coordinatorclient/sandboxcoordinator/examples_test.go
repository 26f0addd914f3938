package sandboxcoordinator

// The spec's worked examples (coordinator-api.md §8, §6.7, §4), asserted
// byte for byte over a real loopback socket.

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	model = "meta-llama/Llama-3.1-8B-Instruct"
	h0    = "084547b6c40ed5b05ba8cd0305db5bf74d5617673948d9ed193ab7d6cbc484d4"
	h1    = "e5ffee45c2b9db326814c9692dc594369887ba3b0df5761817820b60f864c8e0"
	reqID = "3f1c2a9e8b7d4c6fa0e1d2c3b4a59687"
)

// ints renders a..b as the wire carries them: "0,1,2,…".
func ints(a, b int) string {
	var sb strings.Builder
	for i := a; i <= b; i++ {
		if i > a {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(i))
	}
	return sb.String()
}

func key(h string) string {
	return `{"chunk_hash_hex":"` + h + `","model_name":"` + model + `","kv_rank":16777472,"object_group_id":0,"cache_salt":""}`
}

const (
	plL1 = `{"instance_id":"server-1","incarnation":1770000000,"tier":"l1","backend":"dram","size_bytes":33554432,"shared":false}`
	plL2 = `{"instance_id":"server-1","incarnation":1770000000,"tier":"l2","backend":"fs","size_bytes":33554432,"shared":false}`
)

// events81 is §8.1's request with the editorial ellipses expanded.
func events81() string {
	return `{"batches":[
 {"instance_id":"server-1","incarnation":1770000000,"seq":1,"event_type":"config","tier":"l1","backend":"dram","entries":[],
  "shared":false,"ts":1770000005.0,"capacity_bytes":42949672960,"capacity_revision":1},
 {"instance_id":"server-1","incarnation":1770000000,"seq":2,"event_type":"config","tier":"l2","backend":"fs","entries":[],
  "shared":false,"ts":1770000005.0,"capacity_bytes":0,"capacity_revision":1},
 {"instance_id":"server-1","incarnation":1770000000,"seq":3,"event_type":"store","tier":"l1","backend":"dram","entries":[
   {"key":` + key(h0) + `,"size_bytes":33554432,"token_ids":[` + ints(0, 255) + `],"token_offset":0},
   {"key":` + key(h1) + `,"size_bytes":33554432,"token_ids":[` + ints(256, 511) + `],"token_offset":256}],
  "shared":false,"ts":1770000060.0,"capacity_bytes":0,"capacity_revision":0},
 {"instance_id":"server-1","incarnation":1770000000,"seq":4,"event_type":"store","tier":"l2","backend":"fs","entries":[
   {"key":` + key(h0) + `,"size_bytes":33554432,"token_ids":[` + ints(0, 255) + `],"token_offset":0}],
  "shared":false,"ts":1770000061.0,"capacity_bytes":0,"capacity_revision":0}]}`
}

func fixedClock() time.Time { return time.Unix(1770000002, 417000000) }

type ex struct {
	t    *testing.T
	base string
}

func (e ex) do(method, path, body string) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// expect asserts status and body byte for byte.
func (e ex) expect(method, path, body string, status int, want string) {
	e.t.Helper()
	gs, got := e.do(method, path, body)
	if gs != status || got != want {
		e.t.Errorf("%s %s %.80s\n got %d %s\nwant %d %s", method, path, body, gs, short(got), status, short(want))
	}
}

func short(s string) string {
	if len(s) > 1500 {
		return s[:700] + " … " + s[len(s)-700:]
	}
	return s
}

// seeded is a started coordinator in §8's state: server-1 registered as
// in §8.4, then §8.1's events.
func seeded(t *testing.T, opts ...Option) (*Server, ex) {
	t.Helper()
	s, err := Start("", append([]Option{WithClock(fixedClock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := ex{t: t, base: s.URL()}
	e.expect("POST", "/instances", `{"instance_id":"server-1","ip":"10.0.0.5","http_port":8080,"p2p_advertised_url":"","mq_port":0}`,
		200, `{"instance_id":"server-1","re_registered":false}`)
	e.expect("POST", "/events", events81(), 200, `{"applied":4,"duplicates":0,"stale":0}`)
	return s, e
}

func TestExample81Events(t *testing.T) {
	_, e := seeded(t)
	e.expect("POST", "/events", events81(), 200, `{"applied":0,"duplicates":4,"stale":0}`)
}

func TestExample82Lookup(t *testing.T) {
	_, e := seeded(t)
	body := `{"token_ids":[` + ints(0, 599) + `],"model_name":"meta-llama/Llama-3.1-8B-Instruct","world_size":1,"cache_salt":""}`
	want := `{"chunks":2,"results":[{"key":` + key(h0) + `,"placements":[` + plL1 + `,` + plL2 + `],"token_ids":[` + ints(0, 255) + `],"access_count":0},` +
		`{"key":` + key(h1) + `,"placements":[` + plL1 + `],"token_ids":[` + ints(256, 511) + `],"access_count":0}]}`
	e.expect("POST", "/directory/lookup", body, 200, want)

	// world_size 2: four results, kv_ranks 33554944, 33620481, …, no
	// placements, the same token_ids (bound by chunk hash).
	body2 := strings.Replace(body, `"world_size":1`, `"world_size":2`, 1)
	var parts []string
	for _, c := range []struct{ h, toks string }{{h0, ints(0, 255)}, {h1, ints(256, 511)}} {
		for _, rank := range []string{"33554944", "33620481"} {
			parts = append(parts, `{"key":{"chunk_hash_hex":"`+c.h+`","model_name":"`+model+`","kv_rank":`+rank+`,"object_group_id":0,"cache_salt":""},"placements":[],"token_ids":[`+c.toks+`],"access_count":0}`)
		}
	}
	e.expect("POST", "/directory/lookup", body2, 200, `{"chunks":2,"results":[`+strings.Join(parts, ",")+`]}`)

	// The keys form, for chunk 1 only.
	e.expect("POST", "/directory/lookup", `{"keys":[{"chunk_hash_hex":"`+h1+`","model_name":"`+model+`","kv_rank":16777472}]}`, 200,
		`{"chunks":1,"results":[{"key":`+key(h1)+`,"placements":[`+plL1+`],"token_ids":[`+ints(256, 511)+`],"access_count":0}]}`)
}

func TestExample83Keys(t *testing.T) {
	_, e := seeded(t)
	e.expect("GET", "/directory/keys?limit=1&offset=1", "", 200,
		`{"total":2,"keys":[{"key":`+key(h1)+`,"placements":[`+plL1+`],"num_tokens":256,"access_count":0}]}`)
	e.expect("GET", "/directory/keys?tier=l2", "", 200,
		`{"total":1,"keys":[{"key":`+key(h0)+`,"placements":[`+plL2+`],"num_tokens":256,"access_count":0}]}`)
	e.expect("GET", "/directory/keys?limit=0", "", 422,
		`{"detail":[{"type":"greater_than_equal","loc":["query","limit"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]}`)
}

func TestExample84Instances(t *testing.T) {
	_, e := seeded(t)
	e.expect("GET", "/instances", "", 200,
		`{"instances":[{"instance_id":"server-1","ip":"10.0.0.5","http_port":8080,"registration_time":1770000002.417,"metadata":{},"p2p_advertised_url":"","mq_port":0}]}`)
}

func TestExample85Usage(t *testing.T) {
	_, e := seeded(t)
	inner := `{"instance_id":"server-1","registered":true,"declared_capacity":true,"modules":[` +
		`{"tier":"l1","backend":"dram","shared":false,"used_bytes":67108864,"capacity_bytes":42949672960,"usage_ratio":0.0015625},` +
		`{"tier":"l2","backend":"fs","shared":false,"used_bytes":33554432,"capacity_bytes":0,"usage_ratio":null}]}`
	e.expect("GET", "/instances/usage", "", 200, `{"instances":[`+inner+`],"shared_modules":[]}`)
	e.expect("GET", "/instances/server-1/usage", "", 200, inner)
	e.expect("GET", "/instances/nope/usage", "", 404, `{"detail":"unknown instance 'nope'"}`)
	// §6.7's stats example is this state's.
	e.expect("GET", "/directory/stats", "", 200, `{"num_keys":2,"num_placements":3,"l1_keys_by_instance":{"server-1":2},`+
		`"blend":{"num_contents":0,"num_chunks":0,"num_claims":0,"num_namespaces":0,"table_size":1024},`+
		`"l1_count":2,"l1_size_bytes":67108864,"l2_count":1,"l2_size_bytes":33554432}`)
}

func TestExample86Quota(t *testing.T) {
	_, e := seeded(t)
	e.expect("PUT", "/quota/_default", `{"limit_gb": 10}`, 200, `{"cache_salt":"","limit_gb":10.0,"status":"ok"}`)
	e.expect("PUT", "/quota/user-a", `{"limit_gb": 5.5}`, 200, `{"cache_salt":"user-a","limit_gb":5.5,"status":"ok"}`)
	e.expect("GET", "/quota", "", 200, `{"total_gb":0.03125,"by_cache_salt":[`+
		`{"cache_salt":"","quota_limit_gb":10.0,"quota_exists":true,"usage_gb":0.03125},`+
		`{"cache_salt":"user-a","quota_limit_gb":5.5,"quota_exists":true,"usage_gb":0.0}]}`)
	e.expect("GET", "/quota?tier=l1", "", 200, `{"total_gb":0.0625,"by_cache_salt":[{"cache_salt":"","quota_limit_gb":0.0,"quota_exists":false,"usage_gb":0.0625}]}`)
	e.expect("GET", "/quota/config", "", 200, `{"default_limit_gb":null}`)
	e.expect("PUT", "/quota/config", `{"default_limit_gb":0}`, 200, `{"default_limit_gb":0.0}`)
	e.expect("DELETE", "/quota/user-a", "", 200, `{"cache_salt":"user-a","limit_gb":0.0,"status":"removed"}`)
	e.expect("DELETE", "/quota/user-a", "", 200, `{"cache_salt":"user-a","limit_gb":0.0,"status":"not_found"}`)
	e.expect("GET", "/quota?tier=all", "", 400, `{"detail":"tier 'all' has no usage accounting; only 'l1', 'l2'"}`)
	// §2: PUT 0.1 reads back with the GiB rounding.
	e.expect("PUT", "/quota/r", `{"limit_gb":0.1}`, 200, `{"cache_salt":"r","limit_gb":0.1,"status":"ok"}`)
	e.expect("GET", "/quota/r", "", 200, `{"cache_salt":"r","quota_limit_gb":0.09999999962747097,"quota_exists":true,"usage_gb":0.0}`)
}

func TestExample87Prefetch(t *testing.T) {
	mp, err := StartMPServer("", WithMPInstanceID("server-1"), WithMPIncarnation(1770000000), WithMPSeq(4), WithoutRegistration(),
		WithMPRequestIDs(func() string { return reqID }))
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	s, e := seeded(t, WithMPServerURL(func(id, ip string, port int) string {
		if id == "server-1" && ip == "10.0.0.5" && port == 8080 {
			return mp.URL()
		}
		return "http://127.0.0.1:1"
	}))
	// The MP server holds what its §8.1 events said, and reports to s.
	mp.SetCoordinator(s.URL(), "/events")
	toks := make([]uint32, 600)
	for i := range toks {
		toks[i] = uint32(i)
	}
	if _, err := mp.Seed("l1", toks, model, 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Seed("l2", toks[:256], model, 1, ""); err != nil {
		t.Fatal(err)
	}
	// Clear server-1's L1: the delete events follow on /events.
	mpx := ex{t: t, base: mp.URL()}
	mpx.expect("POST", "/cache/clear", "", 200, `{"status":"ok","cleared":{"tier":"l1"}}`)
	e.expect("GET", "/directory/keys?tier=l1", "", 200, `{"total":0,"keys":[]}`)

	submit := `{"instance_id":"server-1","model_name":"meta-llama/Llama-3.1-8B-Instruct","world_size":1,"token_ids":[` + ints(0, 599) + `],"cache_salt":""}`
	e.expect("POST", "/cache/prefetches", submit, 200, `{"instance_id":"server-1","request_id":"`+reqID+`","chunks":2,"status":"submitted"}`)
	fwd, ok := mp.LastRequest("POST", "/cache/prefetches")
	if !ok || fwd.Body != `{"model_name":"meta-llama/Llama-3.1-8B-Instruct","world_size":1,"token_ids":[`+ints(0, 599)+`],"cache_salt":""}` {
		t.Errorf("forwarded %q", short(fwd.Body))
	}
	poll := "/cache/prefetches/server-1/" + reqID
	e.expect("GET", poll, "", 200, `{"request_id":"`+reqID+`","status":"pending"}`)
	e.expect("GET", poll, "", 200, `{"request_id":"`+reqID+`","status":"completed","found_keys":1,"total_keys":2,"missing_key_indices":[1]}`)
	e.expect("GET", poll, "", 404, `{"detail":"unknown prefetch request_id='`+reqID+`' (already completed or never submitted)"}`)
	// The loaded chunk is back in L1 (the MP server's store event).
	e.expect("GET", "/directory/keys?tier=l1", "", 200, `{"total":1,"keys":[{"key":`+key(h0)+`,"placements":[`+plL1+`],"num_tokens":256,"access_count":0}]}`)

	e.expect("POST", "/cache/prefetches", `{"instance_id":"server-1","model_name":"`+model+`","world_size":1,"token_ids":[1,2,3],"cache_salt":""}`, 200,
		`{"instance_id":"server-1","request_id":"","chunks":0,"status":"noop"}`)
	e.expect("POST", "/cache/prefetches", `{"instance_id":"server-9","model_name":"`+model+`","world_size":1,"token_ids":[1,2,3]}`, 404,
		`{"detail":"no MP server registered with instance_id='server-9'"}`)
}

func TestExample88Errors(t *testing.T) {
	_, e := seeded(t)
	e.expect("POST", "/directory/lookup", `{}`, 422,
		`{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, supply exactly one of 'keys' or 'token_ids'","input":{},"ctx":{"error":{}}}]}`)
	e.expect("POST", "/directory/lookup", `{"token_ids":[1,2,3]}`, 422,
		`{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, 'model_name' is required with 'token_ids'","input":{"token_ids":[1,2,3]},"ctx":{"error":{}}}]}`)
	e.expect("POST", "/directory/lookup", `{"keys":[{"chunk_hash_hex":"zz","model_name":"m","kv_rank":0}]}`, 422,
		`{"detail":[{"type":"value_error","loc":["body","keys"],"msg":"Value error, non-hexadecimal number found in fromhex() arg at position 0","input":[{"chunk_hash_hex":"zz","model_name":"m","kv_rank":0,"object_group_id":0,"cache_salt":""}],"ctx":{"error":{}}}]}`)
	e.expect("POST", "/directory/lookup", `{"token_ids":[`+ints(0, 255)+`],"model_name":"a@b","world_size":1}`, 400,
		`{"detail":"model_name must not contain '@' (got 'a@b')"}`)
	e.expect("POST", "/directory/lookup", `{"token_ids":[`+ints(0, 255)+`],"model_name":"m","world_size":1,"cache_salt":"x/y"}`, 400,
		`{"detail":"cache_salt must not contain {'/'} (got 'x/y')"}`)
	big := strings.Repeat("1,", 1000000) + "1"
	e.expect("POST", "/directory/lookup", `{"token_ids":[`+big+`],"model_name":"m"}`, 400,
		`{"detail":"too many token_ids in a single request (limit=1000000, got=1000001)"}`)
	e.expect("PUT", "/instances/ghost/heartbeat", "", 404, `{"error":"unknown instance ghost; re-register"}`)
}

// §4's test vector, through the resolver.
func TestResolverVector(t *testing.T) {
	toks := make([]int64, 600)
	for i := range toks {
		toks[i] = int64(i)
	}
	hs, err := chunkHashes(toks, 256)
	if err != nil || len(hs) != 2 || hs[0] != h0 || hs[1] != h1 {
		t.Fatalf("%v %v", hs, err)
	}
	for _, c := range []struct{ ws, r, want int64 }{{1, 0, 16777472}, {2, 0, 33554944}, {2, 1, 33620481}} {
		if got := kvRank(c.ws, c.r); got != c.want {
			t.Errorf("kv_rank(%d,%d) = %d, want %d", c.ws, c.r, got, c.want)
		}
	}
}
