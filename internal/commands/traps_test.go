package commands

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/controllerclient/sandboxcontroller"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/lmcachekey"
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

// Trap 3: mutations that did nothing do not report a green ✓, and a dry
// run fails like the real run would.
func TestMutationsThatDoNothing(t *testing.T) {
	t.Parallel()
	_, url := startController(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"clear", "--instance", "inst1", "--location", "LocalCpuBackend", "--yes"}, ExitUsage, "--location LocalCpuBackend: location names are case-sensitive and the controller does not check them; did you mean LocalCPUBackend?"},
		{[]string{"compress", "--instance", "inst1", "--method", "zstd", "--tokens", "1,2"}, ExitUsage, "--method zstd: the workers implement only cachegen"},
		{[]string{"clear", "--instance", "inst", "--dry-run"}, ExitFailed, `instance "inst" is not registered (registered: inst1, inst3); did you mean "inst1" or "inst3"?`},
		{[]string{"clear", "--instance", "inst11", "--dry-run"}, ExitFailed, `instance "inst11" is not registered (registered: inst1, inst3); did you mean "inst1"?`},
		{[]string{"move", "--from", "inst1", "--to", "inst1", "--tokens", "1,2"}, ExitUsage, "--from inst1 and --to inst1 are the same place"},
		{[]string{"move", "--from", "inst1", "--to", "inst9", "--tokens", "1,2"}, ExitFailed, `--to: LMCache controller ` + url + `: instance "inst9" is not registered (registered: inst1, inst3)`},
	} {
		r := runLMC(t, runOpts{}, append(tc.args, "--controller", url)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	// A clear that removed nothing is a warning with the likely cause.
	r := runLMC(t, runOpts{tty: true}, "clear", "--controller", url, "--instance", "inst3", "--yes")
	if r.code != 0 || strings.Contains(r.stdout, "✓") || !strings.Contains(r.stdout, "cleared 0 tokens on inst3 (LocalCPUBackend): nothing changed — the instance held nothing unpinned") {
		t.Errorf("0-token clear: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runLMC(t, runOpts{}, "pin", "--controller", url, "--instance", "inst3", "--tokens", seqTokens(300), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"warning": "nothing of this prompt is cached in LocalCPUBackend on that instance`) {
		t.Errorf("0-token pin JSON: exit %d, stdout %s", r.code, r.stdout)
	}
	// The dry run says what it would send, and the count now.
	r = runLMC(t, runOpts{tty: true}, "clear", "--controller", url, "--instance", "inst1", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would send: POST "+url+"/clear") || !strings.Contains(r.stdout, "now: inst1 holds") || strings.Contains(r.stdout, "verify:") {
		t.Errorf("dry run: exit %d, stdout %q", r.code, r.stdout)
	}
	// LMC_YES is said out loud.
	r = runLMC(t, runOpts{env: map[string]string{"LMC_YES": "1"}}, "clear", "--controller", url, "--instance", "inst3")
	if r.code != 0 || !strings.Contains(r.stderr, "--yes from env LMC_YES: not asking for confirmation") {
		t.Errorf("LMC_YES: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Trap 5: Ctrl-C at the confirmation ends lmc at once with 130, the
// prompt names what will be lost, and only the answer's line is read.
func TestConfirmationIsInterruptibleAndExact(t *testing.T) {
	t.Parallel()
	_, url := startController(t)
	ios, _, _, _ := iostreams.Test()
	errOut := &lockedBuffer{}
	ios.ErrOut = errOut
	pr, pw := io.Pipe()
	defer pw.Close()
	ios.In = pr
	ios.SetStdinTTY(true)
	ios.SetStdoutTTY(true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !strings.Contains(errOut.String(), "[y/N]") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	code := Main(ctx, ios, []string{"clear", "--controller", url, "--instance", "inst1"}, BuildInfo{Version: "t"})
	if code != ExitInterrupted {
		t.Fatalf("Ctrl-C at the prompt: exit %d, want 130; stderr %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), `Clear all unpinned KV cache of instance "inst1" in LocalCPUBackend on controller `+url+`? It holds 2 keys now`) {
		t.Fatalf("the prompt does not name the instance, controller and key count: %q", errOut.String())
	}
	// Only "n\n" is read: the next line stays for whoever reads next.
	ios2, in, _, _ := iostreams.Test()
	in.WriteString("n\nnext line\n")
	ios2.SetStdinTTY(true)
	ios2.SetStdoutTTY(true)
	if code := Main(context.Background(), ios2, []string{"clear", "--controller", url, "--instance", "inst1"}, BuildInfo{Version: "t"}); code != ExitFailed {
		t.Fatalf("answer n: exit %d, want 1", code)
	}
	if rest := in.String(); rest != "next line\n" {
		t.Fatalf("after the answer stdin holds %q, want %q", rest, "next line\n")
	}
}

// Trap 4: the wrong port is recognised at once and named, with the flag
// that fits.
func TestWrongPortIsNamed(t *testing.T) {
	t.Parallel()
	s := startMaster(t)
	_, ctrlURL := startController(t)
	adminHostPort := strings.TrimPrefix(s.AdminURL(), "http://")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lookup", "--master", adminHostPort, "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256)},
			adminHostPort + ` answered HTTP ("HTTP/1.`},
		{[]string{"lookup", "--admin", "http://" + s.Addr(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256)},
			s.Addr() + " answered the Mooncake master's RPC (coro_rpc): --admin wants the master's HTTP admin port (--metrics_port, default 9003); did you mean --master " + s.Addr() + "?"},
		{[]string{"lookup", "--controller", s.AdminURL(), "--tokens", "1,2,3"},
			s.AdminURL() + " is a Mooncake master's admin API, not an LMCache controller: did you mean --admin " + s.AdminURL() + "?"},
		{[]string{"health", "--admin", ctrlURL},
			ctrlURL + " is an LMCache controller, not a Mooncake admin API: did you mean --controller " + ctrlURL + "?"},
		{[]string{"lookup", "--controller", "http://" + s.Addr(), "--tokens", "1,2,3"},
			"--controller wants the LMCache controller's HTTP port (default 9000); did you mean --master " + s.Addr() + "?"},
	} {
		// With --timeout 1m, an exit 3 would mean lmc waited for the wrong
		// protocol instead of recognising it.
		r := runLMC(t, runOpts{}, append(tc.args, "--timeout", "1m")...)
		if r.code != ExitUsage || !strings.Contains(r.stderr+r.stdout, tc.want) { // health shows it in its table
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// Trap 6: -o wide shows full keys; a table written to a file or pipe is
// never cut; on a narrow terminal the HASH column goes before keys are
// shortened.
func TestKeysAreNotCut(t *testing.T) {
	t.Parallel()
	s := startMaster(t)
	args := []string{"--model", model, "--hash-seed", "0", "--tokens", seqTokens(512)}
	full := model + "@1@0@5f05dec65811b7cc@bfloat16"
	r := runLMC(t, runOpts{tty: true}, append([]string{"lookup", "--master", s.Addr(), "-o", "wide"}, args...)...)
	if !strings.Contains(r.stdout, full) {
		t.Errorf("lookup -o wide lacks the full key %s:\n%s", full, r.stdout)
	}
	r = runLMC(t, runOpts{}, append([]string{"keys", "-o", "table"}, args...)...)
	if !strings.Contains(r.stdout, full) || !strings.Contains(r.stdout, "5f05dec65811b7cc  ") {
		t.Errorf("keys -o table to a pipe cut the key or hash:\n%s", r.stdout)
	}
	r = runLMC(t, runOpts{tty: true, width: 80}, append([]string{"keys"}, args...)...)
	if !strings.Contains(r.stdout, full) || strings.Contains(r.stdout, "HASH") {
		t.Errorf("keys at 80 columns: want the HASH column dropped and the key whole:\n%s", r.stdout)
	}
	r = runLMC(t, runOpts{tty: true, width: 50}, append([]string{"keys"}, args...)...)
	if strings.Contains(r.stdout, full) || !strings.Contains(r.stdout, "…") {
		t.Errorf("keys at 50 columns: want keys shortened in the middle:\n%s", r.stdout)
	}
}

// lineHook calls fn with each complete line written, in order.
type lineHook struct {
	mu  sync.Mutex
	buf bytes.Buffer
	fn  func(n int, line string)
	n   int
}

func (h *lineHook) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Write(p)
	for {
		line, err := h.buf.ReadString('\n')
		if err != nil {
			h.buf.WriteString(line)
			return len(p), nil
		}
		h.n++
		h.fn(h.n, strings.TrimSpace(line))
	}
}

// Trap 7: --watch on the master survives a restart: the outage is a
// frame (a JSON line with the error when piped), and the next rounds
// reconnect.
func TestWatchSurvivesMasterRestart(t *testing.T) {
	t.Parallel()
	s := startMaster(t)
	addr := s.Addr()
	keys := keysFor(t, 256, lmcachekey.Builtin)
	if err := s.Populate(context.Background(), keys[:1]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lines []string
	var restarted *sandboxmaster.Server
	defer func() {
		if restarted != nil {
			restarted.Close()
		}
	}()
	hook := &lineHook{fn: func(n int, line string) {
		lines = append(lines, line)
		switch {
		case n == 1:
			s.Close() // the master goes away
		case strings.Contains(line, `"error"`) && restarted == nil:
			m, err := sandboxmaster.Start(addr)
			if err != nil {
				t.Errorf("restart on %s: %v", addr, err)
				cancel()
				return
			}
			_ = m.Populate(context.Background(), keys[:1])
			restarted = m
		case restarted != nil && strings.Contains(line, `"hit_tokens": 256`) || strings.Contains(line, `"hit_tokens":256`):
			if n > 2 {
				cancel()
			}
		}
		if n > 50 {
			cancel()
		}
	}}
	ios, _, _, errOut := iostreams.Test()
	ios.Out = hook
	code := Main(ctx, ios, []string{"lookup", "--master", addr, "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256), "--watch", "--interval", "100ms", "--timeout", "2s"}, BuildInfo{})
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want 130 (only Ctrl-C ends a watch); stderr %q; lines %q", code, errOut.String(), lines)
	}
	var outage, back bool
	for _, l := range lines {
		if strings.Contains(l, `"error"`) && strings.Contains(l, `"exit_code":3`) {
			outage = true
			if n := strings.Count(l, "Mooncake master "+addr); n != 1 {
				t.Errorf("the outage line names the master %d times, want once: %s", n, l)
			}
		}
		if outage && strings.Contains(l, `"hit_tokens":256`) {
			back = true
		}
	}
	if !outage || !back {
		t.Fatalf("want an outage line (exit_code 3) and then hits again; lines %q", lines)
	}
}

// A --watch that starts with the master down shows the outage once per
// frame: the message names the master once (it was wrapped twice).
func TestWatchStartingWithMasterDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lines []string
	hook := &lineHook{fn: func(n int, line string) {
		lines = append(lines, line)
		if n >= 2 {
			cancel()
		}
	}}
	ios, _, _, errOut := iostreams.Test()
	ios.Out = hook
	code := Main(ctx, ios, []string{"lookup", "--master", addr, "--model", "m", "--hash-seed", "0", "--tokens", seqTokens(256), "--watch", "--interval", "100ms"}, BuildInfo{})
	if len(lines) < 2 {
		t.Fatalf("exit %d, stderr %q: want two outage frames, got %q", code, errOut.String(), lines)
	}
	for _, l := range lines {
		if n := strings.Count(l, "Mooncake master "+addr); n != 1 || !strings.Contains(l, `"exit_code":3`) {
			t.Errorf("frame names the master %d times (want once, with exit_code 3): %s", n, l)
		}
	}
}

// Trap 15: a controller --watch keeps an instance whose hit fell to 0.
func TestControllerWatchKeepsInstances(t *testing.T) {
	t.Parallel()
	fake, url := startController(t)
	hashes, err := fake.Admit("inst1", 0, "LocalCPUBackend", seqU32(0, 600))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lines []string
	hook := &lineHook{fn: func(n int, line string) {
		lines = append(lines, line)
		if n == 1 {
			if _, err := fake.Evict("inst1", 0, "LocalCPUBackend", hashes...); err != nil {
				t.Error(err)
			}
		}
		if n >= 3 {
			cancel()
		}
	}}
	ios, _, _, _ := iostreams.Test()
	ios.Out = hook
	Main(ctx, ios, []string{"lookup", "--controller", url, "--tokens", seqTokens(600), "--watch", "--interval", "100ms"}, BuildInfo{})
	if len(lines) < 3 || !strings.Contains(lines[0], `"instance_id":"inst1"`) || !strings.Contains(lines[2], `{"instance_id":"inst1","location":"LocalCPUBackend","hit_tokens":0}`) {
		t.Fatalf("after the eviction inst1 must stay with 0: %q", lines)
	}
}

// Trap 8: a 0 % hit on a terminal points to doctor with the same flags.
func TestZeroHitPointsToDoctor(t *testing.T) {
	t.Parallel()
	s := startMaster(t)
	r := runLMC(t, runOpts{tty: true}, "lookup", "--master", s.Addr(), "--model", model, "--hash-seed", "7", "--tokens", seqTokens(512), "--min-hit", "0", "-o", "table")
	want := "lmc doctor --master " + s.Addr() + " --model " + model + " --hash-seed 7 --tokens " + seqTokens(512)
	if r.code != 0 || !strings.Contains(r.stderr, "no chunk of this prompt is in the store") || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr %q; want the doctor hint %q", r.code, r.stderr, want)
	}
	if r := runLMC(t, runOpts{}, "lookup", "--master", s.Addr(), "--model", model, "--hash-seed", "7", "--tokens", seqTokens(512)); strings.Contains(r.stderr, "doctor") {
		t.Fatalf("piped: no hint expected, stderr %q", r.stderr)
	}
}

// Trap 9: completion of --instance uses the context's controller (and
// LMC_CONTROLLER), and FILE arguments complete file names.
func TestCompletionUsesContextAndFiles(t *testing.T) {
	t.Parallel()
	_, url := startController(t)
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	if r := runLMC(t, runOpts{env: env}, "config", "set-context", "c", "--controller", url); r.code != 0 {
		t.Fatalf("set-context: %d %s", r.code, r.stderr)
	}
	runLMC(t, runOpts{env: env}, "config", "use-context", "c")
	for _, o := range []runOpts{{env: env}, {env: map[string]string{"LMC_CONTROLLER": url}}} {
		r := runLMC(t, o, "__complete", "pin", "--instance", "")
		if !strings.Contains(r.stdout, "inst1\ninst3\n") {
			t.Errorf("env %v: --instance completion %q, want inst1 and inst3", o.env, r.stdout)
		}
	}
	r := runLMC(t, runOpts{env: env}, "__complete", "--context", "c", "clear", "--instance", "in")
	if !strings.Contains(r.stdout, "inst1\ninst3\n") {
		t.Errorf("--context c: --instance completion %q", r.stdout)
	}
	for _, args := range [][]string{{"keys", ""}, {"lookup", ""}, {"sandbox", "--populate", ""}} {
		r := runLMC(t, runOpts{}, append([]string{"__complete"}, args...)...)
		if !strings.HasSuffix(strings.TrimSpace(r.stdout), ":0") && !strings.Contains(r.stdout, ":0\n") {
			t.Errorf("%v: completion directive %q, want :0 (file names)", args, r.stdout)
		}
	}
	// Bash's script needs the bash-completion package: the README says so.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "Bash completion needs\nthe `bash-completion` package") {
		t.Errorf("README does not say that bash completion needs the bash-completion package")
	}
}

// Trap 10: contexts are checked when saved, with the flags' rules; unset
// of an unknown setting is an error; delete-context, current-context and
// unset current-context exist; a new context is not silently current.
func TestContextsAreChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--master", "http://10.0.0.1:9003"}, `context "p": --master: "http://10.0.0.1:9003": the master's RPC address is HOST:PORT with no scheme`},
		{[]string{"--hash", "sha265"}, `context "p": unknown hash algorithm "sha265"`},
		{[]string{"--chunk-size", "-5"}, `--chunk-size -5: must be 1..1048576`},
		{[]string{"--controller", "ftp://x"}, `context "p": --controller: URL ftp://x: unsupported scheme`},
		{[]string{"--hash-seed", "abc"}, `context "p": --hash-seed: hash seed "abc"`},
	} {
		r := runLMC(t, runOpts{env: env}, append([]string{"config", "set-context", "p"}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	r := runLMC(t, runOpts{env: env}, "config", "set-context", "p", "--model", "m", "--hash", "sha256")
	if r.code != 0 || !strings.Contains(r.stderr, `context "p" created`) || !strings.Contains(r.stderr, "lmc config use-context p") {
		t.Fatalf("create: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "current-context"); r.code != ExitFailed || !strings.Contains(r.stderr, "no current context") {
		t.Fatalf("current-context with none: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "set-context", "p", "--unset", "hsh"); r.code != ExitUsage || !strings.Contains(r.stderr, "--unset hsh: no such setting; did you mean hash?") {
		t.Fatalf("--unset hsh: exit %d, stderr %q", r.code, r.stderr)
	}
	runLMC(t, runOpts{env: env}, "config", "use-context", "p")
	if r := runLMC(t, runOpts{env: env}, "config", "current-context"); r.code != 0 || r.stdout != "p\n" {
		t.Fatalf("current-context: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "unset", "current-context"); r.code != 0 {
		t.Fatalf("unset current-context: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "current-context"); r.code != ExitFailed {
		t.Fatalf("after unset: exit %d", r.code)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "delete-context", "q"); r.code != ExitUsage || !strings.Contains(r.stderr, `no context "q"`) || !strings.Contains(r.stderr, `did you mean "p"?`) {
		t.Fatalf("delete unknown: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "delete-context", "p"); r.code != 0 {
		t.Fatalf("delete: exit %d, stderr %q", r.code, r.stderr)
	}
	// A bad value already in a config file is named with its context.
	cfg := filepath.Join(dir, ".config", "lmc", "config.yaml")
	if err := os.WriteFile(cfg, []byte("current-context: old\ncontexts:\n  old:\n    hash: sha265\n    model: m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runLMC(t, runOpts{env: env}, "keys", "--hash-seed", "0", "--tokens", "1")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `--hash (from context old): unknown hash algorithm "sha265"`) {
		t.Fatalf("bad stored value: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Trap 11: the sandbox's "Try:" hint repeats the populate key flags and
// prompt, not a hard-coded example.
func TestSandboxHintFollowsPopulate(t *testing.T) {
	t.Parallel()
	prompt := writeFile(t, "my prompt.json", "["+seqTokens(600)+"]")
	cmd := lmcProcess(t, "sandbox", "--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0",
		"--populate", prompt, "--model", "org/my-model", "--hash", "sha256_cbor", "--hash-seed", "42", "--chunk-size", "128")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "Ctrl-C stops it") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := stderr.String()
	for _, want := range []string{"lmc lookup --master 127.0.0.1:", "--model org/my-model", "--hash sha256_cbor", "--hash-seed 42", "--chunk-size 128", "'" + prompt + "'"} {
		if !strings.Contains(out, want) {
			t.Errorf("hint %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "demo/model") {
		t.Errorf("hint still hard-coded: %q", out)
	}
}

// Trap 12: the same failure gets the same exit code from every HTTP peer,
// and https:// against plain HTTP is a configuration error (exit 1, not
// retried), not "safe to retry".
func TestSameFailureSameExitCode(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and closes at once: EOF before any answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	eof := "http://" + ln.Addr().String()
	for _, args := range [][]string{
		{"lookup", "--admin", eof, "--model", model, "--hash-seed", "0", "--chunk-size", "1", "--tokens", "1"},
		{"lookup", "--controller", eof, "--tokens", "1"},
		{"keys", "--model", model, "--hash-seed", "0", "--tokenize-url", eof, "--text", "hi"},
	} {
		if r := runLMC(t, runOpts{}, args...); r.code != ExitUnavailable {
			t.Errorf("%v (closed before answering): exit %d, want 3; stderr %q", args, r.code, r.stderr)
		}
	}
	fake, url := startController(t)
	before := fake.Requests("/lookup")
	r := runLMC(t, runOpts{}, "lookup", "--controller", strings.Replace(url, "http://", "https://", 1), "--tokens", "1")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "a TLS or scheme mismatch") || strings.Contains(r.stderr, "attempts") {
		t.Errorf("https against plain HTTP: exit %d, stderr %q; want exit 1, no retries", r.code, r.stderr)
	}
	if n := fake.Requests("/lookup") - before; n != 0 {
		t.Errorf("%d lookups reached the controller over plain HTTP", n)
	}
}

// Trap 13: text where token IDs are expected gets the flag that fits;
// Hugging Face's {"input_ids": …} is read; piped stdin is read without -.
func TestTextWhereTokensAreExpected(t *testing.T) {
	t.Parallel()
	txt := writeFile(t, "prompt.txt", "Explain KV caching\n")
	chat := writeFile(t, "chat.json", `[{"role":"user","content":"hi"}]`)
	hf := writeFile(t, "hf.json", `{"input_ids": [1, 2, 3]}`)
	key := []string{"keys", "--model", model, "--hash-seed", "0", "--chunk-size", "1"}
	for _, tc := range []struct {
		arg, want string
	}{
		{"Explain KV caching", "to look a prompt up by its text use --text 'Explain KV caching'"},
		{txt, "this looks like text: use --prompt-file " + txt},
		{chat, "this looks like chat messages: use --messages " + chat},
	} {
		r := runLMC(t, runOpts{}, append(key, tc.arg)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", tc.arg, r.code, r.stderr, tc.want)
		}
	}
	if r := runLMC(t, runOpts{}, append(key, hf)...); r.code != 0 || strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("input_ids: exit %d, stdout %q, stderr %q; want 3 keys", r.code, r.stdout, r.stderr)
	}
	if r := runLMC(t, runOpts{stdin: "1 2 3\n"}, key...); r.code != 0 || strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("piped stdin without -: exit %d, stdout %q, stderr %q; want 3 keys", r.code, r.stdout, r.stderr)
	}
}

// Trap 14: every help page fits 80 columns, lookup's flags are grouped,
// and the global flags are one line outside the root's help.
func TestHelpFits80Columns(t *testing.T) {
	t.Parallel()
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(&Factory{IOStreams: ios})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		args := append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "lmc")), "--help")
		r := runLMC(t, runOpts{}, args...)
		for i, line := range strings.Split(r.stdout, "\n") {
			if n := len([]rune(line)); n > 80 {
				t.Errorf("lmc %s: line %d has %d columns: %q", strings.Join(args, " "), i+1, n, line)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	r := runLMC(t, runOpts{}, "lookup", "--help")
	for _, want := range []string{"\nKey flags:\n", "\nInput flags:\n", "\nBackend flags:\n", "\nFlags:\n", "\nGlobal flags: "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lookup --help lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "--cacert string") {
		t.Errorf("lookup --help repeats the global flags in full")
	}
	r = runLMC(t, runOpts{}, "keys", "--model", "m", "--tokens", "1")
	for _, line := range strings.Split(r.stderr, "\n") {
		if len([]rune(line)) > 80 {
			t.Errorf("the no-seed error has a line of %d columns: %q", len([]rune(line)), line)
		}
	}
}

// Trap 15: the small things.
func TestSmallThings(t *testing.T) {
	t.Parallel()
	s := startMaster(t)
	_, url := startController(t)
	// plurals
	if r := runLMC(t, runOpts{tty: true}, "stats", "--controller", url); !strings.Contains(r.stdout, "2 instances, 3 workers") && !strings.Contains(r.stdout, " on 2 instances") {
		t.Errorf("stats summary: %q", r.stdout)
	}
	// --min-hit names prompts 0-based, like --prompt and the JSON index
	r := runLMC(t, runOpts{}, "lookup", "--master", s.Addr(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(512), "--min-hit", "0.5")
	if r.code != ExitBelow || !strings.Contains(r.stderr, "prompt 0: ") {
		t.Errorf("--min-hit: exit %d, stderr %q; want prompt 0", r.code, r.stderr)
	}
	// a prompt shorter than one chunk says so
	r = runLMC(t, runOpts{tty: true}, "lookup", "--master", s.Addr(), "--model", model, "--hash-seed", "0", "--tokens", "1,2,3")
	if !strings.Contains(r.stdout, "nothing to look up: the prompt's 3 tokens are fewer than one chunk") {
		t.Errorf("short prompt: %q", r.stdout)
	}
	// health says each failure once
	r = runLMC(t, runOpts{}, "health", "--master", "127.0.0.1:1")
	if r.code != ExitUnavailable || strings.Count(r.stdout+r.stderr, "connection refused") != 1 {
		t.Errorf("health failure printed %d times; stdout %q stderr %q", strings.Count(r.stdout+r.stderr, "connection refused"), r.stdout, r.stderr)
	}
	// help environment names the context variables and the precedence
	r = runLMC(t, runOpts{}, "help", "environment")
	for _, want := range []string{"LMC_CONTEXT", "LMC_CONFIG", "LMC_YES", "then the context"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help environment lacks %q", want)
		}
	}
}
