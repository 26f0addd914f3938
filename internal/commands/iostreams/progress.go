package iostreams

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is a one-line counter on stderr for long work. It shows nothing
// unless stderr is a terminal and the work has run for more than a second,
// and it erases itself when stopped.
type Progress struct {
	s       *IOStreams
	label   string
	n       atomic.Int64
	start   time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	printed bool
}

// StartProgress begins counting "label" items.
func (s *IOStreams) StartProgress(label string) *Progress {
	p := &Progress{s: s, label: label, start: time.Now(), stop: make(chan struct{})}
	if !s.stderrTTY {
		return p
	}
	p.wg.Add(1)
	go p.loop()
	return p
}

// Add counts n more items.
func (p *Progress) Add(n int) { p.n.Add(int64(n)) }

func (p *Progress) loop() {
	defer p.wg.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	i := 0
	for {
		select {
		case <-p.stop:
			if p.printed {
				fmt.Fprint(p.s.ErrOut, "\r\x1b[K")
			}
			return
		case <-tick.C:
			el := time.Since(p.start)
			if el < time.Second {
				continue
			}
			n := p.n.Load()
			if n == 0 {
				// Nothing done yet: a count of 0 and a rate of 0/s say
				// nothing; say what lmc waits for.
				fmt.Fprintf(p.s.ErrOut, "\r\x1b[K%s waiting for the first answer (%ds)", frames[i%len(frames)], int(el.Seconds()))
			} else {
				fmt.Fprintf(p.s.ErrOut, "\r\x1b[K%s %d %s (%.0f/s)", frames[i%len(frames)], n, p.label, float64(n)/el.Seconds())
			}
			p.printed = true
			i++
		}
	}
}

// Stop erases the line; safe to call more than once.
func (p *Progress) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}
