// doctor --coordinator: why an LMCache MP fleet's lookups miss. It checks
// the coordinator's hashing against the keys it holds (spec §9: listed
// keys' tokens resolved back), its chunk size against the MP servers'
// (--server) and lmc's, a prompt's lookup with lmc's own chunk hashes, the
// namespace (model, world size, salt) its first chunk is stored under, and
// — with --master or --admin — where the directory and the Mooncake store
// disagree on the prompt's MP-mode keys.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/coordinatorclient"
	"lmc/internal/doctor"
	"lmc/internal/mooncake"
	"lmc/internal/safetext"
)

// Finding kinds of doctor --coordinator.
const (
	findNoServers        = "no-servers"
	findServersDisagree  = "servers-disagree"
	findCoordHashing     = "coordinator-hashing"
	findLocalHashing     = "lmc-hashing"
	findChunkSize        = "chunk-size"
	findCoordChunkSize   = "coordinator-chunk-size"
	findHashMismatch     = "hash-mismatch"
	findNamespace        = "namespace"
	findEvicted          = "not-stored"
	findRankHoles        = "rank-holes"
	findDirectoryOnly    = "directory-only"
	findStoreOnly        = "store-only"
	coordProbeTokens     = 8192
	coordNamespaceKeys   = 20000
	coordDisagreementCap = 64
)

type coordFinding struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
}

type coordDoctorLookup struct {
	TotalTokens int                          `json:"total_tokens"`
	HitTokens   int                          `json:"hit_tokens"`
	HitChunks   int                          `json:"hit_chunks"`
	NumChunks   int                          `json:"num_chunks"`
	RankHoles   []coordinatorclient.RankHole `json:"rank_holes"`
	// HashCheck is "match" (the coordinator's chunk hashes are lmc's),
	// "mismatch" or "skipped" (lmc cannot hash with these key flags).
	HashCheck string `json:"hash_check"`
}

// coordStoreKey is one key the directory and the store disagree on.
type coordStoreKey struct {
	Chunk     int    `json:"chunk"`
	Rank      int    `json:"rank"`
	Key       string `json:"key"`
	Directory bool   `json:"directory"`
	Store     bool   `json:"store"`
}

type coordStoreCompare struct {
	Source  string `json:"source"`
	Address string `json:"address"`
	// Backend is the directory's placement backend compared with the store
	// (mooncake_store: LMCache's Mooncake L2 adapter).
	Backend         string          `json:"backend"`
	Keys            int             `json:"keys"`
	Both            int             `json:"both"`
	DirectoryOnly   int             `json:"directory_only"`
	StoreOnly       int             `json:"store_only"`
	Neither         int             `json:"neither"`
	Disagreements   []coordStoreKey `json:"disagreements"`
	StoreHitTokens  int             `json:"store_hit_tokens"`
	DirectoryTokens int             `json:"directory_hit_tokens"`
}

type coordDoctorView struct {
	Outcome     string                          `json:"outcome"`
	Summary     string                          `json:"summary"`
	Coordinator string                          `json:"coordinator"`
	Generation  *coordinatorclient.Generation   `json:"generation"`
	Instances   int                             `json:"instances"`
	Servers     []serverStatusView              `json:"servers"`
	Hashing     *coordinatorclient.HashingCheck `json:"hashing,omitempty"`
	// CoordinatorChunks is how many chunks the coordinator resolves from
	// ProbeTokens tokens (its --chunk-size is about ProbeTokens/chunks).
	ProbeTokens       int                `json:"probe_tokens"`
	CoordinatorChunks int                `json:"coordinator_chunks"`
	Lookup            *coordDoctorLookup `json:"lookup,omitempty"`
	Store             *coordStoreCompare `json:"store,omitempty"`
	Findings          []coordFinding     `json:"findings"`
	Notes             []string           `json:"notes"`
	Warnings          []string           `json:"warnings"`
}

func (v *coordDoctorView) has(kind string) bool {
	for _, fd := range v.Findings {
		if fd.Kind == kind {
			return true
		}
	}
	return false
}

func (v *coordDoctorView) find(kind, format string, args ...any) {
	v.Findings = append(v.Findings, coordFinding{Kind: kind, Summary: fmt.Sprintf(format, args...)})
}

// coordDoctorInput is what doctor --coordinator reads of doctor's flags.
type coordDoctorInput struct {
	Backend BackendFlags
	Keys    KeyFlags
	Input   InputFlags
	Args    []string
	Prompt  int
	Format  printers.Format
}

// coordinatorDoctorRun is doctor with --coordinator.
func (f *Factory) coordinatorDoctorRun(ctx context.Context, o *coordDoctorInput) error {
	// MP-mode keys carry no worker id (every rank is checked), and the
	// tenant is the master RPC's, dialled only with --master.
	if f.Given.Source("worker-id") == "flag --worker-id" {
		return &UsageError{Err: errors.New("--worker-id is not part of LMCache MP-mode keys: doctor --coordinator checks every rank of each chunk (for one rank's keys use doctor --master --key-schema mp)")}
	}
	if o.Backend.Master == "" && o.Backend.Tenant != mooncake.DefaultTenant {
		if err := refuse(f, notContext, "is the Mooncake master RPC's tenant, and doctor --coordinator dials no master here: add --master ADDR to compare the store", "tenant"); err != nil {
			return err
		}
	}
	c, err := f.coordinatorClient(o.Backend.Coordinator)
	if err != nil {
		return err
	}
	v := &coordDoctorView{Coordinator: c.BaseURL(), Servers: []serverStatusView{}, Findings: []coordFinding{}, Notes: []string{}, Warnings: []string{}}
	hasInput := len(o.Args) > 0 || o.Input.Tokens != "" || o.Input.Text.Text != "" || o.Input.Text.PromptFile != "" || o.Input.Text.Messages != ""
	keys := o.Keys
	ck, err := f.resolveCoordKeys(ctx, &keys, f.Given)
	if err != nil {
		var ue *UsageError
		if hasInput || !errors.As(err, &ue) || !strings.HasPrefix(ue.Error(), "no model name") {
			return err
		}
		ck = nil // no prompt: the model is not needed
	}
	if ck != nil {
		v.Warnings = append(v.Warnings, ck.Warnings...)
		if ck.Res.Server != nil {
			v.Servers = ck.Res.Server.Servers
			for _, d := range ck.Res.Server.Disagreements {
				v.find(findServersDisagree, "%s", d)
			}
		}
	} else if len(keys.Servers) > 0 {
		for _, raw := range keys.Servers {
			st, url, err := f.mpStatus(ctx, raw)
			if err != nil {
				return err
			}
			v.Servers = append(v.Servers, serverStatusView{URL: url, Route: st.Route, EngineType: st.EngineType, ChunkSize: st.ChunkSize, HashAlgorithm: st.HashAlgorithm, Contexts: st.Contexts})
		}
	}

	// The coordinator: alive, which generation, who is registered.
	if _, err := c.Healthz(ctx); err != nil {
		return f.coordinatorErr(c, err)
	}
	if _, err := c.Detect(ctx); err != nil {
		return f.coordinatorErr(c, err)
	}
	g := c.Generation()
	v.Generation = &g
	l, err := c.Instances(ctx)
	if err != nil {
		return f.coordinatorErr(c, err)
	}
	v.Instances = len(l.Instances)
	if v.Instances == 0 {
		v.find(findNoServers, "no MP server is registered with the coordinator: start them with --coordinator-url %s (and --coordinator-event-reporting, or the directory stays empty)", c.BaseURL())
	}

	// The fleet's chunk size, as lmc knows it: --server's, else a given
	// --chunk-size.
	fleetCS, fleetSrc := 0, ""
	if len(v.Servers) > 0 && v.Servers[0].ChunkSize > 0 {
		fleetCS, fleetSrc = v.Servers[0].ChunkSize, "the MP server "+v.Servers[0].URL
	} else if f.Given.Has("chunk-size") {
		fleetCS, fleetSrc = o.Keys.ChunkSize, "--chunk-size"
	}

	// Hashing: listed keys' tokens back through the tokens form.
	if g.Has(coordinatorclient.FeatureDirectoryKeys) && g.Has(coordinatorclient.FeatureLookupTwoForm) {
		hc, err := c.VerifyHashing(ctx, 8)
		if err != nil {
			return f.coordinatorErr(c, err)
		}
		v.Hashing = hc
		v.Notes = append(v.Notes, hc.Notes...)
		if hc.Checked > 0 && hc.CoordinatorMatches == 0 {
			v.find(findCoordHashing, "the coordinator resolves none of %d stored chunks' tokens back to their hashes: its --chunk-size or --hash-algorithm differs from the MP servers' (stored chunks have %v tokens), or vLLM is importable in it without PYTHONHASHSEED (a random NONE hash). Only chunks stored at the start of a prompt can match: with a handful of keys this can be a false alarm", hc.Checked, hc.ChunkSizes)
		}
		if hc.Checked > 0 && hc.LocalMatches == 0 {
			v.find(findLocalHashing, "lmc's blake3 chain gives none of %d stored chunks' hashes: the MP servers hash with another --hash-algorithm (lmc's keys need --hash to match)", hc.Checked)
		}
		if fleetCS > 0 {
			for _, n := range hc.ChunkSizes {
				if n != fleetCS {
					v.find(findChunkSize, "the directory holds chunks of %d tokens, %s has chunk size %d", n, fleetSrc, fleetCS)
				}
			}
		}
	} else {
		v.Notes = append(v.Notes, "this coordinator has no keys listing or no two-form lookup (generation "+g.String()+"): its hashing is not checked")
	}

	// The coordinator's own --chunk-size: the chunks it resolves from a
	// probe sequence (read-only, and keyed under a model nothing uses).
	if g.Has(coordinatorclient.FeatureLookupTwoForm) {
		probe := make([]uint32, coordProbeTokens)
		for i := range probe {
			probe[i] = uint32(i)
		}
		res, err := c.Lookup(ctx, coordinatorclient.LookupRequest{TokensRequest: coordinatorclient.TokensRequest{ModelName: "lmc-doctor-probe", WorldSize: 1, TokenIDs: probe}})
		if err != nil {
			return f.coordinatorErr(c, err)
		}
		v.ProbeTokens, v.CoordinatorChunks = coordProbeTokens, res.Chunks
		if fleetCS > 0 && res.Chunks != coordProbeTokens/fleetCS {
			est := "more than " + strconv.Itoa(coordProbeTokens)
			if res.Chunks > 0 {
				est = fmt.Sprintf("about %d", coordProbeTokens/res.Chunks)
			}
			v.find(findCoordChunkSize, "the coordinator resolves %d chunks from %d tokens, so its --chunk-size is %s, not %s's %d: every tokens-form lookup, pin, delete and move resolves other keys than the MP servers store", res.Chunks, coordProbeTokens, est, fleetSrc, fleetCS)
		}
	}

	if hasInput {
		if err := coordDoctorPrompt(ctx, f, o, c, ck, v); err != nil {
			return err
		}
	}
	v.Generation = func() *coordinatorclient.Generation { g := c.Generation(); return &g }()
	f.noteGeneration(c)
	switch {
	case len(v.Findings) > 0:
		v.Outcome, v.Summary = string(doctor.CauseFound), v.Findings[0].Summary
	case v.Lookup != nil && v.Lookup.NumChunks > 0 && v.Lookup.HitChunks == 0:
		v.Outcome, v.Summary = string(doctor.NoCause), "no chunk of the prompt is in the directory, and the coordinator's hashing, chunk size and namespaces look right: the MP servers may not report events (--coordinator-event-reporting), or the prompt was never served"
	case v.Lookup != nil:
		v.Outcome, v.Summary = string(doctor.FullHit), fmt.Sprintf("the prompt hits %d of %d tokens in the directory; nothing wrong found", v.Lookup.HitTokens, v.Lookup.TotalTokens)
	default:
		v.Outcome, v.Summary = "ok", "the coordinator answers, hashes as the fleet does and agrees with the MP servers' chunk size"
	}
	if o.Format == printers.JSON {
		if err := printers.WriteJSON(f.Out(), v); err != nil {
			return err
		}
	} else {
		warn(f.IOStreams, v.Warnings)
		if err := writeCoordDoctor(f.IOStreams, v); err != nil {
			return err
		}
	}
	if v.Outcome == string(doctor.NoCause) {
		return &ExitError{Code: ExitFailed, Silent: true}
	}
	return nil
}

// coordDoctorPrompt looks the prompt up with lmc's hashes, finds the
// namespace its first chunk is stored under when it misses, and compares
// the directory with the store.
func coordDoctorPrompt(ctx context.Context, f *Factory, o *coordDoctorInput, c *coordinatorclient.Client, ck *coordKeys, v *coordDoctorView) error {
	_, prompt, err := f.openPrompt(ctx, o.Args, &o.Input, ck.Model, o.Prompt)
	if err != nil {
		return err
	}
	if err := ck.checkTokens(prompt.Tokens); err != nil {
		return err
	}
	hashes, err := ck.chunkHashes(prompt.Tokens)
	if err != nil {
		return err
	}
	lk := &coordDoctorLookup{TotalTokens: len(prompt.Tokens), RankHoles: []coordinatorclient.RankHole{}, HashCheck: "match"}
	if hashes == nil {
		lk.HashCheck = "skipped"
	}
	v.Lookup = lk
	if len(prompt.Tokens) < ck.ChunkSize {
		v.Notes = append(v.Notes, fmt.Sprintf("the prompt has fewer tokens (%d) than one chunk (%d): nothing to look up", len(prompt.Tokens), ck.ChunkSize))
		return nil
	}
	res, err := c.Lookup(ctx, coordinatorclient.LookupRequest{TokensRequest: ck.tokensRequest(prompt.Tokens), ExpectChunkHashes: hashes})
	var hm *coordinatorclient.HashMismatchError
	var ba *coordinatorclient.BadAnswerError
	switch {
	case errors.As(err, &hm):
		lk.HashCheck = "mismatch"
		v.find(findHashMismatch, "%v", hm)
		// lmc's own keys, asked directly.
		if res, err = c.Lookup(ctx, coordinatorclient.LookupRequest{Keys: coordinatorclient.ChunkKeys(hashes, ck.Model, ck.WorldSize, ck.Salt)}); err == nil {
			err = res.Chunked(ck.WorldSize, ck.ChunkSize)
		}
		if err != nil {
			return f.coordinatorErr(c, err)
		}
		v.Notes = append(v.Notes, "the prompt's hit below is of lmc's own MP-mode keys (keys form), since the coordinator resolves other ones")
	case errors.As(err, &ba) && strings.Contains(ba.Reason, "chunk"):
		if !v.has(findCoordChunkSize) {
			v.find(findCoordChunkSize, "%s", ba.Reason)
		} else {
			v.Notes = append(v.Notes, "the prompt's lookup: "+ba.Reason)
		}
		return nil
	case err != nil:
		return f.coordinatorErr(c, ck.chunkSizeHint(err))
	}
	hit := res.PrefixHit(coordinatorclient.PlacementFilter{})
	lk.HitTokens, lk.HitChunks, lk.NumChunks, lk.RankHoles = hit.Tokens, hit.Chunks, hit.TotalChunks, hit.Holes
	if len(hit.Holes) > 0 {
		v.find(findRankHoles, "%s", rankHolesText(hit.Holes))
	}
	if hit.Chunks > 0 && hit.Chunks < hit.TotalChunks {
		which := fmt.Sprintf("chunks %d to %d are", hit.Chunks, hit.TotalChunks-1)
		if hit.Chunks == hit.TotalChunks-1 {
			which = fmt.Sprintf("chunk %d is", hit.Chunks)
		}
		v.find(findEvicted, "%s not in the directory after the first %s: evicted, not stored yet, or the engine stopped storing", which, iostreams.Plural(hit.Chunks, "chunk"))
	}
	if hit.Chunks == 0 && len(hashes) > 0 && lk.HashCheck == "match" {
		if err := coordDoctorNamespace(ctx, f, c, ck, hashes[0], v); err != nil {
			return err
		}
	}
	if o.Backend.Master != "" || o.Backend.Admin != "" {
		return coordDoctorStore(ctx, f, o, ck, res, v)
	}
	return nil
}

// coordDoctorNamespace scans the keys listing (bounded) for the prompt's
// first chunk hash under another model, world size or salt.
func coordDoctorNamespace(ctx context.Context, f *Factory, c *coordinatorclient.Client, ck *coordKeys, hash0 string, v *coordDoctorView) error {
	if !c.Generation().Has(coordinatorclient.FeatureDirectoryKeys) {
		return nil
	}
	var found []coordinatorclient.Key
	seen, errStop := 0, errors.New("stop")
	_, err := c.EachKey(ctx, coordinatorclient.KeysQuery{Limit: 10000}, func(e coordinatorclient.KeyEntry) error {
		seen++
		if strings.EqualFold(e.Key.Normalized().ChunkHashHex, hash0) {
			found = append(found, e.Key)
		}
		if seen >= coordNamespaceKeys || len(found) >= 8 {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return f.coordinatorErr(c, err)
	}
	if len(found) == 0 {
		if seen < coordNamespaceKeys {
			v.Notes = append(v.Notes, fmt.Sprintf("the prompt's first chunk hash is in none of the directory's %d keys, under any model, world size or salt", seen))
		}
		return nil
	}
	var parts []string
	for _, k := range found {
		parts = append(parts, fmt.Sprintf("model %q world size %d salt %q", k.ModelName, k.WorldSize(), k.CacheSalt))
	}
	sort.Strings(parts)
	v.find(findNamespace, "the prompt's first chunk is stored under %s, but looked up as model %q world size %d salt %q: pass those with --model, --world-size and --cache-salt",
		strings.Join(dedupe(parts), "; "), ck.Model, ck.WorldSize, ck.Salt)
	return nil
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// coordDoctorStore compares the directory's view of the prompt's keys
// with the Mooncake store's: a key the directory places in the store that
// the store lacks (a missed delete event, or an eviction the coordinator
// was not told of), and one the store holds that the directory does not
// place there (events not reported, or another writer).
func coordDoctorStore(ctx context.Context, f *Factory, o *coordDoctorInput, ck *coordKeys, res *coordinatorclient.LookupResult, v *coordDoctorView) error {
	b := o.Backend
	sl := &storeLookup{f: f}
	cmp := &coordStoreCompare{Disagreements: []coordStoreKey{}}
	if b.Admin != "" {
		a, err := f.adminClient(b.Admin)
		if err != nil {
			return err
		}
		sl.admin, sl.adminURL = a, a.BaseURL()
		cmp.Source, cmp.Address = "admin", sl.adminURL
	} else {
		addr, err := normalizeMaster(b.Master)
		if err != nil {
			return &UsageError{Err: fmt.Errorf("--master: %w", err)}
		}
		m, err := f.dialMaster(ctx, addr, b.Tenant)
		if err != nil {
			return err
		}
		defer m.Close()
		sl.master, sl.masterAddr = m, addr
		cmp.Source, cmp.Address = "master", addr
		v.Warnings = append(v.Warnings, "the master RPC (BatchExistKey) grants a read lease on every key it finds; --admin is read-only")
	}
	// Which of the directory's backends is the Mooncake store.
	cmp.Backend = "mooncake_store"
	for _, r := range res.Results {
		for _, p := range r.Placements {
			if p.Tier == string(coordinatorclient.TierL2) && strings.Contains(strings.ToLower(p.Backend), "mooncake") {
				cmp.Backend = p.Backend
			}
		}
	}
	keys := make([]string, len(res.Results))
	for i, r := range res.Results {
		keys[i] = r.Key.String()
	}
	cmp.Keys = len(keys)
	inStore, err := sl.Exist(ctx, keys)
	if err != nil {
		return err
	}
	ws := max(res.WorldSize, 1)
	inDir := make([]bool, len(keys))
	for i, r := range res.Results {
		for _, p := range r.Placements {
			if p.Tier == string(coordinatorclient.TierL2) && p.Backend == cmp.Backend {
				inDir[i] = true
			}
		}
		switch {
		case inDir[i] && inStore[i]:
			cmp.Both++
		case inDir[i]:
			cmp.DirectoryOnly++
		case inStore[i]:
			cmp.StoreOnly++
		default:
			cmp.Neither++
		}
		if inDir[i] != inStore[i] && len(cmp.Disagreements) < coordDisagreementCap {
			cmp.Disagreements = append(cmp.Disagreements, coordStoreKey{Chunk: i / ws, Rank: i % ws, Key: keys[i], Directory: inDir[i], Store: inStore[i]})
		}
	}
	run := func(has []bool) int {
		n := 0
		for i := 0; i+ws <= len(has); i += ws {
			for r := 0; r < ws; r++ {
				if !has[i+r] {
					return n * ck.ChunkSize
				}
			}
			n++
		}
		return n * ck.ChunkSize
	}
	cmp.StoreHitTokens, cmp.DirectoryTokens = run(inStore), run(inDir)
	v.Store = cmp
	name := storeName(cmp.Source) + " " + cmp.Address
	if cmp.DirectoryOnly > 0 {
		v.find(findDirectoryOnly, "the directory places %d of the prompt's %d keys in %s (L2 %s) that %s does not hold: it missed their delete events, or the store evicted them without telling it", cmp.DirectoryOnly, cmp.Keys, cmp.Backend, cmp.Backend, name)
	}
	if cmp.StoreOnly > 0 {
		v.find(findStoreOnly, "%s holds %d of the prompt's %d keys that the directory does not place in L2 %s: the MP servers do not report their events (--coordinator-event-reporting), or another writer stored them", name, cmp.StoreOnly, cmp.Keys, cmp.Backend)
	}
	if cmp.DirectoryOnly == 0 && cmp.StoreOnly == 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("the directory and %s agree on all %d keys of the prompt (%d in both)", name, cmp.Keys, cmp.Both))
	}
	return nil
}

func writeCoordDoctor(ios *iostreams.IOStreams, v *coordDoctorView) error {
	st := ios.Styles()
	out := safetext.NewWriter(ios.Out)
	label := map[string]string{"ok": st.Hit.Render("OK"), string(doctor.FullHit): st.Hit.Render("OK"), string(doctor.CauseFound): st.Partial.Render("CAUSE"),
		string(doctor.NoCause): st.Miss.Render("NO CAUSE FOUND")}[v.Outcome]
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n\n", label, v.Summary)
	gen := "unknown"
	if v.Generation != nil {
		gen = v.Generation.String()
	}
	fmt.Fprintf(&b, "coordinator %s: generation %s, %s registered\n", v.Coordinator, gen, iostreams.Plural(v.Instances, "MP server"))
	for _, s := range v.Servers {
		var ms []string
		for _, c := range s.Contexts {
			ms = append(ms, fmt.Sprintf("%s (world size %d)", c.ModelName, c.WorldSize))
		}
		fmt.Fprintf(&b, "MP server %s: chunk size %d, hash %s, models %s\n", s.URL, s.ChunkSize, orElse(s.HashAlgorithm, "?"), orElse(strings.Join(ms, ", "), "none"))
	}
	if h := v.Hashing; h != nil && h.Checked > 0 {
		fmt.Fprintf(&b, "hashing: the coordinator resolves %d of %d stored chunks back to their hashes; lmc's blake3 gives %d of %d\n", h.CoordinatorMatches, h.Checked, h.LocalMatches, h.Checked)
	}
	if v.CoordinatorChunks > 0 {
		fmt.Fprintf(&b, "chunk size: the coordinator resolves %d chunks from %d tokens (about %d tokens each)\n", v.CoordinatorChunks, v.ProbeTokens, v.ProbeTokens/v.CoordinatorChunks)
	}
	if l := v.Lookup; l != nil && l.NumChunks > 0 {
		fmt.Fprintf(&b, "prompt: %s in the directory, %d of %d chunks (hash check: %s)\n", percent(l.HitTokens, l.TotalTokens), l.HitChunks, l.NumChunks, l.HashCheck)
	}
	if s := v.Store; s != nil {
		fmt.Fprintf(&b, "store %s: %d of %d keys in both, %d only in the directory, %d only in the store (directory hit %d tokens, store hit %d)\n",
			s.Address, s.Both, s.Keys, s.DirectoryOnly, s.StoreOnly, s.DirectoryTokens, s.StoreHitTokens)
	}
	for _, fd := range v.Findings {
		fmt.Fprintf(&b, "%s %s: %s\n", st.Warn.Render("!"), fd.Kind, fd.Summary)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	if s := v.Store; s != nil && len(s.Disagreements) > 0 {
		fmt.Fprintln(out)
		var rows [][]string
		yes := func(b bool) string {
			if b {
				return st.Hit.Render("yes")
			}
			return st.Miss.Render("no")
		}
		for _, d := range s.Disagreements {
			rows = append(rows, []string{strconv.Itoa(d.Chunk), strconv.Itoa(d.Rank), d.Key, yes(d.Directory), yes(d.Store)})
		}
		return printers.WriteTable(out, styledHeader(st, []string{"CHUNK", "RANK", "KEY", "DIRECTORY", "STORE"}), rows)
	}
	return nil
}

// coordinatorDoctorWanted says whether doctor is the coordinator's: with
// --coordinator, unless it comes from the context while a store is named
// on the command line (then the store doctor runs, as without it).
func coordinatorDoctorWanted(f *Factory, b *BackendFlags) bool {
	if b.Coordinator == "" {
		return false
	}
	if strings.HasPrefix(f.Given.Source("coordinator"), "context ") {
		for _, fl := range []string{"master", "admin"} {
			if src := f.Given.Source(fl); src != "" && !strings.HasPrefix(src, "context ") {
				return false
			}
		}
	}
	return true
}

const coordinatorDoctorHelp = `With --coordinator (LMCache MP mode), doctor checks the MP coordinator: that
it answers and which generation it is; that MP servers are registered; that
it hashes as the fleet does (up to 8 listed keys' tokens resolved back
through the tokens form, and hashed by lmc); that its --chunk-size equals the
MP servers' (--server, whose /status gives chunk size and hash algorithm;
repeat --server to compare servers) from the chunks it resolves of a probe
sequence. With a prompt it looks it up with lmc's chunk hashes (a mismatch is
named), finds rank holes and chunks not stored, and when nothing hits
searches the keys listing for the namespace (model, world size, salt) its
first chunk is stored under. With --master or --admin too, it compares the
directory's L2 mooncake_store placements of the prompt's MP-mode keys with
what the Mooncake store holds and lists every key they disagree on. JSON:
{"outcome", "summary", "coordinator", "generation", "instances", "servers",
"hashing", "probe_tokens", "coordinator_chunks", "lookup", "store":
{"keys", "both", "directory_only", "store_only", "disagreements": [{"chunk",
"rank", "key", "directory", "store"}], ...}, "findings": [{"kind",
"summary"}], "notes", "warnings"}. --worker-id (every rank is checked) and,
without --master, a --tenant other than "default" are refused (exit 2).`
