package commands

import (
	"context"
	"testing"

	"lmc/internal/commands/iostreams"
)

// BenchmarkNewCmdRoot: building the whole command tree (what completion,
// help on a command and unknown names still build).
func BenchmarkNewCmdRoot(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ios, _, _, _ := iostreams.Test()
		_ = NewCmdRoot(&Factory{IOStreams: ios})
	}
}

// benchMain runs all of lmc with args after package initialisation: the
// start-up beyond init that NewCmdRootFor keeps small.
func benchMain(b *testing.B, args ...string) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ios, _, _, _ := iostreams.Test()
		if code := Main(context.Background(), ios, args, BuildInfo{Version: "bench"}); code != 0 {
			b.Fatalf("lmc %v: exit %d", args, code)
		}
	}
}

// BenchmarkMainVersion: lmc --version (root alone).
func BenchmarkMainVersion(b *testing.B) { benchMain(b, "--version") }

// BenchmarkMainHelp: lmc help (root and the commands' stand-ins).
func BenchmarkMainHelp(b *testing.B) { benchMain(b, "help") }

// BenchmarkMainKeysHelp: lmc keys --help (root and keys).
func BenchmarkMainKeysHelp(b *testing.B) { benchMain(b, "keys", "--help") }
