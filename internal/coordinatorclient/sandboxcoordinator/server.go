package sandboxcoordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"lmc/internal/pyjson"
	"lmc/internal/transport"
)

// Generation selects which coordinator the fake plays (spec §11.1).
type Generation string

// Generations, oldest first.
const (
	// Gen202606: /l2 quota naming (GET /l2/status), prefetch; no /quota,
	// no pins, no /directory.
	Gen202606 Generation = "2026-06"
	// Gen202607: endpoint groups — /quota, /quota/config, /cache/pins
	// (POST/DELETE), /cache/delete, /cache/prefetches — and no /directory
	// (the committed openapi.json's state). State is seeded with Ingest.
	Gen202607 Generation = "2026-07"
	// Gen202608Early: the first key directory (2026-07-28..mid-August):
	// keys-only /directory/lookup, /directory/lookup_tokens,
	// /directory/events, /directory/keys (from 2026-08-03),
	// /directory/token_ids, stats with per-instance stream state.
	Gen202608Early Generation = "2026-08-03"
	// Gen202608: two-form lookup with token_ids, POST /events,
	// /instances/usage, blend stats; no access_count.
	Gen202608 Generation = "2026-08-19"
	// Gen202609 (the default): access_count, tier totals in stats and
	// /metrics gauges, blend claims and namespaces, GET /cache/pins.
	Gen202609 Generation = "2026-09"
	// GenMoves: Gen202609 plus /cache/moves (RFC #5083, proposed).
	GenMoves Generation = "moves"
)

// Generations lists every generation the fake plays, oldest first.
var Generations = []Generation{Gen202606, Gen202607, Gen202608Early, Gen202608, Gen202609, GenMoves}

type profile struct {
	l2Naming, quota, quotaConfig, pins, pinList, deletes, prefetch bool
	directory, keysOnly, directoryKeys, events, usage, accessCount bool
	tierTotals, blendStats, blendClaims, moves, metrics, p2pFields bool
}

func profileOf(g Generation) profile {
	p := profile{prefetch: true, p2pFields: true}
	switch g {
	case Gen202606:
		p.l2Naming = true
		return p
	case Gen202607:
	case Gen202608Early:
		p.directory, p.keysOnly, p.directoryKeys = true, true, true
	case Gen202608:
		p.directory, p.directoryKeys, p.events, p.usage, p.blendStats, p.metrics = true, true, true, true, true, true
	default: // Gen202609, GenMoves
		p.directory, p.directoryKeys, p.events, p.usage, p.blendStats, p.metrics = true, true, true, true, true, true
		p.accessCount, p.tierTotals, p.blendClaims, p.pinList = true, true, true, true
		p.moves = g == GenMoves
	}
	p.quota, p.quotaConfig, p.pins, p.deletes = true, true, true, true
	return p
}

type config struct {
	gen           Generation
	prof          profile
	chunkSize     int
	now           func() time.Time
	ids           func(kind string) string
	mpURL         func(instanceID, ip string, port int) string
	hc            *http.Client
	noEviction    bool
	noOpenAPI     bool
	noMetrics     bool
	timeout       time.Duration
	movePoll      time.Duration
	moveTimeout   time.Duration
	moveTTL       time.Duration
	moveLimit     int
	tokenHashSeed string
}

// Option configures a Server.
type Option func(*config)

// WithGeneration sets the generation the fake plays (default Gen202609).
func WithGeneration(g Generation) Option { return func(c *config) { c.gen = g } }

// WithChunkSize sets --chunk-size (default 256).
func WithChunkSize(n int) Option { return func(c *config) { c.chunkSize = n } }

// WithClock sets the clock (registration times, heartbeats, move TTLs).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithIDs sets the generator of ids ("instance" for registrations
// without an id, which gets "mp-" prepended; "move" for move ids). The
// default is 32 random hex digits (uuid4().hex).
func WithIDs(f func(kind string) string) Option { return func(c *config) { c.ids = f } }

// WithMPServerURL maps a registered instance to the base URL the fake
// reaches it at (default http://ip:http_port): tests point the §8
// example's 10.0.0.5:8080 at a loopback MP server.
func WithMPServerURL(f func(instanceID, ip string, port int) string) Option {
	return func(c *config) { c.mpURL = f }
}

// WithHTTPClient sets the client for calls to MP servers (default: 30 s
// timeout, like the coordinator's httpx client).
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// WithoutEvictionController plays a coordinator built without its
// eviction controller: /quota* and /cache/pins answer 404.
func WithoutEvictionController() Option { return func(c *config) { c.noEviction = true } }

// WithoutOpenAPI answers 404 on /openapi.json (docs disabled), so
// clients must probe.
func WithoutOpenAPI() Option { return func(c *config) { c.noOpenAPI = true } }

// WithoutMetrics is --disable-metrics: GET /metrics answers 404.
func WithoutMetrics() Option { return func(c *config) { c.noMetrics = true } }

// WithInstanceTimeout sets --instance-timeout (default 30 s; 0 disables
// the sweep). Instances that stop heartbeating are dropped and fenced on
// the next request after the timeout.
func WithInstanceTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithMoveSettings sets move_poll_interval_s, move_completion_timeout_s
// and move_result_ttl_s (defaults 0.5 s, 600 s, 600 s).
func WithMoveSettings(poll, timeout, ttl time.Duration) Option {
	return func(c *config) { c.movePoll, c.moveTimeout, c.moveTTL = poll, timeout, ttl }
}

// Server is a fake LMCache MP coordinator. It implements http.Handler.
type Server struct {
	cfg config

	mu sync.Mutex
	st *state

	moves *moveTable

	faultBox

	ln   net.Listener
	srv  *http.Server
	once sync.Once
	wg   sync.WaitGroup
}

// Request is one request the fake received (for asserting request bodies).
type Request struct {
	Method string
	Path   string
	Query  string
	Body   string
}

// New returns a fake coordinator that is not listening (serve it with
// httptest or Start).
func New(opts ...Option) *Server {
	cfg := config{gen: Gen202609, chunkSize: 256, now: time.Now, timeout: 30 * time.Second,
		movePoll: 500 * time.Millisecond, moveTimeout: 600 * time.Second, moveTTL: 600 * time.Second, moveLimit: 1000}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.prof = profileOf(cfg.gen)
	if cfg.noEviction {
		cfg.prof.quota, cfg.prof.quotaConfig, cfg.prof.pins, cfg.prof.pinList, cfg.prof.l2Naming = false, false, false, false, false
	}
	if cfg.noMetrics {
		cfg.prof.metrics = false
	}
	if cfg.ids == nil {
		cfg.ids = func(string) string { return randomHex() }
	}
	if cfg.mpURL == nil {
		cfg.mpURL = func(_, ip string, port int) string {
			if strings.Contains(ip, ":") {
				ip = "[" + ip + "]"
			}
			return "http://" + ip + ":" + itoa(int64(port))
		}
	}
	if cfg.hc == nil {
		cfg.hc = transport.NewClient(30 * time.Second)
	}
	return &Server{cfg: cfg, st: newState(), moves: newMoveTable(), faultBox: newFaultBox()}
}

// Start listens on addr ("" means 127.0.0.1:0) and serves until Close.
func Start(addr string, opts ...Option) (*Server, error) {
	s := New(opts...)
	var err error
	if s.ln, s.srv, err = listen(addr, s, &s.wg); err != nil {
		return nil, err
	}
	return s, nil
}

// listen serves h on addr ("" means 127.0.0.1:0) until the server is shut
// down; wg counts the serving goroutine.
func listen(addr string, h http.Handler, wg *sync.WaitGroup) (net.Listener, *http.Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(ln)
	}()
	return ln, srv, nil
}

// baseURL is the URL of a started server ("" when ln is nil).
func baseURL(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return "http://" + ln.Addr().String()
}

// URL is the base URL of a started server.
func (s *Server) URL() string { return baseURL(s.ln) }

// Addr is the listen address of a started server.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Generation is the generation the fake plays.
func (s *Server) Generation() Generation { return s.cfg.gen }

// Close releases held requests (stalls), stops moves and, for a started
// server, stops listening. Safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.done) })
	err := shutdown(s.srv)
	s.wg.Wait()
	return err
}

// shutdown stops a started server (srv nil: not started), waiting up to
// 2 s for its requests.
func shutdown(srv *http.Server) error {
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

func itoa(n int64) string { return pyjson.Int{V: n}.String() }

// reply is a handler's answer before faults apply.
type reply struct {
	status int
	body   []byte
	ctype  string
}

// jsonReply renders like Starlette's JSONResponse, whose json.dumps has
// allow_nan=False: an answer holding NaN or ±Infinity (a 422 echoing a
// NaN input) fails to render, and the client gets the plain 500.
func jsonReply(status int, v any) reply {
	if hasNonFinite(v) {
		return internalServerError()
	}
	return reply{status: status, body: pyjson.Dumps(v), ctype: "application/json"}
}

func hasNonFinite(v any) bool {
	switch x := v.(type) {
	case pyjson.Float:
		return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0)
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case []any:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	case pyjson.Object:
		for _, e := range x {
			if hasNonFinite(e.Value) {
				return true
			}
		}
	case *pyjson.Dict:
		for _, k := range x.Keys {
			if hasNonFinite(x.Vals[k]) {
				return true
			}
		}
	}
	return false
}

func detail(status int, msg string) reply {
	return jsonReply(status, pyjson.Object{{"detail", msg}})
}

func notFound() reply         { return detail(http.StatusNotFound, "Not Found") }
func methodNotAllowed() reply { return detail(http.StatusMethodNotAllowed, "Method Not Allowed") }

// maxBody bounds what the fake reads of a request (8 million tokens of
// JSON is far above the coordinator's cap).
const maxBody = 64 << 20

// ServeHTTP answers like the coordinator.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq, ok := readRequest(r)
	if !ok {
		return
	}
	s.record(r, rq.body)
	h, params, pattern := s.route(rq.method, rq.path)
	rq.params = params
	f := s.takeFault(rq.path, pattern)
	if f != nil && !s.preFault(w, r, f) {
		return
	}
	var rep reply
	switch {
	case len(rq.body) > maxBody:
		rep = detail(http.StatusRequestEntityTooLarge, "request body too large")
	case f != nil && f.Status != 0:
		rep = f.answer()
	default:
		s.sweep()
		rep = f.falsify(h(s, rq))
	}
	rep.write(w)
}

// readRequest reads r, its body bounded by maxBody+1, for the handlers.
func readRequest(r *http.Request) (*request, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, false
	}
	return &request{method: r.Method, path: r.URL.Path, query: r.URL.Query(), body: body, ctype: r.Header.Get("Content-Type"), hasBody: len(body) > 0, ctx: r.Context()}, true
}

// write sends the reply (a 204 without a body).
func (rep reply) write(w http.ResponseWriter) {
	if rep.ctype != "" {
		w.Header().Set("Content-Type", rep.ctype)
	}
	if rep.status == http.StatusNoContent {
		w.WriteHeader(rep.status)
		return
	}
	w.Header().Set("Content-Length", itoa(int64(len(rep.body))))
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// sweep drops instances that stopped heartbeating (spec §6.2 liveness).
func (s *Server) sweep() {
	if s.cfg.timeout <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	for _, id := range append([]string(nil), s.st.regOrder...) {
		if in := s.st.reg[id]; in != nil && now.Sub(in.lastHB) > s.cfg.timeout {
			s.st.dropInstance(id)
		}
	}
}
