package pyobj

import (
	"encoding/hex"
	"strings"
	"testing"
)

// The worked example of the engine-keys spec (§2.1): the object
// (NONE_HASH, (5,), ("my-lora", ("img", -11), "salt")) with NONE_HASH the
// sha256_cbor digest of "vllm-none-hash", as pickle protocol 5 and as
// canonical CBOR (bytes from CPython 3.11 and cbor2 5.4.6).
const noneHashCBOR = "9bd96a485ad84efdafb72ee48a1d7a69bcead0f8f0433173941b276b9581eef0"

func compact(s string) string { return strings.ReplaceAll(s, " ", "") }

func TestSpecWorkedExamplePickle(t *testing.T) {
	nh, _ := hex.DecodeString(noneHashCBOR)
	var p Pickler
	p.Begin()
	p.TupleStart(3)
	p.Bytes(nh)
	p.TupleStart(1)
	p.Uint32(5)
	p.TupleEnd(1)
	p.TupleStart(3)
	p.Str("my-lora")
	p.TupleStart(2)
	p.Str("img")
	p.Int(-11)
	p.TupleEnd(2)
	p.Str("salt")
	p.TupleEnd(3)
	p.TupleEnd(3)
	got := hex.EncodeToString(p.End())
	want := compact("80 05 95 4a00000000000000 43 20" + noneHashCBOR + "94 4b 05 85 94 8c 07 6d792d6c6f7261 94 8c 03 696d67 94 4a f5ffffff 86 94 8c 04 73616c74 94 87 94 87 94 2e")
	if got != want {
		t.Fatalf("pickle\n got %s\nwant %s", got, want)
	}
	if p.Memo() != 8 {
		t.Fatalf("memo %d, want 8 (bytes, (5,), 3 str, the pair, extras, outer)", p.Memo())
	}
}

func TestSpecWorkedExampleCBOR(t *testing.T) {
	nh, _ := hex.DecodeString(noneHashCBOR)
	var c CBOR
	c.Array(3)
	c.ByteString(nh)
	c.Array(1)
	c.Uint32s([]uint32{5})
	c.Array(3)
	c.Text("my-lora")
	c.Array(2)
	c.Text("img")
	c.Int(-11)
	c.Text("salt")
	got := hex.EncodeToString(c.Bytes())
	want := compact("83 5820" + noneHashCBOR + "81 05 83 67 6d792d6c6f7261 82 63 696d67 2a 64 73616c74")
	if got != want {
		t.Fatalf("cbor\n got %s\nwant %s", got, want)
	}
}

// Ints as save_long writes them (CPython 3.11 pickle.dumps(x, 5)[11:-1] for
// the framed cases).
func TestPickleInts(t *testing.T) {
	cases := map[int64]string{
		0: "4b00", 255: "4bff", 256: "4d0001", 65535: "4dffff", 65536: "4a00000100",
		-1: "4affffffff", -11: "4af5ffffff", -2147483648: "4a00000080",
		2147483648: "8a050000008000", -2147483649: "8a05ffffff7fff",
		1<<63 - 1: "8a08ffffffffffffff7f", -1 << 63: "8a080000000000000080",
	}
	for x, want := range cases {
		var p Pickler
		p.Begin()
		p.Int(x)
		b := p.End()
		// PROTO 5, then FRAME (9 bytes) when the frame reaches 4 bytes.
		body := b[2:]
		if body[0] == opFrame {
			body = body[9:]
		}
		if got := hex.EncodeToString(body[:len(body)-1]); got != want {
			t.Errorf("%d: %s, want %s", x, got, want)
		}
	}
}

// A repeated str object is a memo reference; an equal but distinct str is
// written again.
func TestPickleMemoGet(t *testing.T) {
	var p Pickler
	p.Begin()
	p.TupleStart(2)
	p.Str("ab")
	first := p.Memo() - 1
	p.Get(first)
	p.TupleEnd(2)
	if got := hex.EncodeToString(p.End()); got != "8005950a000000000000008c02616294680086942e" {
		t.Fatalf("got %s", got)
	}
}

// Payloads of 64 KiB and more go outside any frame: the frame before is
// closed, the MEMOIZE after opens a new one (too short to keep its header).
func TestPickleLargeStrUnframed(t *testing.T) {
	s := strings.Repeat("a", FrameSizeTarget)
	var p Pickler
	p.Begin()
	p.Str(s)
	b := p.End()
	want := "8005" + "58" + "00000100"
	if got := hex.EncodeToString(b[:7]); got != want {
		t.Fatalf("head %s, want %s", got, want)
	}
	if tail := hex.EncodeToString(b[len(b)-2:]); tail != "942e" || len(b) != 2+5+FrameSizeTarget+2 {
		t.Fatalf("tail %s len %d", tail, len(b))
	}
}
