package mooncake_test

import (
	"context"
	"testing"

	mc "lmc/internal/mooncake"
)

// FuzzAdminOpsResponses feeds arbitrary answers to the admin decoders of the
// store operations: no panic; what is accepted is sane.
func FuzzAdminOpsResponses(f *testing.F) {
	f.Add(200, `{"total_segments":1,"segments":[`+goodSegment+`]}`)
	f.Add(200, `{"total_segments":2,"segments":[{"segment_name":"127.0.0.1:17778","segment_id":"7882248709339116908-7022348964861404977","client_id":"7882248709339116908-7022348964593430133","base_address":"0x110000000000","size_bytes":1073741824,"size_human":"1 GiB","te_endpoint":"127.0.0.1:17778","protocol":"tcp","status":"OK","allocator_used_bytes":12288,"allocator_capacity_bytes":1073741824,"allocator_usage_percent":0.0011444091796875},`+goodSegment+`]}`)
	f.Add(200, "127.0.0.1:17777\nUsed(bytes): 16384\nCapacity(bytes) : 1073741824\n")
	f.Add(500, "Failed to query segment")
	f.Add(200, `{"success":true,"segment":"127.0.0.1:17777","status":1,"status_name":"OK","error_code":0,"error_message":""}`)
	f.Add(404, `{"success":false,"error_code":-101,"error_message":"SEGMENT_NOT_FOUND"}`)
	f.Add(200, `{"success":true,"removed_count":2}`)
	f.Add(200, "127.0.0.1:17778\n127.0.0.1:17777\n")
	f.Fuzz(func(t *testing.T, status int, body string) {
		a, _ := fuzzAdmin(t, status, body)
		ctx := context.Background()
		if segs, err := a.SegmentList(ctx); err == nil {
			for _, s := range segs {
				if !s.Status.Known() || s.UsedBytes > s.CapacityBytes || s.FreeBytes() > s.CapacityBytes {
					t.Fatalf("accepted %+v", s)
				}
			}
			idx := mc.NewSegmentIndex(segs)
			for _, s := range segs {
				if got, ok := idx.Locate(mc.BufferDescriptor{TransportEndpoint: s.TEEndpoint, BufferAddress: s.Base}); ok && !got.Holds(s.TEEndpoint, s.Base) && got.Protocol != "cxl" {
					t.Fatalf("located %+v for %+v", got, s)
				}
			}
		}
		if u, err := a.QuerySegment(ctx, "127.0.0.1:17777"); err == nil && (u.UsedBytes > u.CapacityBytes || u.Name != "127.0.0.1:17777") {
			t.Fatalf("accepted %+v", u)
		}
		if st, err := a.SegmentStatus(ctx, "127.0.0.1:17777"); err == nil && !st.Known() {
			t.Fatalf("status %v", st)
		}
		if n, err := a.RemoveAll(ctx, true, ""); err == nil && n < 0 {
			t.Fatalf("count %d", n)
		}
		_ = a.SegmentNames(ctx, func(string) error { return nil })
		_ = a.ScanKeys(ctx, 2, func(q mc.KeyQuery) error {
			if q.Key == "" {
				t.Fatal("empty key")
			}
			return nil
		})
	})
}
