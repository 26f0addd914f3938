package commands

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Strings from peers never reach the terminal raw: instance ids, versions,
// HA roles and error bodies with ESC, BEL, CR or OSC are escaped in
// tables, plain output, free text and error messages; JSON keeps the
// exact string (escaped by JSON itself).
func TestPeerTextIsEscaped(t *testing.T) {
	t.Parallel()
	const evil = "x\x1b]0;pwned\x07\x1b[2J\rY"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/lookup":
			_, _ = io.WriteString(w, `{"event_id":"e","layout_info":{"`+jsonEsc(evil)+`":["LocalCPUBackend",0]}}`)
		case "/health":
			_, _ = io.WriteString(w, `{"status":"ok","role":"`+jsonEsc(evil)+`","ha_state":"LEADER","service_ready":true}`)
		case "/controller/workers":
			_, _ = io.WriteString(w, `{"workers":[{"instance_id":"i","worker_id":0,"ip":"127.0.0.1","port":1,"peer_init_url":null,"registration_time":1,"last_heartbeat_time":1,"key_count":0}],"total_count":1}`)
		case "/controller/key-stats":
			_, _ = io.WriteString(w, `{"total_key_count":0,"total_instance_count":1,"total_worker_count":1,"instances":[{"instance_id":"i","key_count":0,"worker_count":1}]}`)
		case "/clear":
			w.WriteHeader(500)
			_, _ = io.WriteString(w, `{"detail":"`+jsonEsc(evil)+`"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		args []string
		tty  bool
	}{
		{[]string{"lookup", "--controller", srv.URL, "--tokens", "1,2,3", "-o", "table"}, true},
		{[]string{"lookup", "--controller", srv.URL, "--tokens", "1,2,3", "-o", "plain"}, false},
		{[]string{"health", "--admin", srv.URL, "-o", "table"}, true},
		{[]string{"clear", "--controller", srv.URL, "--instance", "i", "--yes"}, false},
	} {
		r := runLMC(t, runOpts{tty: tc.tty}, tc.args...)
		for _, bad := range []string{"\x1b]", "\x07", "\x1b[2J", "\r"} {
			if strings.Contains(r.stdout+r.stderr, bad) {
				t.Errorf("%v: a raw %q reached the terminal:\nstdout %q\nstderr %q", tc.args, bad, r.stdout, r.stderr)
			}
		}
		if !strings.Contains(r.stdout+r.stderr, `x\e]0;pwned\x07\e[2J\rY`) {
			t.Errorf("%v: the escaped form is missing:\nstdout %q\nstderr %q", tc.args, r.stdout, r.stderr)
		}
	}
	r := runLMC(t, runOpts{}, "lookup", "--controller", srv.URL, "--tokens", "1,2,3", "-o", "json")
	if !strings.Contains(r.stdout, `x\u001b]0;pwned\u0007\u001b[2J\rY`) {
		t.Errorf("JSON must keep the exact string, JSON-escaped: %s", r.stdout)
	}
}

func jsonEsc(s string) string {
	r := strings.NewReplacer("\x1b", `\u001b`, "\x07", `\u0007`, "\r", `\r`)
	return r.Replace(s)
}
