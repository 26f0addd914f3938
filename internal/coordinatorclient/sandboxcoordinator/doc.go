// Package sandboxcoordinator is an in-memory fake of LMCache's MP
// coordinator (lmcache coordinator) and of an MP server's HTTP API
// (lmcache server --http-port), faithful to coordinator-api.md, for tests
// and for `lmc sandbox --coordinator-addr`. It depends on net/http, on
// lmc's key engine (the tokens form hashes with blake3 from
// NONE = BLAKE3(12 zero bytes), spec §4) and on what it shares with the
// sandbox controller (pyjson, CPython's json module; httpfake, fault
// plumbing), not on the client, and does not import "testing", so it
// can ship inside the binary.
//
// # Coordinator
//
// New(opts) is an http.Handler; Start(addr, opts) listens. State is
// populated exactly as MP servers populate it: POST /events batches go
// through the ingest gate (one cursor per instance: stale, duplicate,
// gap, fencing on a higher incarnation; spec §7.1) into the key
// directory (placements by identity, token bindings by chunk hash, access
// counts; §7.2) and the capacity declarations (§7.4). Usage (§7.3) and
// quotas (§6.9) are derived from the live placements on every read. Every
// route of spec §5 that lmc calls answers from that state, in the
// models' field order, rendered as FastAPI does (compact JSON, Python
// float repr), so the spec's worked examples (§8) come out byte for byte:
// /healthz, /instances (register, heartbeat, deregister, list), usage,
// /directory/lookup (both forms), /directory/keys, /directory/stats,
// /directory/blend-lookup (blend off), /events, /quota*, /cache/pins,
// /cache/delete and /cache/prefetches (relayed to the MP servers over
// HTTP, with the coordinator's 404/502 texts), /cache/moves, /metrics and
// /openapi.json (listing the routes of the generation played). Requests
// are validated the pydantic v2 way: 422 {"detail": [{"type", "loc",
// "msg", "input", "ctx"}]} with every field error of a model, whole-body
// validators after them; 400 {"detail"} for the token cap, salts and '@';
// FastAPI's 404 {"detail":"Not Found"} and 405 for unknown routes.
//
// WithGeneration plays an older or newer coordinator: Gen202606 (/l2
// naming), Gen202607 (no /directory), Gen202608Early (keys-only lookup
// and /directory/lookup_tokens, /directory/events, stream state in
// stats), Gen202608 (no access_count), Gen202609 (the default) and
// GenMoves (with /cache/moves). WithoutEvictionController drops /quota
// and /cache/pins; WithoutOpenAPI turns the docs off.
//
// Hostile behaviour: InjectFault(path, Fault) per path or route pattern —
// ErrorAnswer (the spec's 422/404/502 bodies, or any), Garbage (an HTML
// 200), Stall, Delay, Drop, and Lying (LieCount, LieDropItem,
// LieWrongKey, LieForeignPlacement, LieStatus, LieTokens, LieRatio,
// LieTrailing, LieTruncate) which falsifies a real answer. Requests,
// LastRequest and Count expose what clients sent.
//
// # MP server
//
// NewMPServer / StartMPServer(addr, opts) serve /healthcheck, /status
// (chunk size, hash algorithm, cache contexts), /cache/clear,
// /cache/objects (GET and DELETE), /cache/prefetches (submit and poll,
// exactly-once completion) and /version under the route names of
// MPRoutesNewest, MPRoutes202605 (/clear-cache, /l2/keys,
// /l2/keys:evict, /l2/prefetch) or MPRoutes202603 (/api/…). With
// WithCoordinator it registers (POST /instances), declares capacity
// (config batches first), heartbeats, deregisters on Close, and publishes
// store/delete/access batches for Store, Access, clears, deletes and
// completed prefetches, with consecutive seq numbers and one ts per
// flush, as the MP server's emitter does. Several servers can share one
// L2Pool (a fleet-wide bucket, shared=true). WithEventSink hands the
// stream to Server.Ingest for generations without /events.
//
// StartFleet starts a coordinator and N MP servers wired to it: what
// `lmc sandbox --coordinator-addr` runs.
//
// Not modelled: the quota eviction loop (outbound only), blend matching,
// the runtime-policy proxies, PUT /config/chunk-size, Kafka publishing,
// checkpoints.
package sandboxcoordinator
