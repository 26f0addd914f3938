package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/controllerclient"
	"lmc/internal/safetext"
	"lmc/internal/transport"
)

// opFlags are shared by the mutating controller commands.
type opFlags struct {
	Backend  BackendFlags
	Instance string
	Location string
	Input    InputFlags
	Verify   bool
}

func addOpFlags(cmd *cobra.Command, o *opFlags, withInstance, withTokens bool) {
	addControllerFlag(cmd, &o.Backend)
	if withInstance {
		cmd.Flags().StringVar(&o.Instance, "instance", "", "instance id (lmcache_instance_id of the engine)")
		cmd.Flags().StringVar(&o.Location, "location", controllerclient.DefaultLocation, "storage backend inside the workers")
		_ = cmd.RegisterFlagCompletionFunc("instance", completeInstances)
	}
	if withTokens {
		addInputFlags(cmd, &o.Input)
	}
	cmd.Flags().BoolVar(&o.Verify, "verify", false, "check the effect afterwards (lookup or key statistics)")
}

// opView is the JSON of a mutating command.
type opView struct {
	Operation  string `json:"operation"`
	InstanceID string `json:"instance_id"`
	Location   string `json:"location,omitempty"`
	Target     string `json:"target,omitempty"`
	EventID    string `json:"event_id"`
	NumTokens  int    `json:"num_tokens"`
	DryRun     bool   `json:"dry_run,omitempty"`
	// Verify is the lookup or key count after the operation (--verify).
	Verify *verifyView `json:"verify,omitempty"`
}

type verifyView struct {
	HitTokens *int                           `json:"hit_tokens,omitempty"`
	Instances []controllerclient.InstanceHit `json:"instances,omitempty"`
	KeyCount  *int                           `json:"key_count,omitempty"`
	Note      string                         `json:"note,omitempty"`
}

var opFormats = []printers.Format{printers.Table, printers.Plain, printers.JSON}

// oneTokenPrompt reads exactly one prompt for an operation.
func (f *Factory) oneTokenPrompt(ctx context.Context, args []string, in *InputFlags, model string) ([]uint32, error) {
	src, err := f.openTokens(ctx, args, in, model)
	if err != nil {
		return nil, err
	}
	p, err := src.onlyPrompt(ctx, "this operation")
	if err != nil {
		return nil, err
	}
	return p.Tokens, nil
}

func requireController(o *opFlags, needInstance bool) error {
	if o.Backend.Controller == "" {
		return errNoController
	}
	if needInstance && o.Instance == "" {
		return &UsageError{Err: errors.New("--instance is required ('lmc workers' lists the registered instances)")}
	}
	return nil
}

// writeOp prints what a mutating command did.
func writeOp(f *Factory, fm printers.Format, v opView) error {
	ios := f.IOStreams
	switch fm {
	case printers.JSON:
		return printers.WriteJSON(f.Out(), v)
	case printers.Plain:
		return printers.WritePlain(f.Out(), [][]string{{v.Operation, v.InstanceID, v.Location, v.Target, v.EventID, strconv.Itoa(v.NumTokens)}})
	}
	st := ios.Styles()
	var b strings.Builder
	verb := map[string]string{"pin": "pinned", "clear": "cleared", "move": "moved", "copy": "copied", "compress": "compressed", "decompress": "decompressed"}[v.Operation]
	if v.DryRun {
		fmt.Fprintf(&b, "%s would %s %s at %s\n", st.Warn.Render("dry run:"), v.Operation, v.InstanceID, v.Location)
	} else {
		where := v.InstanceID
		if v.Location != "" {
			where += " (" + v.Location + ")"
		}
		if v.Target != "" {
			where += " → " + v.Target
		}
		fmt.Fprintf(&b, "%s %s %d tokens on %s", st.Hit.Render("✓"), verb, v.NumTokens, where)
		if v.EventID != "" {
			b.WriteString(st.Muted.Render("  event " + v.EventID))
		}
		b.WriteString("\n")
	}
	if vv := v.Verify; vv != nil {
		if vv.HitTokens != nil {
			fmt.Fprintf(&b, "verify: lookup now hits %d tokens", *vv.HitTokens)
			for _, in := range vv.Instances {
				fmt.Fprintf(&b, "; %s %s %d", in.InstanceID, in.Location, in.HitTokens)
			}
			b.WriteString("\n")
		}
		if vv.KeyCount != nil {
			fmt.Fprintf(&b, "verify: %s holds %s\n", v.InstanceID, iostreams.Plural(*vv.KeyCount, "key"))
		}
		if vv.Note != "" {
			b.WriteString(st.Warn.Render("verify: "+vv.Note) + "\n")
		}
	}
	_, err := io.WriteString(f.Out(), safetext.EscapeText(b.String()))
	return err
}

// tokenOp runs a controller operation on one prompt: it checks the flags,
// reads the tokens, makes the call, verifies the effect with --verify and
// prints the result. v names the operation; call makes the request.
func (f *Factory) tokenOp(cmd *cobra.Command, args []string, o *opFlags, v opView, needInstance bool,
	call func(context.Context, *controllerclient.Client, []uint32) (*controllerclient.OpResult, error)) error {
	fm, err := f.outputFormat(opFormats)
	if err != nil {
		return err
	}
	if err := requireController(o, needInstance); err != nil {
		return err
	}
	toks, err := f.oneTokenPrompt(cmd.Context(), args, &o.Input, "")
	if err != nil {
		return err
	}
	c, err := f.controllerClient(o.Backend.Controller)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	r, err := call(ctx, c, toks)
	if err != nil {
		return f.opErr(ctx, c, v.InstanceID, err)
	}
	v.EventID, v.NumTokens = r.EventID, r.NumTokens
	if v.EventID == "" && len(r.EventIDs) > 0 {
		v.EventID = r.EventIDs[0]
	}
	if o.Verify {
		if v.Verify, err = verifyLookup(ctx, c, toks); err != nil {
			return f.controllerErr(c.BaseURL(), err)
		}
	}
	return writeOp(f, fm, v)
}

// verifyLookup re-runs the lookup after an operation.
func verifyLookup(ctx context.Context, c *controllerclient.Client, tokens []uint32) (*verifyView, error) {
	r, err := c.Lookup(ctx, tokens)
	if err != nil {
		return nil, err
	}
	hit := r.MatchedTokens
	return &verifyView{HitTokens: &hit, Instances: r.Instances}, nil
}

// instanceKeyCount reads an instance's key count from /controller/key-stats.
func instanceKeyCount(ctx context.Context, c *controllerclient.Client, instance string) (*int, error) {
	ks, err := c.KeyStats(ctx)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, in := range ks.Instances {
		if in.InstanceID == instance {
			n = in.KeyCount
		}
	}
	return &n, nil
}

// completionTimeout bounds a dynamic completion: the shell waits for it.
const completionTimeout = 1500 * time.Millisecond

// completeInstances completes instance ids from the controller given with
// --controller (or LMC_CONTROLLER), with a short timeout, silently.
func completeInstances(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	url, _ := cmd.Flags().GetString("controller")
	if url == "" {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	p, err := transport.NewPeer(url)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := controllerclient.New(p, controllerclient.WithTimeout(completionTimeout), controllerclient.WithRetries(0, 0, 0))
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	ws, err := c.AllWorkers(ctx)
	if err != nil {
		cobra.CompDebugln("instance completion: "+err.Error(), false)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	seen := map[string]bool{}
	var out []string
	for _, w := range ws.Workers {
		if !seen[w.InstanceID] && strings.HasPrefix(w.InstanceID, toComplete) {
			seen[w.InstanceID] = true
			out = append(out, w.InstanceID)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// confirm asks a yes/no question on the terminal.
func (f *Factory) confirm(question string) (bool, error) {
	fmt.Fprintf(f.IOStreams.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(f.IOStreams.In).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// splitPosition parses INSTANCE[:LOCATION].
func splitPosition(s string) (inst, loc string) {
	inst, loc, ok := strings.Cut(s, ":")
	if !ok || loc == "" {
		loc = controllerclient.DefaultLocation
	}
	return inst, loc
}

// opErr explains a failed operation on an instance: the controller answers
// an unknown instance with a misleading 500 ("should be the same across all
// workers"), so lmc checks the registry and says what is really wrong.
func (f *Factory) opErr(ctx context.Context, c *controllerclient.Client, instance string, err error) error {
	var ae *controllerclient.APIError
	if instance != "" && errors.As(err, &ae) && (ae.Kind == controllerclient.KindCountMismatch || ae.Kind == controllerclient.KindNoReason) {
		if ws, lerr := c.AllWorkers(ctx); lerr == nil {
			var ids []string
			seen := map[string]bool{}
			for _, w := range ws.Workers {
				if w.InstanceID == instance {
					return f.controllerErr(c.BaseURL(), err)
				}
				if !seen[w.InstanceID] {
					seen[w.InstanceID] = true
					ids = append(ids, w.InstanceID)
				}
			}
			known := "none"
			if len(ids) > 0 {
				known = strings.Join(ids, ", ")
			}
			return fmt.Errorf("LMCache controller %s: instance %q is not registered (registered: %s); the controller answered HTTP %d %q", c.BaseURL(), instance, known, ae.Status, ae.Detail)
		}
	}
	return f.controllerErr(c.BaseURL(), err)
}
