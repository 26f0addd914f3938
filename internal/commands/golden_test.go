package commands

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"lmc/internal/tokenize/lmcachekey"
)

// Every command, every format: piped output carries no escape codes; the
// terminal rendering of each command is a golden file.
func TestOutputsTerminalAndPiped(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 600, lmcachekey.Builtin)
	if err := s.Populate(context.Background(), keys[:1]); err != nil {
		t.Fatal(err)
	}
	_, url := startController(t)
	keyArgs := []string{"--model", model, "--hash-seed", "0", "--tokens", seqTokens(600)}
	cmds := map[string][]string{
		"keys":              append([]string{"keys"}, keyArgs...),
		"explain":           append([]string{"explain", "--chunk", "0"}, keyArgs...),
		"lookup-master":     append([]string{"lookup", "--master", s.Addr()}, keyArgs...),
		"lookup-admin":      append([]string{"lookup", "--admin", s.AdminURL()}, keyArgs...),
		"lookup-controller": {"lookup", "--controller", url, "--tokens", seqTokens(600)},
		"pin":               {"pin", "--controller", url, "--instance", "inst1", "--tokens", seqTokens(300)},
		"stats":             {"stats", "--controller", url},
		"health-controller": {"health", "--controller", url},
		"workers":           {"workers", "--controller", url},
		"clear":             {"clear", "--controller", url, "--instance", "inst3", "--yes"},
	}
	// volatile parts: addresses, event ids, times, RTTs
	volatile := regexp.MustCompile(`127\.0\.0\.1:\d+|[A-Z][a-z]+[0-9a-f]{8}-[0-9a-f-]{27}|\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z`)
	for name, args := range cmds {
		for _, fm := range []string{"", "table", "plain", "json"} {
			a := args
			if fm != "" {
				a = append(append([]string{}, args...), "-o", fm)
			}
			if fm == "table" && (name == "explain") {
				continue
			}
			r := runLMC(t, runOpts{}, a...)
			if r.code != 0 {
				t.Fatalf("%s -o %s: exit %d %s", name, fm, r.code, r.stderr)
			}
			if strings.Contains(r.stdout, "\x1b") || strings.Contains(r.stderr, "\x1b") {
				t.Errorf("%s -o %s: escape codes when piped", name, fm)
			}
		}
		r := runLMC(t, runOpts{tty: true, color: true}, args...)
		if r.code != 0 {
			t.Fatalf("%s tty: exit %d %s", name, r.code, r.stderr)
		}
		golden(t, "terminal/"+name, volatile.ReplaceAllString(r.stdout, "<v>"))
	}
}
