package commands

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Flag groups: help lists a command's flags by group (key, input, backend,
// output …), and hints that repeat a group's flags find them by it.

const groupAnnotation = "lmc_group"

// Flag group names, in help order.
const (
	groupKey     = "Key flags"
	groupInput   = "Input flags"
	groupBackend = "Backend flags"
	groupCommand = "Flags"
)

// inGroup marks every flag fn adds to cmd's local flags as belonging to
// group.
func inGroup(cmd *cobra.Command, group string, fn func()) {
	// Visit in definition order (fn's flags come last), without pflag
	// sorting a fresh copy of the flags on every visit: building the tree
	// is part of every lmc start.
	fs := cmd.Flags()
	sorted := fs.SortFlags
	fs.SortFlags = false
	defer func() { fs.SortFlags = sorted }()
	n := 0
	fs.VisitAll(func(*pflag.Flag) { n++ })
	fn()
	i := 0
	fs.VisitAll(func(fl *pflag.Flag) {
		if i++; i <= n {
			return
		}
		if fl.Annotations == nil {
			fl.Annotations = map[string][]string{}
		}
		fl.Annotations[groupAnnotation] = []string{group}
	})
}

// flagGroupOf is a flag's group ("" for none: the command's own flags).
func flagGroupOf(fl *pflag.Flag) string {
	if g := fl.Annotations[groupAnnotation]; len(g) > 0 {
		return g[0]
	}
	return ""
}

// flagsIn lists cmd's flags of group, in definition order.
func flagsIn(cmd *cobra.Command, group string) []string {
	var out []string
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if flagGroupOf(fl) == group {
			out = append(out, fl.Name)
		}
	})
	return out
}
