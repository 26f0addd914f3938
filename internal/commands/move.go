package commands

import (
	"errors"

	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
)

// NewCmdMove builds `lmc move`.
func NewCmdMove(f *Factory) *cobra.Command {
	o := &opFlags{}
	var from, to string
	var copyOnly bool
	cmd := &cobra.Command{
		Use:   "move --controller URL --from INSTANCE[:LOCATION] --to INSTANCE[:LOCATION] [--copy] [FILE|-]",
		Short: "Move (or copy) a prompt's cached prefix between instances",
		Long: `Move the cached prefix of a prompt from one instance to another over P2P
(both instances need P2P enabled; workers are paired by worker id). --copy
keeps the source. Locations default to LocalCPUBackend, the only one the
controller supports for moves.

` + inputHelp,
		Example: `  lmc move --controller http://localhost:9000 --from inst1 --to inst2 prompt.json
  lmc move --controller http://localhost:9000 --from inst1:LocalCPUBackend --to inst2 --copy --verify prompt.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat(opFormats)
			if err != nil {
				return err
			}
			if err := requireController(o, false); err != nil {
				return err
			}
			if from == "" || to == "" {
				return &UsageError{Err: errors.New("--from and --to are required: INSTANCE[:LOCATION]")}
			}
			toks, err := f.oneTokenPrompt(args, &o.Input)
			if err != nil {
				return err
			}
			c, err := f.controllerClient(o.Backend.Controller)
			if err != nil {
				return err
			}
			si, sl := splitPosition(from)
			di, dl := splitPosition(to)
			ctx := cmd.Context()
			r, err := c.Move(ctx, controllerclient.MoveRequest{SrcInstance: si, SrcLocation: sl, DstInstance: di, DstLocation: dl, Tokens: toks, Copy: copyOnly})
			if err != nil {
				return f.opErr(ctx, c, si, err)
			}
			op := "move"
			if copyOnly {
				op = "copy"
			}
			v := opView{Operation: op, InstanceID: si, Location: sl, Target: di + ":" + dl, EventID: r.EventID, NumTokens: r.NumTokens}
			if r.EventID == "" && len(r.EventIDs) > 0 {
				v.EventID = r.EventIDs[0]
			}
			if o.Verify {
				if v.Verify, err = verifyLookup(ctx, c, toks); err != nil {
					return f.controllerErr(c.BaseURL(), err)
				}
			}
			return writeOp(f, fm, v)
		},
	}
	addOpFlags(cmd, o, false, true)
	cmd.Flags().StringVar(&from, "from", "", "source INSTANCE[:LOCATION]")
	cmd.Flags().StringVar(&to, "to", "", "destination INSTANCE[:LOCATION]")
	cmd.Flags().BoolVar(&copyOnly, "copy", false, "keep the source copy")
	_ = cmd.RegisterFlagCompletionFunc("from", completeInstances)
	_ = cmd.RegisterFlagCompletionFunc("to", completeInstances)
	return cmd
}
