#!/usr/bin/env bash
# The shared procedures' benchmark (benches/examples/procedures.rs): a decision's cost
# with procedures shared through the platform store against procedures kept on the
# node's log, and the time an approval and a revocation take to reach three other
# nodes (p50, p99). Uses the server GOVDATA_TEST_PG names, or starts a throwaway one
# (scripts/pg-test-server.sh) and stops it at the end. Not part of the test command.
#
#   bash scripts/bench-procedures.sh [ROUNDS]     # 100 rounds by default
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
if [ -z "${GOVDATA_TEST_PG:-}" ]; then
  trap 'bash scripts/pg-test-server.sh stop' EXIT
  eval "$(bash scripts/pg-test-server.sh start)"
fi
echo "== shared procedures: load average $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run --release --locked -p govdata-benches --features store --example procedures -- "${1:-100}"
