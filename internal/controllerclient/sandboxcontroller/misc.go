package sandboxcontroller

import (
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"

	"lmc/internal/pyjson"
)

// The common internal API routes the controller mounts (spec §4.12), in a
// form good enough for a CLI to read them.

var controllerGauges = []struct{ name, help string }{
	{"kv_pool_keys_count", "The number of keys in the KV pool"},
	{"registered_workers_count", "The total number of registered workers"},
	{"pull_socket_message_count", "The total number of messages received on PULL socket"},
	{"reply_socket_message_count", "The total number of messages received on REPLY socket"},
	{"pull_socket_has_pending", "Whether PULL socket has pending messages (1=yes, 0=no)"},
	{"reply_socket_has_pending", "Whether REPLY socket has pending messages (1=yes, 0=no)"},
	{"pull_socket_active_requests", "Number of requests being processed from PULL socket"},
	{"reply_socket_active_requests", "Number of requests being processed from REPLY socket"},
	{"kv_op_seq_discontinuity_count", "Total count of KV operation sequence number discontinuities"},
	{"full_sync_workers_syncing", "Number of workers currently in full sync"},
	{"full_sync_workers_completed", "Number of workers that have completed full sync"},
	{"full_sync_global_progress", "Global full sync progress (0.0 to 1.0)"},
	{"full_sync_missing_batches_total", "Total count of missing batches across all syncing workers"},
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	keys := 0
	for _, in := range s.instances {
		for _, wk := range in.workers {
			keys += wk.keyCount()
		}
	}
	values := map[string]float64{
		"kv_pool_keys_count":         float64(keys),
		"registered_workers_count":   float64(len(s.allInfosLocked())),
		"pull_socket_message_count":  float64(s.pullMsgs),
		"reply_socket_message_count": float64(s.replyMsgs),
		"full_sync_global_progress":  1,
	}
	s.mu.Unlock()
	var b strings.Builder
	for _, g := range controllerGauges {
		name := "lmcache:cache_controller_" + g.name
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s{role=\"controller\"} %s\n",
			name, g.help, name, name, pyjson.FloatRepr(values[g.name]))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}

func (s *Server) handleMetricsReset(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (s *Server) handleEnv(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	env := make(map[string]string, len(s.env))
	for k, v := range s.env {
		env[k] = v
	}
	s.mu.Unlock()
	out, _ := json.MarshalIndent(env, "", "  ") // sorted keys
	writeText(w, http.StatusOK, string(out))
}

var logLevels = []string{"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET"}

func (s *Server) handleLogLevel(w http.ResponseWriter, r *http.Request) {
	name, hasName := lastQuery(r, "logger_name")
	level, hasLevel := lastQuery(r, "level")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case hasName && name != "" && hasLevel && level != "":
		up := strings.ToUpper(level)
		if !slices.Contains(logLevels, up) {
			writeText(w, http.StatusBadRequest, "Invalid log level: "+level)
			return
		}
		s.loggers[name] = up
		writeText(w, http.StatusOK, "Set "+name+" level to "+up+" (including all handlers)")
	case hasName && name != "":
		lv, ok := s.loggers[name]
		if !ok {
			lv = "NOTSET"
		}
		writeText(w, http.StatusOK, name+": "+lv)
	case hasLevel && level != "":
		writeJSON(w, http.StatusOK, nil)
	default:
		names := slices.Sorted(maps.Keys(s.loggers))
		var b strings.Builder
		b.WriteString("=== Loggers and Levels ===\n")
		for _, n := range names {
			b.WriteString(n + ": " + s.loggers[n] + "\n")
		}
		writeText(w, http.StatusOK, b.String())
	}
}

func (s *Server) handleThreads(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "=== Thread: MainThread (ID: 1) ===\n  (fake controller: no Python stacks)\n\n"+
		"=== Thread Summary ===\nTotal threads: 1\n")
}

var threadLevels = []string{"critical", "high", "medium", "low"}

func (s *Server) handlePeriodicThreads(w http.ResponseWriter, r *http.Request) {
	if lv, ok := lastQuery(r, "level"); ok && lv != "" && !slices.Contains(threadLevels, strings.ToLower(lv)) {
		writeJSON(w, http.StatusBadRequest, pyjson.Object{{"error", "Invalid level: " + lv}})
		return
	}
	byLevel := pyjson.Object{}
	for _, l := range threadLevels {
		byLevel = append(byLevel, pyjson.Member{l, pyjson.Object{{"total", 0}, {"running", 0}, {"active", 0}}})
	}
	writeJSON(w, http.StatusOK, pyjson.Object{
		{"summary", pyjson.Object{{"total_count", 0}, {"running_count", 0}, {"active_count", 0}, {"by_level", byLevel}}},
		{"threads", []any{}},
	})
}

func (s *Server) handlePeriodicThread(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/periodic-threads/")
	writeJSON(w, http.StatusNotFound, pyjson.Object{{"error", "Thread not found: " + name}})
}

func (s *Server) handlePeriodicHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, pyjson.Object{{"healthy", true}, {"unhealthy_count", 0}, {"unhealthy_threads", []any{}}})
}

func (s *Server) handleRunScript(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			if _, _, err := r.FormFile("script"); err == nil {
				writeText(w, http.StatusInternalServerError,
					"Error executing script: the controller app has no engine adapter")
				return
			}
		}
	}
	writeText(w, http.StatusBadRequest, "No script file provided")
}

const indexHTML = `<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="UTF-8">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <title>LMCache Controller Dashboard</title>
</head>
<body>
<h1>LMCache Controller Dashboard</h1>
<p>This is the lmc fake controller. Use <code>GET /controller/workers</code> and
<code>GET /controller/key-stats</code> to inspect it.</p>
</body>
</html>
`

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(indexHTML))
}

func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>FastAPI - docs</title></head><body>" +
		"<p>See <a href=\"/openapi.json\">/openapi.json</a>.</p></body></html>"))
}

// handleOpenAPI serves a reduced schema with what feature detection reads
// (spec §9.3): the paths and the request/response model properties.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	schemaRef := func(name string) pyjson.Object {
		return pyjson.Object{{"content", pyjson.Object{{"application/json", pyjson.Object{{"schema", pyjson.Object{{"$ref", "#/components/schemas/" + name}}}}}}}}
	}
	post := func(op, req, resp string) pyjson.Object {
		return pyjson.Object{{"post", pyjson.Object{
			{"summary", op},
			{"requestBody", append(schemaRef(req), pyjson.Member{"required", true})},
			{"responses", pyjson.Object{{"200", append(pyjson.Object{{"description", "Successful Response"}}, schemaRef(resp)...)}}},
		}}}
	}
	get := func(op string) pyjson.Object {
		return pyjson.Object{{"get", pyjson.Object{{"summary", op}, {"responses", pyjson.Object{{"200", pyjson.Object{{"description", "Successful Response"}}}}}}}}
	}
	paths := pyjson.Object{
		{"/lookup", post("Lookup", "LookupRequest", "LookupResponse")},
		{"/clear", post("Clear", "ClearRequest", "ClearResponse")},
		{"/pin", post("Pin", "PinRequest", "PinResponse")},
		{"/compress", post("Compress", "CompressRequest", "CompressResponse")},
		{"/decompress", post("Decompress", "DecompressRequest", "DecompressResponse")},
		{"/move", post("Move", "MoveRequest", "MoveResponse")},
		{"/health", post("Health", "HealthRequest", "HealthResponse")},
		{"/check_finish", post("Check Finish", "CheckFinishRequest", "CheckFinishResponse")},
		{"/query_worker_info", post("Query Worker Info", "QueryWorkerInfoRequest", "QueryWorkerInfoResponse")},
		{"/query_instance", post("Query Instance", "QueryInstRequest", "QueryInstResponse")},
		{"/controller/workers", get("Get Workers")},
		{"/controller/key-stats", get("Get Key Stats")},
		{"/metrics", get("Metrics")},
		{"/env", get("Get Env")},
		{"/loglevel", get("Get Or Set Log Level")},
		{"/threads", get("Get Threads")},
		{"/periodic-threads", get("Get Periodic Threads")},
		{"/periodic-threads-health", get("Get Periodic Threads Health")},
	}
	prop := func(typ string) pyjson.Object { return pyjson.Object{{"type", typ}} }
	intList := pyjson.Object{{"type", "array"}, {"items", prop("integer")}}
	pair := pyjson.Object{{"type", "array"}, {"items", pyjson.Object{{"type", "string"}}}, {"minItems", 2}, {"maxItems", 2}}
	obj := func(required []string, props pyjson.Object) pyjson.Object {
		o := pyjson.Object{{"type", "object"}, {"properties", props}}
		if len(required) > 0 {
			o = append(o, pyjson.Member{"required", required})
		}
		return o
	}
	compressProps := pyjson.Object{{"instance_id", prop("string")}, {"method", prop("string")}, {"location", prop("string")}, {"tokens", intList}}
	schemas := pyjson.Object{
		{"LookupRequest", obj([]string{"tokens"}, pyjson.Object{{"tokens", intList}})},
		{"LookupResponse", obj([]string{"event_id", "layout_info"}, pyjson.Object{{"event_id", prop("string")}, {"layout_info", prop("object")}})},
		{"ClearRequest", obj([]string{"instance_id", "location"}, pyjson.Object{{"instance_id", prop("string")}, {"location", prop("string")}})},
		{"ClearResponse", obj([]string{"event_id", "num_tokens"}, pyjson.Object{{"event_id", prop("string")}, {"num_tokens", prop("integer")}})},
		{"PinRequest", obj([]string{"instance_id", "location", "tokens"}, pyjson.Object{{"instance_id", prop("string")}, {"location", prop("string")}, {"tokens", intList}})},
		{"PinResponse", obj([]string{"event_id", "num_tokens"}, pyjson.Object{{"event_id", prop("string")}, {"num_tokens", prop("integer")}})},
		{"CompressRequest", obj([]string{"instance_id", "method", "location"}, compressProps)},
		{"CompressResponse", obj([]string{"event_id", "num_tokens"}, pyjson.Object{{"event_id", prop("string")}, {"num_tokens", prop("integer")}})},
		{"DecompressRequest", obj([]string{"instance_id", "method", "location"}, compressProps)},
		{"DecompressResponse", obj([]string{"event_id", "num_tokens"}, pyjson.Object{{"event_id", prop("string")}, {"num_tokens", prop("integer")}})},
		{"MoveRequest", obj([]string{"old_position", "new_position"}, pyjson.Object{{"old_position", pair}, {"new_position", pair}, {"tokens", intList}, {"should_copy", prop("boolean")}})},
		{"MoveResponse", obj([]string{"event_id", "num_tokens"}, pyjson.Object{{"event_id", prop("string")}, {"num_tokens", prop("integer")}})},
		{"HealthRequest", obj([]string{"instance_id"}, pyjson.Object{{"instance_id", prop("string")}})},
		{"HealthResponse", obj([]string{"event_id", "error_codes"}, pyjson.Object{{"event_id", prop("string")}, {"error_codes", prop("object")}})},
		{"CheckFinishRequest", obj([]string{"event_id"}, pyjson.Object{{"event_id", prop("string")}})},
		{"CheckFinishResponse", obj([]string{"status"}, pyjson.Object{{"status", prop("string")}})},
		{"QueryWorkerInfoRequest", obj([]string{"instance_id"}, pyjson.Object{{"instance_id", prop("string")}, {"worker_ids", intList}})},
		{"QueryWorkerInfoResponse", obj([]string{"event_id", "worker_infos"}, pyjson.Object{{"event_id", prop("string")}, {"worker_infos", pyjson.Object{{"type", "array"}}}})},
		{"QueryInstRequest", obj([]string{"event_id", "ip"}, pyjson.Object{{"event_id", prop("string")}, {"ip", prop("string")}})},
		{"QueryInstResponse", obj([]string{"event_id", "res"}, pyjson.Object{{"event_id", prop("string")}, {"res", prop("string")}})},
	}
	writeJSON(w, http.StatusOK, pyjson.Object{
		{"openapi", "3.0.2"},
		{"info", pyjson.Object{{"title", "FastAPI"}, {"version", "0.1.0"}}},
		{"paths", paths},
		{"components", pyjson.Object{{"schemas", schemas}}},
	})
}
