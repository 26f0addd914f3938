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
	so := &storeOpFlags{}
	var from, to string
	var copyOnly bool
	cmd := &cobra.Command{
		Use:     "move (--controller URL --from INSTANCE[:LOCATION] --to INSTANCE[:LOCATION] [--copy] | --coordinator URL --from INSTANCE --to INSTANCE [--wait] | --master ADDR --to SEGMENT [--from SEGMENT] [--wait]) [FILE|-]",
		Aliases: []string{"copy"},
		Short:   shortFor("move"),
		Long: `Move the cached prefix of a prompt from one instance to another over P2P
(both instances need P2P enabled; workers are paired by worker id). --copy
keeps the source. Locations default to LocalCPUBackend, the only one the
controller supports for moves. Its workers key the tokens: the key flags of
--master and --coordinator (--hash-seed, --cache-salt, ...) are refused with
--controller; --model is the --tokenize-url request's model.

` + coordinatorMoveHelp + `

` + masterMoveHelp + `

` + masterEngineHelp + `

` + inputHelp,
		Example: `  lmc move --controller http://localhost:9000 --from inst1 --to inst2 prompt.json
  lmc move --controller http://localhost:9000 --from inst1:LocalCPUBackend --to inst2 --copy --verify prompt.json
` + masterMoveExamples,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			copyOnly = copyOnly || cmd.CalledAs() == "copy"
			if err := f.masterEngine(cmd, so, &o.Backend); err != nil {
				return err
			}
			if done, err := f.coordinatorMoveDispatch(cmd, args, &o.Backend); done {
				return err
			}
			if store, err := f.storeVerb(&o.Backend, "all-ranks", "tenant"); err != nil {
				return err
			} else if store {
				return f.masterMove(cmd.Context(), args, &o.Backend, &o.Input, so, masterMoveOptions{From: from, To: to, Copy: copyOnly, Verify: o.Verify, DryRun: flagBool(cmd, "dry-run")})
			} else if err := refuse(f, anyLayer, "applies to move --master or --coordinator: the controller's move answers when it is done", "wait", "interval"); err != nil {
				return err
			} else if o.Backend.Controller == "" {
				return errNoOpBackend
			} else if err := refuseUnkeyed(f, "move --controller sends the controller the tokens and its workers key them"); err != nil {
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
	cmd.Flags().StringVar(&from, "from", "", "source INSTANCE[:LOCATION] (controller) or SEGMENT (--master)")
	cmd.Flags().StringVar(&to, "to", "", "destination INSTANCE[:LOCATION] (controller) or SEGMENT (--master)")
	cmd.Flags().BoolVar(&copyOnly, "copy", false, "keep the source copy")
	_ = cmd.RegisterFlagCompletionFunc("from", f.completeInstances)
	_ = cmd.RegisterFlagCompletionFunc("to", f.completeInstances)
	addMasterMoveFlags(cmd, &o.Backend, so)
	addMasterEngineFlags(cmd, so)
	coordMoveFlags(cmd, &o.Backend) // last: it adds only the flags the command lacks
	return cmd
}
