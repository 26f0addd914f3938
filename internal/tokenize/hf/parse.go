package hf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

type fileJSON struct {
	Version       *string          `json:"version"`
	Truncation    json.RawMessage  `json:"truncation"`
	Padding       json.RawMessage  `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
}

type addedTokenJSON struct {
	ID         uint32 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    *string  `json:"type"`
	Dropout                 *float64 `json:"dropout"`
	UnkToken                *string  `json:"unk_token"`
	ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
	FuseUnk                 *bool    `json:"fuse_unk"`
	ByteFallback            *bool    `json:"byte_fallback"`
	IgnoreMerges            *bool    `json:"ignore_merges"`
}

type typed struct {
	Type string `json:"type"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// Parse reads the contents of a tokenizer.json file. A malformed file is
// a *SyntaxError with the byte offset of the problem.
func Parse(data []byte) (*Tokenizer, error) {
	return ParseContext(context.Background(), data)
}

// ParseContext is Parse, stopped within milliseconds when ctx ends: it then
// returns an error that wraps context.Cause(ctx).
func ParseContext(ctx context.Context, data []byte) (*Tokenizer, error) {
	var cn canceller
	cn.reset(ctx)
	t, err := parse(&cn, data)
	if err != nil && cn.done != nil && ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
		err = &stoppedError{what: "tokenizer.json: parsing stopped", err: err}
	}
	return t, err
}

func parse(cn *canceller, data []byte) (*Tokenizer, error) {
	f, ms, err := scanFileContext(cn, data)
	if err != nil {
		return nil, err
	}
	if f.Version != nil && *f.Version != "1.0" {
		return nil, fmt.Errorf("tokenizer.json: unknown tokenizer version %q", *f.Version)
	}
	t := &Tokenizer{}
	if err := t.buildModel(cn, ms); err != nil {
		return nil, err
	}
	return t.build(cn, f)
}

// finish builds everything but the model.
func (t *Tokenizer) finish(f *fileJSON) (*Tokenizer, error) {
	return t.build(nil, f)
}

func (t *Tokenizer) build(cn *canceller, f *fileJSON) (*Tokenizer, error) {
	if cn == nil {
		cn = &canceller{}
	}
	var err error
	if t.norm, err = parseNormalizer(cn, f.Normalizer); err != nil {
		return nil, err
	}
	if err := t.parsePreTokenizer(cn, f.PreTokenizer); err != nil {
		return nil, err
	}
	if err := t.addTokens(cn, f.AddedTokens); err != nil {
		return nil, err
	}
	if err := t.parsePostProcessor(cn, f.PostProcessor); err != nil {
		return nil, err
	}
	t.describe(f)
	return t, nil
}

func (t *Tokenizer) buildModel(cn *canceller, ms *modelScan) error {
	if ms == nil {
		return unsupported("model", "missing")
	}
	mj := &ms.opts
	if mj.Type != nil && *mj.Type != "BPE" {
		return unsupported("model", "type %s is not supported (only BPE)", *mj.Type)
	}
	if ms.vocab == nil || ms.merges == nil {
		if mj.Type == nil {
			return unsupported("model", "not a BPE model (no vocab/merges)")
		}
		return fmt.Errorf("tokenizer.json: model: missing vocab/merges")
	}
	if mj.Dropout != nil && *mj.Dropout != 0 {
		return unsupported("model", "BPE dropout %v is random and is not supported", *mj.Dropout)
	}
	m := &t.model
	m.vocab = ms.vocab
	m.vocabLen = len(ms.vocab)
	if mj.ContinuingSubwordPrefix != nil {
		m.prefix = *mj.ContinuingSubwordPrefix
	}
	if mj.EndOfWordSuffix != nil {
		m.suffix = *mj.EndOfWordSuffix
	}
	m.fuseUnk = mj.FuseUnk != nil && *mj.FuseUnk
	m.byteFallback = mj.ByteFallback != nil && *mj.ByteFallback
	m.ignoreMerges = mj.IgnoreMerges != nil && *mj.IgnoreMerges
	m.unkID = -1
	if mj.UnkToken != nil {
		m.unkToken = *mj.UnkToken
		if id, ok := m.vocab[m.unkToken]; ok {
			m.unkID = int64(id)
		} else {
			m.unkID = -2
		}
	}
	m.merges = make(map[uint64]uint64, len(ms.merges)/16)
	rank := 0
	var buf []byte
	err := eachMerge(cn, ms.merges, ms.mergesOff, func(a, b, line []byte) error {
		if line != nil {
			if bytes.HasPrefix(line, []byte("#version")) {
				return nil
			}
			i := bytes.IndexByte(line, ' ')
			if i < 0 || bytes.IndexByte(line[i+1:], ' ') >= 0 {
				return fmt.Errorf("tokenizer.json: model: merges: bad merge %q at line %d", line, rank+1)
			}
			a, b = line[:i], line[i+1:]
		}
		aID, ok := m.vocab[string(a)]
		if !ok {
			return fmt.Errorf("tokenizer.json: model: merge token %q is not in the vocabulary", a)
		}
		bID, ok := m.vocab[string(b)]
		if !ok {
			return fmt.Errorf("tokenizer.json: model: merge token %q is not in the vocabulary", b)
		}
		if len(b) < len(m.prefix) {
			return fmt.Errorf("tokenizer.json: model: merge token %q is shorter than continuing_subword_prefix", b)
		}
		buf = append(append(buf[:0], a...), b[len(m.prefix):]...)
		newID, ok := m.vocab[string(buf)]
		if !ok {
			return fmt.Errorf("tokenizer.json: model: merged token %q is not in the vocabulary", buf)
		}
		// Later duplicates replace earlier ones, as when tokenizers
		// collects the merges into its map.
		m.merges[uint64(aID)<<32|uint64(bID)] = uint64(rank)<<32 | uint64(newID)
		if rank++; rank > MaxMerges {
			return fmt.Errorf("tokenizer.json: model: merges: more than %d (the largest real tokenizers have about 514,000)", MaxMerges)
		}
		return nil
	})
	if err == errMixedMerges {
		err = fmt.Errorf("tokenizer.json: model: %w", err)
	}
	if err != nil {
		return err
	}
	m.numMerges = rank
	return nil
}

// ---- normalizers ---------------------------------------------------------------

func parseNormalizer(cn *canceller, raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	if err := cn.check(); err != nil { // once per component and level
		return nil, err
	}
	var ty typed
	if err := json.Unmarshal(raw, &ty); err != nil {
		return nil, fmt.Errorf("tokenizer.json: normalizer: %w", err)
	}
	switch ty.Type {
	case "NFC":
		return unicodeNorm{norm.NFC, "NFC"}, nil
	case "NFD":
		return unicodeNorm{norm.NFD, "NFD"}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC, "NFKC"}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD, "NFKD"}, nil
	case "Sequence":
		var v struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("tokenizer.json: normalizer: %w", err)
		}
		var seq seqNorm
		for _, sub := range v.Normalizers {
			n, err := parseNormalizer(cn, sub)
			if err != nil {
				return nil, err
			}
			switch n := n.(type) {
			case nil:
			case seqNorm:
				seq = append(seq, n...) // flattened: one level of scratch buffers
			default:
				seq = append(seq, n)
			}
		}
		switch len(seq) {
		case 0:
			return nil, nil
		case 1:
			return seq[0], nil
		}
		return seq, nil
	case "Prepend":
		var v struct {
			Prepend *string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.Prepend == nil {
			return nil, fmt.Errorf("tokenizer.json: normalizer: Prepend: missing prepend")
		}
		return prependNorm{*v.Prepend}, nil
	case "Replace":
		var v struct {
			Pattern patternJSON `json:"pattern"`
			Content *string     `json:"content"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("tokenizer.json: normalizer: Replace: %w", err)
		}
		if v.Content == nil {
			return nil, fmt.Errorf("tokenizer.json: normalizer: Replace: missing content")
		}
		re, desc, err := v.Pattern.compile("normalizer", "Replace")
		if err != nil {
			return nil, err
		}
		return replaceNorm{re: re, content: *v.Content, pattern: desc}, nil
	case "Strip":
		var v struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("tokenizer.json: normalizer: Strip: %w", err)
		}
		return stripNorm{v.Left, v.Right}, nil
	case "":
		return nil, unsupported("normalizer", "missing type")
	}
	return nil, unsupported("normalizer", "type %s is not supported", ty.Type)
}

// patternJSON is a SplitPattern / ReplacePattern: {"String": s} or {"Regex": r}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// compile compiles the pattern of component's kind (such as "Split").
func (p patternJSON) compile(component, kind string) (*regex, string, error) {
	switch {
	case p.String != nil && p.Regex == nil:
		if len(*p.String) > maxPatternBytes {
			return nil, "", fmt.Errorf("tokenizer.json: %s: %s: pattern longer than %d bytes", component, kind, maxPatternBytes)
		}
		re := literalRegex(*p.String)
		re.where = component + " " + kind
		return re, *p.String, nil
	case p.Regex != nil && p.String == nil:
		re, err := compileRegex(*p.Regex)
		if err != nil {
			return nil, "", unsupported(component, "%v", err)
		}
		re.where = component + " " + kind
		return re, *p.Regex, nil
	}
	return nil, "", fmt.Errorf("tokenizer.json: %s: pattern must be {\"String\": ...} or {\"Regex\": ...}", component)
}

// ---- pre-tokenizers --------------------------------------------------------------

func (t *Tokenizer) parsePreTokenizer(cn *canceller, raw json.RawMessage) error {
	if err := t.addPreTokenizer(cn, raw); err != nil {
		return err
	}
	for i, sg := range t.stages {
		if sg.kind == stByteLevel && i != len(t.stages)-1 {
			return unsupported("pre_tokenizer", "ByteLevel followed by other pre-tokenizers is not supported")
		}
	}
	t.model.byteLevel = len(t.stages) > 0 && t.stages[len(t.stages)-1].kind == stByteLevel
	t.model.init()
	return nil
}

func (t *Tokenizer) addPreTokenizer(cn *canceller, raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	if err := cn.check(); err != nil {
		return err
	}
	var ty typed
	if err := json.Unmarshal(raw, &ty); err != nil {
		return fmt.Errorf("tokenizer.json: pre_tokenizer: %w", err)
	}
	bad := func(err error) error {
		return fmt.Errorf("tokenizer.json: pre_tokenizer: %s: %w", ty.Type, err)
	}
	switch ty.Type {
	case "Sequence":
		var v struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return bad(err)
		}
		for _, sub := range v.PreTokenizers {
			if err := t.addPreTokenizer(cn, sub); err != nil {
				return err
			}
		}
		return nil
	case "Split":
		var v struct {
			Pattern  patternJSON `json:"pattern"`
			Behavior string      `json:"behavior"`
			Invert   bool        `json:"invert"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return bad(err)
		}
		b, ok := behaviorNamed(v.Behavior)
		if !ok {
			return bad(fmt.Errorf("unknown behavior %q", v.Behavior))
		}
		re, desc, err := v.Pattern.compile("pre_tokenizer", "Split")
		if err != nil {
			return err
		}
		t.stages = append(t.stages, stage{kind: stSplit, re: re, behavior: b, invert: v.Invert,
			desc: fmt.Sprintf("Split(%s, %s%s)", quoteShort(desc), v.Behavior, map[bool]string{true: ", inverted"}[v.Invert])})
		return nil
	case "ByteLevel":
		v := struct {
			AddPrefixSpace bool  `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return bad(err)
		}
		sg := stage{kind: stByteLevel, addPrefixSpace: v.AddPrefixSpace, behavior: bhIsolated}
		desc := "ByteLevel("
		if v.UseRegex == nil || *v.UseRegex {
			re, err := compileRegex(gpt2Pattern)
			if err != nil {
				return err
			}
			re.where = "pre_tokenizer ByteLevel"
			sg.re = re
			desc += "GPT-2 regex"
		} else {
			desc += "no regex"
		}
		if v.AddPrefixSpace {
			desc += ", add_prefix_space"
		}
		sg.desc = desc + ")"
		t.stages = append(t.stages, sg)
		return nil
	case "Metaspace":
		var v struct {
			Replacement    *string `json:"replacement"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
			PrependScheme  *string `json:"prepend_scheme"`
			Split          *bool   `json:"split"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return bad(err)
		}
		if v.Replacement == nil || utf8.RuneCountInString(*v.Replacement) != 1 {
			return bad(errors.New("replacement must be one character"))
		}
		scheme := "always"
		if v.PrependScheme != nil {
			scheme = *v.PrependScheme
		}
		var ps prependScheme
		switch scheme {
		case "always":
			ps = prependAlways
		case "first":
			ps = prependFirst
		case "never":
			ps = prependNever
		default:
			return bad(fmt.Errorf("unknown prepend_scheme %q", scheme))
		}
		if v.AddPrefixSpace != nil && !*v.AddPrefixSpace {
			if ps != prependNever && v.PrependScheme != nil {
				return bad(errors.New("add_prefix_space does not match declared prepend_scheme"))
			}
			ps, scheme = prependNever, "never"
		}
		r, _ := utf8.DecodeRuneInString(*v.Replacement)
		if ps == prependFirst {
			t.firstMatters = true
		}
		split := v.Split == nil || *v.Split
		t.stages = append(t.stages, stage{kind: stMetaspace, replacement: r, replStr: *v.Replacement, prepend: ps, split: split,
			desc: fmt.Sprintf("Metaspace(%s, prepend %s, split %v)", quoteShort(*v.Replacement), scheme, split)})
		return nil
	case "Digits":
		var v struct {
			Individual bool `json:"individual_digits"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return bad(err)
		}
		d := "Digits(contiguous)"
		if v.Individual {
			d = "Digits(individual)"
		}
		t.stages = append(t.stages, stage{kind: stDigits, individual: v.Individual, desc: d})
		return nil
	case "":
		return unsupported("pre_tokenizer", "missing type")
	}
	return unsupported("pre_tokenizer", "type %s is not supported", ty.Type)
}

// ---- added tokens ------------------------------------------------------------------

// addTokens replays AddedVocabulary::add_tokens: an added token takes the
// id its content already has (added vocabulary first, then the model), or
// the next free id; the id written in the file is not used.
func (t *Tokenizer) addTokens(cn *canceller, tokens []addedTokenJSON) error {
	byContent := map[string]int{} // content -> index in t.added
	nextID := uint32(t.model.vocabLen)
	if t.model.vocabLen == 0 {
		nextID = 0
	}
	for _, tj := range tokens {
		if err := cn.poll(1); err != nil {
			return err
		}
		if tj.Content == "" {
			continue
		}
		normalized := !tj.Special
		if tj.Normalized != nil {
			normalized = *tj.Normalized
		}
		at := addedToken{content: tj.Content, singleWord: tj.SingleWord, lstrip: tj.Lstrip, rstrip: tj.Rstrip,
			normalized: normalized, special: tj.Special}
		if i, ok := byContent[tj.Content]; ok {
			at.id = t.added[i].id
			t.added[i] = at // same id, new properties
			continue
		}
		if id, ok := t.model.vocab[tj.Content]; ok {
			at.id = id
		} else {
			at.id = nextID
			nextID++
		}
		if at.id != tj.ID {
			t.info.Notes = append(t.info.Notes, fmt.Sprintf("added token %q is listed with id %d but gets id %d", tj.Content, tj.ID, at.id))
		}
		byContent[tj.Content] = len(t.added)
		t.added = append(t.added, at)
	}
	// An id may end up shared by two contents (tokenizers keeps the later
	// one in its id -> token map); refuse that rather than guess.
	seen := map[uint32]string{}
	for _, at := range t.added {
		if prev, ok := seen[at.id]; ok {
			return unsupported("added_tokens", "tokens %q and %q share id %d", prev, at.content, at.id)
		}
		seen[at.id] = at.content
	}
	// Tries, in tokenizers' order: normalized tokens match their
	// normalized form in the normalized text.
	for i, at := range t.added {
		if !at.normalized {
			if t.rawTrie == nil {
				t.rawTrie = newTrie()
			}
			t.rawTrie.insert(at.content, int32(i))
			continue
		}
		if err := cn.poll(1); err != nil {
			return err
		}
		pattern := at.content
		if t.norm != nil {
			st := &state{}
			b, err := t.norm.apply(st, nil, []byte(at.content))
			if err != nil {
				return err
			}
			pattern = string(b)
		}
		if t.normTrie == nil {
			t.normTrie = newTrie()
		}
		t.normTrie.insert(pattern, int32(i))
	}
	// id -> token for display.
	var maxID uint32
	for _, id := range t.model.vocab {
		maxID = max(maxID, id)
	}
	for _, at := range t.added {
		maxID = max(maxID, at.id)
	}
	t.maxID = maxID
	n := len(t.model.vocab) + len(t.added)
	if uint64(maxID) < 2*uint64(n)+1024 {
		t.vocabR = make([]string, int(maxID)+1)
	} else {
		t.vocabSparse = make(map[uint32]string, n) // ids far apart: no huge slice
	}
	set := func(id uint32, s string, always bool) {
		if t.vocabSparse != nil {
			if cur, ok := t.vocabSparse[id]; always || !ok || s < cur {
				t.vocabSparse[id] = s
			}
			return
		}
		if cur := t.vocabR[id]; always || cur == "" || s < cur {
			t.vocabR[id] = s
		}
	}
	// Duplicate ids resolve deterministically, to the smallest string.
	for k, id := range t.model.vocab {
		if err := cn.poll(1); err != nil {
			return err
		}
		set(id, k, false)
	}
	distinct := len(t.model.vocab)
	t.addedByID = make(map[uint32]int, len(t.added))
	for i, at := range t.added {
		if _, inModel := t.model.vocab[at.content]; !inModel {
			distinct++
		}
		set(at.id, at.content, true)
		t.addedByID[at.id] = i
	}
	t.info.VocabSize = distinct
	return nil
}

// ---- post-processors -----------------------------------------------------------------

type templatePiece struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

func (t *Tokenizer) parsePostProcessor(cn *canceller, raw json.RawMessage) error {
	tmpl, desc, err := t.postProcessor(cn, raw, []int64{-1})
	if err != nil {
		return err
	}
	t.info.PostProcessor = desc
	if len(tmpl) == 1 && tmpl[0] == -1 {
		tmpl = nil
	}
	t.template = tmpl
	return nil
}

// postProcessor applies one post-processor to the single-sequence
// template in (ids, with -1 for the text) and returns the new template.
func (t *Tokenizer) postProcessor(cn *canceller, raw json.RawMessage, in []int64) ([]int64, string, error) {
	if isNull(raw) {
		return in, "none", nil
	}
	if err := cn.check(); err != nil {
		return nil, "", err
	}
	var ty typed
	if err := json.Unmarshal(raw, &ty); err != nil {
		return nil, "", fmt.Errorf("tokenizer.json: post_processor: %w", err)
	}
	bad := func(err error) error {
		return fmt.Errorf("tokenizer.json: post_processor: %s: %w", ty.Type, err)
	}
	wrap := func(prefix, suffix []int64) []int64 {
		out := append([]int64{}, prefix...)
		out = append(out, in...)
		return append(out, suffix...)
	}
	switch ty.Type {
	case "ByteLevel":
		return in, "ByteLevel", nil
	case "Sequence":
		var v struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, "", bad(err)
		}
		var descs []string
		cur := in
		for _, sub := range v.Processors {
			var d string
			var err error
			if cur, d, err = t.postProcessor(cn, sub, cur); err != nil {
				return nil, "", err
			}
			descs = append(descs, d)
		}
		return cur, "Sequence[" + strings.Join(descs, ", ") + "]", nil
	case "RobertaProcessing", "BertProcessing":
		var v struct {
			Sep []json.RawMessage `json:"sep"`
			Cls []json.RawMessage `json:"cls"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, "", bad(err)
		}
		sepTok, sepID, err := tokenIDPair(v.Sep)
		if err != nil {
			return nil, "", bad(fmt.Errorf("sep: %w", err))
		}
		clsTok, clsID, err := tokenIDPair(v.Cls)
		if err != nil {
			return nil, "", bad(fmt.Errorf("cls: %w", err))
		}
		return wrap([]int64{int64(clsID)}, []int64{int64(sepID)}),
			fmt.Sprintf("%s(%s %s)", ty.Type, clsTok, sepTok), nil
	case "TemplateProcessing":
		var v struct {
			Single        []templatePiece `json:"single"`
			SpecialTokens map[string]struct {
				ID  string   `json:"id"`
				IDs []uint32 `json:"ids"`
			} `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, "", bad(err)
		}
		var out []int64
		var parts []string
		for _, p := range v.Single {
			switch {
			case p.Sequence != nil && p.SpecialToken == nil:
				if p.Sequence.ID != "A" {
					return nil, "", bad(fmt.Errorf("the single template uses sequence %s", p.Sequence.ID))
				}
				out = append(out, in...)
				parts = append(parts, "$A")
			case p.SpecialToken != nil && p.Sequence == nil:
				st, ok := v.SpecialTokens[p.SpecialToken.ID]
				if !ok {
					return nil, "", bad(fmt.Errorf("missing special token %q", p.SpecialToken.ID))
				}
				for _, id := range st.IDs {
					out = append(out, int64(id))
				}
				parts = append(parts, p.SpecialToken.ID)
			default:
				return nil, "", bad(errors.New("bad template piece"))
			}
		}
		return out, "TemplateProcessing(" + strings.Join(parts, " ") + ")", nil
	case "":
		return nil, "", unsupported("post_processor", "missing type")
	}
	return nil, "", unsupported("post_processor", "type %s is not supported", ty.Type)
}

func tokenIDPair(raw []json.RawMessage) (string, uint32, error) {
	if len(raw) != 2 {
		return "", 0, errors.New("must be [token, id]")
	}
	var tok string
	var id uint32
	if err := json.Unmarshal(raw[0], &tok); err != nil {
		return "", 0, err
	}
	if err := json.Unmarshal(raw[1], &id); err != nil {
		return "", 0, err
	}
	return tok, id, nil
}

func jsonUnmarshalQuiet(raw json.RawMessage, v any) bool {
	return json.Unmarshal(raw, v) == nil
}
