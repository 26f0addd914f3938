package coordinatorclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Chunked lays a keys-form answer out like a tokens-form one, for
// `lookup --by-keys`: the keys must be chunk-major, then rank, as
// ChunkKeys makes them (world size worldSize, every rank of a chunk with
// one hash), and from position 0 on. chunkSize, when known, gives Rows
// their token positions.
func (r *LookupResult) Chunked(worldSize, chunkSize int) error {
	if worldSize < 1 || len(r.Results)%worldSize != 0 {
		return fmt.Errorf("%d results are not whole chunks of world size %d", len(r.Results), worldSize)
	}
	for i, res := range r.Results {
		rank := i % worldSize
		if res.Key.KVRank != KVRank(worldSize, rank) {
			return fmt.Errorf("key %d (%s) is not rank %d of world size %d", i, res.Key, rank, worldSize)
		}
		if first := r.Results[i-rank].Key; !strings.EqualFold(first.ChunkHashHex, res.Key.ChunkHashHex) || first.ModelName != res.Key.ModelName || first.CacheSalt != res.Key.CacheSalt {
			return fmt.Errorf("key %d is not of the same chunk as key %d", i, i-rank)
		}
	}
	r.WorldSize, r.Chunks, r.ByChunk = worldSize, len(r.Results)/worldSize, true
	if chunkSize > 0 {
		r.ChunkSize = chunkSize
	}
	return nil
}

// TierTotals are placements and bytes per tier.
type TierTotals struct {
	L1Count, L1SizeBytes, L2Count, L2SizeBytes int64
	// FromStats: read from /directory/stats (PR #4800); otherwise summed
	// over the keys listing.
	FromStats bool
}

// TierTotals reads the per-tier totals from /directory/stats, or, on
// coordinators without them, sums the keys listing (spec §9).
func (c *Client) TierTotals(ctx context.Context) (*TierTotals, error) {
	st, err := c.DirectoryStats(ctx)
	if err != nil {
		return nil, err
	}
	if st.L1Count != nil && st.L2Count != nil && st.L1SizeBytes != nil && st.L2SizeBytes != nil {
		return &TierTotals{L1Count: *st.L1Count, L1SizeBytes: *st.L1SizeBytes, L2Count: *st.L2Count, L2SizeBytes: *st.L2SizeBytes, FromStats: true}, nil
	}
	t := &TierTotals{}
	_, err = c.EachKey(ctx, KeysQuery{Limit: 10000}, func(k KeyEntry) error {
		for _, p := range k.Placements {
			switch p.Tier {
			case string(TierL1):
				t.L1Count, t.L1SizeBytes = t.L1Count+1, t.L1SizeBytes+p.SizeBytes
			case string(TierL2):
				t.L2Count, t.L2SizeBytes = t.L2Count+1, t.L2SizeBytes+p.SizeBytes
			}
		}
		return nil
	})
	return t, err
}

// HashingCheck is the result of VerifyHashing.
type HashingCheck struct {
	// Checked keys had their chunk's tokens (num_tokens > 0).
	Checked int `json:"checked"`
	// CoordinatorMatches: the coordinator resolved the key's tokens (as
	// chunk 0, with the key's model, salt and world size) back to the
	// key's hash — it hashes as the fleet does. Only chunks stored at
	// position 0 can match, so 0 of a few is the signal, not 1 of many.
	CoordinatorMatches int `json:"coordinator_matches"`
	// LocalMatches: lmc's blake3 chain (MPChunkHashes) gives the key's
	// hash for the same tokens.
	LocalMatches int `json:"local_matches"`
	// ChunkSizes are the token counts seen (one, normally: the fleet's).
	ChunkSizes []int    `json:"chunk_sizes"`
	Notes      []string `json:"notes,omitempty"`
}

// VerifyHashing is the doctor check of spec §9: take up to maxKeys listed
// keys with tokens, fetch their tokens (keys form), send them back through
// the tokens form and compare the hashes, and hash them locally too.
func (c *Client) VerifyHashing(ctx context.Context, maxKeys int) (*HashingCheck, error) {
	if maxKeys <= 0 {
		maxKeys = 8
	}
	var keys []Key
	errEnough := errors.New("enough")
	_, err := c.EachKey(ctx, KeysQuery{Limit: min(1000, max(maxKeys*4, 16))}, func(k KeyEntry) error {
		if k.NumTokens > 0 {
			keys = append(keys, k.Key)
		}
		if len(keys) >= maxKeys {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	hc := &HashingCheck{ChunkSizes: []int{}}
	if len(keys) == 0 {
		hc.Notes = append(hc.Notes, "no listed key has tokens: the MP servers do not stamp token ids (or nothing is stored)")
		return hc, nil
	}
	res, err := c.Lookup(ctx, LookupRequest{Keys: keys})
	if err != nil {
		return nil, err
	}
	sizes := map[int]bool{}
	otherChunks := false
	for _, r := range res.Results {
		toks := r.TokenIDs
		if len(toks) == 0 {
			continue
		}
		hc.Checked++
		if !sizes[len(toks)] {
			sizes[len(toks)] = true
			hc.ChunkSizes = append(hc.ChunkSizes, len(toks))
		}
		want := strings.ToLower(r.Key.Normalized().ChunkHashHex)
		if local, err := MPChunkHashes(toks, len(toks)); err == nil && len(local) == 1 && local[0] == want {
			hc.LocalMatches++
		}
		// No chunk size is asked for: a coordinator whose --chunk-size
		// differs resolves another number of chunks, which is the finding,
		// not a bad answer.
		back, err := c.Lookup(ctx, LookupRequest{TokensRequest: TokensRequest{ModelName: r.Key.ModelName, WorldSize: max(r.Key.WorldSize(), 1),
			TokenIDs: toks, CacheSalt: r.Key.CacheSalt}})
		if err != nil {
			var hm *HashMismatchError
			if errors.As(err, &hm) {
				continue
			}
			return nil, err
		}
		if back.Chunks != 1 && !otherChunks {
			otherChunks = true
			hc.Notes = append(hc.Notes, fmt.Sprintf("the coordinator resolves %d chunks from a stored chunk's %d tokens: its --chunk-size is not the MP servers'", back.Chunks, len(toks)))
		}
		if back.Chunks == 1 && strings.EqualFold(back.Results[0].Key.ChunkHashHex, want) {
			hc.CoordinatorMatches++
		}
	}
	if len(hc.ChunkSizes) > 1 {
		hc.Notes = append(hc.Notes, fmt.Sprintf("chunks of %v tokens: MP servers with different --chunk-size report to this coordinator", hc.ChunkSizes))
	}
	return hc, nil
}
