package coordinatorclient_test

import (
	"context"
	"fmt"

	"lmc/internal/coordinatorclient"
	"lmc/internal/coordinatorclient/sandboxcoordinator"
	"lmc/internal/transport"
)

// A lookup as `lmc lookup --coordinator` will make it: the chunk size
// from an MP server's /status, lmc's own hashes as a cross-check, then
// the prefix hit per chunk and rank.
func ExampleClient_Lookup() {
	coord, _ := sandboxcoordinator.Start("")
	defer coord.Close()
	mp, _ := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPInstanceID("server-1"), sandboxcoordinator.WithMPContext("m", 2),
		sandboxcoordinator.WithCoordinator(coord.URL(), "/events"), sandboxcoordinator.WithHeartbeat(0))
	defer mp.Close()
	tokens := make([]uint32, 600)
	for i := range tokens {
		tokens[i] = uint32(i)
	}
	_, _ = mp.Store("l1", tokens, "m", 2, "")          // both ranks of chunks 0 and 1
	_, _ = mp.Store("l2", tokens[:512], "m", 2, "", 0) // rank 0 only: a rank hole in L2
	_, _ = mp.Store("l2", tokens[:256], "m", 2, "", 1) // rank 1 of chunk 0

	tr, _ := transport.New(transport.Options{})
	ctx := context.Background()
	mpPeer, _ := tr.Peer(mp.URL())
	server, _ := coordinatorclient.MPServerFromPeer(mpPeer)
	status, _ := server.Status(ctx)

	peer, _ := tr.Peer(coord.URL())
	c, _ := coordinatorclient.FromPeer(peer)
	hashes, _ := coordinatorclient.MPChunkHashes(tokens, status.ChunkSize)
	res, err := c.Lookup(ctx, coordinatorclient.LookupRequest{
		TokensRequest:     coordinatorclient.TokensRequest{ModelName: "m", WorldSize: 2, TokenIDs: tokens, ChunkSize: status.ChunkSize},
		ExpectChunkHashes: hashes,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range []coordinatorclient.PlacementFilter{{}, {Tier: coordinatorclient.TierL2}} {
		h := res.PrefixHit(f)
		fmt.Printf("%s: %d of %d tokens, per rank %v, holes %v\n", h.Filter, h.Tokens, len(tokens), h.RankTokens, h.Holes)
	}
	for _, h := range res.Holders() {
		fmt.Printf("%s holds %d tokens\n", h, h.Tokens)
	}
	fmt.Println("generation:", c.Generation().Name)
	// Output:
	// (any placement): 512 of 600 tokens, per rank [512 512], holes []
	// tier=l2: 256 of 600 tokens, per rank [512 256], holes [{1 [1]}]
	// server-1 l1/dram holds 512 tokens
	// server-1 l2/fs holds 256 tokens
	// generation: 2026-09-01
}
