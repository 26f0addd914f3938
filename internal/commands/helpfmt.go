package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is the width help text is wrapped to: a terminal's, at most
// 100 and at least 60; 80 when not a terminal.
func (f *Factory) helpWidth() int {
	w := 80
	if f.IOStreams.IsStdoutTTY() {
		w = min(max(f.IOStreams.TerminalWidth(), 60), 100)
	}
	return w
}

// writeUsage is the usage part of help: examples, the usage line, the
// subcommands, the command's flags by group (key, input, backend, then
// its own), wrapped to fit; global flags in full only on the root, else
// one line naming them.
func (f *Factory) writeUsage(w io.Writer, c *cobra.Command) error {
	var b strings.Builder
	width := f.helpWidth()
	if c.HasExample() {
		fmt.Fprintf(&b, "Examples:\n%s\n\n", c.Example)
	}
	b.WriteString("Usage:")
	if c.Runnable() {
		fmt.Fprintf(&b, "\n  %s", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\n  %s [command]", c.CommandPath())
	}
	b.WriteString("\n")
	if c.HasAvailableSubCommands() {
		b.WriteString("\nCommands:\n")
		pad := 0
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() || s.Name() == "help" {
				pad = max(pad, len(s.Name()))
			}
		}
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() || s.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s  %s\n", pad, s.Name(), s.Short)
			}
		}
	}
	local := c.LocalFlags()
	for _, group := range []string{groupKey, groupInput, groupBackend, ""} {
		fs := pflag.NewFlagSet(group, pflag.ContinueOnError)
		fs.SortFlags = false
		local.VisitAll(func(fl *pflag.Flag) {
			if !fl.Hidden && flagGroupOf(fl) == group {
				fs.AddFlag(fl)
			}
		})
		if !fs.HasFlags() {
			continue
		}
		title := group
		if title == "" {
			title = groupCommand
		}
		fmt.Fprintf(&b, "\n%s:\n%s", title, fs.FlagUsagesWrapped(width))
	}
	if c.HasAvailableInheritedFlags() {
		if c.HasParent() {
			var names []string
			c.InheritedFlags().VisitAll(func(fl *pflag.Flag) {
				if fl.Hidden {
					return
				}
				n := "--" + fl.Name
				if fl.Shorthand != "" {
					n = "-" + fl.Shorthand + "/" + n
				}
				names = append(names, n)
			})
			fmt.Fprintf(&b, "\n%s\n", wrapWords("Global flags: "+strings.Join(names, ", ")+" ('lmc --help' explains them).", width))
		} else {
			fmt.Fprintf(&b, "\nGlobal flags:\n%s", c.InheritedFlags().FlagUsagesWrapped(width))
		}
	}
	if c.HasHelpSubCommands() {
		b.WriteString("\nHelp topics:\n")
		for _, s := range c.Commands() {
			if s.IsAdditionalHelpTopicCommand() {
				fmt.Fprintf(&b, "  %-14s %s\n", s.Name(), s.Short)
			}
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrapWords breaks s into lines of at most width runes at spaces.
func wrapWords(s string, width int) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// writeHelp is a command's help: its description, then its usage, every
// line fitted to the help width.
func (f *Factory) writeHelp(w io.Writer, c *cobra.Command) error {
	var b strings.Builder
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	if desc != "" {
		b.WriteString(strings.TrimRight(desc, "\n") + "\n\n")
	}
	if err := f.writeUsage(&b, c); err != nil {
		return err
	}
	_, err := io.WriteString(w, fitLines(b.String(), f.helpWidth()))
	return err
}

// fitLines breaks every line longer than width at its last space (or
// '|' or ',') before width. A continued example command ("  lmc …") gets
// a shell line continuation; other lines keep their indentation.
func fitLines(text string, width int) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		out = append(out, fitLine(line, width)...)
	}
	return strings.Join(out, "\n")
}

func fitLine(line string, width int) []string {
	if len([]rune(line)) <= width {
		return []string{line}
	}
	indent := line[:len(line)-len(strings.TrimLeft(line, " "))]
	command := strings.HasPrefix(strings.TrimLeft(line, " "), "lmc ")
	cont, contIndent := "", indent
	if command {
		cont, contIndent = " \\", indent+"    "
	} else if strings.HasPrefix(strings.TrimLeft(line, " "), "- ") || strings.HasPrefix(strings.TrimLeft(line, " "), "* ") {
		contIndent = indent + "  "
	}
	var out []string
	r := []rune(line)
	for len(r) > width {
		limit := width - len([]rune(cont))
		cut := -1
		for i := limit; i > len([]rune(contIndent))+10 && i > 0; i-- {
			if r[i] == ' ' || (!command && (r[i-1] == '|' || r[i-1] == ',')) {
				cut = i
				break
			}
		}
		if cut < 0 {
			break // one long word: leave it
		}
		head := strings.TrimRight(string(r[:cut]), " ")
		out = append(out, head+cont)
		r = []rune(contIndent + strings.TrimLeft(string(r[cut:]), " "))
	}
	return append(out, string(r))
}
