package main

import (
	"math"
	"runtime/debug"
	"testing"
	"time"
)

var sink []byte

// gcPercent reads the GC percentage (SetGCPercent is the only reader).
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// TestDeferFirstGC: the collector is off until the process holds firstGC
// bytes; the collection that limit forces hands it back to GOGC=100 with
// no limit. GOGC in the environment keeps deferFirstGC out.
func TestDeferFirstGC(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	deferFirstGC()
	if p := gcPercent(); p != 50 {
		t.Fatalf("with GOGC=50 set, GC percent = %d, want 50 (left alone)", p)
	}

	t.Setenv("GOGC", "")
	deferFirstGC()
	if p := gcPercent(); p != -1 {
		t.Fatalf("GC percent after deferFirstGC = %d, want -1 (off)", p)
	}
	if l := debug.SetMemoryLimit(-1); l != firstGC {
		t.Fatalf("memory limit = %d, want %d", l, firstGC)
	}
	deadline := time.Now().Add(10 * time.Second)
	for gcPercent() != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GC percent still %d after allocating past the limit, want 100", gcPercent())
		}
		for i := 0; i < 8; i++ {
			sink = make([]byte, 4<<20) // garbage, until the limit collects it
		}
		time.Sleep(time.Millisecond)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Fatalf("memory limit after the first collection = %d, want none (MaxInt64)", l)
	}
}
