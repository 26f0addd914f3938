package transport

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is the pause before retrying after attempt (1 for the first
// try) of the HTTP clients: wait doubled per attempt and capped at
// maxWait, then jittered into [d/2, d] so that clients that failed
// together do not retry together. Whether to retry is each client's.
func Backoff(attempt int, wait, maxWait time.Duration) time.Duration {
	d := wait << (attempt - 1)
	if d > maxWait || d <= 0 {
		d = maxWait
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// Pause waits d, or until ctx is done: then it returns ctx.Err().
func Pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
