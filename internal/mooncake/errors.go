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
	for _, e := range errorCodeNames {
		if e.code == c {
			return e.name
		}
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// Error implements error.
func (c ErrorCode) Error() string { return fmt.Sprintf("%s (%d)", c.String(), int32(c)) }

// ParseErrorCode maps an upstream name such as "OBJECT_NOT_FOUND" back to
// its code, as used in the admin API's JSON answers.
func ParseErrorCode(name string) (ErrorCode, bool) {
	for _, e := range errorCodeNames {
		if e.name == name {
			return e.code, true
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
// of a tl::expected, or by the admin API in an error_code field.
type MasterError struct {
	Method string
	Code   ErrorCode
	Name   string // Code.String(), e.g. "OBJECT_NOT_FOUND"
	// Msg is the master's own message when it sent one (the admin API's
	// error_message, e.g. "service plane is not active"); RPC replies carry
	// none.
	Msg string
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
	if e.Msg != "" && e.Msg != e.Name {
		return fmt.Sprintf("mooncake: %s%s (%d): %q", m, e.Name, int32(e.Code), e.Msg)
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

// ProtocolError is the peer answering wrongly: a malformed frame or body, a
// reply that does not belong to any call, a reply larger than its request
// can produce, or an answer that contradicts the request or itself. It is
// never a connectivity problem (those wrap the net or context error), so a
// caller can tell "answered wrongly" (lmc exit 1) from "unreachable" (exit
// 3) with errors.As. Offset is the byte offset where decoding failed: within
// the frame (header included) for replies read by the Client, within the
// body for OpenBody on a bare body and for admin API answers; it is -1 when
// no single byte is to blame.
type ProtocolError struct {
	// Method is the RPC (e.g. "BatchExistKey") or admin path (e.g.
	// "/batch_query_keys") whose reply was wrong, when known.
	Method string
	Offset int
	Msg    string
	// Err is one of the sentinels below (ErrTypeMismatch, ErrShortBody,
	// ErrBadMagic, ErrFrameTooLarge, ErrUnexpectedSeq, ErrTruncated,
	// ErrCountMismatch, ErrTrailingData, ErrContradiction), or nil.
	Err error
}

func (e *ProtocolError) Error() string {
	m := ""
	if e.Method != "" {
		m = e.Method + ": "
	}
	if e.Offset < 0 {
		return fmt.Sprintf("mooncake: %sprotocol error: %s", m, e.Msg)
	}
	return fmt.Sprintf("mooncake: %sprotocol error at byte %d: %s", m, e.Offset, e.Msg)
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// withMethod returns err with Method filled in when it is a *ProtocolError
// that names no call yet (a copy: the original may be shared).
func withMethod(err error, method string) error {
	var pe *ProtocolError
	if method == "" || !errors.As(err, &pe) || pe.Method != "" {
		return err
	}
	cp := *pe
	cp.Method = method
	return &cp
}

// AdminError is the admin API answering, with HTTP 2xx, that the request
// failed ({"success": false, "error": "..."}) without a Mooncake error
// code. Msg quotes the master.
type AdminError struct {
	Path       string // e.g. "/batch_query_keys"
	StatusCode int
	Msg        string
}

func (e *AdminError) Error() string {
	return fmt.Sprintf("mooncake admin: %s: the master answered success=false (HTTP %d): %q", e.Path, e.StatusCode, e.Msg)
}

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
	// ErrFrameTooLarge: a frame announces more bytes than its request can
	// produce (or than the configured ceiling).
	ErrFrameTooLarge = errors.New("coro_rpc frame too large")
	// ErrUnexpectedSeq: a reply carries a seq_num no call is waiting for.
	ErrUnexpectedSeq = errors.New("coro_rpc reply with an unexpected seq_num")
	// ErrTruncated: the connection ended in the middle of a reply (after
	// its first byte). The end of a connection before any byte of a reply
	// is io.EOF instead: that is the master going away, not answering
	// wrongly.
	ErrTruncated = errors.New("reply truncated")
	// ErrCountMismatch: a batch reply holds another number of results than
	// the keys sent.
	ErrCountMismatch = errors.New("result count differs from the request")
	// ErrTrailingData: bytes (or a second JSON document) follow a complete
	// answer.
	ErrTrailingData = errors.New("trailing data after the answer")
	// ErrContradiction: an answer contradicts itself or what the master's
	// semantics allow (ok together with an error name, a success holding no
	// replica, more replicas than a key can have).
	ErrContradiction = errors.New("self-contradictory answer")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("mooncake: client closed")
)
