package lmcacheconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lmc/internal/boundedio"

	"gopkg.in/yaml.v3"
)

// Config holds the settings of an LMCache engine configuration (the
// YAML file named by LMCACHE_CONFIG_FILE, overridden by LMCACHE_*
// environment variables) that decide keys and where the Mooncake master is.
type Config struct {
	Path string

	ChunkSize            *int
	SaveUnfullChunk      *bool
	HashAlgorithm        *string
	RemoteURL            *string
	ExternalLookupClient *string
	ExtraConfig          map[string]any
	UseLayerwise         *bool
	EnableBlending       *bool
	EnablePD             *bool

	// Source says where each field came from: "<file>" or "env LMCACHE_X".
	Source map[string]string
	// Warnings are conversions that failed (LMCache keeps the file value or
	// the default, as noted).
	Warnings []string
}

// lmcacheFields are the fields lmc reads, by config name.
var lmcacheFields = []string{"chunk_size", "save_unfull_chunk", "pre_caching_hash_algorithm", "remote_url", "external_lookup_client", "extra_config", "use_layerwise", "enable_blending", "enable_pd"}

// deprecated aliases LMCache maps to current names (pairs, not a map, so
// that they are static data).
var lmcacheAliases = [...][2]string{{"enable_xpyd", "enable_pd"}}

// MaxFileBytes bounds an LMCache config file (real ones are a few KiB).
const MaxFileBytes = 1 << 20

// Load reads path (may be "" for environment only) and applies
// LMCACHE_* overrides from getenv, with LMCache's conversion rules: quotes
// stripped, int() for ints, booleans true only for "true"/"1", extra_config
// as a JSON object string.
//
// The file is read with a bound (MaxFileBytes) and stops when ctx ends.
func Load(ctx context.Context, path string, getenv func(string) string) (*Config, error) {
	c := &Config{Path: path, Source: map[string]string{}}
	raw := map[string]any{}
	if path != "" {
		b, err := boundedio.ReadFile(ctx, path, MaxFileBytes, "an LMCache config")
		var tl *boundedio.TooLargeError
		if errors.As(err, &tl) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("LMCache config: %w", err)
		}
		var node yaml.Node
		if err := yaml.Unmarshal(b, &node); err != nil {
			return nil, fmt.Errorf("LMCache config %s: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		yaml11Bools(&node)
		var doc any
		if err := node.Decode(&doc); err != nil && node.Kind != 0 {
			return nil, fmt.Errorf("LMCache config %s: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		if doc != nil {
			m, ok := doc.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("LMCache config %s: expected a mapping of settings at the top level", path)
			}
			raw = m
		}
		for _, a := range lmcacheAliases {
			if v, ok := raw[a[0]]; ok {
				raw[a[1]] = v
			}
		}
		for _, f := range lmcacheFields {
			if v, ok := raw[f]; ok && v != nil {
				if err := c.set(f, v, false); err != nil {
					return nil, fmt.Errorf("LMCache config %s: %s: %v", path, f, err)
				}
				c.Source[f] = path
			}
		}
	}
	for _, f := range lmcacheFields {
		env := "LMCACHE_" + strings.ToUpper(f)
		v := getenv(env)
		if v == "" {
			continue
		}
		if err := c.set(f, unquote(v), true); err != nil {
			keep := "the default"
			if _, ok := c.Source[f]; ok {
				keep = "the file's value"
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s=%q: %v; LMCache keeps %s", env, v, err, keep))
			continue
		}
		c.Source[f] = "env " + env
	}
	return c, nil
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

func (c *Config) set(field string, v any, fromEnv bool) error {
	switch field {
	case "chunk_size":
		n, err := toInt(v)
		if err != nil {
			return err
		}
		c.ChunkSize = &n
	case "save_unfull_chunk", "use_layerwise", "enable_blending", "enable_pd":
		b := toBool(v)
		switch field {
		case "save_unfull_chunk":
			c.SaveUnfullChunk = &b
		case "use_layerwise":
			c.UseLayerwise = &b
		case "enable_blending":
			c.EnableBlending = &b
		default:
			c.EnablePD = &b
		}
	case "pre_caching_hash_algorithm", "remote_url", "external_lookup_client":
		s := fmt.Sprint(v)
		switch field {
		case "pre_caching_hash_algorithm":
			c.HashAlgorithm = &s
		case "remote_url":
			c.RemoteURL = &s
		default:
			c.ExternalLookupClient = &s
		}
	case "extra_config":
		switch x := v.(type) {
		case map[string]any:
			c.ExtraConfig = x
		case string:
			var m map[string]any
			if err := json.Unmarshal([]byte(x), &m); err != nil {
				return fmt.Errorf("not a JSON object: %v", err)
			}
			c.ExtraConfig = m
		default:
			return fmt.Errorf("expected a mapping, got %T", v)
		}
	}
	return nil
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err == nil {
			return n, nil
		}
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

// toBool is LMCache's converter: a YAML bool passes through; a string is
// true only for "true" or "1" (case-insensitive, trimmed).
func toBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int:
		return x == 1
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		return s == "true" || s == "1"
	}
	return false
}

// EffectiveSaveUnfullChunk applies LMCache's validator: blending or PD
// forces save_unfull_chunk on. ok is false when the config says nothing.
func (c *Config) EffectiveSaveUnfullChunk() (v bool, ok bool, why string) {
	if c.EnableBlending != nil && *c.EnableBlending {
		return true, true, "forced by enable_blending"
	}
	if c.EnablePD != nil && *c.EnablePD {
		return true, true, "forced by enable_pd"
	}
	if c.SaveUnfullChunk != nil {
		return *c.SaveUnfullChunk, true, ""
	}
	return false, false, ""
}

// MasterAddress finds the Mooncake master "host:port" the engine uses:
// external_lookup_client "mooncakestore://ADDR" (the lookup client's), then
// extra_config.master_server_address, then the remote_url host:port (used by
// the connector before 2026-04-07). It returns the address and its source.
func (c *Config) MasterAddress() (addr, source string) {
	if c.ExternalLookupClient != nil {
		if scheme, rest, ok := strings.Cut(*c.ExternalLookupClient, "://"); ok && scheme == "mooncakestore" && rest != "" {
			return strings.TrimSuffix(rest, "/"), "external_lookup_client (" + c.Source["external_lookup_client"] + ")"
		}
	}
	if v, ok := c.ExtraConfig["master_server_address"]; ok {
		if s := fmt.Sprint(v); s != "" {
			return s, "extra_config.master_server_address (" + c.Source["extra_config"] + ")"
		}
	}
	if c.RemoteURL != nil {
		if scheme, rest, ok := strings.Cut(*c.RemoteURL, "://"); ok && scheme == "mooncakestore" {
			hostport, _, _ := strings.Cut(rest, "/")
			hostport, _, _ = strings.Cut(hostport, "?")
			if hostport != "" {
				return hostport, "remote_url (" + c.Source["remote_url"] + ")"
			}
		}
	}
	return "", ""
}

// yaml11Bools retags plain scalars that PyYAML (YAML 1.1), which LMCache
// uses, reads as booleans: yes/no/on/off in any of their spellings.
func yaml11Bools(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style == 0 && n.Tag == "!!str" {
		switch n.Value {
		case "yes", "Yes", "YES", "on", "On", "ON":
			n.Tag, n.Value = "!!bool", "true"
		case "no", "No", "NO", "off", "Off", "OFF":
			n.Tag, n.Value = "!!bool", "false"
		}
	}
	for _, c := range n.Content {
		yaml11Bools(c)
	}
}
