package sandboxmaster

import (
	"context"
	"fmt"
	"testing"

	mc "lmc/internal/mooncake"
	"lmc/internal/transport"
)

// Bulk-stored keys are listed, looked up and removed like put ones.
func TestPopulateBulk(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	nodes := []Node{{Name: "a", Endpoint: "10.0.0.1:1"}, {Name: "b", Endpoint: "10.0.0.2:1", Size: 1 << 20}}
	n, err := s.PopulateBulk(ctx, 300, func(i int) string { return fmt.Sprintf("k%03d", i) }, nodes...)
	if err != nil || n != 300 {
		t.Fatalf("%d %v", n, err)
	}
	if len(s.Keys()) != 300 {
		t.Fatalf("%d keys", len(s.Keys()))
	}
	if got := s.ReplicaSegments("k001"); len(got) != 1 || got[0] != "b" {
		t.Fatalf("k001 on %v", got)
	}
	tr, err := transport.New(transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.Peer(s.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	adm, _ := mc.NewAdmin(p)
	segs, err := adm.SegmentList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idx := mc.NewSegmentIndex(segs)
	qs, err := adm.BatchQueryKeys(ctx, []string{"k000", "k001"})
	if err != nil || !qs[0].OK || len(qs[1].Values) != 1 {
		t.Fatalf("%+v %v", qs, err)
	}
	if sg, ok := idx.Locate(qs[1].Values[0]); !ok || sg.Name != "b" {
		t.Fatalf("located %v %v", sg, ok)
	}
	// b holds 1 MiB: 256 objects; 150 fit, a further 200 on b do not
	if _, err := s.PopulateBulk(ctx, 800, func(i int) string { return fmt.Sprintf("x%03d", i) }, nodes...); err == nil {
		t.Fatal("a full segment was not reported")
	}
	c, err := mc.Dial(ctx, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Remove(ctx, "k000", false); err != nil {
		t.Fatal(err)
	}
}
