package sandboxmaster

import (
	"context"
	"lmc/internal/transport"
	"testing"

	mc "lmc/internal/mooncake"
)

// With a storage root, every put gets a DISK replica beside the memory one;
// evicting memory leaves the key served from disk, over RPC and the admin API.
func TestDiskTier(t *testing.T) {
	s, err := Start("127.0.0.1:0", WithStorageRoot("/data/mooncake"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Populate(ctx, []string{"m@1@0@ab@bfloat16", "k2"}); err != nil {
		t.Fatal(err)
	}
	c, err := mc.Dial(ctx, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rl, err := c.GetReplicaList(ctx, "m@1@0@ab@bfloat16")
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.Replicas) != 2 || rl.Replicas[0].Kind != mc.KindMemory || rl.Replicas[1].Kind != mc.KindDisk ||
		rl.Replicas[1].Disk.FilePath != "/data/mooncake/m@1@0@ab@bfloat16" || rl.Replicas[1].Status != mc.ReplicaComplete {
		t.Fatalf("%+v", rl.Replicas)
	}
	if n := s.EvictMemory("m@1@0@ab@bfloat16"); n != 1 {
		t.Fatalf("evicted %d", n)
	}
	st, err := c.BatchExistKey(ctx, []string{"m@1@0@ab@bfloat16", "k2"})
	if err != nil || !st[0].Exists() || !st[1].Exists() {
		t.Fatalf("%v %v", st, err)
	}
	p, err := transport.NewPeer(s.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := mc.NewAdmin(p)
	qs, err := a.BatchQueryKeys(ctx, []string{"m@1@0@ab@bfloat16"})
	if err != nil || !qs[0].OK || len(qs[0].Values) != 0 || len(qs[0].DiskValues) != 1 || qs[0].DiskValues[0].FilePath != "/data/mooncake/m@1@0@ab@bfloat16" {
		t.Fatalf("%+v %v", qs, err)
	}
	// without a storage root, evicting memory removes the key
	s2, _ := Start("127.0.0.1:0")
	defer s2.Close()
	s2.Populate(ctx, []string{"x"})
	s2.EvictMemory("x")
	if len(s2.Keys()) != 0 {
		t.Fatal("key survived without replicas")
	}
}
