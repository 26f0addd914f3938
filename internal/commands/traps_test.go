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

// Trap 2: a typo at any level exits 2 with a did-you-mean, never help with
// exit 0 (so "lmc config use-contex prod && lmc clear …" stops).
func TestTyposExit2AtEveryLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "use-contex", "prod"}, `unknown command "use-contex" for "lmc config"; did you mean "use-context"?`},
		{[]string{"completion", "bsh"}, `unknown command "bsh" for "lmc completion"; did you mean "bash" or "zsh"?`},
		{[]string{"help", "lokup"}, `unknown help topic "lokup" for "lmc"; did you mean "lookup"?`},
		{[]string{"help", "config", "use-contex"}, `unknown help topic "use-contex" for "lmc config"; did you mean "use-context"?`},
		{[]string{"lokup"}, `unknown command "lokup" for "lmc"; did you mean "lookup"?`},
		{[]string{"keys", "--modle", "m"}, `unknown flag: --modle; did you mean --model?`},
	} {
		r := runLMC(t, runOpts{}, tc.args...)
		if r.code != ExitUsage || !strings.HasPrefix(r.stderr, "lmc: "+tc.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	for _, args := range [][]string{{"config"}, {"help", "environment"}, {"completion"}, {"help"}} {
		if r := runLMC(t, runOpts{}, args...); r.code != 0 || r.stdout == "" {
			t.Errorf("%v: exit %d, stdout %q; want help and exit 0", args, r.code, r.stdout)
		}
	}
}
