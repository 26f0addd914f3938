package sandboxcontroller

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"lmc/internal/httpfake"
	"lmc/internal/pyjson"
)

// Server is a fake LMCache cache controller. It implements http.Handler;
// serve it with httptest.NewServer or a plain http.Server. The zero value
// is not usable: call New.
type Server struct {
	mu sync.Mutex

	noneHash       int64 // controller NONE_HASH (/lookup)
	engineNoneHash int64 // engines' NONE_HASH (Admit, worker-side lookups)
	clock          func() time.Time
	eventID        func(prefix string) string
	cacheTTL       time.Duration
	env            map[string]string

	instances []*instance
	nextPort  int

	cacheAt    time.Time
	cacheValid bool
	cache      []infoSnap

	faults   httpfake.Faults[Fault]
	requests httpfake.Counts

	loggers   map[string]string
	pullMsgs  int
	replyMsgs int

	closeOnce sync.Once
	closed    chan struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithNoneHash sets the controller's NONE_HASH, the seed of the /lookup
// hash chain. The default, 0, is what a controller that cannot import vLLM
// uses. It also sets the engines' NONE_HASH unless WithEngineNoneHash is
// given after it.
func WithNoneHash(h int64) Option {
	return func(s *Server) { s.noneHash, s.engineNoneHash = h, h }
}

// WithEngineNoneHash sets the NONE_HASH the fake engines hash with (Admit
// and the worker-side lookups of pin/compress/move). A value different from
// the controller's reproduces the "lookup always empty" parity problem.
func WithEngineNoneHash(h int64) Option {
	return func(s *Server) { s.engineNoneHash = h }
}

// WithClock sets the clock used for registration and heartbeat times and
// for the worker-list cache.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.clock = now }
}

// WithEventIDs sets the generator of event ids; it gets the prefix
// ("Lookup", "Clear", "health", ...) and returns the whole id. The default
// appends a random UUID4 like the controller.
func WithEventIDs(f func(prefix string) string) Option {
	return func(s *Server) { s.eventID = f }
}

// WithWorkerListCacheTTL sets how long the all-workers listing
// (GET /controller/workers without parameters, /query_worker_info with
// "all", the registered-workers gauge) is served from a snapshot. The real
// controller uses 30 s, which is the default; 0 disables the cache.
func WithWorkerListCacheTTL(d time.Duration) Option {
	return func(s *Server) { s.cacheTTL = d }
}

// WithEnv sets what GET /env reports (the real controller dumps its whole
// environment; the fake never exposes the host's).
func WithEnv(env map[string]string) Option {
	return func(s *Server) { s.env = env }
}

// New returns a fake controller with no workers.
func New(opts ...Option) *Server {
	s := &Server{
		clock:    time.Now,
		cacheTTL: 30 * time.Second,
		nextPort: 8001,
		loggers:  map[string]string{"lmcache": "INFO", "uvicorn": "INFO", "uvicorn.access": "INFO", "uvicorn.error": "INFO"},
		closed:   make(chan struct{}),
		env:      map[string]string{"LMCACHE_CONTROLLER": "lmc-fake"},
	}
	s.eventID = func(prefix string) string { return prefix + uuid4() }
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close releases every request the fake is holding (hung workers, hang
// faults, delays). The Server keeps answering afterwards, without hangs.
// It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ---------------------------------------------------------------------------
// Fault injection

// Fault changes how the fake answers requests to one path.
type Fault struct {
	// Times is how many requests the fault applies to; 0 means all of them
	// until ClearFaults.
	Times int
	// Delay holds the request this long before it is handled (or before
	// Status is sent). The wait ends early if the client goes away.
	Delay time.Duration
	// Hang holds the request until the client goes away or Close is
	// called, and sends nothing (like the controller on a dead worker).
	Hang bool
	// Drop closes the connection without a response (a transport error).
	Drop bool
	// Status, when non-zero, is sent with Body instead of the normal
	// answer. ContentType defaults to application/json.
	Status      int
	Body        string
	ContentType string
}

// InjectFault installs a fault for path (e.g. "/lookup"), replacing any
// earlier one for that path.
func (s *Server) InjectFault(path string, f Fault) { s.faults.Inject(path, f, f.Times) }

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// Requests returns how many requests reached path (including faulted ones).
func (s *Server) Requests(path string) int { return s.requests.Get(path) }

// ResetRequests zeroes the request counters.
func (s *Server) ResetRequests() { s.requests.Reset() }

func (s *Server) takeFault(path string) *Fault {
	s.requests.Add(path)
	return s.faults.Take(path)
}

// wait blocks for d (forever if d < 0) or until the request ends or the
// server is closed. It reports whether the full time elapsed.
func (s *Server) wait(r *http.Request, d time.Duration) bool { return httpfake.Hold(r, d, s.closed) }

// applyFault reports whether the fault fully handled the request.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f.Delay > 0 || f.Hang {
		// net/http only notices a client that went away (and cancels
		// r.Context) once the request body has been read, so read it now
		// and hand the handler a copy.
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if httpfake.Disrupt(w, r, f.Delay, f.Hang, f.Drop, s.closed) {
		return true
	}
	if f.Status != 0 {
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
		return true
	}
	return false
}

// ---------------------------------------------------------------------------
// HTTP plumbing

type route struct {
	method string // "GET" routes also answer HEAD
	h      func(http.ResponseWriter, *http.Request)
}

func (s *Server) routes() map[string]route {
	return map[string]route{
		"/lookup":                  {"POST", s.handleLookup},
		"/clear":                   {"POST", s.handleClear},
		"/pin":                     {"POST", s.handlePin},
		"/compress":                {"POST", s.handleCompress},
		"/decompress":              {"POST", s.handleDecompress},
		"/move":                    {"POST", s.handleMove},
		"/health":                  {"POST", s.handleHealth},
		"/check_finish":            {"POST", s.handleCheckFinish},
		"/query_worker_info":       {"POST", s.handleQueryWorkerInfo},
		"/query_instance":          {"POST", s.handleQueryInstance},
		"/controller/workers":      {"GET", s.handleWorkers},
		"/controller/key-stats":    {"GET", s.handleKeyStats},
		"/metrics":                 {"GET", s.handleMetrics},
		"/metrics/reset":           {"POST", s.handleMetricsReset},
		"/env":                     {"GET", s.handleEnv},
		"/loglevel":                {"GET", s.handleLogLevel},
		"/threads":                 {"GET", s.handleThreads},
		"/periodic-threads":        {"GET", s.handlePeriodicThreads},
		"/periodic-threads-health": {"GET", s.handlePeriodicHealth},
		"/run_script":              {"POST", s.handleRunScript},
		"/":                        {"GET", s.handleIndex},
		"/openapi.json":            {"GET", s.handleOpenAPI},
		"/docs":                    {"GET", s.handleDocs},
		"/redoc":                   {"GET", s.handleDocs},
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if f := s.takeFault(path); f != nil && s.applyFault(w, r, f) {
		return
	}
	routes := s.routes()
	rt, ok := routes[path]
	if !ok && strings.HasPrefix(path, "/periodic-threads/") && len(path) > len("/periodic-threads/") {
		rt, ok = route{"GET", s.handlePeriodicThread}, true
	}
	if !ok {
		// Starlette's redirect_slashes.
		if alt := strings.TrimSuffix(path, "/"); alt != path && alt != "" {
			if _, found := routes[alt]; found {
				u := *r.URL
				u.Path = alt
				http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
				return
			}
		}
		writeDetail(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != rt.method && !(rt.method == "GET" && r.Method == http.MethodHead) {
		if rt.method == "GET" {
			w.Header().Set("Allow", "GET, HEAD")
		} else {
			w.Header().Set("Allow", rt.method)
		}
		writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	rt.h(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(pyjson.Dumps(v))
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, pyjson.Object{{"detail", detail}})
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

func writeValidation(w http.ResponseWriter, errs []valErr) {
	list := make([]any, len(errs))
	for i, e := range errs {
		list[i] = e.json()
	}
	writeJSON(w, http.StatusUnprocessableEntity, pyjson.Object{{"detail", list}})
}

// maxBody bounds request bodies (the controller has no limit; 64 MiB is
// far above any prompt).
const maxBody = 64 << 20

// readBody parses a request body the way FastAPI 0.95 does for a JSON
// model parameter. ok is false when an error response was written.
func readBody(w http.ResponseWriter, r *http.Request) (any, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeDetail(w, http.StatusBadRequest, "There was an error parsing the body")
		return nil, false
	}
	if len(data) == 0 {
		return nil, true
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		return rawBody(data), true
	}
	v, err := pyjson.Loads(data)
	if err != nil {
		if de, ok := err.(*pyjson.DecodeError); ok {
			writeValidation(w, []valErr{{
				loc: []any{"body", de.Pos},
				msg: de.Error(),
				typ: "value_error.jsondecode",
				ctx: pyjson.Object{{"msg", de.Msg}, {"doc", de.Doc}, {"pos", de.Pos}, {"lineno", de.Lineno}, {"colno", de.Colno}},
			}})
			return nil, false
		}
		writeDetail(w, http.StatusBadRequest, "There was an error parsing the body")
		return nil, false
	}
	return v, true
}

// isJSONContentType follows FastAPI: no header means JSON; otherwise the
// media type must be application/json or application/*+json (as parsed by
// email.message, where a malformed value means text/plain).
func isJSONContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	if strings.Count(mt, "/") != 1 {
		return false
	}
	main, sub, _ := strings.Cut(mt, "/")
	return main == "application" && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// decode reads and validates a body against m; ok is false when an error
// response was written.
func decode(w http.ResponseWriter, r *http.Request, m model) (map[string]any, bool) {
	body, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	vals, errs := validateBody(m, body)
	if len(errs) > 0 {
		writeValidation(w, errs)
		return nil, false
	}
	return vals, true
}
