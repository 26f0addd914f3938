package commands

import (
	"errors"
	"fmt"

	"lmc/internal/commands/iostreams"
	"lmc/internal/controllerclient"

	"github.com/spf13/cobra"
)

// NewCmdClear builds `lmc clear`.
func NewCmdClear(f *Factory) *cobra.Command {
	o := &opFlags{}
	so := &storeOpFlags{}
	var yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "clear (--controller URL --instance I [--location L] | --master ADDR [--admin URL] (FILE|- | --match REGEX | --all) | --coordinator URL --instance I FILE | --server URL [FILE]) [--yes] [--dry-run]",
		Short: shortFor("clear"),
		Long: `Clear an instance's KV cache in one location (default LocalCPUBackend) on every
worker. Pinned chunks stay. On a terminal lmc asks first; elsewhere it needs
--yes. --dry-run prints what would be sent and the instance's current key count
without changing anything. --verify reads the key statistics afterwards: a
clear that answered 200 but removed nothing has been seen in the field. The
controller clears the whole location: key flags (--model, --cache-salt, ...)
and --server are refused with --controller.

` + masterClearHelp + `

` + masterEngineHelp + `

` + coordinatorClearHelp,
		Example: `  lmc clear --controller http://localhost:9000 --instance inst1
  lmc clear --controller http://localhost:9000 --instance inst1 --yes --verify -o json
  lmc clear --controller http://localhost:9000 --instance inst1 --dry-run
` + masterClearExamples + `
  lmc clear --coordinator http://localhost:9300 --instance server-1 --server http://localhost:8080 --yes prompt.json
  lmc clear --server http://localhost:8080 --yes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.masterEngine(cmd, so, &o.Backend); err != nil {
				return err
			}
			if done, err := f.coordinatorClearDispatch(cmd, args, &o.Backend, o.Instance, yes, dryRun); done {
				return err
			}
			if store, err := f.storeVerb(&o.Backend, "match", "all", "force", "all-ranks", "tenant", "tokens", "text", "prompt-file", "messages"); err != nil {
				return err
			} else if store {
				if err := refuse(f, anyLayer, "applies to clear --coordinator or --server (LMCache MP mode), not --master", "tier", "server"); err != nil {
					return err
				}
				// A Mooncake store has no instances or locations: --all
				// with --instance would remove every object, not one
				// instance's.
				if err := refuse(f, notContext, "applies to clear --controller or --coordinator, not --master: a Mooncake store has no instances or locations (a prompt, --match or --all says what goes)", "instance", "location"); err != nil {
					return err
				}
				if err := refuseKeysWithoutPrompt(f, cmd, args, so); err != nil {
					return err
				}
				return f.masterClear(cmd.Context(), args, &o.Backend, &o.Input, so, masterClearOptions{Yes: yes, DryRun: dryRun, Verify: o.Verify})
			} else if o.Backend.Controller == "" {
				return errNoOpBackend
			}
			fm, err := f.outputFormat(opFormats)
			if err != nil {
				return err
			}
			if err := requireController(o, true); err != nil {
				return err
			}
			if err := checkLocation("--location", o.Location); err != nil {
				return err
			}
			if !yes && !dryRun && !f.IOStreams.CanPrompt() {
				return &UsageError{Err: errors.New("refusing to clear without --yes when not on a terminal")}
			}
			c, err := f.controllerClient(o.Backend.Controller)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// The dry run fails like the real run would: an unknown
			// instance is an error, not "would clear".
			if err := f.checkInstance(ctx, c, "--instance", o.Instance); err != nil {
				return err
			}
			n, err := instanceKeyCount(ctx, c, o.Instance)
			if err != nil {
				return f.controllerErr(c.BaseURL(), err)
			}
			if dryRun {
				v := opView{Operation: "clear", InstanceID: o.Instance, Location: o.Location, DryRun: true, Verify: &verifyView{KeyCount: n},
					Request: fmt.Sprintf("POST %s/clear {\"instance_id\": %q, \"location\": %q}", c.BaseURL(), o.Instance, o.Location)}
				if o.Location != controllerclient.DefaultLocation {
					v.Warning = zeroCause("clear", o.Location)
				}
				return writeOp(f, fm, v)
			}
			if !f.skipConfirmation(yes) {
				where := "controller " + c.BaseURL()
				if f.ActiveContext != "" {
					where += " (context " + f.ActiveContext + ")"
				}
				ok, err := f.confirm(ctx, fmt.Sprintf("Clear all unpinned KV cache of instance %q in %s on %s? It holds %s now; pinned chunks stay.", o.Instance, o.Location, where, iostreams.Plural(*n, "key")))
				if err != nil {
					return err
				}
				if !ok {
					return &ExitError{Code: ExitFailed, Err: errors.New("clear cancelled")}
				}
			}
			r, err := c.Clear(ctx, o.Instance, o.Location)
			if err != nil {
				return f.opErr(ctx, c, o.Instance, err)
			}
			v := opView{Operation: "clear", InstanceID: o.Instance, Location: o.Location, EventID: r.EventID, NumTokens: r.NumTokens}
			if r.NumTokens == 0 {
				v.Warning = zeroCause("clear", o.Location)
			}
			if o.Verify {
				n, err := instanceKeyCount(ctx, c, o.Instance)
				if err != nil {
					return f.controllerErr(c.BaseURL(), err)
				}
				v.Verify = &verifyView{KeyCount: n}
				if r.NumTokens == 0 && *n > 0 {
					v.Verify.Note = "the controller reports nothing cleared; remaining keys may be pinned or in another location"
				}
			}
			return writeOp(f, fm, v)
		},
	}
	addOpFlags(f, cmd, o, true, false)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be sent and the current key count; change nothing")
	addMasterClearFlags(cmd, &o.Backend, &o.Input, so)
	addMasterEngineFlags(cmd, so)
	coordClearFlags(cmd, &o.Backend) // last: it adds only the flags the command lacks
	return cmd
}

// refuseKeysWithoutPrompt refuses, for clear --master --match or --all
// without a prompt, the key and input flags given on the command line:
// they select a prompt's keys, and --match or --all would remove what they
// did not select (--all --model m removes every model's objects). A
// context's or LMC_*'s values are left alone, and --lmcache-config, which
// can name the master.
func refuseKeysWithoutPrompt(f *Factory, cmd *cobra.Command, args []string, so *storeOpFlags) error {
	if len(args) > 0 || f.Given.Has("tokens") || f.Given.Has("text") || f.Given.Has("prompt-file") || f.Given.Has("messages") {
		return nil // a prompt: the keys are its; with --match or --all it is refused later
	}
	scope := ""
	switch {
	case so.All:
		scope = "--all removes every object"
	case f.Given.Has("match"):
		scope = "--match removes every key the regex finds"
	default:
		return nil
	}
	return refuseKeyFlagsGiven(f, cmd, scope+", whatever the key flags (anchor --match on the model, e.g. '^MODEL@', or give the prompt)")
}
