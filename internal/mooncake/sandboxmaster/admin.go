package sandboxmaster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	mc "lmc/internal/mooncake"
)

// The admin HTTP API of spec §8.1, over the same store. Like the real
// master: /batch_query_keys, /get_all_keys, /health and the metrics pages
// grant no lease; /query_key goes through GetReplicaList and does.

func (s *Server) newAdminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.adminHealth)
	mux.HandleFunc("GET /leader", s.adminLeader)
	mux.HandleFunc("GET /metrics", s.adminMetrics)
	mux.HandleFunc("GET /metrics/summary", s.adminSummary)
	mux.HandleFunc("GET /query_key", s.adminQueryKey)
	mux.HandleFunc("GET /batch_query_keys", s.adminBatchQueryKeys)
	mux.HandleFunc("GET /get_all_keys", s.adminAllKeys)
	mux.HandleFunc("GET /get_all_segments", s.adminAllSegments)
	s.registerOpsRoutes(mux)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// httpStatus maps an ErrorCode to the master's HTTP status.
func httpStatus(c mc.ErrorCode) int {
	name := c.String()
	switch {
	case c == mc.CodeInvalidParams:
		return http.StatusBadRequest
	case strings.HasSuffix(name, "_NOT_FOUND") || c == mc.CodeTenantNotRegistered:
		return http.StatusNotFound
	case strings.HasPrefix(name, "UNAVAILABLE_") || c == mc.CodeTenantNotEmpty:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeCode(w http.ResponseWriter, c mc.ErrorCode) {
	writeJSON(w, httpStatus(c), map[string]any{"success": false, "error_code": int32(c), "error_message": c.String()})
}

func (s *Server) adminHealth(w http.ResponseWriter, r *http.Request) {
	if l := s.cfg.standbyOf; l != "" {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "role": "standby", "ha_state": "standby",
			"service_ready": false, "leader_address": l, "view_version": 1})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "role": "leader", "ha_state": "serving",
		"service_ready": true, "leader_address": nil, "view_version": nil})
}

// adminLeader is GET /leader: without HA there is no leader view.
func (s *Server) adminLeader(w http.ResponseWriter, r *http.Request) {
	if l := s.cfg.standbyOf; l != "" {
		writeJSON(w, http.StatusOK, map[string]any{"present": true, "leader_address": l, "view_version": 1})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"present": false, "leader_address": nil, "view_version": nil})
}

// standby answers data endpoints as a standby master does.
func (s *Server) standby(w http.ResponseWriter) bool {
	if s.cfg.standbyOf == "" {
		return false
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"success": false, "error_code": -1011, "error_message": "service plane is not active"})
	return true
}

type storeStats struct {
	keys, clients        int
	allocated, capacity  uint64
	exist, batch, put, p int
}

func (s *Server) stats() storeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep()
	var t storeStats
	t.keys = len(s.st.readableKeys())
	t.clients = len(s.st.clients)
	for _, seg := range s.st.segments {
		t.allocated += seg.used
		t.capacity += seg.seg.Size
	}
	t.exist, t.batch, t.put, t.p = s.calls["ExistKey"], s.calls["BatchExistKey"], s.calls["PutStart"], s.calls["Ping"]
	return t
}

func (s *Server) adminMetrics(w http.ResponseWriter, r *http.Request) {
	t := s.stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "master_key_count %d\nmaster_allocated_bytes %d\nmaster_total_capacity_bytes %d\n"+
		"master_active_clients %d\nmaster_exist_key_requests_total %d\nmaster_batch_exist_key_requests_total %d\n"+
		"master_put_start_requests_total %d\nmaster_ping_requests_total %d\n",
		t.keys, t.allocated, t.capacity, t.clients, t.exist, t.batch, t.put, t.p)
	s.writeOpsMetrics(w)
}

func (s *Server) adminSummary(w http.ResponseWriter, r *http.Request) {
	t := s.stats()
	ratio := 0.0
	if t.capacity > 0 {
		ratio = 100 * float64(t.allocated) / float64(t.capacity)
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "Mem Storage: %d / %d bytes (%.1f%%) | Keys: %d | Clients: %d | Requests (Success/Total): PutStart=%d, ExistKey=%d, BatchExistKey=%d\n",
		t.allocated, t.capacity, ratio, t.keys, t.clients, t.put, t.exist, t.batch)
}

// adminQueryKey reads key from the raw query without URL-decoding it, as the
// real master does, and grants a lease like GetReplicaList.
func (s *Server) adminQueryKey(w http.ResponseWriter, r *http.Request) {
	if s.standby(w) {
		return
	}
	key := ""
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "key" {
			key = v
			break
		}
	}
	s.mu.Lock()
	s.st.sweep()
	rl, code := s.st.replicaList(key, true)
	s.mu.Unlock()
	if code != mc.CodeOK {
		writeCode(w, code)
		return
	}
	data := []mc.BufferDescriptor{}
	for _, rep := range rl.Replicas {
		if rep.Kind == mc.KindMemory {
			data = append(data, rep.Buffer)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": data})
}

type batchEntry struct {
	OK              bool                  `json:"ok"`
	Error           *string               `json:"error"`
	Values          []mc.BufferDescriptor `json:"values"`
	DiskValues      []mc.DiskDescriptor   `json:"disk_values"`
	LocalDiskValues []any                 `json:"local_disk_values"`
	NoFValues       []mc.BufferDescriptor `json:"nof_values"`
}

func (s *Server) adminBatchQueryKeys(w http.ResponseWriter, r *http.Request) {
	if s.standby(w) {
		return
	}
	raw := r.URL.Query().Get("keys")
	if raw == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "No keys provided. Use ?keys=key1,key2,..."})
		return
	}
	data := map[string]batchEntry{}
	s.mu.Lock()
	s.st.sweep()
	for _, k := range strings.Split(raw, ",") {
		rl, code := s.st.replicaList(k, false) // read-only: no lease
		if code != mc.CodeOK {
			name := code.String()
			data[k] = batchEntry{Error: &name}
			continue
		}
		e := batchEntry{OK: true, Values: []mc.BufferDescriptor{}}
		for _, rep := range rl.Replicas {
			if rep.Kind == mc.KindDisk {
				e.DiskValues = append(e.DiskValues, rep.Disk)
				continue
			}
			e.Values = append(e.Values, rep.Buffer)
		}
		data[k] = e
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": data})
}

func (s *Server) adminAllKeys(w http.ResponseWriter, r *http.Request) {
	if s.standby(w) {
		return
	}
	s.mu.Lock()
	s.st.sweep()
	keys := s.st.readableKeys()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	bw := bufio.NewWriter(w)
	for _, k := range keys {
		bw.WriteString(k)
		bw.WriteByte('\n')
	}
	bw.Flush()
}

func (s *Server) adminAllSegments(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var names []string
	for _, seg := range s.st.segments {
		names = append(names, seg.seg.Name)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
}
