package sandboxcoordinator

// Moves (spec §6.13, proposed in RFC #5083): an L1→L1 relocation pulled
// by the target — a warm prefetch on the target, polled by the
// coordinator, then a delete on the source of exactly the keys the
// target loaded. Not atomic, no rollback.

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"lmc/internal/pyjson"
)

type move struct {
	id, src, dst string
	requested    int64
	status       string
	phase        string
	loaded       int64
	missing      int64
	deleted      int64
	skipped      int64
	errText      string
	settled      time.Time
}

func (m *move) json() pyjson.Object {
	return pyjson.Object{{"move_id", m.id}, {"source_instance_id", m.src}, {"target_instance_id", m.dst}, {"status", m.status}, {"phase", m.phase},
		{"requested", m.requested}, {"loaded", m.loaded}, {"missing", m.missing}, {"deleted", m.deleted}, {"skipped", m.skipped}, {"error", m.errText}}
}

type moveTable struct {
	mu sync.Mutex
	m  map[string]*move
}

func newMoveTable() *moveTable { return &moveTable{m: map[string]*move{}} }

var moveFields = []string{"source_instance_id", "target_instance_id", "model_name", "world_size", "token_ids", "cache_salt", "source_tier", "target_tier", "keep_source"}

func hMove(s *Server, rq *request) reply {
	var f tokensForm
	var src, dst, st, tt string
	var keep bool
	_, _, r := validBody(rq, func(c *v, o *pyjson.Dict) {
		loc := []any{"body"}
		c.forbidExtra(o, loc, moveFields...)
		src, _ = c.str(o, loc, "source_instance_id", true, "")
		dst, _ = c.str(o, loc, "target_instance_id", true, "")
		f, _ = c.tokensFields(o, true, true)
		st, _ = c.enum(o, loc, "source_tier", "l1", "l1", "l2", "all")
		tt, _ = c.enum(o, loc, "target_tier", "l1", "l1", "l2", "all")
		keep, _ = c.boolean(o, loc, "keep_source", false)
	})
	if r != nil {
		return *r
	}
	switch {
	case src == dst:
		return detail(http.StatusBadRequest, "source_instance_id and target_instance_id must differ (got "+pyjson.Repr(src)+")")
	case st != "l1" || tt != "l1":
		return detail(http.StatusBadRequest, fmt.Sprintf("only l1 -> l1 moves are supported (got %s -> %s)", pyjson.Repr(st), pyjson.Repr(tt)))
	}
	bases, keys, chunks, rr := s.resolveAt(f, src, dst)
	if rr != nil {
		return *rr
	}
	srcBase, dstBase := bases[0], bases[1]
	if chunks == 0 {
		return jsonReply(200, pyjson.Object{{"move_id", ""}, {"source_instance_id", src}, {"target_instance_id", dst}, {"requested", int64(0)}, {"status", "noop"}})
	}
	a, err := s.mpPrefetch(rq.ctx, dstBase, f)
	if err != nil {
		return detail(http.StatusBadGateway, "prefetch submit to "+pyjson.Repr(dst)+" failed: "+err.Error())
	}
	reqID, mpStatus := dictStr(a, "request_id"), dictStr(a, "status")
	switch {
	case mpStatus == "noop":
		return detail(http.StatusBadGateway, "target "+pyjson.Repr(dst)+" resolved no chunks (its --chunk-size differs from the coordinator's?)")
	case reqID == "":
		return detail(http.StatusBadGateway, "target "+pyjson.Repr(dst)+" answered the prefetch without a request_id")
	}
	m := &move{id: s.cfg.ids("move"), src: src, dst: dst, requested: int64(chunks), status: "pending", phase: "load"}
	s.moves.mu.Lock()
	s.moves.m[m.id] = m
	s.moves.mu.Unlock()
	s.wg.Add(1)
	go s.runMove(m, srcBase, dstBase, reqID, keys, keep)
	return jsonReply(200, pyjson.Object{{"move_id", m.id}, {"source_instance_id", src}, {"target_instance_id", dst}, {"requested", int64(chunks)}, {"status", "submitted"}})
}

func (s *Server) settle(m *move, status, errText string) {
	s.moves.mu.Lock()
	defer s.moves.mu.Unlock()
	m.status, m.errText, m.settled = status, errText, s.cfg.now()
}

func (s *Server) runMove(m *move, srcBase, dstBase, reqID string, keys []objKey, keep bool) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	deadline := time.Now().Add(s.cfg.moveTimeout)
	var loaded []objKey
	for {
		select {
		case <-ctx.Done():
			s.settle(m, "failed", "coordinator shutting down")
			return
		case <-time.After(s.cfg.movePoll):
		}
		if time.Now().After(deadline) {
			s.settle(m, "failed", "timed out waiting for the target to load")
			return
		}
		status, body, err := s.mpDo(ctx, http.MethodGet, dstBase+"/cache/prefetches/"+reqID, nil)
		if err == nil && status != 200 {
			err = statusError(status, dstBase+"/cache/prefetches/"+reqID)
		}
		if err != nil {
			s.settle(m, "failed", "prefetch status from "+pyjson.Repr(m.dst)+" failed: "+err.Error())
			return
		}
		v, _ := pyjson.Loads(body)
		o, _ := v.(*pyjson.Dict)
		if o == nil {
			s.settle(m, "failed", "the target's prefetch status is not JSON")
			return
		}
		if st, _ := o.Vals["status"].(string); st != "completed" {
			continue
		}
		found, _ := o.Vals["found_keys"].(pyjson.Int)
		total, _ := o.Vals["total_keys"].(pyjson.Int)
		miss := map[int64]bool{}
		if l, ok := o.Vals["missing_key_indices"].([]any); ok {
			for _, x := range l {
				if n, ok := x.(pyjson.Int); ok {
					miss[n.V] = true
				}
			}
		} else if found.V != total.V {
			s.settle(m, "failed", "the target did not report which keys it loaded (no missing_key_indices)")
			return
		}
		for i, k := range keys {
			if !miss[int64(i)] {
				loaded = append(loaded, k)
			}
		}
		s.moves.mu.Lock()
		m.loaded, m.missing = int64(len(loaded)), int64(len(keys)-len(loaded))
		m.phase = "delete"
		s.moves.mu.Unlock()
		break
	}
	if !keep {
		for i := 0; i < len(loaded); i += 10000 {
			batch := loaded[i:min(i+10000, len(loaded))]
			deleted, skipped, err := s.mpDelete(ctx, srcBase, batch, "l1", false)
			if err != nil {
				s.settle(m, "failed", "delete to "+pyjson.Repr(m.src)+" failed: "+err.Error())
				return
			}
			s.moves.mu.Lock()
			m.deleted += deleted
			m.skipped += skipped
			s.moves.mu.Unlock()
		}
	}
	s.settle(m, "completed", "")
}

func hMoveStatus(s *Server, rq *request) reply {
	id := rq.params["move_id"]
	s.moves.mu.Lock()
	defer s.moves.mu.Unlock()
	now := s.cfg.now()
	var settled []*move
	for k, m := range s.moves.m {
		if m.status != "pending" {
			if now.Sub(m.settled) > s.cfg.moveTTL {
				delete(s.moves.m, k)
				continue
			}
			settled = append(settled, m)
		}
	}
	if len(settled) > s.cfg.moveLimit {
		sort.Slice(settled, func(i, j int) bool { return settled[i].settled.Before(settled[j].settled) })
		for _, m := range settled[:len(settled)-s.cfg.moveLimit] {
			delete(s.moves.m, m.id)
		}
	}
	m := s.moves.m[id]
	if m == nil {
		return detail(http.StatusNotFound, "unknown move_id="+pyjson.Repr(id))
	}
	return jsonReply(200, m.json())
}
