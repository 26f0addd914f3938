package sandboxmaster

import (
	"slices"
	"sort"
	"strings"
	"time"

	mc "lmc/internal/mooncake"
)

// The in-memory metadata of the fake master. It models the parts of
// master_service.cpp that a metadata-only client can observe (spec §5, §9,
// §6.6): segments and their offset allocators, clients with a liveness TTL,
// objects with replicas in PROCESSING/COMPLETE state, and read leases.
// No KV bytes are stored anywhere.

type clientState struct {
	lastSeen time.Time
	alive    bool // in the "ok" set: Ping answers OK rather than NEED_REMOUNT
}

type alloc struct{ off, size uint64 }

type segment struct {
	seg    mc.Segment
	owner  mc.UUID
	status mc.SegmentStatus // OK once mounted; see SetSegmentStatus
	allocs []alloc          // sorted by off
	used   uint64
	// frees counts allocations freed: with none, there is no gap before
	// the end and allocate appends without scanning (populating an
	// engine's every rank at page size 1 stores hundreds of thousands).
	frees int
}

// allocate finds the first gap of size bytes.
func (s *segment) allocate(size uint64) (uint64, bool) {
	var cur uint64
	if s.frees == 0 && len(s.allocs) > 0 {
		last := s.allocs[len(s.allocs)-1]
		cur = last.off + last.size
		if cur <= s.seg.Size && s.seg.Size-cur >= size {
			s.allocs = append(s.allocs, alloc{cur, size})
			s.used += size
			return cur, true
		}
		return 0, false
	}
	for i, a := range s.allocs {
		if a.off-cur >= size {
			s.allocs = slices.Insert(s.allocs, i, alloc{cur, size})
			s.used += size
			return cur, true
		}
		cur = a.off + a.size
	}
	if cur <= s.seg.Size && s.seg.Size-cur >= size {
		s.allocs = append(s.allocs, alloc{cur, size})
		s.used += size
		return cur, true
	}
	return 0, false
}

func (s *segment) free(off uint64) {
	for i, a := range s.allocs {
		if a.off == off {
			s.used -= a.size
			s.frees++
			s.allocs = slices.Delete(s.allocs, i, i+1)
			return
		}
	}
}

type replica struct {
	id     uint64
	seg    mc.UUID
	off    uint64
	size   uint64
	status mc.ReplicaStatus
	disk   bool   // a DISK replica (WithStorageRoot)
	path   string // its file
}

type object struct {
	key        string
	size       uint64
	owner      mc.UUID
	putStart   time.Time
	leaseUntil time.Time
	checksum   *uint64
	replicas   []*replica
	repl       *replication // an open CopyStart/MoveStart (ops.go)
}

func (o *object) readable() bool {
	for _, r := range o.replicas {
		if r.status == mc.ReplicaComplete {
			return true
		}
	}
	return false
}

func (o *object) complete() bool {
	if len(o.replicas) == 0 {
		return false
	}
	for _, r := range o.replicas {
		if r.status != mc.ReplicaComplete {
			return false
		}
	}
	return true
}

type store struct {
	cfg       *config
	clients   map[mc.UUID]*clientState
	segments  map[mc.UUID]*segment
	objects   map[string]*object
	nextRepID uint64
	ops       opsState // tasks, replications, released space (tasks.go)
}

func newStore(cfg *config) *store {
	return &store{cfg: cfg, clients: map[mc.UUID]*clientState{}, segments: map[mc.UUID]*segment{},
		objects: map[string]*object{}, nextRepID: 1}
}

func (st *store) now() time.Time { return st.cfg.now() }

// sweep expires clients whose TTL ran out: their segments are unmounted and
// the replicas on them disappear (spec §9 step 4).
func (st *store) sweep() {
	now := st.now()
	for id, c := range st.clients {
		if now.Sub(c.lastSeen) > st.cfg.clientTTL {
			delete(st.clients, id)
			for sid, s := range st.segments {
				if s.owner == id {
					st.unmount(sid)
				}
			}
		}
	}
	st.sweepOps()
}

func (st *store) touch(id mc.UUID) *clientState {
	c := st.clients[id]
	if c == nil {
		c = &clientState{}
		st.clients[id] = c
	}
	c.lastSeen = st.now()
	return c
}

func (st *store) unmount(sid mc.UUID) {
	if _, ok := st.segments[sid]; !ok {
		return
	}
	delete(st.segments, sid)
	for k, o := range st.objects {
		o.replicas = slices.DeleteFunc(o.replicas, func(r *replica) bool { return r.seg == sid })
		if len(o.replicas) == 0 {
			delete(st.objects, k)
		}
	}
}

func (st *store) evictMemory(keys []string) int {
	n := 0
	for _, k := range keys {
		o := st.objects[k]
		if o == nil {
			continue
		}
		o.replicas = slices.DeleteFunc(o.replicas, func(r *replica) bool {
			if r.disk || o.repl != nil && o.repl.source == r { // a copy/move source is pinned
				return false
			}
			if s := st.segments[r.seg]; s != nil {
				s.free(r.off)
			}
			n++
			return true
		})
		if len(o.replicas) == 0 {
			delete(st.objects, k)
		}
	}
	return n
}

func (st *store) freeObject(o *object) {
	for _, r := range o.replicas {
		if s := st.segments[r.seg]; s != nil {
			s.free(r.off)
		}
	}
	delete(st.objects, o.key)
}

func (st *store) grantLease(o *object) {
	until := st.now().Add(st.cfg.leaseTTL)
	if until.After(o.leaseUntil) {
		o.leaseUntil = until
	}
}

// ---- operations, named after the RPCs ----

func (st *store) ping(id mc.UUID) mc.PingResponse {
	c := st.touch(id)
	status := mc.ClientNeedRemount
	if c.alive {
		status = mc.ClientOK
	}
	return mc.PingResponse{ViewVersion: 0, ClientStatus: status}
}

func (st *store) mountSegment(seg mc.Segment, id mc.UUID) mc.ErrorCode {
	if seg.Base == 0 || seg.Size == 0 {
		return mc.CodeInvalidParams
	}
	st.touch(id)
	if s, ok := st.segments[seg.ID]; ok {
		if s.status != mc.SegmentOK {
			return mc.CodeUnavailableInCurrentStatus // e.g. DRAINED, which is final
		}
		return mc.CodeOK // idempotent
	}
	st.segments[seg.ID] = &segment{seg: seg, owner: id, status: mc.SegmentOK}
	return mc.CodeOK
}

func (st *store) reMountSegment(segs []mc.Segment, id mc.UUID) mc.ErrorCode {
	for _, s := range segs {
		if s.Base == 0 || s.Size == 0 {
			return mc.CodeInvalidParams
		}
	}
	for _, s := range segs {
		if code := st.mountSegment(s, id); code != mc.CodeOK {
			return code
		}
	}
	st.touch(id).alive = true
	return mc.CodeOK
}

func (st *store) unmountSegment(sid, id mc.UUID) mc.ErrorCode {
	st.unmount(sid)
	return mc.CodeOK
}

func (st *store) exist(key string) bool {
	o := st.objects[key]
	if o == nil || !o.readable() {
		return false
	}
	st.grantLease(o)
	return true
}

func (st *store) replicaList(key string, lease bool) (mc.ReplicaList, mc.ErrorCode) {
	o := st.objects[key]
	if o == nil {
		return mc.ReplicaList{}, mc.CodeObjectNotFound
	}
	if !o.readable() {
		return mc.ReplicaList{}, mc.CodeReplicaIsNotReady
	}
	if lease {
		st.grantLease(o)
	}
	rl := mc.ReplicaList{LeaseTTLMillis: uint64(st.cfg.leaseTTL / time.Millisecond), ObjectChecksum: o.checksum}
	for _, r := range o.replicas {
		if r.status == mc.ReplicaComplete {
			rl.Replicas = append(rl.Replicas, st.describe(r))
		}
	}
	return rl, mc.CodeOK
}

func (st *store) describe(r *replica) mc.Replica {
	if r.disk {
		return mc.Replica{ID: r.id, Status: r.status, Kind: mc.KindDisk, Disk: mc.DiskDescriptor{FilePath: r.path, ObjectSize: r.size}}
	}
	d := mc.Replica{ID: r.id, Status: r.status, Kind: mc.KindMemory}
	d.Buffer = mc.BufferDescriptor{Size: r.size, Protocol: "tcp"}
	if s := st.segments[r.seg]; s != nil {
		d.Buffer.BufferAddress = s.seg.Base + r.off
		d.Buffer.TransportEndpoint = s.seg.TEEndpoint
	}
	return d
}

func (st *store) putStart(id mc.UUID, key string, size uint64, cfg mc.ReplicateConfig) ([]mc.Replica, mc.ErrorCode) {
	if key == "" || size == 0 || cfg.ReplicaNum+cfg.NoFReplicaNum+cfg.DFSReplicaNum == 0 {
		return nil, mc.CodeInvalidParams
	}
	if cfg.NoFReplicaNum > 0 || cfg.DFSReplicaNum > 0 {
		// NoF needs the NoF build; the fake has no file storage either.
		return nil, mc.CodeInvalidParams
	}
	now := st.now()
	if o := st.objects[key]; o != nil {
		if o.readable() || now.Sub(o.putStart) < st.cfg.putStartDiscard {
			return nil, mc.CodeObjectAlreadyExists
		}
		st.freeObject(o) // a stale, never finished put
	}
	// Candidate segments: preferred names first, then the rest by name.
	var cands []*segment
	for _, s := range st.segments {
		if s.status.Allocatable() { // a draining segment takes no new replicas
			cands = append(cands, s)
		}
	}
	pref := map[string]int{}
	for i, n := range cfg.PreferredSegments {
		pref[n] = i + 1
	}
	if cfg.PreferredSegment != "" {
		pref[cfg.PreferredSegment] = -1
	}
	sort.Slice(cands, func(i, j int) bool {
		pi, pj := pref[cands[i].seg.Name], pref[cands[j].seg.Name]
		if (pi != 0) != (pj != 0) {
			return pi != 0
		}
		if pi != pj {
			return pi < pj
		}
		return cands[i].seg.Name < cands[j].seg.Name || cands[i].seg.Name == cands[j].seg.Name && cands[i].seg.ID.First < cands[j].seg.ID.First
	})
	o := &object{key: key, size: size, owner: id, putStart: now}
	for _, s := range cands {
		if uint64(len(o.replicas)) == cfg.ReplicaNum {
			break
		}
		off, ok := s.allocate(size)
		if !ok {
			continue
		}
		o.replicas = append(o.replicas, &replica{id: st.nextRepID, seg: s.seg.ID, off: off, size: size, status: mc.ReplicaProcessing})
		st.nextRepID++
	}
	if len(o.replicas) == 0 {
		return nil, mc.CodeNoAvailableHandle
	}
	if root := st.cfg.storageRoot; root != "" {
		o.replicas = append(o.replicas, &replica{id: st.nextRepID, size: size, status: mc.ReplicaProcessing,
			disk: true, path: strings.TrimRight(root, "/") + "/" + strings.ReplaceAll(key, "/", "_")})
		st.nextRepID++
	}
	st.objects[key] = o
	out := make([]mc.Replica, len(o.replicas))
	for i, r := range o.replicas {
		out[i] = st.describe(r)
	}
	return out, mc.CodeOK
}

func (st *store) putEnd(id mc.UUID, meta mc.ObjectMeta, rt mc.ReplicaType) mc.ErrorCode {
	o := st.objects[meta.Key]
	if o == nil {
		return mc.CodeObjectNotFound
	}
	if o.owner != id {
		return mc.CodeIllegalClient
	}
	if o.complete() {
		return mc.CodeOK
	}
	if rt != mc.ReplicaTypeAll && rt != mc.ReplicaTypeMemory && rt != mc.ReplicaTypeDisk {
		return mc.CodeInvalidWrite
	}
	n := 0
	for _, r := range o.replicas {
		match := rt == mc.ReplicaTypeAll || (rt == mc.ReplicaTypeDisk) == r.disk
		if r.status == mc.ReplicaProcessing && match {
			r.status = mc.ReplicaComplete
			n++
		}
	}
	if n == 0 {
		return mc.CodeInvalidWrite
	}
	o.checksum = meta.ObjectChecksum
	return mc.CodeOK
}

func (st *store) putRevoke(id mc.UUID, key string, rt mc.ReplicaType) mc.ErrorCode {
	o := st.objects[key]
	if o == nil {
		return mc.CodeObjectNotFound
	}
	if o.owner != id {
		return mc.CodeIllegalClient
	}
	var keep []*replica
	n := 0
	for _, r := range o.replicas {
		if r.status == mc.ReplicaProcessing {
			if s := st.segments[r.seg]; s != nil {
				s.free(r.off)
			}
			n++
			continue
		}
		keep = append(keep, r)
	}
	if n == 0 {
		return mc.CodeInvalidWrite
	}
	o.replicas = keep
	if len(keep) == 0 {
		delete(st.objects, key)
	}
	return mc.CodeOK
}

func (st *store) remove(key string, force bool) mc.ErrorCode {
	o := st.objects[key]
	if o == nil {
		return mc.CodeObjectNotFound
	}
	if !force && st.now().Before(o.leaseUntil) {
		return mc.CodeObjectHasLease
	}
	if !o.complete() {
		return mc.CodeReplicaIsNotReady
	}
	if o.repl != nil {
		return mc.CodeObjectHasReplicationTask
	}
	st.freeObject(o)
	return mc.CodeOK
}

func (st *store) removeAll(force bool) int64 {
	var n int64
	now := st.now()
	for _, o := range st.objects {
		if !o.complete() || o.repl != nil || (!force && now.Before(o.leaseUntil)) {
			continue
		}
		st.freeObject(o)
		n++
	}
	return n
}

// readableKeys returns the keys with a readable replica, sorted.
func (st *store) readableKeys() []string {
	var keys []string
	for k, o := range st.objects {
		if o.readable() {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
