package commands

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/lmcachekey"
)

// specHex parses the frame notation of mooncake-ops.md: hex bytes, '|'
// separators, and "quoted" strings for their bytes.
func specHex(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\n' || c == '\t' || c == '|':
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				t.Fatalf("unterminated string in %q", s)
			}
			out = append(out, s[i+1:i+1+j]...)
			i += j + 2
		default:
			b, err := hex.DecodeString(s[i : i+2])
			if err != nil {
				t.Fatalf("bad hex at %d of %q: %v", i, s, err)
			}
			out = append(out, b...)
			i += 2
		}
	}
	return out
}

// relayCall is one RPC seen by the relay: the request frame and its reply
// frame, raw.
type relayCall struct {
	conn     int
	seq      uint32
	fid      uint32
	req, rsp []byte
}

// frameRelay sits between lmc and a master and records every frame, as the
// spec's logging relay did.
type frameRelay struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	calls  []*relayCall
	conns  int
}

func startRelay(t *testing.T, target string) *frameRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &frameRelay{t: t, ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *frameRelay) addr() string { return r.ln.Addr().String() }

func (r *frameRelay) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer up.Close()
	r.mu.Lock()
	r.conns++
	id := r.conns
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			h := make([]byte, mooncake.RequestHeaderSize)
			if _, err := io.ReadFull(c, h); err != nil {
				up.(*net.TCPConn).CloseWrite()
				return
			}
			n := binary.LittleEndian.Uint32(h[12:]) + binary.LittleEndian.Uint32(h[16:])
			body := make([]byte, n)
			if _, err := io.ReadFull(c, body); err != nil {
				return
			}
			frame := append(h, body...)
			r.mu.Lock()
			r.calls = append(r.calls, &relayCall{conn: id, seq: binary.LittleEndian.Uint32(h[4:]), fid: binary.LittleEndian.Uint32(h[8:]), req: frame})
			r.mu.Unlock()
			if _, err := up.Write(frame); err != nil {
				return
			}
		}
	}()
	for {
		h := make([]byte, mooncake.ResponseHeaderSize)
		if _, err := io.ReadFull(up, h); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(h[8:]) + binary.LittleEndian.Uint32(h[12:])
		body := make([]byte, n)
		if _, err := io.ReadFull(up, body); err != nil {
			break
		}
		frame := append(h, body...)
		seq := binary.LittleEndian.Uint32(h[4:])
		r.mu.Lock()
		for _, call := range r.calls {
			if call.conn == id && call.seq == seq && call.rsp == nil {
				call.rsp = frame
				break
			}
		}
		r.mu.Unlock()
		if _, err := c.Write(frame); err != nil {
			break
		}
	}
	c.Close()
	<-done
}

// callsOf returns the recorded calls of method m, in order.
func (r *frameRelay) callsOf(m mooncake.Method) []*relayCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*relayCall
	for _, c := range r.calls {
		if c.fid == m.ID {
			out = append(out, c)
		}
	}
	return out
}

// methods lists the names of every method called, for "lmc never calls X".
func (r *frameRelay) methods() map[uint32]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[uint32]int{}
	for _, c := range r.calls {
		out[c.fid]++
	}
	return out
}

// withSeq returns a spec frame with the seq field set to seq (the spec's
// raw client numbered its calls differently from lmc's).
func withSeq(frame []byte, seq uint32) []byte {
	out := append([]byte(nil), frame...)
	binary.LittleEndian.PutUint32(out[4:], seq)
	return out
}

// sameFrame fails unless got is the spec frame want with got's seq.
func sameFrame(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) < 8 {
		t.Fatalf("%s: no frame (%x)", what, got)
	}
	want = withSeq(want, binary.LittleEndian.Uint32(got[4:]))
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the spec's frame:\n got %x\nwant %x", what, got, want)
	}
}

// requestFrame builds an untagged request frame of m as lmc's client sends
// it: the spec's header layout and the body of pack.
func requestFrame(m mooncake.Method, seq uint32, pack func(*mooncake.Encoder)) []byte {
	body := mooncake.AppendBody(nil, m.Args, mooncake.BodyFormat{}, pack)
	h := mooncake.AppendRequestHeader(nil, mooncake.RequestHeader{Magic: mooncake.Magic, Seq: seq, FunctionID: m.ID, Length: uint32(len(body))})
	return append(h, body...)
}

// lease grants a read lease on keys, as an engine's lookup does.
func lease(t *testing.T, s *sandboxmaster.Server, keys ...string) {
	t.Helper()
	c, err := mooncake.Dial(context.Background(), s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.BatchExistKey(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
}

// opsMaster starts a sandbox master with options.
func opsMaster(t *testing.T, opts ...sandboxmaster.Option) *sandboxmaster.Server {
	t.Helper()
	s, err := sandboxmaster.Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// promptArgs are the key and input flags of a prompt of n tokens whose
// keys keysFor(n, builtin) computes.
func promptArgs(n int) []string {
	return []string{"--model", model, "--hash-seed", "0", "--save-unfull-chunk", "--tokens", seqTokens(n)}
}

// rankKeys computes the keys of every rank of a world-size-ws prompt.
func rankKeys(t *testing.T, n, ws int) [][]string {
	t.Helper()
	var out [][]string
	for r := 0; r < ws; r++ {
		p := lmcachekey.DefaultParams()
		p.Model, p.WorldSize, p.WorkerID, p.SaveUnfullChunk = model, ws, r, true
		out = append(out, seedZeroKeys(t, p, n))
	}
	return out
}

// eventually retries cond for up to d.
func eventually(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// stallMode switches TestStoreWalkStall's fake listing to hang at its end.
var stallMode atomic.Bool
