// Command lmc inspects and manages LMCache KV caches on Mooncake stores and
// LMCache cache controllers.
package main

import (
	"context"
	"os"
	"os/signal"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Main(ctx, iostreams.System(), os.Args[1:], commands.BuildInfo{Version: version, Commit: commit, Date: date})
	stop()
	os.Exit(code)
}
