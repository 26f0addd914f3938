package digest

import "unsafe"

// accumSSE is xxh3_amd64.s: xxh3AccumulateGo with SSE2.
//
//go:noescape
func accumSSE(acc *[8]uint64, data, key unsafe.Pointer, len uint64)

func xxh3Accumulate(accs *[8]uint64, b []byte) {
	accumSSE(accs, unsafe.Pointer(unsafe.SliceData(b)), unsafe.Pointer(&xxh3Secret), uint64(len(b)))
}
