package commands

import (
	"github.com/spf13/cobra"
)

// NewCmdPin builds `lmc pin`.
func NewCmdPin(f *Factory) *cobra.Command {
	o := &opFlags{}
	cmd := &cobra.Command{
		Use:   "pin --controller URL --instance I [--location L] [FILE|-]",
		Short: "Pin a prompt's cached prefix so that clear and eviction keep it",
		Long: `Pin the cached prefix of a prompt in one instance (every worker). Pinned
chunks survive 'lmc clear'. The controller has no unpin.

` + inputHelp,
		Example: `  lmc pin --controller http://localhost:9000 --instance inst1 prompt.json
  lmc pin --controller http://localhost:9000 --instance inst1 --tokens 1,2,3 --verify -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat(opFormats)
			if err != nil {
				return err
			}
			if err := requireController(o, true); err != nil {
				return err
			}
			toks, err := f.oneTokenPrompt(args, &o.Input)
			if err != nil {
				return err
			}
			c, err := f.controllerClient(o.Backend.Controller)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			r, err := c.Pin(ctx, o.Instance, o.Location, toks)
			if err != nil {
				return f.opErr(ctx, c, o.Instance, err)
			}
			v := opView{Operation: "pin", InstanceID: o.Instance, Location: o.Location, EventID: r.EventID, NumTokens: r.NumTokens}
			if o.Verify {
				if v.Verify, err = verifyLookup(ctx, c, toks); err != nil {
					return f.controllerErr(c.BaseURL(), err)
				}
			}
			return writeOp(f, fm, v)
		},
	}
	addOpFlags(cmd, o, true, true)
	return cmd
}
