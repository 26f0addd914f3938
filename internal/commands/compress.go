package commands

import (
	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
)

// NewCmdCompress builds `lmc compress` and, with decompress set, `lmc decompress`.
func NewCmdCompress(f *Factory, decompress bool) *cobra.Command {
	o := &opFlags{}
	var method string
	name, short := "compress", "Compress a prompt's cached prefix in place (CacheGen)"
	if decompress {
		name, short = "decompress", "Decompress a prompt's cached prefix"
	}
	cmd := &cobra.Command{
		Use:   name + " --controller URL --instance I [--location L] [--method cachegen] [FILE|-]",
		Short: short,
		Long: short + `, on every worker of the instance. "cachegen" is the only
method the workers implement; controllers that predate /decompress answer 404.

` + inputHelp,
		Example: "  lmc " + name + " --controller http://localhost:9000 --instance inst1 prompt.json",
		Args:    cobra.MaximumNArgs(1),
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
			req := controllerclient.CompressRequest{InstanceID: o.Instance, Method: method, Location: o.Location, Tokens: toks}
			var r *controllerclient.OpResult
			if decompress {
				r, err = c.Decompress(ctx, req)
			} else {
				r, err = c.Compress(ctx, req)
			}
			if err != nil {
				return f.opErr(ctx, c, o.Instance, err)
			}
			v := opView{Operation: name, InstanceID: o.Instance, Location: o.Location, EventID: r.EventID, NumTokens: r.NumTokens}
			if o.Verify {
				if v.Verify, err = verifyLookup(ctx, c, toks); err != nil {
					return f.controllerErr(c.BaseURL(), err)
				}
			}
			return writeOp(f, fm, v)
		},
	}
	addOpFlags(cmd, o, true, true)
	cmd.Flags().StringVar(&method, "method", "cachegen", "compression method")
	return cmd
}
