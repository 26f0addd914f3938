// The coordinator's verbs: pin and unpin (POST/DELETE /cache/pins), move
// (POST /cache/moves, where the coordinator has it), delete a prompt's
// keys on one MP server (clear --coordinator: POST /cache/delete), warm
// prefetch (POST /cache/prefetches and polling), and clear --server (an
// MP server's own /cache/clear and /cache/objects). They follow the
// controller verbs' rules (controllerops.go): confirmation for what
// deletes, --dry-run, --verify, a warning when nothing changed, and the
// opView JSON with fields added.
package commands

import (
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
	"lmc/internal/coordinatorclient"
	"lmc/internal/safetext"
)

// coordVerifyView is what --verify (or --dry-run's "now") found.
type coordVerifyView struct {
	// HitTokens is the prefix hit under Filter afterwards.
	HitTokens *int   `json:"hit_tokens,omitempty"`
	Filter    string `json:"filter,omitempty"`
	// Keys are the prompt's keys (chunks × world size); PinnedKeys those
	// with a pin; PresentKeys those with a placement under Filter.
	Keys        *int `json:"keys,omitempty"`
	PinnedKeys  *int `json:"pinned_keys,omitempty"`
	PresentKeys *int `json:"present_keys,omitempty"`
	// L1Objects is an MP server's L1 object count (/status).
	L1Objects *int64 `json:"l1_objects,omitempty"`
	Note      string `json:"note,omitempty"`
}

// coordOpView is the JSON of a coordinator or MP server operation: the
// controller verbs' fields, and what the coordinator answered.
type coordOpView struct {
	opView
	Source  string `json:"source"`
	Backend string `json:"backend"`
	// Verify shadows opView's: the coordinator's checks.
	Verify          *coordVerifyView `json:"verify,omitempty"`
	Status          string           `json:"status,omitempty"`
	Tier            string           `json:"tier,omitempty"`
	Force           bool             `json:"force,omitempty"`
	RequestedChunks int              `json:"requested_chunks"`
	AffectedKeys    *int             `json:"affected_keys,omitempty"`
	SkippedKeys     *int             `json:"skipped_keys,omitempty"`
	// Moves.
	MoveID      string `json:"move_id,omitempty"`
	Phase       string `json:"phase,omitempty"`
	LoadedKeys  *int   `json:"loaded_keys,omitempty"`
	MissingKeys *int   `json:"missing_keys,omitempty"`
	DeletedKeys *int   `json:"deleted_keys,omitempty"`
	Error       string `json:"error,omitempty"`
	// Prefetches.
	RequestID         string `json:"request_id,omitempty"`
	FoundKeys         *int   `json:"found_keys,omitempty"`
	TotalKeys         *int   `json:"total_keys,omitempty"`
	MissingKeyIndices []int  `json:"missing_key_indices,omitempty"`
	Consumed          bool   `json:"consumed,omitempty"`
	// Route is the MP server route that answered (clear --server).
	Route      string           `json:"route,omitempty"`
	Generation *coordGeneration `json:"generation,omitempty"`
	Warnings   []string         `json:"warnings,omitempty"`
}

func intp(n int) *int { return &n }

// coordOp is what a coordinator verb needs.
type coordOp struct {
	f      *Factory
	cmd    *cobra.Command
	fm     printers.Format
	c      *coordinatorclient.Client
	ck     *coordKeys
	tokens []uint32
}

// coordVerbFlags registers the flags the coordinator verbs add to pin,
// move and clear (only those the command lacks: call it last in the
// constructor).
func coordVerbFlags(cmd *cobra.Command, b *BackendFlags) {
	if cmd.Flags().Lookup("coordinator") == nil {
		addCoordinatorFlag(cmd, b)
	}
	addCoordinatorKeyFlags(cmd)
	ensureBool(cmd, "dry-run", "show what would be sent and the current state; change nothing")
}

// coordinatorOpKind decides whether a controller verb goes to the
// coordinator (or, for clear, an MP server): done is false when the
// controller (or the store) is meant.
func (f *Factory) coordinatorOpKind(cmd *cobra.Command, b *BackendFlags, withServer bool) (backendKind, error) {
	if fl := flagValue(cmd, "server"); withServer && fl != nil {
		b.Server = strings.Join(flagStrings(cmd, "server"), ",")
	}
	kinds := []backendKind{controllerBackend, coordinatorBackend, storeBackend}
	kind, err := f.backendSet(b, controllerBackend, kinds...)
	if err != nil {
		return kind, err
	}
	if kind.name == "" && withServer && b.Server != "" {
		return mpServerBackend, nil
	}
	return kind, nil
}

// prepare reads the prompt and the key parameters of a coordinator verb.
func (f *Factory) prepareCoordOp(cmd *cobra.Command, args []string, url string, needTokens bool) (*coordOp, error) {
	fm, err := f.outputFormat(opFormats)
	if err != nil {
		return nil, err
	}
	op := &coordOp{f: f, cmd: cmd, fm: fm}
	if url != "" {
		if op.c, err = f.coordinatorClient(url); err != nil {
			return nil, err
		}
	}
	ctx := cmd.Context()
	if !needTokens {
		op.ck = &coordKeys{WorldSize: 1} // a poll of an earlier job: no keys
		return op, nil
	}
	// MP-mode keys are the model, world size, cache salt and chunk hash:
	// a worker id, dtype or tag would select nothing (context and LMC_*
	// values, which serve the store's commands, are left alone).
	if err := refuse(f, commandLine, "is not part of LMCache MP-mode keys (model, world size, cache salt and chunk hash; every rank's key goes): "+cmd.CommandPath()+" "+mpVerbPath(url)+" would ignore it",
		"worker-id", "dtype", "tag"); err != nil {
		return nil, err
	}
	k := keyFlagsOf(cmd)
	if op.ck, err = f.resolveCoordKeys(ctx, &k, f.Given); err != nil {
		return nil, err
	}
	{
		in := inputFlagsOf(cmd)
		if op.tokens, err = f.oneTokenPrompt(ctx, args, &in, op.ck.Model); err != nil {
			return nil, err
		}
		if err := op.ck.checkTokens(op.tokens); err != nil {
			return nil, err
		}
	}
	warn(f.IOStreams, op.ck.Warnings)
	return op, nil
}

// mpVerbPath names the path of a coordinator verb for messages.
func mpVerbPath(url string) string {
	if url == "" {
		return "--server"
	}
	return "--coordinator"
}

func (op *coordOp) view(operation, instance string) coordOpView {
	v := coordOpView{opView: opView{Operation: operation, InstanceID: instance}, Source: "coordinator"}
	if op.c != nil {
		v.Backend = op.c.BaseURL()
	}
	return v
}

// requestText is a tokens-form request as --dry-run shows it.
func (op *coordOp) requestText(method, route string, extra ...string) string {
	parts := append([]string{}, extra...)
	parts = append(parts, fmt.Sprintf(`"model_name": %q`, op.ck.Model), fmt.Sprintf(`"world_size": %d`, op.ck.WorldSize),
		fmt.Sprintf(`"token_ids": [%d tokens]`, len(op.tokens)), fmt.Sprintf(`"cache_salt": %q`, op.ck.Salt))
	return fmt.Sprintf("%s %s%s {%s}", method, op.c.BaseURL(), route, strings.Join(parts, ", "))
}

// chunks is the number of complete chunks of the prompt.
func (op *coordOp) chunks() int {
	if op.ck.ChunkSize <= 0 {
		return 0
	}
	return len(op.tokens) / op.ck.ChunkSize
}

// lookup asks the directory about the prompt (tokens form, lmc's hashes
// checked).
func (op *coordOp) lookup(ctx context.Context) (*coordinatorclient.LookupResult, error) {
	if len(op.tokens) < max(op.ck.ChunkSize, 1) {
		return &coordinatorclient.LookupResult{Form: "tokens", WorldSize: op.ck.WorldSize, ChunkSize: op.ck.ChunkSize, ByChunk: true}, nil
	}
	hashes, err := op.ck.chunkHashes(op.tokens)
	if err != nil {
		return nil, err
	}
	res, err := op.c.Lookup(ctx, coordinatorclient.LookupRequest{TokensRequest: op.ck.tokensRequest(op.tokens), ExpectChunkHashes: hashes})
	if err != nil {
		return nil, op.f.coordinatorErr(op.c, op.ck.chunkSizeHint(err))
	}
	return res, nil
}

// presence is the prompt's hit and the keys with a placement under f.
func presence(res *coordinatorclient.LookupResult, f coordinatorclient.PlacementFilter) *coordVerifyView {
	h := res.PrefixHit(f)
	present := 0
	for _, r := range res.Results {
		for _, p := range r.Placements {
			if f.Match(p) {
				present++
				break
			}
		}
	}
	return &coordVerifyView{HitTokens: intp(h.Tokens), Filter: f.String(), Keys: intp(len(res.Results)), PresentKeys: intp(present)}
}

// refuseUnasked is the early refusal of a deletion without --yes when
// lmc cannot ask (before any request).
func (f *Factory) refuseUnasked(yes, dryRun bool) error {
	if !yes && !dryRun && !f.IOStreams.CanPrompt() {
		return &UsageError{Err: errors.New("refusing to clear without --yes when not on a terminal")}
	}
	return nil
}

// confirmDelete asks before something deletes, unless --yes or --dry-run;
// without a terminal it needs --yes.
func (f *Factory) confirmDelete(ctx context.Context, yes, dryRun bool, question string) error {
	if dryRun || f.skipConfirmation(yes) {
		return nil
	}
	if !f.IOStreams.CanPrompt() {
		return &UsageError{Err: errors.New("refusing to clear without --yes when not on a terminal")}
	}
	ok, err := f.confirm(ctx, question)
	if err != nil {
		return err
	}
	if !ok {
		return &ExitError{Code: ExitFailed, Err: errors.New("clear cancelled")}
	}
	return nil
}

func (op *coordOp) where() string {
	where := "coordinator " + op.c.BaseURL()
	if op.f.ActiveContext != "" {
		where += " (context " + op.f.ActiveContext + ")"
	}
	return where
}

// refuseOtherBackends refuses, on a coordinator or MP server path (verb
// names it, e.g. "clear --coordinator"), the flags of the other backends
// that path would ignore: the store's and the controller's.
func refuseOtherBackends(f *Factory, verb string, store, controller []string) error {
	if err := refuse(f, notContext, "acts on a Mooncake store (--master HOST:PORT), not on "+verb, store...); err != nil {
		return err
	}
	return refuse(f, notContext, "applies to the LMCache controller (--controller URL), not to "+verb, controller...)
}

// ---------------------------------------------------------------------------
// pin / unpin

// coordinatorPinDispatch runs pin --coordinator; done is false when the
// controller (or the store) is meant.
func (f *Factory) coordinatorPinDispatch(cmd *cobra.Command, args []string, b *BackendFlags) (bool, error) {
	kind, err := f.coordinatorOpKind(cmd, b, false)
	if err != nil {
		return true, err
	}
	if kind.name != coordinatorBackend.name {
		if flagBool(cmd, "unpin") {
			return true, &UsageError{Err: errors.New("--unpin needs --coordinator URL: the controller has no unpin")}
		}
		return false, nil
	}
	if err := refuse(f, notContext, "applies to pin --controller: a coordinator's pins are fleet-wide (they protect the prompt's L2 copies wherever they are)", "instance", "location"); err != nil {
		return true, err
	}
	if err := refuseOtherBackends(f, "pin --coordinator", []string{"tenant"}, nil); err != nil {
		return true, err
	}
	return true, f.coordinatorPin(cmd, args, b.Coordinator)
}

// coordPinFlags adds pin's coordinator flags.
func coordPinFlags(cmd *cobra.Command, b *BackendFlags) {
	coordVerbFlags(cmd, b)
	ensureBool(cmd, "unpin", "--coordinator: take one pin off each key instead (a key pinned N times needs N unpins)")
}

func (f *Factory) coordinatorPin(cmd *cobra.Command, args []string, url string) error {
	op, err := f.prepareCoordOp(cmd, args, url, true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	unpin := flagBool(cmd, "unpin")
	name, route, method := "pin", "/cache/pins", "POST"
	if unpin {
		name, method = "unpin", "DELETE"
	}
	v := op.view(name, "")
	v.Tier = "l2"
	if flagBool(cmd, "dry-run") {
		v.DryRun = true
		v.Request = op.requestText(method, route)
		v.RequestedChunks = op.chunks()
		if v.Verify, err = op.verifyPins(ctx); err != nil {
			return err
		}
		return op.write(v)
	}
	req := op.ck.tokensRequest(op.tokens)
	var r *coordinatorclient.PinResult
	if unpin {
		r, err = op.c.Unpin(ctx, req)
	} else {
		r, err = op.c.Pin(ctx, req)
	}
	if err != nil {
		return f.coordinatorErr(op.c, op.ck.chunkSizeHint(err))
	}
	v.Status, v.RequestedChunks, v.AffectedKeys = r.Status, r.Requested, intp(r.Affected)
	v.NumTokens = r.Requested * op.ck.ChunkSize
	v.Warnings = r.Warnings
	if r.Requested == 0 {
		v.Warning = fmt.Sprintf("the prompt has fewer tokens (%d) than one chunk (%d): there is nothing to %s", len(op.tokens), op.ck.ChunkSize, name)
	}
	if flagBool(cmd, "verify") {
		if v.Verify, err = op.verifyPins(ctx); err != nil {
			return err
		}
	}
	return op.write(v)
}

// verifyPins counts the prompt's keys that hold a pin (GET /cache/pins,
// newest coordinators) and in L2 (pins protect only L2 copies).
func (op *coordOp) verifyPins(ctx context.Context) (*coordVerifyView, error) {
	res, err := op.lookup(ctx)
	if err != nil {
		return nil, err
	}
	vv := presence(res, coordinatorclient.PlacementFilter{Tier: coordinatorclient.TierL2})
	want := map[coordinatorclient.Key]bool{}
	for _, r := range res.Results {
		want[r.Key.Normalized()] = true
	}
	if len(want) == 0 {
		return vv, nil
	}
	pinned, complete := 0, true
	q := coordinatorclient.PinsQuery{ModelName: op.ck.Model, CacheSalt: op.ck.Salt, Limit: 10000}
	for pages := 0; ; pages++ {
		if pages == 100 {
			complete = false
			break
		}
		p, err := op.c.Pins(ctx, q)
		if errors.Is(err, coordinatorclient.ErrUnsupported) {
			vv.Note = "this coordinator does not list pins (GET /cache/pins came in September 2026): only the L2 copies were checked"
			return vv, nil
		}
		if err != nil {
			return nil, op.f.coordinatorErr(op.c, err)
		}
		for _, pk := range p.Pins {
			if want[pk.Key.Normalized()] && pk.PinCount > 0 {
				pinned++
			}
		}
		q.Offset += len(p.Pins)
		if len(p.Pins) == 0 || q.Offset >= p.Total {
			break
		}
	}
	vv.PinnedKeys = intp(pinned)
	switch {
	case !complete:
		vv.Note = "more than a million pins listed: the count covers the first million"
	case *vv.PresentKeys < *vv.Keys:
		vv.Note = fmt.Sprintf("%d of %d keys have no L2 copy: a pin protects only L2 copies from the coordinator's eviction", *vv.Keys-*vv.PresentKeys, *vv.Keys)
	}
	return vv, nil
}

// ---------------------------------------------------------------------------
// move

// coordinatorMoveDispatch runs move --coordinator.
func (f *Factory) coordinatorMoveDispatch(cmd *cobra.Command, args []string, b *BackendFlags) (bool, error) {
	kind, err := f.coordinatorOpKind(cmd, b, false)
	if err != nil || kind.name != coordinatorBackend.name {
		return err != nil, err
	}
	if err := refuseOtherBackends(f, "move --coordinator", []string{"all-ranks", "tenant"}, nil); err != nil {
		return true, err
	}
	return true, f.coordinatorMove(cmd, args, b.Coordinator)
}

// coordMoveFlags adds move's coordinator flags.
func coordMoveFlags(cmd *cobra.Command, b *BackendFlags) {
	coordVerbFlags(cmd, b)
	ensureBool(cmd, "wait", "--coordinator: wait until the move completed or failed (Ctrl-C stops waiting, not the move; --timeout, when given, bounds the whole wait)")
	ensureDuration(cmd, "interval", coordinatorclient.DefaultPollInterval, "time between polls with --wait")
}

func (f *Factory) coordinatorMove(cmd *cobra.Command, args []string, url string) error {
	from, to := flagString(cmd, "from"), flagString(cmd, "to")
	if from == "" || to == "" {
		return &UsageError{Err: errors.New("--from and --to are required: the source and target MP server instances ('lmc workers --coordinator URL' lists them)")}
	}
	for _, p := range [][2]string{{"--from", from}, {"--to", to}} {
		if strings.Contains(p[1], ":") {
			return &UsageError{Err: fmt.Errorf("%s %s: a coordinator move goes from one MP server's L1 to another's; give the instance id only", p[0], p[1])}
		}
	}
	if from == to {
		return &UsageError{Err: fmt.Errorf("--from %s and --to %s are the same instance: nothing to move", from, to)}
	}
	if flagBool(cmd, "dry-run") && (flagBool(cmd, "wait") || flagBool(cmd, "verify")) {
		return &UsageError{Err: errors.New("--dry-run submits no move: there is nothing to --wait for or --verify")}
	}
	op, err := f.prepareCoordOp(cmd, args, url, true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	keep := flagBool(cmd, "copy")
	name := "move"
	if keep {
		name = "copy"
	}
	v := op.view(name, from)
	v.Target, v.Tier = to, "l1"
	if flagBool(cmd, "dry-run") {
		extra := []string{fmt.Sprintf(`"source_instance_id": %q`, from), fmt.Sprintf(`"target_instance_id": %q`, to)}
		if keep {
			extra = append(extra, `"keep_source": true`)
		}
		v.DryRun, v.Request, v.RequestedChunks = true, op.requestText("POST", "/cache/moves", extra...), op.chunks()
		if v.Verify, err = op.verifyOn(ctx, from, coordinatorclient.TierL1); err != nil {
			return err
		}
		return op.write(v)
	}
	m, err := op.c.Move(ctx, coordinatorclient.MoveRequest{SourceInstanceID: from, TargetInstanceID: to, TokensRequest: op.ck.tokensRequest(op.tokens), KeepSource: keep})
	if err != nil {
		return f.coordinatorErr(op.c, op.ck.chunkSizeHint(err))
	}
	v.MoveID, v.Status, v.RequestedChunks, v.Warnings = m.MoveID, m.Status, m.Requested, m.Warnings
	v.NumTokens = m.Requested * op.ck.ChunkSize
	if m.Status == "noop" || m.Requested == 0 {
		v.Warning = fmt.Sprintf("the prompt has fewer tokens (%d) than one chunk (%d): there is nothing to %s", len(op.tokens), op.ck.ChunkSize, name)
		return op.write(v)
	}
	verify := flagBool(cmd, "verify")
	if flagBool(cmd, "wait") || verify {
		prog := op.progress(func(s string) string { return "move " + m.MoveID + ": " + s })
		wctx, cancel := f.coordWaitContext(ctx)
		defer cancel()
		st, err := op.c.WaitMove(wctx, m.MoveID, flagDuration(cmd, "interval", coordinatorclient.DefaultPollInterval), func(ms *coordinatorclient.MoveStatus) {
			prog(fmt.Sprintf("%s, phase %s, %d keys loaded", ms.Status, ms.Phase, ms.Loaded))
		})
		op.endProgress()
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(f.IOStreams.ErrOut, "move %s keeps running on the coordinator\n", m.MoveID)
				return ctx.Err()
			}
			if wctx.Err() != nil {
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("LMCache coordinator %s: move %s was still running when --timeout %s ended the wait (it keeps running on the coordinator)", op.c.BaseURL(), m.MoveID, f.Timeout)}
			}
			return f.coordinatorErr(op.c, err)
		}
		v.Status, v.Phase, v.Error = st.Status, st.Phase, st.Error
		v.LoadedKeys, v.MissingKeys, v.DeletedKeys, v.SkippedKeys = intp(st.Loaded), intp(st.Missing), intp(st.Deleted), intp(st.Skipped)
		if st.Loaded == 0 && st.Status == "completed" {
			v.Warning = fmt.Sprintf("%s loaded nothing: a move's target pulls the chunks from L2 (a pool it shares with %s), so only chunks in that L2 move ('lmc lookup --coordinator --tier l2' shows them)", to, from)
		}
		if verify {
			if v.Verify, err = op.verifyOn(ctx, to, coordinatorclient.TierL1); err != nil {
				return err
			}
		}
		if err := op.write(v); err != nil {
			return err
		}
		if st.Status == "failed" {
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("LMCache coordinator %s: move %s failed in phase %s: %s", op.c.BaseURL(), m.MoveID, st.Phase, orElse(safetext.Escape(st.Error), "no reason given"))}
		}
		return nil
	}
	return op.write(v)
}

// coordWaitContext bounds a --wait on the coordinator by --timeout when it
// is given (as move --master and task get do); without it the wait lasts
// until the job ends or Ctrl-C.
func (f *Factory) coordWaitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.Given.Has("timeout") {
		return context.WithTimeout(ctx, f.Timeout)
	}
	return context.WithCancel(ctx)
}

// verifyOn is the prompt's presence on one instance and tier.
func (op *coordOp) verifyOn(ctx context.Context, instance string, tier coordinatorclient.Tier) (*coordVerifyView, error) {
	res, err := op.lookup(ctx)
	if err != nil {
		return nil, err
	}
	return presence(res, coordinatorclient.PlacementFilter{InstanceID: instance, Tier: tier}), nil
}

// ---------------------------------------------------------------------------
// clear --coordinator (a prompt's keys on one MP server) and clear --server

// coordClearFlags adds clear's coordinator and MP server flags.
func coordClearFlags(cmd *cobra.Command, b *BackendFlags) {
	coordVerbFlags(cmd, b)
	ensureInputFlags(cmd)
	ensureString(cmd, "tier", "", "--coordinator/--server: the tier to delete from: l1, l2 or all (default: all for --coordinator, l2 for --server with a prompt; --server without a prompt clears L1)")
	ensureBool(cmd, "force", "--coordinator/--server: delete L2 keys even when pinned (and drop their pins)")
}

// coordinatorClearDispatch runs clear --coordinator or --server; done is
// false when the controller (or the store) is meant. The controller's
// clear takes no prompt.
func (f *Factory) coordinatorClearDispatch(cmd *cobra.Command, args []string, b *BackendFlags, instance string, yes, dryRun bool) (bool, error) {
	kind, err := f.coordinatorOpKind(cmd, b, true)
	if err != nil {
		return true, err
	}
	switch kind.name {
	case coordinatorBackend.name:
		if err := refuseOtherBackends(f, "clear --coordinator", []string{"all", "match", "all-ranks", "tenant"}, []string{"location"}); err != nil {
			return true, err
		}
		return true, f.coordinatorClear(cmd, args, b.Coordinator, instance, yes, dryRun)
	case mpServerBackend.name:
		if err := refuseOtherBackends(f, "clear --server", []string{"all", "match", "all-ranks", "tenant"}, []string{"location"}); err != nil {
			return true, err
		}
		if err := refuse(f, notContext, "applies to clear --controller or --coordinator: clear --server clears that MP server's own cache (--coordinator URL --instance I deletes a prompt's keys on one instance)", "instance"); err != nil {
			return true, err
		}
		return true, f.mpServerClear(cmd, args, flagStrings(cmd, "server"), yes, dryRun)
	case controllerBackend.name:
		hasInput := len(args) > 0 || inputFlagsOf(cmd).Tokens != ""
		if hasInput {
			return true, &UsageError{Err: errors.New("the controller clears a whole location and takes no prompt: a prompt's keys are deleted with --master HOST:PORT (a Mooncake store) or --coordinator URL --instance I (LMCache MP mode)")}
		}
		if err := refuse(f, anyLayer, "applies to clear --coordinator or --server (LMCache MP mode)", "tier"); err != nil {
			return true, err
		}
		if err := refuse(f, anyLayer, "applies to clear --master (leased keys), --coordinator or --server (pinned keys)", "force"); err != nil {
			return true, err
		}
		if err := refuse(f, notContext, "names an LMCache MP server: clear --server URL alone clears that server (with --controller it would be ignored)", "server"); err != nil {
			return true, err
		}
		if err := refuseUnkeyed(f, "clear --controller clears the instance's whole location, whatever the keys", "model"); err != nil {
			return true, err
		}
	}
	return false, nil
}

func (f *Factory) coordinatorClear(cmd *cobra.Command, args []string, url, instance string, yes, dryRun bool) error {
	if instance == "" {
		return &UsageError{Err: errors.New("--instance is required: the MP server whose copies of the prompt to delete ('lmc workers --coordinator URL' lists them)")}
	}
	tier, err := parseTier("--tier", flagString(cmd, "tier"))
	if err != nil {
		return err
	}
	if tier == "" {
		tier = coordinatorclient.TierAll
	}
	if err := f.refuseUnasked(yes, dryRun); err != nil {
		return err
	}
	op, err := f.prepareCoordOp(cmd, args, url, true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	force := flagBool(cmd, "force")
	v := op.view("clear", instance)
	v.Tier, v.Force = string(tier), force
	filter := coordinatorclient.PlacementFilter{InstanceID: instance, Tier: tier}
	now, err := op.verifyOn(ctx, instance, tier)
	if err != nil {
		return err
	}
	if dryRun {
		extra := []string{fmt.Sprintf(`"instance_id": %q`, instance)}
		v.DryRun, v.Verify, v.RequestedChunks = true, now, op.chunks()
		v.Request = op.requestText("POST", "/cache/delete", extra...) + fmt.Sprintf(` (tier %q, force %v)`, tier, force)
		if *now.PresentKeys == 0 {
			v.Warning = fmt.Sprintf("the directory lists none of this prompt's keys on %s (%s)", instance, filter)
		}
		return op.write(v)
	}
	q := fmt.Sprintf("Delete this prompt's keys (%s) from %s on instance %q via %s? The directory lists %d of its %d keys there%s.",
		iostreams.Plural(op.chunks(), "chunk"), tierText(tier), instance, op.where(), *now.PresentKeys, *now.Keys, map[bool]string{true: "; --force also deletes pinned L2 keys and drops their pins", false: ""}[force])
	if err := f.confirmDelete(ctx, yes, dryRun, q); err != nil {
		return err
	}
	r, err := op.c.Delete(ctx, coordinatorclient.DeleteRequest{InstanceID: instance, TokensRequest: op.ck.tokensRequest(op.tokens), Tier: tier, Force: force})
	if err != nil {
		return f.coordinatorErr(op.c, op.ck.chunkSizeHint(err))
	}
	v.Status, v.RequestedChunks, v.AffectedKeys, v.SkippedKeys, v.Warnings = r.Status, r.Requested, intp(r.Affected), intp(r.Skipped), r.Warnings
	v.NumTokens = r.Requested * op.ck.ChunkSize
	switch {
	case r.Status == "noop" || r.Requested == 0:
		v.Warning = fmt.Sprintf("the prompt has fewer tokens (%d) than one chunk (%d): there is nothing to delete", len(op.tokens), op.ck.ChunkSize)
	case r.Affected == 0 && r.Skipped > 0:
		v.Warning = fmt.Sprintf("%d keys are pinned in L2 and were skipped (--force deletes them and drops their pins)", r.Skipped)
	case r.Affected == 0:
		v.Warning = fmt.Sprintf("nothing of this prompt was on %s in %s (lmc lookup --coordinator shows where it is)", instance, tierText(tier))
	}
	if flagBool(cmd, "verify") {
		if v.Verify, err = op.verifyGone(ctx, instance, tier); err != nil {
			return err
		}
	}
	return op.write(v)
}

func tierText(t coordinatorclient.Tier) string {
	if t == coordinatorclient.TierAll || t == "" {
		return "L1 and L2"
	}
	return strings.ToUpper(string(t))
}

// verifyGone looks the prompt up on the instance after a delete, for a few
// seconds while keys remain: the directory learns of deletes from the MP
// server's events (flushed every second).
func (op *coordOp) verifyGone(ctx context.Context, instance string, tier coordinatorclient.Tier) (*coordVerifyView, error) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		vv, err := op.verifyOn(ctx, instance, tier)
		if err != nil || *vv.PresentKeys == 0 {
			return vv, err
		}
		if time.Now().After(deadline) {
			vv.Note = fmt.Sprintf("the directory still lists %d keys on %s after 3 s: pinned keys are skipped, and a server that does not report events (--coordinator-event-reporting) never updates the directory", *vv.PresentKeys, instance)
			return vv, nil
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// mpServerClear is clear --server: without a prompt the server's whole L1
// (POST /cache/clear), with one the prompt's keys (DELETE /cache/objects,
// computed by lmc).
func (f *Factory) mpServerClear(cmd *cobra.Command, args []string, servers []string, yes, dryRun bool) error {
	if len(servers) != 1 {
		return &UsageError{Err: fmt.Errorf("clear --server takes one MP server (got %d)", len(servers))}
	}
	ctx := cmd.Context()
	m, err := f.mpServerClient("--server", servers[0])
	if err != nil {
		return err
	}
	url := m.BaseURL()
	tier, err := parseTier("--tier", flagString(cmd, "tier"))
	if err != nil {
		return err
	}
	in := inputFlagsOf(cmd)
	hasPrompt := len(args) > 0 || in.Tokens != "" || in.Text.Text != "" || in.Text.PromptFile != "" || in.Text.Messages != ""
	if !hasPrompt && tier != "" && tier != coordinatorclient.TierL1 {
		return &UsageError{Err: fmt.Errorf("--tier %s: an MP server clears only its L1 (a prompt's L2 keys are deleted with a prompt)", tier)}
	}
	if err := f.refuseUnasked(yes, dryRun); err != nil {
		return err
	}
	force := flagBool(cmd, "force")
	where := "MP server " + url
	if f.ActiveContext != "" {
		where += " (context " + f.ActiveContext + ")"
	}
	if !hasPrompt {
		if err := refuseKeyFlagsGiven(f, cmd, "clear --server clears the server's whole L1, whatever the key flags (give the prompt to delete its keys)"); err != nil {
			return err
		}
		return f.mpServerClearL1(cmd, m, where, force, yes, dryRun)
	}
	if tier == "" {
		tier = coordinatorclient.TierL2
	}
	op, err := f.prepareCoordOp(cmd, args, "", true)
	if err != nil {
		return err
	}
	if op.ck.Engine == nil {
		return &UsageError{Err: errors.New("clear --server with a prompt needs lmc to compute its MP-mode keys: use --key-schema mp (the default) and, for a hash other than blake3, --hash-seed")}
	}
	hashes, err := op.ck.chunkHashes(op.tokens)
	if err != nil {
		return err
	}
	keys := coordinatorclient.ChunkKeys(hashes, op.ck.Model, op.ck.WorldSize, op.ck.Salt)
	v := coordOpView{opView: opView{Operation: "clear", InstanceID: url}, Source: "mp-server", Backend: url, Tier: string(tier), Force: force, RequestedChunks: len(hashes)}
	v.NumTokens = len(hashes) * op.ck.ChunkSize
	if dryRun || len(keys) == 0 {
		v.DryRun = dryRun
		v.Request = fmt.Sprintf(`DELETE %s/cache/objects {"keys": [%d keys], "tier": %q, "force": %v}`, url, len(keys), tier, force)
		if len(keys) == 0 {
			v.Warning = fmt.Sprintf("the prompt has fewer tokens (%d) than one chunk (%d): there is nothing to delete", len(op.tokens), op.ck.ChunkSize)
		}
		return op.write(v)
	}
	if len(keys) > 10000 {
		return &UsageError{Err: fmt.Errorf("the prompt has %d keys: an MP server deletes at most 10000 per request (clear --coordinator splits nothing either); shorten the prompt", len(keys))}
	}
	q := fmt.Sprintf("Delete this prompt's %s from %s of %s?", iostreams.Plural(len(keys), "key"), tierText(tier), where)
	if err := f.confirmDelete(ctx, yes, dryRun, q); err != nil {
		return err
	}
	r, err := m.DeleteObjects(ctx, coordinatorclient.DeleteObjectsRequest{Keys: keys, Tier: tier, Force: force})
	if r != nil {
		v.AffectedKeys, v.SkippedKeys, v.Route, v.Warnings = intp(r.Deleted), intp(r.Skipped), r.Route, r.Warnings
	}
	if err != nil {
		return f.mpServerErr(url, err)
	}
	if r.Deleted == 0 {
		v.Warning = fmt.Sprintf("%s held none of this prompt's keys in %s", url, tierText(tier))
		if r.Skipped > 0 {
			v.Warning = fmt.Sprintf("%d keys are pinned and were skipped (--force deletes them)", r.Skipped)
		}
	}
	return op.write(v)
}

func (f *Factory) mpServerClearL1(cmd *cobra.Command, m *coordinatorclient.MPServer, where string, force, yes, dryRun bool) error {
	ctx := cmd.Context()
	fm, err := f.outputFormat(opFormats)
	if err != nil {
		return err
	}
	url := m.BaseURL()
	v := coordOpView{opView: opView{Operation: "clear", InstanceID: url}, Source: "mp-server", Backend: url, Tier: "l1", Force: force}
	op := &coordOp{f: f, cmd: cmd, fm: fm}
	objects := func() (*int64, error) {
		st, err := m.Status(ctx)
		if err != nil {
			return nil, f.mpServerErr(url, err)
		}
		if st.Storage == nil || st.Storage.L1 == nil {
			return nil, nil
		}
		n := st.Storage.L1.TotalObjectCount
		return &n, nil
	}
	n, err := objects()
	if err != nil {
		return err
	}
	if dryRun {
		v.DryRun, v.Verify = true, &coordVerifyView{L1Objects: n}
		v.Request = "POST " + url + "/cache/clear"
		if force {
			v.Request += ` {"tier": "l1", "force": true}`
		}
		return op.write(v)
	}
	held := "an unknown number of objects"
	if n != nil {
		held = iostreams.Plural(int(*n), "object")
	}
	if err := f.confirmDelete(ctx, yes, dryRun, fmt.Sprintf("Clear the whole L1 cache of %s? It holds %s now.", where, held)); err != nil {
		return err
	}
	r, err := m.ClearCache(ctx, coordinatorclient.ClearRequest{Force: force})
	if err != nil {
		return f.mpServerErr(url, err)
	}
	v.Status, v.Route, v.Warnings = r.Status, r.Route, r.Warnings
	if n != nil && *n == 0 {
		v.Warning = "the server's L1 held nothing"
	}
	if flagBool(cmd, "verify") {
		after, err := objects()
		if err != nil {
			return err
		}
		v.Verify = &coordVerifyView{L1Objects: after}
		if after != nil && *after > 0 {
			v.Verify.Note = fmt.Sprintf("%s still holds %d L1 objects: objects in use (locked) stay unless --force", url, *after)
		}
	}
	return op.write(v)
}

// ---------------------------------------------------------------------------
// Progress of a wait, on a terminal.

func (op *coordOp) progress(format func(string) string) func(string) {
	if !op.f.IOStreams.ShowHints() {
		return func(string) {}
	}
	return func(s string) {
		fmt.Fprintf(op.f.IOStreams.ErrOut, "\r\x1b[K%s", safetext.Escape(format(s)))
	}
}

func (op *coordOp) endProgress() {
	if op.f.IOStreams.ShowHints() {
		fmt.Fprint(op.f.IOStreams.ErrOut, "\r\x1b[K")
	}
}

// ---------------------------------------------------------------------------
// Output

func (op *coordOp) write(v coordOpView) error {
	f := op.f
	if op.c != nil {
		v.Generation = generationOf(op.c)
		f.noteGeneration(op.c)
	}
	warn(f.IOStreams, v.Warnings)
	switch op.fm {
	case printers.JSON:
		return printers.WriteJSON(f.Out(), v)
	case printers.Plain:
		id := v.MoveID + v.RequestID
		row := []string{v.Operation, v.InstanceID, v.Target, v.Status, strconv.Itoa(v.RequestedChunks), strconv.Itoa(v.NumTokens), id}
		if v.DryRun {
			row = append(row, "dry-run") // nothing was done, as the controller verbs' rows say
		}
		return printers.WritePlain(f.Out(), [][]string{row})
	}
	return writeCoordOpText(f.Out(), f.IOStreams.Styles(), v)
}

func writeCoordOpText(out io.Writer, st *iostreams.Styles, v coordOpView) error {
	var b strings.Builder
	place := v.InstanceID
	on := " on " + place
	wholeL1 := v.Operation == "clear" && v.Source == "mp-server" && v.AffectedKeys == nil && v.RequestedChunks == 0
	switch {
	case v.Operation == "pin" || v.Operation == "unpin":
		place = "coordinator " + v.Backend
		on = " fleet-wide (L2) on " + place
	case wholeL1:
		place = "MP server " + v.Backend
		on = " the whole L1 of " + place
	case v.Source == "mp-server":
		place = "MP server " + v.Backend
		on = " on " + place
	case v.Target != "":
		place = v.InstanceID + " → " + v.Target
		on = " " + place
	}
	warned := false
	past := map[string]string{"pin": "pinned", "unpin": "unpinned", "clear": "deleted", "move": "moved", "copy": "copied", "prefetch": "prefetched"}[v.Operation]
	chunks := iostreams.Plural(v.RequestedChunks, "chunk")
	switch {
	case v.DryRun:
		what := " " + chunks
		if wholeL1 {
			what = ""
		}
		fmt.Fprintf(&b, "%s would %s%s%s\n", st.Warn.Render("dry run:"), v.Operation, what, on)
		if v.Request != "" {
			fmt.Fprintf(&b, "would send: %s\n", v.Request)
		}
	case v.Warning != "" && (v.AffectedKeys == nil || *v.AffectedKeys == 0) && v.LoadedKeys == nil && v.FoundKeys == nil && v.MoveID == "" && v.RequestID == "":
		fmt.Fprintf(&b, "%s %s 0 keys%s: nothing changed — %s\n", st.Warn.Render("!"), past, on, v.Warning)
		warned = true
	case v.Operation == "prefetch" && v.Status == "submitted":
		fmt.Fprintf(&b, "%s prefetch %s submitted on %s: %s from L2 into L1\n", st.Hit.Render("✓"), v.RequestID, v.InstanceID, chunks)
	case v.Operation == "prefetch":
		if v.Consumed {
			fmt.Fprintf(&b, "%s prefetch %s on %s completed (its counts were consumed by an earlier poll)\n", st.Hit.Render("✓"), v.RequestID, v.InstanceID)
		} else {
			fmt.Fprintf(&b, "%s prefetched %d of %d keys into %s's L1 (request %s)\n", st.Hit.Render("✓"), deref(v.FoundKeys), deref(v.TotalKeys), v.InstanceID, v.RequestID)
		}
	case v.MoveID != "" && v.Status == "submitted":
		fmt.Fprintf(&b, "%s %s %s submitted:%s, %s (L1 to L1); --wait follows it\n", st.Hit.Render("✓"), v.Operation, v.MoveID, on, chunks)
	case v.MoveID != "":
		mark := st.Hit.Render("✓")
		if v.Status == "failed" {
			mark = st.Miss.Render("✗")
		}
		fmt.Fprintf(&b, "%s %s %s %s:%s, %d keys loaded, %d missing, %d deleted from the source, %d skipped\n", mark, v.Operation, v.MoveID, v.Status, on,
			deref(v.LoadedKeys), deref(v.MissingKeys), deref(v.DeletedKeys), deref(v.SkippedKeys))
	case wholeL1:
		fmt.Fprintf(&b, "%s cleared the whole L1 of %s\n", st.Hit.Render("✓"), place)
	default:
		fmt.Fprintf(&b, "%s %s %s", st.Hit.Render("✓"), past, chunks)
		if v.AffectedKeys != nil {
			fmt.Fprintf(&b, " (%s)", iostreams.Plural(*v.AffectedKeys, "key"))
		}
		b.WriteString(on)
		if v.Tier != "" && v.Operation == "clear" {
			fmt.Fprintf(&b, ", tier %s", v.Tier)
		}
		if v.SkippedKeys != nil && *v.SkippedKeys > 0 {
			fmt.Fprintf(&b, "; %d skipped (pinned)", *v.SkippedKeys)
		}
		b.WriteString("\n")
	}
	if v.Warning != "" && !warned {
		fmt.Fprintf(&b, "%s %s\n", st.Warn.Render("!"), v.Warning)
	}
	if vv := v.Verify; vv != nil {
		label := "verify:"
		if v.DryRun {
			label = "now:"
		}
		var parts []string
		if vv.PresentKeys != nil && vv.Keys != nil {
			parts = append(parts, fmt.Sprintf("%d of %d keys listed %s", *vv.PresentKeys, *vv.Keys, vv.Filter))
		}
		if vv.HitTokens != nil {
			parts = append(parts, fmt.Sprintf("prefix hit %d tokens", *vv.HitTokens))
		}
		if vv.PinnedKeys != nil {
			parts = append(parts, fmt.Sprintf("%d keys pinned", *vv.PinnedKeys))
		}
		if vv.L1Objects != nil {
			parts = append(parts, fmt.Sprintf("%d L1 objects", *vv.L1Objects))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "%s %s\n", label, strings.Join(parts, "; "))
		}
		if vv.Note != "" {
			b.WriteString(st.Warn.Render(label+" "+vv.Note) + "\n")
		}
	}
	_, err := io.WriteString(out, safetext.EscapeText(b.String()))
	return err
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

const coordinatorPinHelp = `With --coordinator (LMCache MP mode), pins are fleet-wide and protect the
prompt's L2 copies from the coordinator's quota eviction (POST /cache/pins);
they are reference counted: --unpin takes one pin off each key (DELETE). The
coordinator resolves the tokens with the model, world size and --cache-salt
of the key flags (--server tells them). --verify counts the prompt's pinned
keys (GET /cache/pins, newest coordinators) and its L2 copies; --dry-run shows
the request and that count without pinning. --instance and --location are the
controller's: with --coordinator they are refused (exit 2).`

const coordinatorMoveHelp = `With --coordinator (LMCache MP mode, where the coordinator has the move API
of RFC #5083), --from and --to are MP server instances and the move goes from
the source's L1 to the target's (the target prefetches, then the source
deletes what it loaded; --copy keeps the source). The submit returns a move id;
--wait polls it to the end (Ctrl-C stops waiting, not the move; a failed move
is exit 1; --timeout, when given, bounds the whole wait: a move still running
then is exit 1 too). --verify waits and looks the prompt up on the target; --dry-run
submits nothing and goes with neither. The store's --all-ranks and --tenant,
and --worker-id, --dtype and --tag, which MP-mode keys do not carry, are
refused there (exit 2).`

const coordinatorClearHelp = `With --coordinator (LMCache MP mode), clear deletes one prompt's keys on one
MP server (--instance, POST /cache/delete), in --tier l1, l2 or all (default
all); pinned L2 keys are skipped unless --force. With --server URL alone it
addresses that MP server's own HTTP API: without a prompt it clears the
server's whole L1 (POST /cache/clear; key flags given on the command line are
refused then), with one it deletes the prompt's keys, as lmc computes them
(DELETE /cache/objects, --tier default l2). Older servers'
route names are tried when the newest is missing. Both ask first on a terminal
and need --yes elsewhere; --dry-run shows the request and what is there now;
--verify looks again afterwards. The store's --all, --match, --all-ranks and
--tenant, the controller's --location, --instance with --server alone, and
--worker-id, --dtype and --tag, which MP-mode keys do not carry, are refused
there (exit 2).`
