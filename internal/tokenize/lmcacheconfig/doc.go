// Package lmcacheconfig reads an LMCache engine configuration (the YAML file
// named by LMCACHE_CONFIG_FILE, overridden by LMCACHE_* variables, with
// PyYAML's YAML 1.1 booleans) as far as it decides keys — chunk size,
// save_unfull_chunk, the hash algorithm — and where the Mooncake master is
// (external_lookup_client, extra_config, remote_url).
//
// It is not a general LMCache config model: every other setting is ignored.
package lmcacheconfig
