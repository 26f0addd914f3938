package pyobj

import (
	"bytes"
	"encoding/binary"
	"testing"
)

var uint32Edges = []uint32{0, 1, 23, 24, 25, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff}

// checkUint32s: the batched Uint32s write exactly what one Head or Uint32
// per ID writes.
func checkUint32s(t *testing.T, toks []uint32) {
	t.Helper()
	var fast, slow CBOR
	fast.Uint32s(toks)
	for _, x := range toks {
		slow.Head(0, uint64(x))
	}
	if !bytes.Equal(fast.Bytes(), slow.Bytes()) {
		t.Fatalf("CBOR Uint32s(%v) = % x, want % x", toks, fast.Bytes(), slow.Bytes())
	}
	var pf, ps Pickler
	pf.Begin()
	pf.Uint32s(toks)
	ps.Begin()
	for _, x := range toks {
		ps.Uint32(x)
	}
	if f, s := pf.End(), ps.End(); !bytes.Equal(f, s) {
		t.Fatalf("pickle Uint32s of %d IDs differs from one Uint32 per ID", len(toks))
	}
}

func TestUint32sForms(t *testing.T) {
	checkUint32s(t, nil)
	checkUint32s(t, uint32Edges)
	for _, x := range uint32Edges {
		checkUint32s(t, []uint32{x})
	}
	// Enough IDs to cross pickle frames (64 KiB) at every alignment.
	var many []uint32
	x := uint32(1)
	for i := 0; i < 40000; i++ {
		x = x*1664525 + 1013904223
		many = append(many, x>>uint(x%32))
	}
	checkUint32s(t, many)
}

func FuzzUint32s(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 24, 0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		toks := make([]uint32, len(b)/4)
		for i := range toks {
			toks[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		checkUint32s(t, toks)
	})
}
