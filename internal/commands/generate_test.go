package commands

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lmc/internal/commands/iostreams"
)

func testRoot() *Factory {
	ios, _, _, _ := iostreams.Test()
	return &Factory{IOStreams: ios, Build: BuildInfo{Version: "dev", Commit: "none", Date: "unknown"}}
}

// The committed completion scripts and command reference must match the
// command tree: run `make completions` (or `make docs`) after changing it.
func TestGeneratedFilesDoNotDrift(t *testing.T) {
	root := NewCmdRoot(testRoot())
	dir := t.TempDir()
	if err := GenerateCompletions(root, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lmc.bash", "_lmc", "lmc.fish", "lmc.ps1"} {
		want, _ := os.ReadFile(filepath.Join(dir, name))
		got, err := os.ReadFile(filepath.Join("..", "..", "completions", name))
		if err != nil || string(got) != string(want) {
			t.Errorf("completions/%s is out of date: run make completions", name)
		}
	}
	if _, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command("bash", "-n", filepath.Join(dir, "lmc.bash")).CombinedOutput(); err != nil {
			t.Errorf("bash -n lmc.bash: %v %s", err, out)
		}
	}
	ref, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference.md"))
	if err != nil || string(ref) != GenerateReference(NewCmdRoot(testRoot())) {
		t.Error("docs/reference.md is out of date: run make docs")
	}
}

func TestHelpLeadsWithExamples(t *testing.T) {
	r := runLMC(t, runOpts{}, "lookup", "--help")
	ex, us := strings.Index(r.stdout, "Examples:"), strings.Index(r.stdout, "Usage:")
	if r.code != 0 || ex < 0 || us < 0 || ex > us {
		t.Fatalf("examples should come before usage:\n%s", r.stdout)
	}
}

func TestCompletionValues(t *testing.T) {
	r := runLMC(t, runOpts{}, "__complete", "keys", "--hash", "")
	if strings.Index(r.stdout, "sha256_cbor\t") < 0 || strings.Index(r.stdout, ":4") < 0 {
		t.Fatalf("hash completion: %q", r.stdout)
	}
	r = runLMC(t, runOpts{}, "__complete", "keys", "--key-schema", "")
	if strings.Index(r.stdout, "2025-11\t") < 0 {
		t.Fatalf("schema completion: %q", r.stdout)
	}
	r = runLMC(t, runOpts{}, "__complete", "lookup", "-o", "")
	if strings.Index(r.stdout, "jsonl") < 0 {
		t.Fatalf("output completion: %q", r.stdout)
	}
	_, url := startController(t)
	r = runLMC(t, runOpts{}, "__complete", "pin", "--controller", url, "--instance", "")
	if strings.Index(r.stdout, "inst1\ninst3\n") < 0 {
		t.Fatalf("instance completion: %q", r.stdout)
	}
}
