package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/boundedio"
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

func addOpFlags(f *Factory, cmd *cobra.Command, o *opFlags, withInstance, withTokens bool) {
	addControllerFlag(cmd, &o.Backend)
	if withInstance {
		cmd.Flags().StringVar(&o.Instance, "instance", "", "instance id (lmcache_instance_id of the engine)")
		cmd.Flags().StringVar(&o.Location, "location", controllerclient.DefaultLocation, "storage backend inside the workers")
		_ = cmd.RegisterFlagCompletionFunc("instance", f.completeInstances)
	}
	if withTokens {
		addInputFlags(cmd, &o.Input)
	}
	cmd.Flags().BoolVar(&o.Verify, "verify", false, "check the effect afterwards (lookup or key statistics)")
}

// controllerUnkeyedFlags are the key flags of the store and coordinator
// paths: the controller's verbs send it tokens (or nothing) and its workers
// key them, so these would change nothing there.
var controllerUnkeyedFlags = []string{"world-size", "cache-salt", "chunk-size", "server", "hash", "hash-seed", "none-hash", "key-schema",
	"dtype", "python-version", "worker-id", "layer", "mla", "save-unfull-chunk", "legacy-64bit", "tag"}

// refuseUnkeyed refuses the key flags given on the command line to a
// controller verb (why says what it sends instead); values from LMC_* or
// a context, which serve other commands, are left alone.
func refuseUnkeyed(f *Factory, why string, extra ...string) error {
	return refuse(f, commandLine, "is a key flag of --master and --coordinator, which the controller path would ignore: "+why, append(extra, controllerUnkeyedFlags...)...)
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
	// Warning says why a result of 0 tokens probably did nothing.
	Warning string `json:"warning,omitempty"`
	// Request is what a --dry-run would send.
	Request string `json:"request,omitempty"`
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
		row := []string{v.Operation, v.InstanceID, v.Location, v.Target, v.EventID, strconv.Itoa(v.NumTokens)}
		if v.DryRun {
			row = append(row, "dry-run") // nothing was done: not a 0-token result
		}
		return printers.WritePlain(f.Out(), [][]string{row})
	}
	st := ios.Styles()
	var b strings.Builder
	verb := map[string]string{"pin": "pinned", "clear": "cleared", "move": "moved", "copy": "copied", "compress": "compressed", "decompress": "decompressed"}[v.Operation]
	switch {
	case v.DryRun:
		fmt.Fprintf(&b, "%s would %s %s at %s\n", st.Warn.Render("dry run:"), v.Operation, v.InstanceID, v.Location)
		if v.Request != "" {
			fmt.Fprintf(&b, "would send: %s\n", v.Request)
		}
	case v.NumTokens == 0 && v.Warning != "":
		where := v.InstanceID
		if v.Location != "" {
			where += " (" + v.Location + ")"
		}
		fmt.Fprintf(&b, "%s %s 0 tokens on %s: nothing changed — %s", st.Warn.Render("!"), verb, where, v.Warning)
		if v.EventID != "" {
			b.WriteString(st.Muted.Render("  event " + v.EventID))
		}
		b.WriteString("\n")
	default:
		where := v.InstanceID
		if v.Location != "" {
			where += " (" + v.Location + ")"
		}
		if v.Target != "" {
			where += " → " + v.Target
		}
		fmt.Fprintf(&b, "%s %s %s on %s", st.Hit.Render("✓"), verb, iostreams.Plural(v.NumTokens, "token"), where)
		if v.EventID != "" {
			b.WriteString(st.Muted.Render("  event " + v.EventID))
		}
		b.WriteString("\n")
	}
	if vv := v.Verify; vv != nil {
		if vv.HitTokens != nil {
			if v.DryRun {
				fmt.Fprintf(&b, "now: the lookup hits %d tokens", *vv.HitTokens)
			} else {
				fmt.Fprintf(&b, "verify: lookup now hits %d tokens", *vv.HitTokens)
			}
			for _, in := range vv.Instances {
				fmt.Fprintf(&b, "; %s %s %d", in.InstanceID, in.Location, in.HitTokens)
			}
			b.WriteString("\n")
		}
		if vv.KeyCount != nil {
			label := "verify:"
			if v.DryRun {
				label = "now:"
			}
			fmt.Fprintf(&b, "%s %s holds %s\n", label, v.InstanceID, iostreams.Plural(*vv.KeyCount, "key"))
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
	if err := checkLocation("--location", o.Location); err != nil {
		return err
	}
	// --model is the tokenize request's model, as for lookup --controller
	toks, err := f.oneTokenPrompt(cmd.Context(), args, &o.Input, flagString(cmd, "model"))
	if err != nil {
		return err
	}
	c, err := f.controllerClient(o.Backend.Controller)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if flagBool(cmd, "dry-run") {
		return f.dryTokenOp(ctx, c, fm, v, o.Location, toks)
	}
	r, err := call(ctx, c, toks)
	if err != nil {
		return f.opErr(ctx, c, v.InstanceID, err)
	}
	v.EventID, v.NumTokens = r.EventID, r.NumTokens
	if v.NumTokens == 0 {
		v.Warning = zeroCause(v.Operation, v.Location)
	}
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

// dryTokenOp is tokenOp's --dry-run: the checks the real run's answer
// would make (the instances exist), the request it would send and what the
// controller's lookup says now; nothing is sent that changes anything.
func (f *Factory) dryTokenOp(ctx context.Context, c *controllerclient.Client, fm printers.Format, v opView, location string, toks []uint32) error {
	loc := location
	if loc == "" {
		loc = controllerclient.DefaultLocation
	}
	checks := [][2]string{{"--instance", v.InstanceID}}
	endpoint := map[string]controllerclient.Endpoint{"pin": controllerclient.EndpointPin, "move": controllerclient.EndpointMove, "copy": controllerclient.EndpointMove,
		"compress": controllerclient.EndpointCompress, "decompress": controllerclient.EndpointDecompress}[v.Operation]
	what := fmt.Sprintf("instance %q, location %q", v.InstanceID, loc)
	if v.Operation == "move" || v.Operation == "copy" {
		dst, _ := splitPosition(v.Target)
		checks = [][2]string{{"--from", v.InstanceID}, {"--to", dst}}
		what = fmt.Sprintf("from %s:%s to %s", v.InstanceID, v.Location, v.Target)
	}
	for _, ch := range checks {
		if err := f.checkInstance(ctx, c, ch[0], ch[1]); err != nil {
			return err
		}
	}
	now, err := verifyLookup(ctx, c, toks)
	if err != nil {
		return f.controllerErr(c.BaseURL(), err)
	}
	v.DryRun, v.Verify = true, now
	v.Request = fmt.Sprintf("POST %s%s (%s, %s)", c.BaseURL(), endpoint, what, iostreams.Plural(len(toks), "token"))
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

// completeInstances completes instance ids from the controller the command
// would use — --controller on the line, else LMC_CONTROLLER, else the
// context's (--context, LMC_CONTEXT or the current one), with the context's
// headers — within a short timeout, silently. (Shell completion runs no
// pre-run hooks, so it resolves these itself.)
func (f *Factory) completeInstances(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	url, headers := f.completionController(cmd)
	if url == "" {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	o := transport.Options{Timeout: completionTimeout}
	for _, h := range headers {
		if hd, err := transport.ParseHeader(h); err == nil {
			o.Headers = append(o.Headers, hd)
		}
	}
	tr, err := transport.New(o)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	p, err := tr.Peer(url)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := controllerclient.New(p, controllerclient.WithTimeout(completionTimeout), controllerclient.WithRetries(0, 0, 0))
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	ids, err := registeredInstances(ctx, c)
	if err != nil {
		cobra.CompDebugln("instance completion: "+err.Error(), false)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, id := range ids {
		if strings.HasPrefix(id, toComplete) {
			out = append(out, id)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completionController is the controller URL and -H headers for shell
// completion, by the same precedence as a command run.
func (f *Factory) completionController(cmd *cobra.Command) (string, []string) {
	var headers []string
	if fl := cmd.Flags().Lookup("header"); fl != nil && fl.Changed {
		headers, _ = cmd.Flags().GetStringArray("header")
	}
	if fl := cmd.Flags().Lookup("controller"); fl != nil && fl.Changed {
		return fl.Value.String(), headers
	}
	if v := f.Getenv("LMC_CONTROLLER"); v != "" {
		return v, headers
	}
	cfg, err := f.loadConfig(cmd.Context())
	if err != nil {
		return "", nil
	}
	name := f.Getenv("LMC_CONTEXT")
	if fl := cmd.Flags().Lookup("context"); fl != nil && fl.Changed {
		name = fl.Value.String()
	}
	if name == "" {
		name = cfg.CurrentContext
	}
	ctxVals := cfg.Contexts[name]
	if ctxVals == nil {
		return "", nil
	}
	if len(headers) == 0 {
		if h, ok := ctxVals["header"]; ok {
			headers = contextValue(h)
		}
	}
	if v, ok := ctxVals["controller"]; ok {
		return fmt.Sprint(v), headers
	}
	return "", nil
}

// confirm asks a yes/no question on the terminal.
// confirm asks a yes/no question on the terminal. Ctrl-C ends the wait at
// once (exit 130), and only the answer's line is read, so nothing typed
// after it is eaten.
func (f *Factory) confirm(ctx context.Context, question string) (bool, error) {
	fmt.Fprintf(f.IOStreams.ErrOut, "%s [y/N] ", question)
	r := boundedio.Cancelable(ctx, f.IOStreams.In)
	var line []byte
	one := make([]byte, 1)
	for len(line) < 256 {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				break
			}
			line = append(line, one[0])
		}
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(f.IOStreams.ErrOut)
				return false, ctx.Err()
			}
			break
		}
	}
	a := strings.ToLower(strings.TrimSpace(string(line)))
	return a == "y" || a == "yes", nil
}

// skipConfirmation reports --yes, saying so on stderr when it came from
// the environment or a context rather than the command line.
func (f *Factory) skipConfirmation(yes bool) bool {
	if src := f.Given.Source("yes"); yes && src != "" && src != "flag --yes" {
		fmt.Fprintf(f.IOStreams.ErrOut, "--yes from %s: not asking for confirmation\n", src)
	}
	return yes
}

// splitPosition parses INSTANCE[:LOCATION].
func splitPosition(s string) (inst, loc string) {
	inst, loc, ok := strings.Cut(s, ":")
	if !ok || loc == "" {
		loc = controllerclient.DefaultLocation
	}
	return inst, loc
}

// knownLocations are the storage backends of LMCache's storage manager
// (spec §5.2). Names are case-sensitive and the controller never checks
// them: a wrong one quietly does nothing.
var knownLocations = []string{"LocalCPUBackend", "LocalDiskBackend", "GdsBackend", "MaruBackend", "P2PBackend", "PDBackend", "NixlStorageBackend", "RemoteBackend"}

// checkLocation refuses a location that differs from a known backend only
// in case (it would silently do nothing); other unknown names may be
// storage plugins and pass.
func checkLocation(flag, loc string) error {
	for _, k := range knownLocations {
		if loc == k || strings.HasPrefix(loc, "RemoteBackend-") {
			return nil
		}
	}
	for _, k := range knownLocations {
		if strings.EqualFold(loc, k) {
			return &UsageError{Err: fmt.Errorf("%s %s: location names are case-sensitive and the controller does not check them; did you mean %s?", flag, loc, k)}
		}
	}
	return nil
}

// zeroCause is the likely reason an operation covered 0 tokens.
func zeroCause(op, loc string) string {
	switch {
	case op == "clear" && loc != controllerclient.DefaultLocation:
		return "only LocalCPUBackend implements clear; other locations answer 0"
	case op == "clear":
		return "the instance held nothing unpinned in " + loc
	case op == "move" || op == "copy":
		return "nothing of this prompt is cached at the source (lmc lookup --controller shows where it is), or the destination location is not LocalCPUBackend"
	}
	return "nothing of this prompt is cached in " + loc + " on that instance (lmc lookup --controller shows where it is)"
}

// registeredInstances lists the controller's instances in registration
// order.
func registeredInstances(ctx context.Context, c *controllerclient.Client) ([]string, error) {
	ws, err := c.AllWorkers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, w := range ws.Workers {
		if !seen[w.InstanceID] {
			seen[w.InstanceID] = true
			ids = append(ids, w.InstanceID)
		}
	}
	return ids, nil
}

// checkInstance fails like the real operation would for an instance the
// controller does not know, naming the registered ones (and the closest).
func (f *Factory) checkInstance(ctx context.Context, c *controllerclient.Client, flag, instance string) error {
	ids, err := registeredInstances(ctx, c)
	if err != nil {
		return f.controllerErr(c.BaseURL(), err)
	}
	if slices.Contains(ids, instance) {
		return nil
	}
	return notRegistered(c, flag, instance, ids)
}

func notRegistered(c *controllerclient.Client, flag, instance string, ids []string) error {
	known := "none"
	if len(ids) > 0 {
		known = strings.Join(ids, ", ")
	}
	msg := fmt.Sprintf("LMCache controller %s: instance %q is not registered (registered: %s)", c.BaseURL(), instance, known)
	if flag != "--instance" {
		msg = flag + ": " + msg
	}
	if s := closest(instance, ids); len(s) > 0 && editDistance(instance, s[0]) <= 2 {
		msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
	}
	return &unknownInstanceError{msg: msg}
}

// unknownInstanceError is an instance the controller does not know: a
// complete message (it already names the controller).
type unknownInstanceError struct{ msg string }

func (e *unknownInstanceError) Error() string { return e.msg }

// opErr explains a failed operation on an instance: the controller answers
// an unknown instance with a misleading 500 ("should be the same across all
// workers"), so lmc checks the registry and says what is really wrong.
func (f *Factory) opErr(ctx context.Context, c *controllerclient.Client, instance string, err error) error {
	var ue *unknownInstanceError
	if errors.As(err, &ue) {
		return err
	}
	var ae *controllerclient.APIError
	if instance != "" && errors.As(err, &ae) && (ae.Kind == controllerclient.KindCountMismatch || ae.Kind == controllerclient.KindNoReason) {
		if ids, lerr := registeredInstances(ctx, c); lerr == nil && !slices.Contains(ids, instance) {
			return fmt.Errorf("%w; the controller answered HTTP %d %q", notRegistered(c, "--instance", instance, ids), ae.Status, ae.Detail)
		}
	}
	return f.controllerErr(c.BaseURL(), err)
}
