package mooncake

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrorCode is Mooncake's application-level result code (an int32 enum).
// It travels inside a successful coro_rpc reply as the error arm of a
// tl::expected. ErrorCode implements error so that
// errors.Is(err, mooncake.CodeObjectNotFound) works on a *MasterError.
type ErrorCode int32

// String returns the upstream name (for example "OBJECT_NOT_FOUND"), or
// "ErrorCode(n)" for a value this package does not know.
func (c ErrorCode) String() string {
	if s, ok := errorCodeNames[c]; ok {
		return s
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// Error implements error.
func (c ErrorCode) Error() string { return fmt.Sprintf("%s (%d)", c.String(), int32(c)) }

// ParseErrorCode maps an upstream name such as "OBJECT_NOT_FOUND" back to
// its code, as used in the admin API's JSON answers.
func ParseErrorCode(name string) (ErrorCode, bool) {
	for c, n := range errorCodeNames {
		if n == name {
			return c, true
		}
	}
	return 0, false
}

// Errc is a coro_rpc framework error code (coro_rpc::errc, spec §1.3).
type Errc uint16

// coro_rpc error codes.
const (
	ErrcOK                    Errc = 0
	ErrcIOError               Errc = 1
	ErrcNotConnected          Errc = 2
	ErrcTimedOut              Errc = 3
	ErrcInvalidRPCArguments   Errc = 4
	ErrcAddressInUse          Errc = 5
	ErrcBadAddress            Errc = 6
	ErrcOpenError             Errc = 7
	ErrcListenError           Errc = 8
	ErrcOperationCanceled     Errc = 9
	ErrcRPCThrowException     Errc = 10
	ErrcFunctionNotRegistered Errc = 11
	ErrcProtocolError         Errc = 12
	ErrcUnknownProtocolVer    Errc = 13
	ErrcMessageTooLarge       Errc = 14
	ErrcServerHasRan          Errc = 15
	ErrcInvalidRPCResult      Errc = 16
	ErrcSerialNumberConflict  Errc = 17
)

var errcNames = [...]string{
	"ok", "io_error", "not_connected", "timed_out", "invalid_rpc_arguments",
	"address_in_used", "bad_address", "open_error", "listen_error",
	"operation_canceled", "rpc_throw_exception", "function_not_registered",
	"protocol_error", "unknown_protocol_version", "message_too_large",
	"server_has_ran", "invalid_rpc_result", "serial_number_conflict",
}

// String returns the coro_rpc name of the code.
func (e Errc) String() string {
	if int(e) < len(errcNames) {
		return errcNames[e]
	}
	return "errc(" + strconv.Itoa(int(e)) + ")"
}

// RPCError is a coro_rpc-level failure: the reply header carried a non-zero
// err_code (unknown function, undecodable arguments, handler exception...).
type RPCError struct {
	Method string // the Mooncake method called, if known
	Code   Errc
	Name   string // coro_rpc name of Code, e.g. "invalid_rpc_arguments"
	Msg    string // the server's message
}

func (e *RPCError) Error() string {
	m := ""
	if e.Method != "" {
		m = e.Method + ": "
	}
	return fmt.Sprintf("mooncake: %scoro_rpc error %d (%s): %s", m, e.Code, e.Name, e.Msg)
}

// Is reports whether target is an Errc equal to e.Code.
func (e *RPCError) Is(target error) bool {
	t, ok := target.(*RPCError)
	return ok && t.Code == e.Code && (t.Method == "" || t.Method == e.Method)
}

// MasterError is a Mooncake ErrorCode returned by the master in the error arm
// of a tl::expected.
type MasterError struct {
	Method string
	Code   ErrorCode
	Name   string // Code.String(), e.g. "OBJECT_NOT_FOUND"
}

// NewMasterError builds a *MasterError with its Name filled in.
func NewMasterError(method string, code ErrorCode) *MasterError {
	return &MasterError{Method: method, Code: code, Name: code.String()}
}

func (e *MasterError) Error() string {
	m := ""
	if e.Method != "" {
		m = e.Method + ": "
	}
	return fmt.Sprintf("mooncake: %s%s (%d)", m, e.Name, int32(e.Code))
}

// Is lets errors.Is match a bare ErrorCode.
func (e *MasterError) Is(target error) bool {
	switch t := target.(type) {
	case ErrorCode:
		return t == e.Code
	case *MasterError:
		return t.Code == e.Code
	}
	return false
}

// Unwrap exposes the ErrorCode.
func (e *MasterError) Unwrap() error { return e.Code }

// ProtocolError reports a malformed frame or body. Offset is the byte
// offset where decoding failed: within the frame (header included) for
// replies read by the Client, within the body for OpenBody on a bare body.
type ProtocolError struct {
	Offset int
	Msg    string
	Err    error // ErrTypeMismatch, ErrShortBody, ErrBadMagic, or nil
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("mooncake: protocol error at byte %d: %s", e.Offset, e.Msg)
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// Sentinel errors; match them with errors.Is.
var (
	// ErrTypeMismatch: a body's struct_pack type hash (or literal) is not the
	// expected one, i.e. the master was built from another schema (spec §10).
	ErrTypeMismatch = errors.New("struct_pack type mismatch")
	// ErrShortBody: a length or field runs past the end of the body.
	ErrShortBody = errors.New("struct_pack body too short")
	// ErrBadMagic: a frame header does not start with 0x15 or has a
	// version or serialize type this package does not speak.
	ErrBadMagic = errors.New("not a coro_rpc frame")
	// ErrFrameTooLarge: a frame announces more bytes than the configured limit.
	ErrFrameTooLarge = errors.New("coro_rpc frame too large")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("mooncake: client closed")
)
