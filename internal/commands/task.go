package commands

import (
	"time"

	"github.com/spf13/cobra"
)

// NewCmdTask builds `lmc task`.
func NewCmdTask(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: shortFor("task"),
		Long: `Copy and move tasks are what 'lmc move --master' and 'lmc copy --master'
create. The master keeps no list of them that an operator can read: keep the
ids lmc prints.

` + taskHelp,
		Example: `  lmc task get --master 10.0.0.1:50051 10971784596555783144-2699041741391910536
  lmc task get --master 10.0.0.1:50051 --wait -o json ID1 ID2`,
	}
	cmd.AddCommand(newCmdTaskGet(f))
	return cmd
}

func newCmdTaskGet(f *Factory) *cobra.Command {
	var master string
	var wait bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "get --master ADDR [--wait] ID...",
		Short: "Show copy and move tasks by id (QueryTask), or wait for them",
		Long:  taskGetHelp,
		Example: `  lmc task get --master 10.0.0.1:50051 10971784596555783144-2699041741391910536
  lmc task get --master 10.0.0.1:50051 --wait --timeout 2m ID1 ID2`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.taskGet(cmd.Context(), args, master, wait, interval)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&master, "master", "", "Mooncake master RPC address HOST:PORT (default port 50051)")
	fl.BoolVar(&wait, "wait", false, "poll until every task is SUCCESS or FAILED; --timeout bounds the whole wait (default 6m when not given)")
	fl.DurationVar(&interval, "interval", time.Second, "with --wait: time between polls")
	return cmd
}
