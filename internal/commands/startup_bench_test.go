package commands

import (
	"context"
	"testing"

	"lmc/internal/commands/iostreams"
)

// BenchmarkNewCmdRoot: building the whole command tree, which every lmc
// process does before it parses its arguments (start-up beyond package
// initialisation).
func BenchmarkNewCmdRoot(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ios, _, _, _ := iostreams.Test()
		f := &Factory{IOStreams: ios}
		_ = NewCmdRoot(f)
	}
}

// BenchmarkMainVersion: all of lmc --version after package initialisation.
func BenchmarkMainVersion(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ios, _, _, _ := iostreams.Test()
		if code := Main(context.Background(), ios, []string{"--version"}, BuildInfo{Version: "bench"}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkMainHelp: all of lmc help after package initialisation.
func BenchmarkMainHelp(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ios, _, _, _ := iostreams.Test()
		if code := Main(context.Background(), ios, []string{"help"}, BuildInfo{Version: "bench"}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkMainKeysHelp: lmc keys --help after package initialisation: the
// tree NewCmdRootFor builds for one command (root and keys).
func BenchmarkMainKeysHelp(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ios, _, _, _ := iostreams.Test()
		if code := Main(context.Background(), ios, []string{"keys", "--help"}, BuildInfo{Version: "bench"}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
