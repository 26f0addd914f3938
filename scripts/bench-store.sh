#!/usr/bin/env bash
# Big-store benchmark: fills an in-process sandbox master with 10,000,000 keys
# and times 'lmc store summary' and 'lmc store ls' under /usr/bin/time -v
# (peak RSS). Prints a Markdown table (docs/performance.md). Needs about 6 GB
# of memory for the sandbox.
# Usage: scripts/bench-store.sh [-keys N] [-nodes N] [-ls=false]
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
go run ./scripts/benchstore -lmc bin/lmc "$@"
