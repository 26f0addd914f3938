package coordinatorclient

// The route table (spec §5, §10, §11.3 rule 4): a rename touches this file.

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	peerCoordinator = "coordinator"
	peerMP          = "MP server"
)

type route struct {
	method  string
	pattern string
	// retry: safe to send again after a failure (spec §9 "Retries").
	retry bool
	// tokens: the body carries a token sequence the peer hashes.
	tokens bool
	// feature the route belongs to, for detection and hints.
	feature Feature
	// timeout is the default per-attempt timeout.
	timeout time.Duration
}

// Default per-attempt timeouts. The upstream CLI uses 10 s; routes the
// coordinator relays to an MP server wait for its 30 s outbound client.
const (
	DefaultReadTimeout  = 10 * time.Second
	DefaultRelayTimeout = 35 * time.Second
)

var (
	rHealthz       = route{method: http.MethodGet, pattern: "/healthz", retry: true, feature: FeatureHealthz}
	rOpenAPI       = route{method: http.MethodGet, pattern: "/openapi.json", retry: true}
	rInstances     = route{method: http.MethodGet, pattern: "/instances", retry: true}
	rUsage         = route{method: http.MethodGet, pattern: "/instances/usage", retry: true, feature: FeatureUsage}
	rInstanceUsage = route{method: http.MethodGet, pattern: "/instances/{instance_id}/usage", retry: true, feature: FeatureUsage}
	rLookup        = route{method: http.MethodPost, pattern: "/directory/lookup", retry: true, tokens: true, feature: FeatureDirectory}
	rLookupTokens  = route{method: http.MethodPost, pattern: "/directory/lookup_tokens", retry: true, tokens: true, feature: FeatureLookupTokensRoute}
	rKeys          = route{method: http.MethodGet, pattern: "/directory/keys", retry: true, feature: FeatureDirectoryKeys}
	rStats         = route{method: http.MethodGet, pattern: "/directory/stats", retry: true, feature: FeatureDirectory}
	rEvents        = route{method: http.MethodPost, pattern: "/events", retry: true, feature: FeatureEvents}
	rQuotaList     = route{method: http.MethodGet, pattern: "/quota", retry: true, feature: FeatureQuota}
	rQuotaGet      = route{method: http.MethodGet, pattern: "/quota/{cache_salt}", retry: true, feature: FeatureQuota}
	rQuotaSet      = route{method: http.MethodPut, pattern: "/quota/{cache_salt}", retry: true, feature: FeatureQuota}
	rQuotaDelete   = route{method: http.MethodDelete, pattern: "/quota/{cache_salt}", retry: true, feature: FeatureQuota}
	rQuotaConfig   = route{method: http.MethodGet, pattern: "/quota/config", retry: true, feature: FeatureQuotaConfig}
	rQuotaConfigW  = route{method: http.MethodPut, pattern: "/quota/config", retry: true, feature: FeatureQuotaConfig}
	rL2Status      = route{method: http.MethodGet, pattern: "/l2/status", retry: true, feature: FeatureL2Naming}
	rPin           = route{method: http.MethodPost, pattern: "/cache/pins", tokens: true, feature: FeaturePins}
	rUnpin         = route{method: http.MethodDelete, pattern: "/cache/pins", tokens: true, feature: FeaturePins}
	rPinList       = route{method: http.MethodGet, pattern: "/cache/pins", retry: true, feature: FeaturePinList}
	rDelete        = route{method: http.MethodPost, pattern: "/cache/delete", tokens: true, feature: FeatureDelete, timeout: DefaultRelayTimeout}
	rPrefetch      = route{method: http.MethodPost, pattern: "/cache/prefetches", tokens: true, feature: FeaturePrefetch, timeout: DefaultRelayTimeout}
	// A poll is never retried: the first poll that sees "completed"
	// consumes the job.
	rPrefetchStatus = route{method: http.MethodGet, pattern: "/cache/prefetches/{instance_id}/{request_id}", feature: FeaturePrefetch, timeout: DefaultRelayTimeout}
	rMove           = route{method: http.MethodPost, pattern: "/cache/moves", tokens: true, feature: FeatureMoves, timeout: DefaultRelayTimeout}
	rMoveStatus     = route{method: http.MethodGet, pattern: "/cache/moves/{move_id}", retry: true, feature: FeatureMoves}
	rMetrics        = route{method: http.MethodGet, pattern: "/metrics", retry: true, feature: FeatureMetrics}
)

// path expands the pattern's {params} in order, escaping each.
func (r route) path(params ...string) string {
	p := r.pattern
	for _, v := range params {
		i := strings.IndexByte(p, '{')
		j := strings.IndexByte(p, '}')
		if i < 0 || j < i {
			break
		}
		p = p[:i] + url.PathEscape(v) + p[j+1:]
	}
	return p
}

// saltPath is a cache salt as a path parameter: "" is written _default.
func saltPath(salt string) string {
	if salt == "" {
		return "_default"
	}
	return salt
}

// MP server routes, newest name first, then the names of 2026-05 and
// 2026-03 (spec §10.4). The client tries them in order on 404 and keeps
// the first that answers.
type mpOp string

const (
	mpHealth  mpOp = "healthcheck"
	mpStatus  mpOp = "status"
	mpClear   mpOp = "clear"
	mpObjects mpOp = "objects"
	mpEvict   mpOp = "evict"
	mpVersion mpOp = "version"
)

var mpRoutes = map[mpOp][]route{
	mpHealth: {
		{method: http.MethodGet, pattern: "/healthcheck", retry: true},
		{method: http.MethodGet, pattern: "/api/healthcheck", retry: true},
	},
	mpStatus: {
		{method: http.MethodGet, pattern: "/status", retry: true},
		{method: http.MethodGet, pattern: "/api/status", retry: true},
	},
	mpClear: {
		{method: http.MethodPost, pattern: "/cache/clear"},
		{method: http.MethodPost, pattern: "/clear-cache"},
		{method: http.MethodPost, pattern: "/api/clear-cache"},
	},
	mpObjects: {
		{method: http.MethodGet, pattern: "/cache/objects", retry: true},
		{method: http.MethodGet, pattern: "/l2/keys", retry: true},
	},
	mpEvict: {
		{method: http.MethodDelete, pattern: "/cache/objects"},
		{method: http.MethodPost, pattern: "/l2/keys:evict"},
	},
	mpVersion: {
		{method: http.MethodGet, pattern: "/version", retry: true},
	},
}
