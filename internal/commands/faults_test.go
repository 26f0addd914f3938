package commands

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lmc/internal/controllerclient/sandboxcontroller"
	mc "lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/lmcachekey"
)

// Each fault gives one clear line on stderr naming the backend, and the
// documented exit code. These rows are the table in docs/errors.md.
func TestMasterFaults(t *testing.T) {
	cases := []struct {
		name  string
		fault sandboxmaster.Fault
		code  int
		want  string
	}{
		{"reset mid-frame", sandboxmaster.Fault{Method: "BatchExistKey", ResetMidFrame: true}, ExitUnavailable, "Mooncake master 127.0.0.1:"},
		// A clean close in the middle of a reply is an answer cut short: the
		// master answered wrongly (exit 1), not "unreachable".
		{"closed mid-frame", sandboxmaster.Fault{Method: "BatchExistKey", CloseMidFrame: true}, ExitFailed, "Mooncake master 127.0.0.1:"},
		{"dropped connection", sandboxmaster.Fault{Method: "BatchExistKey", DropConnection: true}, ExitUnavailable, "Mooncake master 127.0.0.1:"},
		{"no answer (timeout)", sandboxmaster.Fault{Method: "BatchExistKey", Delay: 5 * time.Second}, ExitUnavailable, "Mooncake master 127.0.0.1:"},
		{"garbage", sandboxmaster.Fault{Method: "BatchExistKey", RawReply: []byte("HTTP/1.1 400 Bad Request\r\n\r\n")}, ExitFailed, "Mooncake master 127.0.0.1:"},
		{"corrupt body", sandboxmaster.Fault{Method: "BatchExistKey", CorruptBody: true}, ExitFailed, "Mooncake master 127.0.0.1:"},
		{"coro_rpc error 11", sandboxmaster.Fault{Method: "BatchExistKey", Errc: 11, ErrMsg: "function not registered"}, ExitFailed, "Mooncake master 127.0.0.1:"},
		// Per-key Mooncake error codes: the chunks carry status error with
		// the code's name in the JSON, and the lookup fails (the hit cannot
		// be trusted).
		{"mooncake error code", sandboxmaster.Fault{Method: "BatchExistKey", Code: mc.ErrorCode(-900)}, ExitFailed, "Mooncake master 127.0.0.1:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startMaster(t)
			s.InjectFault(c.fault)
			r := runLMC(t, runOpts{}, "lookup", "--master", s.Addr(), "--timeout", "500ms", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(512), "-o", "json")
			if r.code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, c.code, r.stderr)
			}
			if c.code != ExitOK {
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "lmc: "+c.want) {
					t.Fatalf("stderr %q: want one line starting %q", r.stderr, c.want)
				}
				perKey := c.fault.Code != 0
				switch {
				case perKey && (!strings.Contains(r.stdout, `"status": "error"`) || !strings.Contains(r.stdout, `"error": "RPC_FAIL`)):
					t.Fatalf("per-key error: stdout %s, want the chunks with status error and RPC_FAIL", r.stdout)
				case perKey && !strings.Contains(r.stderr, "answered an error for 2 of 2 keys (prompt 0 chunk 0: RPC_FAIL)"):
					t.Fatalf("per-key error: stderr %q, want the count and the first chunk's code", r.stderr)
				case !perKey && r.stdout != "":
					t.Fatalf("partial output on failure: %q", r.stdout)
				}
			}
		})
	}
}

func TestMasterLegacyFallback(t *testing.T) {
	s, err := sandboxmaster.Start("127.0.0.1:0", sandboxmaster.WithLegacySchema())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := keysFor(t, 256, lmcachekey.Builtin)
	if err := s.Populate(context.Background(), keys[:1]); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "lookup", "--master", s.Addr(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256), "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"hit_tokens": 256`) {
		t.Fatalf("older master (error 4 → old signature): %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestControllerFaults(t *testing.T) {
	cases := []struct {
		name  string
		path  string
		fault sandboxcontroller.Fault
		args  []string
		code  int
		want  string
	}{
		{"500 with detail", "/pin", sandboxcontroller.Fault{Status: 500, Body: `{"detail":"Failed to acquire read lock within timeout"}`}, []string{"pin", "--instance", "inst1", "--tokens", "1"}, ExitFailed, "Failed to acquire read lock"},
		{"500 without detail", "/pin", sandboxcontroller.Fault{Status: 500, Body: `{"detail":""}`}, []string{"pin", "--instance", "inst1", "--tokens", "1"}, ExitFailed, "HTTP 500"},
		{"404 on a newer endpoint", "/decompress", sandboxcontroller.Fault{Status: 404, Body: `{"detail":"Not Found"}`}, []string{"decompress", "--instance", "inst1", "--tokens", "1"}, ExitFailed, "HTTP 404"},
		{"422", "/pin", sandboxcontroller.Fault{Status: 422, Body: `{"detail":[{"loc":["body","tokens",0],"msg":"value is not a valid integer","type":"type_error.integer"}]}`}, []string{"pin", "--instance", "inst1", "--tokens", "1"}, ExitUsage, "tokens"},
		{"hang", "/lookup", sandboxcontroller.Fault{Hang: true}, []string{"lookup", "--timeout", "200ms", "--tokens", "1"}, ExitUnavailable, "LMCache controller"},
		{"dropped", "/clear", sandboxcontroller.Fault{Drop: true}, []string{"clear", "--instance", "inst1", "--yes"}, ExitUnavailable, "LMCache controller"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := sandboxcontroller.New(sandboxcontroller.WithWorkerListCacheTTL(0))
			fake.AddInstance("inst1", 1)
			fake.InjectFault(c.path, c.fault)
			srv := httptest.NewServer(fake)
			defer func() { fake.Close(); srv.Close() }()
			r := runLMC(t, runOpts{}, append(c.args, "--controller", srv.URL)...)
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if r.code != c.code || !strings.HasPrefix(first, "lmc: LMCache controller "+srv.URL) || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d (want %d), stderr %q", r.code, c.code, r.stderr)
			}
			if n := fake.Requests(c.path); c.path != "/lookup" && n != 1 {
				t.Fatalf("%s sent %d times: mutations are never retried", c.path, n)
			}
		})
	}
}

// Ctrl-C cancels in-flight requests and exits 130, with no JSON written.
func TestInterruptExits130(t *testing.T) {
	fake := sandboxcontroller.New()
	fake.InjectFault("/lookup", sandboxcontroller.Fault{Hang: true})
	srv := httptest.NewServer(fake)
	defer func() { fake.Close(); srv.Close() }()
	cmd := lmcProcess(t, "lookup", "--controller", srv.URL, "--timeout", "30s", "--tokens", "1,2,3", "-o", "json")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fake.Requests("/lookup") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != ExitInterrupted {
		t.Fatalf("exit %v, want 130; stderr %q", err, stderr.String())
	}
	if time.Since(start) > 3*time.Second || stdout.String() != "" || !strings.Contains(stderr.String(), "lmc: interrupted") {
		t.Fatalf("took %s, stdout %q, stderr %q", time.Since(start), stdout.String(), stderr.String())
	}
	_ = os.Stdout
}

// With HA only the leader serves RPC; a standby's admin API answers 503
// (-1011) and /leader names the leader. lmc says where to go.
func TestStandbyLeaderHint(t *testing.T) {
	sb, err := sandboxmaster.Start("127.0.0.1:0", sandboxmaster.WithStandby("10.9.9.9:50051"))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	r := runLMC(t, runOpts{}, "lookup", "--admin", sb.AdminURL(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256))
	if r.code == 0 || !strings.Contains(r.stderr, "service plane is not active") && !strings.Contains(r.stderr, "UNAVAILABLE_IN_CURRENT_MODE") || !strings.Contains(r.stderr, "the HA leader is 10.9.9.9:50051") {
		t.Fatalf("%d %q", r.code, r.stderr)
	}
	// a standby's RPC port is closed: unreachable, with the leader named
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	r = runLMC(t, runOpts{}, "lookup", "--master", dead, "--admin", sb.AdminURL(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256))
	if r.code != ExitUnavailable || !strings.Contains(r.stderr, "the HA leader is 10.9.9.9:50051") {
		t.Fatalf("%d %q", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{}, "health", "--admin", sb.AdminURL(), "-o", "json")
	if r.code != ExitFailed || !strings.Contains(r.stdout, `"role": "standby"`) || !strings.Contains(r.stdout, `"leader_address": "10.9.9.9:50051"`) {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
}

// A store that answers an error code for every key is not a store that
// lacks them: doctor must fail quoting the code, not conclude "never
// stored or evicted".
func TestDoctorPerKeyErrorsAreErrors(t *testing.T) {
	s := startMaster(t)
	s.InjectFault(sandboxmaster.Fault{Method: "BatchExistKey", Code: mc.ErrorCode(-900)})
	r := runLMC(t, runOpts{}, "doctor", "--master", s.Addr(), "--model", model, "--hash-seed", "0", "--tokens", seqTokens(512), "-o", "json")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "answered RPC_FAIL for key") || strings.Contains(r.stdout, "never stored") {
		t.Fatalf("doctor on per-key errors: exit %d, stderr %q, stdout %q; want exit 1 quoting RPC_FAIL", r.code, r.stderr, r.stdout)
	}
}

// Ctrl-C while lmc waits for stdin (a pipe nobody writes to) or a FIFO
// exits 130 at once.
func TestInterruptWhileReadingInput(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "prompt.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, input := range []string{"-", fifo, "--prompt-file"} {
		args := []string{"keys", "--model", model, "--hash-seed", "0"}
		switch input {
		case "--prompt-file":
			args = append(args, "--prompt-file", fifo, "--tokenizer", "/nonexistent.json")
		default:
			args = append(args, input)
		}
		cmd := lmcProcess(t, args...)
		pr, pw, err := os.Pipe() // stdin: open, never written
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = pr
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if input != "-" {
			// keep a writer on the FIFO so the reader's open succeeds
			w, err := os.OpenFile(fifo, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitForSignalHandler(t, cmd.Process.Pid)
		time.Sleep(100 * time.Millisecond) // let it reach the read
		start := time.Now()
		cmd.Process.Signal(syscall.SIGINT)
		err = cmd.Wait()
		pw.Close()
		pr.Close()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != ExitInterrupted || time.Since(start) > 2*time.Second {
			t.Fatalf("%s: exit %v after %s, want 130 within 2s; stderr %q", input, err, time.Since(start), stderr.String())
		}
	}
}

// waitForSignalHandler waits until process pid catches SIGINT (Linux:
// SigCgt in /proc/pid/status), so a test's Ctrl-C reaches lmc's handler
// and not the default action of a process still starting on a loaded
// machine.
func waitForSignalHandler(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			time.Sleep(50 * time.Millisecond) // not Linux, or not yet there
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if mask, ok := strings.CutPrefix(line, "SigCgt:"); ok {
				if v, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64); err == nil && v&(1<<(int(syscall.SIGINT)-1)) != 0 {
					return
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}
