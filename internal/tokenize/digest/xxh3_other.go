//go:build !amd64

package digest

func xxh3Accumulate(accs *[8]uint64, b []byte) { xxh3AccumulateGo(accs, b) }
