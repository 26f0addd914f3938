package mooncake_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/transport"
)

// hostileAdmin serves fixed answers per path over loopback.
func hostileAdmin(t *testing.T, h http.HandlerFunc) *mc.Admin {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	a, err := mc.NewAdmin(peer(t, hs.URL))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func answerWith(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const okEntry = `{"ok":true,"error":null,"values":[{"size_":1,"buffer_address_":2,"protocol_":"tcp","transport_endpoint_":"h:1"}],"disk_values":null,"local_disk_values":null,"nof_values":null}`

// HTTP 200 with success=false is the error it states, quoting the master,
// not "missing from the master's reply" for every key.
func TestAdminSuccessFalseIsAnError(t *testing.T) {
	a := hostileAdmin(t, answerWith(200, `{"success":false,"error":"service plane is not active"}`))
	qs, err := a.BatchQueryKeys(ctxT(t), []string{"a", "b"})
	var ae *mc.AdminError
	if !errors.As(err, &ae) || ae.Msg != "service plane is not active" || ae.Path != "/batch_query_keys" || qs != nil {
		t.Fatalf("%v %+v", err, qs)
	}
	if !strings.Contains(err.Error(), `"service plane is not active"`) || transport.Classify(err) == transport.ClassUnreachable {
		t.Fatalf("message %q", err)
	}
	if _, err := a.QueryKey(ctxT(t), "a"); !errors.As(err, &ae) {
		t.Fatalf("/query_key: %v", err)
	}
	if _, err := a.Health(ctxT(t)); !errors.As(err, &ae) {
		t.Fatalf("/health: %v", err)
	}

	// With a Mooncake code: a *MasterError that keeps the master's words.
	a = hostileAdmin(t, answerWith(200, `{"success":false,"error_code":-1011,"error_message":"service plane is not active"}`))
	_, err = a.BatchQueryKeys(ctxT(t), []string{"a"})
	var me *mc.MasterError
	if !errors.As(err, &me) || me.Code != mc.CodeUnavailableInCurrentMode || me.Msg != "service plane is not active" ||
		!strings.Contains(err.Error(), "service plane is not active") {
		t.Fatalf("%v", err)
	}
	// The same from a real-shaped standby (HTTP 503).
	s := startFake(t, sandboxmaster.WithStandby("10.0.0.9:50051"))
	sa, err := mc.NewAdmin(peer(t, s.AdminURL()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sa.BatchQueryKeys(ctxT(t), []string{"a"})
	if !errors.As(err, &me) || me.Code != mc.CodeUnavailableInCurrentMode || !strings.Contains(err.Error(), "service plane is not active") {
		t.Fatalf("standby: %v", err)
	}
}

// Answers that contradict themselves or the request are protocol errors.
func TestAdminContradictoryAnswers(t *testing.T) {
	cases := []struct {
		name, body string
		sentinel   error
		want       string
	}{
		{"ok with an error name", `{"success":true,"data":{"a":{"ok":true,"error":"OBJECT_NOT_FOUND","values":[]},"b":` + okEntry + `}}`, mc.ErrContradiction, `key "a" is ok and has error "OBJECT_NOT_FOUND"`},
		{"a key not asked", `{"success":true,"data":{"a":` + okEntry + `,"b":` + okEntry + `,"zz":` + okEntry + `}}`, mc.ErrContradiction, `key "zz", which was not asked`},
		{"a key twice", `{"success":true,"data":{"a":` + okEntry + `,"a":{"ok":false,"error":"OBJECT_NOT_FOUND"}}}`, mc.ErrContradiction, `key "a" twice`},
		{"trailing garbage", `{"success":true,"data":{"a":` + okEntry + `,"b":` + okEntry + `}} xyz`, mc.ErrTrailingData, `"xyz"`},
		{"a second document", `{"success":true,"data":{"a":` + okEntry + `,"b":` + okEntry + `}}{"success":false}`, mc.ErrTrailingData, "a second document"},
		{"success and an error", `{"success":true,"error_code":-1,"data":{}}`, mc.ErrContradiction, "names an error"},
		{"no success field", `{"data":{"a":` + okEntry + `}}`, nil, "no success field"},
		{"no data", `{"success":true}`, nil, "holds no data"},
		{"cut JSON", `{"success":true,"data":{"a":`, mc.ErrTruncated, "ends inside its JSON"},
		{"not JSON", `<html>`, nil, "not the expected JSON"},
		{"success twice", `{"success":false,"success":true,"data":{"a":` + okEntry + `}}`, mc.ErrContradiction, `"success" appears twice`},
		{"success in another case", `{"SUCCESS":true,"data":{"a":` + okEntry + `}}`, nil, `field "SUCCESS" is not "success"`},
		{"ok twice in an entry", `{"success":true,"data":{"a":{"ok":false,"error":"OBJECT_NOT_FOUND","Ok":true}}}`, mc.ErrContradiction, `the entry of key "a": field "Ok" appears twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := hostileAdmin(t, answerWith(200, tc.body))
			qs, err := a.BatchQueryKeys(ctxT(t), []string{"a", "b"})
			var pe *mc.ProtocolError
			if !errors.As(err, &pe) || (tc.sentinel != nil && !errors.Is(err, tc.sentinel)) || pe.Method != "/batch_query_keys" || qs != nil {
				t.Fatalf("err = %v (%+v)", err, qs)
			}
			if !strings.Contains(err.Error(), tc.want) || transport.Classify(err) == transport.ClassUnreachable {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
	// Trailing data after /health and /leader answers too.
	a := hostileAdmin(t, answerWith(200, `{"status":"ok","role":"leader"} {"status":"ok","role":"standby"}`))
	if _, err := a.Health(ctxT(t)); !errors.Is(err, mc.ErrTrailingData) {
		t.Fatalf("/health: %v", err)
	}
	for body, want := range map[string]string{
		`{"present":true,"leader_address":null,"view_version":1}`:          "names no address",
		`{"present":false,"leader_address":"h:50051","view_version":null}`: `names "h:50051"`,
		`{"leader_address":"h:50051"}`:                                     "no present field",
		`{"present":true,"leader_address":"h:1"}{}`:                        "second document",
	} {
		a := hostileAdmin(t, answerWith(200, body))
		if _, err := a.Leader(ctxT(t)); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("/leader %s: %v", body, err)
		}
	}
	a = hostileAdmin(t, answerWith(200, `{}`))
	if _, err := a.Health(ctxT(t)); err == nil || !strings.Contains(err.Error(), "no status") {
		t.Fatalf("/health without status: %v", err)
	}
}

// A key the answer leaves out stays an error for that key, not a miss.
func TestAdminMissingKeyIsAnError(t *testing.T) {
	a := hostileAdmin(t, answerWith(200, `{"success":true,"data":{"a":`+okEntry+`}}`))
	qs, err := a.BatchQueryKeys(ctxT(t), []string{"a", "b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !qs[0].OK || !qs[2].OK || qs[1].OK || qs[1].Code != mc.CodeInternalError || qs[1].Error != "missing from the master's reply" {
		t.Fatalf("%+v", qs)
	}
}

// Every admin request carries a body limit sized by what it can produce.
func TestAdminBodyLimits(t *testing.T) {
	big := strings.Repeat(" ", 2<<20)
	var bt *transport.BodyTooLargeError
	a := hostileAdmin(t, answerWith(200, `{"status":"ok"`+big+`}`))
	start := time.Now()
	if _, err := a.Health(ctxT(t)); !errors.As(err, &bt) || bt.Limit != 16<<10 {
		t.Fatalf("/health: %v", err)
	}
	if _, err := a.Leader(ctxT(t)); !errors.As(err, &bt) || bt.Limit != 16<<10 {
		t.Fatalf("/leader: %v", err)
	}
	if _, err := a.MetricsSummary(ctxT(t)); !errors.As(err, &bt) || bt.Limit != 64<<10 {
		t.Fatalf("/metrics/summary: %v", err)
	}
	if _, err := a.QueryKey(ctxT(t), "a"); !errors.As(err, &bt) || bt.Limit != 256<<10 {
		t.Fatalf("/query_key: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refusals took %v", d)
	}

	// A /batch_query_keys page may be as large as its keys can make it:
	// 100 keys with 8 replicas of 400-byte endpoints each pass, and the
	// same padded past the page's bound does not.
	keys := keysN("limit", 100)
	ep := strings.Repeat("e", 400)
	entry := func() map[string]any {
		vals := make([]mc.BufferDescriptor, 8)
		for i := range vals {
			vals[i] = mc.BufferDescriptor{Size: 1, BufferAddress: 2, Protocol: "tcp", TransportEndpoint: ep}
		}
		return map[string]any{"ok": true, "error": nil, "values": vals}
	}
	data := map[string]any{}
	for _, k := range keys {
		data[k] = entry()
	}
	legit, _ := json.Marshal(map[string]any{"success": true, "data": data})
	a = hostileAdmin(t, answerWith(200, string(legit)))
	qs, err := a.BatchQueryKeys(ctxT(t), keys)
	if err != nil || len(qs) != 100 || len(qs[99].Values) != 8 {
		t.Fatalf("a legitimate page of %d bytes: %v", len(legit), err)
	}
	padded := string(legit[:len(legit)-1]) + strings.Repeat(" ", 4<<20) + "}"
	a = hostileAdmin(t, answerWith(200, padded))
	if _, err := a.BatchQueryKeys(ctxT(t), keys); !errors.As(err, &bt) || bt.Limit >= 8<<20 {
		t.Fatalf("padded page: %v", err)
	}
}

// /get_all_keys is a stream of any length; each line is bounded instead.
func TestAdminAllKeysLineBound(t *testing.T) {
	const n = 400_000 // ~40 MB, more than any whole-body limit
	a := hostileAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		bw := bufio.NewWriter(w)
		for i := range n {
			fmt.Fprintf(bw, "meta-llama/Llama-3.1-8B-Instruct@1@0@%064x@bfloat16\n", i)
		}
		bw.Flush()
	})
	count := 0
	if err := a.GetAllKeys(ctxT(t), func(string) error { count++; return nil }); err != nil || count != n {
		t.Fatalf("%d keys, %v", count, err)
	}

	a = hostileAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "k1\nk2\n%s\nk3\n", strings.Repeat("x", mc.MaxKeyLineLength+1))
	})
	var got []string
	err := a.GetAllKeys(ctxT(t), func(k string) error { got = append(got, k); return nil })
	var pe *mc.ProtocolError
	if !errors.As(err, &pe) || pe.Method != "/get_all_keys" || !strings.Contains(err.Error(), "longer than 4096 bytes") || len(got) != 2 {
		t.Fatalf("%v %v", err, got)
	}
	// A line of exactly the bound (with a CR) is a key.
	a = hostileAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\r\n", strings.Repeat("y", mc.MaxKeyLineLength))
	})
	got = nil
	if err := a.GetAllKeys(ctxT(t), func(k string) error { got = append(got, k); return nil }); err != nil || len(got) != 1 || len(got[0]) != mc.MaxKeyLineLength {
		t.Fatalf("%v", err)
	}
}

// An answer cut short (fewer bytes than its Content-Length) is a wrong
// answer; a server that closes before answering is unreachable.
func TestAdminTruncatedAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf)
				if i%2 == 0 {
					fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"success\":true")
				}
			}()
		}
	}()
	a, err := mc.NewAdmin(peer(t, "http://"+ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.BatchQueryKeys(ctxT(t), []string{"a"})
	var pe *mc.ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, mc.ErrTruncated) || transport.Classify(err) == transport.ClassUnreachable || !strings.Contains(err.Error(), "after 15 bytes") {
		t.Fatalf("cut answer: %v", err)
	}
	_, err = a.BatchQueryKeys(ctxT(t), []string{"a"})
	if errors.As(err, &pe) || transport.Classify(err) != transport.ClassUnreachable {
		t.Fatalf("no answer: %v", err)
	}
}
