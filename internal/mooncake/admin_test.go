package mooncake_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

// recorder counts the admin requests and their URL lengths.
type recorder struct {
	mu   sync.Mutex
	urls []string
	h    http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.RequestURI())
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func adminFor(t *testing.T, s *sandboxmaster.Server, opts ...mc.AdminOption) (*mc.Admin, *recorder, string) {
	t.Helper()
	rec := &recorder{h: s.AdminHandler()}
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	a, err := mc.NewAdmin(peer(t, hs.URL), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, rec, hs.URL
}

func TestAdminBatchQueryKeysSplitsAndMerges(t *testing.T) {
	s := startFake(t)
	keys := keysN("meta-llama/Llama-3.1-8B", 120) // '/' and '@' need escaping
	present := map[string]bool{}
	var put []string
	for i, k := range keys {
		if i%3 != 2 {
			put = append(put, k)
			present[k] = true
		}
	}
	if err := s.Populate(ctxT(t), put); err != nil {
		t.Fatal(err)
	}
	const limit = 1024
	a, rec, base := adminFor(t, s, mc.WithMaxURLLength(limit))
	res, err := a.BatchQueryKeys(ctxT(t), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.urls) < 5 {
		t.Fatalf("only %d requests for %d keys under %d bytes", len(rec.urls), len(keys), limit)
	}
	for _, u := range rec.urls {
		if len(base)+len(u) > limit {
			t.Fatalf("URL of %d bytes exceeds %d", len(base)+len(u), limit)
		}
	}
	for i, r := range res {
		if r.Key != keys[i] {
			t.Fatalf("result %d is for %q, want %q", i, r.Key, keys[i])
		}
		if present[r.Key] {
			if !r.OK || len(r.Values) != 1 || r.Values[0].TransportEndpoint != sandboxmaster.DefaultNode.Endpoint || r.Values[0].Size != sandboxmaster.PopulateObjectSize {
				t.Fatalf("present key %d: %+v", i, r)
			}
		} else if r.OK || r.Error != "OBJECT_NOT_FOUND" || r.Code != mc.CodeObjectNotFound {
			t.Fatalf("absent key %d: %+v", i, r)
		}
	}
	// Read-only: no lease was granted.
	for _, k := range put {
		if s.HasLease(k) {
			t.Fatalf("/batch_query_keys granted a lease on %q", k)
		}
	}
	if _, err := a.BatchQueryKeys(ctxT(t), []string{"a,b"}); err == nil {
		t.Fatal("a key with a comma must be refused")
	}
	if r, err := a.BatchQueryKeys(ctxT(t), nil); err != nil || len(r) != 0 {
		t.Fatal("empty list")
	}
}

func TestSplitBatch(t *testing.T) {
	esc := []string{"aaaa", "bb", "c", strings.Repeat("d", 50), "e"}
	got := mc.SplitBatch(10, 20, esc)
	// 10 + "aaaa,bb,c" = 19; then the 50-byte key alone; then "e".
	want := [][2]int{{0, 3}, {3, 4}, {4, 5}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v", got)
		}
	}
}

func TestAdminEndpoints(t *testing.T) {
	s := startFake(t)
	if err := s.Populate(ctxT(t), []string{"k1", "k2", "k@3"}); err != nil {
		t.Fatal(err)
	}
	// The fake's own admin listener.
	a, err := mc.NewAdmin(peer(t, strings.TrimPrefix(s.AdminURL(), "http://")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	h, err := a.Health(ctx)
	if err != nil || h.Status != "ok" || h.Role != "leader" || !h.ServiceReady || h.LeaderAddress != nil {
		t.Fatalf("health %+v %v", h, err)
	}
	sum, err := a.MetricsSummary(ctx)
	if err != nil || !strings.Contains(sum, "Keys: 3") || strings.Contains(sum, "\n") {
		t.Fatalf("summary %q %v", sum, err)
	}
	vals, err := a.QueryKey(ctx, "k@3")
	if err != nil || len(vals) != 1 || vals[0].Protocol != "tcp" {
		t.Fatalf("query_key %+v %v", vals, err)
	}
	if !s.HasLease("k@3") {
		t.Fatal("/query_key goes through GetReplicaList and must grant a lease")
	}
	_, err = a.QueryKey(ctx, "nope")
	var me *mc.MasterError
	if !errors.As(err, &me) || me.Code != mc.CodeObjectNotFound {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := a.QueryKey(ctx, "has space"); err == nil {
		t.Fatal("unescapable key accepted")
	}

	var got []string
	if err := a.GetAllKeys(ctx, func(k string) error { got = append(got, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "k1 k2 k@3" {
		t.Fatalf("keys %v", got)
	}
	n := 0
	for k, err := range a.AllKeys(ctx) {
		if err != nil || k == "" {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatal("iterator did not stop")
	}
	stop := errors.New("stop")
	if err := a.GetAllKeys(ctx, func(string) error { return stop }); err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}

	// A non-Mooncake HTTP error.
	bad, _ := mc.NewAdmin(peer(t, s.AdminURL()+"/nowhere"))
	_, err = bad.Health(ctx)
	var he *mc.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 404 {
		t.Fatalf("http error %v", err)
	}
	// A cancelled context is honoured.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Health(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
