package transport

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		attempt        int
		wait, max      time.Duration
		wantLo, wantHi time.Duration
	}{
		{1, 100 * time.Millisecond, time.Second, 50 * time.Millisecond, 100 * time.Millisecond},
		{3, 100 * time.Millisecond, time.Second, 200 * time.Millisecond, 400 * time.Millisecond},
		{10, 100 * time.Millisecond, time.Second, 500 * time.Millisecond, time.Second},
		{70, 100 * time.Millisecond, time.Second, 500 * time.Millisecond, time.Second}, // the shift overflows: the cap
		{1, 0, 0, 0, 0},
	} {
		for i := 0; i < 50; i++ {
			if d := Backoff(tc.attempt, tc.wait, tc.max); d < tc.wantLo || d > tc.wantHi {
				t.Fatalf("Backoff(%d, %v, %v) = %v, want within [%v, %v]", tc.attempt, tc.wait, tc.max, d, tc.wantLo, tc.wantHi)
			}
		}
	}
}

func TestPause(t *testing.T) {
	t.Parallel()
	if err := Pause(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Pause over a live context: %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Pause(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Pause over a cancelled context: %v, want context.Canceled", err)
	}
}
