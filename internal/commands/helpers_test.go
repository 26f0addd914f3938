package commands

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lmc/internal/commands/iostreams"
)

type runOpts struct {
	env   map[string]string
	stdin string
	tty   bool
	color bool
	width int
}

type result struct {
	stdout, stderr string
	code           int
}

// runLMC runs lmc in-process with a controlled environment.
func runLMC(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(o.stdin)
	ios.SetGetenv(func(k string) string { return o.env[k] })
	if o.tty {
		ios.SetStdoutTTY(true)
		ios.SetStderrTTY(true)
		ios.SetStdinTTY(true)
	}
	ios.SetColorEnabled(o.color)
	if o.width > 0 {
		ios.SetTerminalWidth(o.width)
	}
	code := Main(context.Background(), ios, args, BuildInfo{Version: "1.2.3", Commit: "abc1234", Date: "2026-11-21T00:00:00Z"})
	return result{out.String(), errOut.String(), code}
}

// golden compares got with testdata/<name>.golden; LMC_UPDATE_GOLDEN=1
// rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if os.Getenv("LMC_UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with LMC_UPDATE_GOLDEN=1 to create)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func seqTokens(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

func seqU32(from, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(from + i)
	}
	return out
}

// startSandboxProcess runs lmc sandbox args (with -o json) as a process
// and reads its ready line; the process is killed when the test ends.
func startSandboxProcess(t *testing.T, args ...string) (*exec.Cmd, string, sandboxView, *lockedBuffer) {
	t.Helper()
	cmd := lmcProcess(t, append([]string{"sandbox"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v; stderr %s", err, stderr.String())
	}
	var v sandboxView
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return cmd, line, v, stderr
}

// interruptSandbox stops a sandbox process with SIGINT: it must exit
// cleanly within 10 s.
func interruptSandbox(t *testing.T, cmd *exec.Cmd, stderr *lockedBuffer) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sandbox did not exit cleanly: %v; stderr %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop on SIGINT")
	}
}

// runProcess runs lmc args as a process: its stdout and exit code.
func runProcess(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := lmcProcess(t, args...).Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// lockedBuffer is a strings.Builder safe to read while a process writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writePEM(t *testing.T, path string, der []byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
		t.Fatal(err)
	}
}

func iostreamsTest() (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	ios, in, out, errOut := iostreams.Test()
	ios.SetGetenv(func(string) string { return "" })
	return ios, in, out, errOut
}
