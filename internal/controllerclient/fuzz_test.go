package controllerclient

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"lmc/internal/controllerclient/sandboxcontroller"
	"lmc/internal/transport"
)

var responseSeeds = []string{
	`{"event_id":"Lookup4d872d04-478d-43a6-b6a4-f8d7ab3bb5f2","layout_info":{"inst1":["LocalCPUBackend",512]}}`,
	`{"event_id":"Lookup1ae1914f-16e8-4c9f-8bdf-2cc4dcfa1298","layout_info":{"inst1":["LocalCPUBackend",256],"inst2":["LocalCPUBackend",512]}}`,
	`{"event_id":"x","layout_info":{}}`,
	`{"res":"lmcache_default_instance"}`,
	`{"event_id":"Clearcb01c7e2","num_tokens":1024}`,
	`{"success":true}`,
	`{"event_ids":["a","b"]}`,
	`{"event_id":"healthb8626b53","error_codes":{"0":0,"1":-1}}`,
	`{"error_code":0}`,
	`{"alive":true}`,
	`{"status":"finished"}`,
	`{"event_id":"q","worker_infos":[{"instance_id":"inst1","worker_id":0,"ip":"127.0.0.1","port":8001,"peer_init_url":"127.0.0.1:8201","registration_time":1795300741.6803894,"last_heartbeat_time":1795300741.6803894}]}`,
	`{"workers":[{"instance_id":"inst4","worker_id":0,"ip":"127.0.0.1","port":8005,"peer_init_url":null,"registration_time":1795300754.4826012,"last_heartbeat_time":1795300754.4826012,"key_count":2}],"total_count":1}`,
	`{"instance_id":"inst1","worker_id":0,"ip":"127.0.0.1","port":8001,"distributed_url":"x","registration_time":1,"last_heartbeat_time":1,"key_count":4}`,
	`{"total_key_count":7,"total_instance_count":3,"total_worker_count":4,"instances":[{"instance_id":"inst1","key_count":1,"worker_count":1}]}`,
	`{"event_id":"QueryInst6fb6263f","res":"inst1"}`,
	`{"detail":[{"loc":["body","tokens",1],"msg":"value is not a valid integer","type":"type_error.integer"}]}`,
	`{"detail":[{"loc":["body",14],"msg":"Expecting ',' delimiter: line 1 column 15 (char 14)","type":"value_error.jsondecode","ctx":{"msg":"Expecting ',' delimiter","doc":"{\"tokens\":[1,2","pos":14,"lineno":1,"colno":15}}]}`,
	`{"detail":""}`,
	`{"detail":"Operation 'move' is not supported."}`,
	`{"error":"Invalid level: x"}`,
	`Internal Server Error`,
	`{"layout_info":{"a":["x",1e300]}}`,
	`{"layout_info":{"a":["x",-0.0],"a":["y",3]}}`,
}

func addSeeds(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
}

// checkJSON re-encodes a decoded result: everything the decoders return
// must be printable by the CLI.
func checkJSON(t *testing.T, v any) {
	t.Helper()
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("re-encoding %T: %v", v, err)
	}
}

// reencodes checks that what decode accepts from body re-encodes.
func reencodes[T any](t *testing.T, body []byte, decode func([]byte) (*T, error)) {
	t.Helper()
	if res, err := decode(body); err == nil {
		checkJSON(t, res)
	}
}

func FuzzDecodeLookup(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := DecodeLookup(body)
		if err != nil {
			if res != nil {
				t.Fatalf("DecodeLookup = %+v, %v; want no result with an error", res, err)
			}
			return
		}
		checkJSON(t, res)
		best := 0
		seen := map[string]bool{}
		for _, h := range res.Instances {
			best = max(best, h.HitTokens)
			if seen[h.InstanceID] {
				t.Fatalf("duplicate instance %q", h.InstanceID)
			}
			seen[h.InstanceID] = true
		}
		if !res.Legacy && best != res.MatchedTokens {
			t.Fatalf("matched %d, want the best instance's %d", res.MatchedTokens, best)
		}
	})
}

func FuzzDecodeOp(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if res, err := DecodeOp(body); err == nil {
			checkJSON(t, res)
		} else if res != nil {
			t.Fatalf("DecodeOp = %+v, %v; want no result with an error", res, err)
		}
		reencodes(t, body, DecodeCheckFinish)
		reencodes(t, body, DecodeQueryInstance)
	})
}

func FuzzDecodeHealth(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := DecodeHealth(body)
		if err != nil {
			return
		}
		checkJSON(t, res)
		for i := 1; i < len(res.Workers); i++ {
			if res.Workers[i-1].WorkerID > res.Workers[i].WorkerID {
				t.Fatalf("workers %+v, want them sorted by worker id", res.Workers)
			}
		}
		_ = res.Healthy()
		_ = res.Found()
	})
}

func FuzzDecodeWorkers(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		reencodes(t, body, DecodeWorkers)
		reencodes(t, body, DecodeWorkerInfos)
		reencodes(t, body, DecodeKeyStats)
	})
}

func FuzzAPIError(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, st := range []int{404, 422, 500, 503} {
			e := newAPIError(EndpointDecompress, st, body)
			if e.Kind == "" || e.Error() == "" {
				t.Fatalf("status %d: %+v; want a kind and a message", st, e)
			}
			checkJSON(t, e)
		}
	})
}

// BenchmarkLookup8k is a /lookup round trip of 8192 tokens (32 chunks, all
// cached) against the fake controller on loopback.
func BenchmarkLookup8k(b *testing.B) {
	s := sandboxcontroller.New()
	s.AddInstance("inst", 1)
	tokens := benchTokens()
	if _, err := s.Admit("inst", 0, DefaultLocation, tokens); err != nil {
		b.Fatal(err)
	}
	benchLookup(b, newBenchServer(b, s), tokens)
}

// benchTokens is the 8192-token prompt of the lookup benchmarks.
func benchTokens() []uint32 {
	tokens := make([]uint32, 8192)
	for i := range tokens {
		tokens[i] = uint32(i*7919) % 128000
	}
	return tokens
}

// benchLookup looks tokens up at the controller at url b.N times; every
// answer must match all 8192.
func benchLookup(b *testing.B, url string, tokens []uint32) {
	c, err := New(peerFor(b, url, transport.Options{}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, err := c.Lookup(ctx, tokens); err != nil || res.MatchedTokens != 8192 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkLookup8kClient measures the client alone (encode 8192 tokens,
// one loopback round trip, decode) against a handler with a canned answer.
func BenchmarkLookup8kClient(b *testing.B) {
	answer := []byte(`{"event_id":"Lookup4d872d04-478d-43a6-b6a4-f8d7ab3bb5f2","layout_info":{"inst":["LocalCPUBackend",8192]}}`)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
	defer ts.Close()
	benchLookup(b, ts.URL, benchTokens())
}
