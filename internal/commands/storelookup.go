// The store lookup: a prompt's chunk keys asked of a Mooncake master (RPC)
// and/or its admin API, with placement and every rank's keys; used by
// lookup and doctor.
package commands

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lmc/internal/doctor"
	"lmc/internal/mooncake"
	"lmc/internal/phasetime"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/lmcachekey"
)

// A key's status in a store lookup.
const (
	statusHit   = "hit"
	statusMiss  = "miss"
	statusError = "error"
)

// keyStatus is one key's answer: hit, miss, or error with the master's
// reason.
type keyStatus struct {
	Status string
	Error  string
}

// rpcStatus sorts a BatchExistKey answer. It and adminStatus are the one
// place a store answer becomes hit, miss or error.
func rpcStatus(x mooncake.ExistStatus) keyStatus {
	switch {
	case x.Exists():
		return keyStatus{Status: statusHit}
	case x == mooncake.Missing:
		return keyStatus{Status: statusMiss}
	}
	return keyStatus{Status: statusError, Error: x.String()}
}

// adminStatus sorts a /batch_query_keys entry.
func adminStatus(q mooncake.KeyQuery) keyStatus {
	switch {
	case q.OK:
		return keyStatus{Status: statusHit}
	case q.Error == "OBJECT_NOT_FOUND" || q.Code == mooncake.CodeObjectNotFound:
		return keyStatus{Status: statusMiss}
	}
	return keyStatus{Status: statusError, Error: q.Error}
}

// storeLookup holds the open store backends.
type storeLookup struct {
	f          *Factory
	master     *mooncake.Client
	masterAddr string
	admin      *mooncake.Admin
	adminURL   string
	placement  bool
	allRanks   bool

	rpcCalls atomic.Int64 // master RPCs sent (the admin client counts its own)

	answered atomic.Bool // the master has answered once: no more wrong-port watch

	// redial is set when --watch starts with the master down: each lookup
	// tries to connect until one succeeds.
	redial  func(context.Context) (*mooncake.Client, error)
	redialM sync.Mutex

	// dialing, when set, is closed once the master that openStore dials
	// in the background is connected (master) or failed (dialErr): the
	// connection is made while the prompt is read and hashed.
	dialing chan struct{}
	dialErr error
}

// rpc is the master client (nil with the admin API alone, or when the
// master could not be reached).
func (s *storeLookup) rpc() *mooncake.Client {
	if s.dialing != nil {
		<-s.dialing
		return s.master
	}
	if s.redial == nil {
		return s.master
	}
	s.redialM.Lock()
	defer s.redialM.Unlock()
	return s.master
}

// ensureMaster waits for the master dialled in the background, or
// connects a master that was down when --watch started. Its errors are
// dialMaster's, ready to print.
func (s *storeLookup) ensureMaster(ctx context.Context) error {
	if s.dialing != nil {
		select {
		case <-s.dialing:
			return s.dialErr
		case <-ctx.Done():
			return s.f.masterErr(s.masterAddr, ctx.Err())
		}
	}
	if s.redial == nil {
		return nil
	}
	s.redialM.Lock()
	defer s.redialM.Unlock()
	if s.master != nil {
		return nil
	}
	c, err := s.redial(ctx)
	if err != nil {
		return err
	}
	s.master = c
	return nil
}

// openStore connects a lookup's store backends: the admin API (which tells
// placement for free, without leases) and/or the master RPC, dialled in the
// background (the first request waits for it and fails with its error).
// close ends what it opened. With keepTrying (--watch), a master that
// cannot be reached now is dialled again by each lookup instead of failing.
func (f *Factory) openStore(ctx context.Context, b BackendFlags, placement, keepTrying bool) (*storeLookup, error) {
	sl := &storeLookup{f: f, placement: placement}
	var err error
	if b.Admin != "" {
		sl.placement = true
		if sl.admin, err = f.adminClient(b.Admin); err != nil {
			return nil, err
		}
		sl.adminURL = sl.admin.BaseURL()
	}
	if b.Master != "" {
		if sl.masterAddr, err = normalizeMaster(b.Master); err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--master: %w", err)}
		}
		if !keepTrying {
			sl.dialing = make(chan struct{})
			go func() {
				defer close(sl.dialing)
				if sl.master, sl.dialErr = f.dialMaster(ctx, sl.masterAddr, b.Tenant); sl.dialErr != nil {
					sl.dialErr = f.withLeaderHint(ctx, sl.admin, sl.dialErr)
				}
			}()
			return sl, nil
		}
		if sl.master, err = f.dialMaster(ctx, sl.masterAddr, b.Tenant); err != nil {
			sl.redial = func(ctx context.Context) (*mooncake.Client, error) { return f.dialMaster(ctx, sl.masterAddr, b.Tenant) }
		}
	}
	return sl, nil
}

func (s *storeLookup) close() {
	if m := s.rpc(); m != nil {
		m.Close()
	}
}

// requests is how many store requests the lookup sent.
func (s *storeLookup) requests() int {
	n := int(s.rpcCalls.Load())
	if s.admin != nil {
		n += s.admin.Requests()
	}
	return n
}

// storeKeyError is a per-key error from the store: the answer says neither
// hit nor miss, so nothing may be concluded from it.
func storeKeyError(s *storeLookup, key, reason string) error {
	_, backend := s.source()
	return fmt.Errorf("the store (%s) answered %s for key %s: it cannot tell whether it holds it, so nothing can be concluded", backend, reason, key)
}

func (s *storeLookup) source() (string, string) {
	hasMaster := s.masterAddr != "" // dialled, dialling, or redialled by --watch
	switch {
	case hasMaster && s.admin != nil:
		return "master+admin", s.masterAddr + " " + s.adminURL
	case hasMaster:
		return "master", s.masterAddr
	}
	return "admin", s.adminURL
}

// existence asks the master's RPC when there is one, else the admin API,
// whether each key exists. With placement from the admin API, its answers
// come back too (nil otherwise).
func (s *storeLookup) existence(ctx context.Context, keys []string, wantQueries bool) ([]keyStatus, []mooncake.KeyQuery, error) {
	defer s.f.Times.Since(phasetime.RPC, time.Now())
	if err := s.ensureMaster(ctx); err != nil {
		return nil, nil, err
	}
	master := s.rpc()
	st := make([]keyStatus, len(keys))
	if master != nil {
		start := time.Now()
		s.rpcCalls.Add(1)
		wctx, stop := ctx, func() {}
		if !s.answered.Load() {
			wctx, stop = watchRPC(ctx, s.masterAddr)
		}
		es, err := master.BatchExistKey(wctx, keys)
		err = rpcCause(wctx, err)
		stop()
		if err == nil {
			s.answered.Store(true)
		}
		s.f.logRPC("BatchExistKey", s.masterAddr, master.Tenant(), len(keys), start, err)
		if err != nil {
			return nil, nil, s.f.masterErr(s.masterAddr, err)
		}
		for i, x := range es {
			st[i] = rpcStatus(x)
		}
		if !wantQueries || s.admin == nil {
			return st, nil, nil
		}
	}
	qs, err := s.admin.BatchQueryKeys(ctx, keys)
	if err != nil {
		return nil, nil, s.f.withLeaderHint(ctx, s.admin, s.f.adminErr(s.adminURL, err))
	}
	if master == nil {
		for i, q := range qs {
			st[i] = adminStatus(q)
		}
	}
	return st, qs, nil
}

// lookup checks one prompt's chunk keys, all its requests (existence,
// placement, other ranks) within one --timeout.
func (s *storeLookup) lookup(ctx context.Context, eng *lmcachekey.Engine, p *tokenize.Prompt) (lookupPromptView, error) {
	ctx, cancel := context.WithTimeout(ctx, s.f.Timeout)
	defer cancel()
	src, backend := s.source()
	v := lookupPromptView{Source: src, Backend: backend, Index: p.Index, ID: p.ID, TotalTokens: len(p.Tokens), Chunks: []lookupChunkView{}}
	// The master was dialled while the prompt was read: a prompt with no
	// chunk to ask about still fails when it cannot be reached.
	if err := s.ensureMaster(ctx); err != nil {
		return v, err
	}
	var keys []string
	t := time.Now()
	err := eng.Each(p.Tokens, func(c lmcachekey.Chunk) error {
		v.Chunks = append(v.Chunks, lookupChunkView{Index: c.Index, Start: c.Start, End: c.End, Hash: eng.HashText(c.Hash), Key: c.Key})
		keys = append(keys, c.Key)
		return nil
	})
	s.f.Times.Since(phasetime.Keys, t)
	if err != nil || len(keys) == 0 {
		return v, err
	}
	v.NumChunks = len(keys)
	st, qs, err := s.existence(ctx, keys, s.placement)
	if err != nil {
		return v, err
	}
	for i, x := range st {
		v.Chunks[i].Status, v.Chunks[i].Error = x.Status, x.Error
	}
	switch {
	case s.placement && qs != nil:
		for i, q := range qs {
			v.Chunks[i].Replicas = queryReplicas(q)
		}
	case s.placement:
		rls, err := s.replicaLists(ctx, keys)
		if err != nil {
			return v, err
		}
		for i, r := range rls {
			v.Chunks[i].Replicas = replicaViews(r)
		}
	}
	if s.allRanks {
		if err := s.addRanks(ctx, eng, p, &v); err != nil {
			return v, err
		}
	}
	prefixDone := false
	for i := range v.Chunks {
		c := &v.Chunks[i]
		if !c.hitAllRanks() {
			prefixDone = true
			continue
		}
		if prefixDone {
			v.Unusable++
			continue
		}
		c.Usable = true
		v.HitChunks++
		v.HitTokens = c.End
	}
	return v, nil
}

// replicaLists is BatchGetReplicaList on the master, counted and logged.
func (s *storeLookup) replicaLists(ctx context.Context, keys []string) ([]mooncake.ReplicaListResult, error) {
	start := time.Now()
	s.rpcCalls.Add(1)
	master := s.rpc()
	rls, err := master.BatchGetReplicaList(ctx, keys)
	s.f.logRPC("BatchGetReplicaList", s.masterAddr, master.Tenant(), len(keys), start, err)
	if err != nil {
		return nil, s.f.masterErr(s.masterAddr, err)
	}
	return rls, nil
}

// replicaViews renders one key's BatchGetReplicaList entry.
func replicaViews(r mooncake.ReplicaListResult) []replicaView {
	var out []replicaView
	for _, rep := range r.Replicas {
		rv := replicaView{Endpoint: rep.Endpoint(), Tier: rep.Kind.String(), Status: strings.ToLower(rep.Status.String()), Size: rep.Size()}
		if rep.Kind == mooncake.KindDisk {
			rv.Path = rep.Disk.FilePath
		}
		out = append(out, rv)
	}
	return out
}

func queryReplicas(q mooncake.KeyQuery) []replicaView {
	var out []replicaView
	for _, b := range q.Values {
		out = append(out, replicaView{Endpoint: b.TransportEndpoint, Tier: "memory", Size: b.Size})
	}
	for _, b := range q.NoFValues {
		out = append(out, replicaView{Endpoint: b.TransportEndpoint, Tier: "nof", Size: b.Size})
	}
	for _, d := range q.DiskValues {
		out = append(out, replicaView{Tier: "disk", Size: d.ObjectSize, Path: d.FilePath})
	}
	for _, d := range q.LocalDiskValues {
		out = append(out, replicaView{Endpoint: d.TransportEndpoint, Tier: "local_disk", Size: d.ObjectSize})
	}
	return out
}

// addRanks checks every other worker id's key of each chunk (lookup
// --all-ranks) and records per-rank statuses and hits.
func (s *storeLookup) addRanks(ctx context.Context, eng *lmcachekey.Engine, p *tokenize.Prompt, v *lookupPromptView) error {
	params := eng.Params()
	t, err := doctor.NewRankTable(params, p.Tokens)
	if err != nil || len(t.Ranks) < 2 || len(t.Chunks) != len(v.Chunks) {
		return err
	}
	var keys []string
	for _, c := range t.Chunks {
		for ri, r := range t.Ranks {
			if r != params.WorkerID {
				keys = append(keys, c.Keys[ri])
			}
		}
	}
	st, _, err := s.existence(ctx, keys, false)
	if err != nil {
		return err
	}
	i := 0
	hits := make([]bool, 0, len(t.Chunks)*len(t.Ranks))
	for ci, c := range t.Chunks {
		cv := &v.Chunks[ci]
		for ri, r := range t.Ranks {
			rs := rankStatusView{Rank: r, Key: c.Keys[ri]}
			if r == params.WorkerID {
				rs.Status, rs.Error = cv.Status, cv.Error
			} else {
				rs.Status, rs.Error = st[i].Status, st[i].Error
				i++
			}
			hits = append(hits, rs.Status == statusHit)
			cv.Ranks = append(cv.Ranks, rs)
		}
	}
	if err := t.Fill(hits); err != nil {
		return err
	}
	v.RankHitTokens = t.RankHitTokens
	return nil
}

// Exist makes a storeLookup doctor's prober: existence only, through the
// same classification as lookup. A per-key error is an error, not a miss.
func (s *storeLookup) Exist(ctx context.Context, keys []string) ([]bool, error) {
	if len(keys) == 0 {
		return []bool{}, nil
	}
	st, _, err := s.existence(ctx, keys, false)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(st))
	for i, x := range st {
		if x.Status == statusError {
			return nil, storeKeyError(s, keys[i], x.Error)
		}
		out[i] = x.Status == statusHit
	}
	return out, nil
}
