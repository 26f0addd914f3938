// Package controllerclient is a client of the LMCache cache controller's
// REST API (the FastAPI app started by lmcache_controller, default port
// 9000).
//
// # API
//
// New(baseURL, opts...) returns a *Client; every method takes a context
// and maps to one endpoint:
//
//	Lookup(ctx, tokens)            POST /lookup            -> *LookupResult
//	Clear(ctx, instance, location) POST /clear             -> *OpResult
//	Pin(ctx, instance, loc, toks)  POST /pin               -> *OpResult
//	Compress(ctx, CompressRequest) POST /compress          -> *OpResult
//	Decompress(ctx, ...)           POST /decompress        -> *OpResult
//	Move(ctx, MoveRequest)         POST /move              -> *OpResult
//	Health(ctx, instance)          POST /health            -> *HealthResult
//	CheckFinish(ctx, eventID)      POST /check_finish      -> *CheckFinishResult
//	QueryWorkerInfo(ctx, inst, ids) POST /query_worker_info -> *WorkerInfoResult
//	QueryInstance(ctx, ip)         POST /query_instance    -> *QueryInstanceResult
//	Workers(ctx, WorkersFilter)    GET /controller/workers -> *WorkersResult
//	AllWorkers(ctx)                the same, falling back to query_worker_info "all"
//	KeyStats(ctx)                  GET /controller/key-stats -> *KeyStats
//
// Results carry json tags so a CLI can print them as they are.
//
// Options: WithTimeout / WithEndpointTimeout (per request and per retry
// attempt; the controller has no server-side timeout and hangs forever on a
// dead worker), WithRetries (reads only — lookup, health, check_finish,
// query_worker_info, query_instance, /controller/workers,
// /controller/key-stats — after transport failures, 502/503/504/429 and
// registry lock timeouts, with jittered exponential backoff; clear, pin,
// compress, decompress and move are never retried), WithHeader /
// WithBearerToken, WithTLS (CA file, client certificate, insecure skip
// verify, server name), WithVerbose (request/response log with
// Authorization, Cookie and API-key-like headers and query parameters
// redacted), WithUserAgent and WithTransport.
//
// # Errors
//
// A method never returns a nil result with a nil error. Failures are:
//
//   - *APIError for an HTTP error answer: Endpoint, Status, Kind, Detail
//     (verbatim), FieldErrors (a 422 in plain words, e.g. "tokens[1]: value
//     is not a valid integer"; pydantic v1 and v2 shapes), Hint and the raw
//     Body. Kind and Hint decode the controller's misleading messages: "The
//     number of tokens ... should be the same across all workers." (unknown
//     instance, no workers, or disagreeing workers), "Operation '<op>' is
//     not supported." (a worker-side failure), "Operation cannot be
//     accomplished in current state" (busy or wedged worker socket), an
//     empty detail (check_finish is not implemented; decompress hides every
//     failure), "Failed to acquire read lock within timeout", the P2P
//     message of /move, the pydantic text of /query_instance with an
//     unknown IP, and 404 "Not Found" on endpoints that older controllers
//     lack.
//   - *TransportError when no answer arrived (refused, reset, TLS, timeout,
//     cancellation). It unwraps to the net/http error, so errors.As(err,
//     &netErr) and errors.Is(err, context.DeadlineExceeded) or
//     context.Canceled work. IsUnavailable(err) is true for transport
//     failures and timeouts (not for a cancellation) and for 502/503/504.
//   - *DecodeError when a 2xx body is not a controller answer.
//
// # Version drift
//
// The client follows the tolerance rules of the controller spec (§9.2).
// Requests carry both spellings where a field was renamed: move sends
// should_copy and copy; clear, pin, compress and decompress send location
// and locations: [location]; query_instance always sends an event_id;
// query_worker_info always sends worker_ids (null or a list). Token lists
// are never null. Responses are parsed loosely: lookup reads layout_info
// (keeping the controller's instance order) or the legacy res string;
// operations read num_tokens, or the legacy success / event_ids; health
// reads error_codes (string keys), error_code or alive; check_finish reads
// status or finished; worker entries read peer_init_url or distributed_url
// and an optional key_count; /controller/workers accepts the list and the
// single-worker shapes. Decoders (DecodeLookup, DecodeOp, ...) are exported
// and fuzzed.
package controllerclient
