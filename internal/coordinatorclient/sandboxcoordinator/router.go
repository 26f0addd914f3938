package sandboxcoordinator

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"lmc/internal/pyjson"
)

type request struct {
	method  string
	path    string
	query   url.Values
	body    []byte
	ctype   string
	hasBody bool
	params  map[string]string
	ctx     context.Context
}

type handler func(*Server, *request) reply

type routeDef struct {
	method, pattern string
	h               handler
	on              func(profile) bool
	summary         string
}

func always(profile) bool { return true }

// routeTable is the coordinator's routes, in FastAPI's matching order
// (/quota/config before /quota/{cache_salt}).
var routeTable []routeDef

func init() {
	routeTable = []routeDef{
		{"GET", "/healthz", hHealthz, always, "Liveness"},
		{"POST", "/instances", hRegister, always, "Register"},
		{"GET", "/instances", hInstances, always, "List Instances"},
		{"GET", "/instances/usage", hUsage, func(p profile) bool { return p.usage }, "Fleet Usage"},
		{"GET", "/instances/{instance_id}/usage", hInstanceUsage, func(p profile) bool { return p.usage }, "Instance Usage"},
		{"PUT", "/instances/{instance_id}/heartbeat", hHeartbeat, always, "Heartbeat"},
		{"DELETE", "/instances/{instance_id}", hDeregister, always, "Deregister"},
		{"POST", "/directory/lookup", hLookup, func(p profile) bool { return p.directory }, "Directory Lookup"},
		{"POST", "/directory/lookup_tokens", hLookupTokens, func(p profile) bool { return p.keysOnly }, "Lookup Tokens"},
		{"POST", "/directory/token_ids", hTokenIDs, func(p profile) bool { return p.keysOnly }, "Token Ids"},
		{"POST", "/directory/events", hEvents, func(p profile) bool { return p.keysOnly }, "Directory Events"},
		{"POST", "/directory/blend-lookup", hBlendLookup, func(p profile) bool { return p.directory && !p.keysOnly }, "Blend Lookup"},
		{"GET", "/directory/keys", hKeys, func(p profile) bool { return p.directoryKeys }, "List Keys"},
		{"GET", "/directory/stats", hStats, func(p profile) bool { return p.directory }, "Directory Stats"},
		{"POST", "/events", hEvents, func(p profile) bool { return p.events }, "Ingest Events"},
		{"GET", "/l2/status", hL2Status, func(p profile) bool { return p.l2Naming }, "L2 Status"},
		{"GET", "/quota", hQuotaList, func(p profile) bool { return p.quota }, "Quota Status"},
		{"GET", "/quota/config", hQuotaConfigGet, func(p profile) bool { return p.quotaConfig }, "Get Quota Config"},
		{"PUT", "/quota/config", hQuotaConfigPut, func(p profile) bool { return p.quotaConfig }, "Set Quota Config"},
		{"GET", "/quota/{cache_salt}", hQuotaGet, func(p profile) bool { return p.quota }, "Get Quota"},
		{"PUT", "/quota/{cache_salt}", hQuotaPut, func(p profile) bool { return p.quota }, "Set Quota"},
		{"DELETE", "/quota/{cache_salt}", hQuotaDelete, func(p profile) bool { return p.quota }, "Delete Quota"},
		{"POST", "/cache/pins", hPin, func(p profile) bool { return p.pins }, "Pin"},
		{"DELETE", "/cache/pins", hUnpin, func(p profile) bool { return p.pins }, "Unpin"},
		{"GET", "/cache/pins", hPinList, func(p profile) bool { return p.pinList }, "List Pins"},
		{"POST", "/cache/delete", hDelete, func(p profile) bool { return p.deletes }, "Delete"},
		{"POST", "/cache/prefetches", hPrefetch, func(p profile) bool { return p.prefetch }, "Submit Prefetch"},
		{"GET", "/cache/prefetches/{instance_id}/{request_id}", hPrefetchStatus, func(p profile) bool { return p.prefetch }, "Prefetch Status"},
		{"POST", "/cache/moves", hMove, func(p profile) bool { return p.moves }, "Submit Move"},
		{"GET", "/cache/moves/{move_id}", hMoveStatus, func(p profile) bool { return p.moves }, "Move Status"},
		{"GET", "/metrics", hMetrics, func(p profile) bool { return p.metrics }, "Metrics"},
	}
}

func match(pattern, path string) (map[string]string, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) || path == "" || path[0] != '/' {
		return nil, false
	}
	var params map[string]string
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if xs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = xs[i]
			continue
		}
		if p != xs[i] {
			return nil, false
		}
	}
	return params, true
}

// route finds the handler; a path served with other methods gives 405,
// an unknown path 404 (FastAPI's bodies).
func (s *Server) route(method, path string) (handler, map[string]string, string) {
	if path == "/openapi.json" && !s.cfg.noOpenAPI {
		if method == "GET" {
			return hOpenAPI, nil, path
		}
		return func(*Server, *request) reply { return methodNotAllowed() }, nil, path
	}
	pathMatched := ""
	for _, rd := range routeTable {
		if !rd.on(s.cfg.prof) {
			continue
		}
		params, ok := match(rd.pattern, path)
		if !ok {
			continue
		}
		if rd.method == method {
			return rd.h, params, rd.pattern
		}
		if pathMatched == "" {
			pathMatched = rd.pattern
		}
	}
	if pathMatched != "" {
		return func(*Server, *request) reply { return methodNotAllowed() }, nil, pathMatched
	}
	return func(*Server, *request) reply { return notFound() }, nil, ""
}

// activeRoutes lists path -> methods for /openapi.json.
func (s *Server) activeRoutes() map[string][]routeDef {
	out := map[string][]routeDef{}
	for _, rd := range routeTable {
		if rd.on(s.cfg.prof) {
			out[rd.pattern] = append(out[rd.pattern], rd)
		}
	}
	return out
}

// jsonBody parses the request body the way FastAPI does for a model
// parameter: no body is None; a JSON content type (or none) is parsed
// with json.loads; another content type hands the raw bytes to pydantic.
func jsonBody(rq *request) (any, *reply) {
	if !rq.hasBody {
		return nil, nil
	}
	isJSON := rq.ctype == ""
	if !isJSON {
		mt, _, err := mime.ParseMediaType(rq.ctype)
		isJSON = err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
	}
	if !isJSON {
		return string(rq.body), nil
	}
	v, err := pyjson.Loads(rq.body)
	if err != nil {
		if de, ok := err.(*pyjson.DecodeError); ok {
			r := jsonReply(http.StatusUnprocessableEntity, pyjson.Object{{"detail", []any{
				valErr{typ: "json_invalid", loc: []any{"body", pyjson.Int{V: int64(de.Pos)}}, msg: "JSON decode error", input: pyjson.Object{},
					ctx: pyjson.Object{{"error", de.Msg}}}.json()}}})
			return nil, &r
		}
		r := detail(http.StatusBadRequest, "There was an error parsing the body")
		return nil, &r
	}
	return v, nil
}

// bodyModel parses the body and checks it is an object; the returned
// reply, if any, is the answer.
func bodyModel(rq *request, c *v) (*pyjson.Dict, *reply) {
	body, r := jsonBody(rq)
	if r != nil {
		return nil, r
	}
	if body == nil {
		c.add("missing", []any{"body"}, "Field required", nil, nil)
		return nil, nil
	}
	o, _ := c.object(body, []any{"body"})
	return o, nil
}

func unprocessable(c *v) reply {
	items := make([]any, len(c.errs))
	for i, e := range c.errs {
		items[i] = e.json()
	}
	return jsonReply(http.StatusUnprocessableEntity, pyjson.Object{{"detail", items}})
}

// queryStr and friends validate query parameters (values are strings).
func queryValue(rq *request, name string) (any, bool) {
	vs, ok := rq.query[name]
	if !ok || len(vs) == 0 {
		return nil, false
	}
	return vs[len(vs)-1], true
}

func (c *v) queryInt(rq *request, name string, def int64, b bound) int64 {
	val, ok := queryValue(rq, name)
	if !ok {
		return def
	}
	n, _ := c.intValue(val, []any{"query", name}, b)
	return n
}

func (c *v) queryEnum(rq *request, name, def string, allowed ...string) string {
	val, ok := queryValue(rq, name)
	if !ok {
		return def
	}
	s, _ := c.enumValue(val, []any{"query", name}, allowed...)
	return s
}

func queryStr(rq *request, name string) string {
	val, ok := queryValue(rq, name)
	if !ok {
		return ""
	}
	return val.(string)
}

// validBody validates a model body the pydantic v2 way: fields reads the
// body, when it is an object, into the caller's variables and collects
// the field errors in c. Any error is the reply; otherwise c and o go on
// to the model's whole-body validators.
func validBody(rq *request, fields func(c *v, o *pyjson.Dict)) (*v, *pyjson.Dict, *reply) {
	c := &v{}
	o, r := bodyModel(rq, c)
	if r != nil {
		return nil, nil, r
	}
	if o != nil {
		fields(c, o)
	}
	if !c.ok() {
		r := unprocessable(c)
		return nil, nil, &r
	}
	return c, o, nil
}
