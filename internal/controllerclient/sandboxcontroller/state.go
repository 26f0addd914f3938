package sandboxcontroller

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"lmc/internal/pyjson"
	"lmc/internal/tokenize/lmcachekey"
)

// ControllerChunkSize is the chunk size the controller hashes /lookup
// tokens with (hard-coded upstream).
const ControllerChunkSize = 256

// DefaultLocation is the only storage backend that reports admits and
// evicts to the controller at upstream HEAD.
const DefaultLocation = "LocalCPUBackend"

// Health codes the controller reports besides the engine's own 0 / -1.
const (
	HealthOK            = 0
	HealthUnhealthy     = -1
	HealthWorkerError   = -1001
	HealthUnexpectedMsg = -1002
	HealthUndecodable   = -1003
)

// Operation names accepted by FailWorker (as in "Operation '<op>' is not
// supported."). OpAll fails every operation.
const (
	OpClear      = "clear"
	OpPin        = "pin"
	OpCompress   = "compress"
	OpDecompress = "decompress"
	OpMove       = "move"
	OpHealth     = "health"
	OpAll        = "*"
)

// Errors returned by the population API.
var (
	ErrUnknownInstance = errors.New("sandboxcontroller: unknown instance")
	ErrUnknownWorker   = errors.New("sandboxcontroller: unknown worker")
)

type chunk struct {
	tokens     int
	pinned     bool
	compressed bool
}

type locStore struct {
	name string
	keys map[int64]*chunk
}

type worker struct {
	id       int
	ip       string
	port     int
	peer     *string
	regTime  float64
	hbTime   float64
	locs     []*locStore // in first-seen order; dropped when empty
	health   int
	failOps  map[string]bool
	delay    time.Duration
	dead     bool
	wedged   bool
	busy     int
	received []Command
}

type instance struct {
	id      string
	workers []*worker // registration order
}

// Command is what a fake worker received from the controller: one entry
// per controller→worker message (ClearWorkerMsg, PinWorkerMsg, ...).
type Command struct {
	Type        string   `json:"type"`
	Location    string   `json:"location,omitempty"`
	Method      string   `json:"method,omitempty"`
	Tokens      int      `json:"tokens"` // number of tokens sent
	Copy        *bool    `json:"copy,omitempty"`
	Destination []string `json:"destination,omitempty"` // move: [peer_init_url, location]
}

func (w *worker) loc(name string, create bool) *locStore {
	for _, l := range w.locs {
		if l.name == name {
			return l
		}
	}
	if !create {
		return nil
	}
	l := &locStore{name: name, keys: map[int64]*chunk{}}
	w.locs = append(w.locs, l)
	return l
}

func (w *worker) dropEmpty() {
	w.locs = slices.DeleteFunc(w.locs, func(l *locStore) bool { return len(l.keys) == 0 })
}

func (w *worker) keyCount() int {
	n := 0
	for _, l := range w.locs {
		n += len(l.keys)
	}
	return n
}

func (w *worker) fails(op string) bool {
	return w.failOps[op] || w.failOps[OpAll]
}

func (in *instance) worker(id int) *worker {
	for _, w := range in.workers {
		if w.id == id {
			return w
		}
	}
	return nil
}

// sortedWorkers is get_worker_ids(): workers by ascending id.
func (in *instance) sortedWorkers() []*worker {
	if in == nil {
		return nil
	}
	ws := slices.Clone(in.workers)
	sort.Slice(ws, func(i, j int) bool { return ws[i].id < ws[j].id })
	return ws
}

func (s *Server) instance(id string) *instance {
	for _, in := range s.instances {
		if in.id == id {
			return in
		}
	}
	return nil
}

func (s *Server) workerLocked(inst string, wid int) (*worker, error) {
	in := s.instance(inst)
	if in == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownInstance, inst)
	}
	w := in.worker(wid)
	if w == nil {
		return nil, fmt.Errorf("%w %d in instance %q", ErrUnknownWorker, wid, inst)
	}
	return w, nil
}

func (s *Server) nowFloat() float64 {
	t := s.clock()
	return float64(t.UnixNano()) / 1e9
}

// ---------------------------------------------------------------------------
// Hashing

// tokensU32 converts validated tokens to uint32 up to the first value the
// fake cannot hash (negative or above 2^32-1). It returns the convertible
// prefix and whether all tokens converted.
func tokensU32(tokens []pyjson.Int) ([]uint32, bool) {
	out := make([]uint32, 0, len(tokens))
	for _, t := range tokens {
		if t.Big != nil || t.V < 0 || t.V > math.MaxUint32 {
			return out, false
		}
		out = append(out, uint32(t.V))
	}
	return out, true
}

// chain returns the prefix-hash chain of tokens including the trailing
// partial chunk, the way the controller (and an engine's lookup) hashes a
// query. When some token cannot be hashed the chain stops before the chunk
// holding it: that chunk can never match.
func chain(tokens []pyjson.Int, noneHash int64) []int64 {
	u, ok := tokensU32(tokens)
	if !ok {
		u = u[:len(u)-len(u)%ControllerChunkSize]
	}
	return lmcachekey.BuiltinChain(u, ControllerChunkSize, noneHash, true)
}

func chunkEnd(i, n int) int {
	return min((i+1)*ControllerChunkSize, n)
}

// findKey is RegistryTree.find_kv: instances in registration order, then
// workers in registration order, then locations in first-seen order.
func (s *Server) findKey(key int64) (inst, loc string, ok bool) {
	for _, in := range s.instances {
		for _, w := range in.workers {
			for _, l := range w.locs {
				if _, hit := l.keys[key]; hit {
					return in.id, l.name, true
				}
			}
		}
	}
	return "", "", false
}

// workerPrefix is what an engine's lookup in one location returns: the
// number of tokens of the longest cached prefix and its chunk keys.
func (s *Server) workerPrefix(w *worker, location string, tokens []pyjson.Int) (int, []int64) {
	l := w.loc(location, false)
	if l == nil || len(tokens) == 0 {
		return 0, nil
	}
	keys := chain(tokens, s.engineNoneHash)
	n := 0
	var hit []int64
	for i, k := range keys {
		if _, ok := l.keys[k]; !ok {
			break
		}
		hit = append(hit, k)
		n = chunkEnd(i, len(tokens))
	}
	return n, hit
}

// ---------------------------------------------------------------------------
// Population API

// WorkerSpec describes a worker registration (RegisterMsg).
type WorkerSpec struct {
	// IP the worker registered with; default "127.0.0.1".
	IP string
	// Port of the worker's REP socket; default 8001, 8002, ... in
	// registration order.
	Port int
	// PeerInitURL is the P2P init URL; empty means null (P2P off), which
	// makes /move to this worker fail.
	PeerInitURL string
	// RegistrationTime in Unix seconds; 0 means now.
	RegistrationTime float64
}

// AddInstance registers workers 0..workers-1 of an instance with default
// specs and P2P enabled (peer_init_url 127.0.0.1:<port+200>).
func (s *Server) AddInstance(id string, workers int) {
	for i := 0; i < workers; i++ {
		s.mu.Lock()
		port := s.nextPort
		s.mu.Unlock()
		s.AddWorker(id, i, WorkerSpec{Port: port, PeerInitURL: fmt.Sprintf("127.0.0.1:%d", port+200)})
	}
}

// AddWorker registers a worker, creating its instance if needed. Like the
// real controller, registering an (instance, worker) pair that already
// exists keeps the old ip, port, socket state and times, and wipes that
// worker's keys.
func (s *Server) AddWorker(inst string, workerID int, spec WorkerSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replyMsgs++
	in := s.instance(inst)
	if in == nil {
		in = &instance{id: inst}
		s.instances = append(s.instances, in)
	}
	if w := in.worker(workerID); w != nil {
		w.locs = nil
		return
	}
	if spec.IP == "" {
		spec.IP = "127.0.0.1"
	}
	if spec.Port == 0 {
		spec.Port = s.nextPort
	}
	if spec.Port >= s.nextPort {
		s.nextPort = spec.Port + 1
	}
	if spec.RegistrationTime == 0 {
		spec.RegistrationTime = s.nowFloat()
	}
	w := &worker{
		id:      workerID,
		ip:      spec.IP,
		port:    spec.Port,
		regTime: spec.RegistrationTime,
		hbTime:  spec.RegistrationTime,
		failOps: map[string]bool{},
	}
	if spec.PeerInitURL != "" {
		p := spec.PeerInitURL
		w.peer = &p
	}
	in.workers = append(in.workers, w)
}

// RemoveWorker deregisters a worker (DeRegisterMsg); the instance goes away
// with its last worker. It reports whether the worker existed.
func (s *Server) RemoveWorker(inst string, workerID int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pullMsgs++
	in := s.instance(inst)
	if in == nil {
		return false
	}
	n := len(in.workers)
	in.workers = slices.DeleteFunc(in.workers, func(w *worker) bool { return w.id == workerID })
	if len(in.workers) == 0 {
		s.instances = slices.DeleteFunc(s.instances, func(x *instance) bool { return x == in })
	}
	return len(in.workers) != n
}

// KillWorker simulates a worker process that died without deregistering:
// it stays listed, keeps its keys, the next operation that reaches it hangs
// forever (until the HTTP client gives up or the server is closed), and
// every later one fails with "Operation cannot be accomplished in current
// state". Only RemoveWorker followed by AddWorker clears that.
func (s *Server) KillWorker(inst string, workerID int) error {
	return s.withWorker(inst, workerID, func(w *worker) { w.dead = true })
}

// SetWorkerHealth sets the code the worker answers to /health (0 healthy,
// -1 memory check failed).
func (s *Server) SetWorkerHealth(inst string, workerID, code int) error {
	return s.withWorker(inst, workerID, func(w *worker) { w.health = code })
}

// FailWorker makes the worker answer op (OpClear, ..., or OpAll) with an
// ErrorMsg, as an engine does when it throws.
func (s *Server) FailWorker(inst string, workerID int, op string, fail bool) error {
	return s.withWorker(inst, workerID, func(w *worker) {
		if fail {
			w.failOps[op] = true
		} else {
			delete(w.failOps, op)
		}
	})
}

// SetWorkerDelay makes the worker take d to answer each command. While it
// works, other operations that reach it fail with "Operation cannot be
// accomplished in current state" (one REQ socket per worker).
func (s *Server) SetWorkerDelay(inst string, workerID int, d time.Duration) error {
	return s.withWorker(inst, workerID, func(w *worker) { w.delay = d })
}

// Heartbeat updates the worker's last_heartbeat_time to now.
func (s *Server) Heartbeat(inst string, workerID int) error {
	return s.withWorker(inst, workerID, func(w *worker) { w.hbTime = s.nowFloat() })
}

func (s *Server) withWorker(inst string, workerID int, f func(*worker)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.workerLocked(inst, workerID)
	if err != nil {
		return err
	}
	f(w)
	return nil
}

// ChunkKeys returns the chunk keys an engine stores for tokens: full
// chunks of 256 only (save_unfull_chunk false), hashed with the engines'
// NONE_HASH.
func (s *Server) ChunkKeys(tokens []uint32) []int64 {
	return lmcachekey.BuiltinChain(tokens, ControllerChunkSize, s.engineNoneHash, false)
}

// Admit records that a worker stored tokens in location: one key per full
// chunk, as an engine with default settings reports them. It returns the
// keys admitted.
func (s *Server) Admit(inst string, workerID int, location string, tokens []uint32) ([]int64, error) {
	keys := s.ChunkKeys(tokens)
	return keys, s.admit(inst, workerID, location, keys, ControllerChunkSize)
}

// AdmitHashes records chunk keys directly (each counted as 256 tokens).
func (s *Server) AdmitHashes(inst string, workerID int, location string, hashes ...int64) error {
	return s.admit(inst, workerID, location, hashes, ControllerChunkSize)
}

func (s *Server) admit(inst string, workerID int, location string, keys []int64, tokens int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pullMsgs++
	w, err := s.workerLocked(inst, workerID)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	l := w.loc(location, true)
	for _, k := range keys {
		if _, ok := l.keys[k]; !ok {
			l.keys[k] = &chunk{tokens: tokens}
		}
	}
	return nil
}

// Evict removes chunk keys from a worker's location (an engine eviction).
// It returns how many keys were present.
func (s *Server) Evict(inst string, workerID int, location string, hashes ...int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pullMsgs++
	w, err := s.workerLocked(inst, workerID)
	if err != nil {
		return 0, err
	}
	l := w.loc(location, false)
	if l == nil {
		return 0, nil
	}
	n := 0
	for _, k := range hashes {
		if _, ok := l.keys[k]; ok {
			delete(l.keys, k)
			n++
		}
	}
	w.dropEmpty()
	return n, nil
}

// ---------------------------------------------------------------------------
// Introspection

// WorkerState is a snapshot of one fake worker.
type WorkerState struct {
	Instance    string          `json:"instance_id"`
	WorkerID    int             `json:"worker_id"`
	IP          string          `json:"ip"`
	Port        int             `json:"port"`
	PeerInitURL *string         `json:"peer_init_url"`
	Health      int             `json:"health"`
	Dead        bool            `json:"dead,omitempty"`
	Wedged      bool            `json:"wedged,omitempty"`
	Locations   []LocationState `json:"locations"`
	Received    []Command       `json:"received,omitempty"`
	FailOps     map[string]bool `json:"fail_ops,omitempty"`
}

// LocationState lists the chunk keys of one location.
type LocationState struct {
	Name       string  `json:"name"`
	Keys       []int64 `json:"keys"`
	Pinned     []int64 `json:"pinned,omitempty"`
	Compressed []int64 `json:"compressed,omitempty"`
}

// Workers returns a snapshot of every registered worker, instances and
// workers in registration order, keys sorted.
func (s *Server) Workers() []WorkerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []WorkerState
	for _, in := range s.instances {
		for _, w := range in.workers {
			ws := WorkerState{
				Instance: in.id, WorkerID: w.id, IP: w.ip, Port: w.port, PeerInitURL: w.peer,
				Health: w.health, Dead: w.dead, Wedged: w.wedged,
				Received: slices.Clone(w.received),
			}
			if len(w.failOps) > 0 {
				ws.FailOps = map[string]bool{}
				for k, v := range w.failOps {
					ws.FailOps[k] = v
				}
			}
			for _, l := range w.locs {
				ls := LocationState{Name: l.name}
				for k, c := range l.keys {
					ls.Keys = append(ls.Keys, k)
					if c.pinned {
						ls.Pinned = append(ls.Pinned, k)
					}
					if c.compressed {
						ls.Compressed = append(ls.Compressed, k)
					}
				}
				slices.Sort(ls.Keys)
				slices.Sort(ls.Pinned)
				slices.Sort(ls.Compressed)
				ws.Locations = append(ws.Locations, ls)
			}
			out = append(out, ws)
		}
	}
	return out
}

// Keys returns the sorted chunk keys a worker holds in location.
func (s *Server) Keys(inst string, workerID int, location string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.workerLocked(inst, workerID)
	if err != nil {
		return nil
	}
	l := w.loc(location, false)
	if l == nil {
		return nil
	}
	out := make([]int64, 0, len(l.keys))
	for k := range l.keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
