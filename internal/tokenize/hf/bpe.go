package hf

import (
	"hash/maphash"
	"strconv"
	"unicode/utf8"
)

// bpeModel is the BPE model of tokenizers: merges applied by rank over the
// characters of a word (for byte-level tokenizers, the characters standing
// for its bytes), with unknown-character handling (byte fallback, unk, fused
// unk).
type bpeModel struct {
	vocab        map[string]uint32
	vocabLen     int
	merges       map[uint64]uint64 // (left<<32 | right) -> (rank<<32 | new id)
	numMerges    int
	unkToken     string
	unkID        int64 // -1: no unk token; -2: unk token not in the vocabulary
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix

	// byteLevel: words arrive as raw bytes and each byte stands for the
	// character byteChar(b). byteIDs[v][b] is the id of that character's
	// token in position variant v (see byteVariant), or -1.
	byteLevel bool
	byteIDs   [4][256]int32
	// fallbackIDs[b] is the id of "<0xHH>", or -1.
	fallbackIDs [256]int32
	hasAllFall  bool
}

// byteChar is GPT-2's byte-to-unicode table: printable Latin-1 bytes map
// to themselves, the others to U+0100 onwards in byte order (0x00-0x20,
// then 0x7F-0xA0, then 0xAD). It is computed, not a table built when the
// program starts.
func byteChar(b byte) rune {
	switch {
	case b <= 0x20:
		return 256 + rune(b)
	case b >= 0x7F && b <= 0xA0:
		return 256 + 33 + rune(b-0x7F)
	case b == 0xAD:
		return 256 + 67
	}
	return rune(b)
}

// charByte inverts byteChar.
func charByte(r rune) (byte, bool) {
	switch {
	case r < 0 || r > 256+67:
		return 0, false
	case r >= 256:
		n := byte(r - 256)
		switch {
		case n <= 0x20:
			return n, true
		case n <= 66:
			return 0x7F + n - 33, true
		}
		return 0xAD, true
	case r <= 0x20 || r >= 0x7F && r <= 0xA0 || r == 0xAD:
		return 0, false // such bytes are written as U+0100 onwards
	}
	return byte(r), true
}

func byteVariant(first, last bool) int {
	v := 0
	if !first {
		v |= 1
	}
	if last {
		v |= 2
	}
	return v
}

// affix returns the vocabulary string of a character in a word position.
func (m *bpeModel) affix(s string, first, last bool) string {
	if !first && m.prefix != "" {
		s = m.prefix + s
	}
	if last && m.suffix != "" {
		s += m.suffix
	}
	return s
}

func (m *bpeModel) init() {
	for b := 0; b < 256; b++ {
		id, ok := m.vocab["<0x"+hexByte(byte(b))+">"]
		if ok {
			m.fallbackIDs[b] = int32(id)
		} else {
			m.fallbackIDs[b] = -1
		}
	}
	if m.byteLevel {
		for v := 0; v < 4; v++ {
			for b := 0; b < 256; b++ {
				s := m.affix(string(byteChar(byte(b))), v&1 == 0, v&2 != 0)
				if id, ok := m.vocab[s]; ok {
					m.byteIDs[v][b] = int32(id)
				} else {
					m.byteIDs[v][b] = -1
				}
			}
		}
	}
}

func hexByte(b byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// word is the scratch state of one merge_word call.
type word struct {
	c    []uint32
	prev []int32
	next []int32
	dead []bool
	heap []mergeEntry
}

type mergeEntry struct {
	key   uint64 // rank<<32 | pos: the heap is ordered on rank, then position
	newID uint32
}

func (w *word) reset() {
	w.c = w.c[:0]
	w.prev = w.prev[:0]
	w.next = w.next[:0]
	w.dead = w.dead[:0]
	w.heap = w.heap[:0]
}

// grow makes room for n symbols (the heap grows as it fills, in the
// merge loop that looks at the context).
func (w *word) grow(n int) {
	if cap(w.c) < n {
		w.c = make([]uint32, 0, n)
		w.prev = make([]int32, 0, n)
		w.next = make([]int32, 0, n)
		w.dead = make([]bool, 0, n)
	}
}

func (w *word) add(id uint32) {
	n := int32(len(w.c))
	w.c = append(w.c, id)
	w.prev = append(w.prev, n-1)
	w.next = append(w.next, n+1)
	w.dead = append(w.dead, false)
}

func (w *word) push(e mergeEntry) {
	h := append(w.heap, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].key <= h[i].key {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	w.heap = h
}

func (w *word) pop() mergeEntry {
	h := w.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		s := l
		if r := l + 1; r < len(h) && h[r].key < h[l].key {
			s = r
		}
		if h[i].key <= h[s].key {
			break
		}
		h[i], h[s] = h[s], h[i]
		i = s
	}
	w.heap = h
	return top
}

// mergeAll applies the merges as tokenizers' Word::merge_all does: a
// min-heap on (rank, position); an entry is stale when its symbol is gone,
// is last, or the pair there no longer merges into the entry's new id.
// A long word takes a while (an 8 MiB word, seconds): cn is polled every
// pollEvery/64 heap pops.
func (m *bpeModel) mergeAll(cn *canceller, w *word) error {
	n := len(w.c)
	if n < 2 {
		return nil
	}
	pops := 0
	w.next[n-1] = -1
	for i := 0; i+1 < n; i++ {
		if i&(pollEvery-1) == pollEvery-1 {
			if err := cn.poll(pollEvery); err != nil {
				return err
			}
		}
		if v, ok := m.merges[uint64(w.c[i])<<32|uint64(w.c[i+1])]; ok {
			w.push(mergeEntry{key: v&^0xFFFFFFFF | uint64(i), newID: uint32(v)})
		}
	}
	for len(w.heap) > 0 {
		if pops++; pops == pollEvery/64 {
			pops = 0
			if err := cn.poll(pollEvery); err != nil {
				return err
			}
		}
		top := w.pop()
		pos := int32(top.key & 0xFFFFFFFF)
		if w.dead[pos] {
			continue
		}
		nx := w.next[pos]
		if nx == -1 {
			continue
		}
		v, ok := m.merges[uint64(w.c[pos])<<32|uint64(w.c[nx])]
		if !ok || uint32(v) != top.newID {
			continue
		}
		w.c[pos] = top.newID
		w.dead[nx] = true
		nn := w.next[nx]
		w.next[pos] = nn
		if nn >= 0 {
			w.prev[nn] = pos
		}
		if p := w.prev[pos]; p >= 0 {
			if v, ok := m.merges[uint64(w.c[p])<<32|uint64(w.c[pos])]; ok {
				w.push(mergeEntry{key: v&^0xFFFFFFFF | uint64(p), newID: uint32(v)})
			}
		}
		if nn >= 0 {
			if v, ok := m.merges[uint64(w.c[pos])<<32|uint64(w.c[nn])]; ok {
				w.push(mergeEntry{key: v&^0xFFFFFFFF | uint64(pos), newID: uint32(v)})
			}
		}
	}
	return nil
}

// unkState carries a pending unk across characters (for fuse_unk).
type unkState struct {
	pending bool
	id      uint32
}

// addChar appends the symbol(s) of one character whose vocabulary string
// is s (affixes included) and whose id lookup gave id/ok.
func (m *bpeModel) addChar(w *word, u *unkState, s string, id uint32, ok bool) error {
	if ok {
		if u.pending {
			w.add(u.id)
			u.pending = false
		}
		w.add(id)
		return nil
	}
	if m.byteFallback {
		all := true
		for i := 0; i < len(s); i++ {
			if m.fallbackIDs[s[i]] < 0 {
				all = false
				break
			}
		}
		if all {
			// As in tokenizers, a pending unk is not flushed here; it is
			// emitted before the next known character or at the end.
			for i := 0; i < len(s); i++ {
				w.add(uint32(m.fallbackIDs[s[i]]))
			}
			return nil
		}
	}
	switch m.unkID {
	case -1:
		return nil // no unk token: the character is dropped
	case -2:
		return &UnsupportedError{Component: "model", Detail: "unk_token " + strconv.Quote(m.unkToken) + " is not in the vocabulary"}
	}
	if u.pending {
		if m.fuseUnk {
			return nil
		}
		w.add(u.id)
	}
	u.pending, u.id = true, uint32(m.unkID)
	return nil
}

// tokenizeWord appends the ids of one pre-tokenized word. For a byte-level
// model, piece holds the raw bytes; otherwise it is the word's text.
func (m *bpeModel) tokenizeWord(st *state, piece []byte, dst []uint32) ([]uint32, error) {
	if len(piece) == 0 {
		return dst, nil
	}
	if err := st.cn.poll(len(piece)); err != nil {
		return dst, err
	}
	if m.ignoreMerges {
		key := piece
		if m.byteLevel {
			st.mapBuf = appendByteLevel(st.mapBuf[:0], piece)
			key = st.mapBuf
		}
		if id, ok := m.vocab[string(key)]; ok {
			return append(dst, id), nil
		}
	}
	cacheable := len(piece) < maxCachedWord
	if cacheable {
		if ids, ok := st.cache.get(piece); ok {
			return append(dst, ids...), nil
		}
	}
	if len(piece) > bigWord {
		return m.tokenizeBigWord(st, piece, dst)
	}
	return m.mergeWord(st, piece, dst, cacheable)
}

// tokenizeBigWord merges a long word with its scratch space sized once,
// not grown by doubling (which left ~4x the final size as garbage), and
// dropped after use rather than pooled.
func (m *bpeModel) tokenizeBigWord(st *state, piece []byte, dst []uint32) ([]uint32, error) {
	st.word.reset()
	st.word.grow(len(piece))
	defer func() { st.word = word{} }()
	return m.mergeWord(st, piece, dst, false)
}

// mergeWord splits piece into symbols and merges them.
func (m *bpeModel) mergeWord(st *state, piece []byte, dst []uint32, cacheable bool) ([]uint32, error) {
	w := &st.word
	w.reset()
	var u unkState
	if m.byteLevel {
		n := len(piece)
		for i, b := range piece {
			if i&(pollEvery-1) == pollEvery-1 {
				if err := st.cn.poll(pollEvery); err != nil {
					return dst, err
				}
			}
			first, last := i == 0, i == n-1
			if id := m.byteIDs[byteVariant(first, last)][b]; id >= 0 {
				if u.pending {
					w.add(u.id)
					u.pending = false
				}
				w.add(uint32(id))
				continue
			}
			s := m.affix(string(byteChar(byte(b))), first, last)
			if err := m.addChar(w, &u, s, 0, false); err != nil {
				return dst, err
			}
		}
	} else {
		for i, next := 0, pollEvery; i < len(piece); {
			if i >= next {
				if err := st.cn.poll(pollEvery); err != nil {
					return dst, err
				}
				next = i + pollEvery
			}
			_, sz := utf8.DecodeRune(piece[i:])
			first, last := i == 0, i+sz == len(piece)
			var id uint32
			var ok bool
			var s string
			if (first || m.prefix == "") && (!last || m.suffix == "") {
				id, ok = m.vocab[string(piece[i:i+sz])]
				if !ok {
					s = string(piece[i : i+sz])
				}
			} else {
				s = m.affix(string(piece[i:i+sz]), first, last)
				id, ok = m.vocab[s]
			}
			if err := m.addChar(w, &u, s, id, ok); err != nil {
				return dst, err
			}
			i += sz
		}
	}
	if u.pending {
		w.add(u.id)
	}
	if err := m.mergeAll(&st.cn, w); err != nil {
		return dst, err
	}
	start := len(dst)
	for i := range w.c {
		if !w.dead[i] {
			dst = append(dst, w.c[i])
		}
	}
	if cacheable {
		st.cache.put(piece, dst[start:])
	}
	return dst, nil
}

func appendByteLevel(dst []byte, src []byte) []byte {
	for _, b := range src {
		dst = utf8.AppendRune(dst, byteChar(b))
	}
	return dst
}

// ---- word cache ----------------------------------------------------------------

// bigWord is the length above which a word's scratch space is sized at
// once and not kept in the pool. A word of n bytes (a run of letters for
// GPT-style patterns; with no pre-tokenizer, as in Llama-2's file, the
// whole text) takes about 30n bytes while it is merged, as in tokenizers.
const bigWord = 1 << 16

const (
	maxCachedWord    = 256 // as tokenizers' MAX_LENGTH
	maxCacheEntries  = 1 << 18
	initCacheEntries = 1 << 10
)

// wordCache maps a word's bytes to its ids without allocating per entry:
// keys and values live in two arenas, slots in an open-addressing table.
type wordCache struct {
	seed  maphash.Seed
	slots []cacheSlot
	keys  []byte
	vals  []uint32
	n     int
}

type cacheSlot struct {
	hash       uint64 // 0: empty
	koff, voff uint32
	klen, vlen uint32
}

func (c *wordCache) hash(b []byte) uint64 {
	return maphash.Bytes(c.seed, b) | 1
}

func (c *wordCache) get(key []byte) ([]uint32, bool) {
	if c.n == 0 {
		return nil, false
	}
	h := c.hash(key)
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.hash == 0 {
			return nil, false
		}
		if s.hash == h && string(c.keys[s.koff:s.koff+s.klen]) == string(key) {
			return c.vals[s.voff : s.voff+s.vlen], true
		}
	}
}

func (c *wordCache) put(key []byte, ids []uint32) {
	if c.slots == nil {
		c.seed = maphash.MakeSeed()
		c.slots = make([]cacheSlot, initCacheEntries)
	}
	if (c.n+1)*2 > len(c.slots) {
		if len(c.slots) >= maxCacheEntries {
			// Full: start again rather than grow without bound.
			clear(c.slots)
			c.keys, c.vals, c.n = c.keys[:0], c.vals[:0], 0
		} else {
			c.grow()
		}
	}
	h := c.hash(key)
	mask := uint64(len(c.slots) - 1)
	i := h & mask
	for c.slots[i].hash != 0 {
		i = (i + 1) & mask
	}
	c.slots[i] = cacheSlot{hash: h, koff: uint32(len(c.keys)), klen: uint32(len(key)), voff: uint32(len(c.vals)), vlen: uint32(len(ids))}
	c.keys = append(c.keys, key...)
	c.vals = append(c.vals, ids...)
	c.n++
}

func (c *wordCache) grow() {
	old := c.slots
	c.slots = make([]cacheSlot, len(old)*2)
	mask := uint64(len(c.slots) - 1)
	for _, s := range old {
		if s.hash == 0 {
			continue
		}
		i := s.hash & mask
		for c.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		c.slots[i] = s
	}
}
