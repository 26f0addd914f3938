package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/keytext"
	"lmc/internal/tokenize/lmcachekey"
)

// Hash kinds, read from how a key renders its chunk hash.
const (
	HashInt      = "int"       // a Python int: builtin, or sha256_cbor_64bit of vLLM 0.10.0/0.10.1
	HashDigest16 = "digest-16" // 32 hex digits: xxhash, xxhash_cbor
	HashDigest32 = "digest-32" // 64 hex digits: sha256, sha256_cbor (blake3 in MP mode, the v0.3.2 chain)
)

// KeyInfo is what one stored key says about the engine that wrote it.
type KeyInfo struct {
	// Format names the key layout: "current" (also 2026-01), "2025-11",
	// "2025-09", "decimal" (2025-08, v0.3.3, 2025-07), "mp".
	Format    string
	Model     string
	WorldSize int
	WorkerID  int
	DType     string
	Tags      []string
	CacheSalt string
	Hash      string
	HashKind  string
	Negative  bool // a '-' sign: CPython's builtin hash
	Decimal   bool // digits only, longer than 16: rendered with str(int)
	HexLetter bool // contains a-f: rendered in hex
}

// MaxWorldSize bounds the world size (and so the worker ids) of a key lmc
// recognises, as lmc's --world-size flag does.
const MaxWorldSize = 4096

// ParseKey reads an LMCache key in any known format. ok is false for keys
// that are not LMCache's (vLLM's or SGLang's own Mooncake keys, for example).
func ParseKey(key string) (KeyInfo, bool) {
	parts := strings.Split(key, "@")
	var k KeyInfo
	switch {
	case len(parts) >= 3 && len(parts) <= 4 && len(parts[1]) == 8 && keytext.LowerHex(parts[1]) && keytext.LowerHex(parts[2]):
		n, _ := strconv.ParseUint(parts[1], 16, 32)
		ws, wid := int(n>>24), int(n>>16&0xff)
		if int(n>>8&0xff) != ws || int(n&0xff) != wid {
			return k, false
		}
		k = KeyInfo{Format: "mp", Model: parts[0], WorldSize: ws, WorkerID: wid, Hash: parts[2]}
		if len(parts) == 4 {
			k.CacheSalt = parts[3]
		}
	case len(parts) >= 5 && parts[0] == "vllm" && keytext.Digits(parts[2]) && keytext.Digits(parts[3]):
		k = KeyInfo{Model: parts[1], Hash: parts[4]}
		k.WorldSize, _ = strconv.Atoi(parts[2])
		k.WorkerID, _ = strconv.Atoi(parts[3])
		rest := parts[5:]
		if len(rest) > 0 && !strings.Contains(rest[0], "%") {
			k.DType, rest = rest[0], rest[1:]
		}
		k.Tags = rest
		switch {
		case k.DType != "":
			k.Format = "2025-11"
		default:
			k.Format = "2025-09"
		}
	case len(parts) >= 5 && keytext.Digits(parts[1]) && keytext.Digits(parts[2]) && !strings.Contains(parts[4], "%"):
		k = KeyInfo{Format: "current", Model: parts[0], Hash: parts[3], DType: parts[4], Tags: parts[5:]}
		k.WorldSize, _ = strconv.Atoi(parts[1])
		k.WorkerID, _ = strconv.Atoi(parts[2])
	default:
		return k, false
	}
	// Ranks beyond any deployment lmc models (world size 1..4096, worker id
	// 0..4095; an overflowing number reads as the largest int) are not a
	// key LMCache wrote: counting workers by such an id would also size a
	// slice by it.
	if k.WorldSize < 1 || k.WorldSize > MaxWorldSize || k.WorkerID < 0 || k.WorkerID >= MaxWorldSize {
		return k, false
	}
	for _, t := range k.Tags {
		if !strings.Contains(t, "%") {
			return k, false
		}
	}
	h := k.Hash
	if strings.HasPrefix(h, "-") {
		k.Negative, h = true, h[1:]
	}
	if !keytext.LowerHex(h) {
		return k, false
	}
	k.HexLetter = strings.ContainsAny(h, "abcdef")
	switch {
	case len(h) == 64:
		k.HashKind = HashDigest32
	case len(h) == 32 && !k.Negative:
		k.HashKind = HashDigest16
	case len(h) <= 16:
		k.HashKind = HashInt
	case keytext.Digits(h) && len(h) <= 20:
		k.HashKind, k.Decimal = HashInt, true
	default:
		return k, false
	}
	if k.Format == "2025-09" && k.HashKind == HashInt && !k.HexLetter {
		// digits only: str(int) of the decimal eras, or a hex int without
		// letters; the group decides (see Group.Format).
		k.Format = "2025-09?"
	}
	if k.Decimal {
		k.Format = "decimal"
	}
	return k, true
}

// Group is a set of sampled keys that share everything but the chunk hash
// and the worker id.
type Group struct {
	Model     string   `json:"model"`
	Format    string   `json:"format"`
	Schemas   []string `json:"key_schemas"`
	WorldSize int      `json:"world_size"`
	DType     string   `json:"dtype,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	HashKind  string   `json:"hash_kind"`
	// Algorithms are the hash algorithms that render hashes like these.
	Algorithms []string `json:"algorithms"`
	Keys       int      `json:"keys"`
	// WorkerKeys counts keys per worker id (index = worker id).
	WorkerKeys []int  `json:"worker_keys"`
	Example    string `json:"example"`

	negative, hexLetter bool
}

// Inventory is what a sample of the store's keys says about the engines
// that wrote them.
type Inventory struct {
	Sampled int `json:"sampled"`
	Limit   int `json:"limit"`
	// Complete is true when the listing ended before the limit: the sample
	// is every key the store holds (in the default tenant).
	Complete bool    `json:"complete"`
	Groups   []Group `json:"groups"`
	// EngineGroups are the keys SGLang HiCache and vLLM's own connectors
	// wrote (enginekey recognises them).
	EngineGroups []EngineGroup `json:"engine_groups,omitempty"`
	// Foreign counts keys in no format lmc knows.
	Foreign         int      `json:"foreign_keys"`
	ForeignExamples []string `json:"foreign_examples,omitempty"`
	Notes           []string `json:"notes,omitempty"`

	keys map[string]struct{}
}

// Has reports whether a complete inventory holds key.
func (inv *Inventory) Has(key string) bool {
	_, ok := inv.keys[key]
	return ok
}

// Models lists the model names seen, most keys first.
func (inv *Inventory) Models() []string {
	count := map[string]int{}
	for _, g := range inv.Groups {
		count[g.Model] += g.Keys
	}
	var out []string
	for m := range count {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b))
	})
	return out
}

var errEnough = errors.New("enough")

// Lister streams stored keys (mooncake.Admin.GetAllKeys).
type Lister func(ctx context.Context, fn func(key string) error) error

// Sample reads up to limit keys from list and infers an inventory. Only a
// complete listing (fewer keys than limit) is kept for membership tests.
func Sample(ctx context.Context, list Lister, limit int) (*Inventory, error) {
	if limit <= 0 {
		limit = 10000
	}
	var keys []string
	err := list(ctx, func(k string) error {
		if len(keys) >= limit {
			return errEnough
		}
		keys = append(keys, k)
		return nil
	})
	complete := true
	if errors.Is(err, errEnough) {
		complete, err = false, nil
	}
	if err != nil {
		return nil, err
	}
	inv := Infer(keys)
	inv.Limit, inv.Complete = limit, complete
	if complete {
		inv.keys = make(map[string]struct{}, len(keys))
		for _, k := range keys {
			inv.keys[k] = struct{}{}
		}
	}
	inv.notes()
	return inv, nil
}

// Infer groups keys by what they say about the engine that wrote them.
func Infer(keys []string) *Inventory {
	inv := &Inventory{Sampled: len(keys), Groups: []Group{}}
	idx := map[string]int{}
	engineIdx := map[string]int{}
	for _, key := range keys {
		k, ok := ParseKey(key)
		if !ok {
			if r, ok := enginekey.Recognize(key); ok {
				inv.addEngineKey(key, r, engineIdx)
				continue
			}
			inv.Foreign++
			if len(inv.ForeignExamples) < 3 {
				inv.ForeignExamples = append(inv.ForeignExamples, key)
			}
			continue
		}
		format := strings.TrimSuffix(k.Format, "?")
		id := strings.Join([]string{k.Model, format, strconv.Itoa(k.WorldSize), k.DType, strings.Join(k.Tags, "@"), k.HashKind, k.CacheSalt}, "\x00")
		i, ok := idx[id]
		if !ok {
			i = len(inv.Groups)
			idx[id] = i
			inv.Groups = append(inv.Groups, Group{Model: k.Model, Format: format, WorldSize: k.WorldSize, DType: k.DType, Tags: k.Tags, HashKind: k.HashKind, Example: key})
		}
		g := &inv.Groups[i]
		g.Keys++
		for len(g.WorkerKeys) <= k.WorkerID {
			g.WorkerKeys = append(g.WorkerKeys, 0)
		}
		g.WorkerKeys[k.WorkerID]++
		g.negative = g.negative || k.Negative
		g.hexLetter = g.hexLetter || k.HexLetter
	}
	for i := range inv.Groups {
		g := &inv.Groups[i]
		if g.Format == "2025-09" && g.HashKind == HashInt && !g.hexLetter && g.Keys >= 8 {
			// no letter in 8+ hex ints is unlikely: str(int) of the decimal eras
			g.Format = "decimal"
		}
		for _, s := range g.schemas() {
			g.Schemas = append(g.Schemas, string(s))
		}
		for _, a := range g.algorithms() {
			name := string(a.alg)
			if a.legacy64 {
				name += " (legacy 64-bit)"
			}
			g.Algorithms = append(g.Algorithms, name)
		}
	}
	slices.SortStableFunc(inv.Groups, func(a, b Group) int { return cmp.Compare(b.Keys, a.Keys) })
	inv.finishEngineGroups()
	return inv
}

func (inv *Inventory) notes() {
	if !inv.Complete {
		return
	}
	defer inv.engineNotes()
	for _, g := range inv.Groups {
		if g.WorldSize <= 1 || len(g.WorkerKeys) == 0 {
			continue
		}
		most := slices.Max(g.WorkerKeys)
		for w := 0; w < g.WorldSize; w++ {
			n := 0
			if w < len(g.WorkerKeys) {
				n = g.WorkerKeys[w]
			}
			if n < most {
				inv.Notes = append(inv.Notes, fmt.Sprintf("%s (world size %d, %s): rank %d has %d keys where another rank has %d: it lacks chunks the others hold", g.Model, g.WorldSize, g.Format, w, n, most))
			}
		}
	}
}

// schemas are the key schemas that render keys of this group's format.
func (g *Group) schemas() []lmcachekey.KeySchema {
	switch g.Format {
	case "current":
		return []lmcachekey.KeySchema{lmcachekey.SchemaCurrent, lmcachekey.Schema202601}
	case "2025-11":
		return []lmcachekey.KeySchema{lmcachekey.Schema202511}
	case "2025-09":
		if g.HashKind == HashDigest32 {
			return []lmcachekey.KeySchema{lmcachekey.SchemaV032, lmcachekey.Schema202509}
		}
		return []lmcachekey.KeySchema{lmcachekey.Schema202509}
	case "decimal":
		return []lmcachekey.KeySchema{lmcachekey.Schema202508, lmcachekey.SchemaV033, lmcachekey.Schema202507}
	case "mp":
		return []lmcachekey.KeySchema{lmcachekey.SchemaMP}
	}
	return nil
}

type algSpec struct {
	alg      lmcachekey.Algorithm
	legacy64 bool
}

// algorithms are the hash algorithms whose values render like this group's.
func (g *Group) algorithms() []algSpec {
	switch g.HashKind {
	case HashInt:
		if g.negative || g.Format == "mp" {
			return []algSpec{{lmcachekey.Builtin, false}}
		}
		return []algSpec{{lmcachekey.Builtin, false}, {lmcachekey.SHA256CBOR64Bit, true}}
	case HashDigest16:
		return []algSpec{{lmcachekey.XXHash, false}, {lmcachekey.XXHashCBOR, false}}
	case HashDigest32:
		if g.Format == "mp" {
			return []algSpec{{lmcachekey.Blake3, false}, {lmcachekey.SHA256CBOR, false}, {lmcachekey.SHA256, false}}
		}
		return []algSpec{{lmcachekey.SHA256CBOR, false}, {lmcachekey.SHA256, false}}
	}
	return nil
}
