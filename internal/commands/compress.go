package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
)

// NewCmdCompress builds `lmc compress` and, with decompress set, `lmc decompress`.
func NewCmdCompress(f *Factory, decompress bool) *cobra.Command {
	o := &opFlags{}
	var method string
	name := "compress"
	if decompress {
		name = "decompress"
	}
	short := shortFor(name)
	cmd := &cobra.Command{
		Use:   name + " --controller URL --instance I [--location L] [--method cachegen] [FILE|-]",
		Short: short,
		Long: short + `, on every worker of the instance. "cachegen" is the only
method the workers implement; controllers that predate /decompress answer 404.

` + inputHelp,
		Example: "  lmc " + name + " --controller http://localhost:9000 --instance inst1 prompt.json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if method != "cachegen" {
				return &UsageError{Err: fmt.Errorf("--method %s: the workers implement only cachegen; any other method answers 0 tokens and does nothing", method)}
			}
			v := opView{Operation: name, InstanceID: o.Instance, Location: o.Location}
			return f.tokenOp(cmd, args, o, v, true, func(ctx context.Context, c *controllerclient.Client, toks []uint32) (*controllerclient.OpResult, error) {
				req := controllerclient.CompressRequest{InstanceID: o.Instance, Method: method, Location: o.Location, Tokens: toks}
				if decompress {
					return c.Decompress(ctx, req)
				}
				return c.Compress(ctx, req)
			})
		},
	}
	addOpFlags(f, cmd, o, true, true)
	cmd.Flags().StringVar(&method, "method", "cachegen", "compression method")
	return cmd
}
