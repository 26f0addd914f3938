package coordinatorclient

import (
	"fmt"
	"sort"
	"strings"
)

// PlacementFilter selects placements: a tier ("" or all: any), an
// instance ("" any) and a backend ("" any). Shared pools match any
// instance filter only when SharedCounts is set (a shared pool serves
// every instance).
type PlacementFilter struct {
	Tier       Tier
	InstanceID string
	Backend    string
	// SharedCounts lets shared placements (a fleet-wide S3 bucket, a CXL
	// pool) satisfy an instance filter.
	SharedCounts bool
}

// Match reports whether p passes the filter. Without SharedCounts an
// instance filter compares instance_id exactly, as the coordinator's
// listing does.
func (f PlacementFilter) Match(p Placement) bool {
	if f.Tier != "" && f.Tier != TierAll && string(f.Tier) != p.Tier {
		return false
	}
	if f.Backend != "" && f.Backend != p.Backend {
		return false
	}
	if f.InstanceID != "" && f.InstanceID != p.InstanceID && !(f.SharedCounts && p.Shared) {
		return false
	}
	return true
}

func (f PlacementFilter) String() string {
	var parts []string
	if f.Tier != "" && f.Tier != TierAll {
		parts = append(parts, "tier="+string(f.Tier))
	}
	if f.InstanceID != "" {
		parts = append(parts, "instance="+f.InstanceID)
	}
	if f.Backend != "" {
		parts = append(parts, "backend="+f.Backend)
	}
	if len(parts) == 0 {
		return "(any placement)"
	}
	return strings.Join(parts, ",")
}

// RankCell is one rank's key of a chunk.
type RankCell struct {
	Rank       int         `json:"rank"`
	Key        Key         `json:"key"`
	Placements []Placement `json:"placements"`
	// Hit: at least one placement passes the filter.
	Hit bool `json:"hit"`
}

// ChunkRow is one chunk of a tokens-form lookup with its ranks.
type ChunkRow struct {
	Index int `json:"index"`
	// Start and End are token positions (End exclusive); -1 when the chunk
	// size is unknown.
	Start        int    `json:"start"`
	End          int    `json:"end"`
	ChunkHashHex string `json:"hash"`
	// Hit: every rank hits. Usable: Hit and every earlier chunk hits (the
	// engine uses only the leading run).
	Hit         bool       `json:"hit"`
	Usable      bool       `json:"usable"`
	Ranks       []RankCell `json:"ranks"`
	AccessCount int64      `json:"access_count"`
}

// MissingRanks lists the ranks without a matching placement.
func (r ChunkRow) MissingRanks() []int {
	var out []int
	for _, c := range r.Ranks {
		if !c.Hit {
			out = append(out, c.Rank)
		}
	}
	return out
}

// Rows lays a tokens-form answer out chunk by chunk, rank by rank (the
// results are chunk-major, then rank), marking hits under f.
func (r *LookupResult) Rows(f PlacementFilter) []ChunkRow {
	ws := max(r.WorldSize, 1)
	if !r.ByChunk {
		ws = 1
	}
	rows := make([]ChunkRow, 0, len(r.Results)/ws)
	usable := true
	for i := 0; i+ws <= len(r.Results); i += ws {
		idx := i / ws
		row := ChunkRow{Index: idx, Start: -1, End: -1, ChunkHashHex: strings.ToLower(r.Results[i].Key.ChunkHashHex), Hit: true}
		if r.ChunkSize > 0 && r.ByChunk {
			row.Start, row.End = idx*r.ChunkSize, (idx+1)*r.ChunkSize
		}
		for rank := 0; rank < ws; rank++ {
			res := r.Results[i+rank]
			cell := RankCell{Rank: rank, Key: res.Key, Placements: res.Placements}
			if !r.ByChunk {
				cell.Rank = res.Key.Rank()
			}
			for _, p := range res.Placements {
				if f.Match(p) {
					cell.Hit = true
					break
				}
			}
			row.Hit = row.Hit && cell.Hit
			row.AccessCount += res.AccessCount
			row.Ranks = append(row.Ranks, cell)
		}
		usable = usable && row.Hit
		row.Usable = usable
		rows = append(rows, row)
	}
	return rows
}

// RankHole is a chunk some ranks hold and others do not: the engine
// cannot use it (every rank must hit).
type RankHole struct {
	Chunk        int   `json:"chunk"`
	MissingRanks []int `json:"missing_ranks"`
}

// PrefixHit is the verdict of a tokens-form lookup under a filter.
type PrefixHit struct {
	Filter string `json:"filter"`
	// Chunks is the leading run of chunks every rank holds; Tokens is
	// Chunks × chunk size (0 when the chunk size is unknown).
	Chunks      int `json:"hit_chunks"`
	Tokens      int `json:"hit_tokens"`
	TotalChunks int `json:"num_chunks"`
	// Unusable counts chunks that hit after the first miss.
	Unusable int `json:"unusable_hits"`
	// RankTokens is each rank's own leading run, in tokens (in chunks when
	// the chunk size is unknown).
	RankTokens []int `json:"rank_hit_tokens"`
	// Holes are the chunks some but not all ranks hold.
	Holes []RankHole `json:"rank_holes"`
}

// PrefixHit computes the prefix hit under f (spec §9 "Hit length").
func (r *LookupResult) PrefixHit(f PlacementFilter) PrefixHit {
	rows := r.Rows(f)
	ws := max(r.WorldSize, 1)
	if !r.ByChunk {
		ws = 1
	}
	h := PrefixHit{Filter: f.String(), TotalChunks: len(rows), RankTokens: make([]int, ws), Holes: []RankHole{}}
	rankRun := make([]bool, ws)
	for i := range rankRun {
		rankRun[i] = true
	}
	for _, row := range rows {
		if row.Usable {
			h.Chunks++
		} else if row.Hit {
			h.Unusable++
		}
		missing := row.MissingRanks()
		if len(missing) > 0 && len(missing) < len(row.Ranks) {
			h.Holes = append(h.Holes, RankHole{Chunk: row.Index, MissingRanks: missing})
		}
		for k, c := range row.Ranks {
			if k < ws {
				rankRun[k] = rankRun[k] && c.Hit
				if rankRun[k] {
					h.RankTokens[k]++
				}
			}
		}
	}
	unit := 1
	if r.ChunkSize > 0 && r.ByChunk {
		unit = r.ChunkSize
		h.Tokens = h.Chunks * unit
	}
	for k := range h.RankTokens {
		h.RankTokens[k] *= unit
	}
	return h
}

// Holder is one place a prefix can be served from: an instance's tier
// and backend, or a shared pool.
type Holder struct {
	InstanceID string `json:"instance_id"` // "" for a shared pool
	Tier       string `json:"tier"`
	Backend    string `json:"backend"`
	Shared     bool   `json:"shared"`
	// Chunks is the leading run of chunks this holder has for every rank.
	Chunks int `json:"hit_chunks"`
	Tokens int `json:"hit_tokens"`
}

func (h Holder) String() string {
	if h.Shared {
		return fmt.Sprintf("shared %s/%s", h.Tier, h.Backend)
	}
	return fmt.Sprintf("%s %s/%s", h.InstanceID, h.Tier, h.Backend)
}

// Holders lists, for every (instance, tier, backend) and shared pool seen
// in the answer, its own leading run — "server-1 holds 512 tokens in
// l1/dram, 256 in l2/fs" — longest first.
func (r *LookupResult) Holders() []Holder {
	type id struct {
		inst, tier, backend string
		shared              bool
	}
	set := map[id]bool{}
	for _, res := range r.Results {
		for _, p := range res.Placements {
			k := id{p.InstanceID, p.Tier, p.Backend, p.Shared}
			if p.Shared {
				k.inst = ""
			}
			set[k] = true
		}
	}
	var out []Holder
	for k := range set {
		h := Holder{InstanceID: k.inst, Tier: k.tier, Backend: k.backend, Shared: k.shared}
		f := func(p Placement) bool {
			return p.Tier == k.tier && p.Backend == k.backend && p.Shared == k.shared && (k.shared || p.InstanceID == k.inst)
		}
		ws := max(r.WorldSize, 1)
		if !r.ByChunk {
			ws = 1
		}
	chunks:
		for i := 0; i+ws <= len(r.Results); i += ws {
			for rank := 0; rank < ws; rank++ {
				found := false
				for _, p := range r.Results[i+rank].Placements {
					if f(p) {
						found = true
						break
					}
				}
				if !found {
					break chunks
				}
			}
			h.Chunks++
		}
		if r.ByChunk {
			h.Tokens = h.Chunks * max(r.ChunkSize, 0)
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Chunks != out[j].Chunks {
			return out[i].Chunks > out[j].Chunks
		}
		return out[i].String() < out[j].String()
	})
	return out
}
