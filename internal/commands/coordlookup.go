// lookup --coordinator: a prompt asked of the MP coordinator's key
// directory (POST /directory/lookup), in the tokens form (the coordinator
// hashes, lmc checks its hashes) or with --by-keys (lmc's own MP-mode
// keys), laid out per chunk and per rank with placements, the prefix hit
// under a placement filter, rank holes and each holder's run. The views
// are the store lookup's (lookupviews.go) with fields added.
package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/coordinatorclient"
	"lmc/internal/safetext"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/lmcachekey"
)

// coordLookupFlags are lookup's coordinator flags.
type coordLookupFlags struct {
	ByKeys   bool
	Tier     string
	Instance string
	Backend  string
}

// addCoordinatorLookupFlags registers lookup's --coordinator and its
// placement filter.
func addCoordinatorLookupFlags(cmd *cobra.Command, b *BackendFlags, c *coordLookupFlags) {
	addCoordinatorFlag(cmd, b)
	fl := cmd.Flags()
	fl.BoolVar(&c.ByKeys, "by-keys", false, "--coordinator: look up lmc's own MP-mode keys (keys form) instead of letting the coordinator hash the tokens")
	fl.StringVar(&c.Tier, "tier", "", "--coordinator: count only placements on this tier: l1, l2 or all")
	fl.StringVar(&c.Instance, "instance", "", "--coordinator: count only placements of this MP server instance (fleet-shared pools count for every instance)")
	fl.StringVar(&c.Backend, "backend", "", "--coordinator: count only placements on this backend (dram, fs, s3, mooncake_store, …)")
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions([]string{"l1", "l2", "all"}, cobra.ShellCompDirectiveNoFileComp))
}

// checkCoordinatorLookupFlags refuses the coordinator's lookup flags
// with another backend.
func (f *Factory) checkCoordinatorLookupFlags(kind backendKind) error {
	if kind.name == coordinatorBackend.name {
		return nil
	}
	return refuse(f, anyLayer, "applies to lookups of the LMCache coordinator: add --coordinator URL", "by-keys", "tier", "instance", "backend")
}

func parseTier(flag, s string) (coordinatorclient.Tier, error) {
	t := coordinatorclient.Tier(strings.ToLower(strings.TrimSpace(s)))
	if t == "" || t.Valid() {
		return t, nil
	}
	return "", &UsageError{Err: fmt.Errorf("%s %q: use l1, l2 or all", flag, s)}
}

// coordPlacementView is one placement (spec §3.3).
type coordPlacementView struct {
	InstanceID  string `json:"instance_id"`
	Incarnation int64  `json:"incarnation"`
	Tier        string `json:"tier"`
	Backend     string `json:"backend"`
	SizeBytes   int64  `json:"size_bytes"`
	Shared      bool   `json:"shared"`
	// Match: the placement passes the lookup's filter.
	Match bool `json:"match"`
}

type coordRankView struct {
	rankStatusView
	Placements []coordPlacementView `json:"placements"`
}

type coordChunkView struct {
	lookupChunkView
	// Replicas is the store lookup's; the coordinator's answer is in
	// Placements (the table shows them as replicas).
	Replicas    []replicaView        `json:"replicas,omitempty"`
	Placements  []coordPlacementView `json:"placements"`
	Ranks       []coordRankView      `json:"ranks,omitempty"`
	AccessCount int64                `json:"access_count"`
}

// coordLookupView is one prompt's coordinator lookup: the store lookup's
// fields (source "coordinator"), per chunk the placements, and the
// filter, rank holes and holders.
type coordLookupView struct {
	lookupPromptView
	Chunks    []coordChunkView             `json:"chunks"`
	Form      string                       `json:"form"`
	Route     string                       `json:"route"`
	ChunkSize int                          `json:"chunk_size"`
	WorldSize int                          `json:"world_size"`
	Filter    string                       `json:"filter"`
	RankHoles []coordinatorclient.RankHole `json:"rank_holes"`
	Holders   []coordinatorclient.Holder   `json:"holders"`
	// Generation is the coordinator generation that answered.
	Generation *coordGeneration `json:"generation"`
	warnings   []string
}

type coordLookupBatchView struct {
	Source     string                 `json:"source"`
	Backend    string                 `json:"backend"`
	Params     *lmcachekey.ParamsView `json:"params,omitempty"`
	Generation *coordGeneration       `json:"generation"`
	Prompts    []coordLookupView      `json:"prompts"`
}

// coordLookup is one run's coordinator lookup.
type coordLookup struct {
	f      *Factory
	c      *coordinatorclient.Client
	ck     *coordKeys
	filter coordinatorclient.PlacementFilter
	byKeys bool
	params *lmcachekey.ParamsView
}

// newCoordLookup prepares lookup --coordinator: the client, the key
// parameters and the filter. lookup.go runs it (runLookups) with printer
// and worker.
func (f *Factory) newCoordLookup(ctx context.Context, url string, k *KeyFlags, cf *coordLookupFlags) (*coordLookup, error) {
	tier, err := parseTier("--tier", cf.Tier)
	if err != nil {
		return nil, err
	}
	// The coordinator answers every rank of a chunk (ranks, rank holes):
	// a worker id given on the command line would select nothing.
	if f.Given.Source("worker-id") == "flag --worker-id" {
		return nil, &UsageError{Err: errors.New("--worker-id is not part of LMCache MP-mode keys: lookup --coordinator reports every rank of each chunk (to check one rank's key use --master --key-schema mp)")}
	}
	c, err := f.coordinatorClient(url)
	if err != nil {
		return nil, err
	}
	ck, err := f.resolveCoordKeys(ctx, k, f.Given)
	if err != nil {
		return nil, err
	}
	if cf.ByKeys && ck.Engine == nil {
		return nil, &UsageError{Err: errors.New("--by-keys needs lmc to compute the MP-mode keys: use --key-schema mp (the default with --coordinator) and, for a hash other than blake3, --hash-seed")}
	}
	warn(f.IOStreams, ck.Warnings)
	pv := ck.Res.View()
	return &coordLookup{f: f, c: c, ck: ck, byKeys: cf.ByKeys, params: &pv,
		filter: coordinatorclient.PlacementFilter{Tier: tier, InstanceID: cf.Instance, Backend: cf.Backend, SharedCounts: cf.Instance != ""}}, nil
}

// printer makes the lookup's printer.
func (cl *coordLookup) printer(t printTarget) lookupPrinter[coordLookupView] {
	return &coordPrinter{printTarget: t, params: cl.params, url: cl.c.BaseURL(), c: cl.c, ck: cl.ck}
}

// worker makes a worker's lookup (the client is safe for concurrent use).
func (cl *coordLookup) worker() promptFunc[coordLookupView] { return cl.lookup }

// done says, with --verbose, which generation answered.
func (cl *coordLookup) done() { cl.f.noteGeneration(cl.c) }

// lookup asks the coordinator about one prompt.
func (cl *coordLookup) lookup(ctx context.Context, p *tokenize.Prompt) (coordLookupView, error) {
	ck := cl.ck
	v := coordLookupView{lookupPromptView: lookupPromptView{Source: "coordinator", Backend: cl.c.BaseURL(), Index: p.Index, ID: p.ID, TotalTokens: len(p.Tokens),
		Chunks: []lookupChunkView{}}, Chunks: []coordChunkView{}, ChunkSize: ck.ChunkSize, WorldSize: ck.WorldSize, Filter: cl.filter.String(),
		RankHoles: []coordinatorclient.RankHole{}, Holders: []coordinatorclient.Holder{}}
	if err := ck.checkTokens(p.Tokens); err != nil {
		return v, err
	}
	hashes, err := ck.chunkHashes(p.Tokens)
	if err != nil {
		return v, err
	}
	var res *coordinatorclient.LookupResult
	switch {
	case cl.byKeys:
		v.Form = "keys"
		keys := coordinatorclient.ChunkKeys(hashes, ck.Model, ck.WorldSize, ck.Salt)
		if len(keys) == 0 {
			v.Generation = generationOf(cl.c)
			return v, nil
		}
		res, err = cl.c.Lookup(ctx, coordinatorclient.LookupRequest{Keys: keys, TokensRequest: coordinatorclient.TokensRequest{ChunkSize: ck.ChunkSize}})
		if err == nil {
			err = res.Chunked(ck.WorldSize, ck.ChunkSize)
		}
	case len(p.Tokens) == 0:
		v.Form = "tokens"
		v.Generation = generationOf(cl.c)
		return v, nil
	default:
		res, err = cl.c.Lookup(ctx, coordinatorclient.LookupRequest{TokensRequest: ck.tokensRequest(p.Tokens), ExpectChunkHashes: hashes})
	}
	if err != nil {
		return v, cl.f.coordinatorErr(cl.c, ck.chunkSizeHint(err))
	}
	fillCoordLookup(&v, res, cl.filter)
	v.Generation = generationOf(cl.c)
	return v, nil
}

// fillCoordLookup lays a lookup answer out in v under filter.
func fillCoordLookup(v *coordLookupView, res *coordinatorclient.LookupResult, filter coordinatorclient.PlacementFilter) {
	v.Form, v.Route, v.warnings = res.Form, res.Route, res.Warnings
	if res.ChunkSize > 0 {
		v.ChunkSize = res.ChunkSize
	}
	rows := res.Rows(filter)
	hit := res.PrefixHit(filter)
	v.HitTokens, v.HitChunks, v.NumChunks, v.Unusable = hit.Tokens, hit.Chunks, hit.TotalChunks, hit.Unusable
	v.RankHoles = hit.Holes
	if len(hit.RankTokens) > 1 {
		v.RankHitTokens = hit.RankTokens
	}
	v.Holders = res.Holders()
	if v.Holders == nil {
		v.Holders = []coordinatorclient.Holder{}
	}
	status := func(hit bool) string {
		if hit {
			return statusHit
		}
		return statusMiss
	}
	for _, row := range rows {
		first := row.Ranks[0]
		lc := lookupChunkView{Index: row.Index, Start: row.Start, End: row.End, Hash: row.ChunkHashHex, Key: first.Key.String(),
			Status: status(first.Hit), Usable: row.Usable}
		cc := coordChunkView{AccessCount: row.AccessCount, Placements: placementViews(first.Placements, filter)}
		for _, p := range first.Placements {
			ep := p.InstanceID
			if p.Shared {
				ep = "shared"
			}
			lc.Replicas = append(lc.Replicas, replicaView{Endpoint: ep, Tier: p.Tier + "/" + p.Backend, Size: uint64(max(p.SizeBytes, 0))})
		}
		if len(row.Ranks) > 1 {
			for _, r := range row.Ranks {
				rs := rankStatusView{Rank: r.Rank, Key: r.Key.String(), Status: status(r.Hit)}
				lc.Ranks = append(lc.Ranks, rs)
				cc.Ranks = append(cc.Ranks, coordRankView{rankStatusView: rs, Placements: placementViews(r.Placements, filter)})
			}
		}
		cc.lookupChunkView = lc
		v.lookupPromptView.Chunks = append(v.lookupPromptView.Chunks, lc)
		v.Chunks = append(v.Chunks, cc)
	}
}

func placementViews(ps []coordinatorclient.Placement, f coordinatorclient.PlacementFilter) []coordPlacementView {
	out := make([]coordPlacementView, 0, len(ps))
	for _, p := range ps {
		out = append(out, coordPlacementView{InstanceID: p.InstanceID, Incarnation: p.Incarnation, Tier: p.Tier, Backend: p.Backend, SizeBytes: p.SizeBytes, Shared: p.Shared, Match: f.Match(p)})
	}
	return out
}

// coordPrinter prints coordinator lookups: the store lookup's table and
// plain rows, the coordinator's JSON.
type coordPrinter struct {
	printTarget
	params *lmcachekey.ParamsView
	url    string
	c      *coordinatorclient.Client
	ck     *coordKeys
	views  []coordLookupView
	warned map[string]bool
}

func (cp *coordPrinter) emit(v coordLookupView) error {
	v.Time = cp.stamp
	cp.gate.check(v.ID, v.Index, v.HitTokens, v.TotalTokens)
	if cp.warned == nil {
		cp.warned = map[string]bool{}
	}
	var ws []string
	for _, w := range v.warnings {
		if !cp.warned[w] {
			cp.warned[w] = true
			ws = append(ws, "coordinator answer: "+w)
		}
	}
	warn(cp.ios, ws)
	if v.Unusable > 0 {
		warnHoles(cp.ios, v.lookupPromptView)
	}
	if len(v.RankHoles) > 0 && cp.format != printers.JSON && cp.format != printers.JSONL {
		warn(cp.ios, []string{rankHolesText(v.RankHoles)})
	}
	return printers.Stream(cp.w, cp.format, v, func() error { return printers.WritePlain(cp.w, storeRows(v.lookupPromptView)) }, &cp.views)
}

func rankHolesText(holes []coordinatorclient.RankHole) string {
	var parts []string
	for i, h := range holes {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("… %d more", len(holes)-i))
			break
		}
		var rs []string
		for _, r := range h.MissingRanks {
			rs = append(rs, strconv.Itoa(r))
		}
		parts = append(parts, fmt.Sprintf("chunk %d lacks rank %s", h.Chunk, strings.Join(rs, ",")))
	}
	return "rank holes (some ranks hold a chunk, others do not; the engine needs every rank): " + strings.Join(parts, "; ")
}

func (cp *coordPrinter) finish() error {
	return printers.WriteKept(cp.w, cp.format, cp.views,
		func(v coordLookupView) any {
			return struct {
				coordLookupView
				Params *lmcachekey.ParamsView `json:"params"`
			}{v, cp.params}
		},
		func(vs []coordLookupView) any {
			return coordLookupBatchView{Source: "coordinator", Backend: cp.url, Params: cp.params, Generation: generationOf(cp.c), Prompts: nonNilViews(vs)}
		},
		cp.writeTable)
}

// writeTable is the table (and wide) of the coordinator's lookups: the
// store table, and for one prompt its holders and hints.
func (cp *coordPrinter) writeTable() error {
	wide := cp.format == printers.Wide
	var pvs []lookupPromptView
	for _, v := range cp.views {
		pvs = append(pvs, v.lookupPromptView)
	}
	if err := writeStoreTable(cp.w, cp.ios.Styles(), true, wide, wide || !cp.ios.IsStdoutTTY(), pvs); err != nil {
		return err
	}
	if len(cp.views) == 1 {
		v := cp.views[0]
		if len(v.Holders) > 0 {
			var hs []string
			for _, h := range v.Holders {
				n := strconv.Itoa(h.Tokens) + " tokens"
				if v.ChunkSize <= 0 {
					n = iostreams.Plural(h.Chunks, "chunk")
				}
				hs = append(hs, h.String()+" "+n)
			}
			if _, err := fmt.Fprintf(cp.w, "holders: %s\n", safetext.Escape(strings.Join(hs, ", "))); err != nil {
				return err
			}
		}
		if v.Filter != "(any placement)" {
			if _, err := fmt.Fprintf(cp.w, "counting placements %s\n", v.Filter); err != nil {
				return err
			}
		}
		if cp.ios.ShowHints() && v.NumChunks > 0 && v.HitChunks == 0 && v.Unusable == 0 {
			warn(cp.ios, []string{fmt.Sprintf("no chunk of this prompt is in the coordinator's directory. If it should be, the coordinator may hash differently (chunk size, hash algorithm, NONE hash), the model, world size or salt may differ, or the MP servers may not report events (--coordinator-event-reporting); 'lmc doctor --coordinator %s --server MP-SERVER-URL --model %s' checks", cp.url, cp.ck.Model)})
		}
	}
	return nil
}

func nonNilViews(v []coordLookupView) []coordLookupView {
	if v == nil {
		return []coordLookupView{}
	}
	return v
}

const coordinatorLookupHelp = `With --coordinator, the LMCache MP coordinator's key directory answers (POST
/directory/lookup): per chunk and per rank, which MP server holds it in which
tier and backend. The coordinator hashes the tokens itself with its
--chunk-size and --hash-algorithm; lmc sends the model, world size and
--cache-salt from the key flags (--key-schema mp is implied) and checks the
coordinator's chunk hashes against its own, so a coordinator that hashes
differently is an error, not a miss. --server URL (an MP server) supplies the
chunk size, hash algorithm, model and world size. --by-keys sends lmc's own
MP-mode keys instead (keys form). A chunk counts when every rank has a
placement passing --tier, --instance and --backend; rank holes are named. JSON
adds "placements" per chunk and rank, "rank_holes", "holders", "filter",
"form" and "generation" (the coordinator generation that answered).
--worker-id, --dtype and --tag, which MP-mode keys do not carry (every rank
is reported), are refused when given on the command line (exit 2).`
