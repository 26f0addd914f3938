package controllerclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"lmc/internal/transport"
)

// ErrorKind classifies an APIError.
type ErrorKind string

// Error kinds, derived from what the controller really answers (spec §5.3
// and the recorded transcripts).
const (
	// KindValidation: 422, the controller rejected the request body.
	KindValidation ErrorKind = "validation"
	// KindCountMismatch: "The number of tokens <x> should be the same
	// across all workers." — unknown instance, no workers, or workers that
	// disagree.
	KindCountMismatch ErrorKind = "count_mismatch"
	// KindWorkerFailure: "Operation '<op>' is not supported." — a worker
	// threw while executing the operation.
	KindWorkerFailure ErrorKind = "worker_failure"
	// KindBusy: "Operation cannot be accomplished in current state" — the
	// controller's socket to a worker is busy or wedged.
	KindBusy ErrorKind = "busy"
	// KindNoReason: 500 with an empty detail (check_finish, decompress).
	KindNoReason ErrorKind = "no_reason"
	// KindNotImplemented: check_finish, which no controller implements.
	KindNotImplemented ErrorKind = "not_implemented"
	// KindLockTimeout: the controller's registry lock timed out.
	KindLockTimeout ErrorKind = "lock_timeout"
	// KindP2PDisabled: /move to a worker without peer_init_url.
	KindP2PDisabled ErrorKind = "p2p_disabled"
	// KindNotFound: no such instance, worker or IP.
	KindNotFound ErrorKind = "not_found"
	// KindEndpointMissing: 404 "Not Found" — the controller predates the
	// endpoint, or this is not the controller's port.
	KindEndpointMissing ErrorKind = "endpoint_missing"
	// KindMethodNotAllowed: 405.
	KindMethodNotAllowed ErrorKind = "method_not_allowed"
	// KindUnavailable: 502/503/504.
	KindUnavailable ErrorKind = "unavailable"
	// KindServer: any other error answer.
	KindServer ErrorKind = "server_error"
)

// FieldError is one entry of a 422 answer, in plain words.
type FieldError struct {
	// Field is the location without the "body"/"query" prefix, e.g.
	// "tokens[1]" ("body" when the whole body is wrong).
	Field string `json:"field"`
	// Message is the validator's message ("field required",
	// "Input should be a valid integer", ...).
	Message string `json:"message"`
	// Type is the validator's error type ("value_error.missing",
	// "int_parsing", ...).
	Type string `json:"type,omitempty"`
}

func (f FieldError) String() string { return f.Field + ": " + f.Message }

// APIError is an HTTP error answer from the controller.
type APIError struct {
	Endpoint Endpoint  `json:"endpoint"`
	Status   int       `json:"status"`
	Kind     ErrorKind `json:"kind"`
	// Detail is the controller's message verbatim ("" when it gave none).
	Detail string `json:"detail"`
	// FieldErrors are the validation errors of a 422.
	FieldErrors []FieldError `json:"field_errors,omitempty"`
	// Hint explains the likely cause and what to do.
	Hint string `json:"hint,omitempty"`
	// Body is the raw answer (truncated to 4 KiB).
	Body string `json:"body,omitempty"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "controller %s: HTTP %d", e.Endpoint, e.Status)
	switch {
	case len(e.FieldErrors) > 0:
		parts := make([]string, len(e.FieldErrors))
		for i, f := range e.FieldErrors {
			parts[i] = f.String()
		}
		b.WriteString(": " + strings.Join(parts, "; "))
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	default:
		b.WriteString(" (no reason given)")
	}
	return b.String()
}

// TransportError is a request that got no HTTP answer: connection refused
// or reset, TLS failure, per-request timeout, or cancellation. Err is the
// underlying error (a *url.Error, hence a net.Error), so errors.Is(err,
// context.DeadlineExceeded) and errors.As(err, *net.Error) work through it.
type TransportError struct {
	Endpoint Endpoint
	Attempts int
	Err      error
}

func (e *TransportError) Error() string {
	s := fmt.Sprintf("controller %s: %v", e.Endpoint, e.Err)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

func (e *TransportError) Unwrap() error { return e.Err }

// Timeout reports whether the request ran out of time.
func (e *TransportError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

// AnswerError is a success answer that cannot be true for the request
// made — a hit beyond the prompt, a negative token count, "success": false,
// an error message under a 200: the controller answered, but its answer
// cannot be trusted. It is never read as a miss or a success.
type AnswerError struct {
	Endpoint Endpoint
	Reason   string
	Body     string
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("controller %s answered what it cannot mean: %s (answer: %s)", e.Endpoint, e.Reason, e.Body)
}

// errorInSuccess finds an error message in a 2xx JSON object answer: a
// non-empty "error" or "detail", or "object": "error" (the shapes FastAPI
// and OpenAI-style servers use for errors).
func errorInSuccess(body []byte) (string, bool) {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Object  string          `json:"object"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", false
	}
	for _, raw := range []json.RawMessage{v.Error, v.Detail} {
		if s := strings.TrimSpace(string(raw)); s != "" && s != "null" && s != `""` && s != "{}" && s != "[]" && s != "false" {
			return s, true
		}
	}
	if v.Object == "error" {
		return strconv.Quote(v.Message), true
	}
	return "", false
}

// DecodeError is a success answer whose body the client could not
// understand (for instance an HTML page from something that is not the
// controller).
type DecodeError struct {
	Endpoint Endpoint
	Status   int
	Body     string
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("controller %s: cannot decode HTTP %d answer: %v", e.Endpoint, e.Status, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// IsUnavailable reports whether err means the controller could not be
// reached or did not answer in time: a transport failure or timeout (but
// not a cancellation by the caller, a TLS or scheme mismatch, an answer
// that was too large or a redirect loop — the controller answered those),
// or a 502/503/504.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Kind == KindUnavailable
	}
	return transport.Classify(err) == transport.ClassUnreachable
}

// IsNotFound reports whether err says the instance, worker or IP is
// unknown to the controller (as far as the answer allows telling).
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Kind == KindNotFound || ae.Kind == KindCountMismatch)
}

const maxErrBody = 4096

// newAPIError builds the error for a non-2xx answer.
func newAPIError(ep Endpoint, status int, body []byte) *APIError {
	e := &APIError{Endpoint: ep, Status: status, Body: truncate(string(body), maxErrBody)}
	detail, fields, isJSON := parseErrorBody(body)
	e.FieldErrors = fields
	if isJSON {
		e.Detail = detail
	} else {
		e.Detail = strings.TrimSpace(truncate(string(body), 512))
	}
	classify(e)
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseErrorBody understands {"detail": "..."}, {"detail": [...]}
// (pydantic v1 and v2 entries) and {"error": "..."}.
func parseErrorBody(body []byte) (string, []FieldError, bool) {
	var env struct {
		Detail json.RawMessage `json:"detail"`
		Error  *string         `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", nil, false
	}
	if len(env.Detail) == 0 || string(env.Detail) == "null" {
		if env.Error != nil {
			return *env.Error, nil, true
		}
		return "", nil, true
	}
	var s string
	if json.Unmarshal(env.Detail, &s) == nil {
		return s, nil, true
	}
	var items []struct {
		Loc  []any  `json:"loc"`
		Msg  string `json:"msg"`
		Type string `json:"type"`
	}
	if json.Unmarshal(env.Detail, &items) == nil {
		fields := make([]FieldError, 0, len(items))
		for _, it := range items {
			fields = append(fields, FieldError{Field: formatLoc(it.Loc), Message: it.Msg, Type: it.Type})
		}
		return "", fields, true
	}
	return strings.TrimSpace(string(env.Detail)), nil, true
}

// formatLoc turns ["body","tokens",1] into "tokens[1]" and
// ["body",14] (a JSON syntax error) into "body (char 14)".
func formatLoc(loc []any) string {
	if len(loc) > 0 {
		if s, ok := loc[0].(string); ok && (s == "body" || s == "query" || s == "path" || s == "header") && len(loc) > 1 {
			if _, isNum := loc[1].(float64); isNum && s == "body" && len(loc) == 2 {
				return "body (char " + formatLocElem(loc[1]) + ")"
			}
			loc = loc[1:]
		}
	}
	var b strings.Builder
	for i, el := range loc {
		if _, isNum := el.(float64); isNum && i > 0 {
			b.WriteString("[" + formatLocElem(el) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(formatLocElem(el))
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func formatLocElem(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// classify sets Kind and Hint from the status and the detail text.
func classify(e *APIError) {
	d := e.Detail
	switch {
	case e.Status == http.StatusUnprocessableEntity:
		e.Kind = KindValidation
		e.Hint = "the controller rejected the request; if the fields look right, the controller may be a different version (see version drift in the docs)"
	case e.Status == http.StatusMethodNotAllowed:
		e.Kind = KindMethodNotAllowed
		e.Hint = "the path exists with another HTTP method; is this an LMCache cache controller?"
	case e.Status == http.StatusNotFound && (d == "Not Found" || (d == "" && len(e.FieldErrors) == 0)):
		e.Kind = KindEndpointMissing
		e.Hint = missingEndpointHint(e.Endpoint)
	case e.Status == http.StatusNotFound:
		e.Kind = KindNotFound
		e.Hint = "check the instance and worker ids with the workers listing"
	case e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout:
		e.Kind = KindUnavailable
		e.Hint = "the controller (or a proxy in front of it) is not available; retry later"
		if strings.Contains(d, "Controller manager not available") {
			e.Hint = "the controller's HTTP server is up but its manager is not running"
		}
	case strings.Contains(d, "should be the same across all workers"):
		e.Kind = KindCountMismatch
		if e.Endpoint == EndpointMove {
			e.Hint = "the source or destination instance is unknown or has no registered workers, or the source workers disagreed (check the instance ids with the workers listing)"
		} else {
			e.Hint = "the instance is unknown or has no registered workers, or its workers disagreed (e.g. one TP rank lost its keys); check the instance id with the workers listing"
		}
	case strings.HasPrefix(d, "Operation '") && strings.HasSuffix(d, "' is not supported."):
		e.Kind = KindWorkerFailure
		e.Hint = "a worker failed while executing the operation (the controller reports every worker-side error this way); see the engine logs"
		if e.Endpoint == EndpointMove {
			e.Hint += "; /move needs P2P enabled on both instances and LocalCPUBackend as the destination location"
		}
	case strings.Contains(d, "'ErrorMsg' object has no attribute"):
		e.Kind = KindWorkerFailure
		e.Hint = "a worker failed while executing the operation (controller running with python -O); see the engine logs"
	case strings.Contains(d, "Operation cannot be accomplished in current state"):
		e.Kind = KindBusy
		e.Hint = "another operation on this instance is still pending, or a worker died and the controller's socket to it is stuck; serialize operations per instance, and if it persists deregister the worker or restart the controller"
	case strings.Contains(d, "Failed to acquire read lock within timeout") || strings.Contains(d, "Failed to acquire write lock within timeout"):
		e.Kind = KindLockTimeout
		e.Hint = "the controller's registry is under heavy contention; retry"
	case strings.Contains(d, "P2P is not enabled"):
		e.Kind = KindP2PDisabled
		e.Hint = "the destination worker registered without a peer_init_url: enable P2P (enable_p2p, p2p_host, p2p_init_ports) on both engines"
	case strings.Contains(d, "QueryInstResponse"):
		e.Kind = KindNotFound
		e.Hint = "no registered worker has that IP address"
	case strings.Contains(d, "not registered for instance"):
		e.Kind = KindServer
		e.Hint = "a worker (de)registered while the operation was being sent; retry"
	case d == "" && e.Status == http.StatusInternalServerError && len(e.FieldErrors) == 0 && isEmptyDetailBody(e.Body):
		switch e.Endpoint {
		case EndpointCheckFinish:
			e.Kind = KindNotImplemented
			e.Hint = "the controller does not implement check_finish; operations are synchronous, so there is nothing to poll"
		case EndpointDecompress:
			e.Kind = KindNoReason
			e.Hint = "decompress reports every failure without a message: unknown instance, no workers, a worker error, a busy worker, or workers that disagreed"
		default:
			e.Kind = KindNoReason
			e.Hint = "the controller gave no reason"
		}
	default:
		e.Kind = KindServer
	}
}

func isEmptyDetailBody(body string) bool {
	var env map[string]any
	if json.Unmarshal([]byte(body), &env) != nil {
		return false
	}
	d, ok := env["detail"].(string)
	return ok && d == ""
}

func missingEndpointHint(ep Endpoint) string {
	switch ep {
	case EndpointWorkers:
		return "the controller predates GET /controller/workers (2025-11-21); use query_worker_info with instance \"all\""
	case EndpointKeyStats:
		return "the controller predates GET /controller/key-stats (2025-12-11)"
	case EndpointDecompress:
		return "the controller predates /decompress (2025-08-15)"
	case EndpointQueryWorkerInfo:
		return "the controller predates /query_worker_info (2025-10-16)"
	}
	return "no such route: is this the controller's HTTP port (default 9000)?"
}
