package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"lmc/internal/commands/iostreams"
)

// watchLoop runs round every interval until ctx ends. Each round renders
// into its own frame (an explicit writer, never stdout swapped): on a
// terminal the frame replaces the screen under a title line; elsewhere
// frames are appended (lookup makes them JSON Lines).
func watchLoop(ctx context.Context, ios *iostreams.IOStreams, out io.Writer, interval time.Duration, title string,
	round func(w io.Writer, stamp string) error) error {
	for n := 1; ; n++ {
		now := time.Now().UTC().Format(time.RFC3339)
		var frame bytes.Buffer
		if err := round(&frame, now); err != nil {
			return err
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
