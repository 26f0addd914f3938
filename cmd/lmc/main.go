// Command lmc inspects and manages LMCache KV caches on Mooncake stores and
// LMCache cache controllers.
package main

import (
	"context"
	"math"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"lmc/internal/commands"
	"lmc/internal/commands/iostreams"
)

// Stamped at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	deferFirstGC()
	if version == "dev" {
		stampFromBuildInfo()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Main(ctx, iostreams.System(), os.Args[1:], commands.BuildInfo{Version: version, Commit: commit, Date: date})
	stop()
	os.Exit(code)
}

// firstGC is how much memory the Go runtime may hold before its first
// collection.
const firstGC = 16 << 20

// deferFirstGC keeps the garbage collector off until the process holds
// firstGC bytes, then hands it back to the default pacing (GOGC=100, no
// limit). Most lmc runs are short and allocate less than that: they never
// collect (a 128k-token lookup --master is about 1 ms faster), while a run
// that grows past it is collected as usual from then on, so large runs do
// not thrash against a limit. GOGC or GOMEMLIMIT in the environment win.
func deferFirstGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(firstGC)
	// The cleanup runs after the first collection finds the sentinel
	// unreachable (it is at once): that collection is the limit's.
	runtime.AddCleanup(&gcSentinel{}, func(struct{}) {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	}, struct{}{})
}

// gcSentinel is heap-allocated and holds a pointer, so that it is not
// batched with other small objects (whose cleanups may never run).
type gcSentinel struct {
	_ *int
	_ [8]byte
}

// stampFromBuildInfo fills commit and date from the VCS stamp Go adds to
// builds of a checkout ("go build", "go install", "go run"), so an
// unstamped binary still says which commit it is.
func stampFromBuildInfo() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if len(s.Value) >= 7 {
				commit = s.Value[:7]
			}
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if commit != "none" {
		version = "0.0.0-dev+" + commit
		if dirty {
			version += ".dirty"
		}
	}
}
