// What a Mooncake store holds, for 'lmc store summary|ls|segments': keys
// grouped by the key schema they were written under (LMCache's through
// doctor's key parser, SGLang's and vLLM's through enginekey:
// storeenginekeys.go), replicas by tier and segment, and the segments with capacity,
// usage, status and the client that mounts them. Built on the admin API's
// lease-free listing and lookups (storescan.go) and segment routes; the
// RPC only resolves client ids to IPs. Everything is counted while the
// listing streams: memory does not grow with the store.
package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/doctor"
	"lmc/internal/mooncake"
	"lmc/internal/safetext"
)

// Bounds of a summary: distinct key groups kept apart (the rest are counted
// together), examples kept per group for the era inference, examples of
// unrecognised keys and of replicas on no known segment.
const (
	maxKeyGroups     = 1000
	groupExamples    = 8
	maxOtherExamples = 3
)

// Tier names, as lookup shows them.
const (
	tierMemory    = "memory"
	tierNoF       = "nof"
	tierDisk      = "disk"
	tierLocalDisk = "local_disk"
)

var storeTiers = []string{tierMemory, tierNoF, tierDisk, tierLocalDisk}

// storeKeyInfo is what a stored key says about its writer: LMCache's keys
// fill KeyInfo, SGLang's and vLLM's Eng (and Model when the key carries
// it).
type storeKeyInfo struct {
	Engine string
	doctor.KeyInfo
	Eng *engineKeyInfo
}

// classifyStoreKey reads a key in any format lmc recognises: LMCache's, of
// every era, through doctor's parser, then SGLang HiCache's and vLLM's (and
// vllm-ascend's) own connectors' through enginekey, in that order, as
// doctor's inventory does; ok is false for others. It is the one place
// 'lmc store' recognises keys. Ranks outside what lmc's flags accept (world
// size 1..4096, worker id 0..4095) are not a recognised LMCache key
// (doctor.ParseKey refuses them).
func classifyStoreKey(key string) (storeKeyInfo, bool) {
	if k, ok := doctor.ParseKey(key); ok {
		return storeKeyInfo{Engine: "lmcache", KeyInfo: k}, true
	}
	return engineStoreKey(key)
}

// ---- segments ----

// segmentView is one segment of 'lmc store segments' and the summary.
type segmentView struct {
	Name          string   `json:"name"`
	ID            string   `json:"id"`
	ClientID      string   `json:"client_id"`
	ClientIPs     []string `json:"client_ips,omitempty"`
	Endpoint      string   `json:"endpoint"`
	Protocol      string   `json:"protocol"`
	BaseAddress   string   `json:"base_address"`
	SizeBytes     uint64   `json:"size_bytes"`
	Status        string   `json:"status"`
	UsedBytes     uint64   `json:"used_bytes"`
	CapacityBytes uint64   `json:"capacity_bytes"`
	FreeBytes     uint64   `json:"free_bytes"`
	UsagePercent  float64  `json:"usage_percent"`
	// Replicas and ReplicaBytes count what the key walk located here
	// (summary only).
	Replicas     *int64  `json:"replicas,omitempty"`
	ReplicaBytes *uint64 `json:"replica_bytes,omitempty"`
}

func newSegmentView(s mooncake.SegmentInfo) segmentView {
	return segmentView{Name: s.Name, ID: s.ID.String(), ClientID: s.ClientID.String(), Endpoint: s.TEEndpoint, Protocol: s.Protocol,
		BaseAddress: fmt.Sprintf("0x%x", s.Base), SizeBytes: s.Size, Status: s.Status.String(), UsedBytes: s.UsedBytes,
		CapacityBytes: s.CapacityBytes, FreeBytes: s.FreeBytes(), UsagePercent: s.UsagePercent}
}

type segmentTotals struct {
	Segments      int    `json:"segments"`
	Clients       int    `json:"clients"`
	UsedBytes     uint64 `json:"used_bytes"`
	CapacityBytes uint64 `json:"capacity_bytes"`
	FreeBytes     uint64 `json:"free_bytes"`
}

type segmentsView struct {
	Admin    string        `json:"admin"`
	Master   string        `json:"master,omitempty"`
	Segments []segmentView `json:"segments"`
	Total    segmentTotals `json:"total"`
	Notes    []string      `json:"notes,omitempty"`
}

// usedNote is why used bytes can exceed what the keys hold (§4.6).
const usedNote = "used bytes include replicas moved away but not yet released (--put_start_release_timeout_sec, 600 s by default): to tell whether a segment is empty, look at key placement ('lmc store summary'), not usage"

// storeInventory holds what the store commands ask: the admin API (always),
// the master (client IPs only).
type storeInventory struct {
	f      *Factory
	adm    *mooncake.Admin
	admURL string
	scan   *storeScan
	master *mooncake.Client
	addr   string
}

// openStoreInventory builds the admin clients for --admin (required) and
// dials --master when given.
func (f *Factory) openStoreInventory(ctx context.Context, b *BackendFlags) (*storeInventory, error) {
	if b.Admin == "" {
		return nil, &UsageError{Err: errors.New("--admin URL is required: what a store holds is listed by the master's admin API (e.g. http://HOST:9003), which grants no leases; no RPC lists keys or segments without leasing them")}
	}
	if b.Tenant != mooncake.DefaultTenant {
		return nil, &UsageError{Err: fmt.Errorf("--tenant %q: the admin API lists the default tenant only", b.Tenant)}
	}
	adm, err := f.adminClient(b.Admin)
	if err != nil {
		return nil, err
	}
	inv := &storeInventory{f: f, adm: adm, admURL: adm.BaseURL()}
	if inv.scan, err = f.newStoreScan(b.Admin); err != nil {
		return nil, err
	}
	if b.Master != "" {
		if inv.addr, err = normalizeMaster(b.Master); err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--master: %w", err)}
		}
		if inv.master, err = f.dialMaster(ctx, inv.addr, b.Tenant); err != nil {
			return nil, f.withLeaderHint(ctx, adm, err)
		}
	}
	return inv, nil
}

func (inv *storeInventory) close() {
	if inv.master != nil {
		inv.master.Close()
	}
}

// segments lists the segments (sorted by name) and, with --master, their
// clients' IPs.
func (inv *storeInventory) segments(ctx context.Context) ([]mooncake.SegmentInfo, segmentsView, error) {
	cctx, cancel := context.WithTimeout(ctx, inv.f.Timeout)
	defer cancel()
	segs, err := inv.adm.SegmentList(cctx)
	if err != nil {
		return nil, segmentsView{}, inv.f.withLeaderHint(ctx, inv.adm, inv.f.adminErr(inv.admURL, err))
	}
	slices.SortFunc(segs, func(a, b mooncake.SegmentInfo) int { return cmp.Compare(a.Name, b.Name) })
	v, ids := buildSegmentsView(segs)
	v.Admin, v.Master = inv.admURL, inv.addr
	if inv.master != nil && len(ids) > 0 {
		start := time.Now()
		ips, err := inv.master.BatchQueryIP(cctx, ids)
		inv.f.logRPC("BatchQueryIp", inv.addr, mooncake.DefaultTenant, 0, start, err)
		switch {
		case mooncake.Unsupported(err):
			v.Notes = append(v.Notes, fmt.Sprintf("Mooncake master %s does not serve BatchQueryIp (too old): client IPs not shown", inv.addr))
		case err != nil:
			return nil, v, inv.f.masterErr(inv.addr, err)
		default:
			for i, s := range segs {
				if l, ok := ips[s.ClientID]; ok {
					v.Segments[i].ClientIPs = l
				}
			}
		}
	}
	return segs, v, nil
}

// buildSegmentsView is the view of segs and the distinct clients that
// mount them.
func buildSegmentsView(segs []mooncake.SegmentInfo) (segmentsView, []mooncake.UUID) {
	v := segmentsView{Segments: make([]segmentView, len(segs)), Notes: []string{usedNote}}
	clients := map[mooncake.UUID]bool{}
	var ids []mooncake.UUID
	for i, s := range segs {
		v.Segments[i] = newSegmentView(s)
		v.Total.UsedBytes += s.UsedBytes
		v.Total.CapacityBytes += s.CapacityBytes
		v.Total.FreeBytes += s.FreeBytes()
		if !clients[s.ClientID] {
			clients[s.ClientID] = true
			ids = append(ids, s.ClientID)
		}
	}
	v.Total.Segments, v.Total.Clients = len(segs), len(clients)
	return v, ids
}

func writeSegments(f *Factory, fm printers.Format, v segmentsView) error {
	switch fm {
	case printers.JSON:
		return printers.WriteJSON(f.Out(), v)
	case printers.Plain:
		rows := make([][]string, len(v.Segments))
		for i, s := range v.Segments {
			rows[i] = []string{s.Name, s.Status, strconv.FormatUint(s.UsedBytes, 10), strconv.FormatUint(s.CapacityBytes, 10), s.ClientID, s.Endpoint}
		}
		return printers.WritePlain(f.Out(), rows)
	}
	st := f.IOStreams.Styles()
	wide := fm == printers.Wide
	header := []string{"SEGMENT", "STATUS", "USED", "CAPACITY", "FREE", "USE%", "CLIENT", "IPS"}
	if wide {
		header = append(header, "ENDPOINT", "PROTOCOL", "BASE", "ID")
	}
	rows := make([][]string, len(v.Segments))
	for i, s := range v.Segments {
		status := s.Status
		if s.Status != mooncake.SegmentOK.String() {
			status = st.Warn.Render(status)
		}
		rows[i] = []string{s.Name, status, printers.Bytes(s.UsedBytes), printers.Bytes(s.CapacityBytes), printers.Bytes(s.FreeBytes),
			strconv.FormatFloat(s.UsagePercent, 'f', 1, 64), s.ClientID, strings.Join(s.ClientIPs, ",")}
		if wide {
			rows[i] = append(rows[i], s.Endpoint, s.Protocol, s.BaseAddress, s.ID)
		}
	}
	if err := printers.WriteTable(f.Out(), styledHeader(st, header), rows); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s: %s used of %s (%s free)\n", iostreams.Plural(v.Total.Segments, "segment"), iostreams.Plural(v.Total.Clients, "client"),
		printers.Bytes(v.Total.UsedBytes), printers.Bytes(v.Total.CapacityBytes), printers.Bytes(v.Total.FreeBytes))
	for _, n := range v.Notes {
		b.WriteString(st.Muted.Render("note: "+n) + "\n")
	}
	_, err := io.WriteString(f.Out(), safetext.EscapeText(b.String()))
	return err
}

// ---- summary ----

type workerCount struct {
	WorkerID int   `json:"worker_id"`
	Keys     int64 `json:"keys"`
}

// keyGroupView is a set of keys written under one schema with the same
// parameters (everything but the chunk, page or block hash and the worker
// id or rank). Field names are a contract: add, never rename.
type keyGroupView struct {
	Engine string `json:"engine"`
	// Format is the key layout: for LMCache doctor's names (current,
	// 2025-11, 2025-09, decimal, mp), KeySchemas the LMCache eras that
	// write it; for SGLang "hicache", for vLLM "store-connector" (V1-V3),
	// "ascend" (vllm-ascend A0-A3) or "v0", KeySchemas the eras every key
	// of the group fits.
	Format     string   `json:"format"`
	KeySchemas []string `json:"key_schemas"`
	// Model is as the keys carry it: LMCache's --model, vLLM's last path
	// component of --model; "" for SGLang (see Prefix).
	Model string `json:"model"`
	// WorldSize is LMCache's; 0 for SGLang and vLLM, whose keys carry
	// ranks but no TP or PP size (see Ranks).
	WorldSize  int      `json:"world_size"`
	DType      string   `json:"dtype,omitempty"`
	HashKind   string   `json:"hash_kind"`
	Algorithms []string `json:"algorithms"`
	CacheSalt  string   `json:"cache_salt,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Keys       int64    `json:"keys"`
	// Workers counts LMCache keys per worker id ([] for other engines).
	Workers []workerCount `json:"workers"`
	Example string        `json:"example"`
	// SGLang and vLLM: Writer names the connector and eras; Layout the
	// objects (SGLang mha: K and V per TP rank, mla: one per page,
	// mha-or-mla: "_N_k" objects only, hybrid:<pool>, warmup; vLLM kv, or
	// vllm-ascend's cache role); Prefix SGLang's key prefix (extra backend
	// tag and/or served model name with "/" -> "-") or vLLM's
	// cache_prefix; Ranks the keys per rank as lookup names ranks
	// ("tp1_pp0", "all", "tp_rank:1@pcp0@dcp0@pp_rank:0"; "(other)" past
	// the bound).
	Writer       string         `json:"writer,omitempty"`
	Layout       string         `json:"layout,omitempty"`
	Prefix       string         `json:"prefix,omitempty"`
	HashBytes    int            `json:"hash_bytes,omitempty"`
	KVCacheGroup int            `json:"kv_cache_group,omitempty"`
	Ranks        []rankKeysView `json:"ranks,omitempty"`
}

type tierView struct {
	Tier     string `json:"tier"`
	Keys     int64  `json:"keys"`
	Replicas int64  `json:"replicas"`
	Bytes    uint64 `json:"bytes"`
}

type unrecognisedView struct {
	Keys     int64    `json:"keys"`
	Examples []string `json:"examples"`
}

type unlocatedView struct {
	Replicas  int64    `json:"replicas"`
	Bytes     uint64   `json:"bytes"`
	Endpoints []string `json:"endpoints,omitempty"`
}

// storeSummaryView is the JSON of 'lmc store summary'.
type storeSummaryView struct {
	Admin  string `json:"admin"`
	Master string `json:"master,omitempty"`
	// Keys is how many keys the listing had (default tenant, keys with a
	// readable replica); Vanished how many were gone by their lookup (the
	// walk is not a snapshot); Unreadable how many the lookup could not
	// answer for (being written, or a key /batch_query_keys cannot carry).
	Keys       int64 `json:"keys"`
	Vanished   int64 `json:"vanished"`
	Unreadable int64 `json:"unreadable"`
	// Schemas are the recognised key groups, most keys first; keys of
	// groups beyond the first 1000 are counted in OtherGroupKeys.
	Schemas        []keyGroupView   `json:"schemas"`
	OtherGroupKeys int64            `json:"other_group_keys,omitempty"`
	Unrecognised   unrecognisedView `json:"unrecognised"`
	Tiers          []tierView       `json:"tiers"`
	Segments       []segmentView    `json:"segments"`
	SegmentTotal   segmentTotals    `json:"segment_total"`
	Unlocated      unlocatedView    `json:"unlocated"`
	ElapsedMs      int64            `json:"elapsed_ms"`
	Notes          []string         `json:"notes,omitempty"`
}

// keyGroup accumulates one group while the walk runs.
type keyGroup struct {
	view     keyGroupView
	workers  map[int]int64
	examples []string
	hexEx    string       // a key whose hash has a hex letter (decides 2025-09 vs decimal)
	eng      *engineGroup // SGLang and vLLM groups
}

// summarizer counts a walk.
type summarizer struct {
	v      storeSummaryView
	groups map[string]*keyGroup
	ranks  int // rank labels counted over all engine groups
	tiers  map[string]*tierView
	index  *mooncake.SegmentIndex
	perSeg map[string]*segmentView
}

func newSummarizer(segs []mooncake.SegmentInfo, sv segmentsView) *summarizer {
	s := &summarizer{groups: map[string]*keyGroup{}, tiers: map[string]*tierView{}, index: mooncake.NewSegmentIndex(segs), perSeg: map[string]*segmentView{}}
	s.v.Unrecognised.Examples = []string{}
	s.v.Segments = sv.Segments
	s.v.SegmentTotal = sv.Total
	for i := range s.v.Segments {
		sg := &s.v.Segments[i]
		var n int64
		var b uint64
		sg.Replicas, sg.ReplicaBytes = &n, &b
		s.perSeg[sg.Name] = sg
	}
	for _, t := range storeTiers {
		s.tiers[t] = &tierView{Tier: t}
	}
	return s
}

func (s *summarizer) add(q mooncake.KeyQuery) {
	s.v.Keys++
	if !q.OK {
		if st, _ := keyState(q); st == stateAbsent {
			s.v.Vanished++
		} else {
			s.v.Unreadable++
		}
		return
	}
	s.addKey(q.Key)
	s.addReplicas(q)
}

func (s *summarizer) addKey(key string) {
	k, ok := classifyStoreKey(key)
	if !ok {
		s.v.Unrecognised.Keys++
		if len(s.v.Unrecognised.Examples) < maxOtherExamples {
			s.v.Unrecognised.Examples = append(s.v.Unrecognised.Examples, key)
		}
		return
	}
	if k.Eng != nil {
		s.addEngineKey(key, k)
		return
	}
	format := strings.TrimSuffix(k.Format, "?")
	id := strings.Join([]string{k.Engine, k.Model, format, strconv.Itoa(k.WorldSize), k.DType, strings.Join(k.Tags, "@"), k.HashKind, k.CacheSalt}, "\x00")
	g := s.groups[id]
	if g == nil {
		if len(s.groups) >= maxKeyGroups {
			s.v.OtherGroupKeys++
			return
		}
		g = &keyGroup{view: keyGroupView{Engine: k.Engine, Format: format, Model: k.Model, WorldSize: k.WorldSize, DType: k.DType,
			HashKind: k.HashKind, CacheSalt: k.CacheSalt, Tags: k.Tags, Example: key}, workers: map[int]int64{}}
		s.groups[id] = g
	}
	g.view.Keys++
	g.workers[k.WorkerID]++
	if len(g.examples) < groupExamples-1 {
		g.examples = append(g.examples, key)
	}
	if g.hexEx == "" && k.HexLetter {
		g.hexEx = key
	}
}

// addEngineKey counts an SGLang or vLLM key into its group.
func (s *summarizer) addEngineKey(key string, k storeKeyInfo) {
	e := k.Eng
	g := s.groups[e.Group]
	if g == nil {
		if len(s.groups) >= maxKeyGroups {
			s.v.OtherGroupKeys++
			return
		}
		g = &keyGroup{view: keyGroupView{Engine: k.Engine, Format: e.Format, Model: k.Model, Algorithms: e.Algorithms, Example: key,
			Writer: e.Writer, Prefix: e.Prefix, HashBytes: e.HashBytes, KVCacheGroup: e.KVCacheGroup}, eng: &engineGroup{info: *e}}
		s.groups[e.Group] = g
	}
	g.view.Keys++
	g.addEngine(e, &s.ranks)
}

func (s *summarizer) tier(name string, n int, bytes uint64) {
	if n == 0 {
		return
	}
	t := s.tiers[name]
	t.Keys++
	t.Replicas += int64(n)
	t.Bytes += bytes
}

func (s *summarizer) addReplicas(q mooncake.KeyQuery) {
	var mb, nb, db, lb uint64
	for _, b := range q.Values {
		mb += b.Size
		s.locate(b)
	}
	for _, b := range q.NoFValues {
		nb += b.Size
		s.locate(b)
	}
	for _, d := range q.DiskValues {
		db += d.ObjectSize
	}
	for _, d := range q.LocalDiskValues {
		lb += d.ObjectSize
	}
	s.tier(tierMemory, len(q.Values), mb)
	s.tier(tierNoF, len(q.NoFValues), nb)
	s.tier(tierDisk, len(q.DiskValues), db)
	s.tier(tierLocalDisk, len(q.LocalDiskValues), lb)
}

func (s *summarizer) locate(b mooncake.BufferDescriptor) {
	if sg, ok := s.index.Locate(b); ok {
		if v := s.perSeg[sg.Name]; v != nil {
			*v.Replicas++
			*v.ReplicaBytes += b.Size
			return
		}
	}
	u := &s.v.Unlocated
	u.Replicas++
	u.Bytes += b.Size
	if len(u.Endpoints) < maxOtherExamples && !slices.Contains(u.Endpoints, b.TransportEndpoint) {
		u.Endpoints = append(u.Endpoints, b.TransportEndpoint)
	}
}

// finish turns the counts into the view: groups sorted by keys, with the
// LMCache eras and algorithms doctor infers from their examples.
func (s *summarizer) finish() storeSummaryView {
	v := s.v
	v.Schemas = []keyGroupView{}
	for _, g := range s.groups {
		if g.eng != nil {
			gv := g.view
			g.finishEngine(&gv)
			if gv.Algorithms == nil {
				gv.Algorithms = []string{}
			}
			gv.Workers = []workerCount{}
			v.Schemas = append(v.Schemas, gv)
			continue
		}
		ex := g.examples
		if g.hexEx != "" && !slices.Contains(ex, g.hexEx) {
			ex = append(ex, g.hexEx)
		}
		gv := g.view
		if inv := doctor.Infer(ex); len(inv.Groups) > 0 {
			ig := inv.Groups[0]
			gv.Format, gv.KeySchemas, gv.Algorithms = ig.Format, ig.Schemas, ig.Algorithms
			if ig.Format == "decimal" && g.hexEx != "" {
				gv.Format = "2025-09" // a hex letter was seen: not the decimal eras
			}
		}
		if gv.KeySchemas == nil {
			gv.KeySchemas = []string{}
		}
		if gv.Algorithms == nil {
			gv.Algorithms = []string{}
		}
		for w, n := range g.workers {
			gv.Workers = append(gv.Workers, workerCount{WorkerID: w, Keys: n})
		}
		slices.SortFunc(gv.Workers, func(a, b workerCount) int { return cmp.Compare(a.WorkerID, b.WorkerID) })
		v.Schemas = append(v.Schemas, gv)
	}
	slices.SortFunc(v.Schemas, func(a, b keyGroupView) int {
		return cmp.Or(cmp.Compare(b.Keys, a.Keys), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Format, b.Format), cmp.Compare(a.Example, b.Example))
	})
	for _, t := range storeTiers {
		v.Tiers = append(v.Tiers, *s.tiers[t])
	}
	if v.OtherGroupKeys > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("more than %d distinct key groups: the keys of the others are counted in other_group_keys", maxKeyGroups))
	}
	if v.Unlocated.Replicas > 0 {
		v.Notes = append(v.Notes, "some memory replicas lie on no segment the master lists (their endpoint and address match none): the segment was unmounted during the walk, or the master's answers disagree")
	}
	v.Notes = append(v.Notes, "the admin API lists the default tenant only, and only keys with a readable replica (keys in the middle of a put are not listed)", usedNote)
	return v
}

// summary walks the whole store.
func (inv *storeInventory) summary(ctx context.Context) (storeSummaryView, error) {
	start := time.Now()
	segs, sv, err := inv.segments(ctx)
	if err != nil {
		return storeSummaryView{}, err
	}
	s := newSummarizer(segs, sv)
	s.v.Admin, s.v.Master = inv.admURL, inv.addr
	prog := inv.f.IOStreams.StartProgress("keys walked")
	err = inv.scan.replicas(ctx, func(q mooncake.KeyQuery) error {
		prog.Add(1)
		s.add(q)
		return nil
	})
	prog.Stop()
	if err != nil {
		return storeSummaryView{}, err
	}
	v := s.finish()
	v.ElapsedMs = time.Since(start).Milliseconds()
	return v, nil
}

func writeSummary(f *Factory, fm printers.Format, v storeSummaryView) error {
	if fm == printers.JSON {
		return printers.WriteJSON(f.Out(), v)
	}
	if fm == printers.Plain {
		var rows [][]string
		rows = append(rows, []string{"keys", strconv.FormatInt(v.Keys, 10)})
		for _, g := range v.Schemas {
			rows = append(rows, []string{"schema", g.Engine, g.Format, g.Model, strconv.Itoa(g.WorldSize), g.DType, g.CacheSalt, strconv.FormatInt(g.Keys, 10)})
		}
		rows = append(rows, []string{"unrecognised", strconv.FormatInt(v.Unrecognised.Keys, 10)})
		for _, t := range v.Tiers {
			rows = append(rows, []string{"tier", t.Tier, strconv.FormatInt(t.Replicas, 10), strconv.FormatUint(t.Bytes, 10)})
		}
		for _, s := range v.Segments {
			rows = append(rows, []string{"segment", s.Name, s.Status, strconv.FormatInt(*s.Replicas, 10), strconv.FormatUint(s.UsedBytes, 10), strconv.FormatUint(s.CapacityBytes, 10)})
		}
		return printers.WritePlain(f.Out(), rows)
	}
	st := f.IOStreams.Styles()
	out := f.Out()
	var b strings.Builder
	fmt.Fprintf(&b, "%s in the default tenant (%s)", iostreams.Plural(int(v.Keys), "key"), v.Admin)
	if v.Vanished > 0 || v.Unreadable > 0 {
		fmt.Fprintf(&b, "; %d vanished during the walk, %d unreadable", v.Vanished, v.Unreadable)
	}
	b.WriteString("\n\n")
	if _, err := io.WriteString(out, safetext.EscapeText(b.String())); err != nil {
		return err
	}
	b.Reset()
	rows := [][]string{}
	for _, g := range v.Schemas {
		workers := make([]string, 0, len(g.Workers)+len(g.Ranks))
		for _, w := range g.Workers {
			workers = append(workers, fmt.Sprintf("%d:%d", w.WorkerID, w.Keys))
		}
		for _, r := range g.Ranks {
			workers = append(workers, fmt.Sprintf("%s:%d", r.Rank, r.Keys))
		}
		name, world := g.Model, strconv.Itoa(g.WorldSize)
		if g.Engine != "lmcache" {
			name, world = engineGroupName(g), "-"
		}
		rows = append(rows, []string{g.Engine, g.Format, g.Layout, strings.Join(g.KeySchemas, ","), name, world, strings.Join(limitList(workers, 8), " "),
			g.DType, strings.Join(g.Algorithms, ","), g.CacheSalt, strconv.FormatInt(g.Keys, 10)})
	}
	if v.OtherGroupKeys > 0 {
		rows = append(rows, []string{"(other groups)", "", "", "", "", "", "", "", "", "", strconv.FormatInt(v.OtherGroupKeys, 10)})
	}
	rows = append(rows, []string{"(unrecognised)", "", "", "", "", "", "", "", "", "", strconv.FormatInt(v.Unrecognised.Keys, 10)})
	if err := printers.WriteTable(out, styledHeader(st, []string{"ENGINE", "FORMAT", "LAYOUT", "ERA", "MODEL", "WORLD", "RANK:KEYS", "DTYPE", "HASH", "MP SALT", "KEYS"}), rows); err != nil {
		return err
	}
	if len(v.Unrecognised.Examples) > 0 {
		fmt.Fprintf(&b, "%s %s\n", st.Muted.Render("unrecognised, e.g.:"), strings.Join(v.Unrecognised.Examples, "  "))
	}
	b.WriteString("\n")
	if _, err := io.WriteString(out, safetext.EscapeText(b.String())); err != nil {
		return err
	}
	b.Reset()
	rows = [][]string{}
	for _, t := range v.Tiers {
		if t.Replicas == 0 && t.Tier != tierMemory {
			continue
		}
		rows = append(rows, []string{t.Tier, strconv.FormatInt(t.Keys, 10), strconv.FormatInt(t.Replicas, 10), printers.Bytes(t.Bytes)})
	}
	if err := printers.WriteTable(out, styledHeader(st, []string{"TIER", "KEYS", "REPLICAS", "BYTES"}), rows); err != nil {
		return err
	}
	io.WriteString(out, "\n")
	rows = [][]string{}
	for _, s := range v.Segments {
		rows = append(rows, []string{s.Name, s.Status, strconv.FormatInt(*s.Replicas, 10), printers.Bytes(*s.ReplicaBytes), printers.Bytes(s.UsedBytes), printers.Bytes(s.CapacityBytes),
			printers.Bytes(s.FreeBytes), s.ClientID, strings.Join(s.ClientIPs, ",")})
	}
	if v.Unlocated.Replicas > 0 {
		rows = append(rows, []string{"(no known segment)", "", strconv.FormatInt(v.Unlocated.Replicas, 10), printers.Bytes(v.Unlocated.Bytes), "", "", "", strings.Join(v.Unlocated.Endpoints, ","), ""})
	}
	if err := printers.WriteTable(out, styledHeader(st, []string{"SEGMENT", "STATUS", "REPLICAS", "REPLICA BYTES", "USED", "CAPACITY", "FREE", "CLIENT", "IPS"}), rows); err != nil {
		return err
	}
	for _, n := range v.Notes {
		b.WriteString(st.Muted.Render("note: "+n) + "\n")
	}
	_, err := io.WriteString(out, safetext.EscapeText(b.String()))
	return err
}

// ---- ls ----

// storeLsFilter selects keys for 'lmc store ls'.
type storeLsFilter struct {
	Match   string
	Model   string
	Tier    string
	Segment string
	Sort    bool
}

type lsReplicaView struct {
	Tier     string `json:"tier"`
	Segment  string `json:"segment,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Size     uint64 `json:"size"`
	Path     string `json:"path,omitempty"`
}

// lsEntry is one key of 'lmc store ls' (one JSON line with -o jsonl).
type lsEntry struct {
	Key      string          `json:"key"`
	Engine   string          `json:"engine,omitempty"`
	Model    string          `json:"model,omitempty"`
	Format   string          `json:"format,omitempty"`
	WorkerID *int            `json:"worker_id,omitempty"`
	Replicas []lsReplicaView `json:"replicas"`
	Error    string          `json:"error,omitempty"`
	// SGLang and vLLM keys: the rank as lookup names it ("tp1_pp0", "all",
	// "tp_rank:1@pcp0@dcp0@pp_rank:0"; "?N" for an SGLang "_N_k" object,
	// TP rank N of MHA or PP stage N of MLA), the key prefix and the
	// object family (kv, kv-mla, hybrid:<pool>, warmup; vLLM kv).
	Rank   string `json:"rank,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Layout string `json:"layout,omitempty"`
}

var storeLsFormats = []printers.Format{printers.Table, printers.Wide, printers.Plain, printers.JSONL}

// ls streams the keys that pass the filter.
func (inv *storeInventory) ls(ctx context.Context, fm printers.Format, fl storeLsFilter) error {
	f := inv.f
	var re *mooncake.KeyRegexp
	if fl.Match != "" {
		var err error
		re, err = mooncake.CompileKeyRegexp(fl.Match)
		if err != nil {
			return &UsageError{Err: fmt.Errorf("--match: %v (lmc matches keys as the master's RemoveByRegex does)", err)}
		}
	}
	if fl.Tier != "" && !slices.Contains(storeTiers, fl.Tier) {
		return &UsageError{Err: fmt.Errorf("--tier %q: use one of %s", fl.Tier, strings.Join(storeTiers, ", "))}
	}
	placement := fm != printers.Plain || fl.Tier != "" || fl.Segment != ""
	var index *mooncake.SegmentIndex
	if placement {
		segs, _, err := inv.segments(ctx)
		if err != nil {
			return err
		}
		if fl.Segment != "" && !slices.ContainsFunc(segs, func(s mooncake.SegmentInfo) bool { return s.Name == fl.Segment }) {
			return unknownSegment("--segment", fl.Segment, segmentNames(segs))
		}
		index = mooncake.NewSegmentIndex(segs)
	}
	if src := f.Given.Source("model"); fl.Model != "" && strings.HasPrefix(src, "context ") {
		fmt.Fprintf(f.IOStreams.ErrOut, "--model %s from %s: listing only that model's keys (--model '' lists all)\n", safetext.EscapeText(fl.Model), src)
	}
	w := &lsWriter{f: f, fm: fm, sort: fl.Sort}
	keep := func(key string) (storeKeyInfo, bool, bool) {
		if re != nil && !re.MatchKey(key) {
			return storeKeyInfo{}, false, false
		}
		k, ok := classifyStoreKey(key)
		if fl.Model != "" && (!ok || !modelMatches(k, fl.Model)) {
			return k, ok, false
		}
		return k, ok, true
	}
	var err error
	if !placement {
		err = inv.scan.keys(ctx, func(key string) error {
			k, ok, pass := keep(key)
			if !pass {
				return nil
			}
			return w.add(entryOf(key, k, ok))
		})
	} else {
		err = inv.scan.replicas(ctx, func(q mooncake.KeyQuery) error {
			k, ok, pass := keep(q.Key)
			if !pass {
				return nil
			}
			e := entryOf(q.Key, k, ok)
			e.Replicas = lsReplicas(q, index)
			if !q.OK {
				e.Error = q.Error
			}
			if fl.Tier != "" && !slices.ContainsFunc(e.Replicas, func(r lsReplicaView) bool { return r.Tier == fl.Tier }) {
				return nil
			}
			if fl.Segment != "" && !slices.ContainsFunc(e.Replicas, func(r lsReplicaView) bool { return r.Segment == fl.Segment }) {
				return nil
			}
			return w.add(e)
		})
	}
	if err != nil {
		return err
	}
	if err := w.finish(); err != nil {
		return err
	}
	if f.IOStreams.ShowHints() {
		fmt.Fprintf(f.IOStreams.ErrOut, "%s listed\n", iostreams.Plural(w.n, "key"))
	}
	return nil
}

func entryOf(key string, k storeKeyInfo, ok bool) lsEntry {
	e := lsEntry{Key: key, Replicas: []lsReplicaView{}}
	switch {
	case ok && k.Eng != nil:
		e.Engine, e.Model, e.Format, e.Rank, e.Prefix, e.Layout = k.Engine, k.Model, k.Eng.Format, k.Eng.Rank, k.Eng.Prefix, k.Eng.Family
	case ok:
		w := k.WorkerID
		e.Engine, e.Model, e.Format, e.WorkerID = k.Engine, k.Model, strings.TrimSuffix(k.Format, "?"), &w
	}
	return e
}

func lsReplicas(q mooncake.KeyQuery, index *mooncake.SegmentIndex) []lsReplicaView {
	out := []lsReplicaView{}
	mem := func(tier string, bs []mooncake.BufferDescriptor) {
		for _, b := range bs {
			r := lsReplicaView{Tier: tier, Endpoint: b.TransportEndpoint, Size: b.Size}
			if sg, ok := index.Locate(b); ok {
				r.Segment = sg.Name
			}
			out = append(out, r)
		}
	}
	mem(tierMemory, q.Values)
	mem(tierNoF, q.NoFValues)
	for _, d := range q.DiskValues {
		out = append(out, lsReplicaView{Tier: tierDisk, Size: d.ObjectSize, Path: d.FilePath})
	}
	for _, d := range q.LocalDiskValues {
		out = append(out, lsReplicaView{Tier: tierLocalDisk, Endpoint: d.TransportEndpoint, Size: d.ObjectSize})
	}
	return out
}

// lsWriter prints entries as they come (tables a batch at a time), or holds
// them for --sort.
type lsWriter struct {
	f      *Factory
	fm     printers.Format
	sort   bool
	n      int
	held   []lsEntry
	header bool
}

func (w *lsWriter) add(e lsEntry) error {
	w.n++
	if w.sort || w.fm == printers.Table || w.fm == printers.Wide {
		w.held = append(w.held, e)
		if !w.sort && len(w.held) >= scanBatch {
			return w.flush()
		}
		return nil
	}
	return w.write([]lsEntry{e})
}

func (w *lsWriter) flush() error {
	err := w.write(w.held)
	w.held = w.held[:0]
	return err
}

func (w *lsWriter) finish() error {
	if w.sort {
		slices.SortFunc(w.held, func(a, b lsEntry) int { return cmp.Compare(a.Key, b.Key) })
	}
	if len(w.held) == 0 {
		return nil
	}
	return w.flush()
}

func (w *lsWriter) write(es []lsEntry) error {
	out := w.f.Out()
	switch w.fm {
	case printers.JSONL:
		for _, e := range es {
			if err := printers.WriteJSONLine(out, e); err != nil {
				return err
			}
		}
		return nil
	case printers.Plain:
		rows := make([][]string, len(es))
		for i, e := range es {
			rows[i] = []string{e.Key}
		}
		return printers.WritePlain(out, rows)
	}
	st := w.f.IOStreams.Styles()
	rows := make([][]string, len(es))
	for i, e := range es {
		var tiers, segs, eps []string
		for _, r := range e.Replicas {
			if !slices.Contains(tiers, r.Tier) {
				tiers = append(tiers, r.Tier)
			}
			if r.Segment != "" && !slices.Contains(segs, r.Segment) {
				segs = append(segs, r.Segment)
			}
			if r.Path != "" {
				eps = append(eps, r.Path)
			} else if r.Endpoint != "" {
				eps = append(eps, r.Endpoint)
			}
		}
		worker, model := e.Rank, e.Model
		if e.WorkerID != nil {
			worker = strconv.Itoa(*e.WorkerID)
		}
		if model == "" && e.Prefix != "" {
			model = "prefix " + e.Prefix
		}
		if e.Error != "" {
			tiers = append(tiers, "("+e.Error+")")
		}
		rows[i] = []string{e.Key, model, worker, strings.Join(tiers, ","), strings.Join(segs, ",")}
		if w.fm == printers.Wide {
			rows[i] = append(rows[i], e.Format, strings.Join(eps, ","))
		}
	}
	var header []string
	if !w.header {
		w.header = true
		header = []string{"KEY", "MODEL", "WORKER/RANK", "TIERS", "SEGMENTS"}
		if w.fm == printers.Wide {
			header = append(header, "FORMAT", "WHERE")
		}
		header = styledHeader(st, header)
	}
	return printers.WriteTable(out, header, rows)
}
