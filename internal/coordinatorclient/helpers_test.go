package coordinatorclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"lmc/internal/coordinatorclient/sandboxcoordinator"
	"lmc/internal/transport"
)

const (
	model = "meta-llama/Llama-3.1-8B-Instruct"
	h0    = "084547b6c40ed5b05ba8cd0305db5bf74d5617673948d9ed193ab7d6cbc484d4"
	h1    = "e5ffee45c2b9db326814c9692dc594369887ba3b0df5761817820b60f864c8e0"
	reqID = "3f1c2a9e8b7d4c6fa0e1d2c3b4a59687"
)

func seq(a, b int) []uint32 {
	out := make([]uint32, 0, b-a+1)
	for i := a; i <= b; i++ {
		out = append(out, uint32(i))
	}
	return out
}

func ints(a, b int) string {
	var sb strings.Builder
	for i := a; i <= b; i++ {
		if i > a {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(i))
	}
	return sb.String()
}

func keyJSON(h string) string {
	return `{"chunk_hash_hex":"` + h + `","model_name":"` + model + `","kv_rank":16777472,"object_group_id":0,"cache_salt":""}`
}

// events81 is the spec's §8.1 request, ellipses expanded.
func events81() string {
	return `{"batches":[` +
		`{"instance_id":"server-1","incarnation":1770000000,"seq":1,"event_type":"config","tier":"l1","backend":"dram","entries":[],"shared":false,"ts":1770000005.0,"capacity_bytes":42949672960,"capacity_revision":1},` +
		`{"instance_id":"server-1","incarnation":1770000000,"seq":2,"event_type":"config","tier":"l2","backend":"fs","entries":[],"shared":false,"ts":1770000005.0,"capacity_bytes":0,"capacity_revision":1},` +
		`{"instance_id":"server-1","incarnation":1770000000,"seq":3,"event_type":"store","tier":"l1","backend":"dram","entries":[` +
		`{"key":` + keyJSON(h0) + `,"size_bytes":33554432,"token_ids":[` + ints(0, 255) + `],"token_offset":0},` +
		`{"key":` + keyJSON(h1) + `,"size_bytes":33554432,"token_ids":[` + ints(256, 511) + `],"token_offset":256}],"shared":false,"ts":1770000060.0,"capacity_bytes":0,"capacity_revision":0},` +
		`{"instance_id":"server-1","incarnation":1770000000,"seq":4,"event_type":"store","tier":"l2","backend":"fs","entries":[` +
		`{"key":` + keyJSON(h0) + `,"size_bytes":33554432,"token_ids":[` + ints(0, 255) + `],"token_offset":0}],"shared":false,"ts":1770000061.0,"capacity_bytes":0,"capacity_revision":0}]}`
}

func clock() time.Time { return time.Unix(1770000002, 417000000) }

func newPeer(t testing.TB, url string, o transport.Options) *transport.Peer {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	p, err := transport.NewPeerWith(o, url)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func client(t testing.TB, url string, opts ...Option) *Client {
	t.Helper()
	c, err := FromPeer(newPeer(t, url, transport.Options{}), append([]Option{WithRetries(2, time.Millisecond, 5*time.Millisecond), WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rawDo(t testing.TB, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// coordinator starts a fake in the spec's §8 state (server-1 registered
// as in §8.4, then §8.1's events) and a client of it.
func coordinator(t testing.TB, opts ...sandboxcoordinator.Option) (*sandboxcoordinator.Server, *Client) {
	t.Helper()
	s, err := sandboxcoordinator.Start("", append([]sandboxcoordinator.Option{sandboxcoordinator.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if st, b := rawDo(t, "POST", s.URL()+"/instances", `{"instance_id":"server-1","ip":"10.0.0.5","http_port":8080,"p2p_advertised_url":"","mq_port":0}`); st != 200 {
		t.Fatalf("register: %d %s", st, b)
	}
	// Populate it the way MP servers do: POST /events (/directory/events
	// on 2026-08-03); generations before the directory take the same
	// batches through Ingest.
	var st int
	var b string
	switch s.Generation() {
	case sandboxcoordinator.Gen202606, sandboxcoordinator.Gen202607:
		var bb []byte
		st, bb = s.Ingest([]byte(events81()))
		b = string(bb)
	case sandboxcoordinator.Gen202608Early:
		st, b = rawDo(t, "POST", s.URL()+"/directory/events", events81())
	default:
		st, b = rawDo(t, "POST", s.URL()+"/events", events81())
	}
	if st != 200 || b != `{"applied":4,"duplicates":0,"stale":0}` {
		t.Fatalf("events: %d %s", st, b)
	}
	s.ResetRequests()
	return s, client(t, s.URL())
}

// lastBody is the body of the last request to path.
func lastBody(t testing.TB, s interface {
	LastRequest(string, string) (sandboxcoordinator.Request, bool)
}, method, path string) string {
	t.Helper()
	r, ok := s.LastRequest(method, path)
	if !ok {
		t.Fatalf("no %s %s", method, path)
	}
	return r.Body
}

func as[T error](t testing.TB, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("want %T, got %T: %v", target, err, err)
	}
	return target
}

func ctx() context.Context { return context.Background() }

func compact(s string) string {
	var b bytes.Buffer
	_ = jsonCompact(&b, []byte(s))
	return b.String()
}

func jsonCompact(b *bytes.Buffer, s []byte) error { return json.Compact(b, s) }
