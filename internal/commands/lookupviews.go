// lookup's views (JSON field names are a contract) and their table, plain
// and JSON printers.
package commands

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/controllerclient"
)

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
	// MissingRanks (--engine sglang|vllm): the ranks or lookup namespaces
	// lacking an object of the page or block.
	MissingRanks []string `json:"missing_ranks,omitempty"`
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
	engineLookupFields
}

type lookupBatchView struct {
	Source  string             `json:"source"`
	Backend string             `json:"backend"`
	Params  any                `json:"params,omitempty"`
	Prompts []lookupPromptView `json:"prompts"`
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

// rankStatusView is one worker id's key of a chunk (lookup --all-ranks).
type rankStatusView struct {
	Rank   int    `json:"rank"`
	Key    string `json:"key"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// hitAllRanks reports a chunk that exists for the looked-up worker and, with
// --all-ranks, for every other rank too.
func (c *lookupChunkView) hitAllRanks() bool {
	if c.Status != "hit" {
		return false
	}
	for _, r := range c.Ranks {
		if r.Status != "hit" {
			return false
		}
	}
	return true
}

func ranksText(c lookupChunkView) string {
	var miss []string
	for _, r := range c.Ranks {
		if r.Status != "hit" {
			miss = append(miss, strconv.Itoa(r.Rank))
		}
	}
	s := fmt.Sprintf("%d/%d", len(c.Ranks)-len(miss), len(c.Ranks))
	if len(miss) > 0 {
		s += " (missing " + strings.Join(miss, ",") + ")"
	}
	return s
}

// hitGate decides a lookup's exit code: it collects the prompts below
// --min-hit and the store's per-key errors.
type hitGate struct {
	flag   string // --min-hit's text, "" when not given
	min    float64
	misses []string

	// keyErrors counts keys the store answered with an error (neither hit
	// nor miss); firstError describes the first.
	keyErrors, keys int
	firstError      string
	backend         string
}

// storeName names a store lookup's source for messages.
func storeName(source string) string {
	switch source {
	case "admin":
		return "Mooncake admin API"
	case "master+admin":
		return "Mooncake master and admin API"
	}
	return "Mooncake master"
}

// checkErrors counts a prompt's per-key errors, every rank's included.
func (g *hitGate) checkErrors(v lookupPromptView) {
	if g == nil {
		return
	}
	g.backend = storeName(v.Source) + " " + v.Backend
	name := v.ID
	if name == "" {
		name = "prompt " + strconv.Itoa(v.Index)
	}
	if v.Engine != "" {
		g.checkEngineErrors(name, &v)
		return
	}
	for _, c := range v.Chunks {
		g.keys++
		if c.Status == statusError {
			g.keyErrors++
			if g.firstError == "" {
				g.firstError = fmt.Sprintf("%s chunk %d: %s", name, c.Index, c.Error)
			}
		}
		for _, r := range c.Ranks {
			if r.Key == c.Key {
				continue // the looked-up rank: the chunk's own status, counted above
			}
			g.keys++
			if r.Status == statusError {
				g.keyErrors++
				if g.firstError == "" {
					g.firstError = fmt.Sprintf("%s chunk %d rank %d: %s", name, c.Index, r.Rank, r.Error)
				}
			}
		}
	}
}

func (g *hitGate) check(id string, index, hit, total int) {
	if g == nil || g.flag == "" {
		return
	}
	share := 0.0
	if total > 0 {
		share = float64(hit) / float64(total)
	}
	if share < g.min {
		name := id
		if name == "" {
			name = "prompt " + strconv.Itoa(index)
		}
		g.misses = append(g.misses, fmt.Sprintf("%s: %s", name, percent(hit, total)))
	}
}

// verdict is exit 1 when the store answered errors for keys (the hit
// cannot be trusted), else exit 4 when a prompt was below --min-hit.
func (g *hitGate) verdict() error {
	if g == nil {
		return nil
	}
	if g.keyErrors > 0 {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s answered an error for %d of %d keys (%s): neither hit nor miss, so the hit cannot be trusted (each chunk's error is in -o json)", g.backend, g.keyErrors, g.keys, g.firstError)}
	}
	if len(g.misses) == 0 {
		return nil
	}
	return &ExitError{Code: ExitBelow, Err: fmt.Errorf("below --min-hit %s: %s", g.flag, strings.Join(g.misses, "; "))}
}

// lookupPrinter renders one kind of lookup result: jsonl and plain stream
// as results arrive, table and json are written by finish.
type lookupPrinter[T any] interface {
	emit(T) error
	finish() error
}

// printTarget is where a printer writes: data to w (stdout, the --jq
// buffer or a --watch frame), warnings to the streams' stderr.
type printTarget struct {
	w      io.Writer
	ios    *iostreams.IOStreams
	format printers.Format
	stamp  string // --watch: the round's time, added to each view
	gate   *hitGate
}

// storePrinter prints store lookups.
type storePrinter struct {
	printTarget
	args      []string // the command line, for the doctor hint
	placement bool
	params    any // *lmcachekey.ParamsView, or an engine's params view
	prompts   []lookupPromptView
}

func (sp *storePrinter) emit(v lookupPromptView) error {
	v.Time = sp.stamp
	sp.gate.check(v.ID, v.Index, v.HitTokens, v.TotalTokens)
	sp.gate.checkErrors(v)
	if v.Unusable > 0 {
		warnHoles(sp.ios, v)
	}
	return printers.Stream(sp.w, sp.format, v, func() error { return printers.WritePlain(sp.w, storeRows(v)) }, &sp.prompts)
}

// zeroHitHint points a terminal user whose prompt hit nothing to doctor,
// with the same flags.
func zeroHitHint(ios *iostreams.IOStreams, args []string, prompts []lookupPromptView) {
	if !ios.ShowHints() || len(prompts) != 1 || prompts[0].NumChunks == 0 || prompts[0].HitChunks > 0 || prompts[0].Unusable > 0 {
		return
	}
	warn(ios, []string{"no chunk of this prompt is in the store. If it should be, a key setting may differ from the engine's (seed, hash, chunk size, key format, dtype, ranks); doctor searches for it:\n  " + doctorCommand(args)})
}

// doctorCommand is the lookup's command line as a doctor command: the key,
// input and store flags kept, lookup's own dropped.
func doctorCommand(args []string) string {
	drop := map[string]bool{"--watch": false, "--placement": false, "--all-ranks": false, "--min-hit": true, "--interval": true, "--concurrency": true, "-o": true, "--output": true, "--jq": true}
	out := []string{"lmc", "doctor"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if i == 0 && a == "lookup" {
			continue
		}
		name, _, hasValue := strings.Cut(a, "=")
		if takesValue, ok := drop[name]; ok {
			if takesValue && !hasValue {
				i++
			}
			continue
		}
		if strings.ContainsAny(a, " '\"$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func (sp *storePrinter) finish() error {
	if sp.format == printers.Table || sp.format == printers.Wide {
		defer zeroHitHint(sp.ios, sp.args, sp.prompts)
	}
	return printers.WriteKept(sp.w, sp.format, sp.prompts,
		func(v lookupPromptView) any {
			return struct {
				lookupPromptView
				Params any `json:"params"`
			}{v, sp.params}
		},
		func(vs []lookupPromptView) any {
			src, backend := "", ""
			if len(vs) > 0 {
				src, backend = vs[0].Source, vs[0].Backend
			}
			return lookupBatchView{Source: src, Backend: backend, Params: sp.params, Prompts: vs}
		},
		func() error {
			wide := sp.format == printers.Wide
			return writeStoreTable(sp.w, sp.ios.Styles(), sp.placement, wide, wide || !sp.ios.IsStdoutTTY(), sp.prompts)
		})
}

// controllerPrinter prints controller lookups.
type controllerPrinter struct {
	printTarget
	views []controllerLookupView
	seen  *seenInstances // --watch: instances of earlier rounds
}

// seenInstances remembers, across --watch rounds, every instance that has
// answered, so one whose hit falls to 0 (the controller then leaves it
// out) keeps its row with 0.
type seenInstances struct {
	mu    sync.Mutex
	order []controllerclient.InstanceHit
}

func (s *seenInstances) fill(v *controllerLookupView) {
	s.mu.Lock()
	defer s.mu.Unlock()
	have := map[string]bool{}
	for _, in := range v.Instances {
		have[in.InstanceID] = true
		if !slices.ContainsFunc(s.order, func(o controllerclient.InstanceHit) bool { return o.InstanceID == in.InstanceID }) {
			s.order = append(s.order, controllerclient.InstanceHit{InstanceID: in.InstanceID, Location: in.Location})
		}
	}
	for _, o := range s.order {
		if !have[o.InstanceID] {
			v.Instances = append(v.Instances, controllerclient.InstanceHit{InstanceID: o.InstanceID, Location: o.Location})
		}
	}
}

func (cp *controllerPrinter) emit(v controllerLookupView) error {
	v.Time = cp.stamp
	if cp.seen != nil {
		cp.seen.fill(&v)
	}
	cp.gate.check(v.ID, v.Index, v.HitTokens, v.TotalTokens)
	return printers.Stream(cp.w, cp.format, v, func() error { return printers.WritePlain(cp.w, controllerRows(v)) }, &cp.views)
}

func (cp *controllerPrinter) finish() error {
	return printers.WriteKept(cp.w, cp.format, cp.views,
		func(v controllerLookupView) any { return v },
		func(vs []controllerLookupView) any { return map[string]any{"source": "controller", "prompts": vs} },
		func() error { return writeControllerTable(cp.w, cp.ios.Styles(), cp.views) })
}

func warnHoles(ios *iostreams.IOStreams, v lookupPromptView) {
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
	warn(ios, []string{fmt.Sprintf("%s %s after the first miss (chunk %d): the engine cannot use %s and will recompute %s", iostreams.Plural(v.Unusable, "chunk"), verb, first, pron, pron)})
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

func storeRows(v lookupPromptView) [][]string {
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
		if len(v.RankHits) > 1 {
			row = append(row, engineRanksText(c, len(v.RankHits)))
		}
		if v.ID != "" {
			row = append([]string{v.ID}, row...)
		}
		rows = append(rows, row)
	}
	return rows
}

func controllerRows(v controllerLookupView) [][]string {
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

// batchSummary is the line under a batch's table: how many prompts, how
// much of their tokens hit, and how many hit fully and not at all.
func batchSummary(prompts []lookupPromptView) string {
	var total, hit, full, none int
	for _, p := range prompts {
		total += p.TotalTokens
		hit += p.HitTokens
		switch {
		case p.NumChunks > 0 && p.HitChunks == p.NumChunks:
			full++
		case p.HitChunks == 0:
			none++
		}
	}
	return fmt.Sprintf("%s: hit %s; %d fully hit, %d not at all", iostreams.Plural(len(prompts), "prompt"), percent(hit, total), full, none)
}

// writeStoreTable prints store lookups. wide adds the full keys; full
// (wide, or not a terminal) leaves hashes uncut.
func writeStoreTable(out io.Writer, st *iostreams.Styles, placement, wide, full bool, prompts []lookupPromptView) error {
	if len(prompts) > 1 {
		header := []string{"PROMPT", "TOKENS", "HIT", "CHUNKS", "SHARE"}
		var rows [][]string
		for _, p := range prompts {
			name := p.ID
			if name == "" {
				name = strconv.Itoa(p.Index)
			}
			share := 0.0
			if p.TotalTokens > 0 {
				share = float64(p.HitTokens) / float64(p.TotalTokens)
			}
			rows = append(rows, []string{name, strconv.Itoa(p.TotalTokens), strconv.Itoa(p.HitTokens), fmt.Sprintf("%d/%d", p.HitChunks, p.NumChunks), st.HitBar(p.HitTokens, p.TotalTokens, 10) + fmt.Sprintf(" %5.1f%%", 100*share)})
		}
		if err := printers.WriteTable(out, styledHeader(st, header), rows); err != nil {
			return err
		}
		_, err := fmt.Fprintln(out, batchSummary(prompts))
		return err
	}
	for _, p := range prompts {
		header := []string{strings.ToUpper(chunkWordOf(p.Engine)), "TOKENS", "HASH", "STATUS"}
		if wide {
			header = []string{strings.ToUpper(chunkWordOf(p.Engine)), "TOKENS", "HASH", "KEY", "STATUS"}
		}
		if placement {
			header = append(header, "REPLICAS")
		}
		ranks := len(p.Chunks) > 0 && len(p.Chunks[0].Ranks) > 0 || len(p.RankHits) > 1
		if ranks {
			header = append(header, "RANKS")
		}
		var rows [][]string
		for _, c := range p.Chunks {
			hash := c.Hash
			if !full {
				hash = iostreams.Truncate(hash, 13)
			}
			row := []string{strconv.Itoa(c.Index), fmt.Sprintf("%d-%d", c.Start, c.End), hash, styleStatus(st, c)}
			if wide {
				row = []string{strconv.Itoa(c.Index), fmt.Sprintf("%d-%d", c.Start, c.End), hash, c.Key, styleStatus(st, c)}
			}
			if placement {
				if wide {
					row = append(row, replicasText(c.Replicas))
				} else {
					row = append(row, replicasCompact(c.Replicas))
				}
			}
			switch {
			case len(p.RankHits) > 1:
				row = append(row, engineRanksText(c, len(p.RankHits)))
			case ranks:
				row = append(row, ranksText(c))
			}
			rows = append(rows, row)
		}
		if len(rows) > 0 {
			if err := printers.WriteTable(out, styledHeader(st, header), rows); err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("hit %s, %d of %d %ss", percent(p.HitTokens, p.TotalTokens), p.HitChunks, p.NumChunks, chunkWordOf(p.Engine))
		if p.NumChunks == 0 {
			summary = fmt.Sprintf("nothing to look up: the prompt's %s are fewer than one %s (only full ones are stored unless the engine saves partial ones)", iostreams.Plural(p.TotalTokens, "token"), chunkWordOf(p.Engine))
		}
		if p.Unusable > 0 {
			summary += fmt.Sprintf("; %d more after the first miss (HIT*, unusable)", p.Unusable)
		}
		if _, err := fmt.Fprintln(out, st.HitBar(p.HitTokens, p.TotalTokens, 20)+"  "+summary); err != nil {
			return err
		}
		if es := engineSummary(p); es != "" {
			if _, err := fmt.Fprintln(out, es); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeControllerTable(out io.Writer, st *iostreams.Styles, vs []controllerLookupView) error {
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
					name = strconv.Itoa(v.Index)
				}
				row = append([]string{name}, row...)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) > 0 {
		if err := printers.WriteTable(out, styledHeader(st, header), rows); err != nil {
			return err
		}
	}
	if !batch && len(vs) == 1 {
		v := vs[0]
		_, err := fmt.Fprintf(out, "%s  best hit %s on %s\n", st.HitBar(v.HitTokens, v.TotalTokens, 20), percent(v.HitTokens, v.TotalTokens), iostreams.Plural(len(v.Instances), "instance"))
		return err
	}
	return nil
}
