package commands

import (
	"context"

	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
)

// NewCmdPin builds `lmc pin`.
func NewCmdPin(f *Factory) *cobra.Command {
	o := &opFlags{}
	cmd := &cobra.Command{
		Use:   "pin (--controller URL --instance I [--location L] | --coordinator URL [--unpin]) [FILE|-]",
		Short: shortFor("pin"),
		Long: `Pin the cached prefix of a prompt in one instance (every worker). Pinned
chunks survive 'lmc clear'. The controller has no unpin. Its workers key the
tokens: the key flags of --coordinator (--cache-salt, --world-size, ...) are
refused with --controller; --model is the --tokenize-url request's model.

` + coordinatorPinHelp + `

With --master (or --admin), pin explains why a Mooncake master cannot pin an
object that is already stored (pins are set by the writer at put time; the
same-size upsert that could change a soft pin risks the key) and where to set
pinning instead; it changes nothing and exits 2.

` + inputHelp,
		Example: `  lmc pin --controller http://localhost:9000 --instance inst1 prompt.json
  lmc pin --controller http://localhost:9000 --instance inst1 --tokens 1,2,3 --verify -o json
  lmc pin --coordinator http://localhost:9300 --server http://localhost:8080 --verify prompt.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if done, err := f.coordinatorPinDispatch(cmd, args, &o.Backend); done {
				return err
			}
			if store, err := f.storeVerb(&o.Backend, "tenant"); err != nil {
				return err
			} else if store {
				return errMasterCannotPin(&o.Backend)
			} else if o.Backend.Controller == "" {
				return errNoOpBackend
			} else if err := refuseUnkeyed(f, "pin --controller sends the controller the tokens and its workers key them"); err != nil {
				return err
			}
			v := opView{Operation: "pin", InstanceID: o.Instance, Location: o.Location}
			return f.tokenOp(cmd, args, o, v, true, func(ctx context.Context, c *controllerclient.Client, toks []uint32) (*controllerclient.OpResult, error) {
				return c.Pin(ctx, o.Instance, o.Location, toks)
			})
		},
	}
	addOpFlags(f, cmd, o, true, true)
	addStoreFlags(cmd, &o.Backend)
	coordPinFlags(cmd, &o.Backend) // last: it adds only the flags the command lacks
	return cmd
}
