package lmcacheconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLMCacheConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "lmcache.yaml")
	writeFile(t, path, `chunk_size: 512
save_unfull_chunk: yes
pre_caching_hash_algorithm: sha256_cbor_64bit
remote_url: "mooncakestore://10.0.0.9:50051/"
extra_config:
  master_server_address: "10.0.0.7:50051"
  save_only_first_rank: true
`)
	c, err := Load(context.Background(), path, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if *c.ChunkSize != 512 || !*c.SaveUnfullChunk || *c.HashAlgorithm != "sha256_cbor_64bit" {
		t.Fatalf("Load = chunk_size %d, save_unfull_chunk %v, hash %q; want 512, true, %q (config %+v)",
			*c.ChunkSize, *c.SaveUnfullChunk, *c.HashAlgorithm, "sha256_cbor_64bit", c)
	}
	if a, src := c.MasterAddress(); a != "10.0.0.7:50051" || !strings.HasPrefix(src, "extra_config.master_server_address") {
		t.Fatalf("MasterAddress() = %q, %q; want %q from extra_config.master_server_address", a, src, "10.0.0.7:50051")
	}
	// env overrides: quotes stripped; booleans true only for true/1; bad int keeps the file value
	c, err = Load(context.Background(), path, envOf(map[string]string{
		"LMCACHE_CHUNK_SIZE": "abc", "LMCACHE_SAVE_UNFULL_CHUNK": "yes",
		"LMCACHE_EXTERNAL_LOOKUP_CLIENT": "'mooncakestore://10.0.0.5:50051'",
		"LMCACHE_EXTRA_CONFIG":           `{"master_server_address": "x:1"}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if *c.ChunkSize != 512 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "keeps the file's value") {
		t.Fatalf("with LMCACHE_CHUNK_SIZE=abc: chunk_size %d, warnings %q; want 512 and one warning that the file's value is kept", *c.ChunkSize, c.Warnings)
	}
	if *c.SaveUnfullChunk {
		t.Fatal(`LMCACHE_SAVE_UNFULL_CHUNK=yes gave save_unfull_chunk true, want false ("yes" in an env var is false in LMCache)`)
	}
	if a, src := c.MasterAddress(); a != "10.0.0.5:50051" || !strings.Contains(src, "env LMCACHE_EXTERNAL_LOOKUP_CLIENT") {
		t.Fatalf("MasterAddress() = %q, %q; want %q from env LMCACHE_EXTERNAL_LOOKUP_CLIENT", a, src, "10.0.0.5:50051")
	}
	// remote_url fallback and blending forcing save_unfull_chunk
	c, err = Load(context.Background(), "", envOf(map[string]string{"LMCACHE_REMOTE_URL": "mooncakestore://h:1/?device=x", "LMCACHE_ENABLE_BLENDING": "True"}))
	if err != nil {
		t.Fatalf("Load from the environment only: error %v, want nil", err)
	}
	if a, _ := c.MasterAddress(); a != "h:1" {
		t.Fatalf("MasterAddress() from LMCACHE_REMOTE_URL = %q, want %q", a, "h:1")
	}
	if v, ok, why := c.EffectiveSaveUnfullChunk(); !v || !ok || why != "forced by enable_blending" {
		t.Fatalf("EffectiveSaveUnfullChunk() = %v, %v, %q; want true, true, %q", v, ok, why, "forced by enable_blending")
	}
	writeFile(t, path, "- a list\n")
	if _, err := Load(context.Background(), path, envOf(nil)); err == nil || !strings.Contains(err.Error(), "expected a mapping") {
		t.Fatalf("Load(context.Background(), a YAML list) error = %v, want one containing %q", err, "expected a mapping")
	}
	writeFile(t, path, "")
	if c, err := Load(context.Background(), path, envOf(nil)); err != nil || c.ChunkSize != nil {
		t.Fatalf("Load(context.Background(), an empty file) = %+v, %v; want no settings, nil (an empty file is {})", c, err)
	}
}

func FuzzLMCacheConfig(f *testing.F) {
	f.Add("chunk_size: 256\nextra_config: {a: 1}\n", "3")
	f.Add("save_unfull_chunk: 1\n", "{")
	f.Fuzz(func(t *testing.T, yamlText, env string) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		writeFile(t, path, yamlText)
		c, err := Load(context.Background(), path, envOf(map[string]string{"LMCACHE_CHUNK_SIZE": env, "LMCACHE_EXTRA_CONFIG": env}))
		if err == nil {
			c.MasterAddress()
			c.EffectiveSaveUnfullChunk()
		}
	})
}
