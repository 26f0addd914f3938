package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/controllerclient"
	"lmc/internal/mooncake"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/lmcachekey"
)

// LookupOptions are lmc lookup's inputs.
type LookupOptions struct {
	f           *Factory
	Keys        KeyFlags
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

	minHit float64
}

var lookupFormats = []printers.Format{printers.Table, printers.Wide, printers.JSON, printers.JSONL, printers.Plain}

// NewCmdLookup builds `lmc lookup`.
func NewCmdLookup(f *Factory) *cobra.Command {
	opts := &LookupOptions{f: f}
	cmd := &cobra.Command{
		Use:   "lookup [FILE|-] (--master ADDR | --admin URL | --controller URL)",
		Short: "How much of a prompt is cached, chunk by chunk, and where",
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
together, --master answers existence and --admin placement.

With --controller, the LMCache cache controller hashes the tokens itself
(builtin hash, chunk 256, its own NONE_HASH) and answers per instance; key flags
do not apply.

` + inputHelp + `

JSON (-o json): {"source", "total_tokens", "hit_tokens", "hit_chunks",
"chunks": [{"index","start","end","hash","key","status","replicas"}]} with status
hit, miss or error; for the controller {"source", "total_tokens", "hit_tokens",
"instances": [{"instance_id","location","hit_tokens"}]}. Batches (JSON Lines)
share one connection; -o jsonl prints one object per prompt with its "id".
With --all-ranks, each chunk also has "ranks": [{"rank","key","status"}] and
the prompt "rank_hit_tokens" (per rank); a chunk is usable, and counts in
hit_tokens, only when every rank holds it.

Exit codes: 0 when every prompt reaches --min-hit (default 0), 4 when one does
not, 3 when the backend cannot be reached in time, 2 for bad input.`,
		Example: `  lmc lookup --master 10.0.0.1:50051 --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json
  lmc lookup --admin http://10.0.0.1:9003 --model m --hash-seed 0 --placement prompt.json
  lmc lookup --master 10.0.0.1:50051 --model m --hash-seed 0 --min-hit 0.5 -o json prompts.jsonl
  lmc lookup --controller http://localhost:9000 prompt.json`,
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
			if opts.Watch && f.JQ != "" {
				return &UsageError{Err: errors.New("--watch and --jq do not mix: pipe the JSON Lines of --watch into jq")}
			}
			if opts.Concurrency < 1 {
				return &UsageError{Err: fmt.Errorf("--concurrency must be at least 1")}
			}
			return lookupRun(cmd.Context(), opts)
		},
	}
	addKeyFlags(cmd, &opts.Keys)
	addInputFlags(cmd, &opts.Input)
	addStoreFlags(cmd, &opts.Backend)
	addControllerFlag(cmd, &opts.Backend)
	cmd.Flags().BoolVar(&opts.Placement, "placement", false, "show where each chunk lives (replicas: endpoint and tier); implied by -o wide")
	cmd.Flags().StringVar(&opts.MinHit, "min-hit", "", "exit 4 when a prompt's hit share is below this (0.5 or 50%)")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 4, "prompts of a batch in flight at once")
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, "repeat the lookup every --interval: redraw on a terminal, JSON Lines (with \"time\") otherwise")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 2*time.Second, "time between --watch rounds")
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

type replicaView struct {
	Endpoint string `json:"endpoint,omitempty"`
	Tier     string `json:"tier"`
	Status   string `json:"status,omitempty"`
	Size     uint64 `json:"size"`
	Path     string `json:"path,omitempty"`
}

type lookupChunkView struct {
	Index    int           `json:"index"`
	Start    int           `json:"start"`
	End      int           `json:"end"`
	Hash     string        `json:"hash"`
	Key      string        `json:"key"`
	Status   string        `json:"status"`
	Error    string        `json:"error,omitempty"`
	Usable   bool          `json:"usable"`
	Replicas []replicaView `json:"replicas,omitempty"`
	// Ranks is set with --all-ranks: every worker id's key and status.
	Ranks []rankStatusView `json:"ranks,omitempty"`
}

type lookupPromptView struct {
	Time        string            `json:"time,omitempty"`
	Source      string            `json:"source"`
	Backend     string            `json:"backend"`
	Index       int               `json:"index"`
	ID          string            `json:"id,omitempty"`
	TotalTokens int               `json:"total_tokens"`
	HitTokens   int               `json:"hit_tokens"`
	HitChunks   int               `json:"hit_chunks"`
	NumChunks   int               `json:"num_chunks"`
	Unusable    int               `json:"unusable_hits"`
	Chunks      []lookupChunkView `json:"chunks"`
	// RankHitTokens is set with --all-ranks: each rank's own prefix hit.
	RankHitTokens []int `json:"rank_hit_tokens,omitempty"`
}

type lookupBatchView struct {
	Source  string                 `json:"source"`
	Backend string                 `json:"backend"`
	Params  *lmcachekey.ParamsView `json:"params,omitempty"`
	Prompts []lookupPromptView     `json:"prompts"`
}

type controllerLookupView struct {
	Time        string                         `json:"time,omitempty"`
	Source      string                         `json:"source"`
	Backend     string                         `json:"backend"`
	Index       int                            `json:"index"`
	ID          string                         `json:"id,omitempty"`
	TotalTokens int                            `json:"total_tokens"`
	HitTokens   int                            `json:"hit_tokens"`
	Instances   []controllerclient.InstanceHit `json:"instances"`
	EventID     string                         `json:"event_id,omitempty"`
}

// storeLookup holds the open store backends.
type storeLookup struct {
	f          *Factory
	master     *mooncake.Client
	masterAddr string
	admin      *mooncake.Admin
	adminURL   string
	placement  bool
	allRanks   bool
}

func (s *storeLookup) source() (string, string) {
	switch {
	case s.master != nil && s.admin != nil:
		return "master+admin", s.masterAddr + " " + s.adminURL
	case s.master != nil:
		return "master", s.masterAddr
	}
	return "admin", s.adminURL
}

// lookup checks one prompt's chunk keys.
func (s *storeLookup) lookup(ctx context.Context, eng *lmcachekey.Engine, p *tokenize.Prompt) (lookupPromptView, error) {
	src, backend := s.source()
	v := lookupPromptView{Source: src, Backend: backend, Index: p.Index, ID: p.ID, TotalTokens: len(p.Tokens), Chunks: []lookupChunkView{}}
	var keys []string
	err := eng.Each(p.Tokens, func(c lmcachekey.Chunk) error {
		v.Chunks = append(v.Chunks, lookupChunkView{Index: c.Index, Start: c.Start, End: c.End, Hash: eng.HashText(c.Hash), Key: c.Key})
		keys = append(keys, c.Key)
		return nil
	})
	if err != nil || len(keys) == 0 {
		return v, err
	}
	v.NumChunks = len(keys)
	if s.master != nil {
		start := time.Now()
		st, err := s.master.BatchExistKey(ctx, keys)
		s.f.logRPC("BatchExistKey", s.masterAddr, s.master.Tenant(), len(keys), start, err)
		if err != nil {
			return v, s.f.masterErr(s.masterAddr, err)
		}
		for i, x := range st {
			switch {
			case x.Exists():
				v.Chunks[i].Status = "hit"
			case x == mooncake.Missing:
				v.Chunks[i].Status = "miss"
			default:
				v.Chunks[i].Status = "error"
				v.Chunks[i].Error = x.String()
			}
		}
	}
	if s.admin != nil && (s.master == nil || s.placement) {
		qs, err := s.admin.BatchQueryKeys(ctx, keys)
		if err != nil {
			return v, s.f.withLeaderHint(ctx, s.admin, s.f.adminErr(s.adminURL, err))
		}
		for i, q := range qs {
			if s.master == nil {
				switch {
				case q.OK:
					v.Chunks[i].Status = "hit"
				case q.Error == "OBJECT_NOT_FOUND" || q.Code == mooncake.CodeObjectNotFound:
					v.Chunks[i].Status = "miss"
				default:
					v.Chunks[i].Status = "error"
					v.Chunks[i].Error = q.Error
				}
			}
			if s.placement {
				v.Chunks[i].Replicas = queryReplicas(q)
			}
		}
	} else if s.master != nil && s.placement {
		start := time.Now()
		rls, err := s.master.BatchGetReplicaList(ctx, keys)
		s.f.logRPC("BatchGetReplicaList", s.masterAddr, s.master.Tenant(), len(keys), start, err)
		if err != nil {
			return v, s.f.masterErr(s.masterAddr, err)
		}
		for i, r := range rls {
			for _, rep := range r.Replicas {
				rv := replicaView{Endpoint: rep.Endpoint(), Tier: rep.Kind.String(), Status: strings.ToLower(rep.Status.String()), Size: rep.Size()}
				if rep.Kind == mooncake.KindDisk {
					rv.Path = rep.Disk.FilePath
				}
				v.Chunks[i].Replicas = append(v.Chunks[i].Replicas, rv)
			}
		}
	}
	if s.allRanks {
		if err := s.addRanks(ctx, eng, p, &v); err != nil {
			return v, err
		}
	}
	prefixDone := false
	for i := range v.Chunks {
		c := &v.Chunks[i]
		if !c.hitAllRanks() {
			prefixDone = true
			continue
		}
		if prefixDone {
			v.Unusable++
			continue
		}
		c.Usable = true
		v.HitChunks++
		v.HitTokens = c.End
	}
	return v, nil
}

func queryReplicas(q mooncake.KeyQuery) []replicaView {
	var out []replicaView
	for _, b := range q.Values {
		out = append(out, replicaView{Endpoint: b.TransportEndpoint, Tier: "memory", Size: b.Size})
	}
	for _, b := range q.NoFValues {
		out = append(out, replicaView{Endpoint: b.TransportEndpoint, Tier: "nof", Size: b.Size})
	}
	for _, d := range q.DiskValues {
		out = append(out, replicaView{Tier: "disk", Size: d.ObjectSize, Path: d.FilePath})
	}
	for _, d := range q.LocalDiskValues {
		out = append(out, replicaView{Endpoint: d.TransportEndpoint, Tier: "local_disk", Size: d.ObjectSize})
	}
	return out
}

func lookupRun(ctx context.Context, o *LookupOptions) error {
	f := o.f
	b := o.Backend
	if b.Controller != "" {
		if b.Master != "" || b.Admin != "" {
			return &UsageError{Err: errors.New("--controller cannot be combined with --master/--admin: they are different systems")}
		}
		if o.AllRanks {
			return &UsageError{Err: errors.New("--all-ranks needs --master or --admin: the controller answers per instance")}
		}
		return controllerLookupRun(ctx, o)
	}
	res, err := f.resolveKeys(&o.Keys, f.Given)
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
			return &UsageError{Err: errors.New("no backend: pass --master HOST:PORT, --admin URL or --controller URL (or an LMCache config whose external_lookup_client or extra_config names the master)")}
		}
	}
	src, err := f.openTokens(ctx, o.Args, &o.Input, o.Keys.Model)
	if err != nil {
		return err
	}
	warn(f.IOStreams, res.Warnings)
	sl := &storeLookup{f: f, placement: o.Placement || o.Format == printers.Wide, allRanks: o.AllRanks}
	if b.Admin != "" {
		// The admin path tells placement for free, without leases.
		sl.placement = true
		if sl.admin, err = f.adminClient(b.Admin); err != nil {
			return err
		}
		sl.adminURL = sl.admin.BaseURL()
	}
	if b.Master != "" {
		if sl.masterAddr, err = normalizeMaster(b.Master); err != nil {
			return &UsageError{Err: fmt.Errorf("--master: %w", err)}
		}
		if sl.master, err = f.dialMaster(ctx, sl.masterAddr, b.Tenant); err != nil {
			return f.withLeaderHint(ctx, sl.admin, err)
		}
		defer sl.master.Close()
	}
	pv := res.View()
	return runLookups(ctx, o, src, &pv, func() func(context.Context, *tokenize.Prompt) (any, error) {
		eng, _ := lmcachekey.NewEngine(res.Params) // resolveKeys validated the parameters
		return func(ctx context.Context, p *tokenize.Prompt) (any, error) { return sl.lookup(ctx, eng, p) }
	})
}

func controllerLookupRun(ctx context.Context, o *LookupOptions) error {
	f := o.f
	c, err := f.controllerClient(o.Backend.Controller)
	if err != nil {
		return err
	}
	src, err := f.openTokens(ctx, o.Args, &o.Input, o.Keys.Model)
	if err != nil {
		return err
	}
	return runLookups(ctx, o, src, nil, func() func(context.Context, *tokenize.Prompt) (any, error) {
		return func(ctx context.Context, p *tokenize.Prompt) (any, error) {
			r, err := c.Lookup(ctx, p.Tokens)
			if err != nil {
				return nil, f.controllerErr(c.BaseURL(), err)
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
func runLookups(ctx context.Context, o *LookupOptions, src *tokenSource, params *lmcachekey.ParamsView, newWorker func() func(context.Context, *tokenize.Prompt) (any, error)) error {
	f := o.f
	if !o.Watch {
		out := &lookupPrinter{f: f, o: o, params: params}
		prog := f.IOStreams.StartProgress("prompts looked up")
		err := runPipelined(ctx, src.eachPrompt, o.Concurrency, newWorker, func(v any) error {
			prog.Add(1)
			return out.emit(v)
		})
		prog.Stop()
		if err != nil {
			return err
		}
		if err := out.finish(); err != nil {
			return err
		}
		return out.verdict()
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
	tty := f.IOStreams.IsStdoutTTY()
	realOut := f.IOStreams.Out
	wo := *o
	if !tty {
		wo.Format = printers.JSONL // one object per prompt per round
	}
	for round := 0; ; round++ {
		now := time.Now().UTC().Format(time.RFC3339)
		var buf bytes.Buffer
		f.IOStreams.Out = &buf
		out := &lookupPrinter{f: f, o: &wo, params: params, stamp: now}
		err := runPipelined(ctx, each, o.Concurrency, newWorker, out.emit)
		if err == nil {
			err = out.finish()
		}
		f.IOStreams.Out = realOut
		if err != nil {
			return err
		}
		if tty {
			header := f.IOStreams.Styles().Muted.Render(fmt.Sprintf("every %s: lmc lookup (%s, round %d) — Ctrl-C to stop", o.Interval, now, round+1))
			fmt.Fprint(realOut, "\x1b[H\x1b[2J"+header+"\n\n")
		}
		if _, err := realOut.Write(buf.Bytes()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.Interval):
		}
	}
}

// runPipelined looks prompts up with up to n in flight and hands results to
// emit in input order. newWorker makes per-goroutine state (a key engine).
func runPipelined(ctx context.Context, each func(func(*tokenize.Prompt) error) error, n int, newWorker func() func(context.Context, *tokenize.Prompt) (any, error), emit func(any) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		p    *tokenize.Prompt
		res  any
		err  error
		done chan struct{}
	}
	jobs := make(chan *job)
	order := make(chan *job, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWorker()
			for j := range jobs {
				j.res, j.err = work(ctx, j.p)
				close(j.done)
			}
		}()
	}
	var readErr error
	go func() {
		defer close(order)
		defer close(jobs)
		readErr = each(func(p *tokenize.Prompt) error {
			j := &job{p: p, done: make(chan struct{})}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			// Every job in order was taken by a worker, so its done closes;
			// the consumer drains order to the end, so this cannot block
			// forever.
			order <- j
			return nil
		})
	}()
	var firstErr error
	for j := range order {
		<-j.done
		if firstErr != nil {
			continue
		}
		if j.err != nil {
			firstErr = j.err
			cancel()
			continue
		}
		if err := emit(j.res); err != nil {
			firstErr = err
			cancel()
		}
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return ctx.Err()
}

// lookupPrinter streams jsonl/plain and collects for table/json.
type lookupPrinter struct {
	f      *Factory
	o      *LookupOptions
	params *lmcachekey.ParamsView
	stamp  string // --watch: the round's time, added to each view
	store  []lookupPromptView
	ctrl   []controllerLookupView
	below  []string
}

func (lp *lookupPrinter) emit(r any) error {
	out := lp.f.IOStreams.Out
	switch v := r.(type) {
	case lookupPromptView:
		v.Time = lp.stamp
		lp.check(v.ID, v.Index, v.HitTokens, v.TotalTokens)
		if v.Unusable > 0 {
			lp.warnHoles(v)
		}
		switch lp.o.Format {
		case printers.JSONL:
			return printers.WriteJSONLine(out, v)
		case printers.Plain:
			return printers.WritePlain(out, storeRows(v, true))
		}
		lp.store = append(lp.store, v)
	case controllerLookupView:
		v.Time = lp.stamp
		lp.check(v.ID, v.Index, v.HitTokens, v.TotalTokens)
		switch lp.o.Format {
		case printers.JSONL:
			return printers.WriteJSONLine(out, v)
		case printers.Plain:
			return printers.WritePlain(out, controllerRows(v, true))
		}
		lp.ctrl = append(lp.ctrl, v)
	}
	return nil
}

func (lp *lookupPrinter) check(id string, index, hit, total int) {
	if lp.o.MinHit == "" {
		return
	}
	share := 0.0
	if total > 0 {
		share = float64(hit) / float64(total)
	}
	if share < lp.o.minHit {
		name := id
		if name == "" {
			name = "prompt " + strconv.Itoa(index+1)
		}
		lp.below = append(lp.below, fmt.Sprintf("%s: %s", name, percent(hit, total)))
	}
}

func (lp *lookupPrinter) warnHoles(v lookupPromptView) {
	first := -1
	for _, c := range v.Chunks {
		if !c.hitAllRanks() {
			first = c.Index
			break
		}
	}
	verb, pron := "exist", "them"
	if v.Unusable == 1 {
		verb, pron = "exists", "it"
	}
	warn(lp.f.IOStreams, []string{fmt.Sprintf("%s %s after the first miss (chunk %d): the engine cannot use %s and will recompute %s", iostreams.Plural(v.Unusable, "chunk"), verb, first, pron, pron)})
}

func (lp *lookupPrinter) verdict() error {
	if len(lp.below) == 0 {
		return nil
	}
	return &ExitError{Code: ExitBelow, Err: fmt.Errorf("below --min-hit %s: %s", lp.o.MinHit, strings.Join(lp.below, "; "))}
}

func (lp *lookupPrinter) finish() error {
	ios := lp.f.IOStreams
	out := ios.Out
	switch lp.o.Format {
	case printers.JSON:
		if lp.ctrl != nil {
			if len(lp.ctrl) == 1 {
				return printers.WriteJSON(out, lp.ctrl[0])
			}
			return printers.WriteJSON(out, map[string]any{"source": "controller", "prompts": lp.ctrl})
		}
		if len(lp.store) == 1 {
			return printers.WriteJSON(out, struct {
				lookupPromptView
				Params *lmcachekey.ParamsView `json:"params"`
			}{lp.store[0], lp.params})
		}
		src, backend := "", ""
		if len(lp.store) > 0 {
			src, backend = lp.store[0].Source, lp.store[0].Backend
		}
		return printers.WriteJSON(out, lookupBatchView{Source: src, Backend: backend, Params: lp.params, Prompts: lp.store})
	case printers.Table, printers.Wide:
		if lp.ctrl != nil {
			return writeControllerTable(ios, lp.ctrl)
		}
		return writeStoreTable(ios, lp.o.Format == printers.Wide || lp.o.Placement, lp.o.Format == printers.Wide, lp.store)
	}
	return nil
}

func percent(hit, total int) string {
	if total == 0 {
		return "0 of 0 tokens"
	}
	return fmt.Sprintf("%d of %d tokens (%.1f %%)", hit, total, 100*float64(hit)/float64(total))
}

func replicasText(rs []replicaView) string {
	var parts []string
	for _, r := range rs {
		loc := r.Endpoint
		if loc == "" {
			loc = r.Path
		}
		parts = append(parts, loc+" ("+r.Tier+")")
	}
	return strings.Join(parts, ", ")
}

// replicasCompact fits a terminal: nodes by endpoint, file tiers by name
// (-o wide shows the paths).
func replicasCompact(rs []replicaView) string {
	var parts []string
	for _, r := range rs {
		if r.Endpoint != "" {
			parts = append(parts, r.Endpoint+" ("+r.Tier+")")
		} else {
			parts = append(parts, r.Tier)
		}
	}
	return strings.Join(parts, ", ")
}

func storeRows(v lookupPromptView, full bool) [][]string {
	var rows [][]string
	for _, c := range v.Chunks {
		status := c.Status
		if c.Error != "" {
			status += ":" + c.Error
		}
		row := []string{strconv.Itoa(c.Index), strconv.Itoa(c.Start), strconv.Itoa(c.End), c.Hash, c.Key, status}
		if len(c.Replicas) > 0 {
			row = append(row, replicasText(c.Replicas))
		}
		if len(c.Ranks) > 0 {
			row = append(row, ranksText(c))
		}
		if v.ID != "" {
			row = append([]string{v.ID}, row...)
		}
		rows = append(rows, row)
	}
	return rows
}

func controllerRows(v controllerLookupView, full bool) [][]string {
	var rows [][]string
	for _, in := range v.Instances {
		row := []string{in.InstanceID, in.Location, strconv.Itoa(in.HitTokens), strconv.Itoa(v.TotalTokens)}
		if v.ID != "" {
			row = append([]string{v.ID}, row...)
		}
		rows = append(rows, row)
	}
	return rows
}

func styleStatus(st *iostreams.Styles, c lookupChunkView) string {
	switch {
	case c.Status == "hit" && c.Usable:
		return st.Hit.Render("HIT")
	case c.Status == "hit":
		return st.Partial.Render("HIT*")
	case c.Status == "miss":
		return st.Miss.Render("MISS")
	}
	return st.Error.Render("ERROR " + c.Error)
}

func writeStoreTable(ios *iostreams.IOStreams, placement, wide bool, prompts []lookupPromptView) error {
	st := ios.Styles()
	out := ios.Out
	if len(prompts) > 1 {
		header := []string{"PROMPT", "TOKENS", "HIT", "CHUNKS", "SHARE"}
		var rows [][]string
		for _, p := range prompts {
			name := p.ID
			if name == "" {
				name = strconv.Itoa(p.Index + 1)
			}
			share := 0.0
			if p.TotalTokens > 0 {
				share = float64(p.HitTokens) / float64(p.TotalTokens)
			}
			rows = append(rows, []string{name, strconv.Itoa(p.TotalTokens), strconv.Itoa(p.HitTokens), fmt.Sprintf("%d/%d", p.HitChunks, p.NumChunks), st.HitBar(p.HitTokens, p.TotalTokens, 10) + fmt.Sprintf(" %5.1f%%", 100*share)})
		}
		return printers.WriteTable(out, styledHeader(st, header), rows)
	}
	for _, p := range prompts {
		header := []string{"CHUNK", "TOKENS", "HASH", "STATUS"}
		if placement {
			header = append(header, "REPLICAS")
		}
		ranks := len(p.Chunks) > 0 && len(p.Chunks[0].Ranks) > 0
		if ranks {
			header = append(header, "RANKS")
		}
		var rows [][]string
		for _, c := range p.Chunks {
			row := []string{strconv.Itoa(c.Index), fmt.Sprintf("%d-%d", c.Start, c.End), iostreams.Truncate(c.Hash, 13), styleStatus(st, c)}
			if placement {
				if wide {
					row = append(row, replicasText(c.Replicas))
				} else {
					row = append(row, replicasCompact(c.Replicas))
				}
			}
			if ranks {
				row = append(row, ranksText(c))
			}
			rows = append(rows, row)
		}
		if len(rows) > 0 {
			if err := printers.WriteTable(out, styledHeader(st, header), rows); err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("hit %s, %d of %d chunks", percent(p.HitTokens, p.TotalTokens), p.HitChunks, p.NumChunks)
		if p.Unusable > 0 {
			summary += fmt.Sprintf("; %d more after the first miss (HIT*, unusable)", p.Unusable)
		}
		if _, err := fmt.Fprintln(out, st.HitBar(p.HitTokens, p.TotalTokens, 20)+"  "+summary); err != nil {
			return err
		}
	}
	return nil
}

func writeControllerTable(ios *iostreams.IOStreams, vs []controllerLookupView) error {
	st := ios.Styles()
	header := []string{"INSTANCE", "LOCATION", "HIT TOKENS", "SHARE"}
	batch := len(vs) > 1
	if batch {
		header = append([]string{"PROMPT"}, header...)
	}
	var rows [][]string
	for _, v := range vs {
		for _, in := range v.Instances {
			row := []string{in.InstanceID, in.Location, strconv.Itoa(in.HitTokens), st.HitBar(in.HitTokens, v.TotalTokens, 10) + " " + fmt.Sprintf("%5.1f%%", 100*float64(in.HitTokens)/float64(max(v.TotalTokens, 1)))}
			if batch {
				name := v.ID
				if name == "" {
					name = strconv.Itoa(v.Index + 1)
				}
				row = append([]string{name}, row...)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) > 0 {
		if err := printers.WriteTable(ios.Out, styledHeader(st, header), rows); err != nil {
			return err
		}
	}
	if !batch && len(vs) == 1 {
		v := vs[0]
		_, err := fmt.Fprintf(ios.Out, "%s  best hit %s on %s\n", st.HitBar(v.HitTokens, v.TotalTokens, 20), percent(v.HitTokens, v.TotalTokens), iostreams.Plural(len(v.Instances), "instance"))
		return err
	}
	return nil
}

func styledHeader(st *iostreams.Styles, h []string) []string {
	out := make([]string, len(h))
	for i, s := range h {
		out[i] = st.Header.Render(s)
	}
	return out
}

var _ = io.Discard
