// Package doctor finds out why a prompt's prefix does not hit in a Mooncake
// store: it runs the configured lookup on every rank and, when the first
// chunk is missing everywhere, searches the key-configuration space (hash
// algorithm × NONE_HASH seed × key schema × dtype × world size × chunk size
// × save_unfull_chunk × model name and tags seen in the store) for the
// settings under which the prompt's keys exist.
//
// The search is bounded. Every candidate configuration contributes only its
// first chunk keys (two for single-setting changes), keys are deduplicated
// across candidates, and candidates are probed in batches, most likely
// first: single settings (one probe), then the configurations a sample of
// the store's keys points at (one probe), then pairs and triples of
// settings in probes of at most Options.MaxKeysPerProbe keys. The search
// stops at the first probe that finds keys; one last probe confirms the best
// candidates on every chunk and rank. Options.MaxProbes caps all Exist
// calls, the baseline and the confirmation included.
//
// The package does no I/O of its own: the caller supplies a Prober (the
// Mooncake admin API, which is read-only, or the master RPC, which grants
// read leases) and a Lister for the key sample.
package doctor
