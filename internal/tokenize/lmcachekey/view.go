package lmcachekey

import "strconv"

// KeyWorldSize is the world size written into keys: 1 for MLA models
// (LMCache saves them from the first rank only, save_only_first_rank),
// otherwise the world size. It is the one home of that rule.
func (p *Params) KeyWorldSize() int {
	if p.MLA {
		return 1
	}
	return p.WorldSize
}

// PythonVersion is the engine's CPython version as "3.<minor>".
func (p *Params) PythonVersion() string {
	if p.PythonMinor == 0 {
		return "3.12"
	}
	return "3." + strconv.Itoa(p.PythonMinor)
}

// TagView is a request tag in JSON.
type TagView struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ParamsView is the one JSON form of a key configuration, used by every
// command's output (keys, explain, lookup, doctor, ...). Field names are a
// contract with scripts: add, never rename.
type ParamsView struct {
	Model           string    `json:"model"`
	WorldSize       int       `json:"world_size"`
	KeyWorldSize    int       `json:"key_world_size"`
	WorkerID        int       `json:"worker_id"`
	DType           string    `json:"dtype"`
	HashAlgorithm   string    `json:"hash_algorithm"`
	Legacy64Bit     bool      `json:"legacy_64bit,omitempty"`
	ChunkSize       int       `json:"chunk_size"`
	SaveUnfullChunk bool      `json:"save_unfull_chunk"`
	KeySchema       string    `json:"key_schema"`
	HashSeed        string    `json:"hash_seed,omitempty"`
	NoneHash        string    `json:"none_hash"`
	NoneHashSource  string    `json:"none_hash_source"`
	NoneHashFrom    string    `json:"none_hash_from,omitempty"`
	Tags            []TagView `json:"tags"`
	MLA             bool      `json:"mla"`
	CacheSalt       string    `json:"cache_salt,omitempty"`
	Layer           *int      `json:"layer,omitempty"`
	PythonVersion   string    `json:"python_version"`
	// Sources says where each setting came from ("flag --hash", "env
	// LMC_HASH_SEED", "context prod", an LMCache config file, ...); settings
	// left at their defaults are absent.
	Sources map[string]string `json:"sources"`
}

// View renders p; sources may be nil.
func (p *Params) View(sources map[string]string) ParamsView {
	v := ParamsView{
		Model: p.Model, WorldSize: p.WorldSize, KeyWorldSize: p.KeyWorldSize(), WorkerID: p.WorkerID, DType: p.DType,
		HashAlgorithm: string(p.Algorithm), Legacy64Bit: p.Legacy64Bit, ChunkSize: p.ChunkSize,
		SaveUnfullChunk: p.SaveUnfullChunk, KeySchema: string(p.Schema), NoneHash: p.NoneHash.Hex(),
		NoneHashSource: p.NoneHashSource, Tags: []TagView{}, MLA: p.MLA, CacheSalt: p.CacheSalt,
		PythonVersion: p.PythonVersion(), Sources: map[string]string{},
	}
	for _, t := range p.Tags {
		v.Tags = append(v.Tags, TagView{t.Name, t.Value})
	}
	if p.Layerwise {
		l := p.Layer
		v.Layer = &l
	}
	for k, s := range sources {
		if s != "" && s != "default" {
			v.Sources[k] = s
		}
	}
	return v
}
