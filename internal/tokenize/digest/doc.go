// Package digest holds the two non-standard-library digests of the engines'
// key functions, XXH3-128 (python-xxhash's xxh3_128, vLLM's xxhash and
// xxhash_cbor) and BLAKE3-256 (LMCache's multi-process mode), for the
// inputs lmc hashes: one chunk's serialised tokens at a time.
//
// It exists so that no CPU feature detection runs when lmc starts: the
// general-purpose packages it replaces (zeebo/xxh3, zeebo/blake3) link
// klauspost/cpuid, whose init issues dozens of CPUID instructions, each a
// trap to the hypervisor on a VM (0.5 ms of every lmc command, --version
// included, on the 2-core development VM). XXH3 accumulates with SSE2,
// which every amd64 CPU has; BLAKE3 asks for SSE4.1 on its first call.
package digest
