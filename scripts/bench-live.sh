#!/usr/bin/env bash
# The live inventory and the published bundles against a real PostgreSQL server: decide
# latency of a node fed by the store against an inventory file (target <= 1.1x), and the
# propagation of an inventory push and of a bundle to three node processes, p50 and p99
# (target p99 <= 1 s). Not part of scripts/test.sh.
#
#   bash scripts/bench-live.sh [ROUNDS]      # 50 pushes and 50 bundles by default
#
# Uses the server GOVDATA_TEST_PG names, or starts a throwaway one with
# scripts/pg-test-server.sh (stopped at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0

if [ -z "${GOVDATA_TEST_PG:-}" ]; then
  echo "== starting a throwaway PostgreSQL server" >&2
  trap 'bash scripts/pg-test-server.sh stop' EXIT
  eval "$(bash scripts/pg-test-server.sh start)"
fi
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cargo run --release --locked -p govdata-benches --features store --example live -- "${1:-50}"
