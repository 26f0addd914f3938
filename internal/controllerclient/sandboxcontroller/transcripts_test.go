package sandboxcontroller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// rng renders the JSON list a..b inclusive.
func rng(a, b int) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := a; i <= b; i++ {
		if i > a {
			sb.WriteByte(',')
		}
		fmt.Fprint(&sb, i)
	}
	sb.WriteByte(']')
	return sb.String()
}

func u32(a, b int) []uint32 {
	out := make([]uint32, 0, b-a+1)
	for i := a; i <= b; i++ {
		out = append(out, uint32(i))
	}
	return out
}

// eventQueue hands the fake the event ids recorded in the transcripts.
type eventQueue struct {
	mu   sync.Mutex
	next string
}

func (q *eventQueue) set(id string) { q.mu.Lock(); q.next = id; q.mu.Unlock() }
func (q *eventQueue) gen(prefix string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.next != "" && strings.HasPrefix(q.next, prefix) {
		id := q.next
		q.next = ""
		return id
	}
	return prefix + "00000000-0000-4000-8000-000000000000"
}

var eventIDRe = regexp.MustCompile(`"event_id":"([A-Za-z]+[0-9a-f-]{36})"`)

// StartAll builds the topology of the recorded run (spec §13).
func startAll(t testing.TB, q *eventQueue) (*Server, *httptest.Server) {
	t.Helper()
	fixed := time.Unix(1795300745, 0)
	s := New(WithEventIDs(q.gen), WithClock(func() time.Time { return fixed }))
	s.AddWorker("inst1", 0, WorkerSpec{Port: 8001, PeerInitURL: "127.0.0.1:8201", RegistrationTime: 1795300741.6803894})
	s.AddWorker("inst2", 0, WorkerSpec{Port: 8002, PeerInitURL: "127.0.0.1:8202", RegistrationTime: 1795300742.7639844})
	s.AddWorker("inst3", 0, WorkerSpec{Port: 8003, PeerInitURL: "127.0.0.1:8203", RegistrationTime: 1795300743.836124})
	s.AddWorker("inst3", 1, WorkerSpec{Port: 8004, PeerInitURL: "127.0.0.1:8204", RegistrationTime: 1795300744.962929})
	must := func(_ []int64, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Admit("inst1", 0, DefaultLocation, u32(0, 599)))
	must(s.Admit("inst1", 0, DefaultLocation, u32(1000, 1511)))
	must(s.Admit("inst3", 0, DefaultLocation, u32(5000, 5767)))
	must(s.Admit("inst3", 1, DefaultLocation, u32(5000, 5767)))
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, ts
}

type transcript struct {
	id     string
	method string
	path   string
	ctype  string // "" = application/json when body != "", "-" = none
	body   string
	status int
	want   string
	before func(*Server)
}

const (
	w1 = `{"instance_id":"inst1","worker_id":0,"ip":"127.0.0.1","port":8001,"peer_init_url":"127.0.0.1:8201","registration_time":1795300741.6803894,"last_heartbeat_time":1795300741.6803894`
	w2 = `{"instance_id":"inst2","worker_id":0,"ip":"127.0.0.1","port":8002,"peer_init_url":"127.0.0.1:8202","registration_time":1795300742.7639844,"last_heartbeat_time":1795300742.7639844`
	w3 = `{"instance_id":"inst3","worker_id":0,"ip":"127.0.0.1","port":8003,"peer_init_url":"127.0.0.1:8203","registration_time":1795300743.836124,"last_heartbeat_time":1795300743.836124`
	w4 = `{"instance_id":"inst3","worker_id":1,"ip":"127.0.0.1","port":8004,"peer_init_url":"127.0.0.1:8204","registration_time":1795300744.962929,"last_heartbeat_time":1795300744.962929`
)

// Transcripts returns the recorded exchanges of spec §14 in order. Every
// body is the recorded one, byte for byte.
func transcripts() []transcript {
	A, B, C := rng(0, 599), rng(1000, 1511), rng(5000, 5767)
	return []transcript{
		{id: "02", method: "GET", path: "/controller/workers", status: 200,
			want: `{"workers":[` + w1 + `,"key_count":4},` + w2 + `,"key_count":0},` + w3 + `,"key_count":3},` + w4 + `,"key_count":3}],"total_count":4}`},
		{id: "03", method: "GET", path: "/controller/workers?instance_id=inst3", status: 200,
			want: `{"workers":[` + w3 + `,"key_count":3},` + w4 + `,"key_count":3}],"total_count":2}`},
		{id: "04", method: "GET", path: "/controller/workers?instance_id=inst1&worker_id=0", status: 200,
			want: w1 + `,"key_count":4}`},
		{id: "05", method: "GET", path: "/controller/workers?instance_id=nope", status: 404,
			want: `{"detail":"No workers found for instance nope"}`},
		{id: "06", method: "GET", path: "/controller/workers?instance_id=inst1&worker_id=7", status: 404,
			want: `{"detail":"Worker (inst1, 7) not found"}`},
		{id: "07", method: "GET", path: "/controller/workers?worker_id=abc", status: 422,
			want: `{"detail":[{"loc":["query","worker_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]}`},
		{id: "08", method: "GET", path: "/controller/workers?worker_id=1", status: 200,
			want: `{"workers":[` + w1 + `,"key_count":4},` + w2 + `,"key_count":0},` + w3 + `,"key_count":3},` + w4 + `,"key_count":3}],"total_count":4}`},
		{id: "09", method: "GET", path: "/controller/key-stats", status: 200,
			want: `{"total_key_count":10,"total_instance_count":3,"total_worker_count":4,"instances":[{"instance_id":"inst1","key_count":4,"worker_count":1},{"instance_id":"inst2","key_count":0,"worker_count":1},{"instance_id":"inst3","key_count":6,"worker_count":2}]}`},
		{id: "10", method: "POST", path: "/query_worker_info", body: `{"instance_id":"inst1"}`, status: 200,
			want: `{"event_id":"QueryWorkerInfo0f957d33-e5d6-47a0-9fdb-958ed65d98ec","worker_infos":[` + w1 + `}]}`},
		{id: "11", method: "POST", path: "/query_worker_info", body: `{"instance_id":"all"}`, status: 200,
			want: `{"event_id":"QueryWorkerInfo9f01a3b5-1ed4-4cdd-8d20-cafa0178899a","worker_infos":[` + w1 + `},` + w2 + `},` + w3 + `},` + w4 + `}]}`},
		{id: "12", method: "POST", path: "/query_worker_info", body: `{"instance_id":"inst3","worker_ids":[1]}`, status: 200,
			want: `{"event_id":"QueryWorkerInfo69764391-7cb2-4566-b9fa-9d1ce7ccf568","worker_infos":[` + w4 + `}]}`},
		{id: "13", method: "POST", path: "/query_worker_info", body: `{"instance_id":"nope"}`, status: 200,
			want: `{"event_id":"QueryWorkerInfo18996230-2b97-4896-a7d2-6a2390c92c0e","worker_infos":[]}`},
		{id: "14", method: "POST", path: "/query_worker_info", body: `{}`, status: 422,
			want: `{"detail":[{"loc":["body","instance_id"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "15", method: "POST", path: "/query_instance", body: `{"event_id":"e1","ip":"127.0.0.1"}`, status: 200,
			want: `{"event_id":"QueryInst6fb6263f-1497-424b-9adb-006d85a4a244","res":"inst1"}`},
		{id: "16", method: "POST", path: "/query_instance", body: `{"event_id":"e1","ip":"10.1.2.3"}`, status: 500,
			want: `{"detail":"1 validation error for QueryInstResponse\nres\n  none is not an allowed value (type=type_error.none.not_allowed)"}`},
		{id: "17", method: "POST", path: "/lookup", body: `{"tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Lookup4d872d04-478d-43a6-b6a4-f8d7ab3bb5f2","layout_info":{"inst1":["LocalCPUBackend",512]}}`},
		{id: "18", method: "POST", path: "/lookup", body: `{"tokens":` + rng(0, 299) + `}`, status: 200,
			want: `{"event_id":"Lookupaa212789-4a31-4892-91aa-08ecdbde237c","layout_info":{"inst1":["LocalCPUBackend",256]}}`},
		{id: "19", method: "POST", path: "/lookup", body: `{"tokens":` + rng(0, 254) + `}`, status: 200,
			want: `{"event_id":"Lookupa011c147-6bf9-4d8a-87d3-b2255c39daba","layout_info":{}}`},
		{id: "20", method: "POST", path: "/lookup", body: `{"tokens":` + C + `}`, status: 200,
			want: `{"event_id":"Lookup009d15da-d385-4238-9abc-99a0477bc81a","layout_info":{"inst3":["LocalCPUBackend",768]}}`},
		{id: "21", method: "POST", path: "/lookup", body: `{"tokens":[7,7,7]}`, status: 200,
			want: `{"event_id":"Lookup85fcc776-c5c1-427c-9fef-d0d87815905c","layout_info":{}}`},
		{id: "22", method: "POST", path: "/lookup", body: `{"tokens":[]}`, status: 200,
			want: `{"event_id":"Lookupf029844e-9acb-499e-816d-812325ba69f2","layout_info":{}}`},
		{id: "23", method: "POST", path: "/lookup", body: `{"tokens":[1,2`, status: 422,
			want: `{"detail":[{"loc":["body",14],"msg":"Expecting ',' delimiter: line 1 column 15 (char 14)","type":"value_error.jsondecode","ctx":{"msg":"Expecting ',' delimiter","doc":"{\"tokens\":[1,2","pos":14,"lineno":1,"colno":15}}]}`},
		{id: "24", method: "POST", path: "/lookup", body: `{}`, status: 422,
			want: `{"detail":[{"loc":["body","tokens"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "25", method: "POST", path: "/lookup", body: `{"tokens":["1","x"]}`, status: 422,
			want: `{"detail":[{"loc":["body","tokens",1],"msg":"value is not a valid integer","type":"type_error.integer"}]}`},
		{id: "26", method: "POST", path: "/lookup", body: `{"tokens":["1","2"]}`, status: 200,
			want: `{"event_id":"Lookup22f0afc6-0e02-443c-93a2-5ce1c6206a31","layout_info":{}}`},
		{id: "27", method: "POST", path: "/lookup", body: `{"tokens":null}`, status: 422,
			want: `{"detail":[{"loc":["body","tokens"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}`},
		{id: "28", method: "POST", path: "/lookup", ctype: "application/x-www-form-urlencoded", body: `{"tokens":[0,1]}`, status: 422,
			want: `{"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}`},
		{id: "29", method: "POST", path: "/lookup", ctype: "-", status: 422,
			want: `{"detail":[{"loc":["body"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "30", method: "GET", path: "/lookup", status: 405,
			want: `{"detail":"Method Not Allowed"}`},
		{id: "31", method: "POST", path: "/health", body: `{"instance_id":"inst1"}`, status: 200,
			want: `{"event_id":"healthf1f981b7-2210-4723-bbcd-0bde6fb99eef","error_codes":{"0":0}}`},
		{id: "32", method: "POST", path: "/health", body: `{"instance_id":"inst3"}`, status: 200,
			want: `{"event_id":"healthf2ac0ece-27f9-42dd-81ba-92e31afcf0cb","error_codes":{"0":0,"1":0}}`},
		{id: "33", method: "POST", path: "/health", body: `{"instance_id":"inst3"}`, status: 200,
			before: func(s *Server) { _ = s.SetWorkerHealth("inst3", 1, -1) },
			want:   `{"event_id":"healthb8626b53-d2cc-4f27-8537-dd88c112062d","error_codes":{"0":0,"1":-1}}`},
		{id: "34", method: "POST", path: "/health", body: `{"instance_id":"nope"}`, status: 200,
			want: `{"event_id":"healthbf353897-e50c-434a-a5c0-cf7253173691","error_codes":{}}`},
		{id: "35", method: "POST", path: "/health", body: `{}`, status: 422,
			want: `{"detail":[{"loc":["body","instance_id"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "36", method: "POST", path: "/pin", body: `{"instance_id":"inst1","location":"LocalCPUBackend","tokens":` + rng(0, 299) + `}`, status: 200,
			want: `{"event_id":"Pin956f5739-ffbb-4db7-a96b-4c41a4fd25eb","num_tokens":256}`},
		{id: "37", method: "POST", path: "/pin", body: `{"instance_id":"inst3","location":"LocalCPUBackend","tokens":` + C + `}`, status: 200,
			want: `{"event_id":"Pineec67458-ca51-4444-8f33-0de130863763","num_tokens":768}`},
		{id: "38", method: "POST", path: "/pin", body: `{"instance_id":"inst1","location":"LocalCPUBackend","tokens":[]}`, status: 200,
			want: `{"event_id":"Pin5ddf1290-14d4-431b-a4eb-805606ce9849","num_tokens":0}`},
		{id: "39", method: "POST", path: "/pin", body: `{"instance_id":"inst1","location":"LocalDiskBackend","tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Pin0146c0f5-9a88-4b85-9fa2-679733a635b0","num_tokens":0}`},
		{id: "40", method: "POST", path: "/pin", body: `{"instance_id":"nope","location":"LocalCPUBackend","tokens":[1,2]}`, status: 500,
			want: `{"detail":"The number of tokens pinned should be the same across all workers."}`},
		{id: "41", method: "POST", path: "/pin", body: `{"instance_id":"inst1","location":"LocalCPUBackend"}`, status: 422,
			want: `{"detail":[{"loc":["body","tokens"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "42", method: "POST", path: "/compress", body: `{"instance_id":"inst1","method":"cachegen","location":"LocalCPUBackend","tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Compress808a1c24-b06b-4d4a-8006-5c9cae245d30","num_tokens":512}`},
		{id: "43", method: "POST", path: "/compress", body: `{"instance_id":"inst1","method":"zstd","location":"LocalCPUBackend","tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Compress4102b380-c6ab-4c52-b404-d0ee352a8527","num_tokens":0}`},
		{id: "44", method: "POST", path: "/compress", body: `{"instance_id":"inst1","method":"cachegen","location":"LocalCPUBackend"}`, status: 200,
			want: `{"event_id":"Compress917864d6-b02c-4c47-b24b-caac26f0b6f2","num_tokens":0}`},
		{id: "45", method: "POST", path: "/compress", body: `{"instance_id":"nope","method":"cachegen","location":"LocalCPUBackend"}`, status: 500,
			want: `{"detail":"The number of tokens compressed should be the same across all workers."}`},
		{id: "46", method: "POST", path: "/compress", body: `{"instance_id":"inst1","location":"LocalCPUBackend"}`, status: 422,
			want: `{"detail":[{"loc":["body","method"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "47", method: "POST", path: "/decompress", body: `{"instance_id":"inst1","method":"cachegen","location":"LocalCPUBackend","tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Decompress2485e0bd-6f86-47ac-9e55-b4a55af78961","num_tokens":512}`},
		{id: "48", method: "POST", path: "/decompress", body: `{"instance_id":"inst3","method":"cachegen","location":"LocalCPUBackend","tokens":` + C + `}`, status: 200,
			want: `{"event_id":"Decompresscf69758e-3062-4b25-bb2c-bced768e3925","num_tokens":768}`},
		{id: "49", method: "POST", path: "/decompress", body: `{"instance_id":"nope","method":"cachegen","location":"LocalCPUBackend"}`, status: 500,
			want: `{"detail":""}`},
		{id: "50", method: "POST", path: "/move", body: `{"old_position":["inst1","LocalCPUBackend"],"new_position":["inst2","LocalCPUBackend"],"tokens":` + A + `,"should_copy":true}`, status: 200,
			want: `{"event_id":"Move4c39ced7-4d99-4e50-bb11-5fbd14c7e1ce","num_tokens":512}`},
		{id: "51", method: "GET", path: "/controller/key-stats", status: 200,
			want: `{"total_key_count":12,"total_instance_count":3,"total_worker_count":4,"instances":[{"instance_id":"inst1","key_count":4,"worker_count":1},{"instance_id":"inst2","key_count":2,"worker_count":1},{"instance_id":"inst3","key_count":6,"worker_count":2}]}`},
		{id: "52", method: "POST", path: "/lookup", body: `{"tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Lookup2895822a-fa3c-4f5b-a273-e78d3b8bf811","layout_info":{"inst1":["LocalCPUBackend",512]}}`},
		{id: "53", method: "POST", path: "/move", body: `{"old_position":["inst1","LocalCPUBackend"],"new_position":["inst2","LocalCPUBackend"],"tokens":` + B + `,"should_copy":false}`, status: 200,
			want: `{"event_id":"Move1534f64a-4bc3-4c14-9551-066872de505d","num_tokens":512}`},
		{id: "54", method: "POST", path: "/lookup", body: `{"tokens":` + B + `}`, status: 200,
			want: `{"event_id":"Lookup37d26c85-b49a-4d57-a160-23fa975a1183","layout_info":{"inst2":["LocalCPUBackend",512]}}`},
		{id: "55", method: "GET", path: "/controller/key-stats", status: 200,
			want: `{"total_key_count":12,"total_instance_count":3,"total_worker_count":4,"instances":[{"instance_id":"inst1","key_count":2,"worker_count":1},{"instance_id":"inst2","key_count":4,"worker_count":1},{"instance_id":"inst3","key_count":6,"worker_count":2}]}`},
		{id: "56", method: "POST", path: "/move", body: `{"old_position":["inst1","LocalCPUBackend"],"new_position":["inst2","LocalCPUBackend"],"tokens":[7,7,7]}`, status: 200,
			want: `{"event_id":"Move927ed4c0-2ce2-4174-9c83-cc814e302c65","num_tokens":0}`},
		{id: "57", method: "POST", path: "/move", body: `{"old_position":["inst3","LocalCPUBackend"],"new_position":["inst1","LocalCPUBackend"],"tokens":` + C + `,"should_copy":true}`, status: 200,
			want: `{"event_id":"Move21844020-3007-471b-9f0d-2f2be28c438d","num_tokens":768}`},
		{id: "58", method: "POST", path: "/lookup", body: `{"tokens":` + C + `}`, status: 200,
			want: `{"event_id":"Lookup24807483-264d-460b-8eb8-1fc7c032591b","layout_info":{"inst1":["LocalCPUBackend",768]}}`},
		{id: "59", method: "POST", path: "/move", body: `{"old_position":["inst1","LocalCPUBackend"],"new_position":["nope","LocalCPUBackend"],"tokens":` + A + `}`, status: 500,
			want: `{"detail":"The number of tokens moved should be the same across all workers."}`},
		{id: "60", method: "POST", path: "/move", body: `{"old_position":"inst1","new_position":["inst2","LocalCPUBackend"]}`, status: 422,
			want: `{"detail":[{"loc":["body","old_position"],"msg":"value is not a valid tuple","type":"type_error.tuple"}]}`},
		{id: "61", method: "POST", path: "/move", body: `{"tokens":` + A + `}`, status: 422,
			want: `{"detail":[{"loc":["body","old_position"],"msg":"field required","type":"value_error.missing"},{"loc":["body","new_position"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "62", method: "POST", path: "/clear", body: `{"instance_id":"inst1","location":"LocalCPUBackend"}`, status: 200,
			want: `{"event_id":"Clearcb01c7e2-ece2-47e6-bc51-6e047360b749","num_tokens":1024}`},
		{id: "63", method: "POST", path: "/lookup", body: `{"tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Lookup1ae1914f-16e8-4c9f-8bdf-2cc4dcfa1298","layout_info":{"inst1":["LocalCPUBackend",256],"inst2":["LocalCPUBackend",512]}}`},
		{id: "64", method: "POST", path: "/clear", body: `{"instance_id":"inst3","location":"LocalCPUBackend"}`, status: 200,
			want: `{"event_id":"Clear0424f255-ae7e-494a-a298-fc449bd8e2b9","num_tokens":0}`},
		{id: "65", method: "POST", path: "/clear", body: `{"instance_id":"inst2","location":"LocalCPUBackend"}`, status: 200,
			want: `{"event_id":"Clear29198fa2-6abd-42df-a637-e33533bd9fc5","num_tokens":1024}`},
		{id: "66", method: "GET", path: "/controller/key-stats", status: 200,
			want: `{"total_key_count":7,"total_instance_count":3,"total_worker_count":4,"instances":[{"instance_id":"inst1","key_count":1,"worker_count":1},{"instance_id":"inst2","key_count":0,"worker_count":1},{"instance_id":"inst3","key_count":6,"worker_count":2}]}`},
		{id: "67", method: "POST", path: "/clear", body: `{"instance_id":"nope","location":"LocalCPUBackend"}`, status: 500,
			want: `{"detail":"The number of tokens cleared should be the same across all workers."}`},
		{id: "68", method: "POST", path: "/clear", body: `{"instance_id":"inst1"}`, status: 422,
			want: `{"detail":[{"loc":["body","location"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "69", method: "POST", path: "/check_finish", body: `{"event_id":"Move4c39ced7-4d99-4e50-bb11-5fbd14c7e1ce"}`, status: 500,
			want: `{"detail":""}`},
		{id: "70", method: "POST", path: "/check_finish", body: `{}`, status: 422,
			want: `{"detail":[{"loc":["body","event_id"],"msg":"field required","type":"value_error.missing"}]}`},
		{id: "72", method: "POST", path: "/metrics/reset", ctype: "-", status: 200, want: `ok`},
		{id: "74", method: "GET", path: "/loglevel?logger_name=lmcache", status: 200, want: `lmcache: INFO`},
		{id: "75", method: "GET", path: "/periodic-threads", status: 200,
			want: `{"summary":{"total_count":0,"running_count":0,"active_count":0,"by_level":{"critical":{"total":0,"running":0,"active":0},"high":{"total":0,"running":0,"active":0},"medium":{"total":0,"running":0,"active":0},"low":{"total":0,"running":0,"active":0}}},"threads":[]}`},
		{id: "76", method: "POST", path: "/run_script", ctype: "-", status: 400, want: `No script file provided`},
		{id: "77", method: "GET", path: "/nonexistent", status: 404, want: `{"detail":"Not Found"}`},
		{id: "78", method: "GET", path: "/controller/key-stats", status: 200,
			before: func(s *Server) {
				s.AddWorker("inst3", 1, WorkerSpec{Port: 9999, PeerInitURL: "x"}) // duplicate RegisterMsg
			},
			want: `{"total_key_count":4,"total_instance_count":3,"total_worker_count":4,"instances":[{"instance_id":"inst1","key_count":1,"worker_count":1},{"instance_id":"inst2","key_count":0,"worker_count":1},{"instance_id":"inst3","key_count":3,"worker_count":2}]}`},
		{id: "79", method: "GET", path: "/controller/workers", status: 200,
			before: func(s *Server) { s.RemoveWorker("inst2", 0) },
			want:   `{"workers":[` + w1 + `,"key_count":1},` + w2 + `,"key_count":0},` + w3 + `,"key_count":3},` + w4 + `,"key_count":0}],"total_count":4}`},
		{id: "80", method: "POST", path: "/health", body: `{"instance_id":"inst2"}`, status: 200,
			want: `{"event_id":"healthdfcf50bb-243a-4f77-a9e0-0b5d60e0c3c7","error_codes":{}}`},
		{id: "81", method: "GET", path: "/controller/workers?instance_id=inst4&worker_id=0", status: 200,
			before: func(s *Server) {
				s.AddWorker("inst4", 0, WorkerSpec{Port: 8005, RegistrationTime: 1795300754.4826012})
				_, _ = s.Admit("inst4", 0, DefaultLocation, u32(0, 599))
			},
			want: `{"instance_id":"inst4","worker_id":0,"ip":"127.0.0.1","port":8005,"peer_init_url":null,"registration_time":1795300754.4826012,"last_heartbeat_time":1795300754.4826012,"key_count":2}`},
		{id: "82", method: "POST", path: "/move", body: `{"old_position":["inst1","LocalCPUBackend"],"new_position":["inst4","LocalCPUBackend"],"tokens":` + A + `}`, status: 500,
			want: `{"detail":"Src worker 0 not registered for instance inst1 or dst worker 0 not registered for instance inst4 or P2P is not enabled."}`},
		{id: "83", method: "GET", path: "/controller/workers?instance_id=inst4", status: 200,
			before: func(s *Server) { _ = s.KillWorker("inst4", 0) },
			want:   `{"workers":[{"instance_id":"inst4","worker_id":0,"ip":"127.0.0.1","port":8005,"peer_init_url":null,"registration_time":1795300754.4826012,"last_heartbeat_time":1795300754.4826012,"key_count":2}],"total_count":1}`},
		{id: "84", method: "POST", path: "/health", body: `{"instance_id":"inst4"}`, status: -1}, // hangs
		{id: "85", method: "POST", path: "/health", body: `{"instance_id":"inst4"}`, status: 500,
			want: `{"detail":"Operation cannot be accomplished in current state"}`},
		{id: "86", method: "POST", path: "/lookup", body: `{"tokens":` + A + `}`, status: 200,
			want: `{"event_id":"Lookup55b1c215-615c-46b8-9f01-de8b7ed1bb45","layout_info":{"inst1":["LocalCPUBackend",256],"inst4":["LocalCPUBackend",512]}}`},
	}
}

func send(ctx context.Context, base string, tr transcript) (*http.Response, []byte, error) {
	var body io.Reader
	if tr.body != "" {
		body = strings.NewReader(tr.body)
	}
	req, err := http.NewRequestWithContext(ctx, tr.method, base+tr.path, body)
	if err != nil {
		return nil, nil, err
	}
	switch tr.ctype {
	case "":
		if tr.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
	case "-":
	default:
		req.Header.Set("Content-Type", tr.ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// TestRecordedTranscripts replays spec §14 against the fake and compares
// status, content type and body byte for byte.
func TestRecordedTranscripts(t *testing.T) {
	q := &eventQueue{}
	s, ts := startAll(t, q)
	for _, tr := range transcripts() {
		if tr.before != nil {
			tr.before(s)
		}
		if m := eventIDRe.FindStringSubmatch(tr.want); m != nil {
			q.set(m[1])
		}
		if tr.status == -1 {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_, _, err := send(ctx, ts.URL, tr)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: want a hang (deadline exceeded), got %v", tr.id, err)
			}
			continue
		}
		resp, body, err := send(context.Background(), ts.URL, tr)
		if err != nil {
			t.Fatalf("%s: %v", tr.id, err)
		}
		if resp.StatusCode != tr.status {
			t.Errorf("%s: status %d, want %d (body %s)", tr.id, resp.StatusCode, tr.status, body)
		}
		if string(body) != tr.want {
			t.Errorf("%s: body mismatch\n got: %s\nwant: %s", tr.id, body, tr.want)
		}
		wantCT := "application/json"
		if !strings.HasPrefix(tr.want, "{") {
			wantCT = "text/plain; charset=utf-8"
		}
		if ct := resp.Header.Get("Content-Type"); ct != wantCT {
			t.Errorf("%s: content-type %q, want %q", tr.id, ct, wantCT)
		}
	}
}

// TestMetricsTranscript checks the controller gauges of transcript 71.
func TestMetricsTranscript(t *testing.T) {
	q := &eventQueue{}
	s, ts := startAll(t, q)
	_, _ = s.Evict("inst1", 0, DefaultLocation, s.ChunkKeys(u32(1000, 1511))...)
	resp, body, err := send(context.Background(), ts.URL, transcript{method: "GET", path: "/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d ct %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, line := range []string{
		`lmcache:cache_controller_kv_pool_keys_count{role="controller"} 8.0`,
		`lmcache:cache_controller_registered_workers_count{role="controller"} 4.0`,
		`lmcache:cache_controller_full_sync_global_progress{role="controller"} 1.0`,
		`# HELP lmcache:cache_controller_kv_op_seq_discontinuity_count Total count of KV operation sequence number discontinuities`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, body)
		}
	}
}
