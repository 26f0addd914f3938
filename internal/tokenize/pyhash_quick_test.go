package tokenize

import "testing"

func TestPyHashQuick(t *testing.T) {
	if got := pyStrHash("0", 0, false); got != 5313149338359954478 {
		t.Fatalf("hash('0') = %d", got)
	}
	if got := pyStrHash("0", 0, true); got != -5282990986457227702 {
		t.Fatalf("siphash24 hash('0') = %d", got)
	}
	if got := pyStrHash("42", 42, false); got != 866561823186450123 {
		t.Fatalf("hash('42') = %d", got)
	}
	th := newTupleHasher()
	if th.sum() != HashEmptyTuple {
		t.Fatal("empty tuple")
	}
	// chunk 0 of tokens 0..255 with NONE_HASH 0
	tok := make([]uint32, 256)
	for i := range tok { tok[i] = uint32(i) }
	h := newTupleHasher(); h.add(pyIntHash(0)); h.add(hashTokenTuple(tok)); h.add(HashEmptyTuple)
	if h.sum() != 3131758554629441992 { t.Fatalf("chunk0 = %d", h.sum()) }
}
