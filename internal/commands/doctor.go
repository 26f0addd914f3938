package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/doctor"
	"lmc/internal/mooncake"
	"lmc/internal/safetext"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/lmcachekey"
)

// DoctorOptions are lmc doctor's inputs.
type DoctorOptions struct {
	f              *Factory
	Keys           KeyFlags
	Engine         EngineFlags
	Input          InputFlags
	Backend        BackendFlags
	Args           []string
	SeedCandidates []string
	MaxProbes      int
	Sample         int
	Prompt         int
	Format         printers.Format
}

var doctorFormats = []printers.Format{printers.Table, printers.Plain, printers.JSON}

// NewCmdDoctor builds `lmc doctor`.
func NewCmdDoctor(f *Factory) *cobra.Command {
	o := &DoctorOptions{f: f}
	cmd := &cobra.Command{
		Use:   "doctor [FILE|-] (--admin URL | --master ADDR | --coordinator URL [--server URL])",
		Short: shortFor("doctor"),
		Example: `  # why does this prompt not hit? (read-only: the admin API grants no leases)
  lmc doctor --admin http://10.0.0.1:9003 --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json

  # the engine's seed is unknown: try a few
  lmc doctor --admin http://10.0.0.1:9003 --model m --seed-candidates 0,42,123 prompt.json

  # what does the store hold? (models, formats, world sizes, dtypes, hash families)
  lmc doctor --admin http://10.0.0.1:9003

  # over the master RPC (grants read leases on what it finds), for scripts
  lmc doctor --master 10.0.0.1:50051 --model m --hash-seed 0 --max-probes 4 -o json prompt.json`,
		Long: `Run the configured lookup for a prompt on every rank and, when it does not
hit, find out why.

1. The configured keys of every chunk are checked for every worker id of the
   world size (one probe). A chunk is usable only when all ranks hold it, so
   the effective hit is the minimum over ranks; a rank with holes is named.
   A matching first chunk with later misses means evicted or not yet stored.
2. When the first chunk is missing everywhere, lmc searches the key settings
   that LMCache deployments get wrong: hash algorithm, PYTHONHASHSEED (and
   NONE_HASH=0, LMCache without vLLM), key format era, KV dtype, world size,
   chunk size (256, 512, 128, 64, 1024, 16), save_unfull_chunk, and the model
   names and tags seen in the store. Each candidate contributes only its
   leading chunk keys, deduplicated, probed in batches, most likely first:
   single settings, then what the store sample points at, then pairs and
   triples of settings. The search stops at the first probe that finds keys;
   one more probe confirms the best candidates on every chunk and rank.
3. With --admin, a sample of the store's keys (/get_all_keys, first --sample
   keys) tells which models, key formats, world sizes, ranks, dtypes and hash
   families (16/32/64 hex digits, a '-' sign for builtin) the store holds. If
   the listing is complete, it answers the search without further probes.

The bound: at most --max-probes existence checks in all (default 8: the
baseline, the single settings, the store sample, pairs and triples of at most
1024 keys each, the confirmation). Over the admin API each check is split
into URL-sized GET /batch_query_keys requests (about 50 keys each); over the
master RPC it is one BatchExistKey. The admin path is read-only; the RPC path
grants a read lease on every key it finds, like the engine's own lookups.

--seed-candidates replaces the default seeds (the configured one, 0,
PYTHONHASHSEED from this environment, and 123 and 42 from LMCache's examples); NONE_HASH=0 is always tried. Without
--hash-seed, lmc looks up with NONE_HASH=0 and lets the search find the seed.

` + inputHelp + ` Without token input, doctor only reports the store sample
(needs --admin). With several prompts, --prompt picks one. With --admin, doctor
asks only the admin API (not --master), which lists the default tenant: a
--tenant other than "default" is refused there (exit 2).

JSON (-o json): {"outcome": "full-hit"|"cause-found"|"no-cause"|"store-only",
"summary", "backend", "configured", "lookup_rank", "lookup_hit_tokens",
"baseline": {"world_size","ranks","chunks": [{"index","start","end","keys",
"hit"}],"rank_hit_tokens","hit_tokens",...}, "findings": [{"kind","summary",
"diffs": [{"setting","configured","store","flag"}],"flags","params",
"confirmed","evidence"}], "search": {"variants","keys","probes","max_probes",
...}, "notes", "store": {"sampled","complete","groups": [...]}}.

` + engineDoctorHelp + `
` + coordinatorDoctorHelp + `

Exit codes: 0 when the prompt fully hits or a cause was found, 1 when no
cause was found, 2 for bad input, 3 when the store cannot be reached.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			var err error
			if o.Format, err = f.outputFormat(doctorFormats); err != nil {
				return err
			}
			if o.MaxProbes < 1 {
				return &UsageError{Err: errors.New("--max-probes must be at least 1")}
			}
			eng, err := f.selectEngine(cmd, &o.Engine)
			if err != nil {
				return err
			}
			if eng != enginekey.LMCache && hasPromptInput(args, &o.Input) {
				return f.engineDoctorRun(cmd.Context(), &engineDoctorInput{Keys: o.Keys, Engine: o.Engine, Input: o.Input, Backend: o.Backend, Args: args,
					Seeds: o.SeedCandidates, MaxProbes: o.MaxProbes, Sample: o.Sample, Prompt: o.Prompt, Format: o.Format}, eng)
			}
			return doctorRun(cmd.Context(), o)
		},
	}
	addPromptFlags(cmd, &o.Keys, &o.Engine, scopeDoctor, &o.Input)
	addStoreFlags(cmd, &o.Backend)
	addCoordinatorFlag(cmd, &o.Backend)
	fl := cmd.Flags()
	fl.StringSliceVar(&o.SeedCandidates, "seed-candidates", nil, "PYTHONHASHSEED values to try (default: the configured one, 0, PYTHONHASHSEED of this environment, 123 and 42)")
	fl.IntVar(&o.MaxProbes, "max-probes", doctor.DefaultMaxProbes, "at most this many existence checks against the store, baseline and confirmation included")
	fl.IntVar(&o.Sample, "sample", doctor.DefaultSampleLimit, "keys to read from /get_all_keys to infer what the store holds (0: none; needs --admin)")
	fl.IntVar(&o.Prompt, "prompt", 0, "which prompt of a JSON Lines input (0-based)")
	return cmd
}

type doctorBackendView struct {
	Source       string `json:"source"`
	Address      string `json:"address"`
	GrantsLeases bool   `json:"grants_leases"`
	Requests     int    `json:"requests"`
}

type doctorView struct {
	*doctor.Report
	Backend  doctorBackendView `json:"backend"`
	Store    *doctor.Inventory `json:"store,omitempty"`
	Warnings []string          `json:"warnings"`
}

// seedCandidates are the configured seed, 0, PYTHONHASHSEED / LMC_HASH_SEED
// of this environment and the common seeds, unless --seed-candidates is
// given.
func (o *DoctorOptions) seedCandidates(res *Resolved) ([]string, error) {
	var out []string
	add := func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" || s == res.Seed || slices.Contains(out, s) {
			return nil
		}
		if _, err := lmcachekey.ParseSeed(s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	}
	if len(o.SeedCandidates) > 0 {
		for _, s := range o.SeedCandidates {
			if err := add(s); err != nil {
				return nil, &UsageError{Err: fmt.Errorf("--seed-candidates: %v", err)}
			}
		}
		return out, nil
	}
	_ = add("0")
	for _, env := range []string{"PYTHONHASHSEED", "LMC_HASH_SEED"} {
		_ = add(o.f.Getenv(env))
	}
	// Seeds from LMCache's and vLLM's own examples, which deployments copy.
	for _, s := range commonSeeds {
		_ = add(s)
	}
	return out, nil
}

func doctorRun(ctx context.Context, o *DoctorOptions) error {
	f := o.f
	if coordinatorDoctorWanted(f, &o.Backend) {
		return f.coordinatorDoctorRun(ctx, &coordDoctorInput{Backend: o.Backend, Keys: o.Keys, Input: o.Input, Args: o.Args, Prompt: o.Prompt, Format: o.Format}) // coorddoctor.go
	}
	b := o.Backend
	if b.Admin != "" {
		// With --admin, doctor asks only the admin API (--master is not dialled).
		if b.Tenant != mooncake.DefaultTenant {
			if err := refuse(f, notContext, fmt.Sprintf("%q is a Mooncake master RPC tenant, and doctor with --admin asks only the admin API, which lists the default tenant only: diagnose it with --master ADDR alone", b.Tenant), "tenant"); err != nil {
				return err
			}
		}
	}
	var warnings []string
	var admin *mooncake.Admin
	var adminURL string
	var err error
	if b.Admin != "" {
		if admin, err = f.adminClient(b.Admin); err != nil {
			return err
		}
		adminURL = admin.BaseURL()
	}
	hasInput := o.Input.given(o.Args) || (len(o.Args) == 0 && !f.IOStreams.IsStdinTTY() && stdinHasData(f.IOStreams.In))

	// What the store holds.
	var inv *doctor.Inventory
	if admin != nil && o.Sample > 0 {
		inv, err = doctor.Sample(ctx, admin.GetAllKeys, o.Sample)
		if err != nil {
			return f.adminErr(adminURL, err)
		}
	}
	if !hasInput {
		if admin == nil {
			return &UsageError{Err: errors.New("no token input: pass FILE, - or --tokens to diagnose a prompt, or --admin URL to see what the store holds")}
		}
		if inv == nil {
			return &UsageError{Err: errors.New("no token input and --sample 0: nothing to do")}
		}
		if o.Format == printers.JSON {
			return printers.WriteJSON(f.Out(), struct {
				Outcome  string            `json:"outcome"`
				Summary  string            `json:"summary"`
				Backend  doctorBackendView `json:"backend"`
				Store    *doctor.Inventory `json:"store"`
				Warnings []string          `json:"warnings"`
			}{"store-only", inventorySummary(inv), doctorBackendView{Source: "admin", Address: adminURL, Requests: 1}, inv, []string{}})
		}
		return writeInventory(f.IOStreams, inv)
	}

	// The configured lookup. Doctor is for when things do not match, so an
	// unknown seed or model is not fatal: the search looks for them.
	keys := o.Keys
	if keys.Model == "" && inv != nil {
		if ms := inv.Models(); len(ms) == 1 {
			keys.Model = ms[0]
			warnings = append(warnings, fmt.Sprintf("no --model: using %q, the only model in the store sample", ms[0]))
		}
	}
	res, err := f.resolveKeys(ctx, &keys, f.Given)
	if err != nil && errors.Is(err, lmcachekey.ErrNoSeed) {
		keys.NoneHash = "0"
		if res, err = f.resolveKeys(ctx, &keys, f.Given); err == nil {
			res.Params.NoneHashSource = "assumed (no --hash-seed)"
			warnings = append(warnings, "no hash seed given: looking up with NONE_HASH=0 (LMCache without vLLM) and searching the seed candidates; pass --hash-seed with the engines' PYTHONHASHSEED")
		}
	}
	if err != nil {
		return err
	}
	warnings = append(warnings, res.Warnings...)
	if b.Master == "" && b.Admin == "" {
		if addr, src := res.Config.MasterAddress(); addr != "" {
			b.Master = addr
			warnings = append(warnings, fmt.Sprintf("using Mooncake master %s from %s", addr, src))
		} else {
			return &UsageError{Err: errors.New("no store: pass --admin URL (read-only, preferred) or --master HOST:PORT")}
		}
	}
	seeds, err := o.seedCandidates(res)
	if err != nil {
		return err
	}
	_, prompt, err := f.openPrompt(ctx, o.Args, &o.Input, o.Keys.Model, o.Prompt)
	if err != nil {
		return err
	}

	sl := &storeLookup{f: f, admin: admin, adminURL: adminURL}
	bv := doctorBackendView{}
	if admin != nil {
		bv.Source, bv.Address = "admin", adminURL
	} else {
		addr, err := normalizeMaster(b.Master)
		if err != nil {
			return &UsageError{Err: fmt.Errorf("--master: %w", err)}
		}
		c, err := f.dialMaster(ctx, addr, b.Tenant)
		if err != nil {
			return err
		}
		defer c.Close()
		sl.master, sl.masterAddr = c, addr
		bv.Source, bv.Address, bv.GrantsLeases = "master", addr, true
		warnings = append(warnings, "the master RPC (BatchExistKey) grants a read lease on every key it finds, delaying its eviction; --admin is read-only")
	}

	prog := f.IOStreams.StartProgress("keys probed")
	rep, err := doctor.Diagnose(ctx, progressProber{sl, prog}, doctor.Configured(res.Params, res.Seed), prompt.Tokens, doctor.Options{
		Seeds: seeds, MaxProbes: o.MaxProbes, Inventory: inv})
	if err == nil {
		// the store's keys may be another engine's: search its knobs too
		err = f.otherEngineSearch(ctx, progressProber{sl, prog}, sl, rep, inv, prompt, append(seeds, res.Seed), o.MaxProbes)
	}
	prog.Stop()
	if err != nil {
		return err
	}
	bv.Requests = sl.requests() // the listing included
	v := doctorView{Report: rep, Backend: bv, Store: inv, Warnings: warnings}
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	if o.Format == printers.JSON {
		if err := printers.WriteJSON(f.Out(), v); err != nil {
			return err
		}
	} else {
		warn(f.IOStreams, warnings)
		if err := writeDoctor(f.IOStreams, &v); err != nil {
			return err
		}
	}
	if rep.Outcome == doctor.NoCause {
		return &ExitError{Code: ExitFailed, Silent: true}
	}
	return nil
}

func inventorySummary(inv *doctor.Inventory) string {
	s := fmt.Sprintf("%s sampled from /get_all_keys", iostreams.Plural(inv.Sampled, "key"))
	if inv.Complete {
		s += " (all the store holds)"
	} else {
		s += fmt.Sprintf(" (the first %d)", inv.Limit)
	}
	s += fmt.Sprintf(": %s of %s", iostreams.Plural(len(inv.Groups), "key group"), iostreams.Plural(len(inv.Models()), "model"))
	if n := len(inv.EngineGroups); n > 0 {
		s += fmt.Sprintf(", and %s of SGLang's or vLLM's own connectors", iostreams.Plural(n, "key group"))
	}
	return s
}

func statusText(st *iostreams.Styles, hit bool) string {
	if hit {
		return st.Hit.Render("HIT")
	}
	return st.Miss.Render("MISS")
}

// writeRankTable prints chunk × rank results.
func writeRankTable(ios *iostreams.IOStreams, t *doctor.RankTable) error {
	st := ios.Styles()
	header := []string{"CHUNK", "TOKENS"}
	multi := len(t.Ranks) > 1
	if multi {
		for _, r := range t.Ranks {
			header = append(header, "RANK "+strconv.Itoa(r))
		}
		header = append(header, "ALL RANKS")
	} else {
		header = append(header, "STATUS")
	}
	var rows [][]string
	for _, c := range t.Chunks {
		row := []string{strconv.Itoa(c.Index), fmt.Sprintf("%d-%d", c.Start, c.End)}
		for _, h := range c.Hit {
			row = append(row, statusText(st, h))
		}
		if multi {
			row = append(row, statusText(st, c.AllHit()))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	return printers.WriteTable(ios.Out, styledHeader(st, header), rows)
}

func hitLine(t *doctor.RankTable) string {
	s := fmt.Sprintf("%s, %d of %d chunks", percent(t.HitTokens, t.TotalTokens), t.HitChunks, t.NumChunks())
	if len(t.Ranks) > 1 {
		s += " on all " + strconv.Itoa(len(t.Ranks)) + " ranks"
	}
	return s
}

func writeDoctor(ios *iostreams.IOStreams, v *doctorView) error {
	st := ios.Styles()
	out := safetext.NewWriter(ios.Out) // model names, tags and keys come from the store
	r := v.Report
	var b strings.Builder
	label := map[doctor.Outcome]string{doctor.FullHit: st.Hit.Render("OK"), doctor.CauseFound: st.Partial.Render("CAUSE"), doctor.NoCause: st.Miss.Render("NO CAUSE FOUND")}[r.Outcome]
	fmt.Fprintf(&b, "%s  %s\n", label, r.Summary)
	var evidence *doctor.RankTable
	var primary *doctor.Finding
	if len(r.Findings) > 0 {
		primary = &r.Findings[0]
	}
	switch {
	case primary != nil && primary.Kind == doctor.KindMismatch:
		if primary.Evidence != nil {
			fmt.Fprintf(&b, "with the store's settings: hit %s; configured: hit %s\n", hitLine(primary.Evidence), percent(r.LookupHitTokens, r.Baseline.TotalTokens))
			evidence = primary.Evidence
		} else {
			fmt.Fprintf(&b, "with the store's settings %d of %d leading keys exist (not confirmed on every chunk: --max-probes was spent)\n", primary.ProbedHits, primary.ProbedKeys)
		}
		if primary.Flags != "" {
			fmt.Fprintf(&b, "look up with: %s\n", primary.Flags)
		}
	default:
		for _, fd := range r.Findings[min(1, len(r.Findings)):] {
			fmt.Fprintf(&b, "also: %s\n", fd.Summary)
		}
		if primary != nil && primary.Flags != "" {
			fmt.Fprintf(&b, "look up with: %s\n", primary.Flags)
		}
		evidence = r.Baseline
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	if primary != nil && len(primary.Diffs) > 0 {
		fmt.Fprintln(out)
		var rows [][]string
		for _, d := range primary.Diffs {
			rows = append(rows, []string{d.Setting, d.Configured, d.Store})
		}
		if err := printers.WriteTable(out, styledHeader(st, []string{"SETTING", "CONFIGURED", "STORE"}), rows); err != nil {
			return err
		}
	}
	if evidence != nil && len(evidence.Chunks) > 0 {
		fmt.Fprintln(out)
		if err := writeRankTable(ios, evidence); err != nil {
			return err
		}
	}
	if primary != nil && primary.Kind == doctor.KindMismatch {
		for _, fd := range r.Findings[1:] {
			if fd.Evidence != nil && fd.Evidence.HitTokens == 0 && fd.ProbedHits == 0 {
				continue
			}
			fmt.Fprintf(out, "\nalso matching: %s", fd.Summary)
			if fd.Evidence != nil {
				fmt.Fprintf(out, " (hit %s)", hitLine(fd.Evidence))
			}
			fmt.Fprintln(out)
		}
	}
	return writeStoreAndFooter(out, ios, v.Store, writeInventory, searchFooter(r.Search, v.Backend.Requests, v.Backend.Address, v.Backend.GrantsLeases))
}

func writeInventory(ios *iostreams.IOStreams, inv *doctor.Inventory) error {
	st := ios.Styles()
	out := safetext.NewWriter(ios.Out) // the store's keys
	if _, err := fmt.Fprintf(out, "store: %s\n", inventorySummary(inv)); err != nil {
		return err
	}
	if len(inv.Groups) > 0 {
		var rows [][]string
		for _, g := range inv.Groups {
			var wk []string
			for _, n := range g.WorkerKeys {
				wk = append(wk, strconv.Itoa(n))
			}
			dt := g.DType
			if dt == "" {
				dt = "-"
			}
			tags := strings.Join(g.Tags, "@")
			if tags == "" {
				tags = "-"
			}
			rows = append(rows, []string{g.Model, g.Format, strconv.Itoa(g.WorldSize), strings.Join(wk, "/"), dt, g.HashKind, strings.Join(g.Algorithms, ", "), tags, strconv.Itoa(g.Keys)})
		}
		if err := printers.WriteTable(out, styledHeader(st, []string{"MODEL", "FORMAT", "WORLD", "KEYS/RANK", "DTYPE", "HASH", "ALGORITHMS", "TAGS", "KEYS"}), rows); err != nil {
			return err
		}
	}
	if err := writeEngineInventory(ios, inv); err != nil {
		return err
	}
	if inv.Foreign > 0 {
		if _, err := fmt.Fprintf(out, "%s in no format lmc knows (e.g. %s)\n", iostreams.Plural(inv.Foreign, "key"), strings.Join(inv.ForeignExamples, ", ")); err != nil {
			return err
		}
	}
	for _, n := range inv.Notes {
		if _, err := fmt.Fprintf(out, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}
