package hf

// A small backtracking regular-expression engine for the Oniguruma patterns
// found in tokenizer.json files.
//
// Hugging Face tokenizers compiles Split and Replace patterns with Oniguruma
// (Ruby syntax, UTF-8, no options). Go's regexp package cannot express those
// patterns: the GPT-4 style pattern used by Llama-3 and Qwen ends in
// `\s+(?!\S)|\s+`, whose negative lookahead, combined with greedy
// backtracking, decides where a run of spaces is cut. This engine implements
// the subset of Oniguruma those files use, with Oniguruma's leftmost-first,
// backtracking semantics:
//
//   - literals and escapes (\t \n \r \f \v \a \e \xHH \x{H...} \uHHHH),
//     escaped punctuation;
//   - `.` (any rune but '\n'), classes [...] and [^...] with ranges, \s \S
//     \d \D \w \W and \p{...} / \P{...} / \p{^...} (general categories and
//     scripts);
//   - groups (...), (?:...), (?<name>...), (?i:...), (?-i:...), (?i), the
//     lookaheads (?=...) and (?!...), and atomic groups (?>...);
//   - the quantifiers ? * + {n} {n,} {n,m} {,m}, lazy (??, *?, +?, {..}?) and
//     possessive (?+, *+, ++) forms;
//   - the anchors ^ and $ (line anchors, as in Ruby syntax), \A, \z.
//
// Anything else (lookbehind, backreferences, \b, nested classes, POSIX
// brackets, other options) is refused at compile time with an error naming
// the construct, so a tokenizer that needs it is refused rather than
// approximated. Case-insensitive matching uses Unicode simple case folding;
// Oniguruma's multi-character folds (such as "ss" matching "ß") are not
// implemented, which no known tokenizer pattern relies on.
//
// Unbounded repetition of a sub-pattern that can match the empty string is
// refused (Oniguruma's empty-loop check is not reproduced). The matcher's
// work is bounded: one Encode may take regexBaseSteps + regexStepsPerByte
// steps per byte of text searched, summed over every search of the call
// (so many small pieces cannot each spend a base allowance), and the
// backtracking stack holds at most maxBacktrack entries. A pathological
// pattern/text pair thus fails with a *PatternError, naming the pattern, in
// well under a second per MiB, as Oniguruma's own retry limit makes it fail
// rather than run for ever. Real tokenizer patterns take a few steps per
// byte (TestRegexStepsPerByte measures them).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// errRegexLimit is what a *PatternError unwraps to.
var errRegexLimit = errors.New("regular expression backtracking limit exceeded")

// PatternError reports a pattern whose matching exceeded the matcher's
// budget on a text: the pattern backtracks catastrophically there.
type PatternError struct {
	Component string // "pre_tokenizer Split", "normalizer Replace", ...
	Pattern   string // the pattern's source
	Steps     int    // steps taken
	Bytes     int    // bytes of text searched
	Stack     int    // backtracking entries held, when that limit was hit
}

func (e *PatternError) Error() string {
	what := fmt.Sprintf("gave up after %d steps over %d bytes of text (the limit is %d + %d per byte)",
		e.Steps, e.Bytes, regexBaseSteps, regexStepsPerByte)
	if e.Stack > 0 {
		what = fmt.Sprintf("gave up holding %d backtracking points (the limit is %d)", e.Stack, maxBacktrack)
	}
	return fmt.Sprintf("tokenizer.json: %s pattern %s backtracks catastrophically on this text: %s; "+
		"tokenize this text with the serving engine instead, or fix the pattern "+
		"(nested repetitions such as (a|aa)+ over a long run are the usual cause)",
		e.Component, quotePattern(e.Pattern), what)
}

func (e *PatternError) Unwrap() error { return errRegexLimit }

// quotePattern quotes a pattern for a message, escaped and cut to about
// 120 bytes.
func quotePattern(s string) string {
	const max = 120
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// errOptionGroup is the parser's signal for a bare option group like (?i).
var errOptionGroup = errors.New("option group")

const (
	// A search through a text of n bytes may take regexBaseSteps +
	// regexStepsPerByte*n steps: real tokenizer patterns take a few per
	// byte, while a pathological pattern fails instead of running for
	// minutes (Oniguruma has a retry limit for the same reason).
	regexBaseSteps    = 1_000_000
	regexStepsPerByte = 64
	// repeatChunk is the most text a repetition of one class scans
	// between two looks at the context.
	repeatChunk = 1 << 20
	// regexCheckSteps is how often (in steps) the matcher checks its
	// budget, its stack and the context.
	regexCheckSteps = 1 << 16
	// maxBacktrack bounds the backtracking stack (12 bytes an entry):
	// real patterns hold a handful of entries, but (?:ab)* over a long run
	// would push one per repetition.
	maxBacktrack = 1 << 20
	// maxPatternBytes bounds a pattern's source (real ones are under 1 kB;
	// the parser builds a node per rune before maxProgLen applies).
	maxPatternBytes = 64 << 10
	// maxGroupDepth bounds the nesting of groups (the parser recurses).
	maxGroupDepth = 200
	maxProgLen    = 20_000
	maxRepeat     = 1000
)

// ---- character sets --------------------------------------------------------

type classItem struct {
	lo, hi rune                // a range, when table == nil
	table  *unicode.RangeTable // a Unicode table
	neg    bool                // item matches the complement
	kind   uint8               // 0 range/table, 1 \s, 2 \w, 3 any
}

const (
	itemPlain = iota
	itemSpace
	itemWord
	itemAnyButNL
)

// charClass is a set of runes. ascii caches membership for runes below 128.
type charClass struct {
	items []classItem
	neg   bool
	fold  bool
	ascii [2]uint64
}

func (it *classItem) has(r rune) bool {
	var m bool
	switch it.kind {
	case itemSpace:
		m = isOnigSpace(r)
	case itemWord:
		m = isOnigWord(r)
	case itemAnyButNL:
		m = r != '\n'
	default:
		if it.table != nil {
			m = unicode.Is(it.table, r)
		} else {
			m = it.lo <= r && r <= it.hi
		}
	}
	return m != it.neg
}

func (c *charClass) rawHas(r rune) bool {
	for i := range c.items {
		if c.items[i].has(r) {
			return true
		}
	}
	return false
}

func (c *charClass) slowHas(r rune) bool {
	m := c.rawHas(r)
	if !m && c.fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if c.rawHas(f) {
				m = true
				break
			}
		}
	}
	return m != c.neg
}

func (c *charClass) finish() {
	c.ascii = [2]uint64{}
	for r := rune(0); r < 128; r++ {
		if c.slowHas(r) {
			c.ascii[r>>6] |= 1 << (uint(r) & 63)
		}
	}
}

func (c *charClass) has(r rune) bool {
	if r < 128 {
		return c.ascii[r>>6]&(1<<(uint(r)&63)) != 0
	}
	return c.slowHas(r)
}

// isOnigSpace is Oniguruma's Unicode \s: U+0009–U+000D, U+0085 and the
// Zs, Zl and Zp categories — the White_Space property, which is also what
// unicode.IsSpace implements.
func isOnigSpace(r rune) bool {
	if r < 128 {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.IsSpace(r)
}

// isOnigWord is Oniguruma's Unicode \w: letters, marks, decimal numbers and
// connector punctuation.
func isOnigWord(r rune) bool {
	if r < 128 {
		return r == '_' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r)
}

// ---- syntax tree -----------------------------------------------------------

type nodeKind uint8

const (
	ndChar nodeKind = iota
	ndConcat
	ndAlt
	ndRepeat
	ndLook
	ndAtomic
	ndAssert
	ndEmpty
)

const (
	assertBOL = iota
	assertEOL
	assertBOT
	assertEOT
)

type node struct {
	kind       nodeKind
	cls        *charClass
	subs       []*node
	min, max   int // repeat; max < 0 means unbounded
	greedy     bool
	possessive bool
	neg        bool // negative lookahead
	assert     int
}

func (n *node) nullable() bool {
	switch n.kind {
	case ndChar:
		return false
	case ndConcat:
		for _, s := range n.subs {
			if !s.nullable() {
				return false
			}
		}
		return true
	case ndAlt:
		for _, s := range n.subs {
			if s.nullable() {
				return true
			}
		}
		return false
	case ndRepeat:
		return n.min == 0 || n.subs[0].nullable()
	case ndAtomic:
		return n.subs[0].nullable()
	default: // look, assert, empty
		return true
	}
}

// ---- parser ------------------------------------------------------------------

type reParser struct {
	src   string
	pos   int
	fold  bool
	depth int // groups open
}

func (p *reParser) errorf(format string, args ...any) error {
	return fmt.Errorf("regex %s at offset %d: %s", quotePattern(p.src), p.pos, fmt.Sprintf(format, args...))
}

func (p *reParser) eof() bool { return p.pos >= len(p.src) }

func (p *reParser) peek() rune {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r
}

func (p *reParser) next() rune {
	r, n := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += n
	return r
}

// parseAlt parses alternatives up to ')' or the end.
func (p *reParser) parseAlt() (*node, error) {
	var alts []*node
	saved := p.fold
	for {
		seq, err := p.parseConcat()
		if err != nil {
			return nil, err
		}
		alts = append(alts, seq)
		if p.eof() || p.peek() != '|' {
			break
		}
		p.pos++
	}
	p.fold = saved
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &node{kind: ndAlt, subs: alts}, nil
}

func (p *reParser) parseConcat() (*node, error) {
	var items []*node
	for !p.eof() {
		c := p.peek()
		if c == '|' || c == ')' {
			break
		}
		atom, err := p.parseAtom()
		if err == errOptionGroup {
			// Oniguruma applies a bare (?i) to the rest of the enclosing
			// group, later alternatives included: a(?i)b|c means
			// a(?i:b|c). Only the form at the start of a branch, where
			// that equals setting the flag for what follows, is accepted.
			if len(items) > 0 {
				return nil, p.errorf("an option group such as (?i) is only supported at the start of a branch")
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		atom, err = p.parseQuantifiers(atom)
		if err != nil {
			return nil, err
		}
		items = append(items, atom)
	}
	switch len(items) {
	case 0:
		return &node{kind: ndEmpty}, nil
	case 1:
		return items[0], nil
	}
	return &node{kind: ndConcat, subs: items}, nil
}

func (p *reParser) parseQuantifiers(atom *node) (*node, error) {
	for !p.eof() {
		c := p.peek()
		var min, max int
		interval := false
		switch c {
		case '*':
			min, max = 0, -1
			p.pos++
		case '+':
			min, max = 1, -1
			p.pos++
		case '?':
			min, max = 0, 1
			p.pos++
		case '{':
			lo, hi, n, ok := parseInterval(p.src[p.pos:])
			if !ok {
				return atom, nil // a literal '{', handled by the next atom
			}
			min, max = lo, hi
			p.pos += n
			interval = true
		default:
			return atom, nil
		}
		if atom.kind == ndAssert || atom.kind == ndLook {
			return nil, p.errorf("quantifier after an anchor or lookaround is not supported")
		}
		greedy, possessive := true, false
		if !p.eof() {
			switch p.peek() {
			case '?':
				greedy = false
				p.pos++
			case '+':
				if interval {
					return nil, p.errorf("'+' after an interval quantifier is not supported")
				}
				possessive = true
				p.pos++
			}
		}
		if max > maxRepeat || min > maxRepeat {
			return nil, p.errorf("repeat count above %d is not supported", maxRepeat)
		}
		if max < 0 && atom.nullable() {
			return nil, p.errorf("unbounded repetition of a sub-pattern that can match the empty string is not supported")
		}
		atom = &node{kind: ndRepeat, subs: []*node{atom}, min: min, max: max, greedy: greedy, possessive: possessive}
	}
	return atom, nil
}

// parseInterval parses {n}, {n,}, {n,m} or {,m}; ok is false when s does
// not start with a valid interval (Oniguruma then treats '{' literally).
func parseInterval(s string) (lo, hi, n int, ok bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, 0, 0, false
	}
	body := s[1:end]
	num := func(t string) (int, bool) {
		if t == "" || len(t) > 6 {
			return 0, false
		}
		for _, c := range t {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		v, err := strconv.Atoi(t)
		return v, err == nil
	}
	comma := strings.IndexByte(body, ',')
	if comma < 0 {
		v, ok := num(body)
		if !ok {
			return 0, 0, 0, false
		}
		return v, v, end + 1, true
	}
	a, b := body[:comma], body[comma+1:]
	switch {
	case a == "" && b == "":
		return 0, 0, 0, false
	case a == "":
		v, ok := num(b)
		if !ok {
			return 0, 0, 0, false
		}
		return 0, v, end + 1, true
	case b == "":
		v, ok := num(a)
		if !ok {
			return 0, 0, 0, false
		}
		return v, -1, end + 1, true
	}
	x, ok1 := num(a)
	y, ok2 := num(b)
	if !ok1 || !ok2 || y < x {
		return 0, 0, 0, false
	}
	return x, y, end + 1, true
}

func (p *reParser) newClass(items ...classItem) *node {
	c := &charClass{items: items, fold: p.fold}
	c.finish()
	return &node{kind: ndChar, cls: c}
}

func (p *reParser) parseAtom() (*node, error) {
	c := p.next()
	switch c {
	case '(':
		return p.parseGroup()
	case '[':
		cls, err := p.parseClass()
		if err != nil {
			return nil, err
		}
		return &node{kind: ndChar, cls: cls}, nil
	case '.':
		return p.newClass(classItem{kind: itemAnyButNL}), nil
	case '^':
		return &node{kind: ndAssert, assert: assertBOL}, nil
	case '$':
		return &node{kind: ndAssert, assert: assertEOL}, nil
	case '*', '+', '?':
		return nil, p.errorf("quantifier %q without an operand", c)
	case '\\':
		return p.parseEscape()
	}
	return p.newClass(classItem{lo: c, hi: c}), nil
}

func (p *reParser) parseGroup() (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxGroupDepth {
		return nil, p.errorf("groups nested deeper than %d", maxGroupDepth)
	}
	kind := ndConcat
	neg := false
	savedFold := p.fold
	if strings.HasPrefix(p.src[p.pos:], "?") {
		rest := p.src[p.pos+1:]
		switch {
		case strings.HasPrefix(rest, ":"):
			p.pos += 2
		case strings.HasPrefix(rest, "="):
			p.pos += 2
			kind = ndLook
		case strings.HasPrefix(rest, "!"):
			p.pos += 2
			kind, neg = ndLook, true
		case strings.HasPrefix(rest, ">"):
			p.pos += 2
			kind = ndAtomic
		case strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, "<!"):
			return nil, p.errorf("lookbehind is not supported")
		case strings.HasPrefix(rest, "<") || strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, "P<"):
			close := byte('>')
			if rest[0] == '\'' {
				close = '\''
			}
			end := strings.IndexByte(rest[1:], close)
			if end < 0 {
				return nil, p.errorf("unterminated group name")
			}
			p.pos += 1 + 1 + end + 1
			if rest[0] == 'P' {
				p.pos++
			}
		default:
			// Option settings: (?i) (?-i) (?i:...) (?-i:...).
			i := 0
			on := true
			fold := p.fold
			for i < len(rest) && (rest[i] == 'i' || rest[i] == '-') {
				if rest[i] == '-' {
					on = false
				} else {
					fold = on
				}
				i++
			}
			if i == 0 || i >= len(rest) {
				return nil, p.errorf("unsupported group syntax")
			}
			switch rest[i] {
			case ')':
				p.pos += 1 + i + 1
				p.fold = fold // applies to the rest of the enclosing group
				return nil, errOptionGroup
			case ':':
				p.pos += 1 + i + 1
				p.fold = fold
			default:
				return nil, p.errorf("unsupported group option %q", rest[i])
			}
		}
	}
	inner, err := p.parseAlt()
	if err != nil {
		return nil, err
	}
	if p.eof() || p.peek() != ')' {
		return nil, p.errorf("missing ')'")
	}
	p.pos++
	p.fold = savedFold
	switch kind {
	case ndLook:
		return &node{kind: ndLook, neg: neg, subs: []*node{inner}}, nil
	case ndAtomic:
		return &node{kind: ndAtomic, subs: []*node{inner}}, nil
	}
	return inner, nil
}

// parseEscapeItem parses the escape after a backslash as a class item;
// single is true when it denotes one rune (usable as a range endpoint).
func (p *reParser) parseEscapeItem(inClass bool) (it classItem, single bool, err error) {
	if p.eof() {
		return it, false, p.errorf("trailing backslash")
	}
	c := p.next()
	lit := func(r rune) (classItem, bool, error) { return classItem{lo: r, hi: r}, true, nil }
	switch c {
	case 't':
		return lit('\t')
	case 'n':
		return lit('\n')
	case 'r':
		return lit('\r')
	case 'f':
		return lit('\f')
	case 'v':
		return lit('\v')
	case 'a':
		return lit('\a')
	case 'e':
		return lit(0x1b)
	case 's', 'S':
		return classItem{kind: itemSpace, neg: c == 'S'}, false, nil
	case 'w', 'W':
		return classItem{kind: itemWord, neg: c == 'W'}, false, nil
	case 'd', 'D':
		return classItem{table: unicode.Nd, neg: c == 'D'}, false, nil
	case 'p', 'P':
		neg := c == 'P'
		if p.eof() || p.peek() != '{' {
			return it, false, p.errorf("\\%c must be followed by {...}", c)
		}
		end := strings.IndexByte(p.src[p.pos:], '}')
		if end < 0 {
			return it, false, p.errorf("unterminated \\%c{", c)
		}
		name := p.src[p.pos+1 : p.pos+end]
		p.pos += end + 1
		if strings.HasPrefix(name, "^") {
			neg = !neg
			name = name[1:]
		}
		tab, ok := unicodeTable(name)
		if !ok {
			return it, false, p.errorf("unsupported Unicode property %q", name)
		}
		return classItem{table: tab, neg: neg}, false, nil
	case 'x':
		if !p.eof() && p.peek() == '{' {
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return it, false, p.errorf("unterminated \\x{")
			}
			v, perr := strconv.ParseUint(p.src[p.pos+1:p.pos+end], 16, 32)
			if perr != nil || v > unicode.MaxRune {
				return it, false, p.errorf("bad \\x{...} escape")
			}
			p.pos += end + 1
			return lit(rune(v))
		}
		n := 0
		for n < 2 && p.pos+n < len(p.src) && isHex(p.src[p.pos+n]) {
			n++
		}
		if n == 0 {
			return it, false, p.errorf("bad \\x escape")
		}
		v, _ := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
		p.pos += n
		if v >= 0x80 {
			// Oniguruma reads \xHH as a raw byte; above 0x7F that is not a
			// whole UTF-8 character.
			return it, false, p.errorf("\\x escape above 0x7F is not supported")
		}
		return lit(rune(v))
	case 'u':
		if p.pos+4 > len(p.src) {
			return it, false, p.errorf("bad \\u escape")
		}
		v, perr := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
		if perr != nil {
			return it, false, p.errorf("bad \\u escape")
		}
		p.pos += 4
		return lit(rune(v))
	}
	if c < 128 && !isAlnum(c) {
		return lit(c) // escaped punctuation or space
	}
	if c >= 128 {
		return lit(c)
	}
	return it, false, p.errorf("unsupported escape \\%c", c)
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b|0x20 >= 'a' && b|0x20 <= 'f')
}

func isAlnum(r rune) bool {
	return (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')
}

func (p *reParser) parseEscape() (*node, error) {
	if !p.eof() {
		switch p.peek() {
		case 'A':
			p.pos++
			return &node{kind: ndAssert, assert: assertBOT}, nil
		case 'z':
			p.pos++
			return &node{kind: ndAssert, assert: assertEOT}, nil
		}
	}
	it, _, err := p.parseEscapeItem(false)
	if err != nil {
		return nil, err
	}
	return p.newClass(it), nil
}

func (p *reParser) parseClass() (*charClass, error) {
	c := &charClass{fold: p.fold}
	if !p.eof() && p.peek() == '^' {
		c.neg = true
		p.pos++
	}
	first := true
	for {
		if p.eof() {
			return nil, p.errorf("missing ']'")
		}
		r := p.peek()
		if r == ']' && !first {
			p.pos++
			break
		}
		first = false
		if r == '[' {
			return nil, p.errorf("nested character classes and POSIX brackets are not supported")
		}
		if strings.HasPrefix(p.src[p.pos:], "&&") {
			return nil, p.errorf("class intersection is not supported")
		}
		var it classItem
		single := true
		if r == '\\' {
			p.pos++
			var err error
			it, single, err = p.parseEscapeItem(true)
			if err != nil {
				return nil, err
			}
		} else {
			p.pos += utf8.RuneLen(r)
			it = classItem{lo: r, hi: r}
		}
		// A range a-b.
		if single && strings.HasPrefix(p.src[p.pos:], "-") && p.pos+1 < len(p.src) && p.src[p.pos+1] != ']' {
			p.pos++
			var hi classItem
			hs := true
			if p.peek() == '\\' {
				p.pos++
				var err error
				hi, hs, err = p.parseEscapeItem(true)
				if err != nil {
					return nil, err
				}
			} else if p.peek() == '[' {
				return nil, p.errorf("nested character classes are not supported")
			} else {
				hr := p.next()
				hi = classItem{lo: hr, hi: hr}
			}
			if !hs || hi.lo < it.lo {
				return nil, p.errorf("bad class range")
			}
			it.hi = hi.lo
		}
		c.items = append(c.items, it)
	}
	c.finish()
	return c, nil
}

// categoryAliases maps Oniguruma's long general-category names to the
// short ones. It is an array, not a map, so that it is static data (a map
// is built when the program starts).
var categoryAliases = [...]struct{ long, short string }{
	{"letter", "L"}, {"uppercaseletter", "Lu"}, {"lowercaseletter", "Ll"},
	{"titlecaseletter", "Lt"}, {"modifierletter", "Lm"}, {"otherletter", "Lo"},
	{"mark", "M"}, {"combiningmark", "M"}, {"nonspacingmark", "Mn"}, {"spacingmark", "Mc"},
	{"enclosingmark", "Me"}, {"number", "N"}, {"decimalnumber", "Nd"},
	{"letternumber", "Nl"}, {"othernumber", "No"}, {"punctuation", "P"},
	{"connectorpunctuation", "Pc"}, {"dashpunctuation", "Pd"}, {"openpunctuation", "Ps"},
	{"closepunctuation", "Pe"}, {"initialpunctuation", "Pi"}, {"finalpunctuation", "Pf"},
	{"otherpunctuation", "Po"}, {"symbol", "S"}, {"mathsymbol", "Sm"},
	{"currencysymbol", "Sc"}, {"modifiersymbol", "Sk"}, {"othersymbol", "So"},
	{"separator", "Z"}, {"spaceseparator", "Zs"}, {"lineseparator", "Zl"},
	{"paragraphseparator", "Zp"}, {"control", "Cc"}, {"cntrl", "Cc"}, {"format", "Cf"},
	{"privateuse", "Co"}, {"surrogate", "Cs"}, {"digit", "Nd"},
}

func categoryAlias(name string) (string, bool) {
	for _, a := range categoryAliases {
		if a.long == name {
			return a.short, true
		}
	}
	return "", false
}

// unicodeTable resolves a \p{...} name: a general category (short or long
// name) or a script. Oniguruma ignores case, spaces, '-' and '_' in names.
func unicodeTable(name string) (*unicode.RangeTable, bool) {
	key := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
	if alias, ok := categoryAlias(key); ok {
		key = strings.ToLower(alias)
	}
	for cat, tab := range unicode.Categories {
		if strings.ToLower(cat) == key {
			if cat == "C" {
				return nil, false // Go's C omits unassigned code points
			}
			return tab, true
		}
	}
	for script, tab := range unicode.Scripts {
		if strings.ToLower(script) == key {
			return tab, true
		}
	}
	return nil, false
}

// ---- program -----------------------------------------------------------------

type opcode uint8

const (
	opChar   opcode = iota // one rune in cls
	opRepeat               // cls repeated min..max times (greedy or possessive)
	opSplit                // try x first, then y
	opJmp                  // go to x
	opMatch
	opLook   // sub-program as lookahead (neg: negative)
	opAtomic // sub-program matched once, without backtracking into it
	opAssert
)

type inst struct {
	op         opcode
	neg        bool
	possessive bool
	assert     uint8
	x, y       int32
	min, max   int32
	cls        *charClass
	sub        *regexProg
	fx, fy     *firstSet // opSplit: what each branch can start with
}

// firstSet over-approximates the runes a branch can consume first.
type firstSet struct {
	ascii    [2]uint64
	nonASCII bool // some rune >= 128 may start it
	nullable bool // it may succeed without consuming (or we cannot tell)
}

func (f *firstSet) union(g *firstSet) {
	f.ascii[0] |= g.ascii[0]
	f.ascii[1] |= g.ascii[1]
	f.nonASCII = f.nonASCII || g.nonASCII
	f.nullable = f.nullable || g.nullable
}

// canStart reports whether a branch with first set f may match at pos.
func (f *firstSet) canStart(text []byte, pos int) bool {
	if f.nullable {
		return true
	}
	if pos >= len(text) {
		return false
	}
	if b := text[pos]; b < utf8.RuneSelf {
		return f.ascii[b>>6]&(1<<(b&63)) != 0
	}
	return f.nonASCII
}

func classFirst(c *charClass) firstSet {
	f := firstSet{ascii: c.ascii, nonASCII: c.neg || c.fold}
	for _, it := range c.items {
		if it.neg || it.kind != itemPlain || it.table != nil || it.hi >= utf8.RuneSelf {
			f.nonASCII = true
		}
	}
	return f
}

// computeFirst fills the first sets of p's split instructions.
func (p *regexProg) computeFirst() {
	memo := make([]*firstSet, len(p.insts))
	var first func(pc int) *firstSet
	first = func(pc int) *firstSet {
		if memo[pc] != nil {
			return memo[pc]
		}
		f := &firstSet{}
		memo[pc] = f // loops reach pc again only after consuming a rune
		in := &p.insts[pc]
		switch in.op {
		case opChar:
			*f = classFirst(in.cls)
		case opRepeat:
			*f = classFirst(in.cls)
			if in.min == 0 {
				f.union(first(pc + 1))
			}
		case opSplit:
			f.union(first(int(in.x)))
			f.union(first(int(in.y)))
		case opJmp:
			f.union(first(int(in.x)))
		default: // match, lookaround, atomic, assertions
			f.nullable = true
		}
		return f
	}
	for pc := range p.insts {
		if in := &p.insts[pc]; in.op == opSplit {
			in.fx, in.fy = first(int(in.x)), first(int(in.y))
		}
	}
}

type regexProg struct {
	insts []inst
}

// regex is a compiled pattern.
type regex struct {
	src   string
	prog  *regexProg
	where string // the component using it, for errors
}

func compileRegex(src string) (*regex, error) {
	if len(src) > maxPatternBytes {
		return nil, fmt.Errorf("regex %s: longer than %d bytes", quotePattern(src), maxPatternBytes)
	}
	p := &reParser{src: src}
	ast, err := p.parseAlt()
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.errorf("unmatched ')'")
	}
	c := &reCompiler{}
	prog, err := c.prog(ast)
	if err != nil {
		return nil, fmt.Errorf("regex %s: %w", quotePattern(src), err)
	}
	return &regex{src: src, prog: prog}, nil
}

// literalRegex matches s literally (a Split or Replace "String" pattern).
func literalRegex(s string) *regex {
	p := &reParser{}
	var items []*node
	for _, r := range s {
		items = append(items, p.newClass(classItem{lo: r, hi: r}))
	}
	var ast *node
	switch len(items) {
	case 0:
		ast = &node{kind: ndEmpty}
	case 1:
		ast = items[0]
	default:
		ast = &node{kind: ndConcat, subs: items}
	}
	prog, err := (&reCompiler{}).prog(ast)
	if err != nil {
		// A literal longer than maxProgLen runes; match it with a
		// sequence anyway (no size limit applies to plain runes).
		prog = &regexProg{}
		for _, it := range items {
			prog.insts = append(prog.insts, inst{op: opChar, cls: it.cls})
		}
		prog.insts = append(prog.insts, inst{op: opMatch})
		prog.computeFirst()
	}
	return &regex{src: s, prog: prog}
}

type reCompiler struct {
	total int
}

func (c *reCompiler) prog(n *node) (*regexProg, error) {
	p := &regexProg{}
	if err := c.emit(p, n); err != nil {
		return nil, err
	}
	p.insts = append(p.insts, inst{op: opMatch})
	p.computeFirst()
	return p, nil
}

func (c *reCompiler) add(p *regexProg, in inst) (int, error) {
	c.total++
	if c.total > maxProgLen {
		return 0, errors.New("pattern is too large")
	}
	p.insts = append(p.insts, in)
	return len(p.insts) - 1, nil
}

func (c *reCompiler) emit(p *regexProg, n *node) error {
	switch n.kind {
	case ndEmpty:
		return nil
	case ndChar:
		_, err := c.add(p, inst{op: opChar, cls: n.cls})
		return err
	case ndAssert:
		_, err := c.add(p, inst{op: opAssert, assert: uint8(n.assert)})
		return err
	case ndConcat:
		for _, s := range n.subs {
			if err := c.emit(p, s); err != nil {
				return err
			}
		}
		return nil
	case ndAlt:
		var jumps []int
		for i, s := range n.subs {
			if i < len(n.subs)-1 {
				split, err := c.add(p, inst{op: opSplit})
				if err != nil {
					return err
				}
				p.insts[split].x = int32(split + 1)
				if err := c.emit(p, s); err != nil {
					return err
				}
				j, err := c.add(p, inst{op: opJmp})
				if err != nil {
					return err
				}
				jumps = append(jumps, j)
				p.insts[split].y = int32(len(p.insts))
			} else if err := c.emit(p, s); err != nil {
				return err
			}
		}
		for _, j := range jumps {
			p.insts[j].x = int32(len(p.insts))
		}
		return nil
	case ndLook, ndAtomic:
		sub, err := c.prog(n.subs[0])
		if err != nil {
			return err
		}
		op := opLook
		if n.kind == ndAtomic {
			op = opAtomic
		}
		_, err = c.add(p, inst{op: op, neg: n.neg, sub: sub})
		return err
	case ndRepeat:
		return c.emitRepeat(p, n)
	}
	return fmt.Errorf("internal: unknown node kind %d", n.kind)
}

func (c *reCompiler) emitRepeat(p *regexProg, n *node) error {
	body := n.subs[0]
	if body.kind == ndChar && (n.greedy || n.possessive) {
		_, err := c.add(p, inst{op: opRepeat, cls: body.cls, min: int32(n.min), max: int32(n.max), possessive: n.possessive})
		return err
	}
	if n.possessive {
		inner := &node{kind: ndRepeat, subs: n.subs, min: n.min, max: n.max, greedy: true}
		return c.emit(p, &node{kind: ndAtomic, subs: []*node{inner}})
	}
	for i := 0; i < n.min; i++ {
		if err := c.emit(p, body); err != nil {
			return err
		}
	}
	if n.max < 0 {
		// L: split body, out; body; jmp L; out:
		split, err := c.add(p, inst{op: opSplit})
		if err != nil {
			return err
		}
		if err := c.emit(p, body); err != nil {
			return err
		}
		if _, err := c.add(p, inst{op: opJmp, x: int32(split)}); err != nil {
			return err
		}
		c.setSplit(p, split, split+1, len(p.insts), n.greedy)
		return nil
	}
	// (max-min) nested optional copies: split b1, out; b1; split b2, out; ...
	var splits []int
	for i := n.min; i < n.max; i++ {
		split, err := c.add(p, inst{op: opSplit})
		if err != nil {
			return err
		}
		splits = append(splits, split)
		if err := c.emit(p, body); err != nil {
			return err
		}
	}
	for _, s := range splits {
		c.setSplit(p, s, s+1, len(p.insts), n.greedy)
	}
	return nil
}

func (c *reCompiler) setSplit(p *regexProg, at, body, out int, greedy bool) {
	if greedy {
		p.insts[at].x, p.insts[at].y = int32(body), int32(out)
	} else {
		p.insts[at].x, p.insts[at].y = int32(out), int32(body)
	}
}

// ---- matcher -------------------------------------------------------------------

// btEntry is a backtracking point: resume at pc with the text at pos. For a
// greedy opRepeat, n > 0 means "n more runes may be given back", the
// repeat's minimum taken into account.
type btEntry struct {
	pc  int32
	pos int32
	n   int32
}

// matcher holds the reusable backtracking stack and the work count of
// one Encode call.
type matcher struct {
	stack []btEntry
	steps int        // steps taken since reset
	limit int        // steps at which checkpoint runs next
	bytes int        // bytes of text searched since reset
	cn    *canceller // nil: not cancellable
	re    *regex     // the pattern being searched, for errors
}

// reset starts the count of a new Encode call.
func (m *matcher) reset(cn *canceller) {
	m.steps, m.limit, m.bytes, m.cn = 0, 0, 0, cn
}

// checkpoint runs every regexCheckSteps steps: it enforces the budget and
// the stack limit, and looks at the context.
func (m *matcher) checkpoint() error {
	m.limit = m.steps + regexCheckSteps
	if m.steps > regexBaseSteps+regexStepsPerByte*m.bytes || len(m.stack) > maxBacktrack {
		e := &PatternError{Steps: m.steps, Bytes: m.bytes}
		if len(m.stack) > maxBacktrack {
			e.Stack = len(m.stack)
		}
		if m.re != nil {
			e.Component, e.Pattern = m.re.where, m.re.src
		}
		if e.Component == "" {
			e.Component = "a"
		}
		return e
	}
	if m.cn != nil {
		return m.cn.check()
	}
	return nil
}

func decodeAt(text []byte, pos int) (rune, int) {
	if c := text[pos]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRune(text[pos:])
}

// matchAt runs prog anchored at pos and returns the end of the first match
// in priority order.
func (m *matcher) matchAt(prog *regexProg, text []byte, pos int) (int, bool, error) {
	base := len(m.stack)
	defer func() { m.stack = m.stack[:base] }()
	m.stack = append(m.stack, btEntry{pc: 0, pos: int32(pos)})
	insts := prog.insts
	for len(m.stack) > base {
		e := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		pc, pos := int(e.pc), int(e.pos)
		if e.n > 0 {
			// Give back one rune of a greedy repeat, and keep the point
			// if more can be given back. This costs about as much as
			// four other steps, and counts so: the budget is one of time.
			m.steps += 3
			_, sz := utf8.DecodeLastRune(text[:pos])
			pos -= sz
			if e.n > 1 {
				m.stack = append(m.stack, btEntry{pc: e.pc, pos: int32(pos), n: e.n - 1})
			}
			pc++
		}
	run:
		for {
			m.steps++
			if m.steps > m.limit {
				if err := m.checkpoint(); err != nil {
					return 0, false, err
				}
			}
			in := &insts[pc]
			switch in.op {
			case opChar:
				if pos >= len(text) {
					break run
				}
				r, sz := decodeAt(text, pos)
				if !in.cls.has(r) {
					break run
				}
				pos += sz
				pc++
			case opRepeat:
				count := int32(0)
			scan:
				for {
					// In chunks, so that a run of many MiB looks at the
					// context between them.
					lim := min(len(text), pos+repeatChunk)
					for (in.max < 0 || count < in.max) && pos < lim {
						r, sz := decodeAt(text, pos)
						if !in.cls.has(r) {
							break scan
						}
						pos += sz
						count++
					}
					if pos >= len(text) || (in.max >= 0 && count >= in.max) {
						break
					}
					if m.cn != nil {
						if err := m.cn.check(); err != nil {
							return 0, false, err
						}
					}
				}
				m.steps += int(count)
				if count < in.min {
					break run
				}
				if !in.possessive && count > in.min {
					m.stack = append(m.stack, btEntry{pc: int32(pc), pos: int32(pos), n: count - in.min})
				}
				pc++
			case opSplit:
				// Skip a branch that cannot start here.
				if !in.fx.canStart(text, pos) {
					pc = int(in.y)
					continue
				}
				if in.fy.canStart(text, pos) {
					m.stack = append(m.stack, btEntry{pc: in.y, pos: int32(pos)})
				}
				pc = int(in.x)
			case opJmp:
				pc = int(in.x)
			case opMatch:
				return pos, true, nil
			case opLook:
				_, ok, err := m.matchAt(in.sub, text, pos)
				if err != nil {
					return 0, false, err
				}
				if ok == in.neg {
					break run
				}
				pc++
			case opAtomic:
				end, ok, err := m.matchAt(in.sub, text, pos)
				if err != nil {
					return 0, false, err
				}
				if !ok {
					break run
				}
				pos = end
				pc++
			case opAssert:
				ok := false
				switch in.assert {
				case assertBOL:
					ok = pos == 0 || text[pos-1] == '\n'
				case assertEOL:
					ok = pos == len(text) || text[pos] == '\n'
				case assertBOT:
					ok = pos == 0
				case assertEOT:
					ok = pos == len(text)
				}
				if !ok {
					break run
				}
				pc++
			}
		}
	}
	return 0, false, nil
}

// find returns the leftmost match starting at or after from.
func (m *matcher) find(re *regex, text []byte, from int) (int, int, bool, error) {
	for s := from; s <= len(text); {
		end, ok, err := m.matchAt(re.prog, text, s)
		if err != nil {
			return 0, 0, false, err
		}
		if ok {
			return s, end, true, nil
		}
		if s == len(text) {
			break
		}
		_, sz := decodeAt(text, s)
		s += sz
	}
	return 0, 0, false, nil
}

// span is a piece of a string; match tells whether it was a pattern match.
type span struct {
	start, end int32
	match      bool
}

// findAll appends the matches of re in text, as Oniguruma's find_iter
// yields them (an empty match right after the previous match is skipped),
// with the gaps between them, covering text entirely.
func (m *matcher) findAll(re *regex, text []byte, dst []span) ([]span, error) {
	if len(text) == 0 {
		return append(dst, span{0, 0, false}), nil
	}
	m.bytes += len(text)
	m.re = re
	prev := 0
	lastEnd := 0
	lastMatchEnd := -1
	for lastEnd <= len(text) {
		s, e, ok, err := m.find(re, text, lastEnd)
		if err != nil {
			return dst, err
		}
		if !ok {
			break
		}
		if s == e && lastMatchEnd == e {
			if lastEnd >= len(text) {
				break
			}
			_, sz := decodeAt(text, lastEnd)
			lastEnd += sz
			continue
		}
		lastEnd, lastMatchEnd = e, e
		if prev != s {
			dst = append(dst, span{int32(prev), int32(s), false})
		}
		dst = append(dst, span{int32(s), int32(e), true})
		prev = e
	}
	if prev != len(text) {
		dst = append(dst, span{int32(prev), int32(len(text)), false})
	}
	return dst, nil
}
