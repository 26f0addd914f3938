package digest

import (
	"sync"
	"unsafe"
)

// compressSSE41 is compressGo with SSE4.1 (blake3_amd64.s), its output in
// out; chain and out may be the same memory (it reads all of chain and
// block before it writes).
//
//go:noescape
func compressSSE41(chain *[8]uint32, block *[16]uint32, counter uint64, blen uint32, flags uint32, out *[16]uint32)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// sse41 is whether the CPU has SSE4.1 and SSSE3, asked once, on the first
// BLAKE3 call: a CPUID at start-up would cost every lmc command (it traps
// to the hypervisor on a VM).
var sse41 struct {
	once sync.Once
	ok   bool
}

func hasSSE41() bool {
	sse41.once.Do(func() {
		_, _, ecx, _ := cpuid(1, 0)
		sse41.ok = ecx&(1<<19) != 0 && ecx&(1<<9) != 0
	})
	return sse41.ok
}

func compress(st *[16]uint32, block *[16]uint32, counter uint64, blen, flags uint32) {
	if hasSSE41() {
		compressSSE41((*[8]uint32)(st[:8]), block, counter, blen, flags, st)
		return
	}
	compressGo(st, block, counter, blen, flags)
}

// blockWords is the first 64 bytes of b as BLAKE3's little-endian message
// words: amd64 is little-endian, so the bytes are the words.
func blockWords(b []byte) *[16]uint32 {
	_ = b[63]
	return (*[16]uint32)(unsafe.Pointer(unsafe.SliceData(b)))
}
