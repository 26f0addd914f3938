package commands

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// GenerateCompletions writes the four shell completion scripts into dir.
func GenerateCompletions(root *cobra.Command, dir string) error {
	files := map[string]func(io.Writer) error{
		"lmc.bash": func(w io.Writer) error { return root.GenBashCompletionV2(w, true) },
		"_lmc":     root.GenZshCompletion,
		"lmc.fish": func(w io.Writer) error { return root.GenFishCompletion(w, true) },
		"lmc.ps1":  root.GenPowerShellCompletionWithDesc,
	}
	for name, gen := range files {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// GenerateReference renders the command reference (docs/reference.md) from
// the command tree, so it cannot drift from the help texts.
func GenerateReference(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("# lmc command reference\n\nGenerated from the command tree by `make docs`; do not edit by hand.\n\n")
	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" && c.Parent() == root {
			return
		}
		cmds = append(cmds, c)
		subs := c.Commands()
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
		for _, s := range subs {
			walk(s)
		}
	}
	walk(root)
	for _, c := range cmds {
		if c == root {
			continue
		}
		b.WriteString("- [" + c.CommandPath() + "](#" + anchor(c.CommandPath()) + ") — " + c.Short + "\n")
	}
	b.WriteString("\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", c.CommandPath(), c.Short)
		if c.Long != "" && c.Long != c.Short {
			b.WriteString("```\n" + strings.TrimSpace(c.Long) + "\n```\n\n")
		}
		if c.Example != "" {
			b.WriteString("Examples:\n\n```sh\n" + strings.TrimRight(dedent(c.Example), "\n") + "\n```\n\n")
		}
		if c.Runnable() {
			b.WriteString("Usage: `" + c.UseLine() + "`\n\n")
		}
		if fl := c.LocalFlags(); fl.HasAvailableFlags() {
			b.WriteString("| flag | default | meaning |\n| --- | --- | --- |\n")
			fl.VisitAll(func(f *pflag.Flag) {
				if f.Hidden || f.Name == "help" {
					return
				}
				name := "--" + f.Name
				if f.Shorthand != "" {
					name = "-" + f.Shorthand + ", " + name
				}
				def := f.DefValue
				if def == "[]" || def == "false" && f.Value.Type() == "bool" {
					def = ""
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, mdCell(def), mdCell(f.Usage))
			})
			b.WriteString("\n")
		}
	}
	return b.String()
}

func anchor(s string) string { return strings.ReplaceAll(strings.ToLower(s), " ", "-") }

func mdCell(s string) string {
	if s == "" {
		return ""
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}

// newCmdGenerate is the hidden `lmc __generate DIR` used by make docs and
// make completions.
func newCmdGenerate(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:    "__generate REPO_DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := NewCmdRoot(&Factory{IOStreams: f.IOStreams, Build: BuildInfo{Version: "dev", Commit: "none", Date: "unknown"}})
			if err := os.WriteFile(filepath.Join(args[0], "docs", "reference.md"), []byte(GenerateReference(root)), 0o644); err != nil {
				return err
			}
			return GenerateCompletions(root, filepath.Join(args[0], "completions"))
		},
	}
}
