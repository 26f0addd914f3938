package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
)

// NewCmdMove builds `lmc move`.
func NewCmdMove(f *Factory) *cobra.Command {
	o := &opFlags{}
	var from, to string
	var copyOnly bool
	cmd := &cobra.Command{
		Use:   "move (--controller URL | --coordinator URL) --from INSTANCE[:LOCATION] --to INSTANCE[:LOCATION] [--copy] [FILE|-]",
		Short: "Move (or copy) a prompt's cached prefix between instances",
		Long: `Move the cached prefix of a prompt from one instance to another over P2P
(both instances need P2P enabled; workers are paired by worker id). --copy
keeps the source. Locations default to LocalCPUBackend, the only one the
controller supports for moves.

` + coordinatorMoveHelp + `

` + inputHelp,
		Example: `  lmc move --controller http://localhost:9000 --from inst1 --to inst2 prompt.json
  lmc move --controller http://localhost:9000 --from inst1:LocalCPUBackend --to inst2 --copy --verify prompt.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if done, err := f.coordinatorMoveDispatch(cmd, args, &o.Backend); done {
				return err
			}
			if from == "" || to == "" {
				return &UsageError{Err: errors.New("--from and --to are required: INSTANCE[:LOCATION]")}
			}
			si, sl := splitPosition(from)
			di, dl := splitPosition(to)
			if si == di && sl == dl {
				return &UsageError{Err: fmt.Errorf("--from %s and --to %s are the same place: nothing to move", from, to)}
			}
			if err := checkLocation("--from", sl); err != nil {
				return err
			}
			if err := checkLocation("--to", dl); err != nil {
				return err
			}
			op := "move"
			if copyOnly {
				op = "copy"
			}
			v := opView{Operation: op, InstanceID: si, Location: sl, Target: di + ":" + dl}
			return f.tokenOp(cmd, args, o, v, false, func(ctx context.Context, c *controllerclient.Client, toks []uint32) (*controllerclient.OpResult, error) {
				for _, p := range [][2]string{{"--from", si}, {"--to", di}} {
					if err := f.checkInstance(ctx, c, p[0], p[1]); err != nil {
						return nil, err
					}
				}
				return c.Move(ctx, controllerclient.MoveRequest{SrcInstance: si, SrcLocation: sl, DstInstance: di, DstLocation: dl, Tokens: toks, Copy: copyOnly})
			})
		},
	}
	addOpFlags(f, cmd, o, false, true)
	cmd.Flags().StringVar(&from, "from", "", "source INSTANCE[:LOCATION]")
	cmd.Flags().StringVar(&to, "to", "", "destination INSTANCE[:LOCATION]")
	cmd.Flags().BoolVar(&copyOnly, "copy", false, "keep the source copy")
	_ = cmd.RegisterFlagCompletionFunc("from", f.completeInstances)
	_ = cmd.RegisterFlagCompletionFunc("to", f.completeInstances)
	coordMoveFlags(cmd, &o.Backend) // last: it adds only the flags the command lacks
	return cmd
}
