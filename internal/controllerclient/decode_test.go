package controllerclient

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeDriftShapes(t *testing.T) {
	t.Parallel()
	lk, err := DecodeLookup([]byte(`{"event_id":"Lookupx","layout_info":{"B":["LocalCPUBackend",256.0],"A":["LocalCPUBackend",512]}}`))
	if err != nil || len(lk.Instances) != 2 || lk.Instances[0].InstanceID != "B" || lk.MatchedTokens != 512 {
		t.Fatalf("ordered layout: %+v %v; want 2 instances in the body's order (B first), 512 tokens matched, nil", lk, err)
	}
	if lk, err = DecodeLookup([]byte(`{"res":"lmcache_default_instance"}`)); err != nil || !lk.Legacy ||
		lk.Instances[0].InstanceID != "lmcache_default_instance" {
		t.Fatalf("legacy lookup: %+v %v; want a legacy result naming lmcache_default_instance, nil", lk, err)
	}
	if lk, err = DecodeLookup([]byte(`{"layout_info":{}}`)); err != nil || lk.EventID != "" || len(lk.Instances) != 0 {
		t.Fatalf("v0.3.0 lookup: %+v %v; want no event id, no instances, nil", lk, err)
	}
	for _, bad := range []string{`[]`, `null`, `{"layout_info":[]}`, `{"layout_info":{"a":["x"]}}`,
		`{"layout_info":{"a":["x",1.5]}}`, `{"event_id":1,"layout_info":{}}`, `{}`, `<html>`} {
		if _, err := DecodeLookup([]byte(bad)); err == nil {
			t.Errorf("DecodeLookup(%s) error = nil, want an error", bad)
		}
	}

	op, err := DecodeOp([]byte(`{"success":true}`))
	if err != nil || op.Success == nil || !*op.Success || op.HasNumTokens {
		t.Fatalf("legacy clear: %+v %v; want success true, no num_tokens, nil", op, err)
	}
	if op, err = DecodeOp([]byte(`{"event_ids":["Move1","Move2"]}`)); err != nil || len(op.EventIDs) != 2 {
		t.Fatalf("legacy move: %+v %v; want 2 event ids, nil", op, err)
	}
	if op, err = DecodeOp([]byte(`{"event_id":"Compress1"}`)); err != nil || op.HasNumTokens {
		t.Fatalf("v0.3.0 compress: %+v %v; want no num_tokens, nil", op, err)
	}

	h, err := DecodeHealth([]byte(`{"event_id":"h","error_codes":{"10":0,"2":-1}}`))
	if err != nil || h.Workers[0].WorkerID != 2 || h.Workers[1].WorkerID != 10 || h.Healthy() {
		t.Fatalf("health order: %+v %v; want workers 2 then 10, not healthy, nil", h, err)
	}
	if h, err = DecodeHealth([]byte(`{"event_id":"h","error_code":0}`)); err != nil || !h.Found() || !h.Healthy() {
		t.Fatalf("single error_code: %+v %v; want found and healthy, nil", h, err)
	}
	if h, err = DecodeHealth([]byte(`{"alive":false}`)); err != nil || !h.Found() || h.Healthy() {
		t.Fatalf("alive false: %+v %v; want found, not healthy, nil", h, err)
	}
	if cf, err := DecodeCheckFinish([]byte(`{"finished":true}`)); err != nil || cf.Finished == nil || !*cf.Finished {
		t.Fatalf("finished: %+v %v; want finished true, nil", cf, err)
	}

	wi, err := DecodeWorkerInfos([]byte(`{"event_id":"q","worker_infos":[{"instance_id":"a","worker_id":0,"ip":"1.2.3.4","port":1,"distributed_url":"1.2.3.4:8200","registration_time":1.5,"last_heartbeat_time":2}]}`))
	if err != nil || *wi.Workers[0].PeerInitURL != "1.2.3.4:8200" || wi.Workers[0].KeyCount != nil {
		t.Fatalf("distributed_url: %+v %v; want peer_init_url 1.2.3.4:8200 from distributed_url, no key_count, nil", wi, err)
	}
	ws, err := DecodeWorkers([]byte(`{"workers":[{"instance_id":"a","worker_id":0,"ip":"x","port":1,"peer_init_url":null,"registration_time":1,"last_heartbeat_time":1}],"total_count":1}`))
	if err != nil || ws.Workers[0].KeyCount != nil || ws.Workers[0].PeerInitURL != nil {
		t.Fatalf("workers without key_count: %+v %v; want no key_count, no peer_init_url, nil", ws, err)
	}
	out, err := json.Marshal(ws.Workers[0])
	if err != nil {
		t.Fatalf("re-encoding the worker: %v", err)
	}
	if want := `{"instance_id":"a","worker_id":0,"ip":"x","port":1,"peer_init_url":null,"registration_time":1,"last_heartbeat_time":1}`; string(out) != want {
		t.Fatalf("re-emitted:\n got %s\nwant %s", out, want)
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	e := newAPIError(EndpointLookup, 500, []byte("Internal Server Error"))
	if e.Kind != KindServer || e.Detail != "Internal Server Error" {
		t.Fatalf("a plain-text 500: %+v; want a %s error with the body as detail", e, KindServer)
	}
	e = newAPIError(EndpointWorkers, 404, []byte(`{"detail":"Not Found"}`))
	if e.Kind != KindEndpointMissing || e.Hint == "" {
		t.Fatalf("a 404 from %s: %+v; want a %s error with a hint", EndpointWorkers, e, KindEndpointMissing)
	}
	e = newAPIError("/periodic-threads/x", 404, []byte(`{"error":"Thread not found: x"}`))
	if e.Kind != KindNotFound || e.Detail != "Thread not found: x" {
		t.Fatalf("an \"error\" body: %+v; want a %s error with detail %q", e, KindNotFound, "Thread not found: x")
	}
	e = newAPIError(EndpointClear, 500, []byte(`{"detail":"'ErrorMsg' object has no attribute 'event_id'"}`))
	if e.Kind != KindWorkerFailure {
		t.Fatalf("a worker's ErrorMsg: %+v; want a %s error", e, KindWorkerFailure)
	}
	var err error = e
	var ae *APIError
	if !errors.As(err, &ae) || IsUnavailable(err) {
		t.Fatalf("errors.As(*APIError) %v, IsUnavailable %v; want true, false", errors.As(err, &ae), IsUnavailable(err))
	}
}
