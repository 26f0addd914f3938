package controllerclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Request bodies. Where a field was renamed, both spellings are sent; the
// controller ignores unknown fields (spec §9.2).

type lookupBody struct {
	Tokens []uint32 `json:"tokens"`
}

type clearBody struct {
	InstanceID string   `json:"instance_id"`
	Location   string   `json:"location"`
	Locations  []string `json:"locations"`
}

type pinBody struct {
	InstanceID string   `json:"instance_id"`
	Location   string   `json:"location"`
	Locations  []string `json:"locations"`
	Tokens     []uint32 `json:"tokens"`
}

type compressBody struct {
	InstanceID string   `json:"instance_id"`
	Method     string   `json:"method"`
	Location   string   `json:"location"`
	Locations  []string `json:"locations"`
	Tokens     []uint32 `json:"tokens"`
}

type moveBody struct {
	OldPosition [2]string `json:"old_position"`
	NewPosition [2]string `json:"new_position"`
	Tokens      []uint32  `json:"tokens"`
	ShouldCopy  bool      `json:"should_copy"`
	Copy        bool      `json:"copy"`
}

type healthBody struct {
	InstanceID string `json:"instance_id"`
}

type checkFinishBody struct {
	EventID string `json:"event_id"`
}

type queryWorkerInfoBody struct {
	InstanceID string `json:"instance_id"`
	WorkerIDs  []int  `json:"worker_ids"` // null when nil: the key must be present
}

type queryInstanceBody struct {
	EventID string `json:"event_id"`
	IP      string `json:"ip"`
}

func nonNil(t []uint32) []uint32 {
	if t == nil {
		return []uint32{}
	}
	return t
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func decodeWith[T any](ep Endpoint, status int, body []byte, err error, dec func([]byte) (*T, error)) (*T, error) {
	if err != nil {
		return nil, err
	}
	if msg, ok := errorInSuccess(body); ok {
		return nil, &AnswerError{Endpoint: ep, Reason: "a success status carrying an error: " + msg, Body: truncate(string(body), maxErrBody)}
	}
	v, derr := dec(body)
	if derr != nil {
		return nil, &DecodeError{Endpoint: ep, Status: status, Body: truncate(string(body), maxErrBody), Err: derr}
	}
	return v, nil
}

// Lookup asks which instances hold the longest cached prefix of tokens
// (raw token ids as the engine's tokenizer made them). The controller hashes
// them itself in chunks of 256 tokens.
//
// The answer is checked against the question: every instance's hit lies in
// 0..len(tokens) and is a whole number of chunks (or the whole prompt); an
// answer that is not is an *AnswerError, never a hit.
func (c *Client) Lookup(ctx context.Context, tokens []uint32) (*LookupResult, error) {
	st, body, err := c.do(ctx, http.MethodPost, EndpointLookup, nil, lookupBody{Tokens: nonNil(tokens)})
	res, err := decodeWith(EndpointLookup, st, body, err, DecodeLookup)
	if err != nil {
		return nil, err
	}
	for _, h := range res.Instances {
		if h.HitTokens < 0 || h.HitTokens > len(tokens) || (h.HitTokens%ControllerChunkSize != 0 && h.HitTokens != len(tokens)) {
			return nil, &AnswerError{Endpoint: EndpointLookup, Body: truncate(string(body), maxErrBody),
				Reason: fmt.Sprintf("instance %q hits %d tokens of a %d-token prompt (a hit is 0..%d and a multiple of the %d-token chunk)", h.InstanceID, h.HitTokens, len(tokens), len(tokens), ControllerChunkSize)}
		}
	}
	return res, nil
}

// ControllerChunkSize is the chunk size the controller hashes with (the
// engines must use it too, spec §4.1).
const ControllerChunkSize = 256

// checkOp validates an operation's answer: the legacy success flag must not
// be false, num_tokens must not be negative and, when the operation names
// tokens, not exceed them (limit < 0: no upper bound, e.g. clear).
func checkOp(ep Endpoint, body []byte, res *OpResult, limit int) (*OpResult, error) {
	bad := func(reason string) (*OpResult, error) {
		return nil, &AnswerError{Endpoint: ep, Reason: reason, Body: truncate(string(body), maxErrBody)}
	}
	switch {
	case res.Success != nil && !*res.Success:
		return bad(`"success": false: the controller says the operation failed`)
	case res.HasNumTokens && res.NumTokens < 0:
		return bad(fmt.Sprintf("num_tokens %d is negative", res.NumTokens))
	case res.HasNumTokens && limit >= 0 && res.NumTokens > limit:
		return bad(fmt.Sprintf("num_tokens %d exceeds the %d tokens sent", res.NumTokens, limit))
	}
	return res, nil
}

func opResult(ep Endpoint, st int, body []byte, err error, limit int) (*OpResult, error) {
	res, err := decodeWith(ep, st, body, err, DecodeOp)
	if err != nil {
		return nil, err
	}
	return checkOp(ep, body, res, limit)
}

// Clear evicts everything stored in location (default LocalCPUBackend) on
// every worker of an instance, except pinned chunks. Only LocalCPUBackend
// implements clear; other names answer 0.
func (c *Client) Clear(ctx context.Context, instanceID, location string) (*OpResult, error) {
	loc := orDefault(location, DefaultLocation)
	st, body, err := c.do(ctx, http.MethodPost, EndpointClear, nil,
		clearBody{InstanceID: instanceID, Location: loc, Locations: []string{loc}})
	return opResult(EndpointClear, st, body, err, -1)
}

// Pin pins the cached prefix of tokens in location (default
// LocalCPUBackend) on every worker of an instance. There is no unpin.
func (c *Client) Pin(ctx context.Context, instanceID, location string, tokens []uint32) (*OpResult, error) {
	loc := orDefault(location, DefaultLocation)
	st, body, err := c.do(ctx, http.MethodPost, EndpointPin, nil,
		pinBody{InstanceID: instanceID, Location: loc, Locations: []string{loc}, Tokens: nonNil(tokens)})
	return opResult(EndpointPin, st, body, err, len(tokens))
}

func compressPayload(r CompressRequest) compressBody {
	loc := orDefault(r.Location, DefaultLocation)
	return compressBody{
		InstanceID: r.InstanceID, Method: orDefault(r.Method, "cachegen"),
		Location: loc, Locations: []string{loc}, Tokens: nonNil(r.Tokens),
	}
}

// Compress re-encodes the cached prefix of the tokens (method "cachegen").
func (c *Client) Compress(ctx context.Context, r CompressRequest) (*OpResult, error) {
	st, body, err := c.do(ctx, http.MethodPost, EndpointCompress, nil, compressPayload(r))
	return opResult(EndpointCompress, st, body, err, len(r.Tokens))
}

// Decompress reverses Compress. A 404 means the controller predates it.
func (c *Client) Decompress(ctx context.Context, r CompressRequest) (*OpResult, error) {
	st, body, err := c.do(ctx, http.MethodPost, EndpointDecompress, nil, compressPayload(r))
	return opResult(EndpointDecompress, st, body, err, len(r.Tokens))
}

// Move copies (Copy) or moves the cached prefix of tokens from one
// instance to another over P2P. Source and destination workers are paired
// by worker id; both instances need P2P on.
func (c *Client) Move(ctx context.Context, r MoveRequest) (*OpResult, error) {
	b := moveBody{
		OldPosition: [2]string{r.SrcInstance, orDefault(r.SrcLocation, DefaultLocation)},
		NewPosition: [2]string{r.DstInstance, orDefault(r.DstLocation, DefaultLocation)},
		Tokens:      nonNil(r.Tokens),
		ShouldCopy:  r.Copy,
		Copy:        r.Copy,
	}
	st, body, err := c.do(ctx, http.MethodPost, EndpointMove, nil, b)
	return opResult(EndpointMove, st, body, err, len(r.Tokens))
}

// Health asks every worker of an instance for its health code. An unknown
// instance is not an error: the result then has no workers (Found false).
func (c *Client) Health(ctx context.Context, instanceID string) (*HealthResult, error) {
	st, body, err := c.do(ctx, http.MethodPost, EndpointHealth, nil, healthBody{InstanceID: instanceID})
	return decodeWith(EndpointHealth, st, body, err, DecodeHealth)
}

// CheckFinish polls an event. No controller implements it: expect an
// *APIError of kind KindNotImplemented.
func (c *Client) CheckFinish(ctx context.Context, eventID string) (*CheckFinishResult, error) {
	st, body, err := c.do(ctx, http.MethodPost, EndpointCheckFinish, nil, checkFinishBody{EventID: eventID})
	return decodeWith(EndpointCheckFinish, st, body, err, DecodeCheckFinish)
}

// QueryWorkerInfo lists the registry entries of an instance ("all" for
// every instance, served from a 30 s cache by the controller), optionally
// only the given worker ids.
func (c *Client) QueryWorkerInfo(ctx context.Context, instanceID string, workerIDs []int) (*WorkerInfoResult, error) {
	st, body, err := c.do(ctx, http.MethodPost, EndpointQueryWorkerInfo, nil,
		queryWorkerInfoBody{InstanceID: instanceID, WorkerIDs: workerIDs})
	return decodeWith(EndpointQueryWorkerInfo, st, body, err, DecodeWorkerInfos)
}

// QueryInstance returns the first instance that has a worker registered
// with ip. No match is an *APIError of kind KindNotFound.
func (c *Client) QueryInstance(ctx context.Context, ip string) (*QueryInstanceResult, error) {
	st, body, err := c.do(ctx, http.MethodPost, EndpointQueryInstance, nil,
		queryInstanceBody{EventID: newEventID(), IP: ip})
	return decodeWith(EndpointQueryInstance, st, body, err, DecodeQueryInstance)
}

func newEventID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "lmc-" + hex.EncodeToString(b[:])
}

// Workers lists workers with their key counts (GET /controller/workers).
func (c *Client) Workers(ctx context.Context, f WorkersFilter) (*WorkersResult, error) {
	q := url.Values{}
	if f.InstanceID != "" {
		q.Set("instance_id", f.InstanceID)
		if f.WorkerID != nil {
			q.Set("worker_id", strconv.Itoa(*f.WorkerID))
		}
	}
	st, body, err := c.do(ctx, http.MethodGet, EndpointWorkers, q, nil)
	res, err := decodeWith(EndpointWorkers, st, body, err, DecodeWorkers)
	if err != nil {
		return nil, err
	}
	if f.InstanceID == "" && f.WorkerID != nil {
		// The controller ignores worker_id without instance_id.
		kept := res.Workers[:0]
		for _, w := range res.Workers {
			if w.WorkerID == *f.WorkerID {
				kept = append(kept, w)
			}
		}
		res.Workers, res.TotalCount = kept, len(kept)
	}
	return res, nil
}

// AllWorkers lists every worker: GET /controller/workers, or on a
// controller that predates it, /query_worker_info with "all" (no key
// counts).
func (c *Client) AllWorkers(ctx context.Context) (*WorkersResult, error) {
	res, err := c.Workers(ctx, WorkersFilter{})
	var ae *APIError
	if err == nil || !errors.As(err, &ae) || ae.Kind != KindEndpointMissing {
		return res, err
	}
	info, err := c.QueryWorkerInfo(ctx, "all", nil)
	if err != nil {
		return nil, err
	}
	return &WorkersResult{Workers: info.Workers, TotalCount: len(info.Workers)}, nil
}

// KeyStats returns chunk-key counts per instance.
func (c *Client) KeyStats(ctx context.Context) (*KeyStats, error) {
	st, body, err := c.do(ctx, http.MethodGet, EndpointKeyStats, nil, nil)
	return decodeWith(EndpointKeyStats, st, body, err, DecodeKeyStats)
}
