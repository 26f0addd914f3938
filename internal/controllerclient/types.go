package controllerclient

// Endpoint names a controller route; it is the request path.
type Endpoint string

// The controller endpoints the client calls.
const (
	EndpointLookup          Endpoint = "/lookup"
	EndpointClear           Endpoint = "/clear"
	EndpointPin             Endpoint = "/pin"
	EndpointCompress        Endpoint = "/compress"
	EndpointDecompress      Endpoint = "/decompress"
	EndpointMove            Endpoint = "/move"
	EndpointHealth          Endpoint = "/health"
	EndpointCheckFinish     Endpoint = "/check_finish"
	EndpointQueryWorkerInfo Endpoint = "/query_worker_info"
	EndpointQueryInstance   Endpoint = "/query_instance"
	EndpointWorkers         Endpoint = "/controller/workers"
	EndpointKeyStats        Endpoint = "/controller/key-stats"
)

// IsRead reports whether the endpoint only reads controller state (or, for
// health and check_finish, asks without changing anything), so that
// repeating it is harmless. Only reads are retried.
func (e Endpoint) IsRead() bool {
	switch e {
	case EndpointLookup, EndpointHealth, EndpointCheckFinish, EndpointQueryWorkerInfo,
		EndpointQueryInstance, EndpointWorkers, EndpointKeyStats:
		return true
	}
	return false
}

// DefaultLocation is the storage backend name that the controller tracks
// in practice.
const DefaultLocation = "LocalCPUBackend"

// LookupResult is the answer of POST /lookup.
type LookupResult struct {
	EventID string `json:"event_id,omitempty"`
	// Instances lists, in the controller's order, each instance that was
	// credited with at least one chunk of the prefix.
	Instances []InstanceHit `json:"instances"`
	// MatchedTokens is the length of the cached prefix: the largest
	// HitTokens. With a legacy controller it is unknown (0).
	MatchedTokens int `json:"matched_tokens"`
	// Legacy is set when the controller answered with the pre-v0.3.0
	// shape {"res": "<instance>"}, which carries no location or count.
	Legacy bool `json:"legacy,omitempty"`
}

// InstanceHit is one entry of the lookup layout: the instance, the
// location of the last chunk credited to it, and the end token offset of
// that chunk. It does not promise that the instance holds the whole prefix.
type InstanceHit struct {
	InstanceID string `json:"instance_id"`
	Location   string `json:"location"`
	HitTokens  int    `json:"hit_tokens"`
}

// OpResult is the answer of clear, pin, compress, decompress and move.
type OpResult struct {
	EventID string `json:"event_id,omitempty"`
	// EventIDs is the legacy /move answer (2025-07-28 .. 2025-07-31).
	EventIDs []string `json:"event_ids,omitempty"`
	// NumTokens is the final number of tokens the operation covered
	// (operations are synchronous). Valid when HasNumTokens.
	NumTokens    int  `json:"num_tokens"`
	HasNumTokens bool `json:"-"`
	// Success is the legacy clear/pin answer (before v0.3.3).
	Success *bool `json:"success,omitempty"`
}

// HealthResult is the answer of POST /health.
type HealthResult struct {
	EventID string `json:"event_id,omitempty"`
	// Workers holds one code per worker, by ascending worker id. An empty
	// list with no legacy field means the instance is unknown or has no
	// workers: the controller answers 200 either way.
	Workers []WorkerHealth `json:"workers"`
	// ErrorCode is the short-lived single-code answer (~Aug 2025).
	ErrorCode *int `json:"error_code,omitempty"`
	// Alive is the v0.3.0 answer.
	Alive *bool `json:"alive,omitempty"`
}

// WorkerHealth is one worker's health code: 0 healthy, -1 the engine's
// memory check failed, -1001 the worker answered with an error, -1002 an
// unexpected reply, -1003 an undecodable reply.
type WorkerHealth struct {
	WorkerID int    `json:"worker_id"`
	Code     int    `json:"code"`
	Meaning  string `json:"meaning"`
}

// Found reports whether the controller knows the instance.
func (h *HealthResult) Found() bool {
	return len(h.Workers) > 0 || h.ErrorCode != nil || h.Alive != nil
}

// Healthy reports whether the instance is known and every worker is
// healthy.
func (h *HealthResult) Healthy() bool {
	if h.Alive != nil {
		return *h.Alive
	}
	if h.ErrorCode != nil {
		return *h.ErrorCode == 0
	}
	if len(h.Workers) == 0 {
		return false
	}
	for _, w := range h.Workers {
		if w.Code != 0 {
			return false
		}
	}
	return true
}

// HealthCodeMeaning describes a worker health code.
func HealthCodeMeaning(code int) string {
	switch code {
	case 0:
		return "healthy"
	case -1:
		return "unhealthy (engine memory check failed)"
	case -1001:
		return "worker answered with an error"
	case -1002:
		return "unexpected reply type from worker"
	case -1003:
		return "worker reply could not be decoded"
	}
	return "unknown code"
}

// CheckFinishResult is the answer of POST /check_finish. No released
// controller answers it successfully.
type CheckFinishResult struct {
	Status   string `json:"status,omitempty"`
	Finished *bool  `json:"finished,omitempty"`
}

// WorkerInfo is one registered worker (LMCache worker = one TP rank).
type WorkerInfo struct {
	InstanceID string `json:"instance_id"`
	WorkerID   int    `json:"worker_id"`
	IP         string `json:"ip"`
	Port       int    `json:"port"`
	// PeerInitURL is null when P2P is off (field distributed_url before
	// 2025-11-24).
	PeerInitURL       *string `json:"peer_init_url"`
	RegistrationTime  float64 `json:"registration_time"`
	LastHeartbeatTime float64 `json:"last_heartbeat_time"`
	// KeyCount is the number of chunk keys the worker holds; absent from
	// /query_worker_info and from controllers before 2025-12-11.
	KeyCount *int `json:"key_count,omitempty"`
}

// WorkerInfoResult is the answer of POST /query_worker_info.
type WorkerInfoResult struct {
	EventID string       `json:"event_id,omitempty"`
	Workers []WorkerInfo `json:"workers"`
}

// QueryInstanceResult is the answer of POST /query_instance.
type QueryInstanceResult struct {
	EventID    string `json:"event_id,omitempty"`
	InstanceID string `json:"instance_id"`
}

// WorkersFilter selects what GET /controller/workers returns.
type WorkersFilter struct {
	// InstanceID limits the list to one instance ("" = all instances).
	InstanceID string
	// WorkerID selects one worker. The controller ignores it without an
	// instance, so the client then filters the full list itself.
	WorkerID *int
}

// WorkersResult is the answer of GET /controller/workers, normalised to a
// list (the single-worker form becomes a list of one).
type WorkersResult struct {
	Workers    []WorkerInfo `json:"workers"`
	TotalCount int          `json:"total_count"`
}

// KeyStats is the answer of GET /controller/key-stats.
type KeyStats struct {
	TotalKeyCount      int                `json:"total_key_count"`
	TotalInstanceCount int                `json:"total_instance_count"`
	TotalWorkerCount   int                `json:"total_worker_count"`
	Instances          []InstanceKeyStats `json:"instances"`
}

// InstanceKeyStats is one instance's key count (every TP rank counts its
// own copy of a chunk).
type InstanceKeyStats struct {
	InstanceID  string `json:"instance_id"`
	KeyCount    int    `json:"key_count"`
	WorkerCount int    `json:"worker_count"`
}

// MoveRequest describes a /move.
type MoveRequest struct {
	SrcInstance string
	SrcLocation string // default LocalCPUBackend
	DstInstance string
	DstLocation string // default LocalCPUBackend; the controller only supports it
	Tokens      []uint32
	// Copy keeps the source copy (should_copy, formerly copy).
	Copy bool
}

// CompressRequest describes a /compress or /decompress.
type CompressRequest struct {
	InstanceID string
	Method     string // default "cachegen", the only method that does anything
	Location   string // default LocalCPUBackend
	Tokens     []uint32
}
