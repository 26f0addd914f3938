// Package rankhit counts prefix hits over the rank fan-out of engines that
// store one or more objects per page or block and per rank (SGLang HiCache,
// vLLM's Mooncake store connector).
//
// A Layout says which of a chunk's keys each rank (or lookup namespace)
// needs; a Tracker consumes existence results chunk by chunk, in prompt
// order, and yields each rank's leading run of complete chunks and their
// minimum — the raw prefix hit both engines start from. It knows nothing of
// key strings, hashes or any engine's adjustments (SGLang's
// prefetch_threshold, vLLM's end-of-prompt rule): those live in the engine
// packages.
package rankhit

import "fmt"

// Select chooses whose keys a chunk carries.
type Select uint8

const (
	// OneRank: the keys of the rank named in the engine's parameters.
	OneRank Select = iota
	// AllRanks: every rank's keys, deduplicated, in rank order.
	AllRanks
	// Lookup: the keys the engine's own lookup checks, in its order (for
	// SGLang the same as AllRanks).
	Lookup
)

func (s Select) String() string {
	switch s {
	case AllRanks:
		return "all-ranks"
	case Lookup:
		return "lookup"
	}
	return "one-rank"
}

// Layout maps the keys of every chunk to the ranks that need them. It is the
// same for every chunk of a prompt.
type Layout struct {
	// Owners names each rank or lookup namespace ("tp1_pp0",
	// "tp_rank:1@pcp0@dcp0@pp_rank:0"), in order.
	Owners []string
	// KeysPerChunk is len(Chunk.Keys) for every chunk.
	KeysPerChunk int
	// Needs[o] lists the indices into Chunk.Keys that owner o needs, in the
	// order it checks them.
	Needs [][]int
}

// Validate checks that every index is in range and every owner needs a key.
func (l *Layout) Validate() error {
	if len(l.Needs) != len(l.Owners) {
		return fmt.Errorf("rankhit: %d owners, %d need lists", len(l.Owners), len(l.Needs))
	}
	for o, need := range l.Needs {
		if len(need) == 0 {
			return fmt.Errorf("rankhit: owner %s needs no key", l.Owners[o])
		}
		for _, k := range need {
			if k < 0 || k >= l.KeysPerChunk {
				return fmt.Errorf("rankhit: owner %s needs key %d of %d", l.Owners[o], k, l.KeysPerChunk)
			}
		}
	}
	return nil
}

// Tracker counts, per owner, the leading chunks whose every needed key is
// present. Feed it chunks in order; it is not safe for concurrent use.
type Tracker struct {
	l       *Layout
	pages   []int  // leading complete chunks per owner
	stopped []bool // owner hit its first incomplete chunk
	live    int    // owners not stopped
	chunks  int    // chunks added
	// holes: chunks after an owner's first miss that are complete again.
	holes []int
}

// NewTracker starts counting for the layout.
func NewTracker(l *Layout) *Tracker {
	return &Tracker{l: l, pages: make([]int, len(l.Owners)), stopped: make([]bool, len(l.Owners)), live: len(l.Owners), holes: make([]int, len(l.Owners))}
}

// Add records one chunk's existence results, present[k] for Chunk.Keys[k]
// (len KeysPerChunk). It reports whether every owner has now stopped, after
// which later chunks cannot change any hit (they only count holes: chunks
// that are complete again after an owner's first miss).
func (t *Tracker) Add(present []bool) (allStopped bool) {
	t.chunks++
	for o, need := range t.l.Needs {
		ok := true
		for _, k := range need {
			if !present[k] {
				ok = false
				break
			}
		}
		switch {
		case !t.stopped[o] && ok:
			t.pages[o]++
		case !t.stopped[o]:
			t.stopped[o] = true
			t.live--
		case ok:
			t.holes[o]++
		}
	}
	return t.live == 0
}

// Chunks is how many chunks were added.
func (t *Tracker) Chunks() int { return t.chunks }

// Pages returns each owner's leading complete chunks (the slice is the
// tracker's; copy it to keep it).
func (t *Tracker) Pages() []int { return t.pages }

// Min is the smallest of Pages: the chunks every owner has (0 with no
// owners).
func (t *Tracker) Min() int {
	if len(t.pages) == 0 {
		return 0
	}
	m := t.pages[0]
	for _, p := range t.pages[1:] {
		m = min(m, p)
	}
	return m
}

// Recovered returns, per owner, the chunks after its first miss that were
// complete again: present objects the engine will not use (no gap skipping).
func (t *Tracker) Recovered() []int { return t.holes }
