package doctor

import (
	"iter"
	"slices"
	"strconv"

	"lmc/internal/tokenize/lmcachekey"
)

// change is one setting moved away from the configured value.
type change struct {
	axis  string
	label string
	apply func(v *Variant)
}

// axis is the alternatives for one setting (the configured value excluded).
type axis struct {
	name    string
	changes []change
}

// Default alternatives.
var (
	DefaultChunkSizes = []int{256, 512, 128, 64, 1024, 16}
	DefaultWorldSizes = []int{1, 2, 4, 8}
	// likelyDTypes come first; pairs and triples use only these.
	likelyDTypes = []string{"bfloat16", "half", "float", "uint8", "fp8_e4m3fn", "fp8_e5m2"}
	// searchAlgorithms is the order algorithms are tried in. sha256_cbor_64bit
	// without --legacy-64bit is sha256_cbor (same keys) and is not repeated.
	searchAlgorithms = []algSpec{{lmcachekey.Builtin, false}, {lmcachekey.SHA256CBOR, false}, {lmcachekey.SHA256, false},
		{lmcachekey.XXHash, false}, {lmcachekey.XXHashCBOR, false}, {lmcachekey.SHA256CBOR64Bit, true}}
)

type nhSpec struct {
	kind NoneHashKind
	seed string
	py   int // PythonMinor override (builtin str hashing), 0 = keep
}

func (n nhSpec) text() string {
	switch n.kind {
	case NoneHashSeed:
		s := "PYTHONHASHSEED=" + n.seed
		if n.py != 0 {
			s += " on CPython 3." + strconv.Itoa(n.py)
		}
		return s
	case NoneHashZero:
		return "NONE_HASH=0"
	}
	return "configured NONE_HASH"
}

func setHashing(a algSpec, n nhSpec) change {
	label := string(a.alg)
	if a.legacy64 {
		label += " (legacy 64-bit)"
	}
	if a.alg != lmcachekey.Blake3 {
		label += " + " + n.text()
	}
	return change{axis: "hashing", label: label, apply: func(v *Variant) {
		v.Params.Algorithm, v.Params.Legacy64Bit = a.alg, a.legacy64
		if a.alg == lmcachekey.Blake3 {
			return
		}
		if n.kind == NoneHashGiven {
			return
		}
		v.NoneHashKind, v.Seed = n.kind, n.seed
		if n.py != 0 {
			v.Params.PythonMinor = n.py
		}
	}}
}

// hashingAxis is algs × NONE_HASH sources (the configured one, seeds, 0),
// in the order of algs, the configured combination left out; builtin also
// with CPython <= 3.10 string hashing of the seed.
func hashingAxis(c Variant, seeds []string, algs []algSpec) axis {
	var nhs []nhSpec
	if c.NoneHashKind == NoneHashSeed || c.NoneHashKind == NoneHashGiven {
		nhs = append(nhs, nhSpec{kind: c.NoneHashKind, seed: c.Seed})
	}
	for _, s := range seeds {
		if !slices.Contains(nhs, nhSpec{kind: NoneHashSeed, seed: s}) {
			nhs = append(nhs, nhSpec{kind: NoneHashSeed, seed: s})
		}
	}
	nhs = append(nhs, nhSpec{kind: NoneHashZero})
	cfgAlg := algSpec{c.Params.Algorithm, c.Params.Legacy64Bit}
	ax := axis{name: "hashing"}
	for _, a := range algs {
		if a.alg == lmcachekey.Blake3 {
			if a != cfgAlg {
				ax.changes = append(ax.changes, setHashing(a, nhSpec{}))
			}
			continue
		}
		for _, n := range nhs {
			if a == cfgAlg && n.kind == c.NoneHashKind && n.seed == c.Seed {
				continue
			}
			if n.kind == NoneHashGiven && a != cfgAlg {
				continue // a given NONE_HASH belongs to its algorithm
			}
			ax.changes = append(ax.changes, setHashing(a, n))
		}
	}
	// builtin hashes the seed string with SipHash-2-4 on CPython <= 3.10.
	if slices.Contains(algs, algSpec{lmcachekey.Builtin, false}) && (c.Params.PythonMinor == 0 || c.Params.PythonMinor > 10) {
		for _, n := range nhs {
			if n.kind == NoneHashSeed {
				n.py = 10
				ax.changes = append(ax.changes, setHashing(algSpec{lmcachekey.Builtin, false}, n))
			}
		}
	}
	return ax
}

func schemaAxis(c Variant) axis {
	ax := axis{name: "key_schema"}
	for _, s := range lmcachekey.Schemas {
		if s.Name == c.Params.Schema {
			continue
		}
		name := s.Name
		ax.changes = append(ax.changes, change{axis: ax.name, label: string(name), apply: func(v *Variant) { v.Params.Schema = name }})
	}
	return ax
}

// mpChange is the multi-process mode as a whole: its key format and its
// default algorithm.
func mpChange() change {
	return change{axis: "key_schema", label: "mp + blake3", apply: func(v *Variant) {
		v.Params.Schema, v.Params.Algorithm, v.Params.Legacy64Bit = lmcachekey.SchemaMP, lmcachekey.Blake3, false
	}}
}

func dtypeAxis(c Variant, likelyOnly bool) axis {
	ax := axis{name: "dtype"}
	list := likelyDTypes
	if !likelyOnly {
		list = slices.Clone(likelyDTypes)
		for _, d := range lmcachekey.DTypeValues {
			if !slices.Contains(list, d) {
				list = append(list, d)
			}
		}
	}
	for _, d := range list {
		if d == c.Params.DType {
			continue
		}
		ax.changes = append(ax.changes, change{axis: ax.name, label: d, apply: func(v *Variant) { v.Params.DType = d }})
	}
	return ax
}

func ranksAxis(c Variant, sizes []int) axis {
	ax := axis{name: "world_size"}
	cws := c.Params.KeyWorldSize()
	for _, n := range sizes {
		if n == cws && c.Params.WorkerID == 0 {
			continue
		}
		ax.changes = append(ax.changes, change{axis: ax.name, label: "world size " + strconv.Itoa(n), apply: func(v *Variant) {
			v.Params.WorldSize, v.Params.WorkerID, v.Params.MLA = n, 0, false
		}})
	}
	return ax
}

// chunkAxis varies the chunk size; a prompt shorter than a size only has a
// key when the engine saves unfull chunks, so that is implied there.
func chunkAxis(c Variant, sizes []int, ntok int) axis {
	ax := axis{name: "chunk_size"}
	for _, n := range sizes {
		if n == c.Params.ChunkSize {
			continue
		}
		ax.changes = append(ax.changes, change{axis: ax.name, label: "chunk size " + strconv.Itoa(n), apply: func(v *Variant) {
			v.Params.ChunkSize = n
			if ntok < n {
				v.Params.SaveUnfullChunk = true
			}
		}})
	}
	return ax
}

func unfullAxis(c Variant) axis {
	u := !c.Params.SaveUnfullChunk
	return axis{name: "save_unfull_chunk", changes: []change{{axis: "save_unfull_chunk", label: "save_unfull_chunk " + strconv.FormatBool(u), apply: func(v *Variant) { v.Params.SaveUnfullChunk = u }}}}
}

func modelAxis(c Variant, models []string) axis {
	ax := axis{name: "model"}
	for _, m := range models {
		if m == c.Params.Model {
			continue
		}
		ax.changes = append(ax.changes, change{axis: ax.name, label: "model " + m, apply: func(v *Variant) { v.Params.Model = m }})
	}
	return ax
}

func tagsAxis(c Variant, tagSets [][]lmcachekey.Tag) axis {
	ax := axis{name: "tags"}
	for _, ts := range tagSets {
		if tagsText(ts) == tagsText(c.Params.Tags) {
			continue
		}
		ax.changes = append(ax.changes, change{axis: ax.name, label: tagsText(ts), apply: func(v *Variant) { v.Params.Tags = slices.Clone(ts) }})
	}
	if len(c.Params.Tags) > 0 {
		ax.changes = append(ax.changes, change{axis: ax.name, label: "no tags", apply: func(v *Variant) { v.Params.Tags = nil }})
	}
	return ax
}

// singles yields every single-setting change.
func singles(axes []axis) iter.Seq[[]change] {
	return func(yield func([]change) bool) {
		for _, ax := range axes {
			for _, ch := range ax.changes {
				if !yield([]change{ch}) {
					return
				}
			}
		}
	}
}

// product yields every combination of one change from each axis, the
// earlier changes of each axis first.
func product(axes ...axis) iter.Seq[[]change] {
	return func(yield func([]change) bool) {
		for _, ax := range axes {
			if len(ax.changes) == 0 {
				return
			}
		}
		idx := make([]int, len(axes))
		for {
			cs := make([]change, len(axes))
			for i, ax := range axes {
				cs[i] = ax.changes[idx[i]]
			}
			if !yield(cs) {
				return
			}
			// odometer, last axis fastest
			i := len(axes) - 1
			for ; i >= 0; i-- {
				idx[i]++
				if idx[i] < len(axes[i].changes) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				return
			}
		}
	}
}

func concat(seqs ...iter.Seq[[]change]) iter.Seq[[]change] {
	return func(yield func([]change) bool) {
		for _, s := range seqs {
			for cs := range s {
				if !yield(cs) {
					return
				}
			}
		}
	}
}
