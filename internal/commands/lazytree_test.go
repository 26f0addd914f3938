package commands

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
)

// TestTopCommandsTable: the names topCommands lists for each constructor
// are the built command's name and aliases, so NewCmdRootFor builds the
// command an argument names, and every command root has (help topics
// aside) is in the table.
func TestTopCommandsTable(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &Factory{IOStreams: ios}
	var built []string
	for _, c := range topCommands() {
		cmd := c.build(f)
		if want := append([]string{cmd.Name()}, cmd.Aliases...); !slices.Equal(c.names, want) {
			t.Errorf("topCommands lists %q for the command built as %q", c.names, want)
		}
		if cmd.Hidden != c.hidden {
			t.Errorf("topCommands says %q is hidden: %v; the built command: %v", c.names[0], c.hidden, cmd.Hidden)
		}
		if !cmd.Hidden && (cmd.Short == "" || cmd.Short != shortFor(cmd.Name())) {
			t.Errorf("%q: Short %q, shortFor %q: the summary lives in summaries.go", cmd.Name(), cmd.Short, shortFor(cmd.Name()))
		}
		built = append(built, cmd.Name())
	}
	topics := map[string]bool{}
	for _, h := range helpTopics() {
		topics[h.Name()] = true
	}
	for _, c := range NewCmdRoot(f).Commands() {
		if !topics[c.Name()] && c.Name() != "completion" && c.Name() != "help" && !slices.Contains(built, c.Name()) {
			t.Errorf("root has %q, which topCommands does not list", c.Name())
		}
	}
}

// TestLazyTreeLikeFullTree: what lmc prints when it builds only the command
// the arguments name is what the whole tree prints, for every command's
// help, for root flags before the command, and for errors.
func TestLazyTreeLikeFullTree(t *testing.T) {
	var cases [][]string
	for _, c := range topCommands() {
		for _, n := range c.names {
			cases = append(cases, []string{n, "--help"}, []string{"-o", "json", n, "--no-such-flag"}, []string{"--timeout", "1s", n, "-h"})
		}
	}
	cases = append(cases,
		[]string{"--version"}, []string{"-v"}, []string{"version"}, []string{"-o", "json", "version"},
		[]string{"keys", "--model", "m", "--hash-seed", "0", "--chunk-size", "2", "--tokens", "1,2,3,4", "-o", "json"},
		[]string{"--context=", "keys", "--model", "m", "--hash-seed", "0", "--chunk-size", "2", "--tokens", "1,2"},
		[]string{"config", "use-contex", "prod"}, []string{"store", "sumary"}, []string{"lookp"}, []string{"help", "lookup"},
		[]string{"--verbose=false", "task", "--help"}, []string{"--no-color", "-o", "plain", "explain", "--help"},
		nil, []string{"help"}, []string{"--help"}, []string{"-h"}, []string{"-o", "json"}, []string{"--no-color", "help"},
		[]string{"help", "--no-color"}, []string{"help", "-h"}, []string{"help", "help"}, []string{"help", "engines"},
		[]string{"help", "config", "use-context"}, []string{"--version", "--help"},
	)
	for _, args := range cases {
		name, ok := commandName(bareRoot(), args)
		lazy := runLMC(t, runOpts{}, args...)
		full := runFullTree(t, args...)
		if lazy != full {
			t.Errorf("lmc %s (lazy tree: command %q, %v):\n%+v\nwhole tree:\n%+v", strings.Join(args, " "), name, ok, lazy, full)
		}
	}
}

// runFullTree is runLMC with the whole tree built, as before NewCmdRootFor.
func runFullTree(t *testing.T, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetGetenv(func(string) string { return "" })
	ios.SetColorEnabled(false)
	code := runMain(context.Background(), ios, args, BuildInfo{Version: "1.2.3", Commit: "abc1234", Date: "2026-11-21T00:00:00Z"},
		func(f *Factory, _ []string) *cobra.Command { return NewCmdRoot(f) })
	return result{out.String(), errOut.String(), code}
}

func TestCommandName(t *testing.T) {
	root := bareRoot()
	for _, c := range []struct {
		args []string
		name string
		ok   bool
	}{
		{nil, "", true},
		{[]string{"lookup", "x"}, "lookup", true},
		{[]string{"-o", "json", "keys"}, "keys", true},
		{[]string{"-ojson", "keys"}, "keys", true},
		{[]string{"--output=json", "keys"}, "keys", true},
		{[]string{"--timeout", "1s", "--verbose", "doctor"}, "doctor", true},
		{[]string{"-H", "A: b", "health"}, "health", true},
		{[]string{"--version"}, "", true},
		{[]string{"--nope", "keys"}, "", false},
		{[]string{"--", "keys"}, "", false},
	} {
		name, ok := commandName(root, c.args)
		if name != c.name || ok != c.ok {
			t.Errorf("commandName(%q) = %q, %v; want %q, %v", c.args, name, ok, c.name, c.ok)
		}
	}
}

func bareRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	return newRoot(&Factory{IOStreams: ios})
}
