package mooncake

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The master matches RemoveByRegex (and GetReplicaListByRegex) patterns with
// std::regex(pattern, std::regex::ECMAScript) and std::regex_search over the
// key's bytes (mooncake-ops.md §3.3): GCC libstdc++'s ECMAScript dialect,
// unanchored, case-sensitive, in the "C" locale. Go's regexp is RE2 over
// UTF-8 runes, so the same pattern text can match different keys. Listing
// "what RemoveByRegex would remove" through the admin API, and the sandbox's
// own RemoveByRegex, must match exactly what the master matches, so
// CompileKeyRegexp does not hand the pattern to Go: it parses it with
// libstdc++'s grammar and writes an equivalent RE2 program.
//
// How equivalence is kept:
//
//   - Matching is on bytes. A key that is not pure ASCII is matched as
//     Latin-1 (every byte becomes the rune of the same value), and every
//     character of the pattern, set and class is emitted as runes
//     U+0000..U+00FF, so "." or [^a] consume one byte as libstdc++ does,
//     and invalid UTF-8 cannot turn into U+FFFD.
//   - Every bracket expression, ".", \d \D \s \S \w \W and POSIX class
//     ([[:alpha:]]...) is evaluated here to an explicit set of byte values
//     with libstdc++'s rules ("." excludes \n and \r; \s includes \v, which
//     Go's \s does not; ranges compare chars as signed; '-' placement as in
//     libstdc++ 12) and emitted as explicit ranges.
//   - Repeated quantifiers (a**, a{2}{3}), which libstdc++ accepts and RE2
//     rejects, are nested explicitly.
//   - ^ and $ are text anchors in both (no multiline flag); \b and \B use
//     the ASCII word class in both.
//
// Patterns whose meaning Go cannot reproduce exactly are refused with a
// *RegexError whose Unsupported is true, rather than matched differently:
// lookahead (?= (?!, back-references \1, \cX (libstdc++ reads it as a
// literal X), identity escapes of letters (\p, \k: dialect-dependent),
// [] and [^] (dialect-dependent), collating and equivalence classes
// [[.x.]] [[=x=]], \0 followed by a digit, \u above 0xFF, ranges from a
// byte >= 0x80 down to ASCII (libstdc++'s signed-char wrap-around), and
// repetition counts above 1000 (RE2's limit). Patterns libstdc++ rejects
// (the master answers INVALID_PARAMS, -600) are refused with Unsupported
// false: unbalanced parentheses or brackets, (?i) and other (?x groups,
// a quantifier with nothing to repeat or after an assertion, a malformed
// {n,m}, a trailing backslash, \x or \u without enough hex digits, unknown
// [[:class:]] names, bad ranges. Known gap: libstdc++ also fails patterns
// whose automaton exceeds 100000 states (e.g. deeply nested counted
// repeats) with error_space; such a pattern can be accepted here.
//
// The translation was checked against libstdc++ 12 (GCC 12.2) std::regex
// on generated patterns and keys (see ecmaregex_test.go).

// RegexError is a pattern CompileKeyRegexp refuses.
type RegexError struct {
	Pattern string
	Offset  int // byte offset in Pattern
	Msg     string
	// Unsupported is true when the master would accept the pattern but Go
	// cannot match it the same way; false when the master itself rejects
	// it (std::regex_error, answered as INVALID_PARAMS).
	Unsupported bool
}

func (e *RegexError) Error() string {
	kind := "invalid ECMAScript regex"
	if e.Unsupported {
		kind = "regex not supported by lmc's matcher"
	}
	return fmt.Sprintf("%s %q at byte %d: %s", kind, e.Pattern, e.Offset, e.Msg)
}

// KeyRegexp matches keys exactly as the master's RemoveByRegex does.
type KeyRegexp struct {
	pattern string
	re      *regexp.Regexp
}

// String returns the ECMAScript pattern.
func (r *KeyRegexp) String() string { return r.pattern }

// GoPattern returns the RE2 program the pattern was translated to (over
// Latin-1 runes).
func (r *KeyRegexp) GoPattern() string { return r.re.String() }

// MatchKey reports whether std::regex_search would find the pattern in key.
func (r *KeyRegexp) MatchKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return r.re.MatchString(latin1(key))
		}
	}
	return r.re.MatchString(key)
}

// latin1 maps every byte of s to the rune of the same value.
func latin1(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// CompileKeyRegexp translates an ECMAScript pattern (as the master reads it)
// into a matcher. The empty pattern matches every key, as on the master.
func CompileKeyRegexp(pattern string) (*KeyRegexp, error) {
	p := &reParser{src: pattern}
	out, err := p.disjunction(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.src) {
		// Only an unmatched ')' stops a top-level disjunction.
		return nil, p.invalid("unmatched ')'")
	}
	re, cerr := regexp.Compile(out)
	if cerr != nil {
		return nil, &RegexError{Pattern: pattern, Offset: 0, Msg: "Go's regexp cannot run the translation: " + cerr.Error(), Unsupported: true}
	}
	return &KeyRegexp{pattern: pattern, re: re}, nil
}

// MustCompileKeyRegexp is CompileKeyRegexp that panics, for constants.
func MustCompileKeyRegexp(pattern string) *KeyRegexp {
	r, err := CompileKeyRegexp(pattern)
	if err != nil {
		panic(err)
	}
	return r
}

// maxRepeat is RE2's largest repetition count.
const maxRepeat = 1000

// maxNesting bounds the recursion of the parser (RE2 refuses deeper
// nesting anyway).
const maxNesting = 1000

type reParser struct {
	src   string
	i     int
	depth int
}

func (p *reParser) invalid(msg string) error {
	return &RegexError{Pattern: p.src, Offset: p.i, Msg: msg}
}

func (p *reParser) unsupported(at int, msg string) error {
	return &RegexError{Pattern: p.src, Offset: at, Msg: msg, Unsupported: true}
}

func (p *reParser) eof() bool { return p.i >= len(p.src) }

func (p *reParser) peek() byte { return p.src[p.i] }

// disjunction := alternative ('|' alternative)*. It stops before ')' or
// at the end of the pattern.
func (p *reParser) disjunction(depth int) (string, error) {
	if depth > maxNesting {
		return "", p.unsupported(p.i, "groups nest too deeply")
	}
	var alts []string
	for {
		a, err := p.alternative(depth)
		if err != nil {
			return "", err
		}
		alts = append(alts, a)
		if p.eof() || p.peek() != '|' {
			break
		}
		p.i++
	}
	return strings.Join(alts, "|"), nil
}

// alternative := term*, where term := assertion | atom quantifier*.
func (p *reParser) alternative(depth int) (string, error) {
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch c {
		case '|', ')':
			return b.String(), nil
		case '^', '$':
			p.i++
			b.WriteByte(c)
			if err := p.noQuantifier(); err != nil {
				return "", err
			}
			continue
		case '*', '+', '?', '{':
			return "", p.invalid(fmt.Sprintf("nothing to repeat before %q", c))
		}
		if c == '\\' && p.i+1 < len(p.src) && (p.src[p.i+1] == 'b' || p.src[p.i+1] == 'B') {
			p.i += 2
			b.WriteString(`\` + string(p.src[p.i-1]))
			if err := p.noQuantifier(); err != nil {
				return "", err
			}
			continue
		}
		if strings.HasPrefix(p.src[p.i:], "(?=") || strings.HasPrefix(p.src[p.i:], "(?!") {
			return "", p.unsupported(p.i, "lookahead assertions have no RE2 equivalent")
		}
		atom, err := p.atom(depth)
		if err != nil {
			return "", err
		}
		atom, err = p.quantifiers(atom)
		if err != nil {
			return "", err
		}
		b.WriteString(atom)
	}
	return b.String(), nil
}

// noQuantifier rejects a quantifier right after an assertion: libstdc++
// never quantifies assertions and then fails to parse the quantifier.
func (p *reParser) noQuantifier() error {
	if !p.eof() {
		switch p.peek() {
		case '*', '+', '?', '{':
			return p.invalid("a quantifier cannot follow an assertion")
		}
	}
	return nil
}

// quantifiers applies every quantifier that follows an atom. libstdc++
// accepts a quantifier after a quantifier (a** is (a*)*); RE2 does not, so
// each further one wraps the previous result in a group.
func (p *reParser) quantifiers(atom string) (string, error) {
	n := 0
	for !p.eof() {
		var q string
		switch p.peek() {
		case '*', '+', '?':
			q = string(p.peek())
			p.i++
		case '{':
			at := p.i
			p.i++
			lo, ok := p.count()
			if !ok {
				return "", p.invalid("'{' must start a {n}, {n,} or {n,m} repetition")
			}
			q = "{" + strconv.Itoa(lo)
			hi := -1
			if !p.eof() && p.peek() == ',' {
				p.i++
				q += ","
				if !p.eof() && isDigit(p.peek()) {
					hi, _ = p.count()
					q += strconv.Itoa(hi)
				}
			}
			if p.eof() || p.peek() != '}' {
				return "", p.invalid("unterminated or malformed {n,m} repetition")
			}
			p.i++
			q += "}"
			if hi >= 0 && hi < lo {
				return "", &RegexError{Pattern: p.src, Offset: at, Msg: "repetition {n,m} with m < n"}
			}
			if lo > maxRepeat || hi > maxRepeat {
				return "", p.unsupported(at, fmt.Sprintf("repetition counts above %d", maxRepeat))
			}
		default:
			return atom, nil
		}
		if !p.eof() && p.peek() == '?' { // non-greedy: same set of matches
			p.i++
			q += "?"
		}
		if n > 0 {
			atom = "(?:" + atom + ")"
		}
		atom += q
		n++
	}
	return atom, nil
}

// count reads a decimal repetition count, saturating far above maxRepeat.
func (p *reParser) count() (int, bool) {
	start := p.i
	v := 0
	for !p.eof() && isDigit(p.peek()) {
		if v < 1<<20 {
			v = v*10 + int(p.peek()-'0')
		}
		p.i++
	}
	return v, p.i > start
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// atom := '.' | char | escape | bracket | group.
func (p *reParser) atom(depth int) (string, error) {
	c := p.peek()
	switch c {
	case '.':
		p.i++
		var s byteSet
		s.addRange(0, 255)
		s.del('\n')
		s.del('\r')
		return s.goClass(), nil
	case '[':
		s, err := p.bracket()
		if err != nil {
			return "", err
		}
		return s.goClass(), nil
	case '(':
		at := p.i
		p.i++
		if !p.eof() && p.peek() == '?' {
			p.i++
			if p.eof() || p.peek() != ':' {
				return "", &RegexError{Pattern: p.src, Offset: at, Msg: "only (?: (?= (?! groups exist (no inline flags such as (?i), no named groups)"}
			}
			p.i++
		}
		inner, err := p.disjunction(depth + 1)
		if err != nil {
			return "", err
		}
		if p.eof() {
			return "", &RegexError{Pattern: p.src, Offset: at, Msg: "unmatched '('"}
		}
		p.i++ // ')'
		return "(?:" + inner + ")", nil
	case '\\':
		e, err := p.escape(false)
		if err != nil {
			return "", err
		}
		if e.class != nil {
			return e.class.goClass(), nil
		}
		return litRune(e.char), nil
	}
	// Any other byte, including ']', '}', NUL and bytes >= 0x80, is itself.
	p.i++
	return litRune(c), nil
}

func litRune(c byte) string { return fmt.Sprintf(`\x{%02x}`, c) }

// escaped is what a backslash sequence stands for: one byte, or a class.
type escaped struct {
	char  byte
	class *byteSet
}

// escape reads a backslash sequence (p.i at the backslash) the way
// libstdc++'s _M_eat_escape_ecma does. \b is only reached here inside a
// bracket (backspace); outside, alternative handles \b and \B.
func (p *reParser) escape(inBracket bool) (escaped, error) {
	at := p.i
	p.i++
	if p.eof() {
		return escaped{}, &RegexError{Pattern: p.src, Offset: at, Msg: "trailing backslash"}
	}
	c := p.peek()
	p.i++
	switch c {
	case '0':
		if !p.eof() && isDigit(p.peek()) {
			return escaped{}, p.unsupported(at, `\0 followed by a digit (NUL then a digit in libstdc++, an octal escape elsewhere)`)
		}
		return escaped{char: 0}, nil
	case 'f':
		return escaped{char: '\f'}, nil
	case 'n':
		return escaped{char: '\n'}, nil
	case 'r':
		return escaped{char: '\r'}, nil
	case 't':
		return escaped{char: '\t'}, nil
	case 'v':
		return escaped{char: '\v'}, nil
	case 'b':
		if inBracket {
			return escaped{char: '\b'}, nil
		}
	case 'B':
		if inBracket {
			return escaped{}, &RegexError{Pattern: p.src, Offset: at, Msg: `\B inside [...]`}
		}
	case 'd', 'D', 's', 'S', 'w', 'W':
		s := quotedClass(c)
		return escaped{class: &s}, nil
	case 'c':
		return escaped{}, p.unsupported(at, `\cX (libstdc++ matches a literal X, ECMAScript a control character)`)
	case 'x', 'u':
		n := 2
		if c == 'u' {
			n = 4
		}
		if len(p.src)-p.i < n {
			return escaped{}, &RegexError{Pattern: p.src, Offset: at, Msg: fmt.Sprintf(`\%c needs %d hex digits`, c, n)}
		}
		h := p.src[p.i : p.i+n]
		for i := 0; i < n; i++ {
			if !isHex(h[i]) {
				return escaped{}, &RegexError{Pattern: p.src, Offset: at, Msg: fmt.Sprintf(`\%c needs %d hex digits`, c, n)}
			}
		}
		p.i += n
		v, _ := strconv.ParseUint(h, 16, 32)
		if v > 0xFF {
			return escaped{}, p.unsupported(at, `\u above 00FF (keys are matched as bytes)`)
		}
		return escaped{char: byte(v)}, nil
	}
	switch {
	case isDigit(c) && inBracket:
		return escaped{}, &RegexError{Pattern: p.src, Offset: at, Msg: "a back-reference inside [...]"}
	case isDigit(c):
		return escaped{}, p.unsupported(at, "back-references have no RE2 equivalent")
	case isLetter(c):
		return escaped{}, p.unsupported(at, fmt.Sprintf(`\%c is not an ECMAScript escape (libstdc++ would match a literal %c)`, c, c))
	}
	return escaped{char: c}, nil // identity escape: \. \\ \/ \- \] ...
}

// bracket reads [...] (p.i at '[') following libstdc++ 12's
// _M_expression_term, and returns the set of bytes it matches.
func (p *reParser) bracket() (byteSet, error) {
	at := p.i
	p.i++
	neg := false
	if !p.eof() && p.peek() == '^' {
		neg = true
		p.i++
	}
	if !p.eof() && p.peek() == ']' {
		return byteSet{}, p.unsupported(at, "[] and [^] mean different things in different dialects")
	}
	var s byteSet
	// last is the pending single character, kept back because it may start
	// a range; lastClass records that the previous term was a class.
	last, haveLast, lastClass := byte(0), false, false
	flush := func() {
		if haveLast {
			s.add(last)
			haveLast = false
		}
	}
	type tok struct {
		kind  int // tChar, tDash, tClass, tEnd
		char  byte
		class byteSet
	}
	const (
		tChar = iota
		tDash
		tClass
		tEnd
	)
	next := func() (tok, error) {
		if p.eof() {
			return tok{}, &RegexError{Pattern: p.src, Offset: at, Msg: "unterminated '['"}
		}
		c := p.peek()
		switch c {
		case ']':
			p.i++
			return tok{kind: tEnd}, nil
		case '-':
			p.i++
			return tok{kind: tDash}, nil
		case '\\':
			e, err := p.escape(true)
			if err != nil {
				return tok{}, err
			}
			if e.class != nil {
				return tok{kind: tClass, class: *e.class}, nil
			}
			return tok{kind: tChar, char: e.char}, nil
		case '[':
			if p.i+1 < len(p.src) {
				switch d := p.src[p.i+1]; d {
				case '.', '=':
					return tok{}, p.unsupported(p.i, "collating elements and equivalence classes ([[.x.]], [[=x=]])")
				case ':':
					start := p.i
					end := strings.Index(p.src[p.i+2:], ":]")
					if end < 0 {
						return tok{}, &RegexError{Pattern: p.src, Offset: start, Msg: "unterminated [:class:]"}
					}
					name := p.src[p.i+2 : p.i+2+end]
					cls, ok := posixClass(name)
					if !ok {
						return tok{}, &RegexError{Pattern: p.src, Offset: start, Msg: fmt.Sprintf("unknown character class [:%s:]", name)}
					}
					p.i += 2 + end + 2
					return tok{kind: tClass, class: cls}, nil
				}
			} else {
				return tok{}, &RegexError{Pattern: p.src, Offset: p.i, Msg: "unterminated '['"}
			}
		}
		p.i++
		return tok{kind: tChar, char: c}, nil
	}
	t, err := next()
	for err == nil && t.kind != tEnd {
		switch t.kind {
		case tClass:
			flush()
			s.union(&t.class)
			lastClass = true
		case tChar:
			flush()
			last, haveLast, lastClass = t.char, true, false
		case tDash:
			dashAt := p.i - 1
			var n tok
			n, err = next()
			if err != nil {
				break
			}
			switch {
			case n.kind == tEnd: // "-]": a literal dash
				flush()
				s.add('-')
				t = n
				continue
			case lastClass:
				return byteSet{}, &RegexError{Pattern: p.src, Offset: dashAt, Msg: "a range cannot start with a class"}
			case haveLast:
				hi := byte('-')
				switch n.kind {
				case tChar:
					hi = n.char
				case tDash:
				default:
					return byteSet{}, &RegexError{Pattern: p.src, Offset: dashAt, Msg: "a range cannot end with a class"}
				}
				if err := p.addRange(&s, last, hi, dashAt); err != nil {
					return byteSet{}, err
				}
				haveLast, lastClass = false, false
			default: // a dash after a range or at the start: literal
				flush()
				// The token after it is processed normally.
				last, haveLast, lastClass = '-', true, false
				t = n
				continue
			}
		}
		if err == nil {
			t, err = next()
		}
	}
	if err != nil {
		return byteSet{}, err
	}
	flush()
	if neg {
		s.invert()
	}
	return s, nil
}

// addRange adds lo-hi with libstdc++'s comparison of chars as signed.
func (p *reParser) addRange(s *byteSet, lo, hi byte, at int) error {
	slo, shi := int8(lo), int8(hi)
	if slo > shi {
		return &RegexError{Pattern: p.src, Offset: at, Msg: fmt.Sprintf("range %q-%q is out of order", lo, hi)}
	}
	if lo >= 0x80 && hi < 0x80 {
		return p.unsupported(at, "a range from a byte >= 0x80 to ASCII (libstdc++ compares chars as signed)")
	}
	s.addRange(lo, hi)
	return nil
}

// byteSet is a set of byte values.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) del(c byte)      { s[c>>6] &^= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}

func (s *byteSet) union(o *byteSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

func (s *byteSet) invert() {
	for i := range s {
		s[i] = ^s[i]
	}
}

// goClass writes the set as an RE2 class over runes U+0000..U+00FF.
func (s *byteSet) goClass() string {
	var b strings.Builder
	b.WriteByte('[')
	empty := true
	for c := 0; c < 256; {
		if !s.has(byte(c)) {
			c++
			continue
		}
		lo := c
		for c < 256 && s.has(byte(c)) {
			c++
		}
		empty = false
		b.WriteString(litRune(byte(lo)))
		if c-1 > lo {
			b.WriteByte('-')
			b.WriteString(litRune(byte(c - 1)))
		}
	}
	if empty {
		return `[^\x{00}-\x{10ffff}]`
	}
	b.WriteByte(']')
	return b.String()
}

// ctype classes of the "C" locale (the master never sets a locale).
func cclass(pred func(c byte) bool) byteSet {
	var s byteSet
	for c := 0; c < 128; c++ {
		if pred(byte(c)) {
			s.add(byte(c))
		}
	}
	return s
}

func isSpaceC(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }
func isAlnumC(c byte) bool { return isDigit(c) || isLetter(c) }
func isPunctC(c byte) bool { return c > ' ' && c < 0x7f && !isAlnumC(c) }

func posixClass(name string) (byteSet, bool) {
	switch name {
	case "alnum":
		return cclass(isAlnumC), true
	case "alpha":
		return cclass(isLetter), true
	case "blank":
		return cclass(func(c byte) bool { return c == ' ' || c == '\t' }), true
	case "cntrl":
		return cclass(func(c byte) bool { return c < ' ' || c == 0x7f }), true
	case "digit", "d":
		return cclass(isDigit), true
	case "graph":
		return cclass(func(c byte) bool { return c > ' ' && c < 0x7f }), true
	case "lower":
		return cclass(func(c byte) bool { return 'a' <= c && c <= 'z' }), true
	case "print":
		return cclass(func(c byte) bool { return c >= ' ' && c < 0x7f }), true
	case "punct":
		return cclass(isPunctC), true
	case "space", "s":
		return cclass(isSpaceC), true
	case "upper":
		return cclass(func(c byte) bool { return 'A' <= c && c <= 'Z' }), true
	case "xdigit":
		return cclass(isHex), true
	case "w":
		return cclass(func(c byte) bool { return isAlnumC(c) || c == '_' }), true
	}
	return byteSet{}, false
}

func quotedClass(c byte) byteSet {
	var name string
	switch c | 0x20 {
	case 'd':
		name = "d"
	case 's':
		name = "s"
	default:
		name = "w"
	}
	s, _ := posixClass(name)
	if c < 'a' { // \D \S \W
		s.invert()
	}
	return s
}
