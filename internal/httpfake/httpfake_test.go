package httpfake

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestFaultsCountDown(t *testing.T) {
	t.Parallel()
	var b Faults[string]
	if f := b.Take("/a"); f != nil {
		t.Fatalf("empty box gave %q, want nil", *f)
	}
	b.Inject("/a", "twice", 2)
	b.Inject("/p/{id}", "always", 0)
	for i := 0; i < 2; i++ {
		if f := b.Take("/a", "/p/{id}"); f == nil || *f != "twice" {
			t.Fatalf("take %d of /a: %v, want twice", i, f)
		}
	}
	if f := b.Take("/a", "/p/{id}"); f == nil || *f != "always" {
		t.Fatalf("after /a is used up: %v, want the pattern's fault", f)
	}
	b.Clear()
	if f := b.Take("/p/{id}"); f != nil {
		t.Fatalf("after Clear: %q, want nil", *f)
	}
}

func TestHold(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	if !Hold(r, time.Millisecond, nil) {
		t.Fatal("Hold(1ms) ended early, want the full time")
	}
	done := make(chan struct{})
	close(done)
	if Hold(r, -1, done) {
		t.Fatal("Hold(forever) with done closed reported the full time, want false")
	}
}
