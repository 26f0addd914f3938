package commands

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
)

// NewCmdStats builds `lmc stats`.
func NewCmdStats(f *Factory) *cobra.Command {
	var b BackendFlags
	cmd := &cobra.Command{
		Use:     "stats (--controller URL | --coordinator URL)",
		Short:   shortFor("stats"),
		Long:    "Key statistics from the controller: keys per instance and workers per instance.\nEvery TP rank counts its own copy of a chunk. With --coordinator, the LMCache MP\ncoordinator's directory statistics: keys and placements, L1 keys per instance,\nplacements and bytes per tier (summed from the keys listing on coordinators\nthat do not report them).",
		Example: "  lmc stats --controller http://localhost:9000 -o json\n  lmc stats --coordinator http://localhost:9300",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			if done, err := f.coordinatorStats(cmd.Context(), &b, fm); done {
				return err
			}
			c, err := f.requiredController(b.Controller)
			if err != nil {
				return err
			}
			ks, err := c.KeyStats(cmd.Context())
			if err != nil {
				return f.controllerErr(c.BaseURL(), err)
			}
			if fm == printers.JSON {
				return printers.WriteJSON(f.Out(), ks)
			}
			var rows [][]string
			for _, in := range ks.Instances {
				rows = append(rows, []string{in.InstanceID, strconv.Itoa(in.KeyCount), strconv.Itoa(in.WorkerCount)})
			}
			if fm == printers.Plain {
				return printers.WritePlain(f.Out(), rows)
			}
			st := f.IOStreams.Styles()
			if err := printers.WriteTable(f.Out(), styledHeader(st, []string{"INSTANCE", "KEYS", "WORKERS"}), rows); err != nil {
				return err
			}
			_, err = fmt.Fprintf(f.Out(), "%s on %s, %s\n", iostreams.Plural(ks.TotalKeyCount, "key"), iostreams.Plural(ks.TotalInstanceCount, "instance"), iostreams.Plural(ks.TotalWorkerCount, "worker"))
			return err
		},
	}
	addControllerFlag(cmd, &b)
	addCoordinatorFlag(cmd, &b)
	return cmd
}
