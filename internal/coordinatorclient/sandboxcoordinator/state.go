package sandboxcoordinator

// The coordinator's soft state, as spec §7 models it: the registry, the
// ingest gate (one cursor per instance), the key directory with its
// token bindings, capacity declarations, quotas and pins. Usage is
// derived from the live placements on every read (spec §7.3), so it
// cannot drift from the directory.

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"lmc/internal/pyjson"
)

// objKey is a converted ObjectKey: the hash as parsed (lowercase hex).
type objKey struct {
	hash  string
	model string
	rank  int64
	group int64
	salt  string
}

func (k objKey) wire() pyjson.Object {
	return pyjson.Object{{"chunk_hash_hex", k.hash}, {"model_name", k.model}, {"kv_rank", k.rank}, {"object_group_id", k.group}, {"cache_salt", k.salt}}
}

func (k objKey) String() string {
	return fmt.Sprintf("%s@%08x@%s@%d@%s", k.model, uint32(k.rank), k.hash, k.group, k.salt)
}

// encodedKey is an EncodedObjectKey as validated: the fields as sent
// (hash as the client wrote it), defaults filled, plus its conversion.
type encodedKey objKey

func (e encodedKey) wire() pyjson.Object { return objKey(e).wire() }

// convert applies ObjectKey's checks (spec §3.2) with upstream's messages.
func (e encodedKey) convert() (objKey, error) {
	b, err := fromHex(e.hash)
	if err != nil {
		return objKey{}, err
	}
	if strings.Contains(e.model, "@") {
		return objKey{}, fmt.Errorf("model_name must not contain '@' (got %s)", pyjson.Repr(e.model))
	}
	if e.group < 0 {
		return objKey{}, fmt.Errorf("object_group_id must be >= 0 (got %d)", e.group)
	}
	if err := checkSalt(e.salt); err != nil {
		return objKey{}, err
	}
	return objKey{hash: hex.EncodeToString(b), model: e.model, rank: e.rank, group: e.group, salt: e.salt}, nil
}

// fromHex is Python's bytes.fromhex.
func fromHex(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/2)
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
			i++
			continue
		}
		if pyjson.HexVal(rune(c)) < 0 {
			return nil, fmt.Errorf("non-hexadecimal number found in fromhex() arg at position %d", i)
		}
		if i+1 >= len(s) || pyjson.HexVal(rune(s[i+1])) < 0 {
			return nil, fmt.Errorf("non-hexadecimal number found in fromhex() arg at position %d", i+1)
		}
		out = append(out, byte(pyjson.HexVal(rune(c))<<4|pyjson.HexVal(rune(s[i+1]))))
		i += 2
	}
	return out, nil
}

func checkSalt(s string) error {
	var bad []string
	for _, c := range []string{"@", "/", "\\", "\x00"} {
		if strings.Contains(s, c) {
			bad = append(bad, pyjson.Repr(c))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("cache_salt must not contain {%s} (got %s)", strings.Join(bad, ", "), pyjson.Repr(s))
	}
	if n := len([]rune(s)); n > 128 {
		return fmt.Errorf("cache_salt exceeds max length 128 (got %d)", n)
	}
	return nil
}

type placement struct {
	instance    string
	incarnation int64
	tier        string
	backend     string
	size        int64
	shared      bool
}

type pident struct {
	shared        bool
	tier, backend string
	instance      string // "" when shared
}

func (p placement) ident() pident {
	id := pident{shared: p.shared, tier: p.tier, backend: p.backend}
	if !p.shared {
		id.instance = p.instance
	}
	return id
}

func (p placement) wire() pyjson.Object {
	return pyjson.Object{{"instance_id", p.instance}, {"incarnation", p.incarnation}, {"tier", p.tier}, {"backend", p.backend}, {"size_bytes", p.size}, {"shared", p.shared}}
}

type record struct {
	key         objKey
	placements  []placement
	lastAccess  float64
	accessCount int64
	order       int64
}

type binding struct {
	tokens []int64
	offset int64
	keys   map[objKey]bool
}

type instance struct {
	id       string
	ip       string
	port     int64
	regTime  float64
	lastHB   time.Time
	metadata *pyjson.Dict
	p2p      string
	mq       int64
}

type cursor struct {
	incarnation int64
	lastSeq     int64
	gap         bool
}

type compKey struct {
	tier, backend string
	shared        bool
}

type declaration struct {
	revision int64
	comps    map[compKey]int64
}

type pinEntry struct {
	count int
	order int64
}

// state is guarded by Server.mu.
type state struct {
	regOrder []string
	reg      map[string]*instance

	cursors map[string]*cursor

	records map[objKey]*record
	recSeq  int64
	l1By    dict[string, map[objKey]bool]
	tokens  map[string]*binding

	decls map[string]*declaration

	quotas       map[string]int64
	defaultLimit *int64

	pins   map[objKey]*pinEntry
	pinSeq int64
}

func newState() *state {
	return &state{reg: map[string]*instance{}, cursors: map[string]*cursor{}, records: map[objKey]*record{},
		l1By: newDict[string, map[objKey]bool](), tokens: map[string]*binding{}, decls: map[string]*declaration{},
		quotas: map[string]int64{}, pins: map[objKey]*pinEntry{}}
}

// ---------------------------------------------------------------------------
// Registry

func (st *state) register(in *instance) bool {
	_, re := st.reg[in.id]
	if !re {
		st.regOrder = append(st.regOrder, in.id)
	}
	st.reg[in.id] = in
	return re
}

func (st *state) deregister(id string) {
	if _, ok := st.reg[id]; !ok {
		return
	}
	delete(st.reg, id)
	for i, x := range st.regOrder {
		if x == id {
			st.regOrder = append(st.regOrder[:i:i], st.regOrder[i+1:]...)
			break
		}
	}
}

// dropInstance is the health sweep's drop_instance: deregister, fence,
// forget the cursor.
func (st *state) dropInstance(id string) {
	st.deregister(id)
	st.fence(id)
	delete(st.cursors, id)
}

// ---------------------------------------------------------------------------
// Ingest (spec §7.1, §7.2)

type batch struct {
	instance    string
	incarnation int64
	seq         int64
	eventType   string
	tier        string
	backend     string
	entries     []entry
	shared      bool
	ts          float64
	capacity    int64
	revision    int64
}

type entry struct {
	key         objKey
	size        int64
	tokens      []int64
	tokenOffset int64
}

// offer runs one batch through the gate: "applied", "duplicate" or
// "stale".
func (st *state) offer(b *batch) string {
	c := st.cursors[b.instance]
	if c == nil {
		c = &cursor{incarnation: b.incarnation}
		st.cursors[b.instance] = c
	}
	switch {
	case b.incarnation < c.incarnation:
		return "stale"
	case b.incarnation > c.incarnation:
		// A new process: its L1 is gone, and so is its capacity
		// declaration (it declares again first thing).
		st.fence(b.instance)
		delete(st.decls, b.instance)
		c.incarnation, c.lastSeq = b.incarnation, 0
	case b.seq <= c.lastSeq:
		return "duplicate"
	}
	if b.seq > c.lastSeq+1 {
		c.gap = true
	}
	c.lastSeq = b.seq
	st.apply(b)
	return "applied"
}

func (st *state) apply(b *batch) {
	if st.l1By.m[b.instance] == nil {
		st.l1By.put(b.instance, map[objKey]bool{})
	}
	switch b.eventType {
	case "store":
		for _, e := range b.entries {
			r := st.records[e.key]
			if r == nil {
				st.recSeq++
				r = &record{key: e.key, order: st.recSeq}
				st.records[e.key] = r
			}
			bd := st.tokens[e.key.hash]
			if bd == nil {
				bd = &binding{keys: map[objKey]bool{}, offset: -1}
				st.tokens[e.key.hash] = bd
			}
			bd.keys[e.key] = true
			p := placement{instance: b.instance, incarnation: b.incarnation, tier: b.tier, backend: b.backend, size: e.size, shared: b.shared}
			replaced := false
			for i := range r.placements {
				if r.placements[i].ident() == p.ident() {
					r.placements[i], replaced = p, true
					break
				}
			}
			if !replaced {
				r.placements = append(r.placements, p)
			}
			if len(e.tokens) > 0 && fitsUint32(e.tokens) {
				bd.tokens, bd.offset = e.tokens, e.tokenOffset
			}
			r.lastAccess = max(r.lastAccess, b.ts)
			if b.tier == "l1" {
				st.l1By.m[b.instance][e.key] = true
			}
		}
	case "delete":
		for _, e := range b.entries {
			r := st.records[e.key]
			if r == nil {
				continue
			}
			id := placement{instance: b.instance, tier: b.tier, backend: b.backend, shared: b.shared}.ident()
			for i := range r.placements {
				if r.placements[i].ident() == id {
					r.placements = append(r.placements[:i:i], r.placements[i+1:]...)
					break
				}
			}
			if b.tier == "l1" {
				st.dropL1Mark(b.instance, r)
			}
			if len(r.placements) == 0 {
				st.dropRecord(r)
			}
		}
	case "access":
		for _, e := range b.entries {
			if r := st.records[e.key]; r != nil {
				r.lastAccess = max(r.lastAccess, b.ts)
				r.accessCount++
			}
		}
	case "config":
		d := st.decls[b.instance]
		if d == nil || b.revision > d.revision {
			d = &declaration{revision: b.revision, comps: map[compKey]int64{}}
			st.decls[b.instance] = d
		}
		if b.revision == d.revision {
			d.comps[compKey{b.tier, b.backend, b.shared}] = b.capacity
		}
	}
}

func fitsUint32(ts []int64) bool {
	for _, t := range ts {
		if t < 0 || t > 1<<32-1 {
			return false
		}
	}
	return true
}

// dropL1Mark forgets that inst reported key in L1 once it has no L1
// placement of inst left.
func (st *state) dropL1Mark(inst string, r *record) {
	for _, p := range r.placements {
		if p.tier == "l1" && p.instance == inst {
			return
		}
	}
	if m := st.l1By.m[inst]; m != nil {
		delete(m, r.key)
	}
}

func (st *state) dropRecord(r *record) {
	delete(st.records, r.key)
	if bd := st.tokens[r.key.hash]; bd != nil {
		delete(bd.keys, r.key)
		if len(bd.keys) == 0 {
			delete(st.tokens, r.key.hash)
		}
	}
}

// fence drops every L1 placement inst reported (L2 stays).
func (st *state) fence(inst string) {
	for _, r := range st.records {
		kept := r.placements[:0]
		for _, p := range r.placements {
			if !(p.tier == "l1" && p.instance == inst) {
				kept = append(kept, p)
			}
		}
		r.placements = kept
		if len(kept) == 0 {
			st.dropRecord(r)
		}
	}
	st.l1By.del(inst)
}

// ---------------------------------------------------------------------------
// Reads

// ordered records (directory insertion order).
func (st *state) recordList() []*record {
	out := make([]*record, 0, len(st.records))
	for _, r := range st.records {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

// sortedPlacements is lookup's order: (instance_id, tier, backend).
func sortedPlacements(ps []placement) []placement {
	out := append([]placement(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.instance != b.instance {
			return a.instance < b.instance
		}
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		return a.backend < b.backend
	})
	return out
}

func (st *state) tokenIDs(hash string) []int64 {
	if bd := st.tokens[hash]; bd != nil && bd.tokens != nil {
		return bd.tokens
	}
	return []int64{}
}

type module struct {
	tier, backend string
	shared        bool
	used, cap     int64
}

// usage derives fleet memory from live placements and declarations.
func (st *state) usage() (insts map[string]map[compKey]*module, shared map[compKey]*module) {
	insts = map[string]map[compKey]*module{}
	shared = map[compKey]*module{}
	get := func(m map[compKey]*module, k compKey) *module {
		if m[k] == nil {
			m[k] = &module{tier: k.tier, backend: k.backend, shared: k.shared}
		}
		return m[k]
	}
	for _, r := range st.records {
		for _, p := range r.placements {
			k := compKey{p.tier, p.backend, p.shared}
			if p.shared {
				get(shared, k).used += p.size
				continue
			}
			if insts[p.instance] == nil {
				insts[p.instance] = map[compKey]*module{}
			}
			get(insts[p.instance], k).used += p.size
		}
	}
	sharedCaps := map[compKey][]int64{}
	for id, d := range st.decls {
		if insts[id] == nil {
			insts[id] = map[compKey]*module{}
		}
		for k, c := range d.comps {
			if k.shared {
				sharedCaps[k] = append(sharedCaps[k], c)
				get(shared, k)
				continue
			}
			get(insts[id], k).cap = c
		}
	}
	for k, caps := range sharedCaps {
		agree := true
		for _, c := range caps {
			agree = agree && c == caps[0]
		}
		if agree {
			shared[k].cap = caps[0]
		}
	}
	for id := range st.reg {
		if insts[id] == nil {
			insts[id] = map[compKey]*module{}
		}
	}
	return insts, shared
}

func sortedModules(m map[compKey]*module) []*module {
	out := make([]*module, 0, len(m))
	for _, x := range m {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].tier != out[j].tier {
			return out[i].tier < out[j].tier
		}
		return out[i].backend < out[j].backend
	})
	return out
}

// saltUsage sums the live bytes per salt on a tier (shared counted once).
func (st *state) saltUsage(tier string) map[string]int64 {
	out := map[string]int64{}
	for _, r := range st.records {
		for _, p := range r.placements {
			if p.tier == tier {
				out[r.key.salt] += p.size
			}
		}
	}
	return out
}
