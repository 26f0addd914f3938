// Storing a prompt in the sandbox the way SGLang or vLLM would: every
// rank's objects of every page or block, through the sandbox master's put
// path (lmc sandbox --populate --engine …), with --writing-chunks and
// --leased-chunks naming pages or blocks.
package commands

import (
	"context"

	"lmc/internal/tokenize/rankhit"
)

// populateEngine stores the objects every rank writes for each page or
// block of tokens, leaving out the dropped chunks, and evicts the memory
// replicas of the evicted ones. The LMCache controller is not told: it
// knows LMCache's chunks only.
func (s *sandbox) populateEngine(ctx context.Context, spec *engineSpec, tokens []uint32, drop, evict map[int]bool, nodes int) (chunks, total, objects int, err error) {
	k, err := spec.keyer()
	if err != nil {
		return 0, 0, 0, err
	}
	// Segments of 512 GiB (metadata only): an engine's every rank at
	// page size 1 stores more objects than 1 GiB holds.
	ns := sandboxNodes(nodes, 1<<39)
	// One Populate call per node and batch: the puts of a batch are
	// pipelined, and a page's objects all land on one node.
	const batch = 8192
	pending := make([][]string, len(ns))
	var evicted []string
	flush := func(i int) error {
		if len(pending[i]) == 0 {
			return nil
		}
		err := s.master.Populate(ctx, pending[i], ns[i])
		pending[i] = pending[i][:0]
		return err
	}
	err = k.each(tokens, rankhit.AllRanks, func(c engineChunk) error {
		total++
		if drop[c.Index] {
			return nil
		}
		chunks++
		objects += len(c.Keys)
		n := c.Index % len(ns)
		pending[n] = append(pending[n], c.Keys...)
		if evict[c.Index] {
			evicted = append(evicted, c.Keys...)
		}
		if len(pending[n]) >= batch {
			return flush(n)
		}
		return ctx.Err()
	})
	for i := range ns {
		if err == nil {
			err = flush(i)
		}
	}
	if err != nil {
		return chunks, total, objects, err
	}
	s.master.EvictMemory(evicted...)
	return chunks, total, objects, nil
}

// applyEngineOps leaves every object of the --writing-chunks pages or
// blocks mid-put and leases those of the --leased-chunks, after
// populateEngine stored the rest (it leaves the writing ones out), on the
// node populateEngine puts each page on.
func (s *sandbox) applyEngineOps(ctx context.Context, o *sandboxOpsFlags, spec *engineSpec, tokens []uint32, nodes int) error {
	if len(o.writing) == 0 && len(o.leased) == 0 {
		return nil
	}
	k, err := spec.keyer()
	if err != nil {
		return err
	}
	ns := sandboxNodes(nodes, 1<<39)
	var leased []string
	err = k.each(tokens, rankhit.AllRanks, func(c engineChunk) error {
		switch {
		case o.writing[c.Index]:
			return s.master.StartPuts(ctx, c.Keys, ns[c.Index%len(ns)])
		case o.leased[c.Index]:
			leased = append(leased, c.Keys...)
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	return s.lease(ctx, leased)
}
