package commands

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestErrorTableInDocs runs every row of the first table in docs/errors.md.
func TestErrorTableInDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `lmc ([^`]*)` \\| `([^`]*)` \\| (\\d+) \\|$")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n++
		cmdline, want := m[1], m[2]
		code, _ := strconv.Atoi(m[3])
		stdin := ""
		if i := strings.Index(cmdline, " <<< "); i >= 0 {
			stdin = strings.Trim(cmdline[i+5:], "'") + "\n"
			if stdin == "\n" {
				stdin = ""
			}
			cmdline = cmdline[:i]
		}
		args := splitArgs(cmdline)
		t.Run(cmdline, func(t *testing.T) {
			r := runLMC(t, runOpts{stdin: stdin}, args...)
			if r.code != code || !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
				t.Fatalf("exit %d (want %d)\nstderr %q\nwant   %q...\nstdout %q", r.code, code, r.stderr, want, r.stdout)
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d rows found", n)
	}
}

// splitArgs splits on spaces, keeping single-quoted words together.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQ := false
	for _, r := range s {
		switch {
		case r == '\'':
			inQ = !inQ
		case r == ' ' && !inQ:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
