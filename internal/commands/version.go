package commands

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
)

type versionView struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// NewCmdVersion builds `lmc version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print lmc's version, commit and build date",
		Example: "  lmc version\n  lmc version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			v := versionView{f.Build.Version, f.Build.Commit, f.Build.Date, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
			if fm == printers.JSON {
				return printers.WriteJSON(f.IOStreams.Out, v)
			}
			_, err = fmt.Fprintf(f.IOStreams.Out, "lmc %s (commit %s, built %s, %s %s)\n", v.Version, v.Commit, v.Date, v.GoVersion, v.Platform)
			return err
		},
	}
}
