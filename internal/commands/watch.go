package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/safetext"
)

// watchErrorView is a --watch round that failed, when piped.
type watchErrorView struct {
	Time     string `json:"time"`
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
}

// watchLoop runs round every interval until ctx ends. Each round renders
// into its own frame (an explicit writer, never stdout swapped): on a
// terminal the frame replaces the screen under a title line; elsewhere
// frames are appended (lookup makes them JSON Lines).
//
// A round that fails (the backend restarts, a request times out) does not
// end the watch: the frame shows the outage — on a terminal a line, when
// piped a JSON line {"time", "error", "exit_code"} — and the next round
// tries again (the master client redials on demand). Only bad usage and
// Ctrl-C end it.
func watchLoop(ctx context.Context, ios *iostreams.IOStreams, out io.Writer, interval time.Duration, title string,
	round func(w io.Writer, stamp string) error) error {
	for n := 1; ; n++ {
		now := time.Now().UTC().Format(time.RFC3339)
		var frame bytes.Buffer
		if err := round(&frame, now); err != nil {
			var ue *UsageError
			if ctx.Err() != nil || errors.As(err, &ue) {
				return err
			}
			frame.Reset()
			if ios.IsStdoutTTY() {
				fmt.Fprintf(&frame, "%s %s\n%s\n", ios.Styles().Error.Render("unavailable:"), safetext.Escape(err.Error()),
					ios.Styles().Muted.Render(fmt.Sprintf("trying again in %s", interval)))
			} else if err := printers.WriteJSONLine(&frame, watchErrorView{Time: now, Error: err.Error(), ExitCode: ExitCodeFor(ctx, err)}); err != nil {
				return err
			}
		}
		if ios.IsStdoutTTY() {
			if err := ios.ClearScreen(out); err != nil {
				return err
			}
			header := ios.Styles().Muted.Render(fmt.Sprintf("every %s: %s (%s, round %d) — Ctrl-C to stop", interval, title, now, n))
			if _, err := fmt.Fprint(out, header+"\n\n"); err != nil {
				return err
			}
		}
		if _, err := out.Write(frame.Bytes()); err != nil {
			return err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
