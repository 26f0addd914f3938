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

	"lmc/internal/commands/printers"
	"lmc/internal/controllerclient"
	"lmc/internal/mooncake"
	"lmc/internal/phasetime"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/lmcachekey"
)

// LookupOptions are lmc lookup's inputs.
type LookupOptions struct {
	f           *Factory
	Keys        KeyFlags
	Engine      EngineFlags
	Input       InputFlags
	Backend     BackendFlags
	Args        []string
	Placement   bool
	MinHit      string
	Concurrency int
	AllRanks    bool
	Watch       bool
	Interval    time.Duration
	Format      printers.Format
	// Coord are the --coordinator lookup's flags (coordlookup.go).
	Coord coordLookupFlags

	minHit float64
}

var lookupFormats = []printers.Format{printers.Table, printers.Wide, printers.JSON, printers.JSONL, printers.Plain}

// NewCmdLookup builds `lmc lookup`.
func NewCmdLookup(f *Factory) *cobra.Command {
	opts := &LookupOptions{f: f}
	cmd := &cobra.Command{
		Use:   "lookup [FILE|-] (--master ADDR | --admin URL | --controller URL | --coordinator URL)",
		Short: shortFor("lookup"),
		Long: `Look a prompt up the way the serving engine would and show every chunk.

With --master, lmc computes LMCache's chunk keys (same key flags as 'lmc keys')
and asks the Mooncake master over its native RPC, in one BatchExistKey call per
prompt, exactly as LMCache's MooncakeLookupClient does. The hit is the end of
the last chunk in the leading run of keys that exist: chunks after the first
miss are shown, but the engine cannot use them and recomputes them. (vLLM then
loads hit_tokens, less one token when the whole prompt hits: the last token is
always recomputed.)

Note: the RPC path (BatchExistKey, and GetReplicaList for --placement) grants
a read lease on every existing key, like the engine's own lookups; the master
then refuses to remove those objects until the lease ends (10 s by default).
--admin asks the master's HTTP admin API instead (/batch_query_keys), which is
read-only and grants nothing, and also tells where each chunk lives. Given
together, --master answers existence and --admin placement. Only the RPC is
per tenant: a --tenant other than "default" needs --master, and is refused
(exit 2) with --admin alone, --controller or --coordinator.

With --controller, the LMCache cache controller hashes the tokens itself
(builtin hash, chunk 256, its own NONE_HASH) and answers per instance; key flags
do not apply and are refused when given on the command line (exit 2), as are
--placement and --all-ranks (the answer has no replicas and no ranks).

` + coordinatorLookupHelp + `

` + inputHelp + `

JSON (-o json): {"source", "total_tokens", "hit_tokens", "hit_chunks",
"chunks": [{"index","start","end","hash","key","status","replicas"}]} with status
hit, miss or error; for the controller {"source", "total_tokens", "hit_tokens",
"instances": [{"instance_id","location","hit_tokens"}]}. Batches (JSON Lines)
share one connection; -o jsonl prints one object per prompt with its "id".
With --all-ranks, each chunk also has "ranks": [{"rank","key","status"}] and
the prompt "rank_hit_tokens" (per rank); a chunk is usable, and counts in
hit_tokens, only when every rank holds it.

` + engineLookupHelp + `

Exit codes: 0 when every prompt reaches --min-hit (default 0), 4 when one does
not, 3 when the backend cannot be reached in time, 2 for bad input, 1 when
the store answers an error for a key (neither hit nor miss). --watch runs
until interrupted and gives no such code: --min-hit is refused with it.`,
		Example: `  lmc lookup --master 10.0.0.1:50051 --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json
  lmc lookup --admin http://10.0.0.1:9003 --model m --hash-seed 0 --placement prompt.json
  lmc lookup --master 10.0.0.1:50051 --model m --hash-seed 0 --min-hit 0.5 -o json prompts.jsonl
  lmc lookup --controller http://localhost:9000 prompt.json
  lmc lookup --engine sglang --master 10.0.0.1:50051 --page-size 64 --tp-size 8 --model Qwen/Qwen3-8B prompt.json
  lmc lookup --engine vllm --admin http://10.0.0.1:9003 --model meta-llama/Llama-3.1-8B-Instruct --tp-size 2 --num-kv-heads 8 prompt.json
  lmc lookup --coordinator http://localhost:9300 --server http://localhost:8080 prompt.json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			var err error
			if opts.Format, err = f.outputFormat(lookupFormats); err != nil {
				return err
			}
			if opts.minHit, err = parseFraction(opts.MinHit); err != nil {
				return &UsageError{Err: fmt.Errorf("--min-hit: %v", err)}
			}
			if opts.Watch && opts.Interval < 100*time.Millisecond {
				return &UsageError{Err: fmt.Errorf("--interval %s: use at least 100ms", opts.Interval)}
			}
			if src := f.Given.Source("min-hit"); opts.Watch && src != "" && !strings.HasPrefix(src, "context ") {
				// --watch ends only when interrupted: no exit code to give.
				return &UsageError{Err: errors.New("--min-hit and --watch do not mix: --watch runs until interrupted, so no exit code reports the hit (compare hit_tokens in its JSON Lines instead)")}
			}
			if opts.Watch && f.JQ != "" {
				return &UsageError{Err: errors.New("--watch and --jq do not mix: pipe the JSON Lines of --watch into jq")}
			}
			if opts.Concurrency < 1 {
				return &UsageError{Err: fmt.Errorf("--concurrency must be at least 1")}
			}
			eng, err := f.selectEngine(cmd, &opts.Engine)
			if err != nil {
				return err
			}
			if eng != enginekey.LMCache {
				return engineLookupRun(cmd.Context(), opts, eng)
			}
			return lookupRun(cmd.Context(), opts)
		},
	}
	addPromptFlags(cmd, &opts.Keys, &opts.Engine, scopeLookup, &opts.Input)
	addStoreFlags(cmd, &opts.Backend)
	addControllerFlag(cmd, &opts.Backend)
	cmd.Flags().BoolVar(&opts.Placement, "placement", false, "show where each chunk lives (replicas: endpoint and tier); implied by -o wide")
	cmd.Flags().StringVar(&opts.MinHit, "min-hit", "", "exit 4 when a prompt's hit share is below this (0.5 or 50%)")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 4, "prompts of a batch in flight at once")
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, "repeat the lookup every --interval: redraw on a terminal, JSON Lines (with \"time\") otherwise")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 2*time.Second, "time between --watch rounds")
	addCoordinatorLookupFlags(cmd, &opts.Backend, &opts.Coord)
	cmd.Flags().BoolVar(&opts.AllRanks, "all-ranks", false, "check every worker id's key of each chunk (world size > 1 without MLA): a chunk counts only when all ranks hold it")
	return cmd
}

// parseFraction reads "0.5", "50%" or "".
func parseFraction(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a fraction (0.5) or a percentage (50%%)", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is outside 0..1 (0%%..100%%)", s)
	}
	return v, nil
}

func lookupRun(ctx context.Context, o *LookupOptions) error {
	f := o.f
	kind, err := f.backendSet(&o.Backend, storeBackend, storeBackend, controllerBackend, coordinatorBackend)
	if err != nil {
		return err
	}
	if err := f.checkCoordinatorLookupFlags(kind); err != nil {
		return err
	}
	if kind.name == controllerBackend.name || kind.name == coordinatorBackend.name {
		if err := refuseTenant(f, o.Backend, "lookup --"+kind.flags[0]+" asks no Mooncake master"); err != nil {
			return err
		}
	}
	if kind.name == coordinatorBackend.name {
		return coordinatorLookupRun(ctx, o)
	}
	b := o.Backend
	if b.Master == "" && b.Admin != "" {
		if err := refuseTenant(f, b, "the admin API lists the default tenant only"); err != nil {
			return err
		}
	}
	if kind.name == controllerBackend.name {
		if o.AllRanks {
			return &UsageError{Err: errors.New("--all-ranks needs --master or --admin: the controller answers per instance")}
		}
		if f.Given.Source("placement") == "flag --placement" {
			return &UsageError{Err: errors.New("--placement needs --master, --admin or --coordinator: the controller answers per instance, without replicas")}
		}
		return controllerLookupRun(ctx, o)
	}
	res, err := f.resolveKeys(ctx, &o.Keys, f.Given)
	if err != nil {
		return err
	}
	if b.Master == "" && b.Admin == "" {
		if addr, src := res.Config.MasterAddress(); addr != "" {
			b.Master = addr
			if f.IOStreams.ShowHints() {
				fmt.Fprintf(f.IOStreams.ErrOut, "using Mooncake master %s from %s\n", addr, src)
			}
		} else {
			return &UsageError{Err: errors.New("no backend: pass --master HOST:PORT, --admin URL or --controller URL, or --coordinator URL (or an LMCache config whose external_lookup_client or extra_config names the master)")}
		}
	}
	src, err := f.openTokens(ctx, o.Args, &o.Input, o.Keys.Model)
	if err != nil {
		return err
	}
	warn(f.IOStreams, res.Warnings)
	sl, err := f.openStore(ctx, b, o.Placement || o.Format == printers.Wide, o.Watch)
	if err != nil {
		return err
	}
	defer sl.close()
	sl.allRanks = o.AllRanks
	pv := res.View()
	newPrinter := func(t printTarget) lookupPrinter[lookupPromptView] {
		return &storePrinter{printTarget: t, placement: o.Placement || o.Format == printers.Wide, params: &pv, args: f.Args}
	}
	return runLookups(ctx, o, src, newPrinter, func() promptFunc[lookupPromptView] {
		eng, _ := lmcachekey.NewEngine(res.Params) // resolveKeys validated the parameters
		return func(ctx context.Context, p *tokenize.Prompt) (lookupPromptView, error) { return sl.lookup(ctx, eng, p) }
	})
}

// refuseTenant refuses a --tenant other than "default", given on the
// command line or in LMC_*, where no Mooncake master RPC is asked (only
// it is per tenant): the answer would be the default tenant's, or no
// tenant's (why says which).
func refuseTenant(f *Factory, b BackendFlags, why string) error {
	if b.Master != "" || b.Tenant == mooncake.DefaultTenant {
		return nil
	}
	return refuse(f, notContext, fmt.Sprintf("%q is a Mooncake master RPC tenant, and %s: look it up with --master ADDR", b.Tenant, why), "tenant")
}

// engineLookupRun looks prompts up with SGLang's or vLLM's keys and hit
// rule.
func engineLookupRun(ctx context.Context, o *LookupOptions, eng enginekey.Engine) error {
	f := o.f
	if o.Backend.Master == "" && o.Backend.Admin != "" {
		if err := refuseTenant(f, o.Backend, "the admin API lists the default tenant only"); err != nil {
			return err
		}
	}
	spec, sl, src, err := f.openEngineLookup(ctx, &o.Keys, &o.Engine, eng, o.Backend, o.Args, &o.Input, o.Placement || o.Format == printers.Wide)
	if err != nil {
		return err
	}
	defer sl.close()
	params := spec.view()
	newPrinter := func(t printTarget) lookupPrinter[lookupPromptView] {
		return &storePrinter{printTarget: t, placement: o.Placement || o.Format == printers.Wide, params: params}
	}
	return runLookups(ctx, o, src, newPrinter, func() promptFunc[lookupPromptView] {
		k, _ := spec.keyer() // resolveEngine validated the parameters
		return func(ctx context.Context, p *tokenize.Prompt) (lookupPromptView, error) {
			return sl.engineLookup(ctx, spec, k, p, o.Engine.Holes)
		}
	})
}

func controllerLookupRun(ctx context.Context, o *LookupOptions) error {
	f := o.f
	// The controller is sent tokens and its workers key them with their
	// own configuration: a key flag would change nothing in its answer.
	if err := refuseUnkeyed(f, "the controller's lookup sends tokens, and its workers key them with their own settings (to check a store's keys use --master or --admin)"); err != nil {
		return err
	}
	c, err := f.controllerClient(o.Backend.Controller)
	if err != nil {
		return err
	}
	src, err := f.openTokens(ctx, o.Args, &o.Input, o.Keys.Model)
	if err != nil {
		return err
	}
	seen := &seenInstances{}
	newPrinter := func(t printTarget) lookupPrinter[controllerLookupView] {
		cp := &controllerPrinter{printTarget: t}
		if o.Watch {
			cp.seen = seen // an instance whose hit falls to 0 keeps its row
		}
		return cp
	}
	return runLookups(ctx, o, src, newPrinter, func() promptFunc[controllerLookupView] {
		return func(ctx context.Context, p *tokenize.Prompt) (controllerLookupView, error) {
			r, err := c.Lookup(ctx, p.Tokens)
			if err != nil {
				return controllerLookupView{}, f.controllerErr(c.BaseURL(), err)
			}
			v := controllerLookupView{Source: "controller", Backend: c.BaseURL(), Index: p.Index, ID: p.ID, TotalTokens: len(p.Tokens), HitTokens: r.MatchedTokens, Instances: r.Instances, EventID: r.EventID}
			if v.Instances == nil {
				v.Instances = []controllerclient.InstanceHit{}
			}
			return v, nil
		}
	})
}

// runLookups looks every prompt up once, or with --watch again every
// --interval until interrupted.
func runLookups[T any](ctx context.Context, o *LookupOptions, src *tokenSource, newPrinter func(printTarget) lookupPrinter[T], newWorker func() promptFunc[T]) error {
	f := o.f
	if !o.Watch {
		gate := &hitGate{flag: o.MinHit, min: o.minHit}
		out := newPrinter(printTarget{w: f.Out(), ios: f.IOStreams, format: o.Format, gate: gate})
		prog := f.IOStreams.StartProgress("prompts looked up")
		err := runPipelined(ctx, src.eachPrompt, o.Concurrency, newWorker, func(v T) error {
			prog.Add(1)
			defer f.Times.Since(phasetime.Print, time.Now())
			return out.emit(v)
		})
		prog.Stop()
		if err != nil {
			return err
		}
		t := time.Now()
		err = out.finish()
		f.Times.Since(phasetime.Print, t)
		if err != nil {
			return err
		}
		return gate.verdict()
	}
	// --watch: read the prompts once, then repeat.
	var prompts []*tokenize.Prompt
	if err := src.eachPrompt(func(p *tokenize.Prompt) error { prompts = append(prompts, p); return nil }); err != nil {
		return err
	}
	each := func(fn func(*tokenize.Prompt) error) error {
		for _, p := range prompts {
			if err := fn(p); err != nil {
				return err
			}
		}
		return nil
	}
	format := o.Format
	if !f.IOStreams.IsStdoutTTY() {
		format = printers.JSONL // one object per prompt per round
	}
	return watchLoop(ctx, f.IOStreams, f.Out(), o.Interval, "lmc lookup", func(w io.Writer, stamp string) error {
		out := newPrinter(printTarget{w: w, ios: f.IOStreams, format: format, stamp: stamp})
		if err := runPipelined(ctx, each, o.Concurrency, newWorker, out.emit); err != nil {
			return err
		}
		return out.finish()
	})
}

// coordinatorLookupRun is lookup --coordinator (coordlookup.go).
func coordinatorLookupRun(ctx context.Context, o *LookupOptions) error {
	cl, err := o.f.newCoordLookup(ctx, o.Backend.Coordinator, &o.Keys, &o.Coord)
	if err != nil {
		return err
	}
	src, err := o.f.openTokens(ctx, o.Args, &o.Input, cl.ck.Model)
	if err != nil {
		return err
	}
	defer cl.done()
	return runLookups(ctx, o, src, cl.printer, cl.worker)
}
