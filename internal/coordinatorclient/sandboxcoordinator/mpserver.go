package sandboxcoordinator

// A fake MP server (lmcache server): its HTTP API (spec §10) under the
// route names of one generation, an L1 and an L2 object table, warm
// prefetch jobs, and — with WithCoordinator — registration, heartbeats
// and the cache-event stream to a coordinator (spec §1.3, §3.5), so a
// fake coordinator is populated exactly the way real MP servers do it.

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"lmc/internal/pyjson"
	"lmc/internal/transport"
)

// MPRoutes selects an MP server generation's route names (spec §10.4).
type MPRoutes string

// MP route generations.
const (
	MPRoutesNewest MPRoutes = "newest"  // /cache/*, /config*
	MPRoutes202605 MPRoutes = "2026-05" // /clear-cache, /l2/keys, /l2/keys:evict, /l2/prefetch
	MPRoutes202603 MPRoutes = "2026-03" // /api/healthcheck, /api/status, /api/clear-cache
)

// L2Pool is an L2 adapter's object table. One pool can back several fake
// MP servers (a fleet-shared bucket: its events carry shared=true).
type L2Pool struct {
	mu       sync.Mutex
	backend  string // adapter type as registered ("fs", "s3", …)
	typeName string // class name (GET /cache/objects "adapter")
	shared   bool
	listable bool
	capacity int64
	objs     dict[objKey, *object]
}

type object struct {
	size   int64
	tokens []int64
	offset int64
}

// NewL2Pool returns an empty L2 adapter: backend is its registered type
// ("fs"), typeName its class ("FSL2Adapter"); shared marks a fleet-wide
// pool. Pools list their keys (only the S3 adapter does upstream; see
// SetListable).
func NewL2Pool(backend, typeName string, shared bool, capacityBytes int64) *L2Pool {
	return &L2Pool{backend: backend, typeName: typeName, shared: shared, listable: true, capacity: capacityBytes, objs: newDict[objKey, *object]()}
}

// SetListable makes GET /cache/objects answer 501 for this pool (false).
func (p *L2Pool) SetListable(ok bool) { p.mu.Lock(); p.listable = ok; p.mu.Unlock() }

// Len is the number of objects.
func (p *L2Pool) Len() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.objs.m) }

type mpConfig struct {
	id             string
	incarnation    int64
	chunkSize      int
	hashAlgorithm  string
	contexts       [][2]any // model, ws
	medium         string
	l1Capacity     int64
	l2             *L2Pool
	bytesPerToken  int64
	routes         MPRoutes
	reqIDs         func() string
	pendingPolls   int
	missingIndices bool
	coordinator    string
	eventsPath     string
	advertiseIP    string
	advertisePort  int
	heartbeat      time.Duration
	now            func() time.Time
	notInit        bool
	noRegister     bool
	sink           func([]byte) error
	seq            int64
	hc             *http.Client
}

// MPOption configures an MPServer.
type MPOption func(*mpConfig)

// WithMPInstanceID sets --instance-id (default "server-1").
func WithMPInstanceID(id string) MPOption { return func(c *mpConfig) { c.id = id } }

// WithMPIncarnation sets the incarnation (default: start time, epoch s).
func WithMPIncarnation(n int64) MPOption { return func(c *mpConfig) { c.incarnation = n } }

// WithMPChunkSize sets --chunk-size (default 256).
func WithMPChunkSize(n int) MPOption { return func(c *mpConfig) { c.chunkSize = n } }

// WithMPHashAlgorithm sets the name /status reports (default "blake3";
// the fake always hashes with blake3).
func WithMPHashAlgorithm(name string) MPOption { return func(c *mpConfig) { c.hashAlgorithm = name } }

// WithMPContext registers a KV cache layout for (model, world size): a
// prefetch for another pair answers 503 "no layout registered". The
// default is meta-llama/Llama-3.1-8B-Instruct with world size 1.
func WithMPContext(model string, worldSize int) MPOption {
	return func(c *mpConfig) { c.contexts = append(c.contexts, [2]any{model, worldSize}) }
}

// WithL1 sets the L1 medium ("dram") and its capacity in bytes (0: no
// declared limit; default 40 GiB).
func WithL1(medium string, capacityBytes int64) MPOption {
	return func(c *mpConfig) { c.medium, c.l1Capacity = medium, capacityBytes }
}

// WithL2 attaches an L2 adapter (default: a private "fs" pool without a
// declared limit).
func WithL2(p *L2Pool) MPOption { return func(c *mpConfig) { c.l2 = p } }

// WithMPBytesPerToken sets an object's size per token (default 131072:
// a 256-token chunk is 32 MiB, as in the spec's examples).
func WithMPBytesPerToken(n int64) MPOption { return func(c *mpConfig) { c.bytesPerToken = n } }

// WithMPRoutes sets the route names (default MPRoutesNewest).
func WithMPRoutes(r MPRoutes) MPOption { return func(c *mpConfig) { c.routes = r } }

// WithMPRequestIDs sets the prefetch request id generator (default
// uuid4().hex).
func WithMPRequestIDs(f func() string) MPOption { return func(c *mpConfig) { c.reqIDs = f } }

// WithPrefetchPolls sets how many polls answer "pending" before the job
// completes (default 1).
func WithPrefetchPolls(n int) MPOption { return func(c *mpConfig) { c.pendingPolls = n } }

// WithoutMissingKeyIndices plays a server before PR #5086 (no
// missing_key_indices in a completed status).
func WithoutMissingKeyIndices() MPOption { return func(c *mpConfig) { c.missingIndices = false } }

// WithCoordinator makes the server register with the coordinator at url,
// heartbeat and stream its cache events (--coordinator-url and
// --coordinator-event-reporting). eventsPath is the ingest route
// ("/events"; "/directory/events" for a 2026-08-03 coordinator).
func WithCoordinator(url, eventsPath string) MPOption {
	return func(c *mpConfig) { c.coordinator, c.eventsPath = strings.TrimRight(url, "/"), eventsPath }
}

// WithAdvertise sets the ip and http_port sent at registration (default:
// the listener's).
func WithAdvertise(ip string, port int) MPOption {
	return func(c *mpConfig) { c.advertiseIP, c.advertisePort = ip, port }
}

// WithHeartbeat sets the heartbeat interval (default 5 s; 0 none).
func WithHeartbeat(d time.Duration) MPOption { return func(c *mpConfig) { c.heartbeat = d } }

// WithMPClock sets the clock (event timestamps, incarnation default).
func WithMPClock(now func() time.Time) MPOption { return func(c *mpConfig) { c.now = now } }

// WithoutRegistration publishes events to the coordinator but does not
// register, declare or heartbeat (a test that registers by hand).
func WithoutRegistration() MPOption { return func(c *mpConfig) { c.noRegister = true } }

// WithEventSink delivers the event stream to sink instead of POST
// {coordinator}/events (a fake coordinator of a generation without
// /events takes it through Server.Ingest).
func WithEventSink(sink func(body []byte) error) MPOption { return func(c *mpConfig) { c.sink = sink } }

// WithMPSeq sets the last seq number already used (events continue from
// seq+1), for a server whose earlier batches a test posted itself.
func WithMPSeq(last int64) MPOption { return func(c *mpConfig) { c.seq = last } }

// WithEngineNotInitialized makes /status and /healthcheck answer 503.
func WithEngineNotInitialized() MPOption { return func(c *mpConfig) { c.notInit = true } }

// MPServer is a fake MP server. It implements http.Handler.
type MPServer struct {
	cfg mpConfig

	mu   sync.Mutex
	l1   dict[objKey, *object]
	jobs map[string]*prefetchJob
	seq  int64
	evMu sync.Mutex // serialises event flushes (one seq order)

	faultBox

	ln     net.Listener
	srv    *http.Server
	once   sync.Once
	wg     sync.WaitGroup
	hbStop chan struct{}
	hbDone chan struct{} // closed when the heartbeat loop has ended
}

type prefetchJob struct {
	keys    []objKey
	pending int
}

// NewMPServer returns a fake MP server that is not listening.
func NewMPServer(opts ...MPOption) *MPServer {
	cfg := mpConfig{id: "server-1", chunkSize: 256, hashAlgorithm: "blake3", medium: "dram", l1Capacity: 40 << 30,
		bytesPerToken: 131072, routes: MPRoutesNewest, pendingPolls: 1, missingIndices: true, heartbeat: 5 * time.Second,
		now: time.Now, hc: transport.NewClient(10 * time.Second)}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.incarnation == 0 {
		cfg.incarnation = cfg.now().Unix()
	}
	if cfg.l2 == nil {
		cfg.l2 = NewL2Pool("fs", "FSL2Adapter", false, 0)
	}
	if len(cfg.contexts) == 0 {
		cfg.contexts = [][2]any{{"meta-llama/Llama-3.1-8B-Instruct", 1}}
	}
	if cfg.reqIDs == nil {
		cfg.reqIDs = randomHex
	}
	if cfg.eventsPath == "" {
		cfg.eventsPath = "/events"
	}
	return &MPServer{cfg: cfg, l1: newDict[objKey, *object](), jobs: map[string]*prefetchJob{}, seq: cfg.seq, faultBox: newFaultBox(), hbStop: make(chan struct{}), hbDone: make(chan struct{})}
}

// StartMPServer listens on addr ("" means 127.0.0.1:0); with a
// coordinator it registers, declares its capacity and heartbeats.
func StartMPServer(addr string, opts ...MPOption) (*MPServer, error) {
	m := NewMPServer(opts...)
	var err error
	if m.ln, m.srv, err = listen(addr, m, &m.wg); err != nil {
		return nil, err
	}
	if m.cfg.coordinator != "" && !m.cfg.noRegister {
		if err := m.Register(); err != nil {
			close(m.hbDone) // no heartbeat was started
			m.Close()
			return nil, err
		}
		if m.cfg.heartbeat > 0 {
			m.wg.Add(1)
			go m.heartbeatLoop()
		} else {
			close(m.hbDone)
		}
	}
	return m, nil
}

// URL is the base URL of a started server.
func (m *MPServer) URL() string { return baseURL(m.ln) }

// InstanceID is --instance-id.
func (m *MPServer) InstanceID() string { return m.cfg.id }

// Incarnation is the server's incarnation.
func (m *MPServer) Incarnation() int64 { return m.cfg.incarnation }

// Close deregisters (errors ignored) and stops.
func (m *MPServer) Close() error {
	var err error
	m.once.Do(func() {
		close(m.done)
		close(m.hbStop)
		if m.cfg.coordinator != "" && !m.cfg.noRegister && m.ln != nil {
			// A heartbeat still in flight would answer the deregistration
			// with a new registration (a 404 makes it register again).
			<-m.hbDone
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if req, err := http.NewRequestWithContext(ctx, http.MethodDelete, m.cfg.coordinator+"/instances/"+url.PathEscape(m.cfg.id), nil); err == nil {
				if resp, e := m.cfg.hc.Do(req); e == nil {
					resp.Body.Close()
				}
			}
			cancel()
		}
		err = shutdown(m.srv)
	})
	m.wg.Wait()
	return err
}

func (m *MPServer) post(method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := jsonRequest(ctx, method, m.cfg.coordinator+path, body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := m.cfg.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, nil
}

// Register sends POST /instances and then the capacity declaration
// (config batches), as the registrar does after every (re)registration.
func (m *MPServer) Register() error {
	ip, port := m.cfg.advertiseIP, m.cfg.advertisePort
	if m.ln != nil {
		host, p, _ := net.SplitHostPort(m.ln.Addr().String())
		if ip == "" {
			ip = host
		}
		if port == 0 {
			port, _ = strconv.Atoi(p)
		}
	}
	body := pyjson.Dumps(pyjson.Object{{"instance_id", m.cfg.id}, {"ip", ip}, {"http_port", int64(port)}, {"metadata", pyjson.Object{}},
		{"p2p_advertised_url", ""}, {"mq_port", int64(0)}})
	status, b, err := m.post(http.MethodPost, "/instances", body)
	if err != nil {
		return fmt.Errorf("register with %s: %w", m.cfg.coordinator, err)
	}
	if status != 200 {
		return fmt.Errorf("register with %s: HTTP %d: %s", m.cfg.coordinator, status, b)
	}
	return m.flush(m.declaration())
}

func (m *MPServer) heartbeatLoop() {
	defer m.wg.Done()
	defer close(m.hbDone)
	t := time.NewTicker(m.cfg.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-m.hbStop:
			return
		case <-t.C:
			status, _, err := m.post(http.MethodPut, "/instances/"+url.PathEscape(m.cfg.id)+"/heartbeat", nil)
			if err == nil && status == http.StatusNotFound {
				_ = m.Register()
			}
		}
	}
}

type pendingBatch struct {
	eventType, tier, backend string
	shared                   bool
	entries                  []any
	capacity, revision       int64
}

func (m *MPServer) declaration() []pendingBatch {
	return []pendingBatch{
		{eventType: "config", tier: "l1", backend: m.cfg.medium, capacity: m.cfg.l1Capacity, revision: 1},
		{eventType: "config", tier: "l2", backend: m.cfg.l2.backend, shared: m.cfg.l2.shared, capacity: m.cfg.l2.capacity, revision: 1},
	}
}

// flush sends one flush: consecutive seq numbers, one ts. A failed
// publish keeps the seq numbers used (the coordinator sees a gap).
func (m *MPServer) flush(pbs []pendingBatch) error {
	m.evMu.Lock()
	defer m.evMu.Unlock()
	if m.cfg.coordinator == "" && m.cfg.sink == nil || len(pbs) == 0 {
		return nil
	}
	ts := epochFloat(m.cfg.now())
	batches := make([]any, 0, len(pbs))
	m.mu.Lock()
	for _, pb := range pbs {
		m.seq++
		entries := pb.entries
		if entries == nil {
			entries = []any{}
		}
		batches = append(batches, pyjson.Object{{"instance_id", m.cfg.id}, {"incarnation", m.cfg.incarnation}, {"seq", m.seq},
			{"event_type", pb.eventType}, {"tier", pb.tier}, {"backend", pb.backend}, {"entries", entries}, {"shared", pb.shared},
			{"ts", pyjson.Float(ts)}, {"capacity_bytes", pb.capacity}, {"capacity_revision", pb.revision}})
	}
	m.mu.Unlock()
	body := pyjson.Dumps(pyjson.Object{{"batches", batches}})
	if m.cfg.sink != nil {
		return m.cfg.sink(body)
	}
	status, b, err := m.post(http.MethodPost, m.cfg.eventsPath, body)
	if err != nil {
		return fmt.Errorf("publish cache events to %s: %w", m.cfg.coordinator, err)
	}
	if status != 200 {
		return fmt.Errorf("publish cache events to %s: HTTP %d: %s", m.cfg.coordinator, status, b)
	}
	return nil
}

// group appends an entry to the last pending batch of the same identity,
// or starts a batch (the emitter never reorders).
func group(pbs []pendingBatch, eventType, tier, backend string, shared bool, e any) []pendingBatch {
	if n := len(pbs); n > 0 {
		last := &pbs[n-1]
		if last.eventType == eventType && last.tier == tier && last.backend == backend && last.shared == shared {
			last.entries = append(last.entries, e)
			return pbs
		}
	}
	return append(pbs, pendingBatch{eventType: eventType, tier: tier, backend: backend, shared: shared, entries: []any{e}})
}

func storeEntry(k objKey, o *object) pyjson.Object {
	return pyjson.Object{{"key", k.wire()}, {"size_bytes", o.size}, {"token_ids", o.tokens}, {"token_offset", o.offset}}
}

func deleteEntry(k objKey) pyjson.Object {
	return pyjson.Object{{"key", k.wire()}, {"size_bytes", int64(0)}, {"token_ids", []int64{}}, {"token_offset", int64(-1)}}
}

// Store writes a token sequence's complete chunks to a tier ("l1" or
// "l2") for every rank of worldSize (or only ranks), and publishes the
// store events. It returns the number of keys written.
func (m *MPServer) Store(tier string, tokens []uint32, model string, worldSize int, salt string, ranks ...int) (int, error) {
	n, pbs, err := m.store(tier, tokens, model, worldSize, salt, ranks)
	if err != nil {
		return 0, err
	}
	return n, m.flush(pbs)
}

// Seed is Store without publishing: the server's state for events a test
// sends itself.
func (m *MPServer) Seed(tier string, tokens []uint32, model string, worldSize int, salt string, ranks ...int) (int, error) {
	n, _, err := m.store(tier, tokens, model, worldSize, salt, ranks)
	return n, err
}

func (m *MPServer) store(tier string, tokens []uint32, model string, worldSize int, salt string, ranks []int) (int, []pendingBatch, error) {
	toks := make([]int64, len(tokens))
	for i, t := range tokens {
		toks[i] = int64(t)
	}
	hashes, err := chunkHashes(toks, m.cfg.chunkSize)
	if err != nil {
		return 0, nil, err
	}
	if len(ranks) == 0 {
		for r := 0; r < worldSize; r++ {
			ranks = append(ranks, r)
		}
	}
	cs := m.cfg.chunkSize
	var pbs []pendingBatch
	n := 0
	m.mu.Lock()
	p := m.cfg.l2
	p.mu.Lock()
	for i, h := range hashes {
		for _, r := range ranks {
			k := objKey{hash: h, model: model, rank: kvRank(int64(worldSize), int64(r)), salt: salt}
			o := &object{size: int64(cs) * m.cfg.bytesPerToken, tokens: toks[i*cs : (i+1)*cs], offset: int64(i * cs)}
			if tier == "l1" {
				m.l1.put(k, o)
				pbs = group(pbs, "store", "l1", m.cfg.medium, false, storeEntry(k, o))
			} else {
				p.objs.put(k, o)
				pbs = group(pbs, "store", "l2", p.backend, p.shared, storeEntry(k, o))
			}
			n++
		}
	}
	p.mu.Unlock()
	m.mu.Unlock()
	return n, pbs, nil
}

// L1Len is the number of L1 objects.
func (m *MPServer) L1Len() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.l1.m) }

// Access publishes access events for keys of a token sequence (L1
// touches).
func (m *MPServer) Access(tokens []uint32, model string, worldSize int, salt string) error {
	toks := make([]int64, len(tokens))
	for i, t := range tokens {
		toks[i] = int64(t)
	}
	hashes, err := chunkHashes(toks, m.cfg.chunkSize)
	if err != nil {
		return err
	}
	var pbs []pendingBatch
	for _, h := range hashes {
		for r := 0; r < worldSize; r++ {
			k := objKey{hash: h, model: model, rank: kvRank(int64(worldSize), int64(r)), salt: salt}
			pbs = group(pbs, "access", "l1", "", false, deleteEntry(k))
		}
	}
	return m.flush(pbs)
}

// ---------------------------------------------------------------------------
// HTTP API

type mpRoute struct {
	method, pattern string
	h               func(*MPServer, *request) reply
}

func (m *MPServer) routes() []mpRoute {
	switch m.cfg.routes {
	case MPRoutes202603:
		return []mpRoute{
			{"GET", "/", mpRoot}, {"GET", "/api/healthcheck", mpHealth}, {"GET", "/api/status", mpStatus},
			{"POST", "/api/clear-cache", mpClearOld}, {"GET", "/version", mpVersion},
		}
	case MPRoutes202605:
		return []mpRoute{
			{"GET", "/", mpRoot}, {"GET", "/healthcheck", mpHealth}, {"GET", "/status", mpStatus},
			{"POST", "/clear-cache", mpClearOld}, {"GET", "/l2/keys", mpObjects}, {"POST", "/l2/keys:evict", mpEvictOld},
			{"POST", "/l2/prefetch", mpPrefetch}, {"GET", "/l2/prefetch/{request_id}", mpPrefetchStatus}, {"GET", "/version", mpVersion},
		}
	}
	return []mpRoute{
		{"GET", "/", mpRoot}, {"GET", "/healthcheck", mpHealth}, {"GET", "/status", mpStatus}, {"GET", "/version", mpVersion},
		{"GET", "/cache/objects", mpObjects}, {"DELETE", "/cache/objects", mpDeleteObjects},
		{"POST", "/cache/prefetches", mpPrefetch}, {"GET", "/cache/prefetches/{request_id}", mpPrefetchStatus},
		{"POST", "/cache/clear", mpClear}, {"GET", "/openapi.json", mpOpenAPI},
	}
}

// ServeHTTP answers like an MP server.
func (m *MPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq, ok := readRequest(r)
	if !ok {
		return
	}
	m.record(r, rq.body)
	var h func(*MPServer, *request) reply
	pattern, pathMatched := "", false
	for _, rt := range m.routes() {
		params, ok := match(rt.pattern, rq.path)
		if !ok {
			continue
		}
		pathMatched = true
		if rt.method == rq.method {
			h, rq.params, pattern = rt.h, params, rt.pattern
			break
		}
	}
	f := m.takeFault(rq.path, pattern)
	if f != nil && !m.preFault(w, r, f) {
		return
	}
	var rep reply
	switch {
	case f != nil && f.Status != 0:
		rep = f.answer()
	case h != nil:
		rep = f.falsify(h(m, rq))
	case pathMatched:
		rep = methodNotAllowed()
	default:
		rep = notFound()
	}
	rep.write(w)
}

func mpRoot(*MPServer, *request) reply {
	return jsonReply(200, pyjson.Object{{"status", "ok"}, {"service", "LMCache HTTP API"}})
}

func mpVersion(*MPServer, *request) reply { return jsonReply(200, "0.3.1-lmcfake") }

func mpOpenAPI(m *MPServer, _ *request) reply {
	paths := pyjson.Object{}
	for _, rt := range m.routes() {
		paths = append(paths, pyjson.Member{rt.pattern, pyjson.Object{{strings.ToLower(rt.method), pyjson.Object{}}}})
	}
	return jsonReply(200, pyjson.Object{{"openapi", "3.1.0"}, {"info", pyjson.Object{{"title", "LMCache HTTP API"}, {"version", "0.1.0"}}}, {"paths", paths}})
}

func mpHealth(m *MPServer, _ *request) reply {
	if m.cfg.notInit {
		return jsonReply(http.StatusServiceUnavailable, pyjson.Object{{"status", "unhealthy"}, {"reason", "engine not initialized"}})
	}
	return jsonReply(200, pyjson.Object{{"status", "healthy"}})
}

func mpStatus(m *MPServer, _ *request) reply {
	if m.cfg.notInit {
		return jsonReply(http.StatusServiceUnavailable, pyjson.Object{{"error", "engine not initialized"}})
	}
	m.mu.Lock()
	var used int64
	for _, o := range m.l1.m {
		used += o.size
	}
	l1n := len(m.l1.m)
	jobs := len(m.jobs)
	m.mu.Unlock()
	p := m.cfg.l2
	p.mu.Lock()
	var l2used int64
	for _, o := range p.objs.m {
		l2used += o.size
	}
	l2n := len(p.objs.m)
	p.mu.Unlock()
	ctxs := pyjson.Object{}
	gpus := []any{}
	for i, c := range m.cfg.contexts {
		ws := int64(c[1].(int))
		layout := pyjson.Object{{"num_layers", int64(32)}, {"num_blocks", int64(12345)}, {"cache_size_per_token", m.cfg.bytesPerToken},
			{"kernel_groups", []any{pyjson.Object{{"kernel_group_idx", int64(0)}, {"engine_group_idx", int64(0)}, {"object_group_idx", int64(0)},
				{"num_layers", int64(32)}, {"tokens_per_block", int64(16)}, {"slots_per_block", int64(16)}, {"dtype", "torch.bfloat16"}, {"is_mla", false}}}}}
		ctxs = append(ctxs, pyjson.Member{strconv.Itoa(i), pyjson.Object{{"model_name", c[0].(string)}, {"world_size", ws}, {"kv_cache_layout", layout}}})
		gpus = append(gpus, int64(i))
	}
	ctxName, engine := "cache_context_meta", "MPCacheServer"
	if m.cfg.routes != MPRoutesNewest {
		ctxName, engine = "gpu_context_meta", "MPCacheEngine"
	}
	var ratio any
	if m.cfg.l1Capacity > 0 {
		ratio = pyjson.Float(float64(used) / float64(m.cfg.l1Capacity))
	}
	return jsonReply(200, pyjson.Object{{"is_healthy", true}, {"engine_type", engine}, {"chunk_size", int64(m.cfg.chunkSize)},
		{"hash_algorithm", m.cfg.hashAlgorithm}, {"active_sessions", int64(len(m.cfg.contexts))}, {"registered_gpu_ids", gpus},
		{ctxName, ctxs}, {"active_prefetch_jobs", int64(jobs)},
		{"storage_manager", pyjson.Object{{"is_healthy", true},
			{"l1_manager", pyjson.Object{{"memory_total_bytes", m.cfg.l1Capacity}, {"memory_used_bytes", used}, {"memory_usage_ratio", ratio}, {"total_object_count", int64(l1n)}}},
			{"eviction_controller", pyjson.Object{{"eviction_policy", "LRU"}}},
			{"l2_adapters", []any{pyjson.Object{{"type", p.typeName}, {"is_healthy", true}, {"backend", p.backend}, {"stored_object_count", int64(l2n)},
				{"max_capacity_bytes", p.capacity}, {"current_size_bytes", l2used}}}}}}})
}

// clearL1 drops every L1 object and publishes the deletes.
func (m *MPServer) clearL1() error {
	m.mu.Lock()
	var pbs []pendingBatch
	for _, k := range m.l1.keys {
		pbs = group(pbs, "delete", "l1", m.cfg.medium, false, deleteEntry(k))
	}
	m.l1 = newDict[objKey, *object]()
	m.mu.Unlock()
	return m.flush(pbs)
}

func mpClear(m *MPServer, rq *request) reply {
	tier := "l1"
	if rq.hasBody {
		_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
			tier, _ = c.enum(o, []any{"body"}, "tier", "l1", "l1", "l2", "all")
			_, _ = c.boolean(o, []any{"body"}, "force", true)
		})
		if r != nil {
			return *r
		}
	}
	if tier != "l1" {
		return detail(http.StatusBadRequest, "tier "+pyjson.Repr(tier)+" not supported; only 'l1'")
	}
	if err := m.clearL1(); err != nil {
		return detail(http.StatusServiceUnavailable, err.Error())
	}
	return jsonReply(200, pyjson.Object{{"status", "ok"}, {"cleared", pyjson.Object{{"tier", "l1"}}}})
}

func mpClearOld(m *MPServer, _ *request) reply {
	if err := m.clearL1(); err != nil {
		return jsonReply(http.StatusServiceUnavailable, pyjson.Object{{"error", err.Error()}})
	}
	return jsonReply(200, pyjson.Object{{"status", "ok"}})
}

func mpObjects(m *MPServer, rq *request) reply {
	c := &v{}
	old := m.cfg.routes == MPRoutes202605
	tier := "l2"
	if !old {
		tier = c.queryEnum(rq, "tier", "l2", "l1", "l2", "all")
	}
	size := c.queryInt(rq, "page_size", 500, geLe(1, 5000))
	if !c.ok() {
		return unprocessable(c)
	}
	if tier != "l2" {
		return detail(http.StatusBadRequest, "tier "+pyjson.Repr(tier)+" cannot be listed; only 'l2'")
	}
	p := m.cfg.l2
	if a := queryStr(rq, "adapter"); a != "" && a != p.typeName {
		return detail(http.StatusNotFound, "unknown adapter "+pyjson.Repr(a))
	}
	offset := int64(0)
	if tok := queryStr(rq, "page_token"); tok != "" {
		b, err := hex.DecodeString(tok)
		n, err2 := strconv.ParseInt(string(b), 10, 64)
		if err != nil || err2 != nil || n < 0 {
			return detail(http.StatusBadRequest, "invalid page_token")
		}
		offset = n
	}
	model, salt := queryStr(rq, "model_name"), queryStr(rq, "cache_salt")
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.listable {
		return detail(http.StatusNotImplemented, "adapter "+pyjson.Repr(p.typeName)+" cannot list its keys")
	}
	var all []objKey
	for _, k := range p.objs.keys {
		if (model == "" || k.model == model) && (salt == "" || k.salt == salt) {
			all = append(all, k)
		}
	}
	entries := []any{}
	for i := offset; i < int64(len(all)) && i < offset+size; i++ {
		k, o := all[i], p.objs.m[all[i]]
		if old {
			e := append(k.wire(), pyjson.Member{"size_bytes", o.size}, pyjson.Member{"adapter", p.typeName})
			entries = append(entries, e)
		} else {
			entries = append(entries, pyjson.Object{{"key", k.wire()}, {"size_bytes", o.size}})
		}
	}
	var next any
	if offset+size < int64(len(all)) {
		next = hex.EncodeToString([]byte(strconv.FormatInt(offset+size, 10)))
	}
	return jsonReply(200, pyjson.Object{{"adapter", p.typeName}, {"entries", entries}, {"next_page_token", next}})
}

// deleteKeys deletes from the tiers and publishes the deletes.
func (m *MPServer) deleteKeys(keys []objKey, tier string) (int64, error) {
	var pbs []pendingBatch
	var n int64
	m.mu.Lock()
	p := m.cfg.l2
	p.mu.Lock()
	for _, k := range keys {
		if tier != "l2" && m.l1.del(k) {
			n++
			pbs = group(pbs, "delete", "l1", m.cfg.medium, false, deleteEntry(k))
		}
		if tier != "l1" && p.objs.del(k) {
			n++
			pbs = group(pbs, "delete", "l2", p.backend, p.shared, deleteEntry(k))
		}
	}
	p.mu.Unlock()
	m.mu.Unlock()
	return n, m.flush(pbs)
}

func (m *MPServer) keysBody(rq *request, withTier bool) ([]objKey, string, *reply) {
	var eks []encodedKey
	tier := "l2"
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		l, _ := c.list(o, []any{"body"}, "keys", true)
		for i, e := range l {
			if k, ok := c.encodedKeyValue(e, []any{"body", "keys", i}); ok {
				eks = append(eks, k)
			}
		}
		if withTier {
			tier, _ = c.enum(o, []any{"body"}, "tier", "l2", "l1", "l2", "all")
			_, _ = c.boolean(o, []any{"body"}, "force", false)
		}
	})
	if r != nil {
		return nil, "", r
	}
	if len(eks) > 10000 {
		r := detail(http.StatusBadRequest, fmt.Sprintf("too many keys in a single request (limit=10000, got=%d)", len(eks)))
		return nil, "", &r
	}
	keys := make([]objKey, len(eks))
	for i, ek := range eks {
		k, err := ek.convert()
		if err != nil {
			r := detail(http.StatusBadRequest, err.Error())
			return nil, "", &r
		}
		keys[i] = k
	}
	return keys, tier, nil
}

func mpDeleteObjects(m *MPServer, rq *request) reply {
	keys, tier, r := m.keysBody(rq, true)
	if r != nil {
		return *r
	}
	n, err := m.deleteKeys(keys, tier)
	if err != nil {
		return jsonReply(200, pyjson.Object{{"deleted", n}, {"skipped", int64(0)}, {"ok", false}, {"error", err.Error()}})
	}
	return jsonReply(200, pyjson.Object{{"deleted", n}, {"skipped", int64(0)}, {"ok", true}})
}

func mpEvictOld(m *MPServer, rq *request) reply {
	keys, _, r := m.keysBody(rq, false)
	if r != nil {
		return *r
	}
	n, err := m.deleteKeys(keys, "l2")
	return jsonReply(200, pyjson.Object{{"requested", int64(len(keys))}, {"evicted", n}, {"ok", err == nil}})
}

func mpPrefetch(m *MPServer, rq *request) reply {
	var f tokensForm
	src, dst := "l2", "l1"
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		f, _ = c.tokensFields(o, true, false)
		src, _ = c.enum(o, []any{"body"}, "source_tier", "l2", "l1", "l2", "all")
		dst, _ = c.enum(o, []any{"body"}, "target_tier", "l1", "l1", "l2", "all")
	})
	if r != nil {
		return *r
	}
	if src != "l2" || dst != "l1" {
		return detail(http.StatusBadRequest, fmt.Sprintf("unsupported prefetch direction %s->%s; only 'l2'->'l1'", pyjson.Repr(src), pyjson.Repr(dst)))
	}
	if len(f.tokens) > maxTokenIDs {
		return detail(http.StatusBadRequest, fmt.Sprintf("too many token_ids in a single request (limit=%d, got=%d)", maxTokenIDs, len(f.tokens)))
	}
	if err := checkSalt(f.salt); err != nil {
		return detail(http.StatusBadRequest, err.Error())
	}
	known := false
	for _, cx := range m.cfg.contexts {
		known = known || cx[0].(string) == f.model && int64(cx[1].(int)) == f.ws
	}
	if !known {
		return detail(http.StatusServiceUnavailable, fmt.Sprintf("no layout registered for model_name=%s world_size=%d; the model has not allocated KV cache on this node yet", pyjson.Repr(f.model), f.ws))
	}
	hashes, err := chunkHashes(f.tokens, m.cfg.chunkSize)
	if err != nil {
		return internalServerError()
	}
	if len(hashes) == 0 {
		return jsonReply(http.StatusAccepted, pyjson.Object{{"chunks", int64(0)}, {"status", "noop"}})
	}
	job := &prefetchJob{pending: m.cfg.pendingPolls}
	for _, h := range hashes {
		for r := int64(0); r < f.ws; r++ {
			job.keys = append(job.keys, objKey{hash: h, model: f.model, rank: kvRank(f.ws, r), salt: f.salt})
		}
	}
	id := m.cfg.reqIDs()
	m.mu.Lock()
	m.jobs[id] = job
	m.mu.Unlock()
	return jsonReply(http.StatusAccepted, pyjson.Object{{"request_id", id}, {"chunks", int64(len(hashes))}, {"status", "submitted"}})
}

func mpPrefetchStatus(m *MPServer, rq *request) reply {
	id := rq.params["request_id"]
	m.mu.Lock()
	job := m.jobs[id]
	if job == nil {
		m.mu.Unlock()
		return detail(http.StatusNotFound, "unknown prefetch request_id="+pyjson.Repr(id)+" (already completed or never submitted)")
	}
	if job.pending > 0 {
		job.pending--
		m.mu.Unlock()
		return jsonReply(200, pyjson.Object{{"request_id", id}, {"status", "pending"}})
	}
	delete(m.jobs, id)
	var pbs []pendingBatch
	var missing []int64
	found := 0
	p := m.cfg.l2
	p.mu.Lock()
	for i, k := range job.keys {
		o, inL2 := p.objs.m[k]
		if _, inL1 := m.l1.m[k]; inL2 && !inL1 {
			m.l1.put(k, o)
			pbs = group(pbs, "store", "l1", m.cfg.medium, false, storeEntry(k, o))
			found++
			continue
		}
		missing = append(missing, int64(i))
	}
	p.mu.Unlock()
	m.mu.Unlock()
	_ = m.flush(pbs)
	out := pyjson.Object{{"request_id", id}, {"status", "completed"}, {"found_keys", int64(found)}, {"total_keys", int64(len(job.keys))}}
	if m.cfg.missingIndices {
		if missing == nil {
			missing = []int64{}
		}
		out = append(out, pyjson.Member{"missing_key_indices", missing})
	}
	return jsonReply(200, out)
}

// Keys returns the server's keys on a tier, sorted (tests).
func (m *MPServer) Keys(tier string) []string {
	var out []string
	if tier == "l1" {
		m.mu.Lock()
		for k := range m.l1.m {
			out = append(out, k.String())
		}
		m.mu.Unlock()
	} else {
		p := m.cfg.l2
		p.mu.Lock()
		for k := range p.objs.m {
			out = append(out, k.String())
		}
		p.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

// SetCoordinator points the server at a coordinator after it started
// (without registering): its later events go to url+eventsPath.
func (m *MPServer) SetCoordinator(url, eventsPath string) {
	m.evMu.Lock()
	defer m.evMu.Unlock()
	m.cfg.coordinator, m.cfg.eventsPath = strings.TrimRight(url, "/"), eventsPath
}
