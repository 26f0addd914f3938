//go:build !amd64

package digest

func sse41Enabled(bool) bool { return false }
