package sandboxmaster

import (
	"context"
	"fmt"

	mc "lmc/internal/mooncake"
)

// bulkStep is how many keys PopulateBulk inserts per hold of the lock, so
// pings and requests keep being served while millions of keys go in.
const bulkStep = 65536

// PopulateBulk stores n keys, key(0) … key(n-1), straight into the
// metadata, for benchmarks of whole-store walks (lmc store summary of ten
// million keys): each key gets one COMPLETE memory replica of
// PopulateObjectSize bytes on the nodes in turn, allocated at the end of
// its segment, as if a storage node had put it. The nodes are mounted as by
// Populate (give them a Size large enough). It is what Populate does
// without the two RPCs per key; keys that exist are left alone. It returns
// how many keys were stored.
func (s *Server) PopulateBulk(ctx context.Context, n int, key func(i int) string, nodes ...Node) (int, error) {
	if len(nodes) == 0 {
		nodes = []Node{DefaultNode}
	}
	if err := s.Populate(ctx, nil, nodes...); err != nil {
		return 0, err
	}
	stored := 0
	for start := 0; start < n; start += bulkStep {
		if err := ctx.Err(); err != nil {
			return stored, err
		}
		m, err := s.bulkStep(start, min(start+bulkStep, n), key, nodes)
		stored += m
		if err != nil {
			return stored, err
		}
	}
	return stored, nil
}

func (s *Server) bulkStep(from, to int, key func(i int) string, nodes []Node) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	segs := make([]*segment, len(nodes))
	for i, n := range nodes {
		if segs[i] = st.segmentByName(n.Name); segs[i] == nil {
			return 0, fmt.Errorf("sandboxmaster: node %s is not mounted", n.Name)
		}
	}
	now := st.now()
	stored := 0
	for i := from; i < to; i++ {
		k := key(i)
		if k == "" || st.objects[k] != nil {
			continue
		}
		sg := segs[i%len(segs)]
		var off uint64
		if l := len(sg.allocs); l > 0 {
			off = sg.allocs[l-1].off + sg.allocs[l-1].size
		}
		if off+PopulateObjectSize > sg.seg.Size {
			return stored, fmt.Errorf("sandboxmaster: segment %s is full after %d keys (give the node a larger Size)", sg.seg.Name, stored)
		}
		sg.allocs = append(sg.allocs, alloc{off, PopulateObjectSize})
		sg.used += PopulateObjectSize
		r := &replica{id: st.nextRepID, seg: sg.seg.ID, off: off, size: PopulateObjectSize, status: mc.ReplicaComplete}
		st.nextRepID++
		st.objects[k] = &object{key: k, size: PopulateObjectSize, owner: sg.owner, putStart: now, replicas: []*replica{r}}
		stored++
	}
	return stored, nil
}
