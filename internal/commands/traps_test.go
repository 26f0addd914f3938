package commands

import (
	"net/http/httptest"
	"strings"
	"testing"

	"lmc/internal/controllerclient/sandboxcontroller"
)

// Trap 1: a context that holds both a store and a controller. A backend
// named on the command line or in LMC_* replaces the context's other kind;
// with neither, lookup asks the store and says so.
func TestContextWithStoreAndController(t *testing.T) {
	t.Parallel()
	s := startMaster(t)
	ctrl := sandboxcontroller.New()
	ctrl.AddInstance("inst1", 1)
	ts := httptest.NewServer(ctrl)
	defer ts.Close()
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	r := runLMC(t, runOpts{env: env}, "config", "set-context", "sb", "--master", s.Addr(), "--admin", s.AdminURL(), "--controller", ts.URL, "--model", model, "--hash-seed", "0")
	if r.code != 0 {
		t.Fatalf("set-context: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "use-context", "sb"); r.code != 0 {
		t.Fatalf("use-context: exit %d, stderr %s", r.code, r.stderr)
	}
	tokens := seqTokens(512)
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		source string
	}{
		{"--master on the command line", nil, []string{"--master", s.Addr()}, `"source": "master+admin"`},
		{"--admin on the command line", nil, []string{"--admin", s.AdminURL()}, `"source": "master+admin"`},
		{"--controller on the command line", nil, []string{"--controller", ts.URL}, `"source": "controller"`},
		{"LMC_CONTROLLER", map[string]string{"LMC_CONTROLLER": ts.URL}, nil, `"source": "controller"`},
		{"neither: the store", nil, nil, `"source": "master+admin"`},
	} {
		e := map[string]string{"HOME": dir}
		for k, v := range tc.env {
			e[k] = v
		}
		r := runLMC(t, runOpts{env: e}, append([]string{"lookup", "--tokens", tokens, "-o", "json"}, tc.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, tc.source) {
			t.Errorf("%s: exit %d, stderr %q, stdout %.200s; want %s", tc.name, r.code, r.stderr, r.stdout, tc.source)
		}
	}
	// both named explicitly: an error that says where each came from
	r = runLMC(t, runOpts{env: map[string]string{"HOME": dir, "LMC_CONTROLLER": ts.URL}}, "lookup", "--master", s.Addr(), "--tokens", tokens)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--master (flag --master)") || !strings.Contains(r.stderr, "--controller (env LMC_CONTROLLER)") {
		t.Fatalf("explicit conflict: exit %d, stderr %q", r.code, r.stderr)
	}
}
