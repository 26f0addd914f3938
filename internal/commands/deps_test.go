package commands

import (
	"os/exec"
	"strings"
	"testing"
)

// The library packages never print and never depend on the CLI: only
// commands/iostreams uses lipgloss, only commands/printers tablewriter.
func TestDependencyRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	libs := []string{"lmc/internal/tokenize/...", "lmc/internal/mooncake/...", "lmc/internal/controllerclient/...", "lmc/internal/doctor/...", "lmc/internal/coordinatorclient/...", "lmc/internal/transport/...", "lmc/internal/safetext/...", "lmc/internal/boundedio/...", "lmc/internal/pyjson/...", "lmc/internal/httpfake/...", "lmc/internal/jsonscan/...", "lmc/internal/phasetime/..."}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, libs...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "lmc/internal/commands") || strings.Contains(dep, "lipgloss") || strings.Contains(dep, "tablewriter") || strings.Contains(dep, "spf13/cobra") {
			t.Errorf("a library package depends on %s", dep)
		}
	}
	out, err = exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "lmc/internal/commands/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if strings.Contains(imp, "lipgloss") && f[0] != "lmc/internal/commands/iostreams" {
				t.Errorf("%s imports lipgloss (only iostreams may)", f[0])
			}
			if strings.Contains(imp, "tablewriter") && f[0] != "lmc/internal/commands/printers" {
				t.Errorf("%s imports tablewriter (only printers may)", f[0])
			}
		}
	}
}
