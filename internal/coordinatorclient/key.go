package coordinatorclient

import (
	"encoding/hex"
	"fmt"
	"strings"

	"lmc/internal/pyjson"
	"lmc/internal/tokenize/lmcachekey"
)

// Key is LMCache's EncodedObjectKey, the JSON form of an object key on the
// coordinator's wire (spec §3.2). Responses always carry all five fields.
type Key struct {
	ChunkHashHex  string `json:"chunk_hash_hex"`
	ModelName     string `json:"model_name"`
	KVRank        int64  `json:"kv_rank"`
	ObjectGroupID int64  `json:"object_group_id"`
	CacheSalt     string `json:"cache_salt"`
}

// MaxCacheSaltLen is the coordinator's bound on cache_salt.
const MaxCacheSaltLen = 128

// MaxWorldSize is the largest world size kv_rank can carry: its fields are
// 8 bits wide, and the coordinator overflows them silently.
const MaxWorldSize = 255

// KVRank packs a rank of a world the way every coordinator path does, with
// local = global: ws<<24 | r<<16 | ws<<8 | r.
func KVRank(worldSize, rank int) int64 {
	ws, r := int64(worldSize&0xff), int64(rank&0xff)
	return ws<<24 | r<<16 | ws<<8 | r
}

// WorldSize is kv_rank>>24.
func (k Key) WorldSize() int { return int(k.KVRank>>24) & 0xff }

// Rank is the global rank packed in kv_rank.
func (k Key) Rank() int { return int(k.KVRank>>16) & 0xff }

// LocalWorldSize and LocalRank are the other two fields of kv_rank (equal
// to the global ones on every coordinator path).
func (k Key) LocalWorldSize() int { return int(k.KVRank>>8) & 0xff }

// LocalRank is kv_rank's low byte.
func (k Key) LocalRank() int { return int(k.KVRank) & 0xff }

// Normalized returns the key with its hash in lowercase hex without
// whitespace, as the coordinator compares keys (it parses the hex).
func (k Key) Normalized() Key {
	if b, err := parseHex(k.ChunkHashHex); err == nil {
		k.ChunkHashHex = hex.EncodeToString(b)
	}
	return k
}

// Equal compares keys as the coordinator does: all five fields, the hash
// by value (case and whitespace do not matter).
func (k Key) Equal(o Key) bool {
	return k.Normalized() == o.Normalized()
}

// String is the key as the native connector, Mooncake and GCS adapters
// store it: <model>@<kv_rank:08x>@<hash>[@<salt>] — the form 'lmc keys
// --key-schema mp' prints.
func (k Key) String() string {
	s := fmt.Sprintf("%s@%08x@%s", k.ModelName, uint32(k.KVRank), strings.ToLower(k.ChunkHashHex))
	if k.CacheSalt != "" {
		s += "@" + k.CacheSalt
	}
	return s
}

// Validate applies the coordinator's ObjectKey checks (spec §3.2), with its
// messages.
func (k Key) Validate() error {
	if _, err := parseHex(k.ChunkHashHex); err != nil {
		return err
	}
	if strings.Contains(k.ModelName, "@") {
		return fmt.Errorf("model_name must not contain '@' (got %s)", pyjson.Repr(k.ModelName))
	}
	if k.ObjectGroupID < 0 {
		return fmt.Errorf("object_group_id must be >= 0 (got %d)", k.ObjectGroupID)
	}
	return ValidateCacheSalt(k.CacheSalt)
}

// ValidateCacheSalt applies the coordinator's salt rules: no '@', '/', '\'
// or NUL, at most 128 characters.
func ValidateCacheSalt(s string) error {
	var bad []string
	for _, c := range []string{"@", "/", "\\", "\x00"} {
		if strings.Contains(s, c) {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		parts := make([]string, len(bad))
		for i, c := range bad {
			parts[i] = pyjson.Repr(c)
		}
		return fmt.Errorf("cache_salt must not contain {%s} (got %s)", strings.Join(parts, ", "), pyjson.Repr(s))
	}
	if n := len([]rune(s)); n > MaxCacheSaltLen {
		return fmt.Errorf("cache_salt exceeds max length %d (got %d)", MaxCacheSaltLen, n)
	}
	return nil
}

// parseHex parses hex like Python's bytes.fromhex: ASCII whitespace between
// byte pairs is skipped, case does not matter, "" is an empty hash.
func parseHex(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/2)
	i := 0
	for i < len(s) {
		if isSpace(s[i]) {
			i++
			continue
		}
		hi := unhex(s[i])
		if hi < 0 {
			return nil, fmt.Errorf("non-hexadecimal number found in fromhex() arg at position %d", i)
		}
		if i+1 >= len(s) || unhex(s[i+1]) < 0 {
			return nil, fmt.Errorf("non-hexadecimal number found in fromhex() arg at position %d", i+1)
		}
		out = append(out, byte(hi<<4|unhex(s[i+1])))
		i += 2
	}
	return out, nil
}

// ParseChunkHash parses a chunk hash the way the coordinator does and
// returns it in lowercase hex.
func ParseChunkHash(s string) (string, error) {
	b, err := parseHex(s)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ChunkKeys fans chunk hashes out to the coordinator's keys, chunk-major
// then rank ([c0r0, c0r1, …, c1r0, …]), as its tokens form resolves them
// (spec §4.5): object group 0, kv_rank packed for world size ws.
func ChunkKeys(chunkHashes []string, model string, worldSize int, salt string) []Key {
	out := make([]Key, 0, len(chunkHashes)*max(worldSize, 1))
	for _, h := range chunkHashes {
		for r := 0; r < worldSize; r++ {
			out = append(out, Key{ChunkHashHex: strings.ToLower(h), ModelName: model, KVRank: KVRank(worldSize, r), CacheSalt: salt})
		}
	}
	return out
}

// MPChunkHashes computes the chunk hashes the coordinator's default
// resolver computes (blake3 chain from NONE = BLAKE3(12 zero bytes), only
// complete chunks of chunkSize tokens): the local cross-check of its
// hashing (spec §4, §9). Other --hash-algorithm values need the key flags
// of 'lmc keys --key-schema mp' and an lmcachekey.Engine.
func MPChunkHashes(tokens []uint32, chunkSize int) ([]string, error) {
	p := lmcachekey.DefaultParams()
	p.Schema = lmcachekey.SchemaMP
	p.Algorithm = lmcachekey.Blake3
	p.NoneHash = lmcachekey.Blake3Initial()
	p.ChunkSize = chunkSize
	p.Model = "m" // the hash does not depend on the model
	e, err := lmcachekey.NewEngine(p)
	if err != nil {
		return nil, err
	}
	return EngineChunkHashes(e, tokens)
}

// EngineChunkHashes returns the chunk hashes of an MP-schema engine (built
// from lmc's key flags) in lowercase hex.
func EngineChunkHashes(e *lmcachekey.Engine, tokens []uint32) ([]string, error) {
	if !e.Schema().IsMP() {
		return nil, fmt.Errorf("key schema %s: the coordinator's directory is keyed by the multi-process schema (--key-schema mp)", e.Schema().Name)
	}
	p := e.Params()
	out := make([]string, 0, p.NumChunks(len(tokens)))
	err := e.Each(tokens, func(c lmcachekey.Chunk) error {
		out = append(out, strings.ToLower(e.HashText(c.Hash)))
		return nil
	})
	return out, err
}
