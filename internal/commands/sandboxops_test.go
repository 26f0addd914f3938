package commands

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The sandbox models the store operations end to end, as a script sees
// them: segments mounted at start (one draining), a chunk mid-write, a
// leased chunk, tasks executed by the sandbox's storage client.
func TestSandboxModelsStoreOperations(t *testing.T) {
	prompt := writeFile(t, "prompt.json", "["+seqTokens(1024)+"]")
	cmd := lmcProcess(t, "sandbox", "--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0",
		"-o", "json", "--populate", prompt, "--model", model, "--hash-seed", "0", "--nodes", "3",
		"--writing-chunks", "1", "--leased-chunks", "0", "--lease-ttl", "1h", "--drain-nodes", "2", "--execute-tasks", "--segment-mib", "64")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v; stderr %s", err, stderr.String())
	}
	var v sandboxView
	if err := json.Unmarshal([]byte(line), &v); err != nil || v.Stored != 3 || !slices.Equal(v.Segments, []string{"sandbox-node-0", "sandbox-node-1", "sandbox-node-2"}) {
		t.Fatalf("%q: %v", line, err)
	}
	run := func(args ...string) (string, string, int) {
		c := lmcProcess(t, args...)
		var se strings.Builder
		c.Stderr = &se
		out, err := c.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), se.String(), code
	}
	keyArgs := []string{"--model", model, "--hash-seed", "0", prompt}
	out, _, code := run("store", "segments", "--admin", v.Admin, "-o", "json")
	if code != 0 || !strings.Contains(out, `"status": "DRAINING"`) || !strings.Contains(out, `"capacity_bytes": 67108864`) {
		t.Fatalf("segments: %d %s", code, out)
	}
	out, _, code = run(append([]string{"move", "--master", v.Master, "--admin", v.Admin, "--to", "sandbox-node-2"}, keyArgs...)...)
	if code != ExitUsage {
		t.Fatalf("move to a draining segment: %d %s", code, out)
	}
	out, se, code := run(append([]string{"move", "--master", v.Master, "--admin", v.Admin, "--to", "sandbox-node-1", "--wait", "--interval", "200ms", "-o", "json"}, keyArgs...)...)
	var mv moveJSON
	if code != 0 || json.Unmarshal([]byte(out), &mv) != nil || !slices.Equal(mv.states(), []string{"success", "not-ready", "success", "success"}) {
		t.Fatalf("move: %d %s %s", code, out, se)
	}
	out, se, code = run(append([]string{"clear", "--master", v.Master, "--admin", v.Admin, "--yes", "-o", "json"}, keyArgs...)...)
	var cl clearJSON
	if code != ExitFailed || json.Unmarshal([]byte(out), &cl) != nil || cl.Removed != 2 || keptReasons(cl)[cl.Keys[0].Key] != "leased" || keptReasons(cl)[cl.Keys[1].Key] != "being-written" {
		t.Fatalf("clear: %d %s %s", code, out, se)
	}
	out, _, code = run("store", "summary", "--admin", v.Admin, "-o", "json")
	if code != 0 || !strings.Contains(out, `"keys": 1,`) {
		t.Fatalf("summary: %d %s", code, out)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop")
	}
	r := runLMC(t, runOpts{}, "sandbox", "--leased-chunks", "1")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "give --populate FILE") {
		t.Errorf("leased chunks without --populate: %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "sandbox", "--drain-nodes", "5", "--nodes", "2")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--drain-nodes 5: the sandbox has --nodes 2") {
		t.Errorf("drain index: %d %s", r.code, r.stderr)
	}
}

// Every integer and duration flag has a documented range (ranges.go).
func TestNumericFlagsHaveRanges(t *testing.T) {
	root := NewCmdRoot(testRoot())
	var missing []string
	var visit func(path string, fs *pflag.FlagSet)
	visit = func(path string, fs *pflag.FlagSet) {
		fs.VisitAll(func(fl *pflag.Flag) {
			switch fl.Value.Type() {
			case "int", "int64", "uint", "uint64":
				if _, ok := flagRanges[fl.Name]; !ok {
					missing = append(missing, path+" --"+fl.Name)
				}
			case "duration":
				if _, ok := durationRanges[fl.Name]; !ok {
					missing = append(missing, path+" --"+fl.Name)
				}
			}
		})
	}
	stack := []*cobra.Command{root}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		visit(c.CommandPath(), c.Flags())
		stack = append(stack, c.Commands()...)
	}
	if len(missing) > 0 {
		t.Errorf("numeric flags without a range: %v", missing)
	}
}
