package mooncake_test

import (
	"bytes"
	"io"
	"runtime"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}
