package doctor

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/tokenize/lmcachekey"
)

// NoneHashKind says where a variant's NONE_HASH comes from.
type NoneHashKind string

const (
	// NoneHashSeed is vLLM's init_none_hash: H(PYTHONHASHSEED string).
	NoneHashSeed NoneHashKind = "seed"
	// NoneHashZero is LMCache running without vLLM (or vLLM < 0.10): 0.
	NoneHashZero NoneHashKind = "zero"
	// NoneHashGiven is a value passed with --none-hash.
	NoneHashGiven NoneHashKind = "given"
	// NoneHashFixed is a start value that depends on nothing: MP-mode
	// blake3's fallback, or the v0.3.2 chain that has no NONE_HASH.
	NoneHashFixed NoneHashKind = "fixed"
)

// Variant is one key configuration: the tokenize parameters plus how
// NONE_HASH was obtained (so that changing the algorithm recomputes it).
type Variant struct {
	Params lmcachekey.Params
	// NoneHashKind and Seed describe NONE_HASH; Params.NoneHash holds the
	// value once finalize ran.
	NoneHashKind NoneHashKind
	Seed         string
	given        lmcachekey.Value
}

// Configured builds the variant for the parameters a lookup resolved:
// seed is the PYTHONHASHSEED NONE_HASH was computed from ("" when NONE_HASH
// was given directly or is fixed by the scheme).
func Configured(p lmcachekey.Params, seed string) Variant {
	v := Variant{Params: p, Seed: seed, given: p.NoneHash}
	s, _ := lmcachekey.LookupSchema(string(p.Schema))
	switch {
	case seed != "":
		v.NoneHashKind = NoneHashSeed
	case p.Algorithm == lmcachekey.Blake3 || s.IsLegacySHA():
		v.NoneHashKind = NoneHashFixed
	case !p.NoneHash.IsBytes() && p.NoneHash.Hex() == "0":
		v.NoneHashKind = NoneHashZero
	default:
		v.NoneHashKind = NoneHashGiven
	}
	if p.Schema == "" {
		v.Params.Schema = lmcachekey.SchemaCurrent
	}
	return v
}

func (v *Variant) schema() lmcachekey.SchemaInfo {
	s, _ := lmcachekey.LookupSchema(string(v.Params.Schema))
	return s
}

// finalize computes NONE_HASH after the other settings changed.
func (v *Variant) finalize() error {
	p := &v.Params
	if p.Algorithm == lmcachekey.Blake3 {
		p.NoneHash = lmcachekey.Blake3Initial()
		return nil
	}
	if v.schema().IsLegacySHA() {
		p.NoneHash = lmcachekey.BytesValue(nil)
		return nil
	}
	switch v.NoneHashKind {
	case NoneHashSeed:
		nh, err := p.NoneHashFromSeed(v.Seed)
		if err != nil {
			return err
		}
		p.NoneHash = nh
	case NoneHashZero:
		p.NoneHash = lmcachekey.IntValue(0)
	case NoneHashGiven:
		p.NoneHash = v.given
	case NoneHashFixed:
		// a fixed start (blake3) left for another algorithm: no seed known
		return fmt.Errorf("no NONE_HASH for %s", p.Algorithm)
	}
	return nil
}

// noneHashText names NONE_HASH for messages: "PYTHONHASHSEED=42", "NONE_HASH=0".
func (v *Variant) noneHashText() string {
	switch {
	case v.Params.Algorithm == lmcachekey.Blake3:
		return "the MP-mode BLAKE3 start value"
	case v.schema().IsLegacySHA():
		return "no NONE_HASH (v0.3.2 chain)"
	}
	switch v.NoneHashKind {
	case NoneHashSeed:
		return "PYTHONHASHSEED=" + v.Seed
	case NoneHashZero:
		return "NONE_HASH=0"
	}
	return "NONE_HASH " + v.given.Hex()
}

func (v *Variant) hashText() string {
	if v.Params.Algorithm == lmcachekey.SHA256CBOR64Bit && v.Params.Legacy64Bit {
		return "sha256_cbor_64bit (vLLM 0.10.0/0.10.1 uint64)"
	}
	return string(v.Params.Algorithm)
}

func tagsText(ts []lmcachekey.Tag) string {
	if len(ts) == 0 {
		return "no tags"
	}
	var b strings.Builder
	for _, t := range ts {
		b.WriteString("@" + t.Name + "%" + t.Value)
	}
	return b.String()
}

// Diff is one setting in which the store's keys differ from the configured
// lookup.
type Diff struct {
	Setting    string `json:"setting"`
	Configured string `json:"configured"`
	Store      string `json:"store"`
	// Flag is the lmc flag (with value) that reproduces the store's keys.
	Flag string `json:"flag,omitempty"`

	storePhrase, configPhrase string
}

// Diffs lists how v differs from the configured variant c, in a fixed
// order. Settings that do not change the keys under v are left out (the
// seed under blake3 or the v0.3.2 chain).
func Diffs(c, v Variant) []Diff {
	var out []Diff
	add := func(d Diff) { out = append(out, d) }
	cp, vp := &c.Params, &v.Params
	if cp.Model != vp.Model {
		add(Diff{Setting: "model", Configured: cp.Model, Store: vp.Model, Flag: "--model " + shellQuote(vp.Model),
			storePhrase: strconv.Quote(vp.Model) + " as the model name", configPhrase: "model " + strconv.Quote(cp.Model)})
	}
	legacy := v.schema().IsLegacySHA()
	if !legacy && (cp.Algorithm != vp.Algorithm || cp.Legacy64Bit != vp.Legacy64Bit) {
		flag := "--hash " + string(vp.Algorithm)
		if vp.Legacy64Bit {
			flag += " --legacy-64bit"
		}
		add(Diff{Setting: "hash_algorithm", Configured: c.hashText(), Store: v.hashText(), Flag: flag})
	}
	if !legacy && vp.Algorithm != lmcachekey.Blake3 && c.noneHashText() != v.noneHashText() {
		d := Diff{Setting: "none_hash", Configured: c.noneHashText(), Store: v.noneHashText(), storePhrase: v.noneHashText()}
		switch v.NoneHashKind {
		case NoneHashSeed:
			d.Setting, d.Store, d.Flag = "hash_seed", v.Seed, "--hash-seed "+v.Seed
		case NoneHashZero:
			d.Store, d.Flag = "0", "--none-hash 0"
			d.storePhrase = "NONE_HASH=0 (LMCache without vLLM)"
		}
		switch c.NoneHashKind {
		case NoneHashSeed:
			d.Configured, d.configPhrase = c.Seed, "seed "+c.Seed
		default:
			d.configPhrase = c.noneHashText()
		}
		add(d)
	}
	if !legacy && vp.Algorithm == lmcachekey.Builtin && v.NoneHashKind == NoneHashSeed && pySip24(cp) != pySip24(vp) {
		add(Diff{Setting: "python_version", Configured: cp.PythonVersion(), Store: vp.PythonVersion(), Flag: "--python-version " + vp.PythonVersion(),
			storePhrase: "CPython " + vp.PythonVersion() + " string hashing", configPhrase: "CPython " + cp.PythonVersion()})
	}
	if cp.Schema != vp.Schema {
		add(Diff{Setting: "key_schema", Configured: string(cp.Schema), Store: string(vp.Schema), Flag: "--key-schema " + string(vp.Schema),
			storePhrase: "key format " + string(vp.Schema) + " (" + v.schema().Format + ")", configPhrase: "key format " + string(cp.Schema)})
	}
	if cp.KeyWorldSize() != vp.KeyWorldSize() || cp.MLA != vp.MLA {
		d := Diff{Setting: "world_size", Configured: wsText(cp), Store: wsText(vp), Flag: "--world-size " + strconv.Itoa(vp.WorldSize)}
		d.storePhrase = "world size " + strconv.Itoa(vp.KeyWorldSize()) + " in the keys"
		if vp.KeyWorldSize() == 1 && !vp.MLA {
			d.storePhrase += " (an MLA model, or one GPU)"
		}
		d.configPhrase = "world size " + strconv.Itoa(cp.KeyWorldSize())
		if vp.MLA {
			d.Flag = "--mla"
		}
		add(d)
	}
	if cp.WorkerID != vp.WorkerID {
		add(Diff{Setting: "worker_id", Configured: strconv.Itoa(cp.WorkerID), Store: strconv.Itoa(vp.WorkerID), Flag: "--worker-id " + strconv.Itoa(vp.WorkerID)})
	}
	if cp.DType != vp.DType && hasDType(vp.Schema) {
		add(Diff{Setting: "dtype", Configured: cp.DType, Store: vp.DType, Flag: "--dtype " + vp.DType})
	}
	if cp.ChunkSize != vp.ChunkSize {
		add(Diff{Setting: "chunk_size", Configured: strconv.Itoa(cp.ChunkSize), Store: strconv.Itoa(vp.ChunkSize), Flag: "--chunk-size " + strconv.Itoa(vp.ChunkSize)})
	}
	if cp.SaveUnfullChunk != vp.SaveUnfullChunk {
		add(Diff{Setting: "save_unfull_chunk", Configured: strconv.FormatBool(cp.SaveUnfullChunk), Store: strconv.FormatBool(vp.SaveUnfullChunk), Flag: "--save-unfull-chunk=" + strconv.FormatBool(vp.SaveUnfullChunk)})
	}
	if tagsText(cp.Tags) != tagsText(vp.Tags) {
		var flags []string
		for _, t := range vp.Tags {
			flags = append(flags, "--tag "+shellQuote(t.Name+"="+t.Value))
		}
		add(Diff{Setting: "tags", Configured: tagsText(cp.Tags), Store: tagsText(vp.Tags), Flag: strings.Join(flags, " "),
			storePhrase: "request tags " + tagsText(vp.Tags) + " (store-side only: LMCache's lookups never carry them)", configPhrase: tagsText(cp.Tags)})
	}
	for i := range out {
		d := &out[i]
		if d.storePhrase == "" {
			d.storePhrase = strings.ReplaceAll(d.Setting, "_", " ") + " " + d.Store
		}
		if d.configPhrase == "" {
			d.configPhrase = strings.ReplaceAll(d.Setting, "_", " ") + " " + d.Configured
		}
	}
	return out
}

func hasDType(s lmcachekey.KeySchema) bool {
	switch s {
	case lmcachekey.SchemaCurrent, lmcachekey.Schema202601, lmcachekey.Schema202511:
		return true
	}
	return false
}

func pySip24(p *lmcachekey.Params) bool { return p.PythonMinor > 0 && p.PythonMinor <= 10 }

func wsText(p *lmcachekey.Params) string {
	if p.MLA {
		return strconv.Itoa(p.WorldSize) + " (MLA: 1 in keys)"
	}
	return strconv.Itoa(p.WorldSize)
}

// Sentence explains diffs in one line: "the store holds keys hashed with
// sha256_cbor and PYTHONHASHSEED=42; you looked up builtin with seed 0".
func Sentence(ds []Diff) string {
	if len(ds) == 0 {
		return "the store holds keys made with the configured settings"
	}
	var hash *Diff
	var store, conf []string
	for i := range ds {
		if ds[i].Setting == "hash_algorithm" {
			hash = &ds[i]
			continue
		}
		store = append(store, ds[i].storePhrase)
		conf = append(conf, ds[i].configPhrase)
	}
	var b strings.Builder
	b.WriteString("the store holds keys ")
	if hash != nil {
		b.WriteString("hashed with " + joinAnd(append([]string{hash.Store}, store...)))
	} else {
		b.WriteString("with " + joinAnd(store))
	}
	b.WriteString("; you looked up ")
	switch {
	case hash != nil && len(conf) == 0:
		b.WriteString(hash.Configured)
	case hash != nil:
		b.WriteString(hash.Configured + " with " + joinAnd(conf))
	default:
		b.WriteString("with " + joinAnd(conf))
	}
	return b.String()
}

// Flags is the lmc flags that reproduce the store's keys.
func Flags(ds []Diff) string {
	var fs []string
	for _, d := range ds {
		if d.Flag != "" && !slices.Contains(fs, d.Flag) {
			fs = append(fs, d.Flag)
		}
	}
	return strings.Join(fs, " ")
}

// JoinAnd joins "a, b and c".
func JoinAnd(s []string) string { return joinAnd(s) }

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=%@+", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
