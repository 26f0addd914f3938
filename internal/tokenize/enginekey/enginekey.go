// Package enginekey names the engines whose keys lmc computes (the values
// of --engine) and recognises stored Mooncake keys written by the engines
// that store KV cache without LMCache: SGLang HiCache (sglangkey) and vLLM's
// or vllm-ascend's own store connectors (vllmkey).
//
// It only dispatches: the key formats live in the engine packages. LMCache's
// own key formats are read by the doctor's inventory, which should try them
// first and call Recognize for the keys it does not know.
package enginekey

import (
	"fmt"
	"strings"

	"lmc/internal/tokenize/sglangkey"
	"lmc/internal/tokenize/vllmkey"
)

// Engine is a value of --engine.
type Engine string

const (
	LMCache Engine = "lmcache"
	SGLang  Engine = "sglang"
	VLLM    Engine = "vllm"
)

// Engines lists them, default first.
var Engines = []Engine{LMCache, SGLang, VLLM}

// ParseEngine validates a name (case-insensitive).
func ParseEngine(s string) (Engine, error) {
	e := Engine(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Engines {
		if x == e {
			return e, nil
		}
	}
	return "", fmt.Errorf("engine %q: use lmcache (default), sglang (HiCache with the Mooncake backend) or vllm (vLLM's own MooncakeStoreConnector)", s)
}

// Recognition is what one stored key says about its writer.
type Recognition struct {
	Engine Engine
	// Writer names the connector and era in words, e.g. "SGLang HiCache
	// (S3/S4)", "vLLM MooncakeStoreConnector (V2/V3)", "vllm-ascend (A3)".
	Writer string
	// KV is false for objects that are not KV pages: SGLang's warm-up
	// object. Hybrid reports objects of hybrid pools (out of scope).
	KV     bool
	Hybrid bool
	SGLang *sglangkey.KeyInfo
	VLLM   *vllmkey.KeyInfo
}

// Recognize says whether key looks like an SGLang or vLLM (vllm-ascend, V0)
// key, and parses it.
func Recognize(key string) (Recognition, bool) {
	if k, ok := sglangkey.Parse(key); ok {
		r := Recognition{Engine: SGLang, SGLang: &k, KV: k.Kind != sglangkey.KindWarmup, Hybrid: k.Kind == sglangkey.KindHybrid}
		switch k.Kind {
		case sglangkey.KindWarmup:
			r.Writer = "SGLang HiCache (warm-up object)"
		case sglangkey.KindHybrid:
			r.Writer = "SGLang HiCache hybrid pool " + k.Object + " (" + eras(k.Eras) + ")"
		default:
			r.Writer = "SGLang HiCache (" + eras(k.Eras) + ")"
		}
		return r, true
	}
	if k, ok := vllmkey.Parse(key); ok {
		r := Recognition{Engine: VLLM, VLLM: &k, KV: true}
		switch k.Eras[0] {
		case vllmkey.V0:
			r.Writer = "vLLM v0 MooncakeStoreConnector (removed)"
		case vllmkey.A0, vllmkey.A1, vllmkey.A2, vllmkey.A3:
			r.Writer = "vllm-ascend store connector (" + eras(k.Eras) + ")"
			r.Hybrid = k.CacheRole != "" && k.CacheRole != "kv" || k.CacheFamily != "" && k.CacheFamily != "default"
		default:
			r.Writer = "vLLM MooncakeStoreConnector (" + eras(k.Eras) + ")"
			r.Hybrid = k.Group > 0
		}
		return r, true
	}
	return Recognition{}, false
}

func eras[E ~string](es []E) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(string(e))
	}
	return b.String()
}
