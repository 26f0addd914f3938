package mooncake

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Cases whose answers come from libstdc++ 12 std::regex (ECMAScript),
// through testdata/regexoracle, and from the real master where the spec
// reports them (mooncake-ops.md §3.3).
var keyRegexpCases = []struct {
	pattern string
	key     string
	match   bool
}{
	// §3.3, observed on the master.
	{"r", "r0", true}, {"r", "xr3", true}, {"r", "R4", false},
	{`\d$`, "seg-a-7", true}, {`\d$`, "seg-a-x", false},
	{"", "anything", true},
	{"^d[0-9]$", "d7", true}, {"^d[0-9]$", "d77", false}, {"^d[0-9]$", "xd7", false},
	// "." is one byte and excludes \n and \r only.
	{"^.$", "é", false}, {"^..$", "é", true}, {"^.$", "\r", false}, {"^.$", "\n", false}, {"^.$", "\v", true},
	{"^.$", "\x00", true}, {"^.$", "\xff", true},
	// \s includes \v (Go's \s does not).
	{`\s`, "a\vb", true}, {`\S`, "\v", false}, {`[\s]`, "\v", true}, {`[^\s]`, "\v", false}, {`[\S]`, "\v", false},
	{`\w`, "é", false}, {`\W`, "é", true}, {`\bé`, "aé", true}, {`a\b`, "aé", true}, {`\Bb`, "ab", true},
	// Classes, ranges, dashes as libstdc++ 12 places them.
	{"[a-z-0]", "-", true}, {"[a-z-0]", "0", true}, {"[a-z-0]", "5", false},
	{"[--0]", "/", true}, {"[--0]", "1", false}, {"[-a]", "-", true}, {"[a-]", "-", true},
	{`[\w-]`, "-", true}, {"[[:alpha:]]", "Q", true}, {"[[:alpha:]]", "é", false}, {"[^[:alpha:]]", "é", true},
	{"[[:space:]]", "\v", true}, {"[[]", "[", true}, {"a]", "a]", true}, {"a}", "a}", true},
	{`[\b]`, "\b", true}, {`[\x41-\x43]`, "B", true}, {`[\x80-\xff]`, "é", true},
	{"[é]", "\xa9", true}, {"é+", "\xc3\xa9\xa9\xa9", true}, {"^é+$", "éé", false},
	// Escapes.
	{`\x41`, "A", true}, {`\u0041`, "A", true}, {`\u00e9`, "\xe9", true}, {`\0`, "a\x00", true},
	{`\.`, "a.b", true}, {`\.`, "ab", false}, {`a\/b`, "a/b", true}, {`\t`, "\t", true},
	// Quantifiers, including repeated ones.
	{"a**", "b", true}, {"^a{2}{3}$", "aaaaaa", true}, {"^a{2}{3}$", "aaaa", false},
	{"^a{2,}$", "aaa", true}, {"^a{2,3}$", "aaaa", false}, {"^a*?$", "aa", true}, {"^(ab)+$", "abab", true},
	{"^(?:ab|cd)$", "cd", true}, {"^$", "", true}, {"x|", "q", true},
	{"\x00", "a\x00b", true},
}

func TestKeyRegexpCases(t *testing.T) {
	for _, c := range keyRegexpCases {
		re, err := CompileKeyRegexp(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := re.MatchKey(c.key); got != c.match {
			t.Errorf("%q on %q = %v, want %v (Go pattern %s)", c.pattern, c.key, got, c.match, re.GoPattern())
		}
	}
}

// Refused patterns: invalid ones (the master answers INVALID_PARAMS) and
// valid ones Go cannot reproduce.
func TestKeyRegexpRefusals(t *testing.T) {
	for _, c := range []struct {
		pattern     string
		unsupported bool
	}{
		// §3.3: rejected by the master.
		{"(?i)abd", false}, {"([", false},
		{"(", false}, {")", false}, {"a)", false}, {"[a", false}, {"*a", false}, {"a|*", false},
		{"^*", false}, {`\b+`, false}, {"a{", false}, {"a{1", false}, {"a{x}", false}, {"a{,2}", false},
		{"a{3,2}", false}, {"{2}", false}, {`a\`, false}, {`\x4`, false}, {`\u004`, false}, {`\xzz`, false},
		{"[[:foo:]]", false}, {"[z-a]", false}, {`[\w-a]`, false}, {`[a-\d]`, false}, {"[a--]", false},
		{`[\B]`, false}, {`[\1]`, false}, {`[\x00-\x80]`, false}, {"(?P<n>a)", false}, {"(?<n>a)", false},
		// Valid for the master, refused here.
		{"^ab(?=c)", true}, {"a(?!b)", true}, {`(a)\1`, true}, {`\cA`, true}, {`\p`, true}, {`\k`, true},
		{"[]", true}, {"[^]", true}, {"[]a]", true}, {"[[.a.]]", true}, {"[[=a=]]", true}, {`\01`, true},
		{`\u0100`, true}, {`[\xff-\x01]`, true}, {"a{1001}", true}, {"a{2,1001}", true},
	} {
		_, err := CompileKeyRegexp(c.pattern)
		var re *RegexError
		if !errors.As(err, &re) {
			t.Errorf("%q accepted", c.pattern)
			continue
		}
		if re.Unsupported != c.unsupported || re.Pattern != c.pattern {
			t.Errorf("%q: %v (unsupported=%v, want %v)", c.pattern, err, re.Unsupported, c.unsupported)
		}
	}
}

// FuzzKeyRegexp: the translator never panics, whatever it accepts RE2
// compiles, and matching never panics.
func FuzzKeyRegexp(f *testing.F) {
	for _, c := range keyRegexpCases {
		f.Add(c.pattern, c.key)
	}
	f.Add("[a-z-0]{2,3}?|(?:x**)+$", "\xff\x00\n")
	f.Fuzz(func(t *testing.T, pattern, key string) {
		re, err := CompileKeyRegexp(pattern)
		if err != nil {
			var rerr *RegexError
			if !errors.As(err, &rerr) || rerr.Offset < 0 || rerr.Offset > len(pattern) {
				t.Fatalf("%q: bad error %v", pattern, err)
			}
			return
		}
		m1 := re.MatchKey(key)
		if m2 := re.MatchKey(key); m1 != m2 {
			t.Fatal("MatchKey is not deterministic")
		}
		if pattern == "" && !m1 {
			t.Fatal("the empty pattern matches everything")
		}
	})
}

// genPattern builds a random pattern from the constructs that differ
// between libstdc++ ECMAScript and RE2.
func genPattern(r *rand.Rand, depth int) string {
	atoms := []string{"a", "b", "-", ".", `\d`, `\D`, `\s`, `\S`, `\w`, `\W`, `\x41`, `\xe9`, `\n`, `\r`, `\v`,
		`\t`, `\0`, "]", "}", `\.`, `\-`, "\xc3\xa9", "\xff", "[a-c]", "[^a]", "[a-z-0]", "[--0]", "[-a]", "[a-]",
		`[\w-]`, `[\s]`, `[\S]`, `[^\s]`, "[[:alpha:]]", "[[:space:]x]", "[[:punct:]]", `[\b]`, `[\x80-\xff]`,
		"[[]", "[a-b-c]", `[\Wa]`, `[^\Dx]`, "[%--]", "[^-]", "^", "$", `\b`, `\B`, "\x00", "é", "|"}
	risky := []string{"[z-a]", `[\d-z]`, "(", ")", "[", "{", "*", "?", "+", "(?:", "(?=", "(?i)", `\1`, `\q`,
		`\c`, "{2}", "{1,2}", "{,1}", "{2,}", `\`, "[]", "[^]", `\x4`, "[[:x:]]", `[\xff-\x01]`}
	quants := []string{"", "", "", "*", "+", "?", "*?", "{2}", "{0,1}", "{1,}", "**", "+?", "{2}{2}"}
	var b strings.Builder
	n := 1 + r.IntN(5)
	for i := 0; i < n; i++ {
		switch k := r.IntN(10); {
		case k == 0 && depth < 3:
			b.WriteString("(" + genPattern(r, depth+1) + ")")
		case k == 1 && depth < 3:
			b.WriteString("(?:" + genPattern(r, depth+1) + "|" + genPattern(r, depth+1) + ")")
		case k == 2 && r.IntN(4) == 0:
			b.WriteString(risky[r.IntN(len(risky))])
		default:
			b.WriteString(atoms[r.IntN(len(atoms))])
		}
		b.WriteString(quants[r.IntN(len(quants))])
	}
	return b.String()
}

func genKey(r *rand.Rand) string {
	alphabet := []byte("abcAB-_.019 \n\r\v\t[]{}\x00\xc3\xa9\xff\x80é")
	n := r.IntN(8)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestKeyRegexpAgainstLibstdcxx compares the translation with the real
// std::regex on generated patterns and keys. Opt-in: build the oracle with
// "g++ -O1 -o regexoracle testdata/regexoracle/oracle.cc" and set
// LMC_REGEX_ORACLE to its path (LMC_REGEX_ORACLE_N patterns, default 3000).
func TestKeyRegexpAgainstLibstdcxx(t *testing.T) {
	bin := os.Getenv("LMC_REGEX_ORACLE")
	if bin == "" {
		t.Skip("set LMC_REGEX_ORACLE to a built testdata/regexoracle binary")
	}
	n := 3000
	if v := os.Getenv("LMC_REGEX_ORACLE_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	seed := uint64(1)
	if v := os.Getenv("LMC_REGEX_ORACLE_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	type probe struct{ pattern, key string }
	var probes []probe
	for _, c := range keyRegexpCases {
		probes = append(probes, probe{c.pattern, c.key}) // may repeat a pattern: judged again, harmless
	}
	for i := 0; i < n; i++ {
		p := genPattern(r, 0)
		for j := 0; j < 6; j++ {
			probes = append(probes, probe{p, genKey(r)})
		}
	}
	var in strings.Builder
	for _, p := range probes {
		k := hex.EncodeToString([]byte(p.key))
		if k == "" {
			k = "-"
		}
		ph := hex.EncodeToString([]byte(p.pattern))
		if ph == "" {
			ph = "-"
		}
		fmt.Fprintf(&in, "%s %s\n", ph, k)
	}
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	var accepted, refused, invalid, slow int
	for i := 0; sc.Scan(); i++ {
		p, got := probes[i], sc.Text()
		re, cerr := CompileKeyRegexp(p.pattern)
		var rerr *RegexError
		errors.As(cerr, &rerr)
		switch {
		case got == "T":
			slow++
		case got == "E" && cerr == nil:
			t.Errorf("libstdc++ rejects %q, lmc accepts it (as %s)", p.pattern, re.GoPattern())
		case got == "E":
			invalid++
		case cerr != nil && !rerr.Unsupported:
			t.Errorf("libstdc++ accepts %q, lmc calls it invalid: %v", p.pattern, cerr)
		case cerr != nil:
			refused++
		default:
			accepted++
			if want := got == "1"; re.MatchKey(p.key) != want {
				t.Errorf("%q on %q: libstdc++ %v, lmc %v (Go %s)", p.pattern, p.key, want, !want, re.GoPattern())
			}
		}
	}
	t.Logf("%d probes: %d matched identically, %d refused as unsupported, %d rejected by both, %d too slow for libstdc++", len(probes), accepted, refused, invalid, slow)
}
