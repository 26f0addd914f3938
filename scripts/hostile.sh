#!/usr/bin/env bash
# Runs the built lmc against hostile peers and files on loopback and checks
# each case's peak RSS and wall time with /usr/bin/time -v (docs/errors.md,
# "Limits"). Prints a Markdown table; exits 1 when a case breaks its budget.
# Usage: scripts/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
go run ./scripts/hostile -lmc bin/lmc "$@"
