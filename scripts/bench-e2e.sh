#!/usr/bin/env bash
# End-to-end benchmark: builds a static lmc and times whole processes against
# a sandbox master and controller. Prints a Markdown table (docs/performance.md).
# Usage: scripts/bench-e2e.sh [-quick] [-runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
go run ./scripts/benche2e -lmc bin/lmc "$@"
