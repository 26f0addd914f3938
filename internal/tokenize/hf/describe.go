package hf

import (
	"fmt"
	"strings"
)

// Description summarises a tokenizer for display.
type Description struct {
	Model         string   // "BPE (byte-level)", "BPE (byte fallback)", ...
	VocabSize     int      // distinct tokens, added tokens included
	Merges        int      // number of merge rules
	AddedTokens   int      // entries of added_tokens
	SpecialTokens []string // contents of the special added tokens, in file order
	Normalizer    string   // "none", "NFC", "Sequence[Prepend(\"▁\"), ...]"
	PreTokenizer  string   // "none", "Sequence[Split(...), ByteLevel(no regex)]"
	PostProcessor string   // "none", "ByteLevel", "TemplateProcessing(<s> $A)"
	Decoder       string   // the decoder's type (not used for encoding)
	// WithSpecial describes what add_special_tokens adds, e.g.
	// "<|begin_of_text|> (128000) before the text", or "nothing".
	WithSpecial string
	// Prefix and Suffix are the ids added before and after the text when
	// add_special_tokens is true.
	Prefix, Suffix []uint32
	Notes          []string // things an operator may want to know

	spaceReplacement string
}

// Describe returns a summary of the tokenizer.
func (t *Tokenizer) Describe() Description {
	d := t.info
	d.SpecialTokens = append([]string(nil), d.SpecialTokens...)
	d.Prefix = append([]uint32(nil), d.Prefix...)
	d.Suffix = append([]uint32(nil), d.Suffix...)
	d.Notes = append([]string(nil), d.Notes...)
	return d
}

// String renders the description as aligned "key: value" lines.
func (d Description) String() string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%-15s %s\n", k+":", v) }
	line("model", d.Model)
	line("vocab size", fmt.Sprint(d.VocabSize))
	line("merges", fmt.Sprint(d.Merges))
	line("added tokens", fmt.Sprintf("%d (%d special)", d.AddedTokens, len(d.SpecialTokens)))
	line("normalizer", d.Normalizer)
	line("pre-tokenizer", d.PreTokenizer)
	line("post-processor", d.PostProcessor)
	line("special tokens", d.WithSpecial)
	for _, n := range d.Notes {
		line("note", n)
	}
	return b.String()
}

func (t *Tokenizer) describe(f *fileJSON) {
	d := &t.info
	m := &t.model
	var kind []string
	if m.byteLevel {
		kind = append(kind, "byte-level")
	}
	if m.byteFallback {
		kind = append(kind, "byte fallback")
	}
	if m.unkID >= 0 {
		u := "unk " + quoteShort(m.unkToken)
		if m.fuseUnk {
			u += " fused"
		}
		kind = append(kind, u)
	}
	if m.ignoreMerges {
		kind = append(kind, "ignore_merges")
	}
	if m.prefix != "" {
		kind = append(kind, "continuing_subword_prefix "+quoteShort(m.prefix))
	}
	if m.suffix != "" {
		kind = append(kind, "end_of_word_suffix "+quoteShort(m.suffix))
	}
	d.Model = "BPE"
	if len(kind) > 0 {
		d.Model += " (" + strings.Join(kind, ", ") + ")"
	}
	d.Merges = m.numMerges
	d.AddedTokens = len(t.added)
	for _, at := range t.added {
		if at.special {
			d.SpecialTokens = append(d.SpecialTokens, at.content)
		}
	}
	d.Normalizer = "none"
	if t.norm != nil {
		d.Normalizer = t.norm.describe()
		if s, ok := t.norm.(seqNorm); ok {
			for _, sub := range s {
				if r, ok := sub.(replaceNorm); ok && r.pattern == " " && r.content != "" {
					d.spaceReplacement = r.content
				}
			}
		} else if r, ok := t.norm.(replaceNorm); ok && r.pattern == " " {
			d.spaceReplacement = r.content
		}
	}
	d.PreTokenizer = "none"
	if len(t.stages) == 1 {
		d.PreTokenizer = t.stages[0].desc
	} else if len(t.stages) > 1 {
		var parts []string
		for _, sg := range t.stages {
			parts = append(parts, sg.desc)
		}
		d.PreTokenizer = "Sequence[" + strings.Join(parts, ", ") + "]"
	}
	var ty typed
	d.Decoder = "none"
	if !isNull(f.Decoder) && jsonUnmarshalQuiet(f.Decoder, &ty) && ty.Type != "" {
		d.Decoder = ty.Type
	}
	seen := false
	for _, item := range t.template {
		if item < 0 {
			seen = true
			continue
		}
		if seen {
			d.Suffix = append(d.Suffix, uint32(item))
		} else {
			d.Prefix = append(d.Prefix, uint32(item))
		}
	}
	d.WithSpecial = "nothing is added (add_special_tokens has no effect)"
	if len(t.template) > 0 {
		var parts []string
		if len(d.Prefix) > 0 {
			parts = append(parts, t.idList(d.Prefix)+" before the text")
		}
		if len(d.Suffix) > 0 {
			parts = append(parts, t.idList(d.Suffix)+" after the text")
		}
		if len(parts) == 0 {
			parts = append(parts, "the text only")
		}
		d.WithSpecial = "add_special_tokens adds " + strings.Join(parts, " and ")
	}
	if !isNull(f.Truncation) {
		d.Notes = append(d.Notes, "the file's truncation settings are ignored (as transformers does by default)")
	}
	if !isNull(f.Padding) {
		d.Notes = append(d.Notes, "the file's padding settings are ignored (as transformers does by default)")
	}
}

func (t *Tokenizer) idList(ids []uint32) string {
	var parts []string
	for _, id := range ids {
		s, ok := t.Token(id)
		if !ok {
			s = "?"
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", s, id))
	}
	return strings.Join(parts, ", ")
}
