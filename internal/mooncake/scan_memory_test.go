package mooncake_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	mc "lmc/internal/mooncake"
)

// syntheticStore serves /get_all_keys for n generated keys without holding
// them, and answers /batch_query_keys for whatever it is asked.
func syntheticStore(n int, pad string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /get_all_keys", func(w http.ResponseWriter, r *http.Request) {
		bw := bufio.NewWriterSize(w, 64<<10)
		for i := 0; i < n; i++ {
			fmt.Fprintf(bw, "model@%s@1@0@%016x@bfloat16\n", pad, i)
		}
		bw.Flush()
	})
	mux.HandleFunc("GET /batch_query_keys", func(w http.ResponseWriter, r *http.Request) {
		keys := strings.Split(r.URL.Query().Get("keys"), ",")
		bw := bufio.NewWriter(w)
		bw.WriteString(`{"success":true,"data":{`)
		for i, k := range keys {
			if i > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `%q:{"ok":true,"error":null,"values":[{"size_":4096,"buffer_address_":%d,"protocol_":"tcp","transport_endpoint_":"10.0.0.1:1"}]}`, k, 0x1000_0000_0000+i*4096)
		}
		bw.WriteString(`}}`)
		bw.Flush()
	})
	return mux
}

// ScanKeys holds one batch at a time: walking a listing far larger than the
// heap bound must not grow the heap with it (issue: a 10-million-key store
// listed by streaming).
func TestScanKeysBoundedMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams 45 MB and measures the heap (not under -short or -race)")
	}
	const n = 40_000
	pad := strings.Repeat("p", 1200) // ~1.2 KB a key: a 48 MB listing
	hs := httptest.NewServer(syntheticStore(n, pad))
	defer hs.Close()
	a, err := mc.NewAdmin(peer(t, hs.URL), mc.WithMaxURLLength(512<<10))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	seen := 0
	err = a.ScanKeys(context.Background(), 256, func(q mc.KeyQuery) error {
		if !q.OK || len(q.Values) != 1 {
			return fmt.Errorf("%+v", q)
		}
		seen++
		if seen%5000 == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
		}
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("scanned %d of %d: %v", seen, n, err)
	}
	grew := int64(peak) - int64(base.HeapInuse)
	t.Logf("heap in use grew by %d KB over a %d MB listing", grew>>10, n*len(pad)>>20)
	if grew > 24<<20 {
		t.Fatalf("heap grew %d MB while streaming a %d MB listing", grew>>20, n*len(pad)>>20)
	}
}
