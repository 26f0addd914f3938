package coordinatorclient

import (
	"encoding/json"
	"math"
	"testing"
)

// Seeds: the spec's answers (§6, §8, §10) and their neighbours.
var answerSeeds = []string{
	`{"status":"healthy"}`,
	`{"instances":[{"instance_id":"server-1","ip":"10.0.0.5","http_port":8080,"registration_time":1770000002.417,"metadata":{},"p2p_advertised_url":"","mq_port":0}]}`,
	`{"instances":[{"instance_id":"a","ip":"::1","http_port":1,"registration_time":1,"metadata":{"k":"v"}}]}`,
	`{"chunks":1,"results":[{"key":{"chunk_hash_hex":"e5ffee45c2b9db326814c9692dc594369887ba3b0df5761817820b60f864c8e0","model_name":"m","kv_rank":16777472,"object_group_id":0,"cache_salt":""},` +
		`"placements":[{"instance_id":"server-1","incarnation":1770000000,"tier":"l1","backend":"dram","size_bytes":33554432,"shared":false}],"token_ids":[256,257],"access_count":0}]}`,
	`{"results":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":1},"placements":[]}]}`,
	`{"chunks":0,"results":[]}`,
	`{"total":2,"keys":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":16777472,"object_group_id":0,"cache_salt":""},"placements":[{"instance_id":"s","incarnation":1,"tier":"l2","backend":"fs","size_bytes":1,"shared":false}],"num_tokens":256,"access_count":0}]}`,
	`{"num_keys":2,"num_placements":3,"l1_keys_by_instance":{"server-1":2},"blend":{"num_contents":0,"num_chunks":0,"num_claims":0,"num_namespaces":0,"table_size":1024},"l1_count":2,"l1_size_bytes":67108864,"l2_count":1,"l2_size_bytes":33554432}`,
	`{"num_keys":2,"num_placements":3,"instances":{"server-1":{"incarnation":1,"last_seq":4,"gap_detected":false,"num_l1_keys":2,"num_l2_keys":1}}}`,
	`{"instances":[{"instance_id":"server-1","registered":true,"declared_capacity":true,"modules":[{"tier":"l1","backend":"dram","shared":false,"used_bytes":67108864,"capacity_bytes":42949672960,"usage_ratio":0.0015625},{"tier":"l2","backend":"fs","shared":false,"used_bytes":33554432,"capacity_bytes":0,"usage_ratio":null}]}],"shared_modules":[]}`,
	`{"instance_id":"server-1","registered":false,"declared_capacity":false,"modules":[]}`,
	`{"total_gb":0.03125,"by_cache_salt":[{"cache_salt":"","quota_limit_gb":10.0,"quota_exists":true,"usage_gb":0.03125},{"cache_salt":"user-a","quota_limit_gb":5.5,"quota_exists":true,"usage_gb":0.0}]}`,
	`{"cache_salt":"","quota_limit_gb":0.0,"quota_exists":false,"usage_gb":0.0625}`,
	`{"cache_salt":"user-a","limit_gb":5.5,"status":"ok"}`,
	`{"cache_salt":"user-a","limit_gb":0.0,"status":"not_found"}`,
	`{"default_limit_gb":null}`,
	`{"default_limit_gb":0.0}`,
	`{"requested":2,"affected":2,"status":"pinned"}`,
	`{"total":1,"pins":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":1,"object_group_id":0,"cache_salt":""},"pin_count":2}]}`,
	`{"instance_id":"server-1","requested":2,"affected":2,"skipped":0,"status":"deleted"}`,
	`{"instance_id":"server-1","request_id":"3f1c2a9e8b7d4c6fa0e1d2c3b4a59687","chunks":2,"status":"submitted"}`,
	`{"chunks":0,"status":"noop"}`,
	`{"request_id":"x","status":"pending"}`,
	`{"request_id":"x","status":"completed","found_keys":1,"total_keys":2,"missing_key_indices":[1]}`,
	`{"move_id":"0123456789abcdef0123456789abcdef","source_instance_id":"a","target_instance_id":"b","requested":2,"status":"submitted"}`,
	`{"move_id":"m","source_instance_id":"a","target_instance_id":"b","status":"completed","phase":"delete","requested":2,"loaded":2,"missing":0,"deleted":2,"skipped":0,"error":""}`,
	`{"applied":4,"duplicates":0,"stale":0}`,
	`{"openapi":"3.1.0","info":{"title":"LMCache MP Coordinator","version":"1.0.0"},"paths":{"/healthz":{"get":{}},"/directory/lookup":{"post":{}}},"components":{"schemas":{"R":{"properties":{"access_count":{}}}}}}`,
	`{"detail":[{"type":"greater_than_equal","loc":["query","limit"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]}`,
	`{"detail":"no MP server registered with instance_id='server-9'"}`,
	`{"error":"unknown instance ghost; re-register"}`,
	`{"is_healthy":true,"engine_type":"MPCacheServer","chunk_size":256,"hash_algorithm":"blake3","cache_context_meta":{"0":{"model_name":"m","world_size":1,"kv_cache_layout":{"num_layers":32}}},"storage_manager":{"l1_manager":{"memory_total_bytes":1},"l2_adapters":[{"type":"S3L2Adapter"}]}}`,
	`{"status":"unhealthy","reason":"engine not initialized"}`,
	`{"status":"ok","cleared":{"tier":"l1"}}`,
	`{"adapter":"S3L2Adapter","entries":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":1},"size_bytes":5}],"next_page_token":null}`,
	`{"entries":[{"chunk_hash_hex":"00","model_name":"m","kv_rank":1,"size_bytes":5,"adapter":"S3L2Adapter"}],"next_page_token":"abc"}`,
	`{"deleted":2,"skipped":0,"ok":true}`,
	`{"requested":2,"evicted":2,"ok":false,"error":"x"}`,
	`Internal Server Error`, `<html></html>`, `{}`, `null`, `[]`, `{"a":1}{"b":2}`, `{"chunks":1e999}`, `{"results":[{"key":{"chunk_hash_hex":"zz"}}]}`,
}

func fuzzDecoder[T any](f *testing.F, decode func([]byte) (*T, error), check func(*testing.T, *T)) {
	for _, s := range answerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := decode(body)
		if err != nil {
			if res != nil {
				t.Fatalf("a result with an error: %v", err)
			}
			return
		}
		if res == nil {
			t.Fatal("no result and no error")
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("re-encoding %T: %v", res, err)
		}
		if check != nil {
			check(t, res)
		}
	})
}

func checkKey(t *testing.T, k Key) {
	if _, err := ParseChunkHash(k.ChunkHashHex); err != nil {
		t.Fatalf("accepted key hash %q", k.ChunkHashHex)
	}
}

func FuzzDecodeLookup(f *testing.F) {
	fuzzDecoder(f, DecodeLookup, func(t *testing.T, r *LookupResult) {
		if r.Chunks < -1 || r.Results == nil {
			t.Fatalf("%+v", r)
		}
		for _, x := range r.Results {
			checkKey(t, x.Key)
			if x.AccessCount < 0 || x.TokenIDs == nil {
				t.Fatalf("%+v", x)
			}
			for _, p := range x.Placements {
				if p.SizeBytes < 0 || (!p.Shared && p.InstanceID == "") {
					t.Fatalf("%+v", p)
				}
			}
		}
		if len(r.Results) == 0 && (r.HasTokenIDs || r.HasAccessCount) {
			t.Fatal("fields claimed for no results")
		}
		_ = r.PrefixHit(PlacementFilter{})
		_ = r.Holders()
	})
}

func FuzzDecodeKeysPage(f *testing.F) {
	fuzzDecoder(f, DecodeKeysPage, func(t *testing.T, p *KeysPage) {
		if len(p.Keys) > p.Total {
			t.Fatalf("%d keys of %d", len(p.Keys), p.Total)
		}
		for _, k := range p.Keys {
			checkKey(t, k.Key)
		}
	})
}

func FuzzDecodeDirectoryStats(f *testing.F) {
	fuzzDecoder(f, DecodeDirectoryStats, func(t *testing.T, s *DirectoryStats) {
		if s.NumKeys != nil && s.NumPlacements != nil && *s.NumPlacements < *s.NumKeys {
			t.Fatal("placements < keys")
		}
	})
}

func FuzzDecodeHealthz(f *testing.F) {
	fuzzDecoder(f, DecodeHealthz, func(t *testing.T, h *Health) {
		if h.Healthy != (h.Status == "healthy") {
			t.Fatal(h)
		}
	})
}

func FuzzDecodeInstances(f *testing.F) {
	fuzzDecoder(f, DecodeInstances, func(t *testing.T, l *InstanceList) {
		seen := map[string]bool{}
		for _, in := range l.Instances {
			if in.InstanceID == "" || seen[in.InstanceID] || in.HTTPPort < 1 || in.HTTPPort > 65535 || in.Metadata == nil {
				t.Fatalf("%+v", in)
			}
			seen[in.InstanceID] = true
			_ = in.HTTPURL()
		}
	})
}

func checkModules(t *testing.T, ms []ModuleUsage) {
	for _, m := range ms {
		if m.UsedBytes < 0 || m.CapacityBytes < 0 || m.CapacityBytes == 0 && m.UsageRatio != nil {
			t.Fatalf("%+v", m)
		}
		if m.UsageRatio != nil && math.IsNaN(*m.UsageRatio) {
			t.Fatal("NaN ratio")
		}
	}
}

func FuzzDecodeFleetUsage(f *testing.F) {
	fuzzDecoder(f, DecodeFleetUsage, func(t *testing.T, u *FleetUsage) {
		for _, i := range u.Instances {
			checkModules(t, i.Modules)
		}
		checkModules(t, u.SharedModules)
	})
}

func FuzzDecodeInstanceUsage(f *testing.F) {
	fuzzDecoder(f, DecodeInstanceUsage, func(t *testing.T, u *InstanceUsage) { checkModules(t, u.Modules) })
}

func FuzzDecodeQuotaList(f *testing.F) {
	fuzzDecoder(f, DecodeQuotaList, func(t *testing.T, q *QuotaList) {
		sum := 0.0
		for _, r := range q.ByCacheSalt {
			sum += r.UsageGB
			if !r.QuotaExists && r.QuotaLimitGB != 0 {
				t.Fatal(r)
			}
		}
		if math.Abs(sum-q.TotalGB) > 1e-9*math.Max(1, q.TotalGB) {
			t.Fatalf("sum %v total %v", sum, q.TotalGB)
		}
	})
}

func FuzzDecodeQuotaStatus(f *testing.F) { fuzzDecoder(f, DecodeQuotaStatus, nil) }
func FuzzDecodeQuotaWrite(f *testing.F)  { fuzzDecoder(f, DecodeQuotaWrite, nil) }
func FuzzDecodeQuotaConfig(f *testing.F) { fuzzDecoder(f, DecodeQuotaConfig, nil) }
func FuzzDecodePinResult(f *testing.F)   { fuzzDecoder(f, DecodePinResult, nil) }
func FuzzDecodeDeleteResult(f *testing.F) {
	fuzzDecoder(f, DecodeDeleteResult, nil)
}
func FuzzDecodeEventsResult(f *testing.F) { fuzzDecoder(f, DecodeEventsResult, nil) }

func FuzzDecodePinList(f *testing.F) {
	fuzzDecoder(f, DecodePinList, func(t *testing.T, p *PinList) {
		if len(p.Pins) > p.Total {
			t.Fatal(p)
		}
		for _, x := range p.Pins {
			checkKey(t, x.Key)
			if x.PinCount < 1 {
				t.Fatal(x)
			}
		}
	})
}

func FuzzDecodePrefetchSubmit(f *testing.F) {
	fuzzDecoder(f, DecodePrefetchSubmit, func(t *testing.T, p *PrefetchSubmitResult) {
		if p.Status == "submitted" && p.RequestID == "" || p.Status == "noop" && p.Chunks != 0 || p.Status != "submitted" && p.Status != "noop" {
			t.Fatal(p)
		}
	})
}

func FuzzDecodePrefetchStatus(f *testing.F) {
	fuzzDecoder(f, DecodePrefetchStatus, func(t *testing.T, p *PrefetchStatus) {
		if p.FoundKeys > p.TotalKeys || p.MissingKeyIndices != nil && len(p.MissingKeyIndices) != p.TotalKeys-p.FoundKeys {
			t.Fatal(p)
		}
	})
}

func FuzzDecodeMoveSubmit(f *testing.F) { fuzzDecoder(f, DecodeMoveSubmit, nil) }
func FuzzDecodeMoveStatus(f *testing.F) { fuzzDecoder(f, DecodeMoveStatus, nil) }
func FuzzDecodeOpenAPI(f *testing.F)    { fuzzDecoder(f, DecodeOpenAPI, nil) }
func FuzzDecodeMPStatus(f *testing.F) {
	fuzzDecoder(f, DecodeMPStatus, func(t *testing.T, s *MPStatus) {
		if s.ChunkSize < 0 || s.Contexts == nil {
			t.Fatal(s)
		}
	})
}
func FuzzDecodeMPHealth(f *testing.F)      { fuzzDecoder(f, DecodeMPHealth, nil) }
func FuzzDecodeMPClear(f *testing.F)       { fuzzDecoder(f, DecodeMPClear, nil) }
func FuzzDecodeObjectsPage(f *testing.F)   { fuzzDecoder(f, DecodeObjectsPage, nil) }
func FuzzDecodeObjectsDelete(f *testing.F) { fuzzDecoder(f, DecodeObjectsDelete, nil) }

func FuzzParseErrorBody(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env := ParseErrorBody(body)
		e := newAPIError(peerCoordinator, "", rLookup, 404, body)
		_ = e.Error()
		if env.Envelope != "" && !env.JSON {
			t.Fatal(env)
		}
	})
}

// FuzzSplit checks the splitters against encoding/json on valid JSON.
func FuzzSplit(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a\"b":[1,{"c":"]}"}],"a\"b":2, "e" : "\\u0041\\"" }`))
	f.Fuzz(func(t *testing.T, body []byte) {
		raw, err := document(body)
		if err != nil {
			return
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(raw, &want) == nil && want != nil {
			got, err := splitObject(raw)
			if err != nil || len(got) != len(want) {
				t.Fatalf("split %q: %v %v", raw, got, err)
			}
			for k, v := range want {
				if string(got[k]) != string(v) {
					t.Fatalf("%q: %q vs %q", k, got[k], v)
				}
			}
		}
		var wantL []json.RawMessage
		if json.Unmarshal(raw, &wantL) == nil && wantL != nil {
			got, err := splitArray(raw)
			if err != nil || len(got) != len(wantL) {
				t.Fatalf("split %q: %v %v", raw, got, err)
			}
			for i := range wantL {
				if string(got[i]) != string(wantL[i]) {
					t.Fatalf("[%d]: %q vs %q", i, got[i], wantL[i])
				}
			}
		}
	})
}
