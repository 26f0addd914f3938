package commands

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"lmc/internal/commands/iostreams"
	"lmc/internal/tokenize/lmcachekey"
)

// TestMain lets the test binary act as the lmc binary, so tests can run lmc
// as a real separate process (signals, exit codes, pipes).
func TestMain(m *testing.M) {
	if os.Getenv("LMC_TEST_BE_LMC") == "1" {
		ctx, stop := signalContext()
		code := Main(ctx, iostreams.System(), os.Args[1:], BuildInfo{Version: "test", Commit: "test", Date: "test"})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func lmcProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "LMC_TEST_BE_LMC=1", "NO_COLOR=1")
	return cmd
}

func TestDemo(t *testing.T) {
	r := runLMC(t, runOpts{}, "demo")
	if r.code != 0 {
		t.Fatalf("demo exited %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"$ lmc lookup --master 127.0.0.1:", "hit 256 of 1000 tokens (25.6 %), 1 of 3 chunks", "✓ pinned 256 tokens on sandbox", "best hit 256 of 1000 tokens"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "\x1b") {
		t.Error("escape codes in piped demo output")
	}
}

func TestSandboxProcess(t *testing.T) {
	prompt := writeFile(t, "prompt.json", "["+seqTokens(600)+"]")
	cmd, line, v, stderr := startSandboxProcess(t, "--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0",
		"-o", "json", "--populate", prompt, "--model", model, "--hash-seed", "0", "--drop-chunks", "1")
	if v.Master == "" || v.Stored != 1 {
		t.Fatalf("%q", line)
	}
	out, code := runProcess(t, "lookup", "--master", v.Master, "--model", model, "--hash-seed", "0", "-o", "json", prompt)
	if code != 0 || !strings.Contains(out, `"hit_tokens": 256`) || !strings.Contains(out, `"status": "miss"`) {
		t.Fatalf("lookup: %d %s", code, out)
	}
	out, code = runProcess(t, "lookup", "--master", v.Master, "--model", model, "--hash-seed", "0", "--min-hit", "0.5", prompt)
	if code != ExitBelow {
		t.Fatalf("min-hit: %d %s", code, out)
	}
	out, code = runProcess(t, "pin", "--controller", v.Controller, "--instance", SandboxInstance, "--tokens", seqTokens(300), "-o", "json")
	if code != 0 || !strings.Contains(out, `"num_tokens": 256`) {
		t.Fatalf("pin: %d %s", code, out)
	}
	out, code = runProcess(t, "clear", "--controller", v.Controller, "--instance", SandboxInstance, "--yes", "-o", "json")
	if code != 0 || !strings.Contains(out, `"operation": "clear"`) {
		t.Fatalf("clear: %d %s", code, out)
	}
	interruptSandbox(t, cmd, stderr)
	if !strings.Contains(stderr.String(), "sandbox stopped") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func TestSandboxDiskTier(t *testing.T) {
	sb, err := startSandbox(sandboxConfig{masterAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0", controllerAddr: "127.0.0.1:0", diskTier: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.close()
	p := lmcachekey.DefaultParams()
	p.Model = model
	p.NoneHash, _ = p.NoneHashFromSeed("0")
	toks := make([]uint32, 768)
	for i := range toks {
		toks[i] = uint32(i)
	}
	if _, _, err := sb.populate(context.Background(), p, toks, nil, map[int]bool{1: true}, 2); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "lookup", "--admin", sb.master.AdminURL(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(768), "-o", "json")
	var v lookupJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.HitTokens != 768 {
		t.Fatalf("%v %s %s", err, r.stdout, r.stderr)
	}
	tiers := func(i int) (out []string) {
		for _, rep := range v.Chunks[i].Replicas {
			out = append(out, rep.Tier)
		}
		return out
	}
	if got := strings.Join(tiers(0), ","); got != "memory,disk" {
		t.Fatalf("chunk 0 tiers %s", got)
	}
	if got := strings.Join(tiers(1), ","); got != "disk" {
		t.Fatalf("chunk 1 (evicted from memory) tiers %s", got)
	}
	// the RPC path reads the same placement
	r = runLMC(t, runOpts{}, "lookup", "--master", sb.master.Addr(), "--placement", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(768), "-o", "json")
	if !strings.Contains(r.stdout, `"tier": "disk"`) || !strings.Contains(r.stdout, `"path": "/mnt/mooncake/`) {
		t.Fatalf("%s", r.stdout)
	}
}
