// Package keyslab carves key strings and key slices out of shared blocks, so
// that an engine producing millions of object keys (SGLang at page size 1
// fans out 2 × TP objects per token) allocates per block, not per key or per
// chunk.
//
// Text is appended once and never written again: a string handed out shares
// its block with its neighbours and keeps the block alive, so a caller that
// keeps one key of a long prompt keeps up to one block (64 KiB). It is not
// safe for concurrent use.
package keyslab

import "unsafe"

const (
	textBlock = 64 << 10
	listBlock = 4096
)

// Slab hands out immutable strings and []string slices.
type Slab struct {
	text []byte   // current text block; bytes before len are handed out
	list []string // current list block
}

// Begin returns an empty buffer with room for n bytes, at the end of the
// current text block (a new block when it lacks room). Append at most n
// bytes to it, then pass it to Commit before the next Begin.
func (s *Slab) Begin(n int) []byte {
	if cap(s.text)-len(s.text) < n {
		s.text = make([]byte, 0, max(textBlock, n))
	}
	return s.text[len(s.text):len(s.text)]
}

// Commit turns what was appended to the buffer of the last Begin into a
// string and moves past it. b must be that buffer, grown within its room.
func (s *Slab) Commit(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(b) == 0 || &b[:1][0] != &s.text[:len(s.text)+1][len(s.text)] {
		panic("keyslab: Commit of a buffer that is not the last Begin's")
	}
	s.text = s.text[:len(s.text)+len(b)]
	return unsafe.String(&b[0], len(b))
}

// Strings returns a new zeroed []string of length n (capacity n: appending to
// it reallocates, so it never runs into its neighbour).
func (s *Slab) Strings(n int) []string {
	if n == 0 {
		return nil
	}
	if cap(s.list)-len(s.list) < n {
		s.list = make([]string, 0, max(listBlock, n))
	}
	i := len(s.list)
	s.list = s.list[:i+n]
	return s.list[i : i+n : i+n]
}
