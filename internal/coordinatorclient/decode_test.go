package coordinatorclient

import (
	"strconv"
	"strings"
	"testing"

	"lmc/internal/pyjson"
)

func TestDecodersLenient(t *testing.T) {
	// Instances before July 2026: no P2P fields.
	l, err := DecodeInstances([]byte(`{"instances":[{"instance_id":"a","ip":"10.0.0.1","http_port":8080,"registration_time":1.5,"metadata":{"zone":"b"}}]}`))
	if err != nil || l.HasP2PFields || l.Instances[0].HasP2PFields || l.Instances[0].Metadata["zone"] != "b" || l.Instances[0].MQPort != 0 {
		t.Errorf("%+v %v", l, err)
	}
	// A future last_heartbeat_time makes the age exact.
	l, _ = DecodeInstances([]byte(`{"instances":[{"instance_id":"a","ip":"h","http_port":1,"registration_time":1770000000,"metadata":{},"last_heartbeat_time":1770000010.0}]}`))
	if age, exact := l.Instances[0].HeartbeatAge(clock(), 0, 0); !exact || age.Seconds() > -7 && age.Seconds() < 0 || age < 0 {
		t.Errorf("age %s %v", age, exact)
	}
	// Lookups of 2026-08 (no access_count) and of the keys-only era.
	r, err := DecodeLookup([]byte(`{"chunks":1,"results":[{"key":{"chunk_hash_hex":"AB","model_name":"m","kv_rank":1},"placements":[],"token_ids":[1]}]}`))
	if err != nil || r.HasAccessCount || !r.HasTokenIDs || r.Results[0].Key.ObjectGroupID != 0 || len(r.Warnings) != 0 {
		t.Errorf("%+v %v", r, err)
	}
	if r, err = DecodeLookup([]byte(`{"results":[]}`)); err != nil || r.Chunks != -1 {
		t.Errorf("keys-only %+v %v", r, err)
	}
	// Older prefetch statuses lack request_id.
	if p, err := DecodePrefetchStatus([]byte(`{"status":"completed","found_keys":2,"total_keys":2}`)); err != nil || p.MissingKeyIndices != nil || !p.Completed() {
		t.Errorf("%+v %v", p, err)
	}
	// MP server /status before mid-2026.
	st, err := DecodeMPStatus([]byte(`{"engine_type":"MPCacheEngine","chunk_size":256,"hash_algorithm":"builtin-hash","gpu_context_meta":{"1":{"model_name":"m","world_size":2,"kv_cache_layout":{"block_size":16}}},"extra_module":{}}`))
	if err != nil || st.HashAlgorithm != "builtin-hash" || len(st.Contexts) != 1 || st.Contexts[0].WorldSize != 2 || !strings.Contains(strings.Join(st.Fields, ","), "extra_module") || len(st.Warnings) != 0 {
		t.Errorf("%+v %v", st, err)
	}
	// The 2026-05 objects listing and evict answer.
	op, err := DecodeObjectsPage([]byte(`{"entries":[{"chunk_hash_hex":"00","model_name":"m","kv_rank":1,"object_group_id":0,"cache_salt":"s","size_bytes":5,"adapter":"S3L2Adapter"}],"next_page_token":null}`))
	if err != nil || op.Entries[0].Key.CacheSalt != "s" || op.Entries[0].Adapter != "S3L2Adapter" || op.NextPageToken != "" || len(op.Warnings) != 0 {
		t.Errorf("%+v %v", op, err)
	}
	if d, err := DecodeObjectsDelete([]byte(`{"requested":3,"evicted":3,"ok":true}`)); err != nil || d.Deleted != 3 {
		t.Errorf("%+v %v", d, err)
	}
	// Integers written as floats, as pydantic accepts and Python may emit.
	if p, err := DecodePinResult([]byte(`{"requested":2.0,"affected":2,"status":"pinned"}`)); err != nil || p.Requested != 2 {
		t.Errorf("%+v %v", p, err)
	}
}

func TestDecodersRefuse(t *testing.T) {
	cases := []struct {
		name string
		fn   func([]byte) error
		body string
		want string
	}{
		{"lookup two docs", func(b []byte) error { _, err := DecodeLookup(b); return err }, `{"chunks":0,"results":[]} {"chunks":0,"results":[]}`, "more than one JSON document"},
		{"lookup null", func(b []byte) error { _, err := DecodeLookup(b); return err }, `null`, "not a JSON object"},
		{"lookup no results", func(b []byte) error { _, err := DecodeLookup(b); return err }, `{"chunks":0}`, "results is missing"},
		{"lookup string rank", func(b []byte) error { _, err := DecodeLookup(b); return err },
			`{"chunks":1,"results":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":"1"},"placements":[]}]}`, "results[0].key.kv_rank"},
		{"lookup bad hex", func(b []byte) error { _, err := DecodeLookup(b); return err },
			`{"chunks":1,"results":[{"key":{"chunk_hash_hex":"0g","model_name":"m","kv_rank":1},"placements":[]}]}`, "position 1"},
		{"lookup token range", func(b []byte) error { _, err := DecodeLookup(b); return err },
			`{"chunks":1,"results":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":1},"placements":[],"token_ids":[4294967296]}]}`, "not a token id"},
		{"lookup private placement without instance", func(b []byte) error { _, err := DecodeLookup(b); return err },
			`{"chunks":1,"results":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":1},"placements":[{"instance_id":"","tier":"l1"}]}]}`, "without instance_id"},
		{"keys page", func(b []byte) error { _, err := DecodeKeysPage(b); return err },
			`{"total":0,"keys":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":1},"placements":[]}]}`, "1 keys on a page of a listing of 0"},
		{"stats", func(b []byte) error { _, err := DecodeDirectoryStats(b); return err }, `{"num_keys":3,"num_placements":2}`, "num_placements 2 < num_keys 3"},
		{"usage ratio without capacity", func(b []byte) error { _, err := DecodeInstanceUsage(b); return err },
			`{"instance_id":"a","registered":true,"declared_capacity":true,"modules":[{"tier":"l1","backend":"dram","used_bytes":1,"capacity_bytes":0,"usage_ratio":0.0}]}`, "must be null"},
		{"usage ratio wrong", func(b []byte) error { _, err := DecodeInstanceUsage(b); return err },
			`{"instance_id":"a","registered":true,"declared_capacity":true,"modules":[{"tier":"l1","backend":"dram","used_bytes":1,"capacity_bytes":4,"usage_ratio":0.5}]}`, "is 0.25"},
		{"usage shared private", func(b []byte) error { _, err := DecodeInstanceUsage(b); return err },
			`{"instance_id":"a","registered":true,"declared_capacity":false,"modules":[{"tier":"l2","backend":"s3","shared":true,"used_bytes":1}]}`, "shared pool"},
		{"quota sum", func(b []byte) error { _, err := DecodeQuotaList(b); return err },
			`{"total_gb":1.0,"by_cache_salt":[{"cache_salt":"","quota_limit_gb":0.0,"quota_exists":false,"usage_gb":0.5}]}`, "adds up to 0.5"},
		{"quota phantom limit", func(b []byte) error { _, err := DecodeQuotaStatus(b); return err },
			`{"cache_salt":"","quota_limit_gb":3.0,"quota_exists":false,"usage_gb":0.0}`, "without a quota"},
		{"pin list zero", func(b []byte) error { _, err := DecodePinList(b); return err },
			`{"total":1,"pins":[{"key":{"chunk_hash_hex":"00","model_name":"m","kv_rank":1},"pin_count":0}]}`, "pin_count 0"},
		{"submit without id", func(b []byte) error { _, err := DecodePrefetchSubmit(b); return err }, `{"chunks":2,"status":"submitted"}`, "nothing to poll"},
		{"status found > total", func(b []byte) error { _, err := DecodePrefetchStatus(b); return err }, `{"status":"completed","found_keys":3,"total_keys":2}`, "found_keys 3 > total_keys 2"},
		{"status missing count", func(b []byte) error { _, err := DecodePrefetchStatus(b); return err },
			`{"status":"completed","found_keys":1,"total_keys":3,"missing_key_indices":[2]}`, "1 missing_key_indices for 1 of 3"},
		{"status missing dup", func(b []byte) error { _, err := DecodePrefetchStatus(b); return err },
			`{"status":"completed","found_keys":1,"total_keys":3,"missing_key_indices":[2,2]}`, "distinct"},
		{"move status", func(b []byte) error { _, err := DecodeMoveStatus(b); return err }, `{"status":"done"}`, `"done"`},
		{"move deleted > loaded", func(b []byte) error { _, err := DecodeMoveStatus(b); return err }, `{"status":"completed","loaded":1,"deleted":2}`, "deleted 2"},
		{"instances dup", func(b []byte) error { _, err := DecodeInstances(b); return err },
			`{"instances":[{"instance_id":"a","ip":"h","http_port":1},{"instance_id":"a","ip":"h","http_port":1}]}`, "listed twice"},
		{"instances port", func(b []byte) error { _, err := DecodeInstances(b); return err }, `{"instances":[{"instance_id":"a","ip":"h","http_port":0}]}`, "not a port"},
		{"openapi", func(b []byte) error { _, err := DecodeOpenAPI(b); return err }, `{"paths":{}}`, "not an OpenAPI document"},
		{"objects delete", func(b []byte) error { _, err := DecodeObjectsDelete(b); return err }, `{"ok":true}`, "neither deleted nor evicted"},
		{"mp chunk size", func(b []byte) error { _, err := DecodeMPStatus(b); return err }, `{"chunk_size":-1}`, "not a chunk size"},
		{"empty", func(b []byte) error { _, err := DecodeHealthz(b); return err }, ``, "empty answer"},
	}
	for _, tc := range cases {
		if err := tc.fn([]byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestStatsOldShape(t *testing.T) {
	st, err := DecodeDirectoryStats([]byte(`{"num_keys":2,"num_placements":3,"instances":{"server-1":{"incarnation":1,"last_seq":4,"gap_detected":true,"num_l1_keys":2,"num_l2_keys":1}},"mystery":{"a":{"b":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	ss := st.Streams["server-1"]
	if *ss.LastSeq != 4 || !*ss.GapDetected || *ss.NumL2Keys != 1 || st.HasTierTotals || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], `"mystery"`) {
		t.Errorf("%+v %v", st, st.Warnings)
	}
}

func TestTokenList(t *testing.T) {
	for in, want := range map[string]string{
		`[]`: "", `[ ]`: "", `[0,1, 2 ,3]`: "0,1,2,3", `[4294967295]`: "4294967295",
	} {
		got, err := tokenList([]byte(in), "t")
		var s []string
		for _, x := range got {
			s = append(s, strconv.FormatUint(uint64(x), 10))
		}
		if err != nil || strings.Join(s, ",") != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{`[4294967296]`, `[-1]`, `[1.0]`, `["1"]`, `[1,]`, `[,1]`, `[01]`, `[1 2]`, `[1e3]`, `{}`, `[`, `[99999999999999999999999]`} {
		if got, err := tokenList([]byte(in), "t"); err == nil {
			t.Errorf("%s accepted: %v", in, got)
		}
	}
}

func BenchmarkDecodeLookup128k(b *testing.B) {
	// 128k tokens, world size 8: 4000 results with 256 token ids each.
	var sb strings.Builder
	sb.WriteString(`{"chunks":500,"results":[`)
	for i := 0; i < 4000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"key":{"chunk_hash_hex":"` + h0 + `","model_name":"m","kv_rank":1,"object_group_id":0,"cache_salt":""},"placements":[{"instance_id":"server-1","incarnation":1,"tier":"l1","backend":"dram","size_bytes":1,"shared":false}],"token_ids":[` + ints(100000, 100255) + `],"access_count":0}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeLookup(body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTokensRequestChecks(t *testing.T) {
	for _, tc := range []struct {
		r    TokensRequest
		want string
	}{
		{TokensRequest{}, "model name is required"},
		{TokensRequest{ModelName: "a@b"}, "contains '@'"},
		{TokensRequest{ModelName: "m", WorldSize: 256}, "kv_rank packs it in 8 bits"},
		{TokensRequest{ModelName: "m", TokenIDs: make([]uint32, MaxTokenIDs+1)}, "at most 1000000"},
		{TokensRequest{ModelName: "m", ChunkSize: -1}, "negative"},
		{TokensRequest{ModelName: "m", CacheSalt: `a\b`}, `cache_salt must not contain {'\\'}`},
	} {
		if err := tc.r.normalize(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.r, err, tc.want)
		}
	}
	r := TokensRequest{ModelName: "m"}
	if err := r.normalize(); err != nil || r.WorldSize != 1 {
		t.Errorf("%+v %v", r, err)
	}
	if got := pyjson.Repr("it's\n"); got != `"it's\n"` {
		t.Errorf("%s", got)
	}
}
