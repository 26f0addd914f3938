package phasetime

import (
	"regexp"
	"sync"
	"testing"
	"time"
)

func TestRecorderSumsConcurrently(t *testing.T) {
	r := Start()
	past := time.Now().Add(-2 * time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.Since(Keys, past) }()
	}
	wg.Wait()
	if got := r.Sum(Keys); got < 16*time.Millisecond {
		t.Fatalf("Sum(Keys) = %v, want at least 8 x 2 ms", got)
	}
	if got := r.Sum(RPC); got != 0 {
		t.Fatalf("Sum(RPC) = %v, want 0 (nothing recorded)", got)
	}
	if re := regexp.MustCompile(`^keys \d+\.\d\d ms; \d+\.\d\d ms since main$`); !re.MatchString(r.Report()) {
		t.Fatalf("Report() = %q, want only the keys phase and the wall time", r.Report())
	}
}

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Since(Read, time.Now())
	if r.Sum(Read) != 0 || r.Report() != "" {
		t.Fatalf("a nil recorder recorded something: %v %q", r.Sum(Read), r.Report())
	}
}
