package keyslab

import (
	"strings"
	"testing"
)

func TestSlab(t *testing.T) {
	var s Slab
	var got []string
	for i := 0; i < 3000; i++ { // several 64 KiB blocks
		b := s.Begin(40)
		b = append(b, strings.Repeat(string(rune('a'+i%26)), 40)...)
		got = append(got, s.Commit(b))
	}
	for i, g := range got {
		if g != strings.Repeat(string(rune('a'+i%26)), 40) {
			t.Fatalf("string %d changed: %q", i, g)
		}
	}
	l1, l2 := s.Strings(3), s.Strings(2)
	l1 = append(l1, "x") // must not run into l2
	if l2[0] != "" || len(l1) != 4 {
		t.Fatal("Strings slices overlap")
	}
	if s.Commit(s.Begin(0)) != "" {
		t.Fatal("empty commit")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Commit of an outgrown buffer did not panic")
		}
	}()
	b := s.Begin(2)
	b = append(b, "more than the room asked for, past the block's end"+strings.Repeat("x", 70000)...)
	s.Commit(b)
}

func BenchmarkSlab(b *testing.B) {
	var s Slab
	key := []byte("Qwen-Qwen3-32B_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef_7_k")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf := s.Begin(len(key))
		s.Commit(append(buf, key...))
	}
}
