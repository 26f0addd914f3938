#!/usr/bin/env python3
"""Generate internal/tokenize/testdata/cpython-vectors.json with real CPython.

Extra vectors beyond the shared ones, produced by the interpreter itself:
str hashing under several PYTHONHASHSEED values (SipHash keyed by CPython's
LCG), int/tuple hashing of edge values, and pickle protocol 5 output for
edge ints and for chunks large enough to be split into several frames.

Usage: python3 scripts/gen-cpython-vectors.py > internal/tokenize/testdata/cpython-vectors.json
(needs CPython >= 3.11; uses only the standard library).
"""
import hashlib
import json
import os
import pickle
import random
import subprocess
import sys

assert sys.version_info >= (3, 11), "str hashing must be SipHash-1-3"

out = {"python": sys.version.split()[0]}

# 1. hash(seed string) under PYTHONHASHSEED=seed, in a fresh interpreter.
seeds = {}
for s in ["0", "1", "7", "42", "77", "123", "65535", "4294967295"]:
    env = dict(os.environ, PYTHONHASHSEED=s)
    v = subprocess.check_output([sys.executable, "-c", "import os;print(hash(os.environ['PYTHONHASHSEED']))"], env=env)
    seeds[s] = v.decode().strip()
out["str_hash_by_seed"] = seeds

# 2. builtin chains over random tokens (ints up to 2^32-1), several chunk sizes
# and starting values.
rng = random.Random(20261121)
chains = []
for none_hash in [0, 1, -1, -2, 2**61 - 1, -(2**63), 2**63 - 1, 2**64 - 1, 5313149338359954478]:
    for chunk in [1, 3, 16, 256]:
        n = rng.randint(chunk, chunk * 4 + 3)
        toks = [rng.choice([rng.randint(0, 255), rng.randint(0, 200000), rng.randint(0, 2**32 - 1)]) for _ in range(n)]
        p = none_hash
        hashes = []
        for i in range(0, n, chunk):
            p = hash((p, tuple(toks[i:i + chunk]), ()))
            hashes.append(str(p))
        chains.append({"none_hash": str(none_hash), "chunk_size": chunk, "tokens": toks, "hashes": hashes})
out["builtin_chains"] = chains

# 3. pickle protocol 5 of (p, tuple(tokens), extra) for edge values.
pickles = []
prefixes = [0, 1, 255, 256, 65535, 65536, 2**31 - 1, 2**31, -1, -(2**31), -(2**31) - 1, -(2**63), 2**63 - 1, 2**63, 2**64 - 1, -128, -129, -32768, -32769,
            bytes(range(32)), bytes(16)]
token_lists = [[], [0], [1, 2], [1, 2, 3], [1, 2, 3, 4], [255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1]]
for p in prefixes:
    for toks in token_lists:
        for extra, name in [((), "()"), (None, "None"), ("pair", "pair")]:
            obj = (p, tuple(toks)) if extra == "pair" else (p, tuple(toks), extra)
            b = pickle.dumps(obj, protocol=5)
            pv = {"bytes_hex": p.hex()} if isinstance(p, bytes) else {"int_dec": str(p)}
            pickles.append({"prefix": pv, "tokens": toks, "extra": name, "pickle_hex": b.hex()})
out["pickles"] = pickles

# 4. Multi-frame pickles: chunks whose payload exceeds 64 KiB.
frames = []
for n, lo, hi in [(13000, 0, 255), (14000, 65536, 2**31 - 1), (20000, 0, 2**32 - 1), (40000, 256, 65535), (65536, 0, 2**32 - 1)]:
    # tokens from a formula the Go test reproduces: lo + (i*2654435761) mod (hi-lo+1)
    toks = [lo + (i * 2654435761) % (hi - lo + 1) for i in range(n)]
    seed = n
    p = hashlib.sha256(str(seed).encode()).digest()
    b = pickle.dumps((p, tuple(toks), ()), protocol=5)
    frames.append({"rng_tokens": {"n": n, "lo": lo, "hi": hi}, "prefix_hex": p.hex(), "len": len(b),
                   "sha256": hashlib.sha256(b).hexdigest(), "head_hex": b[:40].hex(), "tail_hex": b[-24:].hex()})
out["multi_frame_pickles"] = frames

json.dump(out, sys.stdout, separators=(",", ":"))
sys.stdout.write("\n")
