package sandboxcontroller

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"lmc/internal/pyjson"
)

// Error details of the controller (see spec §5.3 and the transcripts).
const (
	detailEFSM         = "Operation cannot be accomplished in current state"
	detailQueryInstErr = "1 validation error for QueryInstResponse\nres\n  none is not an allowed value (type=type_error.none.not_allowed)"
)

func mismatchDetail(verb string) string {
	return "The number of tokens " + verb + " should be the same across all workers."
}

func unsupportedDetail(op string) string {
	return "Operation '" + op + "' is not supported."
}

// ---------------------------------------------------------------------------
// Worker fan-out (LMCacheClusterExecutor)

type fanResult struct {
	counts []int
	failed bool // some worker answered with an ErrorMsg
	efsm   bool // some target's REQ socket is stuck or busy
	hung   bool // the request hangs on a dead worker; nothing was written
	detail string
}

// fanout sends one command to each worker pick returns (evaluated under
// the lock; a non-empty detail aborts with a 500 before anything is sent)
// and gathers the replies like the controller: a busy or stuck socket
// fails at once, a dead worker never answers, a slow worker keeps its
// socket busy, a failing worker answers ErrorMsg.
func (s *Server) fanout(r *http.Request, op string, pick func() ([]*worker, string),
	effect func(*worker) int) fanResult {
	s.mu.Lock()
	targets, detail := pick()
	if detail != "" {
		s.mu.Unlock()
		return fanResult{detail: detail}
	}
	var delay time.Duration
	dead := false
	for _, t := range targets {
		if t.wedged || t.busy > 0 {
			s.mu.Unlock()
			return fanResult{efsm: true}
		}
		if t.dead {
			dead = true
		} else {
			delay = max(delay, t.delay)
		}
	}
	if delay > 0 {
		for _, t := range targets {
			t.busy++
		}
		s.mu.Unlock()
		// The controller keeps waiting even when the HTTP client leaves.
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-s.closed:
			timer.Stop()
		}
		s.mu.Lock()
		for _, t := range targets {
			t.busy--
		}
	}
	var res fanResult
	for _, t := range targets {
		if t.dead {
			t.wedged = true
			continue
		}
		if t.fails(op) {
			res.failed = true
			continue
		}
		res.counts = append(res.counts, effect(t))
	}
	s.mu.Unlock()
	if dead {
		s.wait(r, -1)
		return fanResult{hung: true}
	}
	return res
}

func (res fanResult) agreed() (int, bool) {
	if len(res.counts) == 0 {
		return 0, false
	}
	for _, c := range res.counts[1:] {
		if c != res.counts[0] {
			return 0, false
		}
	}
	return res.counts[0], true
}

// respondCount writes the answer of a count-returning operation.
func (s *Server) respondCount(w http.ResponseWriter, res fanResult, op, prefix, verb string) {
	emptyDetail := op == OpDecompress // decompress lacks the check that carries a message
	fail := func(detail string) {
		if emptyDetail {
			detail = ""
		}
		writeDetail(w, http.StatusInternalServerError, detail)
	}
	switch {
	case res.hung:
		return
	case res.detail != "":
		fail(res.detail)
	case res.efsm:
		fail(detailEFSM)
	case res.failed:
		fail(unsupportedDetail(op))
	default:
		n, ok := res.agreed()
		if !ok {
			fail(mismatchDetail(verb))
			return
		}
		writeJSON(w, http.StatusOK, pyjson.Object{{"event_id", s.eventID(prefix)}, {"num_tokens", n}})
	}
}

func (s *Server) instanceWorkers(id string) func() ([]*worker, string) {
	return func() ([]*worker, string) { return s.instance(id).sortedWorkers(), "" }
}

// ---------------------------------------------------------------------------
// Operation endpoints

func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	vals, ok := decode(w, r, lookupModel)
	if !ok {
		return
	}
	tokens := vals["tokens"].([]pyjson.Int)
	layout := &pyjson.Dict{}
	s.mu.Lock()
	for i, k := range chain(tokens, s.noneHash) {
		inst, loc, hit := s.findKey(k)
		if !hit {
			break
		}
		layout.Set(inst, []any{loc, chunkEnd(i, len(tokens))})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pyjson.Object{{"event_id", s.eventID("Lookup")}, {"layout_info", layout}})
}

func (s *Server) handleClear(w http.ResponseWriter, r *http.Request) {
	vals, ok := decode(w, r, clearModel)
	if !ok {
		return
	}
	inst, location := vals["instance_id"].(string), vals["location"].(string)
	res := s.fanout(r, OpClear, s.instanceWorkers(inst), func(wk *worker) int {
		wk.received = append(wk.received, Command{Type: "ClearWorkerMsg", Location: location})
		if location != DefaultLocation { // only LocalCPUBackend implements clear
			return 0
		}
		l := wk.loc(location, false)
		if l == nil {
			return 0
		}
		n := 0
		for k, c := range l.keys {
			if c.pinned {
				continue
			}
			n += c.tokens
			delete(l.keys, k)
		}
		wk.dropEmpty()
		return n
	})
	s.respondCount(w, res, OpClear, "Clear", "cleared")
}

func (s *Server) handlePin(w http.ResponseWriter, r *http.Request) {
	vals, ok := decode(w, r, pinModel)
	if !ok {
		return
	}
	inst, location := vals["instance_id"].(string), vals["location"].(string)
	tokens := vals["tokens"].([]pyjson.Int)
	res := s.fanout(r, OpPin, s.instanceWorkers(inst), func(wk *worker) int {
		wk.received = append(wk.received, Command{Type: "PinWorkerMsg", Location: location, Tokens: len(tokens)})
		n, keys := s.workerPrefix(wk, location, tokens)
		for _, k := range keys {
			wk.loc(location, false).keys[k].pinned = true
		}
		return n
	})
	s.respondCount(w, res, OpPin, "Pin", "pinned")
}

func (s *Server) handleCompress(w http.ResponseWriter, r *http.Request) {
	s.compressOp(w, r, OpCompress)
}

func (s *Server) handleDecompress(w http.ResponseWriter, r *http.Request) {
	s.compressOp(w, r, OpDecompress)
}

func (s *Server) compressOp(w http.ResponseWriter, r *http.Request, op string) {
	m, prefix, msgType := compressModel, "Compress", "CompressWorkerMsg"
	if op == OpDecompress {
		m, prefix, msgType = decompressModel, "Decompress", "DecompressWorkerMsg"
	}
	vals, ok := decode(w, r, m)
	if !ok {
		return
	}
	inst, method, location := vals["instance_id"].(string), vals["method"].(string), vals["location"].(string)
	tokens, _ := vals["tokens"].([]pyjson.Int) // nil when the client sent null
	res := s.fanout(r, op, s.instanceWorkers(inst), func(wk *worker) int {
		wk.received = append(wk.received, Command{Type: msgType, Location: location, Method: method, Tokens: len(tokens)})
		if method != "cachegen" { // the engine only logs a warning
			return 0
		}
		n, keys := s.workerPrefix(wk, location, tokens)
		for _, k := range keys {
			wk.loc(location, false).keys[k].compressed = op == OpCompress
		}
		return n
	})
	verb := "compressed"
	if op == OpDecompress {
		verb = "decompressed"
	}
	s.respondCount(w, res, op, prefix, verb)
}

func (s *Server) handleMove(w http.ResponseWriter, r *http.Request) {
	vals, ok := decode(w, r, moveModel)
	if !ok {
		return
	}
	src, dst := vals["old_position"].([2]string), vals["new_position"].([2]string)
	tokens, _ := vals["tokens"].([]pyjson.Int)
	var copyFlag *bool
	if b, isBool := vals["should_copy"].(bool); isBool {
		copyFlag = &b
	}
	pairs := map[*worker]*worker{}
	pick := func() ([]*worker, string) {
		srcWs := s.instance(src[0]).sortedWorkers()
		dstWs := s.instance(dst[0]).sortedWorkers()
		var targets []*worker
		for i := 0; i < len(srcWs) && i < len(dstWs); i++ {
			if dstWs[i].peer == nil {
				return nil, "Src worker " + strconv.Itoa(srcWs[i].id) + " not registered for instance " + src[0] +
					" or dst worker " + strconv.Itoa(dstWs[i].id) + " not registered for instance " + dst[0] +
					" or P2P is not enabled."
			}
			pairs[srcWs[i]] = dstWs[i]
			targets = append(targets, srcWs[i])
		}
		return targets, ""
	}
	failed := false
	res := s.fanout(r, OpMove, pick, func(sw *worker) int {
		dw := pairs[sw]
		sw.received = append(sw.received, Command{Type: "MoveWorkerMsg", Location: src[1], Tokens: len(tokens),
			Copy: copyFlag, Destination: []string{*dw.peer, dst[1]}})
		// The source engine needs its own P2P backend, and only moves to CPU.
		if sw.peer == nil || dst[1] != DefaultLocation {
			failed = true
			return 0
		}
		n, keys := s.workerPrefix(sw, src[1], tokens)
		if len(keys) == 0 {
			return n
		}
		sl := sw.loc(src[1], false)
		dl := dw.loc(dst[1], true)
		for _, k := range keys {
			c := sl.keys[k]
			if _, exists := dl.keys[k]; !exists {
				dl.keys[k] = &chunk{tokens: c.tokens}
			}
			keep := copyFlag != nil && *copyFlag
			if !keep && !c.pinned && !(sw == dw && src[1] == dst[1]) {
				delete(sl.keys, k)
			}
		}
		sw.dropEmpty()
		return n
	})
	if failed {
		res.failed = true
	}
	s.respondCount(w, res, OpMove, "Move", "moved")
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	vals, ok := decode(w, r, healthModel)
	if !ok {
		return
	}
	inst := vals["instance_id"].(string)
	codes := pyjson.Object{}
	res := s.fanout(r, OpHealth, s.instanceWorkers(inst), func(wk *worker) int {
		wk.received = append(wk.received, Command{Type: "HealthWorkerMsg"})
		codes = append(codes, pyjson.Member{strconv.Itoa(wk.id), wk.health})
		return 0
	})
	switch {
	case res.hung:
		return
	case res.efsm:
		writeDetail(w, http.StatusInternalServerError, detailEFSM)
		return
	}
	if res.failed {
		// Rebuild in worker order with -1001 for the failing ones.
		s.mu.Lock()
		codes = pyjson.Object{}
		for _, wk := range s.instance(inst).sortedWorkers() {
			code := wk.health
			if wk.fails(OpHealth) {
				code = HealthWorkerError
			}
			codes = append(codes, pyjson.Member{strconv.Itoa(wk.id), code})
		}
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, pyjson.Object{{"event_id", s.eventID("health")}, {"error_codes", codes}})
}

func (s *Server) handleCheckFinish(w http.ResponseWriter, r *http.Request) {
	if _, ok := decode(w, r, checkFinishModel); !ok {
		return
	}
	// LMCacheClusterExecutor.check_finish is not implemented upstream.
	writeDetail(w, http.StatusInternalServerError, "")
}

// ---------------------------------------------------------------------------
// Registry reads

type infoSnap struct {
	inst   string
	id     int
	ip     string
	port   int
	peer   *string
	reg    float64
	hb     float64
	exists bool
}

func snapOf(inst string, wk *worker) infoSnap {
	var peer *string
	if wk.peer != nil {
		p := *wk.peer
		peer = &p
	}
	return infoSnap{inst: inst, id: wk.id, ip: wk.ip, port: wk.port, peer: peer, reg: wk.regTime, hb: wk.hbTime}
}

func (i infoSnap) json(keyCount *int) pyjson.Object {
	o := pyjson.Object{
		{"instance_id", i.inst}, {"worker_id", i.id}, {"ip", i.ip}, {"port", i.port},
		{"peer_init_url", i.peer}, {"registration_time", i.reg}, {"last_heartbeat_time", i.hb},
	}
	if keyCount != nil {
		o = append(o, pyjson.Member{"key_count", *keyCount})
	}
	return o
}

// allInfosLocked is get_all_worker_infos_cached.
func (s *Server) allInfosLocked() []infoSnap {
	now := s.clock()
	if s.cacheTTL > 0 && s.cacheValid && now.Sub(s.cacheAt) < s.cacheTTL {
		return s.cache
	}
	var out []infoSnap
	for _, in := range s.instances {
		for _, wk := range in.workers {
			out = append(out, snapOf(in.id, wk))
		}
	}
	s.cache, s.cacheAt, s.cacheValid = out, now, true
	return out
}

func (s *Server) liveKeyCount(inst string, id int) int {
	if in := s.instance(inst); in != nil {
		if wk := in.worker(id); wk != nil {
			return wk.keyCount()
		}
	}
	return 0
}

func (s *Server) handleQueryWorkerInfo(w http.ResponseWriter, r *http.Request) {
	vals, ok := decode(w, r, queryWorkerInfoModel)
	if !ok {
		return
	}
	inst := vals["instance_id"].(string)
	ids, _ := vals["worker_ids"].([]pyjson.Int)
	infos := []any{}
	s.mu.Lock()
	if inst == "all" {
		for _, i := range s.allInfosLocked() {
			if len(ids) > 0 && !slices.ContainsFunc(ids, func(p pyjson.Int) bool { return p.Big == nil && p.V == int64(i.id) }) {
				continue
			}
			infos = append(infos, i.json(nil))
		}
	} else if in := s.instance(inst); in != nil {
		var want []int64
		if len(ids) == 0 {
			for _, wk := range in.sortedWorkers() {
				want = append(want, int64(wk.id))
			}
		} else {
			for _, p := range ids {
				if p.Big == nil {
					want = append(want, p.V)
				}
			}
		}
		for _, id := range want {
			if id != int64(int(id)) {
				continue
			}
			if wk := in.worker(int(id)); wk != nil {
				infos = append(infos, snapOf(inst, wk).json(nil))
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pyjson.Object{{"event_id", s.eventID("QueryWorkerInfo")}, {"worker_infos", infos}})
}

func (s *Server) handleQueryInstance(w http.ResponseWriter, r *http.Request) {
	vals, ok := decode(w, r, queryInstModel)
	if !ok {
		return
	}
	ip := vals["ip"].(string)
	found := ""
	s.mu.Lock()
	for _, in := range s.instances {
		if slices.ContainsFunc(in.workers, func(wk *worker) bool { return wk.ip == ip }) {
			found = in.id
			break
		}
	}
	s.mu.Unlock()
	if found == "" {
		writeDetail(w, http.StatusInternalServerError, detailQueryInstErr)
		return
	}
	writeJSON(w, http.StatusOK, pyjson.Object{{"event_id", s.eventID("QueryInst")}, {"res", found}})
}

// lastQuery returns the last value of a query parameter (Starlette's
// QueryParams.get) and whether it was present.
func lastQuery(r *http.Request, key string) (string, bool) {
	vs, ok := r.URL.Query()[key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

func (s *Server) handleWorkers(w http.ResponseWriter, r *http.Request) {
	inst, hasInst := lastQuery(r, "instance_id")
	widStr, hasWid := lastQuery(r, "worker_id")
	var wid int64
	if hasWid {
		p, ok := parsePyIntString(widStr)
		if !ok {
			writeValidation(w, []valErr{errInt([]any{"query", "worker_id"})})
			return
		}
		if p.Big != nil || p.V != int64(int(p.V)) {
			// Python accepts it; no worker can have such an id.
			wid = -1 << 62
		} else {
			wid = p.V
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case hasInst && hasWid:
		var wk *worker
		if in := s.instance(inst); in != nil && wid != -1<<62 {
			wk = in.worker(int(wid))
		}
		if wk == nil {
			writeDetail(w, http.StatusNotFound, "Worker ("+inst+", "+widStr2(widStr, wid)+") not found")
			return
		}
		kc := wk.keyCount()
		writeJSON(w, http.StatusOK, snapOf(inst, wk).json(&kc))
	case hasInst:
		in := s.instance(inst)
		if in == nil {
			writeDetail(w, http.StatusNotFound, "No workers found for instance "+inst)
			return
		}
		list := []any{}
		for _, wk := range in.workers {
			kc := wk.keyCount()
			list = append(list, snapOf(inst, wk).json(&kc))
		}
		writeJSON(w, http.StatusOK, pyjson.Object{{"workers", list}, {"total_count", len(list)}})
	default:
		list := []any{}
		for _, i := range s.allInfosLocked() {
			kc := s.liveKeyCount(i.inst, i.id)
			list = append(list, i.json(&kc))
		}
		writeJSON(w, http.StatusOK, pyjson.Object{{"workers", list}, {"total_count", len(list)}})
	}
}

// widStr2 renders the parsed worker id the way Python formats the int.
func widStr2(raw string, v int64) string {
	if v == -1<<62 {
		p, _ := parsePyIntString(raw)
		return p.String()
	}
	return strconv.Itoa(int(v))
}

func (s *Server) handleKeyStats(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total, workers := 0, 0
	list := []any{}
	for _, in := range s.instances {
		kc := 0
		for _, wk := range in.workers {
			kc += wk.keyCount()
		}
		total += kc
		workers += len(in.workers)
		list = append(list, pyjson.Object{{"instance_id", in.id}, {"key_count", kc}, {"worker_count", len(in.workers)}})
	}
	writeJSON(w, http.StatusOK, pyjson.Object{
		{"total_key_count", total}, {"total_instance_count", len(s.instances)},
		{"total_worker_count", workers}, {"instances", list},
	})
}
