package commands

import (
	"context"
	"errors"
	"strconv"

	"lmc/internal/mooncake"
	"lmc/internal/tokenize"
	"lmc/internal/transport"
)

// Exit codes. They are a contract with scripts: never renumber them.
const (
	ExitOK          = 0   // success
	ExitFailed      = 1   // the operation failed: the backend said no, or an internal error
	ExitUsage       = 2   // usage error or invalid input
	ExitUnavailable = 3   // backend unreachable or timed out (safe to retry)
	ExitBelow       = 4   // lookup result below the requested threshold
	ExitInterrupted = 130 // interrupted (SIGINT/SIGTERM)
)

// ExitError carries an exit code. Silent ones print nothing more (the
// command already printed its result).
type ExitError struct {
	Code   int
	Err    error
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return "exit code " + strconv.Itoa(e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is bad flags, arguments or input (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// UnavailableError marks a backend that could not be reached in time.
type UnavailableError struct {
	Backend string
	Err     error
}

func (e *UnavailableError) Error() string { return e.Backend + ": " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// ExitCodeFor maps an error to lmc's exit code.
func ExitCodeFor(ctx context.Context, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if ctx != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var ue *UsageError
	var ie *tokenize.InputError
	if errors.As(err, &ue) || errors.As(err, &ie) {
		return ExitUsage
	}
	var ua *UnavailableError
	if errors.As(err, &ua) {
		return ExitUnavailable
	}
	var pe *mooncake.ProtocolError
	if errors.As(err, &pe) {
		return ExitFailed
	}
	if transport.Classify(err) == transport.ClassUnreachable {
		return ExitUnavailable
	}
	return ExitFailed
}
