package commands

import (
	"encoding/json"
	"testing"
	"time"

	"lmc/internal/coordinatorclient/sandboxcoordinator"
)

// Spec §4 test vector: tokens 0..599, chunk size 256, blake3 from NONE.
const (
	mpHash0 = "084547b6c40ed5b05ba8cd0305db5bf74d5617673948d9ed193ab7d6cbc484d4"
	mpHash1 = "e5ffee45c2b9db326814c9692dc594369887ba3b0df5761817820b60f864c8e0"
)

// startFleet runs a fake coordinator and n fake MP servers that register
// with it and stream their cache events, over loopback.
func startFleet(t *testing.T, n int, cfg sandboxcoordinator.FleetConfig) *sandboxcoordinator.Fleet {
	t.Helper()
	cfg.Servers = n
	cfg.MPOptions = append([]sandboxcoordinator.MPOption{sandboxcoordinator.WithHeartbeat(0)}, cfg.MPOptions...)
	fl, err := sandboxcoordinator.StartFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fl.Close() })
	return fl
}

// store600 stores tokens 0..599 on server-1: chunks 0 and 1 in L1,
// chunk 0 also in L2 (the spec's §8 state).
func store600(t *testing.T, fl *sandboxcoordinator.Fleet, ws int) {
	t.Helper()
	s := fl.Servers[0]
	if _, err := s.Store("l1", seqU32(0, 600), model, ws, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store("l2", seqU32(0, 256), model, ws, ""); err != nil {
		t.Fatal(err)
	}
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return v
}

// testFactory is a Factory for calling shared functions directly.
func testFactory() *Factory {
	ios, _, _, _ := iostreamsTest()
	return &Factory{IOStreams: ios, Given: FlagSources{}, Timeout: 5 * time.Second, Build: BuildInfo{Version: "test"}}
}
