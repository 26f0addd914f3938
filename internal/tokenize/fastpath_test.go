package tokenize

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAllPaths reads src as ReadAll does, with the word-at-a-time token
// path on or off.
func readAllPaths(src string, slow bool) ([]Prompt, error) {
	return readAllSized(src, slow, 0)
}

// readAllSized is readAllPaths with a size hint (SetSize; 0 for none).
func readAllSized(src string, slow bool, size int64) ([]Prompt, error) {
	rd := NewReader(strings.NewReader(src), "in")
	rd.slow = slow
	rd.SetSize(size)
	return readAll(rd)
}

func sameRead(t *testing.T, src string) {
	t.Helper()
	slow, serr := readAllPaths(src, true)
	// Any size hint, right or wrong, is only a capacity.
	for _, size := range []int64{0, int64(len(src)), 1, int64(len(src)) / 3, 10 * int64(len(src)), 1 << 40} {
		fast, ferr := readAllSized(src, false, size)
		if fmt.Sprint(ferr) != fmt.Sprint(serr) || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q (size hint %d): word path = %v, %v; byte path = %v, %v", src, size, fast, ferr, slow, serr)
		}
	}
}

// TestTokenPathsAgree: the word path reads exactly what the byte path
// reads, and fails exactly where it fails, on the forms that reach it.
func TestTokenPathsAgree(t *testing.T) {
	for _, s := range []string{
		"[1, 2, 3]", "[1,2,3]", "[0, 10, 0100]", "[1234567, 12345678, 123456789, 4294967295, 4294967296]",
		"[1,  2,\t3 ,4]", "[1, 2,\n3]", "[1,,2]", "[1, ,2]", "[1, 2.5]", "[1, 2e3]", "[1, -2]", "[1, 2", "[01]",
		"[9999999, 99999999,9999999,0]", "{\"tokens\": [5, 6, 7], \"id\": \"a\"}\n[8, 9]\n",
		"[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]",
	} {
		sameRead(t, s)
	}
	// Every position of the window's end and of a malformed item.
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < 30000; i++ {
		if i > 0 {
			b.WriteString([]string{", ", ",", ",  ", " , "}[i%4])
		}
		fmt.Fprint(&b, (i*7919)%1300000)
	}
	b.WriteByte(']')
	sameRead(t, b.String())
	for _, bad := range []string{"x", "00", "1.5", "-1", "12345678901", " ", ",", "]"} {
		s := b.String()
		at := len(s) / 3
		sameRead(t, s[:at]+bad+s[at:])
	}
}

// FuzzTokenPaths: the word path agrees with the byte path on any input.
func FuzzTokenPaths(f *testing.F) {
	for _, s := range []string{"[1, 2, 3]", "[0,01]", "[1234567,12345678]", "[4294967295, 4294967296]", "{\"tokens\":[1, 2]}\n[3,4]", "[1, 2,\n3]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameRead(t, s) })
}

// TestSizeHintOnlyForTheFirstPrompt: in JSON Lines of long prompts, the
// file's size says nothing about where a later line's array ends, so only
// the first prompt is sized from it; the others grow as usual.
func TestSizeHintOnlyForTheFirstPrompt(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for p := 0; p < 8; p++ {
		b.WriteByte('[')
		for i := 0; i < 30000; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprint(&b, 100000+i)
		}
		b.WriteString("]\n")
	}
	src := b.String()
	rd := NewReader(strings.NewReader(src), "in")
	rd.SetSize(int64(len(src)))
	for n := 0; ; n++ {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tokens) != 30000 {
			t.Fatalf("prompt %d: %d tokens, want 30000", n, len(p.Tokens))
		}
		if n > 0 && cap(p.Tokens) > 2*len(p.Tokens) {
			t.Errorf("prompt %d: capacity %d for %d tokens: sized from the file, not its own line", n, cap(p.Tokens), len(p.Tokens))
		}
	}
}
