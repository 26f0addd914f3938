package mooncake

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
)

// UUID is Mooncake's UUID, a std::pair<uint64_t, uint64_t>.
type UUID struct {
	First, Second uint64
}

// String formats the UUID the way Mooncake logs it: "first-second".
func (u UUID) String() string {
	return strconv.FormatUint(u.First, 10) + "-" + strconv.FormatUint(u.Second, 10)
}

// IsZero reports whether both halves are zero.
func (u UUID) IsZero() bool { return u.First == 0 && u.Second == 0 }

// NewUUID returns a random non-zero UUID.
func NewUUID() UUID {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:])
		u := UUID{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
		if !u.IsZero() {
			return u
		}
	}
}

// ReplicaStatus is Mooncake's ReplicaStatus (int enum).
type ReplicaStatus int32

// Replica states.
const (
	ReplicaUndefined   ReplicaStatus = 0
	ReplicaInitialized ReplicaStatus = 1
	ReplicaProcessing  ReplicaStatus = 2
	ReplicaComplete    ReplicaStatus = 3
	ReplicaRemoved     ReplicaStatus = 4
	ReplicaFailed      ReplicaStatus = 5
)

func (s ReplicaStatus) String() string {
	return enumName(int64(s), "ReplicaStatus", "UNDEFINED", "INITIALIZED", "PROCESSING", "COMPLETE", "REMOVED", "FAILED")
}

// ReplicaType is Mooncake's ReplicaType (int enum), used by PutEnd.
type ReplicaType int32

// Replica types.
const (
	ReplicaTypeMemory    ReplicaType = 0
	ReplicaTypeDisk      ReplicaType = 1
	ReplicaTypeLocalDisk ReplicaType = 2
	ReplicaTypeNoFSSD    ReplicaType = 3
	ReplicaTypeAll       ReplicaType = 4
	ReplicaTypeDFS       ReplicaType = 100
)

func (t ReplicaType) String() string {
	if t == ReplicaTypeDFS {
		return "DFS"
	}
	return enumName(int64(t), "ReplicaType", "MEMORY", "DISK", "LOCAL_DISK", "NOF_SSD", "ALL")
}

// ClientStatus is the master's view of a client, returned by Ping.
type ClientStatus int32

// Client states.
const (
	ClientUndefined   ClientStatus = 0
	ClientOK          ClientStatus = 1
	ClientNeedRemount ClientStatus = 2
)

func (s ClientStatus) String() string {
	return enumName(int64(s), "ClientStatus", "UNDEFINED", "OK", "NEED_REMOUNT")
}

func enumName(v int64, typ string, names ...string) string {
	if v >= 0 && v < int64(len(names)) {
		return names[v]
	}
	return typ + "(" + strconv.FormatInt(v, 10) + ")"
}

// BufferDescriptor is AllocatedBuffer::Descriptor: where a memory (or NoF)
// replica lives. Protocol is always "tcp" for memory replicas and is not the
// transport; TransportEndpoint is the owning segment's te_endpoint.
type BufferDescriptor struct {
	Size              uint64 `json:"size_"`
	BufferAddress     uint64 `json:"buffer_address_"`
	Protocol          string `json:"protocol_"`
	TransportEndpoint string `json:"transport_endpoint_"`
}

// DiskDescriptor locates a replica in the shared storage backend.
type DiskDescriptor struct {
	FilePath   string `json:"file_path"`
	ObjectSize uint64 `json:"object_size"`
}

// LocalDiskDescriptor locates a replica on a client's local disk.
type LocalDiskDescriptor struct {
	ClientID          UUID   `json:"-"`
	ObjectSize        uint64 `json:"object_size"`
	TransportEndpoint string `json:"transport_endpoint"`
}

// DFSDescriptor locates a replica in a distributed file system.
type DFSDescriptor struct {
	FilePath    string
	Offset      uint64
	ObjectSize  uint64
	AlignedSize uint64
	ShardIdx    int32
}

// ReplicaKind says which alternative of Replica::Descriptor's variant a
// replica carries, independent of the variant index of a given schema.
type ReplicaKind uint8

// Replica kinds.
const (
	KindMemory ReplicaKind = iota
	KindNoF
	KindDisk
	KindLocalDisk
	KindDFS
)

func (k ReplicaKind) String() string {
	return enumName(int64(k), "ReplicaKind", "memory", "nof", "disk", "local_disk", "dfs")
}

// Replica is one Replica::Descriptor. Exactly one of the descriptor fields
// is meaningful, selected by Kind: Buffer for KindMemory and KindNoF, Disk,
// LocalDisk or DFS otherwise.
type Replica struct {
	ID        uint64
	Status    ReplicaStatus
	Kind      ReplicaKind
	Buffer    BufferDescriptor
	Disk      DiskDescriptor
	LocalDisk LocalDiskDescriptor
	DFS       DFSDescriptor
}

// Endpoint returns the node a replica can be fetched from: the transfer
// engine endpoint for memory, NoF and local-disk replicas, "" otherwise.
func (r Replica) Endpoint() string {
	switch r.Kind {
	case KindMemory, KindNoF:
		return r.Buffer.TransportEndpoint
	case KindLocalDisk:
		return r.LocalDisk.TransportEndpoint
	}
	return ""
}

// Size returns the object size the replica holds.
func (r Replica) Size() uint64 {
	switch r.Kind {
	case KindMemory, KindNoF:
		return r.Buffer.Size
	case KindDisk:
		return r.Disk.ObjectSize
	case KindLocalDisk:
		return r.LocalDisk.ObjectSize
	}
	return r.DFS.ObjectSize
}

// ReplicaList is GetReplicaListResponse: the readable replicas of one key.
type ReplicaList struct {
	Replicas       []Replica
	LeaseTTLMillis uint64
	// ObjectChecksum is nil when absent (and always nil for masters older
	// than the HEAD layout, which do not send it).
	ObjectChecksum *uint64
	// Layout is the schema the master answered with.
	Layout Layout
}

// Layout identifies the wire layout of Replica::Descriptor and
// GetReplicaListResponse, which changed while the version string stayed
// "2.0.0" (spec §10).
type Layout uint8

// Known layouts.
const (
	// LayoutHEAD: variant<Memory, NoF, Disk, LocalDisk, DFS>, and the
	// response carries object_checksum.
	LayoutHEAD Layout = iota
	// LayoutV0311: v0.3.11 and v0.3.12: variant<Memory, NoF, Disk, LocalDisk>,
	// no checksum.
	LayoutV0311
	// LayoutV0310: v0.3.10: variant<Memory, Disk, LocalDisk>, no checksum.
	LayoutV0310
)

func (l Layout) String() string {
	return enumName(int64(l), "Layout", "HEAD", "v0.3.11", "v0.3.10")
}

var layoutKinds = [...][]ReplicaKind{
	LayoutHEAD:  {KindMemory, KindNoF, KindDisk, KindLocalDisk, KindDFS},
	LayoutV0311: {KindMemory, KindNoF, KindDisk, KindLocalDisk},
	LayoutV0310: {KindMemory, KindDisk, KindLocalDisk},
}

// Segment is a mounted memory segment.
type Segment struct {
	ID         UUID
	Name       string
	Base       uint64
	Size       uint64
	TEEndpoint string
	Protocol   string
	HostID     string
}

// ReplicateConfig is the placement request of PutStart (HEAD: 13 fields).
type ReplicateConfig struct {
	ReplicaNum            uint64
	NoFReplicaNum         uint64
	DFSReplicaNum         uint64
	SoftPinAction         uint8
	SoftPinTTLMillis      *uint64
	WithHardPin           bool
	PreferredSegments     []string
	PreferredSegment      string
	PreferredNoFSegments  []string
	PreferAllocInSameNode bool
	DataType              uint8
	HostID                string
	GroupIDs              *[]string
}

// ObjectMeta is PutEnd's object description.
type ObjectMeta struct {
	Key            string
	ObjectChecksum *uint64
}

// PingResponse is the result of Ping.
type PingResponse struct {
	ViewVersion  int64
	ClientStatus ClientStatus
}

// ---- literals of the Mooncake wire types (spec §3.4) ----

// LitUUID, LitBufferDesc, LitSegment and the other wire-type literals are
// static data in literals_gen.go (their recipes: literals_gen_test.go).

// layoutAlt is the literal of a replica kind's descriptor.
func layoutAlt(k ReplicaKind) Literal {
	switch k {
	case KindMemory:
		return LitMemoryDesc
	case KindNoF:
		return LitNoFDesc
	case KindDisk:
		return LitDiskDesc
	case KindLocalDisk:
		return LitLocalDisk
	case KindDFS:
		return LitDFSDesc
	}
	return nil
}

// ReplicaDescLiteral returns the literal of Replica::Descriptor in a layout.
func ReplicaDescLiteral(l Layout) Literal {
	kinds := layoutKinds[l]
	alts := make([]Literal, len(kinds))
	for i, k := range kinds {
		alts[i] = layoutAlt(k)
	}
	return Struct(LitU64, Variant(alts...), litEnum)
}

// ReplicaListLiteral returns the literal of GetReplicaListResponse.
func ReplicaListLiteral(l Layout) Literal {
	if l == LayoutHEAD {
		return Struct(Vec(ReplicaDescLiteral(l)), LitU64, Opt(LitU64))
	}
	return Struct(Vec(ReplicaDescLiteral(l)), LitU64)
}

// ---- encoding and decoding of the wire types ----

// UUID writes a UUID (16 raw bytes).
func (e *Encoder) UUID(u UUID) { e.U64(u.First); e.U64(u.Second) }

// UUID reads a UUID.
func (d *Decoder) UUID() UUID { return UUID{d.U64(), d.U64()} }

// OptU64 writes std::optional<uint64_t>.
func (e *Encoder) OptU64(v *uint64) {
	e.Bool(v != nil)
	if v != nil {
		e.U64(*v)
	}
}

// OptU64 reads std::optional<uint64_t>.
func (d *Decoder) OptU64() *uint64 {
	if !d.Option() {
		return nil
	}
	v := d.U64()
	if d.err != nil {
		return nil
	}
	return &v
}

// Segment writes a HEAD Segment.
func (e *Encoder) Segment(s Segment) {
	e.UUID(s.ID)
	e.Str(s.Name)
	e.U64(s.Base)
	e.U64(s.Size)
	e.Str(s.TEEndpoint)
	e.Str(s.Protocol)
	e.Str(s.HostID)
}

// Segment reads a HEAD Segment.
func (d *Decoder) Segment() Segment {
	return Segment{ID: d.UUID(), Name: d.Str(), Base: d.U64(), Size: d.U64(),
		TEEndpoint: d.Str(), Protocol: d.Str(), HostID: d.Str()}
}

// ReplicateConfig writes a HEAD ReplicateConfig.
func (e *Encoder) ReplicateConfig(c ReplicateConfig) {
	e.U64(c.ReplicaNum)
	e.U64(c.NoFReplicaNum)
	e.U64(c.DFSReplicaNum)
	e.U8(c.SoftPinAction)
	e.OptU64(c.SoftPinTTLMillis)
	e.Bool(c.WithHardPin)
	e.Strings(c.PreferredSegments)
	e.Str(c.PreferredSegment)
	e.Strings(c.PreferredNoFSegments)
	e.Bool(c.PreferAllocInSameNode)
	e.U8(c.DataType)
	e.Str(c.HostID)
	e.Bool(c.GroupIDs != nil)
	if c.GroupIDs != nil {
		e.Strings(*c.GroupIDs)
	}
}

// ReplicateConfig reads a HEAD ReplicateConfig.
func (d *Decoder) ReplicateConfig() ReplicateConfig {
	c := ReplicateConfig{ReplicaNum: d.U64(), NoFReplicaNum: d.U64(), DFSReplicaNum: d.U64(),
		SoftPinAction: d.U8(), SoftPinTTLMillis: d.OptU64(), WithHardPin: d.Bool(),
		PreferredSegments: d.Strings(), PreferredSegment: d.Str(), PreferredNoFSegments: d.Strings(),
		PreferAllocInSameNode: d.Bool(), DataType: d.U8(), HostID: d.Str()}
	if d.Option() {
		g := d.Strings()
		if d.err == nil {
			c.GroupIDs = &g
		}
	}
	return c
}

// ObjectMeta writes an ObjectMeta.
func (e *Encoder) ObjectMeta(m ObjectMeta) { e.Str(m.Key); e.OptU64(m.ObjectChecksum) }

// ObjectMeta reads an ObjectMeta.
func (d *Decoder) ObjectMeta() ObjectMeta {
	return ObjectMeta{Key: d.Str(), ObjectChecksum: d.OptU64()}
}

// PingResponse writes a PingResponse.
func (e *Encoder) PingResponse(p PingResponse) { e.I64(p.ViewVersion); e.I32(int32(p.ClientStatus)) }

// PingResponse reads a PingResponse.
func (d *Decoder) PingResponse() PingResponse {
	return PingResponse{ViewVersion: d.I64(), ClientStatus: ClientStatus(d.I32())}
}

// BufferDescriptor writes an AllocatedBuffer::Descriptor.
func (e *Encoder) BufferDescriptor(b BufferDescriptor) {
	e.U64(b.Size)
	e.U64(b.BufferAddress)
	e.Str(b.Protocol)
	e.Str(b.TransportEndpoint)
}

// BufferDescriptor reads an AllocatedBuffer::Descriptor.
func (d *Decoder) BufferDescriptor() BufferDescriptor {
	return BufferDescriptor{Size: d.U64(), BufferAddress: d.U64(), Protocol: d.Str(), TransportEndpoint: d.Str()}
}

// minReplicaBytes is a lower bound of an encoded Replica::Descriptor
// (id, variant index, the smallest alternative, status).
const minReplicaBytes = 8 + 1 + 9 + 4

// Replica writes a Replica::Descriptor in layout l. A kind that does not
// exist in l is written as its nearest equivalent: it must not happen for
// replicas produced by a master of that layout.
func (e *Encoder) Replica(r Replica, l Layout) {
	e.U64(r.ID)
	idx := 0
	for i, k := range layoutKinds[l] {
		if k == r.Kind {
			idx = i
		}
	}
	e.U8(uint8(idx))
	switch layoutKinds[l][idx] {
	case KindMemory, KindNoF:
		e.BufferDescriptor(r.Buffer)
	case KindDisk:
		e.Str(r.Disk.FilePath)
		e.U64(r.Disk.ObjectSize)
	case KindLocalDisk:
		e.UUID(r.LocalDisk.ClientID)
		e.U64(r.LocalDisk.ObjectSize)
		e.Str(r.LocalDisk.TransportEndpoint)
	case KindDFS:
		e.Str(r.DFS.FilePath)
		e.U64(r.DFS.Offset)
		e.U64(r.DFS.ObjectSize)
		e.U64(r.DFS.AlignedSize)
		e.I32(r.DFS.ShardIdx)
	}
	e.I32(int32(r.Status))
}

// Replica reads a Replica::Descriptor in layout l.
func (d *Decoder) Replica(l Layout) Replica {
	var r Replica
	r.ID = d.U64()
	at := d.off
	idx := d.U8()
	kinds := layoutKinds[l]
	if d.err != nil {
		return r
	}
	if int(idx) >= len(kinds) {
		d.errAt(at, fmt.Sprintf("variant index %d out of range (%d alternatives)", idx, len(kinds)), nil)
		return r
	}
	r.Kind = kinds[idx]
	switch r.Kind {
	case KindMemory, KindNoF:
		r.Buffer = d.BufferDescriptor()
	case KindDisk:
		r.Disk = DiskDescriptor{FilePath: d.Str(), ObjectSize: d.U64()}
	case KindLocalDisk:
		r.LocalDisk = LocalDiskDescriptor{ClientID: d.UUID(), ObjectSize: d.U64(), TransportEndpoint: d.Str()}
	case KindDFS:
		r.DFS = DFSDescriptor{FilePath: d.Str(), Offset: d.U64(), ObjectSize: d.U64(), AlignedSize: d.U64(), ShardIdx: d.I32()}
	}
	r.Status = ReplicaStatus(d.I32())
	return r
}

// Replicas writes std::vector<Replica::Descriptor>.
func (e *Encoder) Replicas(rs []Replica, l Layout) {
	e.Len(len(rs))
	for _, r := range rs {
		e.Replica(r, l)
	}
}

// Replicas reads std::vector<Replica::Descriptor>. A list longer than
// MaxReplicasPerKey is a *ProtocolError (ErrContradiction): no master
// places that many replicas of one object, and the bound keeps the decoded
// size of a reply proportional to its keys.
func (d *Decoder) Replicas(l Layout) []Replica {
	at := d.off
	n := d.Len(minReplicaBytes)
	if d.err != nil {
		return nil
	}
	if n > MaxReplicasPerKey {
		d.contradiction(at, fmt.Sprintf("%d replicas for one object, more than the %d a master places", n, MaxReplicasPerKey))
		return nil
	}
	if d.budgeted {
		if n > d.replicasLeft {
			d.contradiction(at, fmt.Sprintf("more replicas than the %d a key can average over this batch", replicasPerKeyAvg))
			return nil
		}
		d.replicasLeft -= n
	}
	out := make([]Replica, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.Replica(l))
	}
	if d.err != nil {
		return nil
	}
	return out
}

// ReplicaList writes a GetReplicaListResponse in layout l.
func (e *Encoder) ReplicaList(rl ReplicaList, l Layout) {
	e.Replicas(rl.Replicas, l)
	e.U64(rl.LeaseTTLMillis)
	if l == LayoutHEAD {
		e.OptU64(rl.ObjectChecksum)
	}
}

// ReplicaList reads a GetReplicaListResponse in layout l.
func (d *Decoder) ReplicaList(l Layout) ReplicaList {
	rl := ReplicaList{Replicas: d.Replicas(l), LeaseTTLMillis: d.U64(), Layout: l}
	if l == LayoutHEAD {
		rl.ObjectChecksum = d.OptU64()
	}
	return rl
}
