package lmcacheconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLMCacheConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lmcache.yaml")
	os.WriteFile(path, []byte(`chunk_size: 512
save_unfull_chunk: yes
pre_caching_hash_algorithm: sha256_cbor_64bit
remote_url: "mooncakestore://10.0.0.9:50051/"
extra_config:
  master_server_address: "10.0.0.7:50051"
  save_only_first_rank: true
`), 0o644)
	c, err := Load(context.Background(), path, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if *c.ChunkSize != 512 || !*c.SaveUnfullChunk || *c.HashAlgorithm != "sha256_cbor_64bit" {
		t.Fatalf("%+v", c)
	}
	if a, src := c.MasterAddress(); a != "10.0.0.7:50051" || !strings.HasPrefix(src, "extra_config.master_server_address") {
		t.Fatalf("%s %s", a, src)
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
		t.Fatalf("chunk %d warnings %v", *c.ChunkSize, c.Warnings)
	}
	if *c.SaveUnfullChunk {
		t.Fatal(`"yes" in an env var is false in LMCache`)
	}
	if a, src := c.MasterAddress(); a != "10.0.0.5:50051" || !strings.Contains(src, "env LMCACHE_EXTERNAL_LOOKUP_CLIENT") {
		t.Fatalf("%s %s", a, src)
	}
	// remote_url fallback and blending forcing save_unfull_chunk
	c, _ = Load(context.Background(), "", envOf(map[string]string{"LMCACHE_REMOTE_URL": "mooncakestore://h:1/?device=x", "LMCACHE_ENABLE_BLENDING": "True"}))
	if a, _ := c.MasterAddress(); a != "h:1" {
		t.Fatal(a)
	}
	if v, ok, why := c.EffectiveSaveUnfullChunk(); !v || !ok || why != "forced by enable_blending" {
		t.Fatal(v, ok, why)
	}
	os.WriteFile(path, []byte("- a list\n"), 0o644)
	if _, err := Load(context.Background(), path, envOf(nil)); err == nil || !strings.Contains(err.Error(), "expected a mapping") {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(""), 0o644)
	if c, err := Load(context.Background(), path, envOf(nil)); err != nil || c.ChunkSize != nil {
		t.Fatal("empty file is {}", err)
	}
}

func FuzzLMCacheConfig(f *testing.F) {
	f.Add("chunk_size: 256\nextra_config: {a: 1}\n", "3")
	f.Add("save_unfull_chunk: 1\n", "{")
	f.Fuzz(func(t *testing.T, yamlText, env string) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte(yamlText), 0o644)
		c, err := Load(context.Background(), path, envOf(map[string]string{"LMCACHE_CHUNK_SIZE": env, "LMCACHE_EXTRA_CONFIG": env}))
		if err == nil {
			c.MasterAddress()
			c.EffectiveSaveUnfullChunk()
		}
	})
}

// A 1,000,000-token input needs a few times its token count in memory: the
// uint32 slice (4 MB) plus its growth, plus the 64 KiB window.
