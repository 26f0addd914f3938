package mooncake_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"lmc/internal/transport"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

// peer is the transport peer for url, with default options.
func peer(t testing.TB, url string) *transport.Peer {
	t.Helper()
	p, err := transport.NewPeer(url)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
