// Command lmc inspects and manages LMCache KV caches on Mooncake stores and
// LMCache cache controllers.
package main

import (
	"context"
	"os"
	"os/signal"
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
	if version == "dev" {
		stampFromBuildInfo()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Main(ctx, iostreams.System(), os.Args[1:], commands.BuildInfo{Version: version, Commit: commit, Date: date})
	stop()
	os.Exit(code)
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
