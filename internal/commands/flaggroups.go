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
	before := map[string]bool{}
	cmd.Flags().VisitAll(func(fl *pflag.Flag) { before[fl.Name] = true })
	fn()
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if !before[fl.Name] {
			if fl.Annotations == nil {
				fl.Annotations = map[string][]string{}
			}
			fl.Annotations[groupAnnotation] = []string{group}
		}
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
