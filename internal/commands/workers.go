package commands

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/controllerclient"
)

// NewCmdWorkers builds `lmc workers`.
func NewCmdWorkers(f *Factory) *cobra.Command {
	var b BackendFlags
	var instance string
	cmd := &cobra.Command{
		Use:   "workers (--controller URL | --coordinator URL) [--instance I]",
		Short: shortFor("workers"),
		Long: `List the LMCache workers (one per TP rank) registered with the controller: ip,
port, key count, registration and last heartbeat times. With --coordinator, the
MP servers registered with the LMCache MP coordinator (GET /instances): ip,
HTTP port, P2P URL and MQ port, registration time and heartbeat age (a bound:
the coordinator does not report heartbeats).`,
		Example: `  lmc workers --controller http://localhost:9000
  lmc workers --controller http://localhost:9000 --instance inst3 -o json
  lmc workers --coordinator http://localhost:9300`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Wide, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			if done, err := f.coordinatorWorkers(cmd.Context(), &b, instance, fm); done {
				return err
			}
			c, err := f.requiredController(b.Controller)
			if err != nil {
				return err
			}
			r, err := c.Workers(cmd.Context(), controllerclient.WorkersFilter{InstanceID: instance})
			if err != nil {
				return f.controllerErr(c.BaseURL(), err)
			}
			if r.Workers == nil {
				r.Workers = []controllerclient.WorkerInfo{}
			}
			if fm == printers.JSON {
				return printers.WriteJSON(f.Out(), r)
			}
			var rows [][]string
			for _, w := range r.Workers {
				keys := "-"
				if w.KeyCount != nil {
					keys = strconv.Itoa(*w.KeyCount)
				}
				row := []string{w.InstanceID, strconv.Itoa(w.WorkerID), w.IP, strconv.Itoa(w.Port), keys, unixTime(w.RegistrationTime, fm), unixTime(w.LastHeartbeatTime, fm)}
				rows = append(rows, row)
			}
			if fm == printers.Plain {
				return printers.WritePlain(f.Out(), rows)
			}
			st := f.IOStreams.Styles()
			return printers.WriteTable(f.Out(), styledHeader(st, []string{"INSTANCE", "WORKER", "IP", "PORT", "KEYS", "REGISTERED", "HEARTBEAT"}), rows)
		},
	}
	addControllerFlag(cmd, &b)
	addCoordinatorFlag(cmd, &b)
	cmd.Flags().StringVar(&instance, "instance", "", "only this instance")
	_ = cmd.RegisterFlagCompletionFunc("instance", f.completeInstances)
	return cmd
}

func unixTime(sec float64, fm printers.Format) string {
	if sec <= 0 {
		return "-"
	}
	t := time.Unix(0, int64(sec*float64(time.Second))).UTC()
	if fm == printers.Plain {
		return t.Format(time.RFC3339Nano)
	}
	return t.Format("2006-01-02 15:04:05Z")
}
