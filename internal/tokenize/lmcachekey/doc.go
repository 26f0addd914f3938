// Package lmcachekey computes the Mooncake keys LMCache stores a prompt's KV
// cache under, byte for byte: chunking (chunk_size, save_unfull_chunk), the
// prefix-hash chain from NONE_HASH, every hash algorithm LMCache has used
// (CPython's builtin hash with its SipHash seeding, sha256 over pickle,
// sha256_cbor, xxhash, the MP mode's blake3, legacy int digests) and every
// key schema era ("model@world@worker@hash@dtype…").
//
// Params is the key configuration (View is its one JSON form, KeyWorldSize
// the MLA rule); Engine turns tokens into Chunks with hashes and keys.
//
// It is not a client: it knows nothing of stores, flags or config files
// (the CLI resolves those into Params), and it does not tokenize text.
package lmcachekey
