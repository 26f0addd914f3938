// Package tokenize is lmc's token input: it reads prompts as token IDs from
// files, stdin or a flag — a JSON array, a JSON object with "tokens",
// "token_ids", "prompt_token_ids" or "input_ids", JSON Lines batches, plain integers —
// streaming through a fixed window and reporting file:line:col errors. A
// prompt may also arrive as text or chat messages, which a tokenizer turns
// into IDs.
//
// Limits: a prompt holds at most MaxPromptTokens token IDs, a "prompt"
// string or a chat's "messages" at most MaxTextBytes (16 MiB, checked while
// reading), JSON nests at most 64 levels; strings must be valid UTF-8
// without lone surrogate escapes (the engine would reject or alter them).
// ReadTextFile and ReadMessagesFile read the prompt files a user names (through
// boundedio: a bound and a context) and check their UTF-8; CheckText checks
// --text.
//
// It is not a tokenizer and computes no keys. Its subpackages are:
//
//   - lmcachekey: LMCache's chunk keys (chunking, prefix-hash chain, every
//     hash algorithm and key schema);
//   - pyobj and digest: the bytes engines hash (pickle, canonical CBOR) and
//     the XXH3-128 and BLAKE3 digests of them;
//   - lmcacheconfig: LMCache's engine YAML and LMCACHE_* overrides, as far
//     as they decide keys and the master address;
//   - hf: a pure-Go encoder of Hugging Face tokenizer.json files;
//   - remote: the serving engine's own /tokenize endpoint.
package tokenize
