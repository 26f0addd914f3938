package digest

// sse41Enabled sets whether the SSE4.1 compression is used (tests; only
// after a first call) and returns the previous setting.
func sse41Enabled(on bool) bool {
	old := sse41.ok
	sse41.ok = on
	return old
}
