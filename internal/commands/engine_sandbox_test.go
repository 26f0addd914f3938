package commands

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lmc sandbox --populate --engine stores a prompt the way the engine
// writes it, and lmc lookup with the same flags hits it (the README's
// worked examples).
func TestSandboxPopulatesAsTheEngineWrites(t *testing.T) {
	for _, c := range []struct {
		name   string
		flags  []string
		stored int    // objects
		want   string // in the lookup JSON
	}{
		{"sglang", []string{"--engine", "sglang", "--page-size", "16", "--tp-size", "2", "--model", "Qwen/Qwen3-8B", "--drop-chunks", "2"}, 3 * 2 * 2, `"hit_tokens": 32`},
		{"vllm", []string{"--engine", "vllm", "--model", model, "--hash", "sha256_cbor", "--hash-seed", "0", "--tp-size", "2", "--num-kv-heads", "8", "--evict-memory-chunks", "0"}, 4 * 2, `"engine_hit_tokens": 48`},
	} {
		t.Run(c.name, func(t *testing.T) {
			prompt := writeFile(t, "prompt.json", "["+seqTokens(64)+"]")
			args := append([]string{"--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0", "--disk-tier", "-o", "json", "--populate", prompt}, c.flags...)
			cmd, line, v, stderr := startSandboxProcess(t, args...)
			if v.Stored != c.stored {
				t.Fatalf("%q (want %d objects)", line, c.stored)
			}
			// the hint repeats the key flags
			hint := ""
			for deadline := time.Now().Add(5 * time.Second); hint == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				for _, l := range strings.Split(stderr.String(), "\n") {
					if strings.HasPrefix(strings.TrimSpace(l), "lmc lookup --master "+v.Master) {
						hint = strings.TrimSpace(l)
					}
				}
			}
			if hint == "" || !strings.Contains(hint, "--engine "+c.name) {
				t.Fatalf("no lookup hint: %s", stderr.String())
			}
			lookupArgs := []string{"lookup", "--master", v.Master, "--placement", "-o", "json", prompt}
			for i := 0; i < len(c.flags); i++ {
				if c.flags[i] == "--drop-chunks" || c.flags[i] == "--evict-memory-chunks" {
					i++
					continue
				}
				lookupArgs = append(lookupArgs, c.flags[i])
			}
			out, err := lmcProcess(t, lookupArgs...).Output()
			if ee, ok := err.(*exec.ExitError); ok || err != nil {
				t.Fatalf("lookup: %v %v %s", err, ee, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("lookup: %s", out)
			}
			if c.name == "vllm" && !strings.Contains(string(out), `"tier": "disk"`) {
				t.Errorf("block 0's memory replica is evicted: expected placement from disk in %s", out)
			}
			_ = cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("sandbox did not stop on SIGINT")
			}
		})
	}
}

// Help lines of the engine flags fit 80 columns.
func TestEngineFlagHelpFits80Columns(t *testing.T) {
	for _, cmd := range []string{"keys", "explain", "lookup", "doctor", "sandbox", "clear", "move"} {
		r := runLMC(t, runOpts{}, cmd, "--help")
		for _, line := range strings.Split(r.stdout, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], "--") {
				continue
			}
			name := strings.TrimPrefix(f[0], "--")
			if !isEngineFlag(name) || (cmd == "lookup" || cmd == "clear" || cmd == "move") && name == "all-ranks" {
				continue // lookup's --all-ranks is LMCache's own flag
			}
			if n := len([]rune(line)); n > 80 {
				t.Errorf("lmc %s --help: %d columns: %s", cmd, n, line)
			}
		}
	}
}

func isEngineFlag(name string) bool {
	for _, n := range append(engineFlagNames, "all-ranks", "holes") {
		if n == name {
			return true
		}
	}
	return false
}
