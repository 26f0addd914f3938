// Package phasetime adds up where one lmc command spends its wall time, by
// phase: building the command tree, reading tokens, computing keys, waiting
// for backends, printing. lmc --verbose prints the sums when the command
// ends; the end-to-end benchmark reads them to say where the time goes.
//
// It is not a profiler: phases are coarse, and in the lookup pipeline they
// overlap (prompts are read, hashed and sent concurrently), so the sums can
// exceed the wall time. Recording costs two clock reads per phase entered.
package phasetime

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Phase is one kind of work.
type Phase int

// The phases, in the order Report prints them.
const (
	Tree  Phase = iota // building the command tree and parsing flags
	Read               // reading and parsing token input (and tokenizing text)
	Keys               // computing chunk hashes and key strings
	RPC                // waiting for a backend (master RPC, admin API, controller)
	Print              // rendering and writing output
	numPhases
)

var names = [numPhases]string{"tree", "read", "keys", "rpc", "print"}

func (p Phase) String() string { return names[p] }

// Recorder sums the time spent per phase; the zero value is not ready: use
// Start. A nil *Recorder records nothing.
type Recorder struct {
	start time.Time
	sums  [numPhases]atomic.Int64
}

// Start returns a recorder whose clock starts now.
func Start() *Recorder { return &Recorder{start: time.Now()} }

// Since adds the time since t to phase p. Safe for concurrent use.
func (r *Recorder) Since(p Phase, t time.Time) {
	if r != nil {
		r.sums[p].Add(int64(time.Since(t)))
	}
}

// Sum is the time recorded for p.
func (r *Recorder) Sum(p Phase) time.Duration {
	if r == nil {
		return 0
	}
	return time.Duration(r.sums[p].Load())
}

// Report is one line: each phase that recorded time, then the wall time
// since Start, e.g. "tree 1.52 ms, read 1.10 ms, keys 0.41 ms, rpc 0.30 ms,
// print 0.38 ms; 3.95 ms since main".
func (r *Recorder) Report() string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for p := Phase(0); p < numPhases; p++ {
		d := r.Sum(p)
		if d == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", p, ms(d))
	}
	if b.Len() > 0 {
		b.WriteString("; ")
	}
	fmt.Fprintf(&b, "%s since main", ms(time.Since(r.start)))
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Nanoseconds())/1e6) }
