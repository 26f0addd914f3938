// Package sandboxcontroller is the sandbox's LMCache cache controller —
// the one 'lmc sandbox' and 'lmc demo' serve, and lmc's tests run against:
// an in-memory implementation of the controller's HTTP API, faithful to what the real controller answers
// (spec Part II: FastAPI 0.95 on pydantic v1), for tests and for a local
// sandbox. It depends only on net/http and on what it shares with the
// sandbox coordinator: pyjson (CPython's json module) and httpfake (fault
// plumbing). Serve a *Server with httptest.NewServer or a plain
// http.Server.
//
// State: instances and workers in registration order (ip, port,
// peer_init_url, times), and per (instance, worker, location) the chunk
// keys the workers reported, with pinned and compressed flags. Populate it
// with AddInstance, AddWorker (a duplicate registration wipes the worker's
// keys, like the controller), RemoveWorker, Admit (tokens, hashed like an
// engine: full 256-token chunks), AdmitHashes and Evict; steer workers with
// SetWorkerHealth, FailWorker (the worker answers an ErrorMsg),
// SetWorkerDelay (a slow worker keeps its socket busy) and KillWorker (the
// next operation hangs forever, later ones fail with "Operation cannot be
// accomplished in current state").
//
// /lookup hashes tokens like the controller — CPython's builtin hash chain,
// chunk size 256, the trailing partial chunk included, NONE_HASH 0 unless
// WithNoneHash — and credits each chunk to the first holder in registration
// order, stopping at the first miss. clear, pin, compress, decompress, move
// and health are answered the way the workers would answer, with the
// controller's aggregation and error texts (500 details, empty details for
// check_finish and decompress, 200 with empty results for unknown
// instances on health and query_worker_info, 500 with pydantic text for an
// unknown IP on query_instance), and 422 bodies reproduce pydantic v1
// entries, including json.JSONDecodeError messages and offsets.
//
// Tests can inject faults per path (InjectFault: delay, hang, dropped
// connection, forced status and body), count requests per path (Requests)
// and inspect state (Workers, Keys). Close releases every held request.
package sandboxcontroller
