package lmcachekey

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// KeySchema names an era of LMCache's key format. An era fixes both the
// object that is hashed per chunk and how the key string is rendered.
type KeySchema string

const (
	SchemaCurrent KeySchema = "current"
	Schema202601  KeySchema = "2026-01"
	Schema202511  KeySchema = "2025-11"
	Schema202509  KeySchema = "2025-09"
	Schema202508  KeySchema = "2025-08"
	SchemaV033    KeySchema = "v0.3.3"
	Schema202507  KeySchema = "2025-07"
	SchemaV032    KeySchema = "v0.3.2"
	SchemaMP      KeySchema = "mp"
)

// SchemaInfo documents one key schema.
type SchemaInfo struct {
	Name    KeySchema
	Period  string // LMCache commits that produce it
	Format  string // the key string
	Hashed  string // the object hashed per chunk
	extra   Extra
	prefix  bool // "vllm@" prefix (the removed fmt field)
	dtype   bool // "@<dtype>" suffix
	decimal bool // chunk hash rendered with str(int)
	bytesOK bool // bytes digests can be rendered (else to_string crashed)
	legacy  bool // v0.3.2 hex-string sha256 chain
	mp      bool // multi-process L2 adapter format
}

// Schemas lists every schema, newest first.
var Schemas = []SchemaInfo{
	{Name: SchemaCurrent, Period: "LMCache since 2026-03-04 (default)", Format: "<model>@<world_size>@<worker_id>@<hash>@<dtype>[@tag%value…]", Hashed: "(prefix, tuple(chunk), ())", extra: ExtraEmptyTuple, dtype: true, bytesOK: true},
	{Name: Schema202601, Period: "2026-01-29 .. 2026-03-03", Format: "<model>@<world_size>@<worker_id>@<hash>@<dtype>", Hashed: "(prefix, tuple(chunk), None)", extra: ExtraNone, dtype: true, bytesOK: true},
	{Name: Schema202511, Period: "2025-11-04 .. 2026-01-28 (bytes digests only from 2026-01-22)", Format: "vllm@<model>@<world_size>@<worker_id>@<hash>@<dtype>", Hashed: "(prefix, tuple(chunk), None)", extra: ExtraNone, prefix: true, dtype: true, bytesOK: true},
	{Name: Schema202509, Period: "2025-09-03 .. 2025-11-03", Format: "vllm@<model>@<world_size>@<worker_id>@<hash>", Hashed: "(prefix, tuple(chunk), None)", extra: ExtraNone, prefix: true},
	{Name: Schema202508, Period: "2025-08-19 .. 2025-09-02", Format: "vllm@<model>@<world_size>@<worker_id>@<decimal hash>", Hashed: "(prefix, tuple(chunk), None)", extra: ExtraNone, prefix: true, decimal: true},
	{Name: SchemaV033, Period: "2025-07-30 .. 2025-08-18 (v0.3.3)", Format: "vllm@<model>@<world_size>@<worker_id>@<decimal hash>", Hashed: "(prefix, tuple(chunk))", extra: ExtraPair, prefix: true, decimal: true},
	{Name: Schema202507, Period: "2025-07-15 .. 2025-07-29", Format: "vllm@<model>@<world_size>@<worker_id>@<decimal hash>", Hashed: "(prefix, tuple(chunk), None)", extra: ExtraNone, prefix: true, decimal: true},
	{Name: SchemaV032, Period: "up to 2025-07-14 (v0.3.2 and earlier)", Format: "vllm@<model>@<world_size>@<worker_id>@<sha256 hex>", Hashed: "sha256(prev_hex + tokens as uint32 LE), prev_hex starts empty", prefix: true, bytesOK: true, legacy: true},
	{Name: SchemaMP, Period: "multi-process mode (mooncake_store L2 adapter)", Format: "<model>@<kv_rank as 8 hex digits>@<hash hex>[@cache_salt]", Hashed: "blake3(prefix ‖ tokens as uint32 BE); other algorithms hash (prefix, tuple(chunk), None)", extra: ExtraNone, bytesOK: true, mp: true},
}

// LookupSchema returns the schema's description.
func LookupSchema(s string) (SchemaInfo, error) {
	for _, si := range Schemas {
		if string(si.Name) == strings.TrimSpace(s) {
			return si, nil
		}
	}
	names := make([]string, len(Schemas))
	for i, si := range Schemas {
		names[i] = string(si.Name)
	}
	return SchemaInfo{}, fmt.Errorf("unknown key schema %q: use one of %s (see 'lmc help key-schemas')", s, strings.Join(names, ", "))
}

// Extra is the third tuple element this schema hashes.
func (s SchemaInfo) Extra() Extra { return s.extra }

// IsMP reports the multi-process key format.
func (s SchemaInfo) IsMP() bool { return s.mp }

// IsLegacySHA reports the v0.3.2 hex-string chain.
func (s SchemaInfo) IsLegacySHA() bool { return s.legacy }

// dtypeNames maps accepted spellings to LMCache's rendering (utils.py's
// table). Pairs, not a map, so that they are static data.
var dtypeNames = [...][2]string{
	{"half", "half"}, {"float16", "half"}, {"fp16", "half"}, {"torch.float16", "half"}, {"torch.half", "half"},
	{"bfloat16", "bfloat16"}, {"bf16", "bfloat16"}, {"torch.bfloat16", "bfloat16"},
	{"float", "float"}, {"float32", "float"}, {"fp32", "float"}, {"torch.float32", "float"}, {"torch.float", "float"},
	{"double", "double"}, {"float64", "double"}, {"torch.float64", "double"}, {"torch.double", "double"},
	{"int8", "int8"}, {"uint8", "uint8"}, {"int16", "int16"}, {"int32", "int32"}, {"int64", "int64"}, {"bool", "bool"},
	{"torch.int8", "int8"}, {"torch.uint8", "uint8"}, {"torch.int16", "int16"}, {"torch.int32", "int32"}, {"torch.int64", "int64"}, {"torch.bool", "bool"},
	{"float8_e4m3fn", "fp8_e4m3fn"}, {"float8_e4m3fnuz", "fp8_e4m3fnuz"}, {"float8_e5m2", "fp8_e5m2"}, {"float8_e5m2fnuz", "fp8_e5m2fnuz"},
	{"fp8_e4m3fn", "fp8_e4m3fn"}, {"fp8_e4m3fnuz", "fp8_e4m3fnuz"}, {"fp8_e5m2fnuz", "fp8_e5m2fnuz"},
	// vLLM --kv-cache-dtype values: fp8 caches are torch.uint8 tensors.
	{"fp8", "uint8"}, {"fp8_e4m3", "uint8"}, {"fp8_e5m2", "uint8"}, {"fp8_inc", "fp8_e4m3fn"},
}

// DTypeValues lists the rendered dtype strings LMCache can put in a key.
var DTypeValues = []string{"bfloat16", "half", "float", "double", "uint8", "int8", "int16", "int32", "int64", "bool", "fp8_e4m3fn", "fp8_e4m3fnuz", "fp8_e5m2", "fp8_e5m2fnuz"}

// ParseDType maps a torch dtype, a vLLM --dtype or --kv-cache-dtype value,
// or an already-rendered name to the string LMCache puts in keys.
func ParseDType(s string) (string, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	for _, d := range dtypeNames {
		if d[0] == k {
			return d[1], nil
		}
	}
	return "", fmt.Errorf("unknown dtype %q: use a torch dtype (bfloat16, float16, float32, ...), a vLLM --kv-cache-dtype (fp8, fp8_e5m2, fp8_inc) or a key rendering (%s)", s, strings.Join(DTypeValues, ", "))
}

// Tag is one lmcache.tag.<name> request config; keys get "@name%value".
type Tag struct{ Name, Value string }

// ParseTag parses "name=value" (a leading "lmcache.tag." is accepted).
func ParseTag(s string) (Tag, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimPrefix(strings.TrimSpace(k), "lmcache.tag.")
	if !ok || k == "" {
		return Tag{}, fmt.Errorf("tag %q: expected name=value (as in lmcache.tag.name=value)", s)
	}
	return Tag{Name: k, Value: v}, nil
}

// keyRenderer builds key strings around a fixed prefix and suffix.
type keyRenderer struct {
	head, tail string
	decimal    bool
	mpInt      bool // MP mode renders int hashes as 8-byte big-endian
	buf        []byte
}

func newKeyRenderer(p *Params, s SchemaInfo) *keyRenderer {
	r := &keyRenderer{decimal: s.decimal}
	var h, t strings.Builder
	if s.mp {
		ws, wid := p.WorldSize, p.WorkerID
		rank := uint32(ws)<<24 | uint32(wid)<<16 | uint32(ws)<<8 | uint32(wid)
		fmt.Fprintf(&h, "%s@%08x@", p.Model, rank)
		if p.CacheSalt != "" {
			t.WriteString("@" + p.CacheSalt)
		}
		r.mpInt = true
	} else {
		if s.prefix {
			h.WriteString("vllm@")
		}
		h.WriteString(p.Model + "@" + strconv.Itoa(p.KeyWorldSize()) + "@" + strconv.Itoa(p.WorkerID) + "@")
		if s.dtype {
			t.WriteString("@" + p.DType)
			if p.Layerwise {
				t.WriteString("@" + strconv.Itoa(p.Layer))
			}
		}
		for _, tg := range p.Tags {
			t.WriteString("@" + tg.Name + "%" + tg.Value)
		}
	}
	r.head, r.tail = h.String(), t.String()
	return r
}

// render builds the key with one allocation (the string itself).
func (r *keyRenderer) render(v Value) string {
	b := append(r.buf[:0], r.head...)
	b = r.appendHash(b, v)
	b = append(b, r.tail...)
	r.buf = b
	return string(b)
}

func (r *keyRenderer) appendHash(b []byte, v Value) []byte {
	switch {
	case r.mpInt && !v.IsBytes():
		e, _ := v.be8()
		return hex.AppendEncode(b, e[:])
	case r.decimal:
		return v.appendDecimal(b)
	}
	return v.appendHex(b)
}

func (r *keyRenderer) hashText(v Value) string { return string(r.appendHash(nil, v)) }
