//go:build !amd64

package digest

import "encoding/binary"

func compress(st *[16]uint32, block *[16]uint32, counter uint64, blen, flags uint32) {
	compressGo(st, block, counter, blen, flags)
}

func blockWords(b []byte) *[16]uint32 {
	var w [16]uint32
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return &w
}
