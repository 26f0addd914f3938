package coordinatorclient

import (
	"strconv"
	"time"
)

// Tier is a storage tier: "l1", "l2", or "all" where a route accepts it.
type Tier string

// Tiers.
const (
	TierL1  Tier = "l1"
	TierL2  Tier = "l2"
	TierAll Tier = "all"
)

// Valid reports one of l1, l2, all.
func (t Tier) Valid() bool { return t == TierL1 || t == TierL2 || t == TierAll }

// Placement is where one key lives (spec §3.3). Identity within a key is
// (shared, tier, backend), plus instance_id when not shared.
type Placement struct {
	InstanceID  string `json:"instance_id"`
	Incarnation int64  `json:"incarnation"`
	Tier        string `json:"tier"`
	Backend     string `json:"backend"`
	SizeBytes   int64  `json:"size_bytes"`
	Shared      bool   `json:"shared"`
}

// KeyPlacements is one /directory/lookup result.
type KeyPlacements struct {
	Key        Key         `json:"key"`
	Placements []Placement `json:"placements"`
	// TokenIDs are the chunk's tokens, looked up by chunk hash only; empty
	// when no token-bearing store was seen (and always on the keys-only
	// lookups of 2026-07/08).
	TokenIDs []uint32 `json:"token_ids"`
	// AccessCount counts admitted access events; 0 on coordinators before
	// 2026-09-01 (LookupResult.HasAccessCount tells).
	AccessCount int64 `json:"access_count"`
}

// LookupResult is a /directory/lookup answer, checked against its request.
type LookupResult struct {
	// Form is "tokens" or "keys".
	Form string `json:"form"`
	// Route is the route that answered: /directory/lookup, or
	// /directory/lookup_tokens on a keys-only coordinator (2026-07-28 to
	// mid-August 2026).
	Route string `json:"route"`
	// Chunks is the coordinator's count: complete chunks (tokens form) or
	// len(keys) (keys form).
	Chunks int `json:"chunks"`
	// WorldSize is the request's (tokens form) or 1 (keys form).
	WorldSize int `json:"world_size"`
	// ChunkSize is the chunk size the answer was checked with: the
	// request's, or the length of the token lists the coordinator sent
	// (0 when neither says).
	ChunkSize int `json:"chunk_size"`
	// Results: tokens form chunk-major then rank (Chunks × WorldSize
	// entries); keys form one per requested key, in request order.
	Results []KeyPlacements `json:"results"`
	// ByChunk: results are chunk-major, then rank, WorldSize per chunk
	// (the tokens form, or a keys form laid out with Chunked).
	ByChunk bool `json:"by_chunk"`
	// HasTokenIDs / HasAccessCount say whether the answer carried those
	// fields (older coordinators lack them).
	HasTokenIDs    bool     `json:"has_token_ids"`
	HasAccessCount bool     `json:"has_access_count"`
	Warnings       []string `json:"warnings,omitempty"`
}

// KeyEntry is one /directory/keys entry: the key with only its
// placements matching the listing's filters.
type KeyEntry struct {
	Key         Key         `json:"key"`
	Placements  []Placement `json:"placements"`
	NumTokens   int         `json:"num_tokens"`
	AccessCount int64       `json:"access_count"`
}

// KeysPage is one page of GET /directory/keys.
type KeysPage struct {
	Total          int        `json:"total"`
	Offset         int        `json:"offset"`
	Keys           []KeyEntry `json:"keys"`
	HasAccessCount bool       `json:"has_access_count"`
	Warnings       []string   `json:"warnings,omitempty"`
}

// KeysQuery filters GET /directory/keys.
type KeysQuery struct {
	Tier       Tier   // "" means all
	InstanceID string // "" means any
	Backend    string // "" means any
	Offset     int
	Limit      int // 0 means the coordinator's default (1000); at most 10000
}

// BlendStats is the blend index part of /directory/stats.
type BlendStats struct {
	NumContents   int64  `json:"num_contents"`
	NumChunks     int64  `json:"num_chunks"`
	NumClaims     *int64 `json:"num_claims,omitempty"`
	NumNamespaces *int64 `json:"num_namespaces,omitempty"`
	TableSize     int64  `json:"table_size"`
}

// StreamState is the per-instance ingest state older coordinators (before
// mid-August 2026) put in /directory/stats.
type StreamState struct {
	Incarnation *int64 `json:"incarnation,omitempty"`
	LastSeq     *int64 `json:"last_seq,omitempty"`
	GapDetected *bool  `json:"gap_detected,omitempty"`
	NumL1Keys   *int64 `json:"num_l1_keys,omitempty"`
	NumL2Keys   *int64 `json:"num_l2_keys,omitempty"`
}

// DirectoryStats is GET /directory/stats. Every field is optional: the
// shape changed several times (spec §6.7); nil means "not reported".
type DirectoryStats struct {
	NumKeys          *int64                 `json:"num_keys,omitempty"`
	NumPlacements    *int64                 `json:"num_placements,omitempty"`
	L1KeysByInstance map[string]int64       `json:"l1_keys_by_instance,omitempty"`
	Blend            *BlendStats            `json:"blend,omitempty"`
	L1Count          *int64                 `json:"l1_count,omitempty"`
	L1SizeBytes      *int64                 `json:"l1_size_bytes,omitempty"`
	L2Count          *int64                 `json:"l2_count,omitempty"`
	L2SizeBytes      *int64                 `json:"l2_size_bytes,omitempty"`
	Streams          map[string]StreamState `json:"streams,omitempty"`
	// HasTierTotals: l1_count… were reported (PR #4800).
	HasTierTotals bool     `json:"has_tier_totals"`
	Warnings      []string `json:"warnings,omitempty"`
}

// Health is GET /healthz: a liveness probe that checks nothing.
type Health struct {
	Status   string   `json:"status"`
	Healthy  bool     `json:"healthy"`
	Warnings []string `json:"warnings,omitempty"`
}

// Instance is one registered MP server (GET /instances).
type Instance struct {
	InstanceID string `json:"instance_id"`
	IP         string `json:"ip"`
	HTTPPort   int    `json:"http_port"`
	// RegistrationTime is epoch seconds of the last (re)registration.
	RegistrationTime float64           `json:"registration_time"`
	Metadata         map[string]string `json:"metadata"`
	// P2PAdvertisedURL and MQPort arrived in July 2026; HasP2PFields
	// tells whether the coordinator sent them.
	P2PAdvertisedURL string `json:"p2p_advertised_url"`
	MQPort           int    `json:"mq_port"`
	HasP2PFields     bool   `json:"has_p2p_fields"`
	// LastHeartbeatTime is set only if a coordinator reports it (none
	// does yet: the coordinator keeps a monotonic clock internally).
	LastHeartbeatTime *float64 `json:"last_heartbeat_time,omitempty"`
}

// HTTPURL is the MP server's HTTP API as the coordinator reaches it.
func (i Instance) HTTPURL() string {
	host := i.IP
	for j := 0; j < len(host); j++ {
		if host[j] == ':' {
			host = "[" + host + "]"
			break
		}
	}
	return "http://" + host + ":" + strconv.Itoa(i.HTTPPort)
}

// Registered is the time of the last (re)registration.
func (i Instance) Registered() time.Time { return epoch(i.RegistrationTime) }

// HeartbeatAge is how long ago the instance last heartbeat. The
// coordinator does not report heartbeats: a listed instance heartbeat less
// than instanceTimeout+sweepInterval ago (30 s + 10 s by default), and
// never before it registered. exact is false when age is that bound, i.e.
// min(time since registration, the bound).
func (i Instance) HeartbeatAge(now time.Time, instanceTimeout, sweepInterval time.Duration) (age time.Duration, exact bool) {
	if i.LastHeartbeatTime != nil {
		return max(now.Sub(epoch(*i.LastHeartbeatTime)), 0), true
	}
	bound := instanceTimeout + sweepInterval
	return max(min(now.Sub(i.Registered()), bound), 0), false
}

func epoch(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

// InstanceList is GET /instances, in registration order.
type InstanceList struct {
	Instances    []Instance `json:"instances"`
	HasP2PFields bool       `json:"has_p2p_fields"`
	Warnings     []string   `json:"warnings,omitempty"`
}

// ModuleUsage is one memory compartment (ModuleMemoryStatus).
type ModuleUsage struct {
	Tier          string `json:"tier"`
	Backend       string `json:"backend"`
	Shared        bool   `json:"shared"`
	UsedBytes     int64  `json:"used_bytes"`
	CapacityBytes int64  `json:"capacity_bytes"`
	// UsageRatio is nil when the capacity is unknown (0): unknown, never 0.
	UsageRatio *float64 `json:"usage_ratio"`
}

// InstanceUsage is one instance's private compartments.
type InstanceUsage struct {
	InstanceID       string        `json:"instance_id"`
	Registered       bool          `json:"registered"`
	DeclaredCapacity bool          `json:"declared_capacity"`
	Modules          []ModuleUsage `json:"modules"`
	Warnings         []string      `json:"warnings,omitempty"`
}

// FleetUsage is GET /instances/usage.
type FleetUsage struct {
	Instances     []InstanceUsage `json:"instances"`
	SharedModules []ModuleUsage   `json:"shared_modules"`
	Warnings      []string        `json:"warnings,omitempty"`
}

// QuotaStatus is one salt's L2 quota and usage (GET /quota/{salt}, and the
// rows of GET /quota).
type QuotaStatus struct {
	CacheSalt    string  `json:"cache_salt"`
	QuotaLimitGB float64 `json:"quota_limit_gb"`
	QuotaExists  bool    `json:"quota_exists"`
	UsageGB      float64 `json:"usage_gb"`
	// Tier is the tier the status was asked for (not on the wire).
	Tier     Tier     `json:"tier"`
	Warnings []string `json:"warnings,omitempty"`
}

// QuotaList is GET /quota.
type QuotaList struct {
	Tier        Tier          `json:"tier"`
	TotalGB     float64       `json:"total_gb"`
	ByCacheSalt []QuotaStatus `json:"by_cache_salt"`
	Warnings    []string      `json:"warnings,omitempty"`
}

// QuotaWriteResult is the answer of PUT and DELETE /quota/{salt}.
type QuotaWriteResult struct {
	CacheSalt string  `json:"cache_salt"`
	LimitGB   float64 `json:"limit_gb"`
	// Status is "ok" (set), "removed" or "not_found" (delete).
	Status   string   `json:"status"`
	Warnings []string `json:"warnings,omitempty"`
}

// QuotaConfig is GET/PUT /quota/config: the default limit, nil when salts
// without a quota are exempt from eviction.
type QuotaConfig struct {
	DefaultLimitGB *float64 `json:"default_limit_gb"`
	Warnings       []string `json:"warnings,omitempty"`
}

// TokensRequest names a token sequence's keys, resolved by the coordinator
// (spec §4): the whole sequence from position 0.
type TokensRequest struct {
	ModelName string
	WorldSize int
	TokenIDs  []uint32
	CacheSalt string
	// ChunkSize, when known (an MP server's /status), lets the client check
	// the chunk counts the coordinator reports.
	ChunkSize int
}

// PinResult is the answer of POST/DELETE /cache/pins.
type PinResult struct {
	Requested int    `json:"requested"`
	Affected  int    `json:"affected"`
	Status    string `json:"status"`
	// Pinned is true for a pin, false for an unpin (as asked).
	Pinned   bool     `json:"pinned"`
	Warnings []string `json:"warnings,omitempty"`
}

// PinnedKey is one GET /cache/pins entry.
type PinnedKey struct {
	Key      Key `json:"key"`
	PinCount int `json:"pin_count"`
}

// PinList is a page of GET /cache/pins (newest coordinators only).
type PinList struct {
	Total    int         `json:"total"`
	Pins     []PinnedKey `json:"pins"`
	Warnings []string    `json:"warnings,omitempty"`
}

// PinsQuery filters GET /cache/pins.
type PinsQuery struct {
	CacheSalt string // "" means every salt
	ModelName string // "" means every model
	Offset    int
	Limit     int // 0: default 1000
}

// DeleteRequest is POST /cache/delete: a token sequence's keys on one MP
// server.
type DeleteRequest struct {
	InstanceID string
	TokensRequest
	Tier  Tier // "" means all
	Force bool
}

// DeleteResult is the answer of POST /cache/delete.
type DeleteResult struct {
	InstanceID string `json:"instance_id"`
	Requested  int    `json:"requested"`
	Affected   int    `json:"affected"`
	Skipped    int    `json:"skipped"`
	// Status is "deleted" or "noop" (fewer tokens than one chunk).
	Status   string   `json:"status"`
	Warnings []string `json:"warnings,omitempty"`
}

// PrefetchRequest is POST /cache/prefetches: load a token sequence's
// chunks from L2 into one MP server's L1.
type PrefetchRequest struct {
	InstanceID string
	TokensRequest
}

// PrefetchSubmitResult is the submit answer.
type PrefetchSubmitResult struct {
	InstanceID string `json:"instance_id"`
	RequestID  string `json:"request_id"`
	Chunks     int    `json:"chunks"`
	// Status is "submitted" or "noop" (fewer tokens than one chunk: there
	// is nothing to poll).
	Status   string   `json:"status"`
	Warnings []string `json:"warnings,omitempty"`
}

// PrefetchStatus is a poll answer.
type PrefetchStatus struct {
	InstanceID string `json:"instance_id"`
	RequestID  string `json:"request_id"`
	// Status is "pending" or "completed".
	Status    string `json:"status"`
	FoundKeys int    `json:"found_keys"`
	TotalKeys int    `json:"total_keys"`
	// MissingKeyIndices (PR #5086 servers) index the chunk-major, rank
	// keys; nil when the server does not report them.
	MissingKeyIndices []int `json:"missing_key_indices,omitempty"`
	// Consumed is set by WaitPrefetch when a 404 followed an earlier
	// "completed" answer (the completion was already consumed).
	Consumed bool     `json:"consumed,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Completed reports the terminal state.
func (p *PrefetchStatus) Completed() bool { return p.Status == "completed" }

// MoveRequest is POST /cache/moves (proposed API, RFC #5083): an L1→L1
// relocation pulled by the target.
type MoveRequest struct {
	SourceInstanceID string
	TargetInstanceID string
	TokensRequest
	// KeepSource makes it a copy.
	KeepSource bool
}

// MoveSubmitResult is the submit answer.
type MoveSubmitResult struct {
	MoveID           string   `json:"move_id"`
	SourceInstanceID string   `json:"source_instance_id"`
	TargetInstanceID string   `json:"target_instance_id"`
	Requested        int      `json:"requested"`
	Status           string   `json:"status"`
	Warnings         []string `json:"warnings,omitempty"`
}

// MoveStatus is GET /cache/moves/{move_id}.
type MoveStatus struct {
	MoveID           string   `json:"move_id"`
	SourceInstanceID string   `json:"source_instance_id"`
	TargetInstanceID string   `json:"target_instance_id"`
	Status           string   `json:"status"` // pending, completed, failed
	Phase            string   `json:"phase"`  // load, delete
	Requested        int      `json:"requested"`
	Loaded           int      `json:"loaded"`
	Missing          int      `json:"missing"`
	Deleted          int      `json:"deleted"`
	Skipped          int      `json:"skipped"`
	Error            string   `json:"error"`
	Warnings         []string `json:"warnings,omitempty"`
}

// Terminal reports completed or failed.
func (m *MoveStatus) Terminal() bool { return m.Status == "completed" || m.Status == "failed" }

// CacheEventsRequest is the body of POST /events (spec §3.5).
type CacheEventsRequest struct {
	Batches []CacheEventBatch `json:"batches"`
}

// CacheEventBatch is one batch of cache events from one MP server.
type CacheEventBatch struct {
	InstanceID       string            `json:"instance_id"`
	Incarnation      int64             `json:"incarnation"`
	Seq              int64             `json:"seq"`
	EventType        string            `json:"event_type"` // store, delete, access, config
	Tier             string            `json:"tier"`       // l1, l2
	Backend          string            `json:"backend"`
	Entries          []CacheEventEntry `json:"entries"`
	Shared           bool              `json:"shared"`
	TS               float64           `json:"ts"`
	CapacityBytes    int64             `json:"capacity_bytes"`
	CapacityRevision int64             `json:"capacity_revision"`
}

// CacheEventEntry is one entry of a batch.
type CacheEventEntry struct {
	Key         Key      `json:"key"`
	SizeBytes   int64    `json:"size_bytes"`
	TokenIDs    []uint32 `json:"token_ids"`
	TokenOffset int64    `json:"token_offset"`
}

// EventsResult is the answer of POST /events.
type EventsResult struct {
	Applied    int      `json:"applied"`
	Duplicates int      `json:"duplicates"`
	Stale      int      `json:"stale"`
	Warnings   []string `json:"warnings,omitempty"`
}
