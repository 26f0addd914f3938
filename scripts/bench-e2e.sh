#!/usr/bin/env bash
# End-to-end benchmark: builds a static lmc and times whole processes: the
# start-up of lmc beside a Go hello world and a hello world linking lmc's
# libraries, built the same way (CGO_ENABLED=0, -trimpath, -s -w), then
# commands against a sandbox master and controller. Cases of a group run
# round-robin. Prints Markdown tables with each target (docs/performance.md).
# Usage: scripts/bench-e2e.sh [-quick] [-runs N] [-startup-runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
go run ./scripts/benche2e -lmc bin/lmc "$@"
