package coordinatorclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"lmc/internal/safetext"
	"lmc/internal/transport"
)

// ErrorKind classifies an APIError.
type ErrorKind string

// Error kinds, from the status and the envelope (spec §2, §6).
const (
	// KindValidation: 422, the request body or query was rejected
	// (pydantic v2 entries in FieldErrors).
	KindValidation ErrorKind = "validation"
	// KindBadRequest: 400 — the token cap, a salt or model-name rule, a
	// tier the route does not take, an invalid quota limit.
	KindBadRequest ErrorKind = "bad_request"
	// KindUnknownInstance: 404, the instance is not registered.
	KindUnknownInstance ErrorKind = "unknown_instance"
	// KindUnknownJob: 404, the prefetch request or move is unknown
	// (completed and consumed, expired, or never submitted).
	KindUnknownJob ErrorKind = "unknown_job"
	// KindRouteMissing: 404 {"detail":"Not Found"} — this generation (or
	// this build, without the eviction controller) lacks the route, or
	// this is not the coordinator's port.
	KindRouteMissing ErrorKind = "route_missing"
	// KindNotFound: another 404 with a reason.
	KindNotFound ErrorKind = "not_found"
	// KindMethodNotAllowed: 405 — the path exists with other methods.
	KindMethodNotAllowed ErrorKind = "method_not_allowed"
	// KindUpstream: 502 from the coordinator — the MP server it relayed
	// to was unreachable or refused.
	KindUpstream ErrorKind = "upstream"
	// KindUnavailable: 503/504 (or a 502 that is not the coordinator's):
	// the peer, or a proxy in front of it, is not available.
	KindUnavailable ErrorKind = "unavailable"
	// KindConflict: 409.
	KindConflict ErrorKind = "conflict"
	// KindNotImplemented: 501 (an MP server's adapter cannot list).
	KindNotImplemented ErrorKind = "not_implemented"
	// KindAuth: 401/403, from a proxy (the coordinator has no auth).
	KindAuth ErrorKind = "auth"
	// KindServer: 500 and anything else.
	KindServer ErrorKind = "server_error"
)

// FieldError is one entry of a 422 answer, in plain words.
type FieldError struct {
	// Field is the location without "body"/"query"/"path", e.g. "limit"
	// or "keys[0].chunk_hash_hex" ("body" for the whole body).
	Field string `json:"field"`
	// In is body, query or path.
	In      string `json:"in,omitempty"`
	Message string `json:"message"`
	Type    string `json:"type,omitempty"`
}

func (f FieldError) String() string { return f.Field + ": " + f.Message }

// APIError is an HTTP error answer.
type APIError struct {
	// Peer is "coordinator" or "MP server"; URL its (redacted) base.
	Peer   string `json:"peer"`
	URL    string `json:"url,omitempty"`
	Method string `json:"method"`
	// Route is the route pattern, e.g. /cache/prefetches/{instance_id}/{request_id}.
	Route  string    `json:"route"`
	Status int       `json:"status"`
	Kind   ErrorKind `json:"kind"`
	// Detail is the peer's message verbatim, from "detail", "error" or
	// "reason" (Envelope says which; "" for a body that is not JSON).
	Detail      string       `json:"detail"`
	Envelope    string       `json:"envelope,omitempty"`
	FieldErrors []FieldError `json:"field_errors,omitempty"`
	Hint        string       `json:"hint,omitempty"`
	// Body is the raw answer, truncated to 4 KiB.
	Body string `json:"body,omitempty"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s: HTTP %d", e.Peer, e.Method, e.Route, e.Status)
	switch {
	case len(e.FieldErrors) > 0:
		parts := make([]string, len(e.FieldErrors))
		for i, f := range e.FieldErrors {
			parts[i] = f.String()
		}
		b.WriteString(": " + strings.Join(parts, "; "))
	case e.Detail != "":
		b.WriteString(": " + safetext.Escape(e.Detail))
	default:
		b.WriteString(" (no reason given)")
	}
	return b.String()
}

// TransportError is a request that got no HTTP answer (refused, reset,
// TLS, timeout, cancellation, an oversized body). It unwraps to the
// net/http error, so transport.Classify, errors.Is(err,
// context.DeadlineExceeded) and errors.As(err, *transport.BodyTooLargeError)
// work through it.
type TransportError struct {
	Peer     string
	URL      string
	Method   string
	Route    string
	Attempts int
	Err      error
}

func (e *TransportError) Error() string {
	s := fmt.Sprintf("%s %s %s: %v", e.Peer, e.Method, e.Route, e.Err)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

func (e *TransportError) Unwrap() error { return e.Err }

// BadAnswerError is a 2xx answer lmc cannot trust: not the route's shape,
// not one JSON document, or inconsistent with the request (counts,
// echoed keys and ids, filters, success flags). It quotes the peer.
type BadAnswerError struct {
	Peer   string `json:"peer"`
	URL    string `json:"url,omitempty"`
	Method string `json:"method"`
	Route  string `json:"route"`
	Status int    `json:"status"`
	// Reason says what is wrong.
	Reason string `json:"reason"`
	// Excerpt is the beginning of the answer (terminal-safe).
	Excerpt string `json:"excerpt"`
	Hint    string `json:"hint,omitempty"`
}

func (e *BadAnswerError) Error() string {
	s := fmt.Sprintf("%s %s %s answered something lmc cannot trust: %s; the answer began: %s", e.Peer, e.Method, e.Route, e.Reason, e.Excerpt)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// HashMismatchError says the coordinator resolved a token sequence to
// other chunk hashes than lmc computes: its --chunk-size, --hash-algorithm
// or NONE hash differs from what lmc was told (spec §4 step 4, §9).
type HashMismatchError struct {
	Chunk int
	Want  string // lmc's
	Got   string // the coordinator's
}

func (e *HashMismatchError) Error() string {
	return fmt.Sprintf("the coordinator resolved chunk %d to hash %s, lmc computes %s: its --chunk-size or --hash-algorithm differs from lmc's key flags, "+
		"or vLLM is importable in the coordinator without PYTHONHASHSEED (a random NONE hash)", e.Chunk, short(e.Got), short(e.Want))
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// ErrUnsupported is wrapped by every UnsupportedError.
var ErrUnsupported = errors.New("not supported by this coordinator")

// UnsupportedError says the peer's generation lacks a feature.
type UnsupportedError struct {
	Peer       string
	URL        string
	Feature    Feature
	Generation string
	Hint       string
	// Err is the answer that told (a 404 or 405 *APIError), if any.
	Err error
}

func (e *UnsupportedError) Error() string {
	s := fmt.Sprintf("%s: %s is not available", e.Peer, FeatureInfo(e.Feature).Title)
	if e.Generation != "" {
		s += " (this coordinator answers as generation " + e.Generation + ")"
	}
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(t error) bool { return t == ErrUnsupported }

// Unwrap returns the answer that told.
func (e *UnsupportedError) Unwrap() error { return e.Err }

// IsUnavailable reports an unreachable peer or one that timed out (not a
// cancellation, not a TLS or scheme mistake), or a 503/504.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Kind == KindUnavailable
	}
	var te *TransportError
	if errors.As(err, &te) {
		return transport.Classify(err) == transport.ClassUnreachable
	}
	return false
}

// IsNotFound reports an unknown instance, prefetch request or move.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Kind == KindUnknownInstance || ae.Kind == KindUnknownJob || ae.Kind == KindNotFound)
}

const maxErrBody = 4096

// ErrorEnvelope is a parsed error body.
type ErrorEnvelope struct {
	// Detail is the message; Envelope the key it came in ("detail",
	// "error", "reason"), "" when the body is not a JSON object with one.
	Detail      string
	Envelope    string
	FieldErrors []FieldError
	JSON        bool
}

// ParseErrorBody reads the error envelopes of spec §2: {"detail": str},
// {"detail": [pydantic v2 entries]}, {"error": str}, {"reason": str}, in
// that order of preference; plain text otherwise.
func ParseErrorBody(body []byte) ErrorEnvelope {
	raw, err := document(body)
	if err != nil || len(raw) == 0 || raw[0] != '{' {
		return ErrorEnvelope{Detail: strings.TrimSpace(truncate(string(body), 512))}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ErrorEnvelope{Detail: strings.TrimSpace(truncate(string(body), 512))}
	}
	env := ErrorEnvelope{JSON: true}
	if d, ok := m["detail"]; ok && !isNull(d) {
		env.Envelope = "detail"
		var s string
		if json.Unmarshal(d, &s) == nil {
			env.Detail = s
			return env
		}
		var items []struct {
			Type string            `json:"type"`
			Loc  []json.RawMessage `json:"loc"`
			Msg  string            `json:"msg"`
		}
		if json.Unmarshal(d, &items) == nil {
			env.FieldErrors = make([]FieldError, 0, len(items))
			for _, it := range items {
				in, field := formatLoc(it.Loc)
				env.FieldErrors = append(env.FieldErrors, FieldError{Field: field, In: in, Message: it.Msg, Type: it.Type})
			}
			return env
		}
		env.Detail = strings.TrimSpace(truncate(string(d), 512))
		return env
	}
	for _, k := range []string{"error", "reason"} {
		if v, ok := m[k]; ok {
			var s string
			if json.Unmarshal(v, &s) == nil {
				env.Envelope, env.Detail = k, s
				return env
			}
		}
	}
	return env
}

// formatLoc turns ["body","keys",0,"chunk_hash_hex"] into ("body",
// "keys[0].chunk_hash_hex") and ["body",14] (a JSON syntax error) into
// ("body", "body (char 14)").
func formatLoc(loc []json.RawMessage) (string, string) {
	parts := make([]any, 0, len(loc))
	for _, raw := range loc {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			parts = append(parts, s)
			continue
		}
		if n, err := parseInteger(raw); err == nil {
			parts = append(parts, n)
			continue
		}
		parts = append(parts, string(raw))
	}
	in := ""
	if len(parts) > 0 {
		if s, ok := parts[0].(string); ok && (s == "body" || s == "query" || s == "path" || s == "header") {
			in = s
			parts = parts[1:]
			if len(parts) == 1 && in == "body" {
				if n, ok := parts[0].(int64); ok {
					return in, "body (char " + strconv.FormatInt(n, 10) + ")"
				}
			}
		}
	}
	var b strings.Builder
	for i, p := range parts {
		switch x := p.(type) {
		case int64:
			b.WriteString("[" + strconv.FormatInt(x, 10) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, x)
		}
	}
	if b.Len() == 0 {
		if in == "" {
			return in, "body"
		}
		return in, in
	}
	return in, b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// excerpt is the beginning of a peer's answer, safe for a terminal.
func excerpt(body []byte) string {
	s := string(body)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if strings.TrimSpace(s) == "" {
		return "(an empty body)"
	}
	return safetext.Escape(s)
}

// newAPIError builds the error for a non-2xx answer of rt.
func newAPIError(peer, url string, rt route, status int, body []byte) *APIError {
	env := ParseErrorBody(body)
	e := &APIError{Peer: peer, URL: url, Method: rt.method, Route: rt.pattern, Status: status,
		Detail: env.Detail, Envelope: env.Envelope, FieldErrors: env.FieldErrors, Body: truncate(string(body), maxErrBody)}
	classify(e, env, rt)
	return e
}

func classify(e *APIError, env ErrorEnvelope, rt route) {
	d := e.Detail
	switch {
	case e.Status == http.StatusUnprocessableEntity:
		e.Kind = KindValidation
		switch {
		case strings.Contains(fieldMessages(e), "supply exactly one of 'keys' or 'token_ids'"):
			e.Hint = "a lookup takes either keys or token_ids, not both and not neither"
		case strings.Contains(fieldMessages(e), "'model_name' is required with 'token_ids'"):
			e.Hint = "the tokens form needs the model name exactly as the engines' --model"
		default:
			e.Hint = "the " + e.Peer + " rejected the request; if it looks right, the " + e.Peer + " may be of another generation (its schemas change often)"
		}
	case e.Status == http.StatusBadRequest:
		e.Kind = KindBadRequest
		switch {
		case strings.Contains(d, "too many token_ids"):
			e.Hint = "one request carries at most 1,000,000 tokens: shorten the prompt, or look up the keys you need (keys form)"
		case strings.Contains(d, "model_name must not contain"):
			e.Hint = "LMCache cannot key a model name with '@'"
		case strings.Contains(d, "cache_salt"):
			e.Hint = "a cache salt must not contain @ / \\ or NUL and is at most 128 characters"
		case strings.Contains(d, "quotas apply to tier 'l2' only"), strings.Contains(d, "has no usage accounting"):
			e.Hint = "quotas are L2 only; usage can be read for l1 or l2"
		case d == "invalid quota limit":
			e.Hint = "the quota store refused the limit: use a finite number of GiB >= 0"
		case strings.Contains(d, "not supported; only 'l1'"):
			e.Hint = "an MP server clears only its L1 tier"
		}
	case e.Status == http.StatusNotFound:
		switch {
		case env.JSON && d == "Not Found" && len(e.FieldErrors) == 0:
			e.Kind = KindRouteMissing
			e.Hint = routeMissingHint(e.Peer, rt)
		case !env.JSON && strings.TrimSpace(d) == "" || strings.Contains(d, "<html") || d == "404 page not found":
			e.Kind = KindRouteMissing
			e.Hint = "no such route here: is this the " + e.Peer + "'s port?"
		case strings.Contains(d, "no MP server registered with instance_id"),
			strings.HasPrefix(d, "unknown instance"):
			e.Kind = KindUnknownInstance
			e.Hint = "the instance is not registered with this coordinator (or timed out: it must heartbeat every few seconds); list the fleet with its instances"
			if strings.HasSuffix(d, "re-register") {
				e.Hint = "the coordinator does not know this instance id; an MP server re-registers on its next heartbeat"
			}
		case strings.Contains(d, "unknown prefetch request_id"):
			e.Kind = KindUnknownJob
			e.Hint = "the prefetch already completed (the first poll that sees completion consumes it) or was never submitted on that instance"
		case strings.Contains(rt.pattern, "/cache/moves/"):
			e.Kind = KindUnknownJob
			e.Hint = "the move is unknown, expired (10 minutes after it settled) or evicted from the coordinator's outcome table"
		default:
			e.Kind = KindNotFound
		}
	case e.Status == http.StatusMethodNotAllowed:
		e.Kind = KindMethodNotAllowed
		e.Hint = "the path exists with other methods: this " + e.Peer + " is of another generation"
	case e.Status == http.StatusBadGateway && env.JSON && strings.Contains(d, "' failed"):
		e.Kind = KindUpstream
		switch {
		case strings.HasPrefix(d, "prefetch submit"):
			e.Hint = "the coordinator could not submit the prefetch to that MP server: it is unreachable at the ip and http_port it registered, or it refused (its token cap, 503 'no layout registered' until the model has allocated KV cache there, 422)"
		case strings.HasPrefix(d, "prefetch status"):
			e.Hint = "the coordinator could not reach the MP server to poll the prefetch; the job may still run there"
		case strings.HasPrefix(d, "delete"):
			e.Hint = "the coordinator could not delete on that MP server: unreachable, or it refused (more than 10,000 keys, no L2 adapter for an L2 tier)"
		default:
			e.Hint = "the coordinator relayed a failure of the MP server"
		}
	case e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout:
		e.Kind = KindUnavailable
		switch {
		case strings.Contains(d, "not initialized"):
			e.Hint = "the MP server is up but its engine is not initialized yet"
		case strings.Contains(d, "no layout registered"):
			e.Hint = "the model has not allocated KV cache on this MP server yet (no engine with that model and world size connected)"
		default:
			e.Hint = "the " + e.Peer + " (or a proxy in front of it) is not available; retry later"
		}
	case e.Status == http.StatusConflict:
		e.Kind = KindConflict
	case e.Status == http.StatusNotImplemented:
		e.Kind = KindNotImplemented
		e.Hint = "this adapter or engine cannot do that (only the S3 adapter lists its keys)"
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		e.Kind = KindAuth
		e.Hint = "the " + e.Peer + " has no authentication: a proxy in front of it refused; pass its credentials with -H"
	default:
		e.Kind = KindServer
		if e.Status == http.StatusInternalServerError && !env.JSON {
			e.Hint = "the " + e.Peer + " failed handling the request (see its log)"
			if rt.tokens {
				e.Hint += "; tokens outside 0..2^32-1, or a --hash-algorithm whose hash is an int, make tokens-form requests fail with 500"
			}
		}
	}
}

func fieldMessages(e *APIError) string {
	var b strings.Builder
	for _, f := range e.FieldErrors {
		b.WriteString(f.Message)
		b.WriteByte('\n')
	}
	return b.String()
}

func routeMissingHint(peer string, rt route) string {
	if peer == peerMP {
		return "this MP server predates the route (lmc tries the older names first), or this is not its HTTP port (--http-port, default 8080)"
	}
	if rt.feature != "" {
		fi := FeatureInfo(rt.feature)
		if fi.Missing != "" {
			return fi.Missing
		}
	}
	return "no such route: is this the coordinator's port (default 9300)? An MP server's HTTP API (default 8080) is another service"
}
