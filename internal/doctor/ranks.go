package doctor

import (
	"context"
	"fmt"

	"lmc/internal/tokenize/lmcachekey"
)

// RankTable is per-rank completeness: for every chunk, whether each
// worker's key exists. Without MLA, every TP/PP rank stores its own slice
// of a chunk under its own worker id, and the engine can only use a chunk
// when all of them are there; LMCache's lookup only asks for rank 0's key.
type RankTable struct {
	// WorldSize is the world size in the keys (1 for MLA).
	WorldSize   int         `json:"world_size"`
	Ranks       []int       `json:"ranks"`
	TotalTokens int         `json:"total_tokens"`
	Chunks      []RankChunk `json:"chunks"`
	// RankHitTokens[i] is the prefix hit of Ranks[i] alone.
	RankHitTokens []int `json:"rank_hit_tokens"`
	RankHitChunks []int `json:"rank_hit_chunks"`
	// HitTokens/HitChunks is the effective hit: the leading run of chunks
	// present on every rank.
	HitTokens int `json:"hit_tokens"`
	HitChunks int `json:"hit_chunks"`
}

// RankChunk is one chunk's keys and results, indexed like Ranks.
type RankChunk struct {
	Index int      `json:"index"`
	Start int      `json:"start"`
	End   int      `json:"end"`
	Keys  []string `json:"keys"`
	Hit   []bool   `json:"hit"`
}

// NumChunks is the number of chunks in the table.
func (t *RankTable) NumChunks() int { return len(t.Chunks) }

// AllHit reports a chunk present on every rank.
func (c *RankChunk) AllHit() bool {
	for _, h := range c.Hit {
		if !h {
			return false
		}
	}
	return len(c.Hit) > 0
}

// Full reports that every chunk is present on every rank.
func (t *RankTable) Full() bool { return len(t.Chunks) > 0 && t.HitChunks == len(t.Chunks) }

// RanksFor is the worker ids whose keys a chunk needs: every rank without
// MLA, rank 0 alone with MLA (save_only_first_rank) or world size 1.
func RanksFor(p lmcachekey.Params) []int {
	if p.MLA || p.WorldSize <= 1 {
		if p.MLA {
			return []int{0}
		}
		return []int{p.WorkerID}
	}
	out := make([]int, p.WorldSize)
	for i := range out {
		out[i] = i
	}
	return out
}

// NewRankTable computes every rank's key for every chunk of tokens under p
// (ranks as RanksFor). Keys lists them chunk by chunk, rank by rank.
func NewRankTable(p lmcachekey.Params, tokens []uint32) (*RankTable, error) {
	ranks := RanksFor(p)
	t := &RankTable{WorldSize: p.KeyWorldSize(), Ranks: ranks, TotalTokens: len(tokens), Chunks: []RankChunk{}}
	for ri, r := range ranks {
		q := p
		q.WorkerID = r
		e, err := lmcachekey.NewEngine(q)
		if err != nil {
			return nil, err
		}
		err = e.Each(tokens, func(c lmcachekey.Chunk) error {
			if ri == 0 {
				t.Chunks = append(t.Chunks, RankChunk{Index: c.Index, Start: c.Start, End: c.End, Keys: make([]string, len(ranks)), Hit: make([]bool, len(ranks))})
			}
			t.Chunks[c.Index].Keys[ri] = c.Key
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Keys lists the table's keys, chunk by chunk, rank by rank.
func (t *RankTable) Keys() []string {
	out := make([]string, 0, len(t.Chunks)*len(t.Ranks))
	for _, c := range t.Chunks {
		out = append(out, c.Keys...)
	}
	return out
}

// Fill records results given in the order of Keys and computes the hits.
func (t *RankTable) Fill(exists []bool) error {
	if len(exists) != len(t.Chunks)*len(t.Ranks) {
		return fmt.Errorf("doctor: %d results for %d keys", len(exists), len(t.Chunks)*len(t.Ranks))
	}
	i := 0
	for ci := range t.Chunks {
		for ri := range t.Ranks {
			t.Chunks[ci].Hit[ri] = exists[i]
			i++
		}
	}
	t.compute()
	return nil
}

// FillFrom sets every result from has and computes the hits.
func (t *RankTable) FillFrom(has func(key string) bool) {
	for ci := range t.Chunks {
		for ri := range t.Ranks {
			t.Chunks[ci].Hit[ri] = has(t.Chunks[ci].Keys[ri])
		}
	}
	t.compute()
}

func (t *RankTable) compute() {
	t.RankHitTokens = make([]int, len(t.Ranks))
	t.RankHitChunks = make([]int, len(t.Ranks))
	t.HitTokens, t.HitChunks = 0, 0
	open := make([]bool, len(t.Ranks))
	for i := range open {
		open[i] = true
	}
	all := true
	for ci := range t.Chunks {
		c := &t.Chunks[ci]
		for ri := range t.Ranks {
			if open[ri] && c.Hit[ri] {
				t.RankHitTokens[ri] = c.End
				t.RankHitChunks[ri]++
			} else {
				open[ri] = false
			}
		}
		if all && c.AllHit() {
			t.HitTokens = c.End
			t.HitChunks++
		} else {
			all = false
		}
	}
}

// rankIndex is the position of worker id r in Ranks, or -1.
func (t *RankTable) rankIndex(r int) int {
	for i, x := range t.Ranks {
		if x == r {
			return i
		}
	}
	return -1
}

// MissingByRank lists, for each rank that lacks chunks another rank has, the
// chunk indexes it lacks (among chunks at least one rank holds).
func (t *RankTable) MissingByRank() map[int][]int {
	out := map[int][]int{}
	for _, c := range t.Chunks {
		any := false
		for _, h := range c.Hit {
			any = any || h
		}
		if !any {
			continue
		}
		for ri, h := range c.Hit {
			if !h {
				out[t.Ranks[ri]] = append(out[t.Ranks[ri]], c.Index)
			}
		}
	}
	return out
}

// CheckRanks probes every rank's key of every chunk in one Exist call.
func CheckRanks(ctx context.Context, pr Prober, p lmcachekey.Params, tokens []uint32) (*RankTable, error) {
	t, err := NewRankTable(p, tokens)
	if err != nil {
		return nil, err
	}
	keys := t.Keys()
	if len(keys) == 0 {
		t.compute()
		return t, nil
	}
	ex, err := pr.Exist(ctx, keys)
	if err != nil {
		return nil, err
	}
	return t, t.Fill(ex)
}
