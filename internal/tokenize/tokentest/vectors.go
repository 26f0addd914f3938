package tokentest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// The engine-keys vectors (vLLM's, SGLang's and vllm-ascend's own hashing
// code, see the engine-keys spec) come from ../shared/vectors/engine-keys.json; the copy
// in internal/tokenize/testdata serves both engine packages. The paths are
// relative to a package directly under internal/tokenize, where the tests
// that read them run.
const (
	EngineKeysLocal  = "../testdata/engine-keys.json"
	EngineKeysShared = "../../../../shared/vectors/engine-keys.json"
)

// EngineKeyCases reads the local copy of the engine-keys vectors, which
// must equal the shared file when that is present, and returns its cases
// undecoded (each engine package reads its own fields).
func EngineKeyCases() ([]json.RawMessage, error) {
	local, err := os.ReadFile(EngineKeysLocal)
	if err != nil {
		return nil, err
	}
	if shared, err := os.ReadFile(EngineKeysShared); err == nil && !bytes.Equal(shared, local) {
		return nil, fmt.Errorf("%s differs from %s: copy the shared vectors in", EngineKeysLocal, EngineKeysShared)
	}
	return DecodeEngineKeyCases(local)
}

// DecodeEngineKeyCases returns the cases of an engine-keys vectors file,
// undecoded.
func DecodeEngineKeyCases(b []byte) ([]json.RawMessage, error) {
	var f struct {
		Cases []json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return f.Cases, nil
}
