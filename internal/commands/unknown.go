package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// strictTree makes every typo an error (exit 2) with a did-you-mean, at
// every level: cobra prints help and exits 0 for an unknown subcommand of
// a command that has subcommands but no action of its own ("lmc config
// use-contex prod", "lmc completion bsh"), and for an unknown help topic.
// A script's "lmc config use-contex prod && lmc clear …" must stop there.
func strictTree(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command or topic",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil || cmd == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, sub.Name()+"\t"+sub.Short)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || cmd == nil {
				return unknownName(c.Root(), strings.Join(args, " "), "help topic")
			}
			if len(rest) > 0 && cmd.HasSubCommands() {
				return unknownName(cmd, rest[0], "help topic")
			}
			return cmd.Help()
		},
	})
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() && c.Run == nil && c.RunE == nil && c != root {
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return cmd.Help()
				}
				return unknownName(cmd, args[0], "command")
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// unknownName is the usage error for a name that is no subcommand of
// parent, with the closest ones.
func unknownName(parent *cobra.Command, name, what string) error {
	msg := fmt.Sprintf("unknown %s %q for %q", what, name, parent.CommandPath())
	var names []string
	for _, c := range parent.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if s := closest(name, names); len(s) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
	} else {
		msg += " (one of: " + strings.Join(names, ", ") + ")"
	}
	return &UsageError{Err: fmt.Errorf("%s", msg)}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// oneLineSuggestion rewrites cobra's multi-line "unknown command … Did you
// mean this?" into lmc's one-line form.
func oneLineSuggestion(msg string) string {
	head, rest, ok := strings.Cut(msg, "\n\nDid you mean this?\n")
	if !ok {
		return msg
	}
	var s []string
	for _, l := range strings.Split(strings.TrimSpace(rest), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			s = append(s, fmt.Sprintf("%q", l))
		}
	}
	return head + "; did you mean " + strings.Join(s, " or ") + "?"
}

// closest returns the candidates nearest to name (edit distance at most 2,
// or name as a prefix), only those at the smallest distance.
func closest(name string, candidates []string) []string {
	best, out := 3, []string(nil)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(name)) && name != "" {
			d = min(d, 1)
		}
		switch {
		case d < best:
			best, out = d, []string{c}
		case d == best:
			out = append(out, c)
		}
	}
	return out
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// flagSuggestion adds "did you mean --x?" to an unknown-flag error.
func flagSuggestion(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return err
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if s := closest(name, names); len(s) > 0 && len(s) <= 3 {
		for i := range s {
			s[i] = "--" + s[i]
		}
		return fmt.Errorf("%s; did you mean %s?", msg, strings.Join(s, " or "))
	}
	return err
}
