// Package coordinatorclient is a client of LMCache's multi-process (MP)
// coordinator (lmcache coordinator, default port 9300) and of an MP
// server's per-instance HTTP API (lmcache server --http-port, default
// 8080), following the spec in coordinator-api.md.
//
// It is NOT a client of the legacy cache controller (controllerclient),
// nor of the Mooncake master (mooncake), nor an MP server's event
// emitter: lmc reads the coordinator's directory and drives its pins,
// prefetches, deletes, moves and quotas, but never feeds it cache events
// (PostEvents exists for sandboxes and tests). It builds no HTTP
// transport: New takes the *http.Client and base URL of a transport.Peer,
// which carries TLS, -H headers, redirects, body limits and the verbose
// log. It does not print.
//
// # Coordinator
//
//	Healthz(ctx)                 GET /healthz
//	Instances(ctx)               GET /instances (P2P fields when sent; Instance.HeartbeatAge)
//	FleetUsage(ctx)              GET /instances/usage
//	InstanceUsage(ctx, id)       GET /instances/{id}/usage
//	Lookup(ctx, LookupRequest)   POST /directory/lookup, tokens or keys form
//	                             (POST /directory/lookup_tokens on keys-only coordinators)
//	Keys(ctx, KeysQuery)         GET /directory/keys; EachKey pages through all
//	DirectoryStats(ctx)          GET /directory/stats
//	Quotas(ctx, tier)            GET /quota
//	Quota / SetQuota / DeleteQuota       GET, PUT, DELETE /quota/{salt}
//	QuotaDefault / SetQuotaDefault       GET, PUT /quota/config
//	Pin / Unpin(ctx, TokensRequest)      POST, DELETE /cache/pins; Pins lists (GET)
//	Delete(ctx, DeleteRequest)           POST /cache/delete
//	Prefetch, PrefetchStatus, WaitPrefetch  POST /cache/prefetches, GET …/{instance}/{request}
//	Move, MoveStatus, WaitMove           POST /cache/moves, GET /cache/moves/{id} (proposed API)
//	Metrics(ctx)                 GET /metrics (raw text)
//	Detect(ctx) / Generation()   which generation answered
//	TierTotals(ctx)              stats' tier totals, or summed over the listing
//	VerifyHashing(ctx, n)        the doctor check of spec §9 (listed keys' tokens resolved back)
//
// A LookupResult lays out per chunk and per rank (Rows), with the prefix
// hit, per-rank runs and rank holes (PrefixHit) and each holder's own run
// (Holders), under a PlacementFilter (tier, instance, backend). A keys
// form built with ChunkKeys (lmc's own MPChunkHashes or EngineChunkHashes)
// gets the same layout with Chunked.
//
// # MP server
//
//	Status(ctx)        GET /status (chunk size, hash algorithm, cache contexts)
//	Healthcheck(ctx)   GET /healthcheck
//	ClearCache(ctx, …) POST /cache/clear
//	Objects(ctx, …)    GET /cache/objects
//	DeleteObjects(…)   DELETE /cache/objects
//	Version(ctx)       GET /version
//
// Each MP call tries the newest route name first and falls back on 404 to
// the names of 2026-05 and 2026-03 (/api/status, /clear-cache, /l2/keys,
// /l2/keys:evict, …), keeping the name that answered (Routes).
//
// # Trust
//
// Every answer is bounded by what its request can produce
// (transport.WithBodyLimit, and a bound of its own on any other
// *http.Client), every attempt has a deadline, and only routes that are
// safe to repeat are retried (never pins, unpins, deletes, prefetch
// submits or polls, move submits). Answers are decoded leniently —
// unknown fields allowed, each unknown shape named once in the result's
// Warnings — and then checked against what was asked: one JSON document,
// chunk and result counts, echoed keys, instances and ids, filters, status
// and success flags, numbers that must agree. An answer that cannot be
// trusted is a *BadAnswerError quoting the peer, never a miss or a
// success. HTTP errors are *APIError with a Kind and a Hint from the
// spec's envelopes ({"detail": str | [pydantic v2 entries]}, {"error"},
// {"reason"}); no answer at all is a *TransportError (transport.Classify
// works through it); a missing feature is an *UnsupportedError
// (errors.Is(err, ErrUnsupported)) naming the generation; a coordinator
// that hashes differently from lmc is a *HashMismatchError.
//
// # Generations
//
// The coordinator has no version route. Detect reads GET /openapi.json
// (or probes without side effects when the docs are off), and every
// answer adds what its routes and fields show: the /l2 naming of June
// 2026, no /directory before 2026-07-28, keys-only lookups until
// mid-August, /instances/usage from 2026-08-19, access_count from
// 2026-09-01, GET /cache/pins, /cache/moves. Generation names the newest
// feature seen ("≥" while newer ones are unknown). The exported decoders
// (DecodeLookup, DecodeKeysPage, …, DecodeMPStatus) are fuzzed.
package coordinatorclient
