package sandboxmaster

import (
	"time"

	mc "lmc/internal/mooncake"
)

// Fault changes how the server answers matching requests. Faults are tried
// in the order they were injected; the first match applies.
type Fault struct {
	// Method is the method name to match ("BatchExistKey"), "unknown" for
	// unregistered function ids, or "" for every request.
	Method string
	// Times limits the fault to that many matching requests; 0 = no limit.
	Times int
	// Delay holds the request this long before answering. Like a slow
	// handler, it also delays every later request on the same connection.
	Delay time.Duration
	// DropConnection closes the connection without replying.
	DropConnection bool
	// CloseMidFrame writes the first 8 bytes of the reply, then closes.
	CloseMidFrame bool
	// RawReply is written verbatim instead of the reply (garbage, a bad
	// magic, a frame with the wrong seq_num...). The connection stays open.
	RawReply []byte
	// Body replaces the reply body (the header is built for it, with the
	// request's seq_num): a well-framed reply saying whatever the test
	// wants (wrong counts, unknown states, garbage).
	Body []byte
	// CorruptBody flips the first byte of the reply body (its hash head).
	CorruptBody bool
	// Errc answers a coro_rpc error with ErrMsg instead of running the handler.
	Errc   mc.Errc
	ErrMsg string
	// Code makes the handler answer this Mooncake ErrorCode in its expected
	// (for batch calls, in every entry) without running the operation.
	Code mc.ErrorCode
}

type faultEntry struct {
	Fault
	left int
}

// InjectFault adds a fault and returns a function that removes it.
func (s *Server) InjectFault(f Fault) (remove func()) {
	e := &faultEntry{Fault: f, left: f.Times}
	s.mu.Lock()
	s.faults = append(s.faults, e)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.faults {
			if x == e {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault returns the fault for a request to method; s.mu must be held.
func (s *Server) takeFault(method string) *Fault {
	for i, e := range s.faults {
		if e.Method != "" && e.Method != method {
			continue
		}
		f := e.Fault
		if e.Times > 0 {
			e.left--
			if e.left <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}
