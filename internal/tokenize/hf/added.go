package hf

import (
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of added_tokens, with the id tokenizers gives it.
type addedToken struct {
	id         uint32
	content    string
	singleWord bool
	lstrip     bool
	rstrip     bool
	normalized bool
	special    bool
}

// trie finds added tokens with leftmost-longest, non-overlapping matching,
// as the Aho-Corasick automaton of tokenizers' AddedVocabulary does.
type trie struct {
	first [256]bool
	edges map[uint64]int32 // node<<8 | byte -> child
	term  []int32          // node -> index into tokens, or -1
	nodes int32
}

func newTrie() *trie {
	return &trie{edges: make(map[uint64]int32), term: []int32{-1}, nodes: 1}
}

func (tr *trie) insert(s string, tok int32) {
	if s == "" {
		return
	}
	tr.first[s[0]] = true
	n := int32(0)
	for i := 0; i < len(s); i++ {
		k := uint64(n)<<8 | uint64(s[i])
		c, ok := tr.edges[k]
		if !ok {
			c = tr.nodes
			tr.nodes++
			tr.edges[k] = c
			tr.term = append(tr.term, -1)
		}
		n = c
	}
	tr.term[n] = tok
}

// longestAt returns the longest token starting at text[i:].
func (tr *trie) longestAt(text []byte, i int) (tok int32, end int) {
	tok, end = -1, -1
	n := int32(0)
	for j := i; j < len(text); j++ {
		c, ok := tr.edges[uint64(n)<<8|uint64(text[j])]
		if !ok {
			break
		}
		n = c
		if t := tr.term[n]; t >= 0 {
			tok, end = t, j+1
		}
	}
	return tok, end
}

// segment is a piece of the input: an added token (tok >= 0) or text.
type segment struct {
	start, end int32
	tok        int32
}

// isRegexWord is the Rust regex crate's Unicode \w, which tokenizers uses
// for single_word: Alphabetic, marks, decimal numbers, connector
// punctuation and Join_Control.
func isRegexWord(r rune) bool {
	if r < 128 {
		return r == '_' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		r == 0x200C || r == 0x200D
}

// findAdded splits text on the tokens of tr, as AddedVocabulary::find_matches
// does, appending to dst. Spans between tokens have tok == -1; empty text
// yields no segment.
// It looks at cn every pollEvery bytes.
func (t *Tokenizer) findAdded(cn *canceller, tr *trie, text []byte, dst []segment) ([]segment, error) {
	if tr == nil {
		if len(text) > 0 {
			dst = append(dst, segment{0, int32(len(text)), -1})
		}
		return dst, nil
	}
	startOffset := 0
	nextPoll := pollEvery
	for i := 0; i < len(text); {
		if i >= nextPoll {
			if err := cn.check(); err != nil {
				return dst, err
			}
			nextPoll = i + pollEvery
		}
		if !tr.first[text[i]] {
			i++
			continue
		}
		tok, end := tr.longestAt(text, i)
		if tok < 0 {
			i++
			continue
		}
		start, stop := i, end
		i = end // the automaton goes on after the match, kept or not
		at := &t.added[tok]
		if at.singleWord {
			startSpace := start == 0
			if !startSpace {
				r, _ := utf8.DecodeLastRune(text[:start])
				startSpace = !isRegexWord(r)
			}
			stopSpace := stop == len(text)
			if !stopSpace {
				r, _ := utf8.DecodeRune(text[stop:])
				stopSpace = !isRegexWord(r)
			}
			if !startSpace || !stopSpace {
				continue
			}
		}
		if at.lstrip {
			ns := start
			for ns > 0 {
				r, sz := utf8.DecodeLastRune(text[:ns])
				if !unicode.IsSpace(r) {
					break
				}
				ns -= sz
			}
			start = max(ns, startOffset)
		}
		if at.rstrip {
			for stop < len(text) {
				r, sz := utf8.DecodeRune(text[stop:])
				if !unicode.IsSpace(r) {
					break
				}
				stop += sz
			}
		}
		if startOffset < start {
			dst = append(dst, segment{int32(startOffset), int32(start), -1})
		}
		dst = append(dst, segment{int32(start), int32(stop), tok})
		startOffset = stop
	}
	if startOffset < len(text) {
		dst = append(dst, segment{int32(startOffset), int32(len(text)), -1})
	}
	return dst, nil
}
